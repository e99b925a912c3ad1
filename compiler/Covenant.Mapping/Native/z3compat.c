/*
 * z3compat.c: lets the Microsoft.Z3 4.12 .NET wrapper run on a system libz3 that predates
 * Z3_enable_concurrent_dec_ref (Debian 12 ships libz3 4.8.12).
 *
 * WHY
 *   The Microsoft.Z3 NuGet package carries native libz3 for Windows and macOS only; on Linux its
 *   DllImport("libz3") binds to the system library. The 4.12 wrapper calls
 *   Z3_enable_concurrent_dec_ref on every new Context (4.8.12 has no such function, so `new Context()`
 *   throws EntryPointNotFoundException). The wrapper also frees native objects from .NET finalizers:
 *   Z3_dec_ref, Z3_solver_dec_ref, ... arrive on the GC finalizer thread while another thread is
 *   working in the same context. Z3 contexts are not thread-safe. Z3 4.12 copes because, once
 *   concurrent dec_ref is enabled, it queues every dec_ref under a mutex and runs the queue on the
 *   context's own thread. A stub that only supplies the missing symbol lets those dec_refs race the
 *   solver, and the process aborts (an assertion in ast.cpp, or a segfault) within seconds or
 *   minutes of a GC-heavy loop.
 *
 * WHAT
 *   This library supplies that mechanism on top of the old libz3. It links libz3 (DT_NEEDED) and
 *   exports only the functions it changes. Every other Z3 symbol is looked up through this library's
 *   handle (that is what .NET's dlsym does) and found in libz3, the dependency.
 *
 *   Z3_enable_concurrent_dec_ref(c)  registers c. Only registered contexts are affected; any other
 *                                    context sees plain libz3 behavior.
 *   Z3_*_dec_ref(c, o)               for a registered c: appends (which function, o) to c's queue under
 *                                    a lock and returns. Nothing in libz3 is touched.
 *   Z3_*_inc_ref(c, o),              first run c's queued dec_refs on the calling thread, then forward.
 *   Z3_solver_check[_assumptions],   The .NET wrapper calls inc_ref each time it wraps a returned
 *   Z3_optimize_check                object, so queues drain almost at once.
 *   Z3_del_context(c)                marks c deleted, unregisters it, runs its queue, then deletes it.
 *                                    A dec_ref that still arrives for a deleted context is dropped,
 *                                    not run against freed memory.
 *   Z3_mk_context[_rc]               forward, then forget a stale "deleted" mark on the returned address.
 *
 * WHICH THREAD RUNS A QUEUED DEC_REF
 *   Z3's rule is that at most one thread at a time uses a context. The drain points above are calls
 *   that only the thread using the context at that moment makes: the wrapper never calls inc_ref or a
 *   check from a finalizer. So queued dec_refs always run on the context's current thread. That
 *   thread may change over time: a context can move from thread to thread, and its current thread is
 *   whichever one makes the next drain-point call.
 *   A dec_ref is queued even when it comes from that same thread. The shim cannot see most calls
 *   (it wraps a few dozen of libz3's ~700 functions), so it cannot tell "the thread using c right
 *   now" from "a thread that used c earlier". Guessing wrong would reintroduce the race this file
 *   exists to prevent. Z3 4.12 makes the same choice: it queues every dec_ref once concurrent mode
 *   is on, and flushes in inc_ref and when objects are created. The cost is that memory comes back
 *   at the next drain point, not at once.
 *   Queued dec_refs run before the call being wrapped. This is Z3's own order, and that call then
 *   resets the error code, so a failure inside a queued dec_ref never turns into an exception on an
 *   unrelated call. An object returned by the previous API call survives the drain, because Z3 keeps
 *   a reference to its last result.
 *
 * DIAGNOSTICS
 *   COVENANT_Z3_SHIM_PASSTHROUGH=1 (read once, when the library loads): the shim only supplies the
 *   missing entry point, as a no-op, and forwards every dec_ref at once. This is the naive fix. It
 *   exists so a test can show the race that the real mode prevents. Never use it otherwise.
 *   z3compat_counter(n) reads a counter: see enum z3compat_counter_id below.
 *
 * Built by Covenant.Mapping.csproj through build-z3compat.sh, with gcc, when the system libz3 lacks
 * Z3_enable_concurrent_dec_ref. On Linux the managed side (Z3Runtime) binds "libz3" to this file.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <z3.h>

#define Z3COMPAT_EXPORT __attribute__((visibility("default")))

/* The function this library exists to provide; z3.h before 4.12 does not declare it. */
Z3COMPAT_EXPORT void Z3_API Z3_enable_concurrent_dec_ref(Z3_context c);

/* Counters for tests and diagnostics. */
enum z3compat_counter_id {
    Z3COMPAT_DEFERRED = 0,      /* dec_refs queued */
    Z3COMPAT_DRAINED = 1,       /* queued dec_refs run on the context's thread */
    Z3COMPAT_DROPPED = 2,       /* dec_refs for deleted contexts, dropped */
    Z3COMPAT_LIVE_CONTEXTS = 3, /* registered contexts not yet deleted */
    Z3COMPAT_PASSTHROUGH = 4,   /* 1 when COVENANT_Z3_SHIM_PASSTHROUGH=1 */
    Z3COMPAT_PENDING = 5,       /* dec_refs queued and not yet run, all contexts */
};
Z3COMPAT_EXPORT uint64_t z3compat_counter(int which);

/*
 * Every reference-counted kind the wrapper frees from finalizers: (kind, dec_ref, inc_ref, handle type).
 * Z3_simplifier and Z3_parser_context are 4.12-only; libz3 4.8 cannot create them, so nothing
 * needs wrapping.
 */
#define Z3COMPAT_REF_KINDS(X)                                                                   \
    X(AST, Z3_dec_ref, Z3_inc_ref, Z3_ast)                                                      \
    X(APPLY_RESULT, Z3_apply_result_dec_ref, Z3_apply_result_inc_ref, Z3_apply_result)          \
    X(AST_MAP, Z3_ast_map_dec_ref, Z3_ast_map_inc_ref, Z3_ast_map)                              \
    X(AST_VECTOR, Z3_ast_vector_dec_ref, Z3_ast_vector_inc_ref, Z3_ast_vector)                  \
    X(FIXEDPOINT, Z3_fixedpoint_dec_ref, Z3_fixedpoint_inc_ref, Z3_fixedpoint)                  \
    X(FUNC_ENTRY, Z3_func_entry_dec_ref, Z3_func_entry_inc_ref, Z3_func_entry)                  \
    X(FUNC_INTERP, Z3_func_interp_dec_ref, Z3_func_interp_inc_ref, Z3_func_interp)              \
    X(GOAL, Z3_goal_dec_ref, Z3_goal_inc_ref, Z3_goal)                                          \
    X(MODEL, Z3_model_dec_ref, Z3_model_inc_ref, Z3_model)                                      \
    X(OPTIMIZE, Z3_optimize_dec_ref, Z3_optimize_inc_ref, Z3_optimize)                          \
    X(PARAM_DESCRS, Z3_param_descrs_dec_ref, Z3_param_descrs_inc_ref, Z3_param_descrs)          \
    X(PARAMS, Z3_params_dec_ref, Z3_params_inc_ref, Z3_params)                                  \
    X(PROBE, Z3_probe_dec_ref, Z3_probe_inc_ref, Z3_probe)                                      \
    X(SOLVER, Z3_solver_dec_ref, Z3_solver_inc_ref, Z3_solver)                                  \
    X(STATS, Z3_stats_dec_ref, Z3_stats_inc_ref, Z3_stats)                                      \
    X(TACTIC, Z3_tactic_dec_ref, Z3_tactic_inc_ref, Z3_tactic)

enum ref_kind {
#define X(KIND, DEC, INC, TYPE) KIND_##KIND,
    Z3COMPAT_REF_KINDS(X)
#undef X
};

/* ---- The real libz3 functions, found with dlsym(RTLD_NEXT) when this library loads. ---- */

#define X(KIND, DEC, INC, TYPE)                     \
    static void (*real_##DEC)(Z3_context, TYPE);    \
    static void (*real_##INC)(Z3_context, TYPE);
Z3COMPAT_REF_KINDS(X)
#undef X
static Z3_lbool (*real_Z3_solver_check)(Z3_context, Z3_solver);
static Z3_lbool (*real_Z3_solver_check_assumptions)(Z3_context, Z3_solver, unsigned, Z3_ast const[]);
static Z3_lbool (*real_Z3_optimize_check)(Z3_context, Z3_optimize, unsigned, Z3_ast const[]);
static void (*real_Z3_del_context)(Z3_context);
static Z3_context (*real_Z3_mk_context)(Z3_config);
static Z3_context (*real_Z3_mk_context_rc)(Z3_config);
static void (*real_Z3_set_error_handler)(Z3_context, Z3_error_handler);

static int passthrough;

static void fatal(const char *what, const char *detail) {
    fprintf(stderr, "z3compat: fatal: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
    abort();
}

/* Resolves `name` in the libraries after this one (libz3), and refuses an answer that lies inside this
   library: calling it would recurse forever. */
static void *resolve(const char *name) {
    dlerror();
    void *p = dlsym(RTLD_NEXT, name);
    if (p == NULL) {
        const char *err = dlerror();
        fatal("libz3 does not export a function the shim wraps", err ? err : name);
    }
    Dl_info found, self;
    if (dladdr(p, &found) != 0 && dladdr((void *)&fatal, &self) != 0 && found.dli_fbase == self.dli_fbase) {
        fatal("dlsym(RTLD_NEXT) resolved back to the shim", name);
    }
    return p;
}

#define RESOLVE(NAME) (real_##NAME = (__typeof__(real_##NAME))resolve(#NAME))

__attribute__((constructor)) static void z3compat_init(void) {
#define X(KIND, DEC, INC, TYPE) RESOLVE(DEC); RESOLVE(INC);
    Z3COMPAT_REF_KINDS(X)
#undef X
    RESOLVE(Z3_solver_check);
    RESOLVE(Z3_solver_check_assumptions);
    RESOLVE(Z3_optimize_check);
    RESOLVE(Z3_del_context);
    RESOLVE(Z3_mk_context);
    RESOLVE(Z3_mk_context_rc);
    RESOLVE(Z3_set_error_handler);
    const char *env = getenv("COVENANT_Z3_SHIM_PASSTHROUGH");
    passthrough = env != NULL && strcmp(env, "1") == 0;
}

static void run_dec_ref(Z3_context c, enum ref_kind kind, void *o) {
    switch (kind) {
#define X(KIND, DEC, INC, TYPE) case KIND_##KIND: real_##DEC(c, (TYPE)o); return;
        Z3COMPAT_REF_KINDS(X)
#undef X
    }
    fatal("unknown queued kind", NULL);
}

/* ---- Registry: one entry per registered context, in lock-striped hash buckets. ---- */

typedef struct pending {
    void *object;
    enum ref_kind kind;
} pending;

typedef struct entry {
    Z3_context ctx;
    struct entry *next;
    pending *items; /* queued dec_refs, in arrival order */
    size_t count, capacity;
    pending *spare; /* an empty buffer kept for the next swap, so draining does not allocate */
    size_t spare_capacity;
} entry;

#define STRIPES 64 /* contexts hash to stripes; unrelated contexts rarely share a lock */
static struct stripe {
    pthread_mutex_t lock;
    entry *head;
} stripes[STRIPES] = {[0 ... STRIPES - 1] = {PTHREAD_MUTEX_INITIALIZER, NULL}};

static atomic_uint_fast64_t deferred_count, drained_count, dropped_count, live_contexts;
/* dec_refs queued and not yet taken, all contexts; changed only under a stripe lock, read without one
   as a hint so that drain points skip the lock when nothing is queued anywhere. */
static atomic_size_t pending_total;

static struct stripe *stripe_of(Z3_context c) {
    uint64_t h = (uint64_t)(uintptr_t)c * UINT64_C(0x9E3779B97F4A7C15);
    return &stripes[h >> 58]; /* top 6 bits: STRIPES == 64 */
}

static entry *find(struct stripe *s, Z3_context c) {
    for (entry *e = s->head; e != NULL; e = e->next) {
        if (e->ctx == c) {
            return e;
        }
    }
    return NULL;
}

/* Recently deleted contexts: a dec_ref arriving for one of them is dropped instead of run. A ring is
   enough: the .NET wrapper never sends one (it checks the context under a lock before each dec_ref),
   so this only guards other callers against use-after-free. */
#define TOMBSTONES 256
static pthread_mutex_t tomb_lock = PTHREAD_MUTEX_INITIALIZER;
static Z3_context tombs[TOMBSTONES];
static unsigned tomb_next;

static void tomb_set(Z3_context c, int deleted) {
    pthread_mutex_lock(&tomb_lock);
    for (unsigned i = 0; i < TOMBSTONES; i++) {
        if (tombs[i] == c) {
            tombs[i] = NULL;
        }
    }
    if (deleted) {
        tombs[tomb_next] = c;
        tomb_next = (tomb_next + 1) % TOMBSTONES;
    }
    pthread_mutex_unlock(&tomb_lock);
}

static int tomb_contains(Z3_context c) {
    int found = 0;
    pthread_mutex_lock(&tomb_lock);
    for (unsigned i = 0; i < TOMBSTONES && !found; i++) {
        found = tombs[i] == c;
    }
    pthread_mutex_unlock(&tomb_lock);
    return found;
}

static void run_batch(Z3_context c, pending *items, size_t count) {
    for (size_t i = 0; i < count; i++) {
        run_dec_ref(c, items[i].kind, items[i].object);
    }
    atomic_fetch_add(&drained_count, count);
}

/* A dec_ref entry point: queue for a registered context, drop for a deleted one, else forward. */
static void dec_ref(Z3_context c, enum ref_kind kind, void *object) {
    if (object == NULL) {
        return; /* a no-op in libz3 too; forwarding it would still write the context's error code */
    }
    if (!passthrough) {
        struct stripe *s = stripe_of(c);
        pthread_mutex_lock(&s->lock);
        entry *e = find(s, c);
        if (e != NULL) {
            if (e->count == e->capacity) {
                size_t capacity = e->capacity ? e->capacity * 2 : 256;
                pending *grown = realloc(e->items, capacity * sizeof *grown);
                if (grown == NULL) {
                    fatal("out of memory queueing a dec_ref", NULL);
                }
                e->items = grown;
                e->capacity = capacity;
            }
            e->items[e->count++] = (pending){object, kind};
            atomic_fetch_add(&pending_total, 1);
            pthread_mutex_unlock(&s->lock);
            atomic_fetch_add(&deferred_count, 1);
            return;
        }
        pthread_mutex_unlock(&s->lock);
        if (tomb_contains(c)) {
            atomic_fetch_add(&dropped_count, 1);
            return;
        }
    }
    run_dec_ref(c, kind, object);
}

/* Runs c's queued dec_refs on the calling thread, which the caller guarantees is c's current thread. */
static void drain(Z3_context c) {
    if (atomic_load_explicit(&pending_total, memory_order_relaxed) == 0) {
        return; /* a stale zero only delays a drain to the next drain point */
    }
    struct stripe *s = stripe_of(c);
    pthread_mutex_lock(&s->lock);
    entry *e = find(s, c);
    if (e == NULL || e->count == 0) {
        pthread_mutex_unlock(&s->lock);
        return;
    }
    /* Take the queue and leave the spare buffer in its place; run the batch outside the lock so
       finalizers can keep queueing (and other contexts in this stripe keep draining) meanwhile. */
    pending *batch = e->items;
    size_t count = e->count, capacity = e->capacity;
    e->items = e->spare;
    e->capacity = e->spare_capacity;
    e->count = 0;
    e->spare = NULL;
    e->spare_capacity = 0;
    atomic_fetch_sub(&pending_total, count);
    pthread_mutex_unlock(&s->lock);

    run_batch(c, batch, count);

    pthread_mutex_lock(&s->lock);
    e = find(s, c); /* look again: only a misbehaving caller deletes c meanwhile, but do not assume */
    if (e != NULL && e->spare == NULL) {
        e->spare = batch;
        e->spare_capacity = capacity;
        batch = NULL;
    }
    pthread_mutex_unlock(&s->lock);
    free(batch);
}

/* ---- Exported entry points. ---- */

Z3COMPAT_EXPORT void Z3_API Z3_enable_concurrent_dec_ref(Z3_context c) {
    if (passthrough || c == NULL) {
        return;
    }
    tomb_set(c, 0);
    struct stripe *s = stripe_of(c);
    pthread_mutex_lock(&s->lock);
    if (find(s, c) == NULL) {
        entry *e = calloc(1, sizeof *e);
        if (e == NULL) {
            fatal("out of memory registering a context", NULL);
        }
        e->ctx = c;
        e->next = s->head;
        s->head = e;
        atomic_fetch_add(&live_contexts, 1);
    }
    pthread_mutex_unlock(&s->lock);
}

#define X(KIND, DEC, INC, TYPE)                                   \
    void Z3_API DEC(Z3_context c, TYPE o) {                       \
        dec_ref(c, KIND_##KIND, (void *)o);                       \
    }                                                             \
    void Z3_API INC(Z3_context c, TYPE o) {                       \
        drain(c);                                                 \
        real_##INC(c, o);                                         \
    }
Z3COMPAT_REF_KINDS(X)
#undef X

Z3_lbool Z3_API Z3_solver_check(Z3_context c, Z3_solver s) {
    drain(c);
    return real_Z3_solver_check(c, s);
}

Z3_lbool Z3_API Z3_solver_check_assumptions(Z3_context c, Z3_solver s, unsigned n, Z3_ast const assumptions[]) {
    drain(c);
    return real_Z3_solver_check_assumptions(c, s, n, assumptions);
}

Z3_lbool Z3_API Z3_optimize_check(Z3_context c, Z3_optimize o, unsigned n, Z3_ast const assumptions[]) {
    drain(c);
    return real_Z3_optimize_check(c, o, n, assumptions);
}

Z3_context Z3_API Z3_mk_context(Z3_config config) {
    Z3_context c = real_Z3_mk_context(config);
    tomb_set(c, 0); /* the allocator may hand out a deleted context's address again */
    return c;
}

Z3_context Z3_API Z3_mk_context_rc(Z3_config config) {
    Z3_context c = real_Z3_mk_context_rc(config);
    tomb_set(c, 0);
    return c;
}

void Z3_API Z3_del_context(Z3_context c) {
    entry *e = NULL;
    if (c != NULL) {
        /* Mark c deleted before unregistering it: a dec_ref from another thread then either finds the
           entry (and its item is run below) or finds the mark (and is dropped); it is never forwarded
           to libz3 while this thread is still using the context. */
        tomb_set(c, 1);
        struct stripe *s = stripe_of(c);
        pthread_mutex_lock(&s->lock);
        for (entry **link = &s->head; *link != NULL; link = &(*link)->next) {
            if ((*link)->ctx == c) {
                e = *link;
                *link = e->next;
                atomic_fetch_sub(&pending_total, e->count);
                atomic_fetch_sub(&live_contexts, 1);
                break;
            }
        }
        pthread_mutex_unlock(&s->lock);
    }
    if (e != NULL) {
        if (e->count > 0) {
            /* The .NET wrapper releases its error-handler delegate before it deletes the context;
               make sure a failing dec_ref here cannot call into it. */
            real_Z3_set_error_handler(c, NULL);
            run_batch(c, e->items, e->count);
        }
        free(e->items);
        free(e->spare);
        free(e);
    }
    real_Z3_del_context(c);
}

Z3COMPAT_EXPORT uint64_t z3compat_counter(int which) {
    switch (which) {
    case Z3COMPAT_DEFERRED: return atomic_load(&deferred_count);
    case Z3COMPAT_DRAINED: return atomic_load(&drained_count);
    case Z3COMPAT_DROPPED: return atomic_load(&dropped_count);
    case Z3COMPAT_LIVE_CONTEXTS: return atomic_load(&live_contexts);
    case Z3COMPAT_PASSTHROUGH: return (uint64_t)passthrough;
    case Z3COMPAT_PENDING: return atomic_load(&pending_total);
    default: return 0;
    }
}
