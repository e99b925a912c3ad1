using System.Collections.Immutable;
using System.Diagnostics;
using Covenant.Acg;
using Covenant.Acg.Model;
using Covenant.Codelets.Semantics;
using Covenant.Core.Diagnostics;
using Covenant.Runtime.Reference;
using Covenant.Runtime.Artifacts;

namespace Covenant.Runtime.Execution;

/// <summary>An artifact directory read back: its manifest and the codelet instance and graph it was compiled from.</summary>
public sealed record LoadedArtifact(string Directory, ArtifactManifest Manifest, CodeletInstance Instance, ArchitectureGraph Graph)
{
    public string PathOf(string file) => Path.Combine(Directory, file);
}

public sealed record RunOptions
{
    public static RunOptions Default { get; } = new();

    public ulong Seed { get; init; } = 1;

    /// <summary>Use the simulator even where the hardware could run the artifact natively.</summary>
    public bool ForceSimulation { get; init; }
}

/// <summary>What executing an artifact produced: the outputs, how it ran, and the target's measurements.</summary>
/// <param name="Engine">How it ran, e.g. "VTA simulator" or "native AVX-512 VNNI".</param>
public sealed record Execution(
    IReadOnlyDictionary<string, TensorData> Outputs,
    string Engine,
    double? Cycles,
    double? Seconds,
    double? Utilization,
    ImmutableDictionary<string, double> Metrics);

/// <summary>Runs the artifacts of one target. Executors are looked up by the manifest's target name.</summary>
public interface IArtifactExecutor
{
    string Target { get; }

    Result<Execution> Execute(LoadedArtifact artifact, IReadOnlyDictionary<string, TensorData> inputs, RunOptions options);
}

public sealed record OutputCheck(string Tensor, ComparisonResult Comparison);

/// <summary>The verdict of a run: every output compared with the reference interpreter on the same inputs.</summary>
public sealed record RunReport(LoadedArtifact Artifact, Execution Execution, ImmutableArray<OutputCheck> Checks, ulong Seed)
{
    public bool Match => Checks.All(c => c.Comparison.Matches);
}

public static class RunDiagnostics
{
    public static readonly DiagnosticDescriptor NoExecutor = new("COV6001", "no executor for the target");
    public static readonly DiagnosticDescriptor BrokenArtifact = new("COV6002", "the artifact does not load");
}

/// <summary>
/// Runs an artifact: reads it, generates seeded inputs, executes with the target's executor, runs the reference
/// interpreter on the same inputs and compares every output (exactly for integers).
/// </summary>
public static class ArtifactRunner
{
    public static Result<LoadedArtifact> Load(string directory)
    {
        var manifest = ArtifactManifest.Read(directory);
        if (!manifest.Succeeded)
        {
            return Result<LoadedArtifact>.Failure(manifest.Diagnostics);
        }

        var codelet = CodeletLoader.Load(Path.Combine(directory, manifest.Value.CodeletFile));
        var graph = AcgLoader.Load(Path.Combine(directory, manifest.Value.ArchitectureFile));
        var diagnostics = codelet.Diagnostics.AddRange(graph.Diagnostics);
        if (!codelet.Succeeded || !graph.Succeeded)
        {
            return Result<LoadedArtifact>.Failure(diagnostics);
        }

        var instance = codelet.Value.Instantiate(manifest.Value.Bindings);
        if (!instance.Succeeded)
        {
            return Result<LoadedArtifact>.Failure(instance.Diagnostics);
        }

        return Result<LoadedArtifact>.Success(new LoadedArtifact(directory, manifest.Value, instance.Value, graph.Value));
    }

    public static Result<RunReport> Run(string directory, RunOptions options, IEnumerable<IArtifactExecutor> executors)
    {
        var loaded = Load(directory);
        if (!loaded.Succeeded)
        {
            return Result<RunReport>.Failure(loaded.Diagnostics);
        }

        var artifact = loaded.Value;
        var executor = executors.FirstOrDefault(e => e.Target == artifact.Manifest.Target);
        if (executor is null)
        {
            return Result<RunReport>.Failure(RunDiagnostics.NoExecutor.Create(SourceLocation.OfFile(directory),
                $"no executor for target '{artifact.Manifest.Target}' in this build"));
        }

        var inputs = RandomTensors.Inputs(artifact.Instance, options.Seed);
        var execution = executor.Execute(artifact, inputs, options);
        if (!execution.Succeeded)
        {
            return Result<RunReport>.Failure(execution.Diagnostics);
        }

        var expected = ReferenceInterpreter.Run(artifact.Instance, inputs);
        var checks = ImmutableArray.CreateBuilder<OutputCheck>();
        foreach (var (name, reference) in expected)
        {
            if (!execution.Value.Outputs.TryGetValue(name, out var actual))
            {
                throw new UnreachableException($"executor for '{executor.Target}' did not produce output '{name}'");
            }

            var tolerance = reference.IsInteger ? (double?)null : 1e-3;
            checks.Add(new OutputCheck(name, ResultComparer.Compare(reference, actual, tolerance)));
        }

        return Result<RunReport>.Success(new RunReport(artifact, execution.Value, checks.ToImmutable(), options.Seed), execution.Diagnostics);
    }
}
