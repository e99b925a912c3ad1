using System.Collections.Immutable;
using System.Diagnostics;
using Covenant.Compiler;
using Covenant.Core.Diagnostics;
using Covenant.Mapping;
using Covenant.Onnx.Import;
using Covenant.Runtime;
using Covenant.Runtime.Execution;
using Covenant.Runtime.Reference;
using Covenant.Targets;

namespace Covenant.Onnx.Network;

/// <summary>
/// Compiles each layer for an architecture (once per distinct codelet and shape) and runs it with the target's
/// executor on the network's own operands, checking it against the reference interpreter. A layer that does not map
/// on the architecture runs on the host's reference interpreter instead, and says why. With
/// <see cref="ArtifactDirectory"/>, each compiled layer's artifact is kept in <c>ArtifactDirectory/LAYER</c> (the layer's
/// unique, sanitized name) so that <c>covenantc run</c> reruns it alone.
/// </summary>
public sealed class ArchitectureLayerExecutor(string architecturePath, string codeletDirectory, RegisteredTargets targets, bool simulate = false) : ILayerExecutor
{
    private readonly Dictionary<string, (Compilation? Compiled, string? Why, double Seconds)> compilations = new(StringComparer.Ordinal);
    private readonly List<Diagnostic> artifactDiagnostics = [];

    /// <summary>Where to keep each compiled layer's artifact (one folder per layer); null keeps them in memory only.</summary>
    public string? ArtifactDirectory { get; init; }

    /// <summary>Artifacts that could not be written (the layer still ran from memory).</summary>
    public IReadOnlyList<Diagnostic> ArtifactDiagnostics => artifactDiagnostics;

    public LayerExecution Execute(CodeletLayer layer, IReadOnlyDictionary<string, TensorData> operands)
    {
        ArgumentNullException.ThrowIfNull(layer);
        ArgumentNullException.ThrowIfNull(operands);
        var (compiled, why, compileSeconds) = Compile(layer);
        var instance = ReferenceLayerExecutor.Instantiate(codeletDirectory, layer);
        var reference = ReferenceInterpreter.Run(instance, operands).Values.Single();
        if (compiled is null)
        {
            return new LayerExecution(reference, $"host (reference interpreter: {why})", false, null, null, null, compileSeconds, null);
        }

        var kept = Keep(layer, compiled);
        var artifact = InMemoryArtifact.Of(compiled.Mapping, compiled.Output, layer.Bindings);
        var executor = targets.Executors.FirstOrDefault(e => e.Target == artifact.Manifest.Target);
        if (executor is null)
        {
            return new LayerExecution(reference, $"host (reference interpreter: no executor for target {artifact.Manifest.Target})", false,
                null, null, null, compileSeconds, null);
        }

        var clock = Stopwatch.StartNew();
        var run = executor.Execute(artifact, operands, RunOptions.Default with { ForceSimulation = simulate });
        if (!run.Succeeded)
        {
            var first = run.Diagnostics.FirstOrDefault()?.Message ?? "the executor failed";
            return new LayerExecution(reference, $"host (reference interpreter: {first})", false, null, null, null, compileSeconds, null);
        }

        var execution = run.Value;
        var result = execution.Outputs.Values.Single();
        return new LayerExecution(result, execution.Engine, true, execution.Cycles, execution.Seconds ?? clock.Elapsed.TotalSeconds,
            execution.Utilization, compileSeconds, result.Equals(reference))
        {
            Timing = execution.Timing.ToString().ToLowerInvariant(),
            Artifact = kept,
        };
    }

    /// <summary>Writes the layer's artifact under <see cref="ArtifactDirectory"/>; the folder written, or null.</summary>
    private string? Keep(CodeletLayer layer, Compilation compiled)
    {
        if (ArtifactDirectory is not { } root)
        {
            return null;
        }

        var directory = Path.Combine(root, layer.LayerName);
        var written = CompilerPipeline.WriteArtifact(compiled, directory);
        artifactDiagnostics.AddRange(written.Diagnostics);
        return written.Succeeded ? directory : null;
    }

    private (Compilation? Compiled, string? Why, double Seconds) Compile(CodeletLayer layer)
    {
        var key = layer.Codelet + ":" + string.Join(",", layer.Bindings.OrderBy(b => b.Key, StringComparer.Ordinal));
        if (compilations.TryGetValue(key, out var known))
        {
            return (known.Compiled, known.Why, 0);
        }

        var clock = Stopwatch.StartNew();
        var request = new CompileRequest(Path.Combine(codeletDirectory, layer.Codelet + ".cdlt"), architecturePath,
            layer.Bindings.ToImmutableDictionary(StringComparer.Ordinal), MapperOptions.Default, TargetOptions.Default);
        var compiled = CompilerPipeline.Compile(request, targets.Passes);
        var entry = compiled.Succeeded
            ? (compiled.Value, (string?)null, clock.Elapsed.TotalSeconds)
            : ((Compilation?)null, $"does not map: {compiled.Diagnostics.FirstOrDefault(d => d.IsError)?.Message ?? "no mapping"}", clock.Elapsed.TotalSeconds);
        compilations[key] = entry;
        return entry;
    }
}
