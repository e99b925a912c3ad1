using System.Collections.Immutable;
using System.Text.Json;
using System.Text.Json.Serialization;
using Covenant.Codelets;

namespace Covenant.Runtime.Generic;

// The ACG program: what the generic target emits for any architecture graph, and what the ACG simulator runs
// with nothing but the graph's YAML. It is portable: it names the graph's own nodes, edges and capabilities, never
// an instruction of a particular ISA. architectures/acg-program.md is its reference page.
//
// Memory. Every storage node copy holds named regions: typed arrays of elements at an element offset within the
// copy (on chip) or a byte address (off chip). Off-chip memory is little-endian bytes: a codelet tensor is bound to
// a region by its bytes (an i32 tensor may live in an i8 region of four times the elements: byte planes), so the
// host and the program agree on bytes, not on types.
//
// Values. Every element read or written is converted to the type of the region it lands in exactly as the codelet
// language converts (integers wrap to their low bits, floats round to nearest even), so moving an i32 accumulator
// into an i8 buffer keeps its low 8 bits, as VTA's output buffer does.
//
// Instructions run on engines: each transfer on its edge (one engine per edge and copy), each invocation on its
// compute node's unit. An engine starts its instructions in program order; an instruction starts when its engine is
// free and every instruction in its After list has finished. The list order is also a legal sequential order: the
// functional result is the result of running the instructions one after another in that order, and the simulator
// refuses a program whose After lists let two instructions that touch the same element (one of them writing) overlap.

/// <summary>A whole program: its regions, its instructions, and what the host binds to off-chip regions.</summary>
/// <param name="Version">The format version (<see cref="CurrentVersion"/>); readers refuse any other.</param>
/// <param name="Architecture">The graph's <c>name:</c>; the program is only valid on that graph.</param>
/// <param name="Main">The compute node and capability that do the codelet's multiply-accumulates (for utilisation).</param>
/// <param name="UsefulOperations">The codelet's multiply-accumulates (its main nest's iterations, without padding).</param>
public sealed record AcgProgram(
    int Version,
    string Architecture,
    AcgCapabilityRef Main,
    long UsefulOperations,
    ImmutableArray<AcgRegion> Regions,
    ImmutableArray<AcgBinding> Bindings,
    ImmutableArray<AcgInstruction> Instructions)
{
    public const int CurrentVersion = 1;

    /// <summary>The artifact file names: the JSON form, the compact binary form and the readable listing.</summary>
    public const string JsonFile = "acg-program.json";

    public const string BinaryFile = "acg-program.bin";

    public AcgRegion? FindRegion(string name) => Regions.FirstOrDefault(r => r.Name == name);

    public static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = false,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.CamelCase) },
    };

    public string ToJson() => JsonSerializer.Serialize(this, Json);

    /// <summary>Reads a program back; throws <see cref="JsonException"/> or <see cref="InvalidDataException"/> on a bad file.</summary>
    public static AcgProgram FromJson(string json)
    {
        var program = JsonSerializer.Deserialize<AcgProgram>(json, Json) ?? throw new InvalidDataException("the program file is empty");
        if (program.Version != CurrentVersion)
        {
            throw new InvalidDataException($"ACG program format {program.Version} is not {CurrentVersion}; recompile the artifact");
        }

        if (program.Regions.IsDefault || program.Bindings.IsDefault || program.Instructions.IsDefault || program.Main is null)
        {
            throw new InvalidDataException("the program file is incomplete");
        }

        return program;
    }
}

/// <summary>A capability of a compute node, by name.</summary>
public sealed record AcgCapabilityRef(string Node, string Capability);

/// <summary>
/// A named array in one copy of a storage node. <see cref="Offset"/> is in elements of <see cref="Type"/> from the
/// start of the copy for on-chip storage, and in bytes for off-chip storage; the region occupies
/// <see cref="Elements"/> x the type's size bytes, which must fit the node's capacity with every other region of that
/// copy (two regions of one copy never overlap).
/// </summary>
/// <param name="Copy">Which of the node's <c>count</c> copies (0 for a node with one).</param>
public sealed record AcgRegion(string Name, string Storage, int Copy, ElementType Type, long Offset, long Elements);

/// <summary>
/// A codelet tensor and the off-chip region holding its bytes: an input the host writes before the run, an output
/// it reads after, little-endian, row-major over the tensor's shape.
/// </summary>
public sealed record AcgBinding(string Tensor, string Region, AcgBindingKind Kind);

public enum AcgBindingKind
{
    Input,
    Output,
}

/// <summary>
/// An index into a region over an iteration box: element (i0, i1, ...) of the box is at
/// <c>Offset + sum(i_d x Strides[d])</c> elements of the region. Strides may be 0 (broadcast) and may repeat elements
/// (an im2col gather reads one input element for several taps).
/// </summary>
public sealed record AcgView(string Region, long Offset, ImmutableArray<long> Strides);

/// <summary>
/// A bound that makes a source element read as zero (padding): the element at box index (i0, i1, ...) reads 0 unless
/// <c>0 &lt;= Base + sum(i_d x Coefficients[d]) &lt; Extent</c>; a transfer reads zero where any of its guards fails.
/// </summary>
public sealed record AcgGuard(long Base, ImmutableArray<long> Coefficients, long Extent);

/// <summary>One step of the program: a transfer, a capability invocation, or a fill.</summary>
/// <param name="Id">Unique, increasing in program order.</param>
/// <param name="After">Ids of earlier instructions that must finish before this one starts (dependence tokens).</param>
[JsonPolymorphic(TypeDiscriminatorPropertyName = "op")]
[JsonDerivedType(typeof(AcgTransfer), "transfer")]
[JsonDerivedType(typeof(AcgInvoke), "invoke")]
[JsonDerivedType(typeof(AcgFill), "fill")]
public abstract record AcgInstruction(int Id, ImmutableArray<int> After);

/// <summary>
/// Moves a box of <see cref="Shape"/> elements along the edge <see cref="From"/> -> <see cref="To"/> (the graph's
/// edge between those nodes, by its <see cref="EdgeIndex"/> in the YAML's edge list), from copy
/// <see cref="FromCopy"/> to copy <see cref="ToCopy"/>: destination element i = source element i (zero where a guard
/// fails), converted to the destination region's type. Bytes moved = elements x the destination type's size.
/// </summary>
public sealed record AcgTransfer(
    int Id,
    ImmutableArray<int> After,
    int EdgeIndex,
    string From,
    string To,
    int FromCopy,
    int ToCopy,
    ImmutableArray<int> Shape,
    AcgView Source,
    AcgView Destination,
    ImmutableArray<AcgGuard> Guards) : AcgInstruction(Id, After)
{
    /// <summary>
    /// Added to every source value (guarded zeros included) before the conversion: the <c>accepts:</c> offset that
    /// brings an i8 tensor into a u8 operand (+128). 0 for a plain move.
    /// </summary>
    public long Add { get; init; }
}

/// <summary>
/// Runs <see cref="Capability"/> of unit <see cref="Unit"/> of compute node <see cref="Node"/> once for every point of
/// the box <see cref="Loops"/> (row-major, last loop fastest): a loop nest of intrinsic calls. Each call executes the
/// capability's own <c>semantics</c> statement on one tile per operand, read from (and, for the operand it writes,
/// written back to) the operand's view.
/// </summary>
public sealed record AcgInvoke(
    int Id,
    ImmutableArray<int> After,
    string Node,
    int Unit,
    string Capability,
    ImmutableArray<int> Loops,
    ImmutableArray<AcgOperand> Operands,
    ImmutableArray<AcgImmediate> Immediates) : AcgInstruction(Id, After)
{
    /// <summary>
    /// Further places each call's written tile goes, converted to their regions' types, in storages the node has an
    /// edge to: VTA's GEMM and ALU write every accumulator row also to the output buffer (its low 8 bits), which is
    /// how results leave a storage with no edge to off-chip memory. Each is a view of the written operand's shape
    /// (its <see cref="AcgOperand.Operand"/> names the written operand). Empty for most invocations.
    /// </summary>
    public ImmutableArray<AcgOperand> WriteThrough { get; init; } = [];
}

/// <summary>
/// Where one capability operand's tile is. Operand element (a0, a1, ...) — one index per operand axis, in the order of
/// <see cref="Covenant.Acg.Model.CapabilityOperand.Axes"/> — of the call at loop point (l0, l1, ...) is region element
/// <c>View.Offset + sum(l_d x LoopStrides[d]) + sum(a_e x AxisStrides[e])</c>, where <c>View.Strides</c> are the
/// loop strides.
/// </summary>
/// <param name="Operand">The capability operand's name.</param>
/// <param name="View">The region, the offset of the first call's tile, and the stride of each invocation loop.</param>
/// <param name="AxisStrides">The stride of each of the operand's axes within one tile.</param>
public sealed record AcgOperand(string Operand, AcgView View, ImmutableArray<long> AxisStrides);

/// <summary>The value of one of the capability's immediates for every call of the invocation.</summary>
public sealed record AcgImmediate(string Name, long Value);

/// <summary>
/// Sets a box of a region (the view's shape) to <see cref="Value"/>: clearing accumulators on a graph without a
/// reset capability. It runs on the storage node's own port, one <c>line</c> (or element row) per cycle.
/// </summary>
public sealed record AcgFill(int Id, ImmutableArray<int> After, ImmutableArray<int> Shape, AcgView Target, long Value)
    : AcgInstruction(Id, After);
