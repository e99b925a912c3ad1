using System.Collections.Immutable;
using System.Diagnostics;
using Covenant.Acg;
using Covenant.Acg.Model;
using Covenant.Codelets.Semantics;
using Covenant.Core.Diagnostics;
using Covenant.Runtime.Reference;
using Covenant.Runtime.Artifacts;

namespace Covenant.Runtime.Execution;

/// <summary>
/// An artifact read back (from its directory, or held in memory): its files, its manifest and the codelet instance and
/// graph it was compiled from.
/// </summary>
public sealed record LoadedArtifact(ArtifactFiles Files, ArtifactManifest Manifest, CodeletInstance Instance, ArchitectureGraph Graph)
{
    /// <summary>Where the artifact is, for diagnostics: its directory or an in-memory label.</summary>
    public string Directory => Files.Location;
}

public sealed record RunOptions
{
    public static RunOptions Default { get; } = new();

    public ulong Seed { get; init; } = 1;

    /// <summary>Use the simulator even where the hardware could run the artifact natively.</summary>
    public bool ForceSimulation { get; init; }

    /// <summary>
    /// Start the host's image from seeded garbage and zero only what the artifact says must be zero (VTA's
    /// <c>mustBeZero</c> ranges); only an <see cref="IDramImageExecutor"/> accepts it.
    /// </summary>
    public bool DramGarbage { get; init; }
}

/// <summary>What an execution's times are.</summary>
public enum TimingSource
{
    /// <summary>
    /// A simulator ran it: its cycles (when it gives any) are the simulated count; its seconds are its own run time,
    /// not the hardware's.
    /// </summary>
    Simulated,

    /// <summary>Real hardware ran it and a clock timed it: the seconds (or cycles) are the measurement.</summary>
    Measured,
}

/// <summary>What executing an artifact produced: the outputs, how it ran, and the target's measurements.</summary>
/// <param name="Engine">How it ran, e.g. "VTA simulator" or "native AVX-512 VNNI"; for people, never parsed.</param>
public sealed record Execution(
    IReadOnlyDictionary<string, TensorData> Outputs,
    string Engine,
    double? Cycles,
    double? Seconds,
    double? Utilization,
    ImmutableDictionary<string, double> Metrics)
{
    /// <summary>What <see cref="Cycles"/> and <see cref="Seconds"/> are; each executor says so explicitly.</summary>
    public required TimingSource Timing { get; init; }
}

/// <summary>Runs the artifacts of one target. Executors are looked up by the manifest's target name.</summary>
public interface IArtifactExecutor
{
    string Target { get; }

    Result<Execution> Execute(LoadedArtifact artifact, IReadOnlyDictionary<string, TensorData> inputs, RunOptions options);

    /// <summary>
    /// What is wrong with the artifact's target files, checked against its codelet instance before any input is
    /// generated: a file edited to disagree with the bindings (or bindings edited to disagree with the files) is refused
    /// before tensors of the bindings' sizes are allocated. <see cref="Execute"/> checks the same; the default checks nothing.
    /// </summary>
    ImmutableArray<Diagnostic> Check(LoadedArtifact artifact) => [];
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

    /// <summary>
    /// COV6002 for an artifact whose file could not be read: for a JSON file edited by hand, where in
    /// <paramref name="file"/> it stopped making sense (System.Text.Json's own text names .NET types, not the artifact).
    /// </summary>
    public static Diagnostic Broken(SourceLocation location, string file, Exception exception)
    {
        ArgumentNullException.ThrowIfNull(location);
        ArgumentNullException.ThrowIfNull(exception);
        if (exception is not System.Text.Json.JsonException json)
        {
            return BrokenArtifact.Create(location, exception.Message);
        }

        // Positioned in the JSON file itself when it is one file of the artifact's folder.
        var path = Path.Combine(location.File, file);
        return BrokenArtifact.Create(File.Exists(path) ? JsonLocation(json, path) : location,
            $"{file} is not what the compiler wrote{JsonPath(json)}; recompile the artifact");
    }

    /// <summary>Where in <paramref name="path"/> a JSON error stopped, one-based; the file alone when the reader did not say.</summary>
    public static SourceLocation JsonLocation(System.Text.Json.JsonException json, string path)
    {
        ArgumentNullException.ThrowIfNull(json);
        return json.LineNumber is { } line ? new SourceLocation(path, (int)line + 1, (int)(json.BytePositionInLine ?? 0) + 1) : SourceLocation.OfFile(path);
    }

    /// <summary>" (at $.path)" for a JSON error below the document's root, else nothing.</summary>
    public static string JsonPath(System.Text.Json.JsonException json)
    {
        ArgumentNullException.ThrowIfNull(json);
        return json.Path is { Length: > 1 } at ? $" (at {at})" : "";
    }
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

        var escapes = new[] { manifest.Value.CodeletFile, manifest.Value.ArchitectureFile }
            .Select(name => ArtifactFiles.Escape(directory, name)).OfType<string>()
            .Select(reason => ArtifactManifest.OutsideTheArtifact.Create(SourceLocation.OfFile(Path.Combine(directory, ArtifactManifest.FileName)), reason))
            .ToImmutableArray();
        if (!escapes.IsEmpty)
        {
            return Result<LoadedArtifact>.Failure(escapes);
        }

        var absent = new[] { ("$.codeletFile", manifest.Value.CodeletFile), ("$.architectureFile", manifest.Value.ArchitectureFile) }
            .Where(named => !File.Exists(Path.Combine(directory, named.Item2)))
            .Select(named => RunDiagnostics.BrokenArtifact.Create(SourceLocation.OfFile(Path.Combine(directory, ArtifactManifest.FileName)),
                $"{ArtifactManifest.FileName} at {named.Item1}: the artifact has no file '{named.Item2}'; recompile the artifact"))
            .ToImmutableArray();
        if (!absent.IsEmpty)
        {
            return Result<LoadedArtifact>.Failure(absent);
        }

        var codelet = CodeletLoader.Load(Path.Combine(directory, manifest.Value.CodeletFile));
        var graph = AcgLoader.Load(Path.Combine(directory, manifest.Value.ArchitectureFile));
        return Assemble(ArtifactFiles.InDirectory(directory), manifest.Value, codelet, graph);
    }

    /// <summary>
    /// An artifact that is only in memory (the tuner's candidates): <paramref name="files"/> hold the target's files,
    /// and the codelet and graph are given as loaded rather than read back from copies.
    /// </summary>
    public static LoadedArtifact InMemory(ArtifactFiles files, ArtifactManifest manifest, CodeletInstance instance, ArchitectureGraph graph) =>
        new(files, manifest, instance, graph);

    private static Result<LoadedArtifact> Assemble(ArtifactFiles files, ArtifactManifest manifest, Result<CheckedCodelet> codelet, Result<ArchitectureGraph> graph)
    {
        var diagnostics = codelet.Diagnostics.AddRange(graph.Diagnostics);
        if (!codelet.Succeeded || !graph.Succeeded)
        {
            return Result<LoadedArtifact>.Failure(diagnostics);
        }

        var instance = codelet.Value.Instantiate(manifest.Bindings);
        if (!instance.Succeeded)
        {
            // The codelet is the compiler's copy, so bindings that do not instantiate it were edited in the manifest.
            var at = SourceLocation.OfFile(files.Directory is { } directory ? Path.Combine(directory, ArtifactManifest.FileName) : files.Location);
            return Result<LoadedArtifact>.Failure([.. instance.Diagnostics.Select(d => d with
            {
                Location = at,
                Message = $"{ArtifactManifest.FileName} at $.bindings: {d.Message}; recompile the artifact",
            })]);
        }

        return Result<LoadedArtifact>.Success(new LoadedArtifact(files, manifest, instance.Value, graph.Value));
    }

    public static Result<RunReport> Run(string directory, RunOptions options, IEnumerable<IArtifactExecutor> executors)
    {
        var loaded = Load(directory);
        return loaded.Succeeded ? Run(loaded.Value, options, executors) : Result<RunReport>.Failure(loaded.Diagnostics);
    }

    /// <summary>Runs a loaded artifact (from a directory or in memory) and checks it against the reference.</summary>
    public static Result<RunReport> Run(LoadedArtifact artifact, RunOptions options, IEnumerable<IArtifactExecutor> executors)
    {
        ArgumentNullException.ThrowIfNull(artifact);
        var executor = executors.FirstOrDefault(e => e.Target == artifact.Manifest.Target);
        if (executor is null)
        {
            return Result<RunReport>.Failure(RunDiagnostics.NoExecutor.Create(SourceLocation.OfFile(Path.Combine(artifact.Directory, ArtifactManifest.FileName)),
                $"{ArtifactManifest.FileName} at $.target: no executor for target '{artifact.Manifest.Target}' in this build"));
        }

        var problems = executor.Check(artifact);
        if (problems.Any(d => d.IsError))
        {
            return Result<RunReport>.Failure(problems);
        }

        if (options.DramGarbage && executor is not IDramImageExecutor)
        {
            return Result<RunReport>.Failure(CoreDiagnostics.BadOption.Create(SourceLocation.OfFile(artifact.Directory),
                $"--dram-garbage does not apply to target '{executor.Target}': its host passes plain tensors, with no padding bytes it must zero (only VTA's DRAM image has them)"));
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
