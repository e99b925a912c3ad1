using Covenant.Acg.Model;
using Covenant.Codelets.Semantics;
using Covenant.Mapping.Model;
using Covenant.Mapping.Search;
using Covenant.Runtime;
using Covenant.Runtime.Artifacts;
using Covenant.Runtime.Vta;
using Covenant.Targets.Vta;
using Covenant.Targets.Vta.Lowering;

namespace Covenant.Targets.Vta;

/// <summary>
/// VTA's measurer for <c>tune</c>: lowers a mapping to a VTA program and runs it on the cycle-counting simulator, in
/// memory, without even encoding the program to files. Inputs are the seeded tensors <c>covenantc run</c> uses; the
/// cycle count does not depend on them.
/// </summary>
public sealed class VtaSimulatorMeasurer(VtaConfig config, Func<LayerMapping, double?>? bound) : IMappingMeasurer
{
    private readonly Dictionary<CodeletInstance, IReadOnlyDictionary<string, TensorData>> inputs = [];

    public string Engine => "VTA simulator cycles";

    /// <summary>The <see cref="MeasurerFactory"/> of VTA's registration: null when the YAML is not a VTA configuration.</summary>
    public static IMappingMeasurer? Create(TargetRegistration target, ArchitectureGraph graph)
    {
        ArgumentNullException.ThrowIfNull(target);
        return VtaConfig.FromGraph(graph) is { Succeeded: true } config ? new VtaSimulatorMeasurer(config.Value, target.LowerBound) : null;
    }

    /// <summary>VTA's lower bound: the busiest module's work with no stall (<see cref="VtaBounds"/>).</summary>
    public static double? Bound(LayerMapping mapping)
    {
        ArgumentNullException.ThrowIfNull(mapping);
        return VtaConfig.FromGraph(mapping.Graph) is { Succeeded: true } config ? VtaBounds.Of(mapping, config.Value).Cycles : null;
    }

    public Measurement Measure(LayerMapping mapping, CancellationToken cancellation)
    {
        ArgumentNullException.ThrowIfNull(mapping);
        var lowered = VtaLowering.Lower(mapping, config, VtaLoweringOptions.Default);
        if (!lowered.Succeeded)
        {
            return Measurement.Failed("lowering: " + (lowered.Diagnostics.FirstOrDefault(d => d.IsError)?.Message ?? "failed"));
        }

        if (!inputs.TryGetValue(mapping.Instance, out var tensors))
        {
            inputs[mapping.Instance] = tensors = RandomTensors.Inputs(mapping.Instance, 1);
        }

        var program = lowered.Value;
        var result = new VtaSimulator(program.Config).Run(program.Instructions, VtaImage.Build(program, tensors));
        return result.Succeeded
            ? Measurement.Of(result.Statistics.TotalCycles)
            : Measurement.Failed("simulation: " + (result.Issues.FirstOrDefault(i => i.IsError)?.Message ?? "did not finish"));
    }

    public double? LowerBound(LayerMapping mapping) => bound?.Invoke(mapping);
}
