using System.Collections.Immutable;
using Covenant.Acg.Model;
using Covenant.Codelets;
using Covenant.Core.Diagnostics;
using Covenant.Targets.Conformance;

namespace Covenant.Targets.TensorCore;

/// <summary>
/// Everything that keeps the TensorCore target from compiling for a graph at all, whatever the codelet: every capability
/// must be one of the two <c>mma.sync</c> forms the kernel issues and compute what it does, <c>D = A * B + C</c> with A
/// row-major M x K, B K x N and C = D in place (f16 x f16 -> f32, or s8 x s8 -> s32 wrapping); the target reads the
/// operands <c>a</c>, <c>b</c> and the axes <c>i</c>, <c>j</c>, <c>k</c> by name. The accumulator's register file
/// needs shared memory beside it (an <c>ldmatrix</c> edge into it, or a <c>cp.async</c> edge).
/// </summary>
public static class TensorCoreArchitectureCheck
{
    private const string Template = "{d}[{i}, {j}] += {a}[{i}, {k}] * {b}[{k}, {j}]";

    internal static ImmutableArray<InstructionModel> Mma { get; } =
    [
        Model("mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32", "f16 x f16 -> f32", ElementType.F16, ElementType.F32, 16),
        Model("mma.sync.aligned.m16n8k32.row.col.s32.s8.s8.s32", "s8 x s8 -> s32, wrapping", ElementType.I8, ElementType.I32, 32),
    ];

    public static ImmutableArray<Diagnostic> Check(ArchitectureGraph graph)
    {
        ArgumentNullException.ThrowIfNull(graph);
        var diagnostics = ImmutableArray.CreateBuilder<Diagnostic>();
        var rules = new ConformanceRules(Mma, BindingRule.ByName, "the mma.sync forms this target issues (m16n8k16 f16, m16n8k32 s8)",
            TensorCoreDiagnostics.CapabilitySemantics, TensorCoreDiagnostics.UnsupportedCapability);
        foreach (var node in graph.Compute)
        {
            foreach (var capability in node.Capabilities)
            {
                diagnostics.AddRange(CapabilityConformance.Check(node, capability, rules));
            }
        }

        // The kernel stages tiles in shared memory and fills the registers from it (TensorCorePlanning's Memory step).
        var registerFiles = graph.Compute.SelectMany(n => n.Capabilities).Select(c => c.Output.Storage).Distinct(StringComparer.Ordinal);
        foreach (var registers in registerFiles)
        {
            var shared = graph.Edges.FirstOrDefault(e => e.To == registers && e.Transfer == "ldmatrix")?.From
                ?? graph.Edges.FirstOrDefault(e => e.Transfer == "cp.async")?.To;
            if (shared is null || graph.FindNode(shared) is not StorageNode)
            {
                diagnostics.Add(TensorCoreDiagnostics.MissingStorage.Create(graph.FindNode(registers)?.Location ?? graph.Location,
                    $"'{graph.Name}' has no shared memory: no 'ldmatrix' edge into '{registers}' and no 'cp.async' edge"));
            }
        }

        return diagnostics.ToImmutable();
    }

    private static InstructionModel Model(string name, string types, ElementType input, ElementType accumulator, int depth) => new(
        name, types, Template,
        [ModelAxis.Fixed("i", "m, rows of A and D", 16), ModelAxis.Fixed("j", "n, columns of B and D", 8), ModelAxis.Fixed("k", "k, the reduction", depth)],
        [ModelOperand.Of("a", input, "i", "k"), ModelOperand.Of("b", input, "k", "j")],
        ModelOperand.Of("d", accumulator, "i", "j"),
        [],
        accumulator == ElementType.I32 ? MultiplyAccumulateIntegers : MultiplyAccumulateFloats);

    private static void MultiplyAccumulateIntegers(ModelState state)
    {
        var (m, n, depth) = (state.Extent("i"), state.Extent("j"), state.Extent("k"));
        var (a, b, d) = (state.Ints("a"), state.Ints("b"), state.Ints("d"));
        for (var row = 0; row < m; row++)
        {
            for (var column = 0; column < n; column++)
            {
                var sum = d[(row * n) + column];
                for (var k = 0; k < depth; k++)
                {
                    sum = unchecked(sum + (a[(row * depth) + k] * b[(k * n) + column]));
                }

                d[(row * n) + column] = sum;
            }
        }
    }

    // The hardware's summation order is unspecified; the check's values make every product and partial sum exact in
    // f32 (ValueDomain), so the exact sum is what any order gives.
    private static void MultiplyAccumulateFloats(ModelState state)
    {
        var (m, n, depth) = (state.Extent("i"), state.Extent("j"), state.Extent("k"));
        var (a, b, d) = (state.Floats("a"), state.Floats("b"), state.Floats("d"));
        for (var row = 0; row < m; row++)
        {
            for (var column = 0; column < n; column++)
            {
                double sum = d[(row * n) + column];
                for (var k = 0; k < depth; k++)
                {
                    sum += (double)a[(row * depth) + k] * b[(k * n) + column];
                }

                d[(row * n) + column] = (float)sum;
            }
        }
    }
}
