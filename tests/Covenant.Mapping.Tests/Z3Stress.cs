using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using Covenant.Mapping.Z3;
using Microsoft.Z3;

namespace Covenant.Mapping.Tests;

/// <summary>
/// The GC-pressure workload behind <see cref="Z3StressTests"/>, run in a child process. Worker threads build
/// many short-lived Z3 terms, solvers and models and never dispose them, so finalizers issue the dec_refs
/// while the workers keep calling Z3. Meanwhile other threads allocate garbage and force collections.
/// With <c>--contexts 1</c>, one worker owns one context. With more, each worker owns a context, two more
/// threads take turns on one shared context (so a context moves between threads), and one thread
/// creates short-lived contexts, disposing half of them and leaving the rest to the finalizer.
/// Every sat answer is checked against its model. Exit code 0 and a line that starts with
/// <see cref="CompletionPrefix"/> mean the run survived; 1 means a check failed; a crash means the native
/// race is back.
/// </summary>
public static class Z3Stress
{
    public const string Command = "z3-stress";
    public const string CompletionPrefix = "z3-stress: completed";

    public static int Run(string[] args)
    {
        var seconds = 10.0;
        var contexts = 1;
        for (var i = 0; i + 1 < args.Length; i += 2)
        {
            switch (args[i])
            {
                case "--seconds": seconds = double.Parse(args[i + 1], CultureInfo.InvariantCulture); break;
                case "--contexts": contexts = int.Parse(args[i + 1], CultureInfo.InvariantCulture); break;
                default: Console.Error.WriteLine($"z3-stress: unknown option {args[i]}"); return 2;
            }
        }

        Z3LibraryInfo library;
        try
        {
            library = Z3Runtime.EnsureInitialized();
        }
        catch (Z3UnavailableException e)
        {
            Console.Error.WriteLine($"z3-stress: {e.Message}");
            return 3;
        }

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"z3-stress: {library}; {contexts} context(s), {seconds} s"));
        var run = new StressRun(TimeSpan.FromSeconds(seconds));
        var clock = Stopwatch.StartNew();

        var owned = Enumerable.Range(0, contexts).Select(_ => Z3Runtime.CreateContext()).ToList();
        var threads = owned.Select((ctx, i) => run.Thread($"worker-{i}", rng => run.Iteration(ctx, rng))).ToList();
        Context? shared = null;
        if (contexts > 1)
        {
            shared = Z3Runtime.CreateContext();
            var turn = new object();
            for (var i = 0; i < 2; i++)
            {
                threads.Add(run.Thread($"shared-{i}", rng =>
                {
                    lock (turn)
                    {
                        run.Iteration(shared, rng);
                    }
                }));
            }

            threads.Add(run.Thread("churn", run.ShortLivedContext));
        }

        threads.Add(run.Thread("gc-0", run.Garbage));
        threads.Add(run.Thread("gc-1", run.Garbage));
        threads.ForEach(t => t.Start());
        threads.ForEach(t => t.Join());

        owned.ForEach(ctx => ctx.Dispose());
        shared?.Dispose();
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();

        if (!run.Failures.IsEmpty)
        {
            foreach (var failure in run.Failures)
            {
                Console.Error.WriteLine($"z3-stress: failure: {failure}");
            }

            return 1;
        }

        if (Z3Runtime.ShimStatistics is { } stats)
        {
            Console.WriteLine($"z3-stress: shim deferred {stats.Deferred} dec_refs, drained {stats.Drained}, dropped {stats.Dropped}, pending {stats.Pending}, live contexts {stats.LiveContexts}");
        }

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{CompletionPrefix} {run.Iterations} iterations ({run.Unknowns} unknown), {run.Collections} forced GCs, {run.ContextsCreated} short-lived contexts in {clock.Elapsed.TotalSeconds:F1} s"));
        return 0;
    }

    private sealed class StressRun(TimeSpan duration)
    {
        private readonly Stopwatch clock = Stopwatch.StartNew();
        private long iterations;
        private long unknowns;
        private long collections;
        private long contextsCreated;

        public ConcurrentQueue<Exception> Failures { get; } = new();

        public long Iterations => Interlocked.Read(ref iterations);

        public long Unknowns => Interlocked.Read(ref unknowns);

        public long Collections => Interlocked.Read(ref collections);

        public long ContextsCreated => Interlocked.Read(ref contextsCreated);

        private bool Running => clock.Elapsed < duration && Failures.IsEmpty;

        public Thread Thread(string name, Action<Random> step)
        {
            var seed = name.GetHashCode(StringComparison.Ordinal);
            return new Thread(() =>
            {
                var rng = new Random(seed);
                try
                {
                    while (Running)
                    {
                        step(rng);
                    }
                }
                catch (Exception e)
                {
                    Failures.Enqueue(new InvalidOperationException($"{name}: {e.Message}", e));
                }
            }) { Name = name, IsBackground = true };
        }

        /// <summary>One small problem, x * y = n with a side condition, built from throw-away terms; the model is checked.</summary>
        public void Iteration(Context ctx, Random rng)
        {
            var x = ctx.MkIntConst("x");
            var y = ctx.MkIntConst("y");
            var z = ctx.MkIntConst("z");
            var n = rng.Next(2, 400);
            var solver = ctx.MkSolver();
            solver.Add(
                ctx.MkEq(ctx.MkMul(x, y), ctx.MkInt(n)),
                ctx.MkGe(x, ctx.MkInt(1)),
                ctx.MkGe(y, ctx.MkInt(1)),
                ctx.MkEq(z, ctx.MkAdd(x, y)));
            for (var k = 0; k < 16; k++)
            {
                var term = ctx.MkAdd(ctx.MkMul(x, ctx.MkInt(rng.Next(100))), ctx.MkInt(rng.Next(1000)));
                _ = term.Simplify().ToString();
            }

            var outcome = solver.CheckWithTimeout(5_000);
            switch (outcome.Verdict)
            {
                case SolverVerdict.Sat:
                    var model = outcome.Model!;
                    var xv = ((IntNum)model.Evaluate(x, true)).Int64;
                    var yv = ((IntNum)model.Evaluate(y, true)).Int64;
                    var zv = ((IntNum)model.Evaluate(z, true)).Int64;
                    if (xv * yv != n || xv < 1 || yv < 1 || zv != xv + yv)
                    {
                        throw new InvalidOperationException($"bad model for x*y={n}: x={xv}, y={yv}, z={zv}");
                    }

                    _ = model.ConstDecls.Length;
                    break;
                case SolverVerdict.Unsat:
                    throw new InvalidOperationException($"x*y={n} reported unsat");
                default:
                    Interlocked.Increment(ref unknowns); // a starved thread on a busy machine may time out
                    break;
            }

            Interlocked.Increment(ref iterations);
        }

        /// <summary>A context that lives for a few problems; every other one is left to the finalizer (and Z3_del_context on its thread).</summary>
        public void ShortLivedContext(Random rng)
        {
            var ctx = Z3Runtime.CreateContext();
            for (var i = 0; i < 4; i++)
            {
                Iteration(ctx, rng);
            }

            if (Interlocked.Increment(ref contextsCreated) % 2 == 0)
            {
                ctx.Dispose();
            }
        }

        public void Garbage(Random rng)
        {
            var junk = new List<byte[]>();
            for (var i = 0; i < 256; i++)
            {
                junk.Add(new byte[rng.Next(16, 2048)]);
            }

            GC.KeepAlive(junk);
            GC.Collect();
            if (Interlocked.Increment(ref collections) % 8 == 0)
            {
                GC.WaitForPendingFinalizers();
            }
        }
    }
}
