using System.Collections.Immutable;
using System.Diagnostics;
using Covenant.Acg;
using Covenant.Acg.Model;
using Covenant.Codelets.Semantics;
using Covenant.Core.Diagnostics;
using Covenant.Mapping;
using Covenant.Runtime.Execution;
using Covenant.Targets;

namespace Covenant.Compiler.Compare;

/// <summary>What running one artifact told the comparison (the runtime's report, reduced to what a table needs).</summary>
/// <param name="Engine">How it ran: "VTA simulator", "native AVX-512 VNNI", ... (for people).</param>
/// <param name="Timing">Whether the times are a simulator's or a measurement of real hardware.</param>
/// <param name="Summary">A line on the outputs: "exact match" or where they differ.</param>
public sealed record RunOutcome(string Engine, TimingSource Timing, bool Match, double? Cycles, double? Seconds, double? DramBytes, string Summary);

/// <summary>Runs compiled layers for the comparison; <see cref="RegisteredExecutors"/> runs them with the targets' executors.</summary>
public interface ICompareExecutor
{
    /// <summary>Whether this build has an executor for <paramref name="target"/>.</summary>
    bool CanRun(string target);

    Result<RunOutcome> Run(Compilation compilation, ulong seed);
}

/// <summary>Runs compiled layers in memory with the registered targets' executors, reduced to what the comparison needs.</summary>
public sealed class RegisteredExecutors(RegisteredTargets targets) : ICompareExecutor
{
    public bool CanRun(string target) => targets.Find(target) is not null;

    public Result<RunOutcome> Run(Compilation compilation, ulong seed)
    {
        var run = new LayerDriver(targets).Execute(compilation, seed);
        if (!run.Succeeded)
        {
            return Result<RunOutcome>.Failure(run.Diagnostics);
        }

        var execution = run.Value.Execution;
        var summary = string.Join("; ", run.Value.Checks.Select(c => $"{c.Tensor}: {c.Comparison.Summary}"));
        return Result<RunOutcome>.Success(new RunOutcome(execution.Engine, execution.Timing, run.Value.Match, execution.Cycles, execution.Seconds,
            execution.Metrics.TryGetValue("dramBytes", out var bytes) ? bytes : null, summary), run.Diagnostics);
    }
}

public sealed record CompareOptions
{
    public static CompareOptions Default { get; } = new();

    /// <summary>Where the codelets are; the suite's default (<see cref="Suite.CodeletPath"/>) when null.</summary>
    public string? CodeletDirectory { get; init; }

    /// <summary>Run every artifact whose target has an executor (and verify it); false compares predictions only.</summary>
    public bool Run { get; init; } = true;

    public ulong Seed { get; init; } = 1;

    public MapperOptions MapperOptions { get; init; } = MapperOptions.Default;

    public TargetOptions TargetOptions { get; init; } = TargetOptions.Default;
}

public static class CompareDiagnostics
{
    public static readonly DiagnosticDescriptor DuplicateArchitecture = new("COV0011", "two architectures with one name");
}

/// <summary>
/// Compiles (maps and lowers) every layer of a suite on every architecture, runs what can run, and assembles the
/// <see cref="ComparisonReport"/>. A layer that does not map on one architecture becomes a failed cell with its reason;
/// only the user's own mistakes (an architecture or codelet that does not load, a layer that does not instantiate, two
/// architectures with one name) fail the whole comparison.
/// </summary>
public static class ComparisonDriver
{
    public static Result<ComparisonReport> Run(
        Suite suite,
        IReadOnlyList<SuiteLayer> layers,
        IReadOnlyList<string> architectureFiles,
        RegisteredTargets targets,
        ICompareExecutor? executor,
        CompareOptions options,
        Action<string>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(suite);
        ArgumentNullException.ThrowIfNull(layers);
        ArgumentNullException.ThrowIfNull(architectureFiles);
        ArgumentNullException.ThrowIfNull(targets);
        ArgumentNullException.ThrowIfNull(options);

        // 1. The user's inputs, all of them checked before any compilation, every problem reported.
        var diagnostics = ImmutableArray.CreateBuilder<Diagnostic>();
        var graphs = LoadArchitectures(architectureFiles, diagnostics);
        var instances = new Dictionary<string, CodeletInstance>(StringComparer.Ordinal);
        foreach (var layer in layers)
        {
            var instance = LayerDriver.Instantiate(suite, layer, options.CodeletDirectory);
            diagnostics.AddRange(instance.Diagnostics);
            if (instance.Succeeded)
            {
                instances[layer.Name] = instance.Value.Instance;
            }
        }

        if (diagnostics.Any(d => d.IsError))
        {
            return Result<ComparisonReport>.Failure(diagnostics.ToImmutable());
        }

        // 2. Every layer on every architecture.
        var notes = Notes(graphs, targets, executor, options);
        var driver = new LayerDriver(targets);
        var rows = new List<(string, string, string, ImmutableArray<CompareCell>)>();
        var total = layers.Count * graphs.Count;
        var done = 0;
        foreach (var layer in layers)
        {
            var cells = ImmutableArray.CreateBuilder<CompareCell>();
            foreach (var (file, graph) in graphs)
            {
                var cell = Compare(suite, layer, instances[layer.Name], file, graph, driver, executor, options);
                cells.Add(cell);
                progress?.Invoke($"[{++done}/{total}] {layer.Name} on {graph.Name}: {Describe(cell)}");
            }

            rows.Add((layer.Name, layer.Codelet, Shape(layer, instances[layer.Name]), cells.ToImmutable()));
        }

        // 3. The roofs, from each YAML and the capabilities the layers actually used.
        var profiles = graphs.Select(g => Profile(g.File, g.Graph, rows.Select(r => r.Item4).SelectMany(c => c).Where(c => c.Architecture == g.Graph.Name)))
            .ToImmutableArray();
        var metric = ComparisonMath.ChooseMetric(profiles);
        var clocks = profiles.Select(p => p.ClockHz).Distinct().ToList();
        notes.Insert(0, metric == CompareMetric.Seconds
            ? "Ranked by time: the architectures run at different clocks, so cycles are converted with each one's clock."
            : clocks.Count == 1 && clocks[0] is { } hz
                ? $"Ranked by cycles: every architecture runs at {Format.Frequency(hz)}."
                : "Ranked by cycles: an architecture has no clock, so times cannot be compared.");
        return Result<ComparisonReport>.Success(
            ComparisonMath.Assemble(suite.Name, suite.Path, profiles, rows, options.Run, options.Seed, notes), diagnostics.ToImmutable());
    }

    /// <summary>Every architecture file loaded; two with one name are an error (the names are the table's columns).</summary>
    private static List<(string File, ArchitectureGraph Graph)> LoadArchitectures(IReadOnlyList<string> files, ImmutableArray<Diagnostic>.Builder diagnostics)
    {
        var graphs = new List<(string File, ArchitectureGraph Graph)>();
        foreach (var file in files)
        {
            var loaded = AcgLoader.Load(file);
            diagnostics.AddRange(loaded.Diagnostics);
            if (loaded.Succeeded)
            {
                var twin = graphs.FirstOrDefault(g => g.Graph.Name == loaded.Value.Name);
                if (twin.Graph is not null)
                {
                    diagnostics.Add(CompareDiagnostics.DuplicateArchitecture.Create(loaded.Value.Location,
                        $"architecture '{loaded.Value.Name}' is also the name of {twin.File}; a comparison needs distinct names (its columns)"));
                }

                graphs.Add((file, loaded.Value));
            }
        }

        return graphs;
    }

    /// <summary>What the table cannot show by itself: architectures this build cannot lower or run.</summary>
    private static List<string> Notes(List<(string File, ArchitectureGraph Graph)> graphs, RegisteredTargets targets, ICompareExecutor? executor, CompareOptions options)
    {
        var notes = new List<string>();
        foreach (var (_, graph) in graphs)
        {
            if (targets.Find(graph.Target) is null)
            {
                notes.Add($"{graph.Name}: this build has no target pass for '{graph.Target}', so its layers are mapped but not lowered; cycles are the cost model's prediction.");
            }
            else if (options.Run && executor?.CanRun(graph.Target) != true)
            {
                notes.Add($"{graph.Name}: this build has no executor for '{graph.Target}', so its layers are not run; cycles are predicted.");
            }
        }

        if (!options.Run)
        {
            notes.Add("--no-run: nothing was executed; every number is predicted and no output was verified.");
        }

        return notes;
    }

    /// <summary>The layer's bindings in the codelet's declaration order: "N=1 H=56 W=56 ...".</summary>
    private static string Shape(SuiteLayer layer, CodeletInstance instance)
    {
        var order = instance.Syntax.ShapeParams.Select(p => p.Name).ToList();
        return string.Join(' ', layer.Bindings
            .OrderBy(b => order.IndexOf(b.Key) is var i && i < 0 ? int.MaxValue : i)
            .ThenBy(b => b.Key, StringComparer.Ordinal)
            .Select(b => $"{b.Key}={b.Value}"));
    }

    private static string Describe(CompareCell cell) => cell.Status switch
    {
        CellStatus.CompileFailed => "did not compile",
        CellStatus.RunFailed => "run failed",
        CellStatus.Mismatch => "MISMATCH",
        _ => $"{cell.Cycles:F0} cycles ({cell.Source?.ToString().ToLowerInvariant()})",
    };

    private static CompareCell Compare(
        Suite suite,
        SuiteLayer layer,
        CodeletInstance instance,
        string file,
        ArchitectureGraph graph,
        LayerDriver driver,
        ICompareExecutor? executor,
        CompareOptions options)
    {
        var clock = Stopwatch.StartNew();
        if (driver.Targets.Find(graph.Target) is null)
        {
            var mapped = Mapper.Map(instance, graph, options.MapperOptions);
            return mapped.Succeeded
                ? CellFactory.FromMapping(layer.Name, mapped.Value, null, clock.Elapsed.TotalSeconds)
                : CellFactory.Failed(layer.Name, graph.Name, CellStatus.CompileFailed, mapped.Diagnostics, clock.Elapsed.TotalSeconds);
        }

        var driverOptions = LayerDriverOptions.Default with
        {
            CodeletDirectory = options.CodeletDirectory,
            MapperOptions = options.MapperOptions,
            TargetOptions = options.TargetOptions,
        };
        var (compiled, seconds) = driver.Compile(suite, layer, file, driverOptions);
        if (!compiled.Succeeded)
        {
            return CellFactory.Failed(layer.Name, graph.Name, CellStatus.CompileFailed, compiled.Diagnostics, seconds);
        }

        var predicted = CellFactory.FromMapping(layer.Name, compiled.Value.Mapping, compiled.Value.Output.PredictedCycles, seconds);
        if (!options.Run || executor?.CanRun(graph.Target) != true)
        {
            return predicted;
        }

        var run = executor.Run(compiled.Value, options.Seed);
        return run.Succeeded
            ? CellFactory.WithRun(predicted, run.Value, graph.ClockHz)
            : predicted with { Status = CellStatus.RunFailed, Reason = FirstError(run.Diagnostics) };
    }

    internal static string FirstError(IEnumerable<Diagnostic> diagnostics)
    {
        var error = diagnostics.FirstOrDefault(d => d.IsError);
        return error is null ? "failed without a diagnostic" : $"{error.Id}: {error.Message}";
    }

    /// <summary>An architecture's profile: its clock, and the two roofs of its roofline.</summary>
    public static ArchitectureProfile Profile(string file, ArchitectureGraph graph, IEnumerable<CompareCell> cells)
    {
        ArgumentNullException.ThrowIfNull(graph);
        var used = cells.Select(c => c.PeakMacsPerCycle).OfType<double>().DefaultIfEmpty().Max();
        var fromGraph = graph.Compute
            .SelectMany(n => n.Capabilities.Where(IsMultiplyAccumulate).Select(c => c.OperationsPerIssue / c.IntervalCycles * Math.Max(1, n.Count)))
            .DefaultIfEmpty().Max();
        var offchip = graph.Offchip.Select(s => s.Name).ToHashSet(StringComparer.Ordinal);
        var bandwidth = graph.Edges.Where(e => offchip.Contains(e.From)).Select(e => e.BandwidthBytesPerCycle).DefaultIfEmpty().Max();
        return new ArchitectureProfile(graph.Name, file, graph.Target, graph.Description, graph.ClockHz,
            used > 0 ? used : fromGraph > 0 ? fromGraph : null,
            bandwidth > 0 ? bandwidth : null);
    }

    // `c[..] += a[..] * b[..]`: the form the mapper maps a main nest onto.
    private static bool IsMultiplyAccumulate(Capability capability) =>
        capability.SemanticsText.Contains("+=", StringComparison.Ordinal) && capability.SemanticsText.Contains('*', StringComparison.Ordinal);
}
