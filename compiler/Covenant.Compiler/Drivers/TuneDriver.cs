using System.Collections.Immutable;
using System.Diagnostics;
using Covenant.Acg;
using Covenant.Acg.Model;
using Covenant.Codelets.Semantics;
using Covenant.Core.Diagnostics;
using Covenant.Mapping;
using Covenant.Mapping.Search;
using Covenant.Targets;

namespace Covenant.Compiler;

/// <summary>What <c>covenantc tune</c> was asked to do; the command line fills it, tests build it directly.</summary>
public sealed record TuneSettings(string SuitePath, string ArchitecturePath)
{
    /// <summary>Measurements per layer when neither budget is given.</summary>
    public const int DefaultTrialsPerLayer = 16;

    public IReadOnlyList<string> Only { get; init; } = [];

    public string? CodeletDirectory { get; init; }

    public int? BudgetTrials { get; init; }

    public double? BudgetSeconds { get; init; }

    public string? RecordsPath { get; init; }

    /// <summary>Measure on the target (simulator cycles, native time) or rank by the cost model alone.</summary>
    public bool MeasureOnTarget { get; init; } = true;

    public SearchOptions Search { get; init; } = SearchOptions.Default;

    /// <summary>Candidates measured per layer step (the scheduler's unit of allocation).</summary>
    public int MeasuredPerStep { get; init; } = 4;

    public bool Json { get; init; }

    /// <summary>Rewrite one progress line in place (a terminal); otherwise print a plain line per step.</summary>
    public bool LiveProgress { get; init; }

    /// <summary>Observes every finished trial (after it is recorded): tests cancel from here to simulate Ctrl-C.</summary>
    public Action<Trial>? OnTrial { get; init; }
}

/// <summary>What <c>--records</c> gave a compilation: the tuned mapping to rebuild, or null for the mapper's default.</summary>
public sealed record RecordsPin(PinnedMapping? Mapping);

/// <summary>How a tune run talks to whoever shows it: notes, a layer's failure, progress. All optional.</summary>
public sealed record TuneReporter
{
    public Action<string>? Note { get; init; }

    public Action<string, ImmutableArray<Diagnostic>>? LayerFailed { get; init; }

    public Action<TuneProgress>? Progress { get; init; }
}

/// <summary>One layer's result of a tune run, copied out of its tuner (which is disposed with the run).</summary>
public sealed record TunedLayer(
    string Name,
    int Trials,
    int Generations,
    double? DefaultCost,
    double? BestCost,
    int? BestTrial,
    double? Bound,
    string? Problem,
    string? Tiles,
    ImmutableArray<string> Constraints,
    SearchCounters Counters);

/// <summary>What a tune run did.</summary>
/// <param name="Engine">What the layers were measured by (null when no layer was tuned).</param>
/// <param name="MeasuredBy">What the run's measurer is, whether or not any layer was tuned.</param>
/// <param name="LayersFailed">Whether a layer could not be tuned (its diagnostics went to <see cref="TuneReporter.LayerFailed"/>).</param>
public sealed record TuneOutcome(
    ImmutableArray<TunedLayer> Layers,
    int Trials,
    double NetworkDefault,
    double NetworkBest,
    string? Engine,
    string MeasuredBy,
    TimeSpan Elapsed,
    bool Interrupted,
    bool LayersFailed);

/// <summary>
/// <c>tune</c>'s orchestration: loads the suite's layers, makes a <see cref="LayerTuner"/> per layer measured by the
/// target's registered measurer (<see cref="RegisteredTargets.CreateMeasurer"/>), resumes from the records, shares the
/// budget across layers (<see cref="NetworkTuner"/>) and appends every trial to the log as it finishes.
/// </summary>
public sealed class TuneDriver(RegisteredTargets targets)
{
    /// <summary>Tunes <paramref name="layers"/> of <paramref name="suite"/>; failure only for the user's inputs (architecture, records).</summary>
    public Result<TuneOutcome> Run(Suite suite, IReadOnlyList<SuiteLayer> layers, TuneSettings settings, TuneReporter reporter, CancellationToken cancellation)
    {
        ArgumentNullException.ThrowIfNull(suite);
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(reporter);
        var graph = AcgLoader.Load(settings.ArchitecturePath);
        if (!graph.Succeeded)
        {
            return Result<TuneOutcome>.Failure(graph.Diagnostics);
        }

        // A graph its registered target cannot compile for (compile would refuse it) is not worth a search.
        var architecture = targets.Find(graph.Value.Target)?.CheckArchitecture(graph.Value) ?? [];
        if (architecture.Any(d => d.IsError))
        {
            return Result<TuneOutcome>.Failure(graph.Diagnostics.AddRange(architecture));
        }

        var previous = settings.RecordsPath is { } path ? TuningLog.Read(path) : Result<TuningRecords>.Success(new TuningRecords([], []));
        if (!previous.Succeeded)
        {
            return Result<TuneOutcome>.Failure(graph.Diagnostics.AddRange(previous.Diagnostics));
        }

        if (!previous.Value.SkippedLines.IsEmpty)
        {
            reporter.Note?.Invoke($"note: {settings.RecordsPath}: skipped {previous.Value.SkippedLines.Length} line(s) that are not records " +
                $"(line {string.Join(", ", previous.Value.SkippedLines.Take(5))}; a torn last line is what an interrupted write leaves)");
        }

        var opened = settings.RecordsPath is { } recordsPath ? TuningLog.Open(recordsPath) : null;
        if (opened is { Succeeded: false })
        {
            return Result<TuneOutcome>.Failure(graph.Diagnostics.AddRange(previous.Diagnostics).AddRange(opened.Diagnostics));
        }

        using var log = opened?.Value;
        var measurer = Measurer(graph.Value, settings, reporter);
        var tuners = new List<LayerTuner>();
        try
        {
            var failed = CreateTuners(suite, layers, graph.Value, settings, measurer, previous.Value, reporter, tuners);
            return Result<TuneOutcome>.Success(Search(suite, graph.Value, tuners, settings, measurer, log, reporter, cancellation) with { LayersFailed = failed },
                graph.Diagnostics.AddRange(previous.Diagnostics));
        }
        finally
        {
            foreach (var tuner in tuners)
            {
                tuner.Dispose();
            }
        }
    }

    /// <summary>The target's registered measurer; the cost model when asked for it or when nothing here measures the target.</summary>
    private IMappingMeasurer Measurer(ArchitectureGraph graph, TuneSettings settings, TuneReporter reporter)
    {
        if (!settings.MeasureOnTarget)
        {
            return new CostModelMeasurer();
        }

        if (targets.CreateMeasurer(graph) is { } measurer)
        {
            return measurer;
        }

        reporter.Note?.Invoke($"note: nothing in this build runs target '{graph.Target}'; ranking by the cost model only");
        return new CostModelMeasurer();
    }

    /// <summary>A tuner per layer that loads, resumed from the records; true when some layer could not be tuned.</summary>
    private static bool CreateTuners(Suite suite, IReadOnlyList<SuiteLayer> layers, ArchitectureGraph graph, TuneSettings settings,
        IMappingMeasurer measurer, TuningRecords previous, TuneReporter reporter, List<LayerTuner> tuners)
    {
        var architectureText = File.ReadAllText(settings.ArchitecturePath);
        var failed = false;
        foreach (var layer in layers)
        {
            var loaded = LayerDriver.Instantiate(suite, layer, settings.CodeletDirectory);
            if (!loaded.Succeeded)
            {
                reporter.LayerFailed?.Invoke(layer.Name, loaded.Diagnostics);
                failed = true;
                continue;
            }

            var instance = loaded.Value;
            var identity = LayerIdentity.Of(layer.Name, layer.Codelet, instance.CodeletText, instance.Instance.Sizes, graph.Name, architectureText);
            var tuner = LayerTuner.Create(identity, instance.Instance, graph, measurer,
                settings.Search with { Seed = settings.Search.Seed + (uint)tuners.Count });
            if (!tuner.Succeeded)
            {
                reporter.LayerFailed?.Invoke(layer.Name, tuner.Diagnostics);
                failed = true;
                continue;
            }

            var (resumed, skipped) = tuner.Value.Resume(previous.For(identity));
            if (resumed + skipped > 0)
            {
                reporter.Note?.Invoke($"{layer.Name}: resumed {resumed} trial(s) from {settings.RecordsPath}" +
                    (skipped > 0 ? $", skipped {skipped} that no longer apply" : ""));
            }

            tuners.Add(tuner.Value);
        }

        return failed;
    }

    private static TuneOutcome Search(Suite suite, ArchitectureGraph graph, List<LayerTuner> tuners, TuneSettings settings, IMappingMeasurer measurer,
        TuningLog? log, TuneReporter reporter, CancellationToken cancellation)
    {
        var budget = new TuneBudget(
            settings.BudgetTrials ?? (settings.BudgetSeconds is null ? TuneSettings.DefaultTrialsPerLayer * tuners.Count : null),
            settings.BudgetSeconds is { } seconds ? TimeSpan.FromSeconds(seconds) : null);
        reporter.Note?.Invoke($"tuning {tuners.Count} layer(s) of {suite.Name} on {graph.Name}: budget {budget}, " +
            $"ranked by {(settings.Search.Correction ? "the corrected cost model" : "the cost model")}, measured by {measurer.Engine}");
        var network = new NetworkTuner(tuners, budget, settings.MeasuredPerStep);
        var clock = Stopwatch.StartNew();
        network.TrialFinished += trial =>
        {
            var tuner = tuners.First(t => t.Name == trial.Layer);
            log?.Append(tuner.ToRecord(trial, clock.Elapsed.TotalSeconds));
            settings.OnTrial?.Invoke(trial);
        };
        if (reporter.Progress is { } progress)
        {
            network.Progressed += progress;
        }

        network.Run(cancellation);
        var layers = tuners.Select(t => new TunedLayer(t.Name, t.Trials, t.Generation, t.DefaultCost, t.Best?.Measured, t.Best?.Number, t.Bound,
            t.Best?.Candidate.Individual.Problem, t.Best?.Candidate.DescribeTiles(),
            t.Best is { } best ? [.. best.Candidate.Individual.Constraints.Select(x => x.ToString())] : default, t.Counters));
        return new TuneOutcome([.. layers], network.Trials, tuners.Sum(t => t.DefaultCost ?? 0), network.NetworkBest,
            tuners.FirstOrDefault()?.Engine, measurer.Engine, clock.Elapsed, cancellation.IsCancellationRequested, false);
    }

    /// <summary>The best record of <paramref name="layer"/> on the architecture in <paramref name="records"/>, as a mapping to rebuild; null when none applies.</summary>
    public static PinnedMapping? Pin(TuningRecords records, LayerInstance layer, string architectureText, string source)
    {
        ArgumentNullException.ThrowIfNull(records);
        ArgumentNullException.ThrowIfNull(layer);
        var identity = LayerIdentity.Of(layer.Layer.Name, layer.Layer.Codelet, layer.CodeletText, layer.Instance.Sizes, "", architectureText);
        return records.Pin(identity, source);
    }

    /// <summary>
    /// For <c>compile --records</c>: the best record of this codelet instance on this architecture, as a mapping for the
    /// mapper to rebuild; null when the log has none (or the sources do not load: the pipeline reports those).
    /// Failure when the log cannot be read.
    /// </summary>
    public static Result<RecordsPin> PinFromRecords(string recordsPath, string codeletPath, ImmutableDictionary<string, long> bindings,
        string architecturePath, Action<string>? note = null)
    {
        if (!File.Exists(recordsPath))
        {
            return Result<RecordsPin>.Failure(CoreDiagnostics.FileNotFound.Create(SourceLocation.OfFile(recordsPath), $"--records: no such file '{recordsPath}'"));
        }

        var records = TuningLog.Read(recordsPath);
        if (!records.Succeeded)
        {
            return Result<RecordsPin>.Failure(records.Diagnostics);
        }

        // Records are keyed by every size of the instance (defaults and derived ones included), so `--set` need not
        // spell out what the suite did.
        var instance = File.Exists(codeletPath) && File.Exists(architecturePath) && CodeletLoader.Load(codeletPath) is { Succeeded: true } codelet
            ? codelet.Value.Instantiate(bindings)
            : null;
        if (records.Diagnostics.Any(d => d.IsError) || instance is not { Succeeded: true })
        {
            return Result<RecordsPin>.Success(new RecordsPin(null), records.Diagnostics);
        }

        var identity = LayerIdentity.Of("", Path.GetFileNameWithoutExtension(codeletPath), File.ReadAllText(codeletPath), instance.Value.Sizes,
            "", File.ReadAllText(architecturePath));
        var pinned = records.Value.Pin(identity, recordsPath);
        if (pinned is null)
        {
            note?.Invoke($"note: {recordsPath} has no usable record of this codelet, shape and architecture; using the default mapping");
        }

        return Result<RecordsPin>.Success(new RecordsPin(pinned), records.Diagnostics);
    }
}
