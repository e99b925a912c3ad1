using System.Collections.Immutable;
using Covenant.Acg.Model;
using Covenant.Codelets.Semantics;

namespace Covenant.Mapping.Model;

// A mapping: how one codelet instance runs on one capability of an architecture graph. It is what the
// solver chooses and what a target pass lowers; it says nothing target-specific (no instruction, no
// buffer address), only which loop feeds which intrinsic axis, how each loop is tiled, in which order
// the tiles are visited, which storage is double-buffered, and the element-wise epilogue.
//
// The main nest is an accumulation `Acc[..] += A[..] * B[..]` matched to a capability of the form
// `out[..] += a[..] * b[..]`. Loops take a role from the tensors they index:
//   Row        indexes Acc and A, not B      (GEMM's m, a convolution's output pixels n, p, q)
//   Column     indexes Acc and B, not A      (GEMM's n, a convolution's output channels k)
//   Reduction  indexes A and B, not Acc      (GEMM's k, a convolution's r, s, c)
//   Batch      indexes Acc, A and B, or only Acc (bmm's batch, a depthwise convolution's channels)
// Reduction loops are always the innermost tile loops: a tile of Acc stays on chip until its sums are
// complete (output-stationary), so no target needs to spill partial sums.

public enum LoopRole
{
    Row,
    Column,
    Reduction,
    Batch,
}

/// <summary>A codelet tensor of the main nest and the capability operand it plays, living in <see cref="Storage"/>.</summary>
/// <summary>
/// A codelet tensor of the main nest and the capability operand it plays, living in <see cref="Storage"/>.
/// <see cref="Offset"/> is non-zero when the tensor's type is one the operand only accepts (YAML <c>accepts:</c>):
/// each element is fed plus the offset, and the target subtracts offset x the other operand's sums.
/// </summary>
public sealed record OperandBinding(string Tensor, string Operand, string Storage)
{
    public long Offset { get; init; }
}

/// <summary>A capability axis and the codelet loop laid along it; <see cref="Loop"/> is null when the axis is unused
/// (e.g. VTA's batch axis of extent 1, or the column axis of a depthwise convolution).</summary>
public sealed record AxisEmbedding(string Axis, int AxisExtent, string? Loop);

/// <summary>
/// How one loop of the main nest is split.
/// <see cref="Extent"/> is the codelet's; <see cref="PaddedExtent"/> rounds it up to a multiple of
/// <see cref="Intrinsic"/> (the axis extent when the loop is embedded in <see cref="Axis"/>, else 1); the
/// padding reads zeros and its results are discarded. <see cref="Tile"/> is the number of loop iterations per
/// on-chip tile, a multiple of <see cref="Intrinsic"/>; the last tile is partial when it does not divide
/// <see cref="PaddedExtent"/>.
/// </summary>
public sealed record LoopMapping(string Loop, LoopRole Role, int Extent, int PaddedExtent, string? Axis, int Intrinsic, int Tile)
{
    public int TileCount => (PaddedExtent + Tile - 1) / Tile;

    /// <summary>Intrinsic blocks per full tile.</summary>
    public int BlocksPerTile => Tile / Intrinsic;
}

public enum EpilogueOp
{
    Add,
    Max,
    Min,
    ShiftRight,
}

/// <summary>
/// One element-wise step applied to the accumulator before it is stored: <c>acc = Op(acc, operand)</c>, where
/// the operand is an immediate or an element of <see cref="Tensor"/> indexed by a subset of the accumulator's
/// indices (a bias per output channel). <see cref="Capability"/> names the capability (on
/// <see cref="ComputeNode"/>) that performs it.
/// </summary>
public sealed record EpilogueStep(EpilogueOp Op, long? Immediate, string? Tensor, string ComputeNode, string Capability);

/// <summary>
/// The tile of one storage level above the operand storage (a cache or scratchpad the data passes through):
/// iterations per tile of every loop, in the order of <see cref="LayerMapping.Loops"/>, each a whole multiple of the
/// tile of the level inside it; the bytes a tile holds, and the bytes and cycles of filling the level over the run.
/// </summary>
public sealed record TileLevel(string Storage, ImmutableArray<int> Tiles, long FootprintBytes, long TrafficBytes, double TransferCycles);

/// <summary>The analytic estimate that ranked this mapping. Cycles are the architecture's clock cycles.</summary>
public sealed record CostEstimate(
    double Cycles,
    double ComputeCycles,
    ImmutableDictionary<string, long> TrafficBytes,
    ImmutableDictionary<string, double> TransferCycles,
    ImmutableDictionary<string, long> FootprintBytes)
{
    /// <summary>Fraction of the cycles in which the compute unit is busy.</summary>
    public double Utilization => Cycles > 0 ? ComputeCycles / Cycles : 0;
}

public sealed record LayerMapping(
    CodeletInstance Instance,
    ArchitectureGraph Graph,
    int NestIndex,
    string ComputeNode,
    string Capability,
    string Accumulator,
    string Output,
    ImmutableArray<OperandBinding> Operands,
    ImmutableArray<AxisEmbedding> Embedding,
    ImmutableArray<LoopMapping> Loops,
    ImmutableArray<string> TileOrder,
    ImmutableArray<string> DoubleBuffered,
    ImmutableArray<EpilogueStep> Epilogue,
    CostEstimate Cost)
{
    /// <summary>The outer storage levels' tiles, outermost first (empty when the operands come straight from off-chip memory).</summary>
    public ImmutableArray<TileLevel> Levels { get; init; } = [];

    public LoopMapping Loop(string name) => Loops.First(l => l.Loop == name);

    /// <summary>The tile of <paramref name="loop"/> at level <paramref name="storage"/>, or at the operand storage when that is not an outer level.</summary>
    public int TileAt(string storage, string loop)
    {
        var level = Levels.FirstOrDefault(l => l.Storage == storage);
        var index = Loops.IndexOf(Loop(loop));
        return level is null ? Loops[index].Tile : level.Tiles[index];
    }

    /// <summary>Multiply-accumulates the codelet asks for (the main nest's iterations, without padding).</summary>
    public long UsefulOperations => Loops.Aggregate(1L, (product, loop) => product * loop.Extent);

    /// <summary>
    /// Cycles if every issue of the capability did only useful work back to back on every unit: the
    /// compute-bound limit a run is measured against.
    /// </summary>
    public double ComputeBoundCycles
    {
        get
        {
            var node = Graph.ComputeNode(ComputeNode);
            var capability = node.FindCapability(Capability)!;
            return (double)UsefulOperations / capability.OperationsPerIssue * capability.IntervalCycles / Math.Max(1, node.Count);
        }
    }

    public OperandBinding OperandOf(string tensor) => Operands.First(o => o.Tensor == tensor);

    public IEnumerable<LoopMapping> LoopsWithRole(LoopRole role) => Loops.Where(l => l.Role == role);
}
