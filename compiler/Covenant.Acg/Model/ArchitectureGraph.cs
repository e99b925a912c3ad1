using System.Collections.Immutable;
using Covenant.Codelets;
using Covenant.Codelets.Syntax;
using Covenant.Core.Diagnostics;

namespace Covenant.Acg.Model;

/// <summary>
/// One accelerator as the YAML describes it: storage and compute nodes (in file order) and the edges that
/// move data between them. Immutable; every element keeps the location it was read from so later stages
/// can point back into the YAML. Sizes are bytes, bandwidths bytes per cycle, times cycles.
/// </summary>
public sealed record ArchitectureGraph(
    string Name,
    string Target,
    string Description,
    double? ClockHz,
    ImmutableArray<AcgNode> Nodes,
    ImmutableArray<Edge> Edges,
    SourceLocation Location)
{
    /// <summary>Where the <c>target:</c> value is in the YAML (null for a graph not read from YAML).</summary>
    public SourceLocation? TargetLocation { get; init; }

    public IEnumerable<StorageNode> Storage => Nodes.OfType<StorageNode>();

    public IEnumerable<ComputeNode> Compute => Nodes.OfType<ComputeNode>();

    /// <summary>The storage nodes marked <c>offchip: true</c> (DRAM, HBM).</summary>
    public IEnumerable<StorageNode> Offchip => Storage.Where(s => s.Offchip);

    public AcgNode? FindNode(string name) => Nodes.FirstOrDefault(n => n.Name == name);

    /// <summary>The edges from <paramref name="from"/> to <paramref name="to"/>, in file order (several when different transfers connect them).</summary>
    public IEnumerable<Edge> EdgesBetween(string from, string to) => Edges.Where(e => e.From == from && e.To == to);

    /// <summary>The node called <paramref name="name"/>; throws when there is none (a caller bug, not a user mistake).</summary>
    public AcgNode Node(string name) =>
        FindNode(name) ?? throw new ArgumentException($"architecture '{Name}' has no node '{name}'", nameof(name));

    public StorageNode StorageNode(string name) =>
        Node(name) as StorageNode ?? throw new ArgumentException($"'{name}' is not a storage node", nameof(name));

    public ComputeNode ComputeNode(string name) =>
        Node(name) as ComputeNode ?? throw new ArgumentException($"'{name}' is not a compute node", nameof(name));
}

/// <summary>A storage or compute node. <see cref="Count"/> is how many identical copies the chip has (132 SMs, 2 cores).</summary>
public abstract record AcgNode(string Name, int Count, string Description, SourceLocation Location);

/// <summary>What a storage node holds: tensor data, or something only the target pass uses.</summary>
public enum StorageContents
{
    Data,

    /// <summary>Micro-op kernels (VTA's uop buffer): sized by the target pass, never a home for operands or tiles.</summary>
    Microcode,
}

/// <summary>
/// A memory: DRAM, a cache, a scratchpad or a register file. <see cref="CapacityBytes"/> is per copy.
/// </summary>
/// <param name="Element">The element type and row shape the hardware fixes (VTA's input rows are i8[1, 16]), if any.</param>
/// <param name="LineBytes">The unit of access in bytes (a register, an SRAM row, a cache line); the element size when an element is given.</param>
/// <param name="DoubleBuffered">The hardware itself ping-pongs two halves, so one tile may use only half the capacity.</param>
/// <param name="Cache">Managed by hardware (filled and evicted implicitly) rather than by explicit transfers.</param>
public sealed record StorageNode(
    string Name,
    long CapacityBytes,
    ElementLayout? Element,
    long? LineBytes,
    int Banks,
    bool DoubleBuffered,
    bool Offchip,
    bool Cache,
    StorageContents Holds,
    int Count,
    string Description,
    SourceLocation Location) : AcgNode(Name, Count, Description, Location)
{
    /// <summary>
    /// A register file (<c>register_file: true</c>): the inputs a capability reads from it are loaded one
    /// reduction step at a time from the level above, so during a tile only the accumulators stay resident
    /// and a tile at this level is a register block.
    /// </summary>
    public bool RegisterFile { get; init; }

    /// <summary>The bytes one tile may occupy: half the capacity when the hardware double-buffers.</summary>
    public long UsableBytes => DoubleBuffered ? CapacityBytes / 2 : CapacityBytes;

    /// <summary>The number of rows (elements, lines) the storage holds, when its access unit is known.</summary>
    public long? Depth => LineBytes is { } line ? CapacityBytes / line : null;
}

/// <summary>The element the hardware fixes for one storage row: <c>{type: i8, shape: [1, 16]}</c>.</summary>
public sealed record ElementLayout(ElementType Type, ImmutableArray<int> Shape, SourceLocation Location)
{
    public long Elements => Shape.Aggregate(1L, (product, extent) => product * extent);

    public long Bytes => Elements * Type.Bytes();

    public override string ToString() => $"{Type.Name()}[{string.Join(", ", Shape)}]";
}

/// <summary>A processing unit and the intrinsics it offers.</summary>
public sealed record ComputeNode(
    string Name,
    ImmutableArray<Capability> Capabilities,
    int Count,
    string Description,
    SourceLocation Location) : AcgNode(Name, Count, Description, Location)
{
    public Capability? FindCapability(string name) => Capabilities.FirstOrDefault(c => c.Name == name);
}

/// <summary>How a capability uses an operand, derived from its semantics.</summary>
[Flags]
public enum OperandRole
{
    None = 0,
    Read = 1,
    Write = 2,

    /// <summary>Read and written: the accumulator of <c>c[i, j] += ...</c>.</summary>
    ReadWrite = Read | Write,
}

/// <summary>
/// One intrinsic: what it computes (<see cref="Semantics"/>, a codelet statement over the operands indexed
/// by the <see cref="Shape"/> axes), where each operand must live, and what one issue costs.
/// </summary>
/// <param name="SemanticsText">The semantics exactly as written in the YAML.</param>
/// <param name="LatencyCycles">Cycles from issue until the result can be used.</param>
/// <param name="IntervalCycles">Cycles between two independent issues on one unit (0.5 = two per cycle).</param>
public sealed record Capability(
    string Name,
    string SemanticsText,
    StatementSyntax Semantics,
    ImmutableArray<CapabilityAxis> Shape,
    ImmutableArray<CapabilityOperand> Operands,
    ImmutableArray<CapabilityImmediate> Immediates,
    double LatencyCycles,
    double IntervalCycles,
    string Description,
    SourceLocation Location)
{
    public CapabilityOperand? FindOperand(string name) => Operands.FirstOrDefault(o => o.Name == name);

    public CapabilityAxis? FindAxis(string name) => Shape.FirstOrDefault(a => a.Name == name);

    /// <summary>The operand the semantics assign to.</summary>
    public CapabilityOperand Output => Operands.First(o => o.Role.HasFlag(OperandRole.Write));

    public IEnumerable<CapabilityOperand> Inputs => Operands.Where(o => o.Role.HasFlag(OperandRole.Read));

    /// <summary>Axes that do not index the output: the ones the statement sums over (<c>k</c> of a GEMM).</summary>
    public IEnumerable<CapabilityAxis> ReductionAxes => Shape.Where(a => !Output.Axes.Contains(a.Name));

    /// <summary>Scalar operations (multiply-accumulates for a GEMM) one issue performs: the product of the extents.</summary>
    public long OperationsPerIssue => Shape.Aggregate(1L, (product, axis) => product * axis.Extent);
}

/// <summary>One axis of a capability's iteration space: <c>k: 16</c>.</summary>
public sealed record CapabilityAxis(string Name, int Extent, SourceLocation Location);

/// <summary>A tensor operand of a capability and the storage node it must live in.</summary>
/// <param name="Axes">The shape axes that appear in this operand's indices, in order of first appearance.</param>
public sealed record CapabilityOperand(
    string Name,
    ElementType Type,
    string Storage,
    OperandRole Role,
    ImmutableArray<string> Axes,
    SourceLocation Location)
{
    /// <summary>
    /// A second element type the operand takes (<c>accepts:</c>): an integer type of the same width and the other
    /// signedness, fed offset by <see cref="AcceptOffset"/> so it fits <see cref="Type"/>. The target keeps the
    /// result exact by subtracting the offset times the sum of the other operand's values (VNNI's u8 operand
    /// taking s8 data: (a + 128) * b - 128 * b).
    /// </summary>
    public ElementType? Accepts { get; init; }

    /// <summary>What is added to an accepted value to bring it into <see cref="Type"/>: 128 for s8 into u8, -128 for u8 into s8.</summary>
    public long AcceptOffset => Accepts is null ? 0 : Type == ElementType.U8 ? 128 : -128;

    /// <summary>Whether a tensor of <paramref name="type"/> can play this operand.</summary>
    public bool Takes(ElementType type) => type == Type || type == Accepts;
}

/// <summary>A scalar operand encoded in the instruction (VTA's ALU immediate), with its legal range.</summary>
public sealed record CapabilityImmediate(string Name, ElementType Type, long? Min, long? Max, SourceLocation Location);

/// <summary>
/// A data-movement path from one node to another. When an end has <c>count</c> copies, the edge is
/// replicated with it and <see cref="BandwidthBytesPerCycle"/> is that of one copy.
/// </summary>
/// <param name="Transfer">The primitive that realizes the move (<c>vta.load.inp</c>, <c>cp.async</c>); optional on edges to or from a compute node, whose instruction reads or writes directly.</param>
public sealed record Edge(
    string From,
    string To,
    double BandwidthBytesPerCycle,
    double LatencyCycles,
    string? Transfer,
    string Description,
    SourceLocation Location)
{
    public override string ToString() => Transfer is null ? $"{From} -> {To}" : $"{From} -> {To} ({Transfer})";
}
