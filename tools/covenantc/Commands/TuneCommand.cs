using System.Collections.Immutable;
using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Covenant.Acg;
using Covenant.Acg.Model;
using Covenant.Codelets.Semantics;
using Covenant.Compiler;
using Covenant.Core.Diagnostics;
using Covenant.Mapping;
using Covenant.Mapping.Search;
using Covenant.Runtime;
using Covenant.Runtime.Artifacts;
using Covenant.Runtime.Execution;
using Covenant.Runtime.Vta;
using Covenant.Targets;
using Covenant.Targets.Vta;
using Covenant.Targets.Vta.Lowering;
using Covenant.Mapping.Model;

namespace Covenant.Cli.Commands;

/// <summary>What <c>covenantc tune</c> was asked to do; the command line fills it, tests build it directly.</summary>
public sealed record TuneSettings(string SuitePath, string ArchitecturePath)
{
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

/// <summary>
/// <c>covenantc tune</c>: searches the mapping space of every layer of a suite (<see cref="LayerTuner"/>), measuring the
/// most promising candidates on the target, shares the budget across layers (<see cref="NetworkTuner"/>), appends
/// every trial to a JSON-lines log as it finishes and resumes from it. <c>covenantc compile --records</c> reuses the
/// log. Ctrl-C stops after the measurement in progress, with every finished trial recorded.
/// </summary>
public static class TuneCommand
{
    /// <summary>Exit code when Ctrl-C (or the caller's token) stopped the run; the log holds every finished trial.</summary>
    public const int Interrupted = 130;

    private const int DefaultTrialsPerLayer = 16;

    public static Command Build(CliContext context)
    {
        var suite = CliArguments.File("suite", "The suite file (.yaml), e.g. codelets/suites/resnet50.yaml.");
        var arch = new Option<string>("--arch") { Description = "The architecture file (.yaml).", Required = true };
        var trials = new Option<int?>("--budget-trials") { Description = $"Measurements in all, shared across the layers (default {DefaultTrialsPerLayer} per layer). Trials in --records count." };
        var seconds = new Option<double?>("--budget-seconds") { Description = "Wall-clock seconds for this run; with --budget-trials, whichever ends first." };
        var records = new Option<string?>("--records") { Description = "Append every trial to this JSON-lines file and resume from what it holds." };
        var only = new Option<string[]>("--only") { Description = "Tune only these layers (repeatable or comma-separated)." };
        var codelets = new Option<string?>("--codelets") { Description = "Where the codelets are (default: the suite folder's parent)." };
        var seed = new Option<uint>("--seed") { Description = "Seed of the search.", DefaultValueFactory = _ => 1 };
        var measure = new Option<string>("--measure")
        {
            Description = "target: measure on the target (VTA simulator cycles, native VNNI time); model: rank by the cost model only.",
            DefaultValueFactory = _ => "target",
        };
        measure.AcceptOnlyFromAmong("target", "model");
        var noCorrection = new Option<bool>("--no-correction") { Description = "Rank by the raw cost model, without the correction fit to measurements." };
        var population = new Option<int>("--population") { Description = "Individuals per generation.", DefaultValueFactory = _ => SearchOptions.Default.Population };
        var perStep = new Option<int>("--measure-per-step") { Description = "Candidates measured per layer step.", DefaultValueFactory = _ => 4 };
        var json = new Option<bool>("--json") { Description = "Print the result as JSON on stdout." };
        var command = new Command("tune", "Search the mapping space of every layer of a suite with a constraint-based genetic algorithm, " +
            "measuring the best candidates on the target, sharing the budget across layers by expected gain in network latency. " +
            $"Ctrl-C stops cleanly (exit {Interrupted}); rerun with the same --records to continue.")
        {
            suite, arch, trials, seconds, records, only, codelets, seed, measure, noCorrection, population, perStep, json,
        };
        command.SetAction(parse =>
        {
            var bad = new List<string>();
            if (parse.GetValue(trials) is <= 0)
            {
                bad.Add("--budget-trials must be a positive number of trials");
            }

            if (parse.GetValue(seconds) is { } s && !(s > 0))
            {
                bad.Add("--budget-seconds must be a positive number of seconds");
            }

            if (parse.GetValue(population) < 2)
            {
                bad.Add("--population must be at least 2");
            }

            if (parse.GetValue(perStep) < 1)
            {
                bad.Add("--measure-per-step must be at least 1");
            }

            if (bad.Count > 0)
            {
                foreach (var message in bad)
                {
                    context.Report(CoreDiagnostics.BadOption.Create(null, message));
                }

                return CovenantCli.UserError;
            }

            var settings = new TuneSettings(parse.GetRequiredValue(suite), parse.GetRequiredValue(arch))
            {
                Only = parse.GetValue(only) ?? [],
                CodeletDirectory = parse.GetValue(codelets),
                BudgetTrials = parse.GetValue(trials),
                BudgetSeconds = parse.GetValue(seconds),
                RecordsPath = parse.GetValue(records),
                MeasureOnTarget = parse.GetRequiredValue(measure) == "target",
                Search = SearchOptions.Default with
                {
                    Seed = parse.GetValue(seed),
                    Correction = !parse.GetValue(noCorrection),
                    Population = parse.GetValue(population),
                },
                MeasuredPerStep = parse.GetValue(perStep),
                Json = parse.GetValue(json),
                LiveProgress = ReferenceEquals(context.Error, Console.Error) && !Console.IsErrorRedirected && !Console.IsOutputRedirected
                    && !string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase),
            };

            using var interrupt = new CancellationTokenSource();
            void OnCancel(object? sender, ConsoleCancelEventArgs e)
            {
                // The first Ctrl-C stops after the trial in progress; a second one kills as usual.
                e.Cancel = !interrupt.IsCancellationRequested;
                interrupt.Cancel();
            }

            Console.CancelKeyPress += OnCancel;
            try
            {
                return Run(context, settings, interrupt.Token);
            }
            finally
            {
                Console.CancelKeyPress -= OnCancel;
            }
        });
        return command;
    }

    /// <summary>Tunes the suite's layers; returns the exit code.</summary>
    public static int Run(CliContext context, TuneSettings settings, CancellationToken cancellation)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(settings);
        var loaded = Suite.Load(settings.SuitePath);
        var graph = AcgLoader.Load(settings.ArchitecturePath);
        if (context.Report(loaded.Diagnostics.AddRange(graph.Diagnostics)) || !loaded.Succeeded || !graph.Succeeded)
        {
            return CovenantCli.UserError;
        }

        var layers = CompileCommands.SelectLayers(context, loaded.Value, [.. settings.Only]);
        if (layers is null)
        {
            return CovenantCli.UserError;
        }

        var previous = settings.RecordsPath is { } path ? TuningLog.Read(path) : Result<TuningRecords>.Success(new TuningRecords([], []));
        if (context.Report(previous.Diagnostics) || !previous.Succeeded)
        {
            return CovenantCli.UserError;
        }

        if (!previous.Value.SkippedLines.IsEmpty)
        {
            context.Error.WriteLine($"note: {settings.RecordsPath}: skipped {previous.Value.SkippedLines.Length} line(s) that are not records " +
                $"(line {string.Join(", ", previous.Value.SkippedLines.Take(5))}; a torn last line is what an interrupted write leaves)");
        }

        IMappingMeasurer measurer = settings.MeasureOnTarget ? CreateMeasurer(graph.Value, settings.ArchitecturePath, context) : new CostModelMeasurer();
        var architectureText = File.ReadAllText(settings.ArchitecturePath);
        var tuners = new List<LayerTuner>();
        var failed = false;
        var opened = settings.RecordsPath is { } recordsPath ? TuningLog.Open(recordsPath) : null;
        if (opened is { Succeeded: false })
        {
            context.Report(opened.Diagnostics);
            return CovenantCli.UserError;
        }

        using var log = opened?.Value;

        try
        {
            foreach (var layer in layers)
            {
                var codeletPath = loaded.Value.CodeletPath(layer, settings.CodeletDirectory);
                var codelet = CodeletLoader.Load(codeletPath);
                var instance = codelet.Succeeded ? codelet.Value.Instantiate(layer.Bindings) : null;
                if (!codelet.Succeeded || instance is not { Succeeded: true })
                {
                    context.Error.WriteLine($"layer {layer.Name}:");
                    context.Report(codelet.Diagnostics.AddRange(instance?.Diagnostics ?? []));
                    failed = true;
                    continue;
                }

                (measurer as ArtifactMeasurer)?.Register(instance.Value, codeletPath, layer.Bindings);
                var identity = LayerIdentity.Of(layer.Name, layer.Codelet, File.ReadAllText(codeletPath), instance.Value.Sizes, graph.Value.Name, architectureText);
                var tuner = LayerTuner.Create(identity, instance.Value, graph.Value, measurer,
                    settings.Search with { Seed = settings.Search.Seed + (uint)tuners.Count });
                if (!tuner.Succeeded)
                {
                    context.Error.WriteLine($"layer {layer.Name}:");
                    context.Report(tuner.Diagnostics);
                    failed = true;
                    continue;
                }

                var (resumed, skipped) = tuner.Value.Resume(previous.Value.For(identity));
                if (resumed + skipped > 0)
                {
                    context.Error.WriteLine($"{layer.Name}: resumed {resumed} trial(s) from {settings.RecordsPath}" +
                        (skipped > 0 ? $", skipped {skipped} that no longer apply" : ""));
                }

                tuners.Add(tuner.Value);
            }

            var budget = new TuneBudget(
                settings.BudgetTrials ?? (settings.BudgetSeconds is null ? DefaultTrialsPerLayer * tuners.Count : null),
                settings.BudgetSeconds is { } seconds ? TimeSpan.FromSeconds(seconds) : null);
            context.Error.WriteLine($"tuning {tuners.Count} layer(s) of {loaded.Value.Name} on {graph.Value.Name}: budget {budget}, " +
                $"ranked by {(settings.Search.Correction ? "the corrected cost model" : "the cost model")}, measured by {measurer.Engine}");
            var network = new NetworkTuner(tuners, budget, settings.MeasuredPerStep);
            var clock = Stopwatch.StartNew();
            var progress = new ProgressLine(context.Error, settings.LiveProgress, measurer.Engine);
            network.TrialFinished += trial =>
            {
                var tuner = tuners.First(t => t.Name == trial.Layer);
                log?.Append(tuner.ToRecord(trial, clock.Elapsed.TotalSeconds));
                settings.OnTrial?.Invoke(trial);
            };
            network.Progressed += progress.Update;
            network.Run(cancellation);
            progress.Finish();

            var interrupted = cancellation.IsCancellationRequested;
            PrintResult(context, settings, tuners, network, clock.Elapsed, interrupted);
            return interrupted ? Interrupted : failed ? CovenantCli.UserError : CovenantCli.Success;
        }
        finally
        {
            foreach (var tuner in tuners)
            {
                tuner.Dispose();
            }
        }
    }

    /// <summary>
    /// For <c>compile --records</c>: the best record of this codelet instance on this architecture, as a mapping for the
    /// mapper to rebuild; null (with a note) when the log has none. False when the log cannot be read.
    /// </summary>
    public static bool TryPinFromRecords(CliContext context, string recordsPath, string codeletPath, ImmutableDictionary<string, long> bindings,
        string architecturePath, out PinnedMapping? pinned)
    {
        ArgumentNullException.ThrowIfNull(context);
        pinned = null;
        if (!File.Exists(recordsPath))
        {
            context.Report(CoreDiagnostics.FileNotFound.Create(SourceLocation.OfFile(recordsPath), $"--records: no such file '{recordsPath}'"));
            return false;
        }

        var records = TuningLog.Read(recordsPath);
        if (context.Report(records.Diagnostics) || !records.Succeeded || !File.Exists(codeletPath) || !File.Exists(architecturePath))
        {
            // Missing sources are reported by the pipeline, at their own positions.
            return records.Succeeded;
        }

        // Records are keyed by every size of the instance (defaults and derived ones included), so `--set` need not
        // spell out what the suite did.
        var instance = CodeletLoader.Load(codeletPath) is { Succeeded: true } codelet ? codelet.Value.Instantiate(bindings) : null;
        if (instance is not { Succeeded: true })
        {
            return true;
        }

        var identity = LayerIdentity.Of("", Path.GetFileNameWithoutExtension(codeletPath), File.ReadAllText(codeletPath), instance.Value.Sizes,
            "", File.ReadAllText(architecturePath));
        pinned = records.Value.Pin(identity, recordsPath);
        if (pinned is null)
        {
            context.Error.WriteLine($"note: {recordsPath} has no usable record of this codelet, shape and architecture; using the default mapping");
        }

        return true;
    }

    private static void PrintResult(CliContext context, TuneSettings settings, List<LayerTuner> tuners, NetworkTuner network, TimeSpan elapsed, bool interrupted)
    {
        var c = CultureInfo.InvariantCulture;
        var totalDefault = tuners.Sum(t => t.DefaultCost ?? 0);
        var totalBest = network.NetworkBest;
        if (settings.Json)
        {
            context.WriteJson(new
            {
                interrupted,
                seconds = Math.Round(elapsed.TotalSeconds, 2),
                trials = network.Trials,
                engine = tuners.FirstOrDefault()?.Engine,
                networkDefault = totalDefault,
                networkBest = totalBest,
                layers = tuners.Select(t => new
                {
                    name = t.Name,
                    trials = t.Trials,
                    generations = t.Generation,
                    defaultCost = t.DefaultCost,
                    bestCost = t.Best?.Measured,
                    bestTrial = t.Best?.Number,
                    speedup = t.DefaultCost is { } d && t.Best?.Measured is { } b && b > 0 ? d / b : (double?)null,
                    bound = t.Bound,
                    problem = t.Best?.Candidate.Individual.Problem,
                    tiles = t.Best?.Candidate.DescribeTiles(),
                    constraints = t.Best?.Candidate.Individual.Constraints.Select(x => x.ToString()).ToArray(),
                    offspring = t.Counters.Offspring,
                    repaired = t.Counters.Repaired,
                    dropped = t.Counters.Dropped,
                    sampled = t.Counters.Sampled,
                    duplicates = t.Counters.Duplicates,
                }).ToArray(),
            });
            return;
        }

        var o = context.Out;
        // A bound (where the measurer knows one) says how much any mapping could still gain: tuned/bound near 1 is done.
        var bounded = tuners.Any(t => t.Bound is not null);
        var boundHeader = bounded ? string.Create(c, $" {"bound",12} {"tuned/bound",11}") : "";
        o.WriteLine(string.Create(c, $"{"layer",-14} {"default",12} {"tuned",12} {"speedup",8}{boundHeader} {"trials",7} {"gens",5} {"repaired",9} {"dropped",8}  tuned mapping"));
        foreach (var t in tuners)
        {
            var speedup = t.DefaultCost is { } d && t.Best?.Measured is { } b && b > 0 ? string.Create(c, $"{d / b:F2}x") : "-";
            var bound = !bounded ? ""
                : t.Bound is { } limit && t.Best?.Measured is { } best ? string.Create(c, $" {limit,12:F0} {best / limit,11:F3}") : string.Create(c, $" {"-",12} {"-",11}");
            o.WriteLine(string.Create(c,
                $"{t.Name,-14} {t.DefaultCost,12:F0} {t.Best?.Measured,12:F0} {speedup,8}{bound} {t.Trials,7} {t.Generation,5} {t.Counters.Repaired,9} {t.Counters.Dropped,8}  {t.Best?.Candidate.DescribeTiles()}"));
        }

        o.WriteLine(string.Create(c, $"network: {totalDefault:F0} -> {totalBest:F0} ({(totalBest > 0 ? totalDefault / totalBest : 0):F2}x) in {network.Trials} trials, {elapsed.TotalSeconds:F1} s; {tuners.FirstOrDefault()?.Engine}"));
        if (interrupted)
        {
            o.WriteLine(settings.RecordsPath is null
                ? "interrupted"
                : $"interrupted; every finished trial is in {settings.RecordsPath}: rerun the same command to continue");
        }
    }

    /// <summary>The target's measurement: VTA simulator cycles in memory; another target's executor; else the cost model (with a note).</summary>
    public static IMappingMeasurer CreateMeasurer(ArchitectureGraph graph, string architecturePath, CliContext context)
    {
        if (graph.Target == KnownTargets.Vta && VtaConfig.FromGraph(graph) is { Succeeded: true } config)
        {
            return new VtaSimulatorMeasurer(config.Value);
        }

        if (CliTargets.Registry.Find(graph.Target) is { } target && CliTargets.Executors.FirstOrDefault(e => e.Target == graph.Target) is { } executor)
        {
            return new ArtifactMeasurer(target, executor, architecturePath);
        }

        context.Error.WriteLine($"note: nothing in this build runs target '{graph.Target}'; ranking by the cost model only");
        return new CostModelMeasurer();
    }

    /// <summary>
    /// Lowers a mapping to a VTA program and runs it on the cycle-counting simulator, in memory (no artifact files). Inputs
    /// are the same seeded tensors <c>covenantc run</c> uses; the cycle count does not depend on them.
    /// </summary>
    private sealed class VtaSimulatorMeasurer(VtaConfig config) : IMappingMeasurer
    {
        private readonly Dictionary<CodeletInstance, IReadOnlyDictionary<string, TensorData>> inputs = [];

        public string Engine => "VTA simulator cycles";

        public Measurement Measure(LayerMapping mapping, CancellationToken cancellation)
        {
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

        public double? LowerBound(LayerMapping mapping) => VtaBounds.Of(mapping, config).Cycles;
    }

    /// <summary>
    /// Any other target: lower, write a scratch artifact, execute it with the target's executor (native where the
    /// hardware is here, else its simulator) and take cycles, or seconds, or the simulator's instruction count.
    /// </summary>
    private sealed class ArtifactMeasurer(ITarget target, IArtifactExecutor executor, string architecturePath) : IMappingMeasurer
    {
        private readonly Dictionary<CodeletInstance, (string CodeletPath, ImmutableDictionary<string, long> Bindings)> sources = [];

        public string Engine => $"{target.Name} executor (cycles, else seconds)";

        // Native times vary from run to run; a simulator's counts do not, but this measurer cannot tell which it gets.
        public bool Deterministic => false;

        /// <summary>Where an instance came from: the artifact copies the codelet and records the bindings.</summary>
        public void Register(CodeletInstance instance, string codeletPath, ImmutableDictionary<string, long> bindings) =>
            sources[instance] = (codeletPath, bindings);

        public Measurement Measure(LayerMapping mapping, CancellationToken cancellation)
        {
            var output = target.Lower(mapping, TargetOptions.Default);
            if (!output.Succeeded)
            {
                return Measurement.Failed("lowering: " + (output.Diagnostics.FirstOrDefault(d => d.IsError)?.Message ?? "failed"));
            }

            var scratch = Directory.CreateTempSubdirectory("covenant-tune-").FullName;
            try
            {
                var (codeletPath, bindings) = sources[mapping.Instance];
                var request = new CompileRequest(codeletPath, architecturePath, bindings, MapperOptions.Default, TargetOptions.Default);
                var compilation = new Compilation(request, mapping.Instance, mapping.Graph, mapping, output.Value, TimeSpan.Zero, TimeSpan.Zero);
                var written = CompilerPipeline.WriteArtifact(compilation, scratch);
                var loaded = written.Succeeded ? ArtifactRunner.Load(scratch) : null;
                if (loaded is not { Succeeded: true })
                {
                    return Measurement.Failed("artifact: " + string.Join("; ", written.Diagnostics.Concat(loaded?.Diagnostics ?? [])));
                }

                var run = executor.Execute(loaded.Value, RandomTensors.Inputs(mapping.Instance, 1), RunOptions.Default);
                if (!run.Succeeded)
                {
                    return Measurement.Failed("run: " + (run.Diagnostics.FirstOrDefault(d => d.IsError)?.Message ?? "failed"));
                }

                var execution = run.Value;
                var cost = execution.Cycles ?? execution.Seconds ?? (execution.Metrics.TryGetValue("simulatedVectorInstructions", out var n) ? n : null);
                return cost is { } value ? Measurement.Of(value) : Measurement.Failed("the executor reported no time");
            }
            finally
            {
                Directory.Delete(scratch, recursive: true);
            }
        }
    }

    /// <summary>
    /// Progress on stderr: on a terminal one line rewritten in place (<c>\r</c>); otherwise (redirected, CI) a plain line
    /// per layer step, so logs stay readable.
    /// </summary>
    private sealed class ProgressLine(TextWriter writer, bool live, string engine)
    {
        private int width;
        private string lastLayerStep = "";

        public void Update(TuneProgress p)
        {
            var c = CultureInfo.InvariantCulture;
            var layer = p.LayerBest is { } best
                ? string.Create(c, $"best {best:F0}") + (p.LayerDefault is { } d && best > 0 ? string.Create(c, $" ({d / best:F2}x default)") : "")
                : "best -";
            var trials = p.BudgetTrials is { } total ? $"{p.Trials}/{total}" : $"{p.Trials}";
            var eta = p.Remaining is { } r ? $"ETA {Format(r)}" : "ETA -";
            var line = string.Create(c, $"[tune] {p.Layer} gen {p.Generation}: {layer} | network {p.NetworkBest:F0} | {trials} trials | {Format(p.Elapsed)} | {eta}");
            if (live)
            {
                writer.Write("\r" + line.PadRight(width));
                width = Math.Max(width, line.Length);
                writer.Flush();
                return;
            }

            // Plain mode: one line per finished step of a layer, not per trial.
            var step = $"{p.Layer}/{p.Generation}";
            if (step != lastLayerStep)
            {
                if (lastLayerStep.Length > 0)
                {
                    writer.WriteLine(pending);
                }

                lastLayerStep = step;
            }

            pending = line;
        }

        private string pending = "";

        public void Finish()
        {
            if (live)
            {
                writer.WriteLine();
            }
            else if (pending.Length > 0)
            {
                writer.WriteLine(pending);
            }

            writer.WriteLine($"[tune] done ({engine})");
        }

        private static string Format(TimeSpan t) => t.TotalHours >= 1 ? t.ToString(@"h\:mm\:ss", CultureInfo.InvariantCulture)
            : t.ToString(@"m\:ss", CultureInfo.InvariantCulture);
    }
}
