using System.Collections.Immutable;
using System.Globalization;
using System.Text;
using Covenant.Acg;
using Covenant.Acg.Model;
using Covenant.Codelets;
using Covenant.Codelets.Semantics;
using Covenant.Core.Diagnostics;
using Covenant.Mapping.Analysis;
using Covenant.Mapping.Model;
using Covenant.Runtime.TensorCore;

namespace Covenant.Targets.TensorCore;

// The mapping seen as an implicit GEMM  C[b][m][n] += A[b][m][k] * B[b][k][n]  (b: the batch):
//   m  fuses every Row loop of the mapping (a convolution's output pixels n, p, q when the image feeds the mma's a),
//   n  fuses every Column loop, k fuses every Reduction loop (r, s, c), b fuses the Batch loops (one per grid z).
// A is the tensor the mapping binds to the capability's operand a, B the one bound to b; the mapper may swap them
// (it computes C^T = B^T A^T when that pads less), which changes nothing here: the output is addressed through the
// accumulator's own affine indices. Each fused index is a mixed radix of its loops, the last one fastest; the loop
// that is contiguous in memory is moved last so 16-byte chunks of consecutive indices are consecutive bytes.
//
// Why the mapper's loop-per-axis embedding is widened here: the mapper lays one loop along each mma axis and tiles
// the others as outer loops (for a convolution: n on the j axis, padded from 1 to 8, with p and q outside). A GEMM
// kernel gets its efficiency from fusing all of them: an mma tile of 8 output pixels then comes from any p, q, with
// no padding of n. The mapping's tiles still choose the block tile (see Choose).

/// <summary>How an operand's tile reaches shared memory.</summary>
public enum TensorCoreOperandLayout
{
    /// <summary>Rows are M (or N) indices, 16-byte chunks of consecutive k are contiguous in global memory:
    /// cp.async of 16 bytes, plain ldmatrix.</summary>
    KMajor,

    /// <summary>Rows are k indices, chunks of 8 consecutive m (or n) are contiguous in global memory (f16 only):
    /// cp.async of 16 bytes, ldmatrix.trans.</summary>
    MnMajor,

    /// <summary>K-major in shared memory, but copied element by element (no contiguous 16-byte run along k, and
    /// ldmatrix.trans does not exist for 8-bit elements): correct for any affine access, and slow.</summary>
    KMajorByElement,
}

/// <summary>One operand of the implicit GEMM: its codelet tensor, its access and how it is staged.</summary>
/// <param name="OuterLoops">The loops of its GEMM side (A: Row loops, B: Column loops) in fusion order.</param>
public sealed record TensorCoreOperandPlan(string Name, TensorInstance Tensor, AccessInstance Access, TensorCoreOperandLayout Layout, ImmutableArray<int> OuterLoops);

/// <summary>Overrides of <see cref="TensorCorePlan.Choose"/>'s heuristic (tests, tuning); null keeps its choice.</summary>
public sealed record TensorCorePlanOptions
{
    public static TensorCorePlanOptions Default { get; } = new();

    public int? BlockM { get; init; }

    public int? BlockN { get; init; }

    public int? BlockK { get; init; }

    public int? WarpsM { get; init; }

    public int? WarpsN { get; init; }

    public int? Stages { get; init; }

    /// <summary>Forces element-by-element staging of both operands (tests the fallback path on any shape).</summary>
    public bool ByElement { get; init; }
}

/// <summary>
/// Everything the kernel builder needs: the implicit GEMM (loops by role, operands, output) and the tiling: a block
/// computes a BlockM x BlockN tile of C over k-tiles of BlockK, with WarpsM x WarpsN warps each owning a
/// WarpM x WarpN sub-tile, and a Stages-deep cp.async pipeline of shared-memory buffers.
/// </summary>
public sealed record TensorCorePlan(
    CodeletInstance Instance,
    string Architecture,
    int ComputeCapability,
    TensorCoreMmaShape Shape,
    ImmutableArray<LoopInstance> Loops,
    ImmutableArray<int> RowLoops,
    ImmutableArray<int> ColumnLoops,
    ImmutableArray<int> ReductionLoops,
    ImmutableArray<int> BatchLoops,
    TensorCoreOperandPlan A,
    TensorCoreOperandPlan B,
    TensorInstance Output,
    AccessInstance OutputAccess,
    long M,
    long N,
    long K,
    long Batch,
    int BlockM,
    int BlockN,
    int BlockK,
    int WarpsM,
    int WarpsN,
    int Stages,
    int SharedLimit,
    int ComputeUnits,
    double MmaInterval,
    double GlobalToSharedBytesPerCycle)
{
    public int ElementBytes => Shape == TensorCoreMmaShape.M16N8K16F16 ? 2 : 1;

    /// <summary>k per mma (16 for f16, 32 for s8): always 32 bytes, two 16-byte chunks.</summary>
    public int MmaK => Shape == TensorCoreMmaShape.M16N8K16F16 ? 16 : 32;

    public int WarpM => BlockM / WarpsM;

    public int WarpN => BlockN / WarpsN;

    public int Threads => WarpsM * WarpsN * 32;

    public long KTiles => (K + BlockK - 1) / BlockK;

    public int GridX => (int)((N + BlockN - 1) / BlockN);

    public int GridY => (int)((M + BlockM - 1) / BlockM);

    /// <summary>Bytes of one operand tile in shared memory (both layouts hold rows x BlockK elements).</summary>
    public int TileBytes(TensorCoreOperandPlan operand) => (operand == A ? BlockM : BlockN) * BlockK * ElementBytes;

    public int StageBytes => TileBytes(A) + TileBytes(B);

    public int SharedBytes => StageBytes * Stages;

    /// <summary>mma instructions the grid issues (padding included).</summary>
    public long MmaCount => (long)GridX * GridY * Batch * KTiles * (BlockM / 16) * (BlockN / 8) * (BlockK / MmaK);

    /// <summary>The fraction of the mma work that is useful (the rest multiplies padding).</summary>
    public double Efficiency => (double)M * N * K * Batch / (MmaCount * 16.0 * 8 * MmaK);

    /// <summary>
    /// A lower bound on cycles: the larger of the mma issue time spread over every SM and the global-to-shared traffic
    /// (every block streams its A and B panels) over the L2-to-SM bandwidth of every SM.
    /// </summary>
    public double PredictedCycles
    {
        get
        {
            var compute = MmaCount * MmaInterval / ComputeUnits;
            var bytes = (double)GridX * GridY * Batch * KTiles * StageBytes;
            var memory = bytes / (GlobalToSharedBytesPerCycle * ComputeUnits);
            return Math.Max(compute, memory);
        }
    }

    public string Describe()
    {
        var inv = CultureInfo.InvariantCulture;
        var text = new StringBuilder();
        text.AppendLine(inv, $"TensorCore kernel for {Instance.Name} on {Architecture} (sm_{ComputeCapability}, {MmaName(Shape)})");
        text.AppendLine(inv, $"  implicit GEMM: batch {Batch} x [M {M} x N {N} x K {K}]");
        text.AppendLine(inv, $"  M = {Names(RowLoops)}, N = {Names(ColumnLoops)}, K = {Names(ReductionLoops)}, batch = {Names(BatchLoops)}");
        text.AppendLine(inv, $"  A = {A.Name} ({A.Layout}), B = {B.Name} ({B.Layout}), C = {Output.Name}");
        text.AppendLine(inv, $"  block tile {BlockM} x {BlockN} x {BlockK}, {WarpsM} x {WarpsN} warps of {WarpM} x {WarpN}, {Stages} stages of {StageBytes} B shared memory");
        text.AppendLine(inv, $"  grid {GridX} x {GridY} x {Batch}, {Threads} threads, {MmaCount} mma, {Efficiency:P1} useful");
        return text.ToString().TrimEnd();

        string Names(ImmutableArray<int> loops) => loops.IsEmpty ? "1" : string.Join(" x ", loops.Select(l => $"{Loops[l].Name}({Loops[l].Extent})"));
    }

    public static string MmaName(TensorCoreMmaShape shape) => shape == TensorCoreMmaShape.M16N8K16F16
        ? "mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32"
        : "mma.sync.aligned.m16n8k32.row.col.s32.s8.s8.s32";

    /// <summary>
    /// The plan for a mapping. Block tile: the mapping's tile of the fused M (the product of its Row loops' tiles, each
    /// at most the loop's extent), rounded down to a power of two in [16, 128] and no larger than M rounded up to a
    /// power of two; likewise N in [8, 128]. BlockK holds 128 bytes of k per row (64 f16, 128 i8) — one full swizzle
    /// line — unless K is shorter. Warps: up to 4, each warp tile at least 16 x 8 and at most 64 x 64, as square as
    /// possible, within the register file (accumulators plus fragments plus ~48 registers of addresses per thread,
    /// at most 255 per thread). Stages: as many 2..4 buffers as shared memory holds (its capacity less the 1 KiB CUDA
    /// reserves per block), no more than there are k-tiles (at least 2).
    /// </summary>
    public static Result<TensorCorePlan> Choose(LayerMapping mapping, TensorCorePlanOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(mapping);
        options ??= TensorCorePlanOptions.Default;
        var instance = mapping.Instance;
        var graph = mapping.Graph;
        var location = instance.Syntax.Location;
        if (graph.Target != KnownTargets.TensorCore)
        {
            return Fail(TensorCoreDiagnostics.NotTensorCoreTarget, $"architecture '{graph.Name}' has target '{graph.Target}'; the TensorCore target pass needs 'target: {KnownTargets.TensorCore}'");
        }

        var node = graph.ComputeNode(mapping.ComputeNode);
        var capability = node.FindCapability(mapping.Capability);
        if (capability is null)
        {
            return Fail(TensorCoreDiagnostics.UnsupportedCapability, $"'{mapping.ComputeNode}' has no capability '{mapping.Capability}'");
        }

        var types = (capability.FindOperand("a")?.Type, capability.FindOperand("b")?.Type, capability.Output.Type);
        var extents = (capability.FindAxis("i")?.Extent, capability.FindAxis("j")?.Extent, capability.FindAxis("k")?.Extent);
        TensorCoreMmaShape shape;
        if (types == (ElementType.F16, ElementType.F16, ElementType.F32) && extents == (16, 8, 16))
        {
            shape = TensorCoreMmaShape.M16N8K16F16;
        }
        else if (types == (ElementType.I8, ElementType.I8, ElementType.I32) && extents == (16, 8, 32))
        {
            shape = TensorCoreMmaShape.M16N8K32S8;
        }
        else
        {
            return Fail(TensorCoreDiagnostics.UnsupportedCapability,
                $"capability '{capability.Name}' is not an mma this target issues (f16 x f16 -> f32 with i16 j8 k16, or i8 x i8 -> i32 with i16 j8 k32)");
        }

        if (!mapping.Epilogue.IsEmpty)
        {
            return Fail(TensorCoreDiagnostics.UnsupportedEpilogue, $"codelet '{instance.Name}' has an epilogue; the TensorCore kernel stores the accumulator as it is");
        }

        // Shared memory is the storage that feeds the registers by ldmatrix (or, failing that, the one cp.async fills).
        var registers = graph.StorageNode(mapping.OperandOf(mapping.Accumulator).Storage);
        var sharedName = graph.Edges.FirstOrDefault(e => e.To == registers.Name && e.Transfer == "ldmatrix")?.From
            ?? graph.Edges.FirstOrDefault(e => e.Transfer == "cp.async")?.To;
        if (sharedName is null || graph.FindNode(sharedName) is not StorageNode shared)
        {
            return Fail(TensorCoreDiagnostics.MissingStorage, $"'{graph.Name}' has no shared memory: no 'ldmatrix' edge into '{registers.Name}' and no 'cp.async' edge");
        }

        var feed = graph.Edges.FirstOrDefault(e => e.To == shared.Name && e.Transfer == "cp.async") ?? graph.Edges.FirstOrDefault(e => e.To == shared.Name);

        var (nest, problem) = AccumulationFinder.Find(instance);
        if (nest is null)
        {
            return Fail(TensorCoreDiagnostics.UnsupportedAccess, problem!);
        }

        var loops = nest.Nest.Loops;
        var tensorA = instance.Tensors.First(t => t.Name == mapping.Operands.First(o => o.Operand == "a").Tensor);
        var tensorB = instance.Tensors.First(t => t.Name == mapping.Operands.First(o => o.Operand == "b").Tensor);
        var indexA = instance.IndexOf(tensorA.Name);
        var (accessA, accessB) = nest.Left.Tensor == indexA ? (nest.Left, nest.Right) : (nest.Right, nest.Left);
        var output = instance.Tensors[nest.Accumulator.Tensor];
        if (output.Role != TensorRole.Output || output.Name != mapping.Output)
        {
            return Fail(TensorCoreDiagnostics.UnsupportedAccess, $"the accumulator '{output.Name}' is not the codelet's output");
        }

        int LoopIndex(string name) => loops.Select((l, i) => (l, i)).First(p => p.l.Name == name).i;
        ImmutableArray<int> WithRole(LoopRole role) => [.. mapping.Loops.Where(l => l.Role == role).Select(l => LoopIndex(l.Loop)).Order()];
        var rows = WithRole(LoopRole.Row);
        var columns = WithRole(LoopRole.Column);
        var reductions = WithRole(LoopRole.Reduction);
        var batches = WithRole(LoopRole.Batch);

        var elementBytes = shape == TensorCoreMmaShape.M16N8K16F16 ? 2 : 1;
        var chunk = 16 / elementBytes;

        // The contiguous loop goes last in each fused index (see the comment at the top).
        var reductionLast = reductions.FirstOrDefault(l => Contiguous(accessA, tensorA, l, loops, chunk) && Contiguous(accessB, tensorB, l, loops, chunk), -1);
        reductionLast = reductionLast >= 0 ? reductionLast : reductions.FirstOrDefault(l => Contiguous(accessA, tensorA, l, loops, chunk) || Contiguous(accessB, tensorB, l, loops, chunk), -1);
        reductions = MoveLast(reductions, reductionLast);
        rows = MoveLast(rows, rows.FirstOrDefault(l => Contiguous(accessA, tensorA, l, loops, chunk), -1));
        columns = MoveLast(columns, columns.FirstOrDefault(l => Contiguous(accessB, tensorB, l, loops, chunk), -1));

        TensorCoreOperandLayout LayoutOf(AccessInstance access, TensorInstance tensor, ImmutableArray<int> outer)
        {
            if (options.ByElement)
            {
                return TensorCoreOperandLayout.KMajorByElement;
            }

            if (!reductions.IsEmpty && Contiguous(access, tensor, reductions[^1], loops, chunk))
            {
                return TensorCoreOperandLayout.KMajor;
            }

            return elementBytes == 2 && !outer.IsEmpty && Contiguous(access, tensor, outer[^1], loops, chunk)
                ? TensorCoreOperandLayout.MnMajor
                : TensorCoreOperandLayout.KMajorByElement;
        }

        var a = new TensorCoreOperandPlan(tensorA.Name, tensorA, accessA, LayoutOf(accessA, tensorA, rows), rows);
        var b = new TensorCoreOperandPlan(tensorB.Name, tensorB, accessB, LayoutOf(accessB, tensorB, columns), columns);

        long Product(ImmutableArray<int> set) => set.Aggregate(1L, (p, l) => p * loops[l].Extent);
        var (m, n, k, batch) = (Product(rows), Product(columns), Product(reductions), Product(batches));

        // Every output element must be written by exactly one (batch, m, n): the non-reduction loops index it one to one.
        if (!WritesEachOnce(nest.Accumulator, output, loops, [.. rows, .. columns, .. batches]))
        {
            return Fail(TensorCoreDiagnostics.UnsupportedAccess,
                $"the output '{output.Name}' is not written exactly once per element by the non-reduction loops (a scatter such as a transposed convolution is not an implicit GEMM)");
        }

        if (instance.Tensors.Any(t => t.ElementCount >= int.MaxValue) || m * n >= int.MaxValue || k >= int.MaxValue)
        {
            return Fail(TensorCoreDiagnostics.TooLarge, $"codelet '{instance.Name}' has tensors beyond the kernel's 32-bit offsets");
        }

        long TileOf(ImmutableArray<int> set) => set.Aggregate(1L, (p, l) => p * Math.Min(mapping.Loop(loops[l].Name).Tile, loops[l].Extent));
        var blockM = options.BlockM ?? (int)Math.Min(Math.Clamp(FloorPow2(TileOf(rows)), 16, 128), Math.Max(16, CeilPow2(m)));
        var blockN = options.BlockN ?? (int)Math.Min(Math.Clamp(FloorPow2(TileOf(columns)), 8, 128), Math.Max(8, CeilPow2(n)));
        var mmaK = 32 / elementBytes;
        var blockK = options.BlockK ?? (int)Math.Min(128 / elementBytes, Math.Max(mmaK, CeilPow2(k)));
        if (!IsPow2(blockM) || blockM < 16 || blockM > 256 || !IsPow2(blockN) || blockN < 8 || blockN > 256 || !IsPow2(blockK) || blockK < mmaK || blockK * elementBytes > 256)
        {
            return Fail(TensorCoreDiagnostics.BadOption, $"block tile {blockM} x {blockN} x {blockK}: M and N must be powers of two in [16, 256] and [8, 256], K a power of two from {mmaK} to {256 / elementBytes}");
        }

        var registerBytes = registers.CapacityBytes;
        var (warpsM, warpsN) = ChooseWarps(blockM, blockN, registerBytes);
        warpsM = options.WarpsM ?? warpsM;
        warpsN = options.WarpsN ?? warpsN;
        if (warpsM < 1 || warpsN < 1 || blockM % warpsM != 0 || blockN % warpsN != 0 || blockM / warpsM < 16 || blockN / warpsN < 8
            || !IsPow2(warpsM) || !IsPow2(warpsN) || warpsM * warpsN > 32)
        {
            return Fail(TensorCoreDiagnostics.BadOption, $"{warpsM} x {warpsN} warps cannot split a {blockM} x {blockN} tile into warp tiles of at least 16 x 8");
        }

        if (RegistersPerThread(blockM / warpsM, blockN / warpsN) > 255)
        {
            return Fail(TensorCoreDiagnostics.BadOption, $"a {blockM / warpsM} x {blockN / warpsN} warp tile needs more than 255 registers per thread");
        }

        var sharedLimit = (int)Math.Min(shared.CapacityBytes - 1024, int.MaxValue);
        var stageBytes = (blockM + blockN) * blockK * elementBytes;
        var kTiles = (k + blockK - 1) / blockK;
        var stages = options.Stages ?? (int)Math.Clamp(Math.Min(sharedLimit / stageBytes, Math.Max(2, kTiles)), 2, 4);
        if (stages < 2 || stageBytes * stages > sharedLimit)
        {
            return Fail(TensorCoreDiagnostics.BadOption, $"{stages} stages of {stageBytes} B exceed the {sharedLimit} B of shared memory a block may use on '{graph.Name}' (or fewer than 2 stages)");
        }

        var gridY = (m + blockM - 1) / blockM;
        if (gridY > 65535 || batch > 65535)
        {
            return Fail(TensorCoreDiagnostics.TooLarge, $"a grid of {gridY} x {batch} blocks in y and z exceeds CUDA's 65535");
        }

        var computeCapability = graph.Name.Contains("sm90", StringComparison.Ordinal) ? 90 : 80;
        return Result<TensorCorePlan>.Success(new TensorCorePlan(
            instance, graph.Name, computeCapability, shape, loops, rows, columns, reductions, batches, a, b, output, nest.Accumulator,
            m, n, k, batch, blockM, blockN, blockK, warpsM, warpsN, stages, sharedLimit, Math.Max(1, node.Count), capability.IntervalCycles,
            feed?.BandwidthBytesPerCycle ?? 32));

        Result<TensorCorePlan> Fail(DiagnosticDescriptor descriptor, string message) => Result<TensorCorePlan>.Failure(descriptor.Create(location, message));
    }

    /// <summary>Registers one thread needs for a warp tile: accumulators, A and B fragments, ~48 for addresses.</summary>
    public static int RegistersPerThread(int warpM, int warpN) => (warpM * warpN / 32) + (warpM / 16 * 4) + (warpN / 8 * 2) + 48;

    // Most warps (up to 4), then the squarest warp tile, then more warps along M; warp tiles 16x8 .. 64x64.
    private static (int WarpsM, int WarpsN) ChooseWarps(int blockM, int blockN, long registerBytes)
    {
        var best = (WarpsM: 1, WarpsN: 1);
        var bestScore = double.MinValue;
        for (var wm = 1; wm <= 4; wm *= 2)
        {
            for (var wn = 1; wn * wm <= 4; wn *= 2)
            {
                var (tileM, tileN) = (blockM / wm, blockN / wn);
                if (blockM % wm != 0 || blockN % wn != 0 || tileM < 16 || tileN < 8 || tileM > 64 || tileN > 64)
                {
                    continue;
                }

                var threads = wm * wn * 32;
                if ((long)threads * RegistersPerThread(tileM, tileN) * 4 > registerBytes)
                {
                    continue;
                }

                var score = (wm * wn * 100.0) - (10 * Math.Abs(Math.Log2((double)tileM / tileN))) + wm;
                if (score > bestScore)
                {
                    (best, bestScore) = ((wm, wn), score);
                }
            }
        }

        return best;
    }

    /// <summary>
    /// Whether <paramref name="loop"/> runs along the tensor's last (unit-stride) dimension with coefficient 1, in a way
    /// that makes each aligned run of <paramref name="chunk"/> iterations one aligned 16-byte chunk that is wholly inside
    /// or wholly outside the tensor: the loop's extent, the dimension's size, the index's constant and every other
    /// coefficient of that index are multiples of the chunk.
    /// </summary>
    public static bool Contiguous(AccessInstance access, TensorInstance tensor, int loop, ImmutableArray<LoopInstance> loops, int chunk)
    {
        var dims = access.Indices.Select((index, d) => (index, d)).Where(p => p.index.Coefficients[loop] != 0).ToList();
        if (dims.Count != 1 || dims[0].d != tensor.Shape.Length - 1 || dims[0].index.Coefficients[loop] != 1)
        {
            return false;
        }

        var index = dims[0].index;
        return loops[loop].Extent % chunk == 0
            && tensor.Shape[^1] % chunk == 0
            && index.Constant % chunk == 0
            && index.Coefficients.Select((c, l) => (c, l)).All(p => p.l == loop || p.c % chunk == 0);
    }

    // The non-reduction loops' offsets into the output form a mixed radix covering [0, elements) once.
    private static bool WritesEachOnce(AccessInstance access, TensorInstance output, ImmutableArray<LoopInstance> loops, int[] loopsUsed)
    {
        var strides = output.Strides;
        long baseOffset = 0;
        var loopStride = new long[loops.Length];
        for (var d = 0; d < access.Indices.Length; d++)
        {
            baseOffset += access.Indices[d].Constant * strides[d];
            for (var l = 0; l < loops.Length; l++)
            {
                loopStride[l] += access.Indices[d].Coefficients[l] * strides[d];
            }
        }

        var radix = loopsUsed.Where(l => loops[l].Extent > 1).Select(l => (Stride: loopStride[l], Extent: (long)loops[l].Extent)).OrderBy(p => p.Stride).ToList();
        long expected = 1;
        foreach (var (stride, extent) in radix)
        {
            if (stride != expected)
            {
                return false;
            }

            expected *= extent;
        }

        return baseOffset == 0 && expected == output.ElementCount;
    }

    private static ImmutableArray<int> MoveLast(ImmutableArray<int> loops, int last) =>
        last < 0 ? loops : [.. loops.Where(l => l != last), last];

    private static bool IsPow2(long value) => value > 0 && (value & (value - 1)) == 0;

    private static long FloorPow2(long value) => value <= 1 ? 1 : 1L << (int)(63 - long.LeadingZeroCount(value));

    private static long CeilPow2(long value) => value <= 1 ? 1 : FloorPow2(value - 1) * 2;
}
