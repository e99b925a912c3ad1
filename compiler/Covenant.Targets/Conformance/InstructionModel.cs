using System.Collections.Immutable;
using Covenant.Codelets;

namespace Covenant.Targets.Conformance;

/// <summary>
/// One axis of an instruction's iteration space (VTA's BLOCK_IN, an mma's k). <see cref="Extents"/> lists the extents
/// the instruction exists in (empty: any the hardware is configured with).
/// </summary>
public sealed record ModelAxis(string Name, string Meaning, ImmutableArray<int> Extents)
{
    public static ModelAxis Any(string name, string meaning) => new(name, meaning, []);

    public static ModelAxis Fixed(string name, string meaning, params int[] extents) => new(name, meaning, [.. extents]);
}

/// <summary>
/// The values an operand is defined for, as integers <c>Min..Max</c> times <see cref="Step"/>: a type's whole range, or
/// fewer where the instruction's meaning is not portable (VTA's shift amounts), or, for floats, a grid on which every
/// product and sum the instruction forms is exact in f32, so any summation order gives the same bits.
/// </summary>
public sealed record ValueDomain(long Min, long Max, double Step = 1)
{
    public static ValueDomain Of(ElementType type) => type switch
    {
        ElementType.I8 => new(sbyte.MinValue, sbyte.MaxValue),
        ElementType.U8 => new(byte.MinValue, byte.MaxValue),
        ElementType.I32 => new(int.MinValue, int.MaxValue),
        // Eighths up to 16: products need 14 bits (so an f16 rounding of one shows) and sums of thousands stay exact in f32.
        ElementType.F16 => new(-128, 128, 0.125),
        _ => new(-4096, 4096, 0.25),
    };
}

/// <summary>A tensor operand of an instruction: its element type, its axes in the order the instruction lays it out, its values.</summary>
public sealed record ModelOperand(string Role, ElementType Type, ImmutableArray<string> Axes, ValueDomain Values)
{
    public static ModelOperand Of(string role, ElementType type, params string[] axes) => new(role, type, [.. axes], ValueDomain.Of(type));
}

/// <summary>A scalar the instruction encodes (an ALU immediate) and the values its field holds.</summary>
public sealed record ModelImmediate(string Role, ElementType Type, long Min, long Max);

/// <summary>
/// The instruction's own computation on one issue: reads the inputs (and the output's initial values) from
/// <paramref name="state"/> in the canonical layouts, and overwrites the output there.
/// </summary>
public delegate void InstructionKernel(ModelState state);

/// <summary>
/// An instruction a target emits, as that target's hardware defines it, independent of any YAML: what a capability
/// the target binds to it must compute. <see cref="Template"/> is its semantics with <c>{role}</c> and <c>{axis}</c>
/// placeholders, shown in the capability's own names when a capability differs from it.
/// </summary>
/// <param name="Name">How the hardware's documentation calls it: <c>vpdpbusd</c>, <c>VTA's GEMM</c>.</param>
/// <param name="Types">Its types in words, for messages: <c>u8 x s8 -> s32, wrapping</c>.</param>
public sealed record InstructionModel(
    string Name,
    string Types,
    string Template,
    ImmutableArray<ModelAxis> Axes,
    ImmutableArray<ModelOperand> Inputs,
    ModelOperand Output,
    ImmutableArray<ModelImmediate> Immediates,
    InstructionKernel Kernel)
{
    /// <summary>
    /// Whether a statement's top-level form claims to be this instruction (<c>max(...)</c> for MAX): only chooses which
    /// instruction a message about a capability that matches none of them compares it with.
    /// </summary>
    public Func<Codelets.Syntax.StatementSyntax, bool> Claims { get; init; } = _ => false;

    public IEnumerable<ModelOperand> Operands => Inputs.Append(Output);

    /// <summary>The semantics in a capability's names (<paramref name="binding"/>), e.g. <c>acc[i, j] += inp[i, k] * wgt[j, k]</c>.</summary>
    public string Render(ModelBinding binding)
    {
        ArgumentNullException.ThrowIfNull(binding);
        var text = Template;
        foreach (var (role, name) in binding.Operands.Concat(binding.Immediates).Concat(binding.Axes))
        {
            text = text.Replace("{" + role + "}", name, StringComparison.Ordinal);
        }

        return text;
    }
}

/// <summary>
/// Which capability element plays which part of an instruction: model axis to capability axis, model operand role to
/// capability operand, model immediate to capability immediate.
/// </summary>
public sealed record ModelBinding(
    ImmutableDictionary<string, string> Axes,
    ImmutableDictionary<string, string> Operands,
    ImmutableDictionary<string, string> Immediates);

/// <summary>One issue's operands in the canonical layouts (row-major over <see cref="ModelOperand.Axes"/>), for a kernel.</summary>
public sealed class ModelState(
    IReadOnlyDictionary<string, int> extents,
    IReadOnlyDictionary<string, int[]> integers,
    IReadOnlyDictionary<string, float[]> floats,
    IReadOnlyDictionary<string, long> immediates)
{
    public int Extent(string axis) => extents[axis];

    public int[] Ints(string role) => integers[role];

    public float[] Floats(string role) => floats[role];

    public long Immediate(string role) => immediates[role];
}
