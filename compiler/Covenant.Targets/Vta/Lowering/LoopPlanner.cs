using System.Collections.Immutable;
using Covenant.Runtime.Vta;

namespace Covenant.Targets.Vta.Lowering;

/// <summary>
/// One dimension of an iteration box a GEMM or ALU instruction sequence covers: <see cref="Extent"/> points, and how
/// one step along it moves the ACC row (<see cref="Dst"/>), the INP row (GEMM) or ACC source row (ALU)
/// (<see cref="Src"/>) and the WGT row (<see cref="Wgt"/>).
/// </summary>
internal readonly record struct PlanVar(string Name, int Extent, int Dst, int Src, int Wgt);

/// <summary>How the micro-ops of a kernel are padded to avoid the ACC pipeline hazard (vta-isa.md §6.6).</summary>
internal enum DummyMode
{
    None,

    /// <summary>The kernel's uops are followed by dummies writing scratch rows, so ≥ 3 distinct rows repeat.</summary>
    Append,

    /// <summary>Every uop is followed by two dummies (any uop order is then hazard-free).</summary>
    Interleave,
}

/// <summary>
/// How an iteration box becomes instructions: the points of <see cref="Uop"/> (outermost first) are the micro-ops of
/// a kernel; <see cref="Out"/> and <see cref="In"/> are the hardware loops (iter_out, iter_in) with their factors;
/// each point of <see cref="Software"/> is one instruction with its own kernel (its offset is in the uops).
/// </summary>
internal sealed record LoopPlan(
    ImmutableArray<PlanVar> Uop,
    PlanVar? Out,
    PlanVar? In,
    ImmutableArray<PlanVar> Software,
    DummyMode Dummies,
    int AppendedDummies)
{
    public int RealUopsPerKernel => Uop.Aggregate(1, (p, v) => p * v.Extent);

    public int UopsPerKernel => Dummies switch
    {
        DummyMode.Append => RealUopsPerKernel + AppendedDummies,
        DummyMode.Interleave => RealUopsPerKernel * 3,
        _ => RealUopsPerKernel,
    };

    public int Instructions => Software.Aggregate(1, (p, v) => p * v.Extent);

    public int IterOut => Out?.Extent ?? 1;

    public int IterIn => In?.Extent ?? 1;
}

/// <summary>
/// Chooses <see cref="LoopPlan"/>s: the cheapest assignment of the box dimensions to micro-ops, hardware loops and
/// software loops whose instruction sequence never writes an ACC row that one of the two previous micro-ops wrote.
/// </summary>
internal sealed class LoopPlanner(VtaConfig config, bool gemm)
{
    /// <summary>A kernel may use at most this share of the micro-op buffer, so several stay resident.</summary>
    private readonly int maxKernelUops = Math.Max(16, config.UopDepth / 8);

    private readonly int maxStepUops = Math.Max(64, config.UopDepth / 3);

    private readonly Dictionary<string, LoopPlan> cache = new(StringComparer.Ordinal);

    /// <summary>The plan for a box (cached by its shape). Dimensions of extent 1 are dropped.</summary>
    public LoopPlan Plan(IReadOnlyList<PlanVar> box)
    {
        var vars = box.Where(v => v.Extent > 1).ToList();
        var key = string.Join(";", vars.Select(v => $"{v.Extent},{v.Dst},{v.Src},{v.Wgt}"));
        if (cache.TryGetValue(key, out var cached))
        {
            return cached;
        }

        var plan = Choose(vars);
        cache[key] = plan;
        return plan;
    }

    private LoopPlan Choose(List<PlanVar> vars)
    {
        var latency = gemm ? config.GemmLatencyCycles : config.AluLatencyCycles;
        var interval = gemm ? config.GemmIntervalCycles : config.AluIntervalCycles;
        var candidates = new List<(double Cost, LoopPlan Plan)>();
        var none = (PlanVar?)null;
        var choices = new List<PlanVar?> { none };
        choices.AddRange(vars.Select(v => (PlanVar?)v));
        foreach (var outer in choices)
        {
            foreach (var inner in choices)
            {
                if ((outer is null && inner is not null) || (outer is not null && inner is not null && outer.Value == inner.Value))
                {
                    continue;
                }

                if (!FactorsFit(outer) || !FactorsFit(inner))
                {
                    continue;
                }

                var rest = vars.Where(v => v != outer && v != inner).ToList();
                var outputs = rest.Where(v => v.Dst != 0).ToList();
                var reductions = rest.Where(v => v.Dst == 0).ToList();
                for (var mask = 0; mask < 1 << reductions.Count; mask++)
                {
                    var inUops = reductions.Where((_, i) => (mask & (1 << i)) != 0).ToList();
                    var software = reductions.Where((_, i) => (mask & (1 << i)) == 0).ToList();
                    var uops = inUops.Concat(outputs.OrderByDescending(v => v.Dst)).ToImmutableArray();
                    var plan = new LoopPlan(uops, outer, inner, [.. software], DummyMode.None, 0);
                    if (plan.UopsPerKernel > maxKernelUops || plan.UopsPerKernel * plan.Instructions > maxStepUops)
                    {
                        continue;
                    }

                    candidates.Add((Cost(plan, latency, interval), plan));
                }
            }
        }

        foreach (var (_, plan) in candidates.OrderBy(c => c.Cost).ThenBy(c => c.Plan.UopsPerKernel * c.Plan.Instructions))
        {
            if (HazardFree(plan))
            {
                return plan;
            }
        }

        return Fallback(vars);
    }

    /// <summary>
    /// No plan is hazard-free on its own (too few distinct ACC rows, or rows that repeat): the output dimensions go to
    /// the micro-ops, the two largest reductions to the hardware loops, and dummy micro-ops on scratch rows space the
    /// real ones out.
    /// </summary>
    private LoopPlan Fallback(List<PlanVar> vars)
    {
        var outputs = vars.Where(v => v.Dst != 0).OrderByDescending(v => v.Dst).ToList();
        var reductions = vars.Where(v => v.Dst == 0 && FactorsFit(v)).OrderByDescending(v => v.Extent).ToList();
        PlanVar? outer = reductions.Count > 0 ? reductions[0] : null;
        PlanVar? inner = reductions.Count > 1 ? reductions[1] : null;
        var software = vars.Where(v => v.Dst == 0 && v != outer && v != inner).ToImmutableArray();
        var uops = outputs.ToImmutableArray();
        var real = uops.Aggregate(1, (p, v) => p * v.Extent);
        if (real < 3)
        {
            var append = new LoopPlan(uops, outer, inner, software, DummyMode.Append, 3 - real);
            if (HazardFree(append))
            {
                return append;
            }
        }

        return new LoopPlan(uops, outer, inner, software, DummyMode.Interleave, 0);
    }

    private double Cost(LoopPlan plan, double latency, double interval)
    {
        var perInstruction = latency + (plan.UopsPerKernel * (double)plan.IterOut * plan.IterIn * interval);
        var uopBytes = plan.UopsPerKernel * (double)plan.Instructions * VtaConfig.UopBits / 8;
        return (plan.Instructions * perInstruction) + (uopBytes / config.UopLoad.BytesPerCycle * 0.5);
    }

    private bool FactorsFit(PlanVar? v)
    {
        if (v is not { } x)
        {
            return true;
        }

        var srcBits = gemm ? config.GemmSrcFactorBits : config.AluSrcFactorBits;
        return x.Extent <= (1 << VtaLayout.IterBits) - 1
            && x.Dst < 1 << config.DstFactorBits
            && x.Src < 1 << srcBits
            && (!gemm || x.Wgt < 1 << config.WgtFactorBits);
    }

    /// <summary>
    /// Whether the micro-op sequence of one instruction (every kernel of the plan has the same relative structure)
    /// never writes an ACC row that one of the two micro-ops before it wrote. Exact, in time linear in the kernel:
    /// pairs inside one (i, j) iteration compare the kernel's rows; pairs across an iteration boundary differ by
    /// the offset between the two iterations, of which there are only a few kinds. Dummy rows are never offset.
    /// </summary>
    public static bool HazardFree(LoopPlan plan)
    {
        var r = KernelDsts(plan, 0, -1, -2);
        var n = r.Count;
        long fo = plan.Out?.Dst ?? 0, fi = plan.In?.Dst ?? 0;
        long outer = plan.IterOut, inner = plan.IterIn;
        if (plan.Dummies != DummyMode.None && (fo != 0 || fi != 0))
        {
            return false;
        }

        // The row written earlier equals the one written later, which lies 'delta' rows further by the loop offsets.
        static bool Same(long earlier, long later, long delta) => earlier < 0 || later < 0 ? earlier == later : earlier == later + delta;

        for (var u = 0; u < n; u++)
        {
            if ((u + 1 < n && Same(r[u], r[u + 1], 0)) || (u + 2 < n && Same(r[u], r[u + 2], 0)))
            {
                return false;
            }
        }

        var next = new List<long>();
        if (inner >= 2)
        {
            next.Add(fi);
        }

        if (outer >= 2)
        {
            next.Add(fo - ((inner - 1) * fi));
        }

        foreach (var d in next)
        {
            if (Same(r[n - 1], r[0], d) || (n >= 2 && (Same(r[n - 2], r[0], d) || Same(r[n - 1], r[1], d))))
            {
                return false;
            }
        }

        if (n == 1)
        {
            var second = new List<long>();
            if (inner >= 3)
            {
                second.Add(2 * fi);
            }

            if (inner >= 2 && outer >= 2)
            {
                second.Add(fo - ((inner - 2) * fi));
            }

            if (inner == 1 && outer >= 3)
            {
                second.Add(2 * fo);
            }

            if (second.Any(d => Same(r[0], r[0], d)))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>The dst rows of one kernel relative to <paramref name="dst0"/>; dummies get <paramref name="scratch0"/>/<paramref name="scratch1"/>.</summary>
    public static List<long> KernelDsts(LoopPlan plan, long dst0, long scratch0, long scratch1)
    {
        var real = new List<long>(plan.RealUopsPerKernel);
        Enumerate(plan.Uop, (in ReadOnlySpan<int> idx) =>
        {
            long d = dst0;
            for (var v = 0; v < idx.Length; v++)
            {
                d += (long)idx[v] * plan.Uop[v].Dst;
            }

            real.Add(d);
        });

        return plan.Dummies switch
        {
            DummyMode.Append => [.. real, .. new[] { scratch0, scratch1 }.Take(plan.AppendedDummies)],
            DummyMode.Interleave => [.. real.SelectMany(d => new[] { d, scratch0, scratch1 })],
            _ => real,
        };
    }

    public delegate void PointAction(in ReadOnlySpan<int> index);

    /// <summary>Visits every point of the box (row-major, the first dimension outermost).</summary>
    public static void Enumerate(IReadOnlyList<PlanVar> dims, PointAction action)
    {
        Span<int> idx = stackalloc int[dims.Count];
        while (true)
        {
            action(idx);
            var d = dims.Count - 1;
            while (d >= 0)
            {
                if (++idx[d] < dims[d].Extent)
                {
                    break;
                }

                idx[d] = 0;
                d--;
            }

            if (d < 0)
            {
                return;
            }
        }
    }
}
