using System.Collections.Immutable;
using Covenant.Acg.Model;
using Covenant.Core.Diagnostics;
using Covenant.Runtime.Vta;
using Covenant.Targets.Conformance;
using Covenant.Targets.Vta.Lowering;

namespace Covenant.Targets.Vta;

/// <summary>
/// Everything that keeps the VTA target from compiling for a graph at all, whatever the codelet: every capability
/// must be a VTA instruction and compute what it does (<see cref="VtaInstructionModels"/>: the GEMM, the GEMM reset, the
/// ALU ops), the graph must describe a configuration the lowering reads (<see cref="VtaConfig.FromGraph"/>: buffers, row
/// elements, transfers, instruction fields that fit 128 bits and micro-ops that fit 32) and one it handles (BATCH = 1).
/// </summary>
public static class VtaArchitectureCheck
{
    public static ImmutableArray<Diagnostic> Check(ArchitectureGraph graph)
    {
        ArgumentNullException.ThrowIfNull(graph);
        var diagnostics = ImmutableArray.CreateBuilder<Diagnostic>();
        var gemmReported = false;
        foreach (var node in graph.Compute)
        {
            foreach (var capability in node.Capabilities)
            {
                var found = CheckCapability(node, capability);
                diagnostics.AddRange(found);
                gemmReported |= !found.IsEmpty && ModelBindings.Inputs(capability).Length == 2;
            }
        }

        // The configuration reader finds the GEMM by its form: once the GEMM capability is reported above, its "no GEMM"
        // says the same again, and so does anything it says at a place already reported.
        var reported = diagnostics.Select(d => d.Location).ToHashSet();
        var config = VtaConfig.FromGraph(graph);
        diagnostics.AddRange(config.Diagnostics.Where(d =>
            !reported.Contains(d.Location) &&
            !(gemmReported && (d.Id == VtaDiagnostics.NoGemmCapability.Id || d.Id == VtaDiagnostics.GemmForm.Id))));

        if (config.Succeeded && config.Value!.Batch != 1)
        {
            var gemm = graph.Compute.SelectMany(n => n.Capabilities).FirstOrDefault(c => ModelBindings.Inputs(c).Length == 2);
            diagnostics.Add(VtaLoweringDiagnostics.UnsupportedConfig.Create(gemm?.Location ?? graph.Location,
                $"the VTA lowering supports BATCH = 1; '{graph.Name}' has BATCH = {config.Value.Batch}"));
        }

        return diagnostics.ToImmutable();
    }

    // What a capability can be is read from its declarations, not its statement (which is what is being checked): two
    // tensor inputs make a GEMM, one an ALU op on two rows, an immediate an ALU op with an immediate, nothing a reset.
    private static ImmutableArray<Diagnostic> CheckCapability(ComputeNode node, Capability capability)
    {
        var inputs = ModelBindings.Inputs(capability).Length;
        var immediates = capability.Immediates.Length;
        ImmutableArray<InstructionModel> candidates = (inputs, immediates) switch
        {
            (2, 0) => [VtaInstructionModels.Gemm],
            (1, 0) => VtaInstructionModels.AluWithRow,
            (0, 1) => VtaInstructionModels.AluWithImmediate,
            (0, 0) => [VtaInstructionModels.Reset],
            _ => [],
        };
        if (candidates.IsEmpty)
        {
            return [VtaLoweringDiagnostics.CapabilityDeclaration.Create(capability.Location,
                $"capability '{capability.Name}' of '{node.Name}' reads {inputs} tensor operand(s) and {immediates} immediate(s); no VTA instruction does " +
                "(the GEMM reads two, an ALU op one or an immediate, the GEMM reset none)")];
        }

        var family = inputs == 2 ? "VTA's GEMM" : inputs + immediates == 0 ? "VTA's GEMM reset" : "VTA's ALU instructions (MIN, MAX, ADD, SHR)";
        return CapabilityConformance.Check(node, capability, new ConformanceRules(
            candidates, BindingRule.AnyOrder, family, VtaLoweringDiagnostics.CapabilitySemantics, VtaLoweringDiagnostics.CapabilityDeclaration));
    }
}
