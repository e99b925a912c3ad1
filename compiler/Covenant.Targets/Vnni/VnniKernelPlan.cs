using System.Collections.Immutable;
using System.Globalization;
using System.Text;
using Covenant.Acg.Model;
using Covenant.Codelets;
using Covenant.Codelets.Semantics;
using Covenant.Core.Diagnostics;
using Covenant.Core.Numerics;
using Covenant.Mapping.Analysis;
using Covenant.Mapping.Model;
using Covenant.Runtime.Vnni;

namespace Covenant.Targets.Vnni;

/// <summary>How the two cores share the work.</summary>
public enum VnniParallelSplit
{
    /// <summary>Each core takes whole row blocks (all of B streams through both cores; A is split).</summary>
    Rows,

    /// <summary>Each core takes whole column blocks (B is split; both cores read all of A).</summary>
    Columns,
}

/// <param name="Name">The codelet loop.</param>
/// <param name="Role">Its role in the GEMM (the mapping's <see cref="GemmView"/> rule, with <see cref="VnniKernelPlan.TensorA"/> as A).</param>
/// <param name="Vector">The column loop laid along the vector lanes (contiguous in the output).</param>
/// <param name="Packed">The reduction loop whose groups of 4 feed one vpdpbusd (innermost in A' and in packed B).</param>
public sealed record VnniLoopPlan(string Name, int Extent, LoopRole Role, bool Vector, bool Packed)
{
    /// <summary>Runs outside the GEMM, as an independent GEMM each: batches, groups, column loops other than the vector loop.</summary>
    public bool Outer => Role == LoopRole.Batch || (Role == LoopRole.Column && !Vector);

    /// <summary>The role as the plan's description names it.</summary>
    public string RoleName => Outer ? "Outer" : Role.ToString();
}

/// <summary>One fused epilogue step on the int32 accumulator vectors, in order; then the store narrows to the output type.</summary>
public sealed record VnniEpilogueStep(EpilogueOp Op, long? Immediate, string? Tensor)
{
    public override string ToString() => Op switch
    {
        EpilogueOp.ShiftRight => $">> {Immediate}",
        _ => $"{Op.ToString().ToLowerInvariant()} {Tensor ?? Immediate?.ToString(CultureInfo.InvariantCulture)}",
    };
}

/// <summary>Overrides for <see cref="VnniKernelPlan.Choose"/> (tests, tuning); null keeps the heuristic's choice.</summary>
public sealed record VnniPlanOptions
{
    public static VnniPlanOptions Default { get; } = new();

    /// <summary>Rows of accumulators in the register block.</summary>
    public int? MR { get; init; }

    /// <summary>Vectors of accumulators per row in the register block.</summary>
    public int? NR { get; init; }

    /// <summary>Rows per cache block (a multiple of MR).</summary>
    public int? MC { get; init; }

    /// <summary>Columns per cache block (a multiple of NR x lanes).</summary>
    public int? NC { get; init; }

    /// <summary>Groups of 4 reduction values per cache block.</summary>
    public int? KC { get; init; }

    public int? Threads { get; init; }

    public VnniAMode? AMode { get; init; }

    /// <summary>The tensor to broadcast as the u8 operand; null lets the heuristic pick the orientation.</summary>
    public string? TensorA { get; init; }

    public VnniParallelSplit? Split { get; init; }

    /// <summary>Options that make <see cref="VnniKernelPlan.Choose"/> reproduce <paramref name="plan"/> exactly.</summary>
    public static VnniPlanOptions Of(VnniKernelPlan plan)
    {
        ArgumentNullException.ThrowIfNull(plan);
        return new VnniPlanOptions
        {
            MR = plan.MR,
            NR = plan.NR,
            MC = plan.MC,
            NC = plan.NC,
            KC = plan.KC,
            Threads = plan.Threads,
            AMode = plan.AMode,
            TensorA = plan.TensorA,
            Split = plan.Split,
        };
    }
}

/// <summary>
/// Everything the VNNI kernel generator needs to emit a kernel for one codelet instance: which tensor is
/// broadcast (A, u8 after the +128 shift when it is i8) and which is packed (B, the i8 weights), the role of
/// every loop in the implicit GEMM, the register block (MR rows x NR vectors of accumulators), the cache blocks
/// (MC rows, NC columns, KC groups of 4 reduction values), the thread split and the fused epilogue. This is what
/// the mapper will decide for this target; <see cref="Choose"/> is a heuristic stand-in until it does.
/// </summary>
/// <param name="M">Rows (the product of the row loops).</param>
/// <param name="N">Columns (the vector loop's extent; 1 when there is none).</param>
/// <param name="K">Multiply-accumulates per output element.</param>
/// <param name="Groups">vpdpbusd steps per output vector (reduction groups of 4, after padding).</param>
/// <param name="Outer">Independent GEMMs (product of the outer loops).</param>
public sealed record VnniKernelPlan(
    CodeletInstance Instance,
    VnniIsa Isa,
    int NestIndex,
    string TensorA,
    string TensorB,
    string Accumulator,
    string Output,
    ElementType OutputType,
    bool Compensate,
    VnniAMode AMode,
    ImmutableArray<VnniLoopPlan> Loops,
    long M,
    long N,
    long K,
    long Groups,
    long Outer,
    int MR,
    int NR,
    int MC,
    int NC,
    int KC,
    int Threads,
    VnniParallelSplit Split,
    ImmutableArray<VnniEpilogueStep> Epilogue)
{
    /// <summary>Columns per register block (NR vectors).</summary>
    public int PanelWidth => NR * Isa.Lanes;

    /// <summary>Columns rounded up to whole register blocks (the packed B's width).</summary>
    public long PaddedN => IntegerMath.RoundUp(N, PanelWidth);

    public long Panels => PaddedN / PanelWidth;

    public int RowBlocks => (int)((M + MC - 1) / MC);

    public int ColumnBlocks => (int)((N + NC - 1) / NC);

    /// <summary>Independent tiles the threads share.</summary>
    public long Tiles => Outer * RowBlocks * ColumnBlocks;

    /// <summary>Multiply-accumulates of useful work.</summary>
    public long Macs => Outer * M * N * K;

    /// <summary>Integer operations (2 per multiply-accumulate), for GOPS figures.</summary>
    public long Operations => 2 * Macs;

    /// <summary>vpdpbusd instructions the kernel issues (padding included).</summary>
    public long DotInstructions
    {
        get
        {
            var vectors = (N + Isa.Lanes - 1) / Isa.Lanes;
            return Outer * M * vectors * Groups;
        }
    }

    /// <summary>The fraction of vpdpbusd lanes and bytes doing useful work.</summary>
    public double Efficiency => (double)Macs / (DotInstructions * Isa.MacsPerDot);

    public string Describe()
    {
        var inv = CultureInfo.InvariantCulture;
        var text = new StringBuilder();
        text.AppendLine(inv, $"VNNI kernel for {Instance.Name} on {Isa.Architecture} ({Isa.Capability} x{Isa.Lanes} lanes, {Isa.Registers} registers, {Threads} threads)");
        text.AppendLine(inv, $"  A (broadcast u8) = {TensorA}{(Compensate ? " (i8 stored as x + 128; minus 128 x column sums of B)" : "")}, B (packed i8) = {TensorB}, output {Output}: {OutputType.Name()}");
        text.AppendLine(inv, $"  GEMM: {Outer} x [M {M} x N {N} x K {K}], {Groups} groups of 4; A' {AMode}");
        text.AppendLine(inv, $"  loops: {string.Join(", ", Loops.Select(l => $"{l.Name}={l.Extent} {l.RoleName}{(l.Vector ? " (vector)" : "")}{(l.Packed ? " (packed)" : "")}"))}");
        text.AppendLine(inv, $"  register block MR {MR} x NR {NR} vectors ({MR * NR} accumulators); cache blocks MC {MC}, NC {NC}, KC {KC} groups; {Tiles} tiles split by {Split.ToString().ToLowerInvariant()}");
        if (!Epilogue.IsEmpty)
        {
            text.AppendLine(inv, $"  epilogue: {string.Join(", ", Epilogue)}, then store {OutputType.Name()}");
        }

        text.Append(inv, $"  efficiency {Efficiency:P1} of the vpdpbusd lanes");
        return text.ToString();
    }

    /// <summary>The heuristic plan: orientation by lane efficiency, register block by the register count, cache
    /// blocks by the L1 and L2 capacities, two-way split by the larger operand.</summary>
    public static Result<VnniKernelPlan> Choose(CodeletInstance instance, ArchitectureGraph graph, VnniPlanOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(instance);
        ArgumentNullException.ThrowIfNull(graph);
        options ??= VnniPlanOptions.Default;
        var isa = VnniIsa.FromGraph(graph);
        if (!isa.Succeeded)
        {
            return Result<VnniKernelPlan>.Failure(isa.Diagnostics);
        }

        var (nest, problem) = AccumulationFinder.Find(instance);
        if (nest is null)
        {
            return Result<VnniKernelPlan>.Failure(VnniDiagnostics.NoAccumulation.Create(instance.Syntax.Location, problem!));
        }

        // Without a mapping, either factor may be broadcast: both are analyzed (one when they are the same tensor).
        var orientations = new[] { (A: nest.Left, B: nest.Right), (A: nest.Right, B: nest.Left) }
            .Take(nest.Left.Tensor == nest.Right.Tensor ? 1 : 2)
            .Select(o => (instance.Tensors[o.A.Tensor].Name, VnniGemmSource.FromCodelet(instance, nest, o.A, o.B)));
        var analysis = AnalyzeBest(instance, nest.Nest.Statements[0].Syntax.Location, [.. orientations], isa.Value, options);
        return analysis.Succeeded
            ? FromAnalysis(analysis.Value, isa.Value, graph, options)
            : Result<VnniKernelPlan>.Failure(analysis.Diagnostics);
    }

    /// <summary>
    /// The plan a mapping chose: the broadcast operand is the tensor the mapper gave the capability's <c>a</c>
    /// (offset by 128 when it is i8), the register block is the mapping's tile at the register file (MR rows x NR
    /// vectors), and the cache blocks are its tile at the outermost cache (MC rows, NC columns, KC groups of 4
    /// reduction values), rounded to what the kernel's loops need. The thread split stays the target's: the mapping
    /// spreads work over the cores evenly but does not say how. <paramref name="options"/> still override (tuning).
    /// </summary>
    public static Result<VnniKernelPlan> FromMapping(LayerMapping mapping, VnniPlanOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(mapping);
        options ??= VnniPlanOptions.Default;
        var isa = VnniIsa.FromGraph(mapping.Graph);
        if (!isa.Succeeded)
        {
            return Result<VnniKernelPlan>.Failure(isa.Diagnostics);
        }

        var view = GemmView.Of(mapping);
        if (!view.Succeeded)
        {
            return Result<VnniKernelPlan>.Failure(view.Diagnostics);
        }

        // The view's A is the tensor bound to the capability's u8 factor; the options may broadcast the other one.
        var gemm = view.Value;
        var orientations = new[] { false, true }.Take(gemm.A.Tensor.Index == gemm.B.Tensor.Index ? 1 : 2)
            .Select(swapped => ((swapped ? gemm.B : gemm.A).Name, Result<VnniGemmSource>.Success(VnniGemmSource.FromView(gemm, swapped))));
        var analysis = AnalyzeBest(mapping.Instance, gemm.Location, [.. orientations], isa.Value, options with { TensorA = options.TensorA ?? gemm.A.Name });
        return analysis.Succeeded
            ? FromAnalysis(analysis.Value, isa.Value, mapping.Graph, MappedBlocking(gemm, analysis.Value, isa.Value, options))
            : Result<VnniKernelPlan>.Failure(analysis.Diagnostics);
    }

    // Reads the register block and the cache blocks off the mapping's tiles, where the options leave them open.
    private static VnniPlanOptions MappedBlocking(GemmView view, VnniGemm gemm, VnniIsa isa, VnniPlanOptions options)
    {
        var mapping = view.Mapping;
        var lanes = isa.Lanes;
        var names = gemm.Loops.Select(l => l.Name).ToImmutableArray();
        var rows = gemm.Rows.Select(l => names[l]).ToList();
        var vector = gemm.Vector >= 0 ? names[gemm.Vector] : null;
        var reductions = Enumerable.Range(0, names.Length).Where(l => gemm.Roles[l] == LoopRole.Reduction).Select(l => names[l]).ToList();
        var register = view.C.Storage.Name;
        var cache = mapping.Levels.IsEmpty ? register : mapping.Levels[0].Storage;

        long Product(IEnumerable<string> loops, string level) => loops.Aggregate(1L, (product, loop) => product * mapping.TileAt(level, loop));

        var vectors = (int)IntegerMath.CeilDiv(gemm.N, lanes);
        var mr = (int)Math.Clamp(Product(rows, register), 1, Math.Min(MaxRows, Math.Max(1, gemm.M)));
        var nr = vector is null ? 1 : (int)Math.Clamp(IntegerMath.CeilDiv(mapping.TileAt(register, vector), lanes), 1, Math.Max(1, vectors));
        mr = options.MR ?? mr;
        nr = options.NR ?? nr;
        var panelWidth = nr * lanes;
        var kc = (int)Math.Clamp(IntegerMath.CeilDiv(Product(reductions, cache), 4), 1, gemm.Groups);
        var mc = (int)IntegerMath.RoundUp(Math.Clamp(Product(rows, cache), 1, gemm.M), mr);
        var nc = vector is null ? panelWidth : (int)IntegerMath.RoundUp(Math.Min(mapping.TileAt(cache, vector), gemm.N), panelWidth);

        // The mapping spreads the work over the cores but does not cut it: split the columns (or else the rows) once
        // more where the threads would not get equal shares of its tiles.
        var paddedN = IntegerMath.RoundUp(gemm.N, panelWidth);
        var (rowBlocks, columnBlocks) = (IntegerMath.CeilDiv(gemm.M, mc), IntegerMath.CeilDiv(paddedN, nc));
        var (equalRows, equalColumns) = EqualShares(gemm, options.Threads ?? DefaultThreads(gemm, isa), mr, panelWidth, rowBlocks, columnBlocks, preferColumns: true);
        if (equalColumns != columnBlocks)
        {
            nc = (int)IntegerMath.RoundUp(IntegerMath.CeilDiv(paddedN, equalColumns), panelWidth);
        }

        if (equalRows != rowBlocks)
        {
            mc = (int)IntegerMath.RoundUp(IntegerMath.CeilDiv(gemm.M, equalRows), mr);
        }

        return options with
        {
            MR = mr,
            NR = nr,
            KC = options.KC ?? kc,
            MC = options.MC ?? mc,
            NC = options.NC ?? nc,
        };
    }

    /// <summary>The implicit GEMM the plan was made from (by <see cref="Choose"/> or <see cref="FromMapping"/>); the kernel builder reads it.</summary>
    internal VnniGemm? Gemm { get; init; }

    // Each orientation (which operand is broadcast) analyzed; the one with most useful lanes per vpdpbusd wins.
    private static Result<VnniGemm> AnalyzeBest(
        CodeletInstance instance, SourceLocation statement, List<(string A, Result<VnniGemmSource> Source)> orientations, VnniIsa isa, VnniPlanOptions options)
    {
        var wanted = orientations.Where(o => options.TensorA is not { } name || o.A == name).ToList();
        if (wanted.Count == 0)
        {
            return Result<VnniGemm>.Failure(VnniDiagnostics.BadOption.Create(statement,
                $"the broadcast operand '{options.TensorA}' is not a factor of the multiply-accumulate in codelet '{instance.Name}' " +
                $"(its factors are {string.Join(" and ", orientations.Select(o => $"'{o.A}'"))})"));
        }

        var analyses = wanted
            .Select(o => (o.A, Result: o.Source.Succeeded ? VnniGemmAnalysis.Analyze(o.Source.Value, options.AMode) : Result<VnniGemm>.Failure(o.Source.Diagnostics)))
            .ToList();
        var candidates = analyses.Where(a => a.Result.Succeeded).Select(a => a.Result.Value!).ToList();
        if (candidates.Count == 0)
        {
            return Result<VnniGemm>.Failure(Explain(instance, analyses));
        }

        // Most useful lanes per vpdpbusd wins; ties keep the codelet's own order (its left operand as A).
        return Result<VnniGemm>.Success(candidates.OrderByDescending(g => Math.Round(LaneEfficiency(g, isa.Lanes) * g.ReductionEfficiency, 6)).First());
    }

    // One diagnostic per reason, at its position; a reason that holds for one orientation only says which.
    private static ImmutableArray<Diagnostic> Explain(CodeletInstance instance, List<(string A, Result<VnniGemm> Result)> analyses) =>
    [
        .. analyses
            .SelectMany(a => a.Result.Diagnostics.Select(d => (a.A, Diagnostic: d)))
            .GroupBy(p => p.Diagnostic)
            .Select(g => g.Key with
            {
                Message = g.Count() == analyses.Count
                    ? $"codelet '{instance.Name}' cannot run as a VNNI kernel: {g.Key.Message}"
                    : $"codelet '{instance.Name}' cannot run as a VNNI kernel with '{g.First().A}' as A: {g.Key.Message}",
            }),
    ];

    private static double LaneEfficiency(VnniGemm gemm, int lanes) => (double)gemm.N / IntegerMath.RoundUp(gemm.N, lanes);

    private static Result<VnniKernelPlan> FromAnalysis(VnniGemm gemm, VnniIsa isa, ArchitectureGraph graph, VnniPlanOptions options)
    {
        var location = gemm.Instance.Syntax.Location;
        var registerFile = graph.FindNode(isa.RegisterFile)?.Location ?? graph.Location;
        var lanes = isa.Lanes;
        var vectors = (int)((gemm.N + lanes - 1) / lanes);

        // Register block: MR x NR accumulators, NR vectors of B and one broadcast of A must fit the register file;
        // enough independent accumulators to cover the dot product's latency; as square as possible (each group
        // loads MR broadcasts and NR vectors for MR x NR dot products).
        var (mr, nr) = RegisterBlock(isa, gemm.M, vectors);
        mr = options.MR ?? mr;
        nr = options.NR ?? nr;
        if (mr < 1 || nr < 1 || (mr * nr) + nr + 1 > Math.Max(isa.Registers, 32))
        {
            return Result<VnniKernelPlan>.Failure(VnniDiagnostics.BadOption.Create(registerFile,
                $"a register block of {mr} x {nr} needs {(mr * nr) + nr + 1} registers; '{isa.Architecture}' has {isa.Registers}"));
        }

        var panelWidth = nr * lanes;
        var paddedN = IntegerMath.RoundUp(gemm.N, panelWidth);

        // KC: a B micro-panel (KC groups x NR vectors) stays in a quarter of L2 while the row blocks stream past it.
        // (Measured on Zen 4: streaming the panel from L2 keeps vpdpbusd fed; sizing it for L1 instead means a
        // round trip of the partial sums through memory every few hundred dot products, 5-10 % slower.)
        var kcMax = Math.Max(16, (int)(isa.L2Bytes / 4 / (panelWidth * 4)));
        var kc = options.KC ?? (int)Math.Min(gemm.Groups, (gemm.Groups + IntegerMath.CeilDiv(gemm.Groups, kcMax) - 1) / IntegerMath.CeilDiv(gemm.Groups, kcMax));
        kc = (int)Math.Clamp(kc, 1, gemm.Groups);

        // MC: the A block (MC rows x KC groups) in half of L2; NC: all columns, unless partial sums between KC blocks
        // need a per-thread MC x NC scratch tile (kept within a quarter of L2).
        var mcMax = (int)Math.Max(mr, isa.L2Bytes / 2 / (kc * 4L) / mr * mr);

        var threads = options.Threads ?? DefaultThreads(gemm, isa);
        var split = options.Split ?? (gemm.N * gemm.K > gemm.M * gemm.K && paddedN / panelWidth >= threads ? VnniParallelSplit.Columns : VnniParallelSplit.Rows);
        var ncMax = kc < gemm.Groups
            ? Math.Max(panelWidth, (int)(isa.L2Bytes / 4 / 4 / Math.Min(mcMax, IntegerMath.RoundUp(gemm.M, mr)) / panelWidth * panelWidth))
            : (int)paddedN;

        // Choose how many blocks, make their count suit the threads, then make them equal.
        var (rowBlocks, columnBlocks) = EqualShares(gemm, threads, mr, panelWidth, IntegerMath.CeilDiv(gemm.M, mcMax), IntegerMath.CeilDiv(paddedN, ncMax),
            preferColumns: split == VnniParallelSplit.Columns);

        var mc = (int)IntegerMath.RoundUp(IntegerMath.CeilDiv(gemm.M, rowBlocks), mr);
        var nc = (int)IntegerMath.RoundUp(IntegerMath.CeilDiv(paddedN, columnBlocks), panelWidth);
        mc = options.MC ?? mc;
        nc = options.NC ?? nc;
        if (mc % mr != 0 || nc % panelWidth != 0 || mc < 1 || nc < 1)
        {
            return Fail(VnniDiagnostics.BadOption, $"codelet '{gemm.Instance.Name}': MC ({mc}) must be a multiple of MR ({mr}) and NC ({nc}) a multiple of NR x lanes ({panelWidth})");
        }

        if (gemm.APrimeLength > int.MaxValue || gemm.OuterCount * paddedN * gemm.Groups * 4 > int.MaxValue
            || gemm.Output.ElementCount > int.MaxValue || gemm.A.ElementCount > int.MaxValue || gemm.B.ElementCount > int.MaxValue)
        {
            return Fail(VnniDiagnostics.TooLarge, $"codelet '{gemm.Instance.Name}' needs buffers beyond 2^31 elements");
        }

        var loops = gemm.Loops.Select((loop, l) => new VnniLoopPlan(loop.Name, loop.Extent, gemm.Roles[l], l == gemm.Vector, l == gemm.Packed));
        var epilogue = gemm.Epilogue.Select(s => new VnniEpilogueStep(s.Op, s.Immediate, s.Tensor));
        return Result<VnniKernelPlan>.Success(new VnniKernelPlan(
            gemm.Instance, isa, gemm.NestIndex, gemm.A.Name, gemm.B.Name, gemm.Accumulator.Name, gemm.Output.Name, gemm.Output.ElementType,
            gemm.Compensate, gemm.AMode, [.. loops], gemm.M, gemm.N, gemm.K, gemm.Groups, gemm.OuterCount,
            mr, nr, mc, nc, kc, threads, split, [.. epilogue])
        {
            Gemm = gemm,
        });

        Result<VnniKernelPlan> Fail(Core.Diagnostics.DiagnosticDescriptor descriptor, string message) =>
            Result<VnniKernelPlan>.Failure(descriptor.Create(location, message));
    }

    // The largest MR x NR block with NR <= the vectors there are and MR <= the rows there are, that fits
    // MR·NR + NR + 1 registers, preferring more accumulators, then fewer loads per dot product. Each row of the
    // block keeps an A' offset in a general-purpose register through the dot-product loop, so MR stays within
    // MaxRows of the 15 usable ones (beyond that gcc spills, and the loop slows down by half).
    private static (int MR, int NR) RegisterBlock(VnniIsa isa, long rows, int vectors)
    {
        var registers = isa.Registers;
        var best = (MR: 1, NR: 1);
        var bestScore = double.MinValue;
        for (var nr = 1; nr <= Math.Min(vectors, registers); nr++)
        {
            for (var mr = 1; mr <= Math.Min(rows, MaxRows); mr++)
            {
                if ((mr * nr) + nr + 1 > registers)
                {
                    break;
                }

                // Useful accumulators (the remainder blocks waste the rest), then the load ratio.
                var rowUse = (double)rows / IntegerMath.RoundUp(rows, mr);
                var columnUse = (double)vectors / IntegerMath.RoundUp(vectors, nr);
                var accumulators = mr * nr;
                var loadsPerDot = (double)(mr + nr) / accumulators;
                var score = Math.Min(accumulators, 24) * rowUse * columnUse - loadsPerDot;
                if (score > bestScore + 1e-9)
                {
                    (best, bestScore) = ((mr, nr), score);
                }
            }
        }

        return best;
    }

    // A thread wake-up and a barrier cost microseconds; below SmallProblemMacs one core finishes sooner alone.
    private static int DefaultThreads(VnniGemm gemm, VnniIsa isa) =>
        gemm.OuterCount * gemm.M * gemm.N * gemm.K < SmallProblemMacs ? 1 : isa.Cores;

    // Whole tiles per thread: schedule(static) hands each thread a contiguous run of tiles, so a tile count that is a
    // multiple of the threads keeps every core busy to the end. Adds column blocks (when preferred, or when the rows
    // cannot split) or else row blocks; a split needs a panel or a register block per thread.
    private static (long RowBlocks, long ColumnBlocks) EqualShares(
        VnniGemm gemm, int threads, int mr, int panelWidth, long rowBlocks, long columnBlocks, bool preferColumns)
    {
        if (threads <= 1 || gemm.OuterCount * rowBlocks * columnBlocks % threads == 0)
        {
            return (rowBlocks, columnBlocks);
        }

        var columnsCanSplit = IntegerMath.RoundUp(gemm.N, panelWidth) / panelWidth >= threads;
        var rowsCanSplit = gemm.M >= (long)mr * threads;
        if ((preferColumns || !rowsCanSplit) && columnsCanSplit)
        {
            return (rowBlocks, IntegerMath.RoundUp(columnBlocks, threads));
        }

        return rowsCanSplit ? (IntegerMath.RoundUp(rowBlocks, threads), columnBlocks) : (rowBlocks, columnBlocks);
    }

    /// <summary>Problems with fewer multiply-accumulates run on one thread (a few microseconds of one core's work).</summary>
    public const long SmallProblemMacs = 1 << 19;

    /// <summary>The most rows a register block may have (see <see cref="RegisterBlock"/>).</summary>
    public const int MaxRows = 8;

}
