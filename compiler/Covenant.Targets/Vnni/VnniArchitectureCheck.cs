using System.Collections.Immutable;
using Covenant.Acg.Model;
using Covenant.Codelets;
using Covenant.Codelets.Syntax;
using Covenant.Core.Diagnostics;
using Covenant.Runtime.Vnni;
using Covenant.Targets.Conformance;

namespace Covenant.Targets.Vnni;

/// <summary>
/// Everything that keeps the VNNI target from compiling for a graph at all, whatever the codelet: every capability must
/// be an instruction the kernel emits and compute what it does — <c>vpdpbusd</c> in its GEMM use (four u8 of A broadcast
/// to every lane, times the lane's four s8 of B, added to the int32 lane, wrapping) and the epilogue's <c>vpaddd</c>,
/// <c>vpmaxsd</c>, <c>vpminsd</c> (with a register or a broadcast constant) and <c>vpsrad</c> by an imm8 — and the graph
/// must give the ISA the plan reads (<see cref="VnniIsa.FromGraph"/>: lane count, register file, L1 and L2).
/// </summary>
public static class VnniArchitectureCheck
{
    private const string J = "j";
    private const string K = "k";

    private static readonly ModelAxis Lanes = ModelAxis.Fixed(J, "int32 lanes of a zmm or ymm register", 16, 8);

    internal static InstructionModel DotProduct { get; } = new(
        "vpdpbusd", "u8 x s8 -> s32, four products per lane, wrapping", "{c}[{j}] += {a}[{k}] * {b}[{j}, {k}]",
        [Lanes, ModelAxis.Fixed(K, "bytes summed per lane", 4)],
        [ModelOperand.Of("a", ElementType.U8, K), ModelOperand.Of("b", ElementType.I8, J, K)],
        ModelOperand.Of("c", ElementType.I32, J),
        [],
        state =>
        {
            var (lanes, depth) = (state.Extent(J), state.Extent(K));
            var (a, b, c) = (state.Ints("a"), state.Ints("b"), state.Ints("c"));
            for (var j = 0; j < lanes; j++)
            {
                var sum = c[j];
                for (var k = 0; k < depth; k++)
                {
                    sum = unchecked(sum + (a[k] * b[(j * depth) + k]));
                }

                c[j] = sum;
            }
        });

    internal static ImmutableArray<InstructionModel> WithRegister { get; } =
    [
        Lanewise("vpaddd", "{dst}[{j}] + {src}[{j}]", (x, y) => unchecked(x + y), StatementForms.AssignsBinary(BinaryOp.Add)),
        Lanewise("vpmaxsd", "max({dst}[{j}], {src}[{j}])", Math.Max, StatementForms.AssignsCall("max")),
        Lanewise("vpminsd", "min({dst}[{j}], {src}[{j}])", Math.Min, StatementForms.AssignsCall("min")),
    ];

    internal static ImmutableArray<InstructionModel> WithImmediate { get; } =
    [
        Lanewise("vpaddd", "{dst}[{j}] + {imm}", (x, y) => unchecked(x + y), StatementForms.AssignsBinary(BinaryOp.Add), int.MinValue, int.MaxValue),
        Lanewise("vpmaxsd", "max({dst}[{j}], {imm})", Math.Max, StatementForms.AssignsCall("max"), int.MinValue, int.MaxValue),
        Lanewise("vpminsd", "min({dst}[{j}], {imm})", Math.Min, StatementForms.AssignsCall("min"), int.MinValue, int.MaxValue),

        // vpsrad takes an imm8; counts above 31 fill every bit with the sign (unlike a codelet's '>>', which takes them mod 32).
        Lanewise("vpsrad", "{dst}[{j}] >> {imm}", (x, y) => x >> Math.Min(y, 31), StatementForms.AssignsBinary(BinaryOp.ShiftRight), 0, 255),
    ];

    public static ImmutableArray<Diagnostic> Check(ArchitectureGraph graph)
    {
        ArgumentNullException.ThrowIfNull(graph);
        var diagnostics = ImmutableArray.CreateBuilder<Diagnostic>();
        var dotReported = false;
        foreach (var node in graph.Compute)
        {
            foreach (var capability in node.Capabilities)
            {
                var found = CheckCapability(node, capability);
                diagnostics.AddRange(found);
                dotReported |= !found.IsEmpty && ModelBindings.Inputs(capability).Length == 2;
            }
        }

        // The ISA reader finds vpdpbusd by its form; once the capability is reported above, "no vpdpbusd" or "unsupported
        // width" (from the same capability) say the same again.
        var isa = VnniIsa.FromGraph(graph);
        diagnostics.AddRange(isa.Diagnostics.Where(d =>
            !(dotReported && (d.Id == VnniIsaDiagnostics.NoDotProduct.Id || d.Id == VnniIsaDiagnostics.UnsupportedWidth.Id))));
        return diagnostics.ToImmutable();
    }

    private static ImmutableArray<Diagnostic> CheckCapability(ComputeNode node, Capability capability)
    {
        var inputs = ModelBindings.Inputs(capability).Length;
        ImmutableArray<InstructionModel> candidates = (inputs, capability.Immediates.Length) switch
        {
            (2, 0) => [DotProduct],
            (1, 0) => WithRegister,
            (0, 1) => WithImmediate,
            _ => [],
        };
        if (candidates.IsEmpty)
        {
            return [VnniDiagnostics.CapabilityDeclaration.Create(capability.Location,
                $"capability '{capability.Name}' of '{node.Name}' reads {inputs} tensor operand(s) and {capability.Immediates.Length} immediate(s); " +
                "the VNNI target emits vpdpbusd (two) and element-wise vpaddd, vpmaxsd, vpminsd (one, or an immediate) and vpsrad (an immediate)")];
        }

        var family = inputs == 2 ? "vpdpbusd" : "the VNNI target's element-wise instructions (vpaddd, vpmaxsd, vpminsd, vpsrad)";
        return CapabilityConformance.Check(node, capability, new ConformanceRules(
            candidates, BindingRule.AnyOrder, family, VnniDiagnostics.CapabilitySemantics, VnniDiagnostics.CapabilityDeclaration));
    }

    private static InstructionModel Lanewise(string name, string value, Func<int, int, int> apply, Func<StatementSyntax, bool> claims) =>
        Lanewise(name, value, apply, claims, null, null);

    private static InstructionModel Lanewise(string name, string value, Func<int, int, int> apply, Func<StatementSyntax, bool> claims, long? min, long? max)
    {
        var immediate = min is not null;
        return new InstructionModel(
            immediate ? $"{name} with a constant" : name,
            name == "vpaddd" ? "i32, wrapping" : "i32",
            "{dst}[{j}] = " + value,
            [Lanes],
            immediate ? [] : [ModelOperand.Of("src", ElementType.I32, J)],
            ModelOperand.Of("dst", ElementType.I32, J),
            immediate ? [new ModelImmediate("imm", ElementType.I32, min!.Value, max!.Value)] : [],
            state =>
            {
                var dst = state.Ints("dst");
                var src = immediate ? null : state.Ints("src");
                var imm = immediate ? (int)state.Immediate("imm") : 0;
                for (var l = 0; l < dst.Length; l++)
                {
                    dst[l] = apply(dst[l], src is null ? imm : src[l]);
                }
            })
        {
            Claims = claims,
        };
    }
}
