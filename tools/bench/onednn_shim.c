/* A small C shim over oneDNN's C API (2.x), built at run time by the Covenant benchmark (tools/bench) with
 *   gcc -O2 -fPIC -shared -fopenmp onednn_shim.c -ldnnl
 * It creates int8 matmul and convolution primitives for the benchmark's layer shapes (s8 or u8 activations,
 * s8 weights, s32 results, no scaling, no bias), reorders the weights once into the primitive's preferred
 * layout (as an inference engine would), and executes on caller-owned activation and result buffers.
 * Written for this project against oneDNN's documented C API. */
#include <dnnl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/syscall.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#define ARCH_REQ_XCOMP_PERM 0x1023
#define XFEATURE_XTILEDATA 18

static char shim_message[512];
static dnnl_engine_t shim_engine;
static dnnl_stream_t shim_stream;

typedef struct shim_primitive {
    dnnl_primitive_t primitive;
    dnnl_memory_t src, weights, dst;
    void* weights_buffer;
    char impl[160];
} shim_primitive;

const char* shim_error(void) { return shim_message; }

#define CHECK(call, what) do { dnnl_status_t s_ = (call); if (s_ != dnnl_success) { \
    snprintf(shim_message, sizeof shim_message, "%s failed: oneDNN status %d", what, (int)s_); goto fail; } } while (0)

/* Asks the kernel for AMX tile state (needed before any AMX instruction on Linux); returns the syscall's result. */
int shim_request_amx(void) { return (int)syscall(SYS_arch_prctl, ARCH_REQ_XCOMP_PERM, XFEATURE_XTILEDATA); }

/* cap: 1 limits oneDNN to AVX512_CORE_VNNI (like ONEDNN_MAX_CPU_ISA); must run before any primitive exists. */
int shim_init(int cap, int threads)
{
    if (cap) {
        CHECK(dnnl_set_max_cpu_isa(dnnl_cpu_isa_avx512_core_vnni), "dnnl_set_max_cpu_isa");
    }
#ifdef _OPENMP
    if (threads > 0) omp_set_num_threads(threads);
#endif
    CHECK(dnnl_engine_create(&shim_engine, dnnl_cpu, 0), "dnnl_engine_create");
    CHECK(dnnl_stream_create(&shim_stream, shim_engine, dnnl_stream_default_flags), "dnnl_stream_create");
    return 0;
fail:
    return -1;
}

const char* shim_isa(void)
{
    switch (dnnl_get_effective_cpu_isa()) {
    case dnnl_cpu_isa_avx512_core_vnni: return "avx512_core_vnni";
    case dnnl_cpu_isa_avx512_core_bf16: return "avx512_core_bf16";
    case dnnl_cpu_isa_avx512_core_amx: return "avx512_core_amx";
    case dnnl_cpu_isa_avx512_core: return "avx512_core";
    case dnnl_cpu_isa_avx2_vnni: return "avx2_vnni";
    case dnnl_cpu_isa_avx2: return "avx2";
    default: return "other";
    }
}

const char* shim_version(void)
{
    static char text[64];
    const dnnl_version_t* v = dnnl_version();
    snprintf(text, sizeof text, "%d.%d.%d", v->major, v->minor, v->patch);
    return text;
}

static shim_primitive* finish(dnnl_primitive_desc_t pd, const dnnl_memory_desc_t* user_weights_md, const void* user_weights)
{
    shim_primitive* p = calloc(1, sizeof *p);
    dnnl_memory_t user = NULL;
    dnnl_primitive_desc_t reorder_pd = NULL;
    dnnl_primitive_t reorder = NULL;
    const char* impl = NULL;
    if (!p) { snprintf(shim_message, sizeof shim_message, "out of memory"); goto fail; }
    CHECK(dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &impl), "query impl");
    snprintf(p->impl, sizeof p->impl, "%s", impl ? impl : "?");
    const dnnl_memory_desc_t* src_md = dnnl_primitive_desc_query_md(pd, dnnl_query_src_md, 0);
    const dnnl_memory_desc_t* weights_md = dnnl_primitive_desc_query_md(pd, dnnl_query_weights_md, 0);
    const dnnl_memory_desc_t* dst_md = dnnl_primitive_desc_query_md(pd, dnnl_query_dst_md, 0);
    CHECK(dnnl_memory_create(&p->src, src_md, shim_engine, DNNL_MEMORY_NONE), "src memory");
    CHECK(dnnl_memory_create(&p->dst, dst_md, shim_engine, DNNL_MEMORY_NONE), "dst memory");
    p->weights_buffer = aligned_alloc(64, (dnnl_memory_desc_get_size(weights_md) + 63) / 64 * 64);
    CHECK(dnnl_memory_create(&p->weights, weights_md, shim_engine, p->weights_buffer), "weights memory");
    /* The weights reorder (with oneDNN's own s8 x s8 compensation where it needs one) runs once, untimed. */
    CHECK(dnnl_memory_create(&user, user_weights_md, shim_engine, (void*)user_weights), "user weights memory");
    CHECK(dnnl_reorder_primitive_desc_create(&reorder_pd, user_weights_md, shim_engine, weights_md, shim_engine, NULL), "weights reorder desc");
    CHECK(dnnl_primitive_create(&reorder, reorder_pd), "weights reorder");
    dnnl_exec_arg_t reorder_args[2] = { { DNNL_ARG_FROM, user }, { DNNL_ARG_TO, p->weights } };
    CHECK(dnnl_primitive_execute(reorder, shim_stream, 2, reorder_args), "weights reorder execute");
    CHECK(dnnl_stream_wait(shim_stream), "stream wait");
    CHECK(dnnl_primitive_create(&p->primitive, pd), "primitive create");
    dnnl_primitive_destroy(reorder);
    dnnl_primitive_desc_destroy(reorder_pd);
    dnnl_memory_destroy(user);
    dnnl_primitive_desc_destroy(pd);
    return p;
fail:
    if (reorder) dnnl_primitive_destroy(reorder);
    if (reorder_pd) dnnl_primitive_desc_destroy(reorder_pd);
    if (user) dnnl_memory_destroy(user);
    if (pd) dnnl_primitive_desc_destroy(pd);
    if (p) { free(p->weights_buffer); free(p); }
    return NULL;
}

/* dst[b][m][n] = Σ_k src[b][m][k] · weights[b][k][n]; batch 0 means a plain 2-D matmul. Row-major buffers. */
shim_primitive* shim_matmul(int64_t batch, int64_t m, int64_t n, int64_t k, const int8_t* weights, int src_unsigned)
{
    dnnl_memory_desc_t src_md, weights_md, any_weights_md, dst_md;
    dnnl_matmul_desc_t desc;
    dnnl_primitive_desc_t pd = NULL;
    dnnl_data_type_t src_type = src_unsigned ? dnnl_u8 : dnnl_s8;
    if (batch > 0) {
        dnnl_dims_t s = { batch, m, k }, w = { batch, k, n }, d = { batch, m, n };
        CHECK(dnnl_memory_desc_init_by_tag(&src_md, 3, s, src_type, dnnl_abc), "src md");
        CHECK(dnnl_memory_desc_init_by_tag(&weights_md, 3, w, dnnl_s8, dnnl_abc), "weights md");
        CHECK(dnnl_memory_desc_init_by_tag(&any_weights_md, 3, w, dnnl_s8, dnnl_format_tag_any), "weights md");
        CHECK(dnnl_memory_desc_init_by_tag(&dst_md, 3, d, dnnl_s32, dnnl_abc), "dst md");
    } else {
        dnnl_dims_t s = { m, k }, w = { k, n }, d = { m, n };
        CHECK(dnnl_memory_desc_init_by_tag(&src_md, 2, s, src_type, dnnl_ab), "src md");
        CHECK(dnnl_memory_desc_init_by_tag(&weights_md, 2, w, dnnl_s8, dnnl_ab), "weights md");
        CHECK(dnnl_memory_desc_init_by_tag(&any_weights_md, 2, w, dnnl_s8, dnnl_format_tag_any), "weights md");
        CHECK(dnnl_memory_desc_init_by_tag(&dst_md, 2, d, dnnl_s32, dnnl_ab), "dst md");
    }
    CHECK(dnnl_matmul_desc_init(&desc, &src_md, &any_weights_md, NULL, &dst_md), "matmul desc");
    CHECK(dnnl_primitive_desc_create(&pd, &desc, NULL, shim_engine, NULL), "matmul primitive desc");
    return finish(pd, &weights_md, weights);
fail:
    return NULL;
}

/* NHWC activations, OHWI (K x R x S x C) weights, NHWC results; dilation as in the codelet (1 = dense). */
shim_primitive* shim_conv(int64_t n, int64_t h, int64_t w, int64_t c, int64_t k, int64_t r, int64_t s,
                          int64_t p, int64_t q, int64_t stride_h, int64_t stride_w, int64_t pad_h, int64_t pad_w,
                          int64_t dilation_h, int64_t dilation_w, const int8_t* weights, int src_unsigned)
{
    dnnl_memory_desc_t src_md, weights_md, any_weights_md, dst_md;
    dnnl_convolution_desc_t desc;
    dnnl_primitive_desc_t pd = NULL;
    dnnl_dims_t sd = { n, c, h, w }, wd = { k, c, r, s }, dd = { n, k, p, q };
    dnnl_dims_t strides = { stride_h, stride_w }, dilates = { dilation_h - 1, dilation_w - 1 };
    dnnl_dims_t padding_l = { pad_h, pad_w };
    /* The right padding that makes oneDNN's output size equal the codelet's (floor) output size. */
    dnnl_dims_t padding_r = { (p - 1) * stride_h + dilation_h * (r - 1) + 1 - h - pad_h,
                              (q - 1) * stride_w + dilation_w * (s - 1) + 1 - w - pad_w };
    CHECK(dnnl_memory_desc_init_by_tag(&src_md, 4, sd, src_unsigned ? dnnl_u8 : dnnl_s8, dnnl_nhwc), "src md");
    CHECK(dnnl_memory_desc_init_by_tag(&weights_md, 4, wd, dnnl_s8, dnnl_ohwi), "weights md");
    CHECK(dnnl_memory_desc_init_by_tag(&any_weights_md, 4, wd, dnnl_s8, dnnl_format_tag_any), "weights md");
    CHECK(dnnl_memory_desc_init_by_tag(&dst_md, 4, dd, dnnl_s32, dnnl_nhwc), "dst md");
    CHECK(dnnl_dilated_convolution_forward_desc_init(&desc, dnnl_forward_inference, dnnl_convolution_direct,
        &src_md, &any_weights_md, NULL, &dst_md, strides, dilates, padding_l, padding_r), "convolution desc");
    CHECK(dnnl_primitive_desc_create(&pd, &desc, NULL, shim_engine, NULL), "convolution primitive desc");
    return finish(pd, &weights_md, weights);
fail:
    return NULL;
}

const char* shim_impl(shim_primitive* p) { return p->impl; }

int shim_run(shim_primitive* p, const void* src, void* dst)
{
    CHECK(dnnl_memory_set_data_handle(p->src, (void*)src), "set src");
    CHECK(dnnl_memory_set_data_handle(p->dst, dst), "set dst");
    dnnl_exec_arg_t args[3] = { { DNNL_ARG_SRC, p->src }, { DNNL_ARG_WEIGHTS, p->weights }, { DNNL_ARG_DST, p->dst } };
    CHECK(dnnl_primitive_execute(p->primitive, shim_stream, 3, args), "execute");
    CHECK(dnnl_stream_wait(shim_stream), "stream wait");
    return 0;
fail:
    return -1;
}

void shim_free(shim_primitive* p)
{
    if (!p) return;
    dnnl_primitive_destroy(p->primitive);
    dnnl_memory_destroy(p->src);
    dnnl_memory_destroy(p->weights);
    dnnl_memory_destroy(p->dst);
    free(p->weights_buffer);
    free(p);
}
