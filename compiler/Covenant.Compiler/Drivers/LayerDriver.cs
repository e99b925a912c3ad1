using System.Collections.Immutable;
using System.Diagnostics;
using Covenant.Codelets.Semantics;
using Covenant.Core.Diagnostics;
using Covenant.Mapping;
using Covenant.Runtime.Execution;
using Covenant.Targets;
using Covenant.Runtime.Artifacts;

namespace Covenant.Compiler;

/// <summary>A suite layer loaded and bound: its codelet file and text, and the instance at the layer's shape.</summary>
public sealed record LayerInstance(SuiteLayer Layer, string CodeletPath, string CodeletText, CodeletInstance Instance);

/// <summary>What the per-layer driver does with each layer after compiling it.</summary>
public sealed record LayerDriverOptions
{
    public static LayerDriverOptions Default { get; } = new();

    /// <summary>Where the codelets are; the suite's default (<see cref="Suite.CodeletPath"/>) when null.</summary>
    public string? CodeletDirectory { get; init; }

    /// <summary>Write each layer's artifact to <c>ArtifactDirectory/LAYER</c>; null keeps artifacts in memory.</summary>
    public string? ArtifactDirectory { get; init; }

    /// <summary>Execute each compiled layer with its target's executor and check it against the reference.</summary>
    public bool Run { get; init; } = true;

    public ulong Seed { get; init; } = 1;

    public MapperOptions MapperOptions { get; init; } = MapperOptions.Default;

    public TargetOptions TargetOptions { get; init; } = TargetOptions.Default;

    /// <summary>A layer's mapping pinned from tuning records, if any (null: the mapper's default).</summary>
    public Func<SuiteLayer, PinnedMapping?>? Pin { get; init; }
}

/// <summary>One layer through the driver: the compilation, the artifact if one was written, the run if one was made.</summary>
/// <param name="CompileSeconds">Wall-clock seconds of mapping and lowering.</param>
public sealed record LayerResult(
    SuiteLayer Layer,
    Result<Compilation> Compiled,
    double CompileSeconds,
    Result<ArtifactManifest>? Written,
    Result<RunReport>? Run)
{
    public bool CompileFailed => !Compiled.Succeeded || Written is { Succeeded: false };

    public bool RunFailed => Run is { Succeeded: false };

    /// <summary>Every diagnostic of the stages that ran, in order.</summary>
    public ImmutableArray<Diagnostic> Diagnostics =>
        Compiled.Diagnostics.AddRange(Written?.Diagnostics ?? []).AddRange(Run?.Diagnostics ?? []);
}

/// <summary>
/// "For each layer: load the codelet, bind the shape, compile (from a pinned tuning record where given), write, run,
/// check", written once for <c>suite</c>, <c>compare</c>, <c>tune</c> and the benchmark. A layer's failure is its
/// result, never the end of the loop.
/// </summary>
public sealed class LayerDriver(RegisteredTargets targets)
{
    public RegisteredTargets Targets { get; } = targets;

    /// <summary>Loads a layer's codelet and binds the layer's shape (positioned on the suite's layer when it does not bind).</summary>
    public static Result<LayerInstance> Instantiate(Suite suite, SuiteLayer layer, string? codeletDirectory)
    {
        ArgumentNullException.ThrowIfNull(suite);
        ArgumentNullException.ThrowIfNull(layer);
        var path = suite.CodeletPath(layer, codeletDirectory);
        if (CodeletNotFound(suite, layer, codeletDirectory) is { } missing)
        {
            return Result<LayerInstance>.Failure(missing);
        }

        var codelet = CodeletLoader.Load(path);
        if (!codelet.Succeeded)
        {
            return Result<LayerInstance>.Failure(codelet.Diagnostics);
        }

        var instance = codelet.Value.Instantiate(layer.Bindings, layer.Location);
        return instance.Succeeded
            ? Result<LayerInstance>.Success(new LayerInstance(layer, path, File.ReadAllText(path), instance.Value), codelet.Diagnostics.AddRange(instance.Diagnostics))
            : Result<LayerInstance>.Failure(codelet.Diagnostics.AddRange(instance.Diagnostics));
    }

    /// <summary>Every layer in order, each reported to <paramref name="progress"/> as it finishes.</summary>
    public ImmutableArray<LayerResult> Run(Suite suite, IEnumerable<SuiteLayer> layers, string architecturePath, LayerDriverOptions options,
        Action<LayerResult>? progress = null, Action<SuiteLayer, int, int>? starting = null)
    {
        ArgumentNullException.ThrowIfNull(layers);
        var results = ImmutableArray.CreateBuilder<LayerResult>();
        var list = layers.ToList();
        foreach (var layer in list)
        {
            starting?.Invoke(layer, results.Count + 1, list.Count);
            var result = RunLayer(suite, layer, architecturePath, options);
            results.Add(result);
            progress?.Invoke(result);
        }

        return results.ToImmutable();
    }

    /// <summary>One layer: compile, write the artifact where asked, run and check it where asked.</summary>
    public LayerResult RunLayer(Suite suite, SuiteLayer layer, string architecturePath, LayerDriverOptions options)
    {
        ArgumentNullException.ThrowIfNull(suite);
        ArgumentNullException.ThrowIfNull(layer);
        ArgumentNullException.ThrowIfNull(options);
        var (compiled, seconds) = Compile(suite, layer, architecturePath, options);
        if (!compiled.Succeeded)
        {
            return new LayerResult(layer, compiled, seconds, null, null);
        }

        Result<ArtifactManifest>? written = null;
        if (options.ArtifactDirectory is { } root)
        {
            var directory = Path.Combine(root, layer.Name);
            written = CompilerPipeline.WriteArtifact(compiled.Value, directory);
            if (!written.Succeeded)
            {
                return new LayerResult(layer, compiled, seconds, written, null);
            }
        }

        var run = options.Run ? Execute(compiled.Value, options.Seed) : null;
        return new LayerResult(layer, compiled, seconds, written, run);
    }

    /// <summary>Maps and lowers one layer; the wall-clock seconds it took.</summary>
    public (Result<Compilation> Compiled, double Seconds) Compile(Suite suite, SuiteLayer layer, string architecturePath, LayerDriverOptions options)
    {
        ArgumentNullException.ThrowIfNull(suite);
        ArgumentNullException.ThrowIfNull(layer);
        ArgumentNullException.ThrowIfNull(options);
        if (CodeletNotFound(suite, layer, options.CodeletDirectory) is { } missing)
        {
            return (Result<Compilation>.Failure(missing), 0);
        }

        var mapperOptions = options.Pin?.Invoke(layer) is { } pinned ? options.MapperOptions with { Pinned = pinned } : options.MapperOptions;
        var request = new CompileRequest(suite.CodeletPath(layer, options.CodeletDirectory), architecturePath, layer.Bindings, mapperOptions, options.TargetOptions);
        var clock = Stopwatch.StartNew();
        var compiled = CompilerPipeline.Compile(request, Targets.Passes);
        return (compiled, clock.Elapsed.TotalSeconds);
    }

    /// <summary>
    /// The error for a layer whose codelet file is missing, positioned on the layer in the suite, saying where it looked
    /// and how to look elsewhere (a suite kept outside codelets/suites/ finds nothing by default); null when it is there.
    /// </summary>
    private static Diagnostic? CodeletNotFound(Suite suite, SuiteLayer layer, string? codeletDirectory)
    {
        var path = suite.CodeletPath(layer, codeletDirectory);
        if (File.Exists(path))
        {
            return null;
        }

        var where = codeletDirectory is null
            ? $"looked in {Path.GetDirectoryName(path)}, the suite folder's parent; pass --codelets DIR to look elsewhere"
            : $"looked in --codelets {codeletDirectory}";
        return CoreDiagnostics.FileNotFound.Create(layer.Location,
            $"layer '{layer.Name}' uses codelet '{layer.Codelet}', but there is no {layer.Codelet}.cdlt ({where})");
    }

    /// <summary>Runs a compilation in memory (nothing written) with its target's executor and checks it against the reference.</summary>
    public Result<RunReport> Execute(Compilation compilation, ulong seed)
    {
        ArgumentNullException.ThrowIfNull(compilation);
        var artifact = InMemoryArtifact.Of(compilation.Mapping, compilation.Output, compilation.Request.Bindings);
        return ArtifactRunner.Run(artifact, RunOptions.Default with { Seed = seed }, Targets.Executors);
    }
}
