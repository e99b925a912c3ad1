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
    /// The plan for a mapping (see <see cref="TensorCorePlanning"/> for its steps). Block tile: the mapping's tile of the
    /// fused M (the product of its Row loops' tiles, each at most the loop's extent), rounded down to a power of two in
    /// [16, 128] and no larger than M rounded up to a power of two; likewise N in [8, 128]. BlockK holds 128 bytes of k
    /// per row (64 f16, 128 i8) — one full swizzle line — unless K is shorter. Warps: up to 4, each warp tile at least
    /// 16 x 8 and at most 64 x 64, as square as possible, within the register file (accumulators plus fragments plus
    /// ~48 registers of addresses per thread, at most 255 per thread). Stages: as many 2..4 buffers as shared memory
    /// holds (its capacity less the 1 KiB CUDA reserves per block), no more than there are k-tiles (at least 2).
    /// </summary>
    public static Result<TensorCorePlan> Choose(LayerMapping mapping, TensorCorePlanOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(mapping);
        return TensorCorePlanning.Choose(mapping, options ?? TensorCorePlanOptions.Default);
    }

    /// <summary>Registers one thread needs for a warp tile: accumulators, A and B fragments, ~48 for addresses.</summary>
    public static int RegistersPerThread(int warpM, int warpN) => (warpM * warpN / 32) + (warpM / 16 * 4) + (warpN / 8 * 2) + 48;
}
