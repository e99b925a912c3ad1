using System.Collections.Immutable;
using Covenant.Mapping.Model;
using Covenant.Mapping.Search;
using Covenant.Runtime;
using Covenant.Runtime.Execution;
using Covenant.Runtime.Artifacts;

namespace Covenant.Targets;

/// <summary>
/// The measurer most targets share: lower the mapping, hold the files in memory (nothing is written), execute them with
/// the target's executor on the seeded inputs <c>covenantc run</c> uses, and take its cycles, else its seconds, else
/// the simulator's instruction count.
/// </summary>
public sealed class ExecutorMeasurer(TargetRegistration target) : IMappingMeasurer
{
    private readonly Dictionary<Covenant.Codelets.Semantics.CodeletInstance, IReadOnlyDictionary<string, TensorData>> inputs = [];

    public string Engine => $"{target.Name} executor (cycles, else seconds)";

    // Native times vary from run to run; a simulator's counts do not, but which one runs is known only per execution.
    public bool Deterministic => false;

    public Measurement Measure(LayerMapping mapping, CancellationToken cancellation)
    {
        ArgumentNullException.ThrowIfNull(mapping);
        var output = target.Pass.Lower(mapping, TargetOptions.Default);
        if (!output.Succeeded)
        {
            return Measurement.Failed("lowering: " + (output.Diagnostics.FirstOrDefault(d => d.IsError)?.Message ?? "failed"));
        }

        if (!inputs.TryGetValue(mapping.Instance, out var tensors))
        {
            inputs[mapping.Instance] = tensors = RandomTensors.Inputs(mapping.Instance, 1);
        }

        var run = target.Executor.Execute(InMemoryArtifact.Of(mapping, output.Value), tensors, RunOptions.Default);
        if (!run.Succeeded)
        {
            return Measurement.Failed("run: " + (run.Diagnostics.FirstOrDefault(d => d.IsError)?.Message ?? "failed"));
        }

        var execution = run.Value;
        var cost = execution.Cycles ?? execution.Seconds ?? (execution.Metrics.TryGetValue("simulatedVectorInstructions", out var n) ? n : null);
        return cost is { } value ? Measurement.Of(value) : Measurement.Failed("the executor reported no time");
    }

    public double? LowerBound(LayerMapping mapping) => target.LowerBound?.Invoke(mapping);
}

/// <summary>An artifact that exists only in memory: a target's output for a mapping, as an executor reads it.</summary>
public static class InMemoryArtifact
{
    /// <summary>The artifact of <paramref name="output"/>; its manifest records <paramref name="bindings"/> (default: every size of the instance).</summary>
    public static LoadedArtifact Of(LayerMapping mapping, TargetOutput output, IReadOnlyDictionary<string, long>? bindings = null)
    {
        ArgumentNullException.ThrowIfNull(mapping);
        ArgumentNullException.ThrowIfNull(output);
        var files = output.Files.ToDictionary(f => f.Name, f => f.Contents, StringComparer.Ordinal);
        files[ArtifactManifest.Listing] = System.Text.Encoding.UTF8.GetBytes(output.Listing);
        var manifest = new ArtifactManifest(
            ArtifactManifest.CurrentFormatVersion,
            mapping.Instance.Name,
            ArtifactManifest.CodeletCopy,
            ArtifactManifest.ArchitectureCopy,
            mapping.Graph.Name,
            mapping.Graph.Target,
            (bindings ?? mapping.Instance.Sizes).ToImmutableSortedDictionary(StringComparer.Ordinal),
            [.. output.Files.Select(f => f.Name)],
            output.PredictedCycles,
            "memory");
        return ArtifactRunner.InMemory(ArtifactFiles.InMemory($"(in-memory artifact of {mapping.Instance.Name})", files), manifest, mapping.Instance, mapping.Graph);
    }
}
