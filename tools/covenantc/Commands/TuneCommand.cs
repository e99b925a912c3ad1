using System.Collections.Immutable;
using System.CommandLine;
using System.Globalization;
using Covenant.Compiler;
using Covenant.Core.Diagnostics;
using Covenant.Mapping;
using Covenant.Mapping.Search;

namespace Covenant.Cli.Commands;

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

    private const int DefaultTrialsPerLayer = TuneSettings.DefaultTrialsPerLayer;

    public static Command Build(CliContext context)
    {
        var suite = CliArguments.File("suite", "The suite file (.yaml), e.g. codelets/suites/resnet50.yaml.");
        var arch = new Option<string>("--arch") { Description = "The architecture file (.yaml).", Required = true };
        var trials = new Option<int?>("--budget-trials") { Description = $"Measurements in all, shared across the layers (default {DefaultTrialsPerLayer} per layer). Trials in --records count." };
        var seconds = new Option<double?>("--budget-seconds") { Description = "Wall-clock seconds for this run; with --budget-trials, whichever ends first." };
        var records = new Option<string?>("--records") { Description = "Append every trial to this JSON-lines file and resume from what it holds." };
        var only = new Option<string[]>("--only") { Description = "Tune only these layers (repeatable or comma-separated)." };
        var codelets = new Option<string?>("--codelets") { Description = "Where the codelets are (default: the suite folder's parent)." };
        // ulong like every other --seed, so one flag name has one type; the search itself takes 32 bits.
        var seed = new Option<ulong>("--seed") { Description = "Seed of the search (at most 4294967295).", DefaultValueFactory = _ => 1 };
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

            if (parse.GetValue(seed) > uint.MaxValue)
            {
                bad.Add($"--seed must be at most {uint.MaxValue} (the search's generator takes a 32-bit seed)");
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
                    Seed = (uint)parse.GetValue(seed),
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

    /// <summary>Tunes the suite's layers (<see cref="TuneDriver"/>); returns the exit code.</summary>
    public static int Run(CliContext context, TuneSettings settings, CancellationToken cancellation)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(settings);
        var loaded = Suite.Load(settings.SuitePath);
        if (context.Report(loaded.Diagnostics) || !loaded.Succeeded)
        {
            return CovenantCli.UserError;
        }

        var layers = CompileCommands.SelectLayers(context, loaded.Value, [.. settings.Only]);
        if (layers is null)
        {
            return CovenantCli.UserError;
        }

        ProgressLine? progress = null;
        var reporter = new TuneReporter
        {
            Note = context.Error.WriteLine,
            LayerFailed = (layer, diagnostics) =>
            {
                context.Error.WriteLine($"layer {layer}:");
                context.Report(diagnostics);
            },
            Progress = p => (progress ??= new ProgressLine(context.Error, settings.LiveProgress)).Update(p),
        };
        var tuned = new TuneDriver(context.Targets).Run(loaded.Value, layers, settings, reporter, cancellation);
        if (context.Report(tuned.Diagnostics) || !tuned.Succeeded)
        {
            return CovenantCli.UserError;
        }

        (progress ?? new ProgressLine(context.Error, settings.LiveProgress)).Finish(tuned.Value.MeasuredBy);
        PrintResult(context, settings, tuned.Value);
        return tuned.Value.Interrupted ? Interrupted : tuned.Value.LayersFailed ? CovenantCli.UserError : CovenantCli.Success;
    }

    /// <summary>For <c>compile --records</c>: the pinned mapping (null for the default one); false when the log cannot be read.</summary>
    public static bool TryPinFromRecords(CliContext context, string recordsPath, string codeletPath, ImmutableDictionary<string, long> bindings,
        string architecturePath, out PinnedMapping? pinned)
    {
        ArgumentNullException.ThrowIfNull(context);
        var result = TuneDriver.PinFromRecords(recordsPath, codeletPath, bindings, architecturePath, context.Error.WriteLine);
        context.Report(result.Diagnostics);
        pinned = result.Value?.Mapping;
        return result.Succeeded;
    }

    private static void PrintResult(CliContext context, TuneSettings settings, TuneOutcome outcome)
    {
        var c = CultureInfo.InvariantCulture;
        var (totalDefault, totalBest) = (outcome.NetworkDefault, outcome.NetworkBest);
        if (settings.Json)
        {
            context.WriteJson(new
            {
                interrupted = outcome.Interrupted,
                seconds = Math.Round(outcome.Elapsed.TotalSeconds, 2),
                trials = outcome.Trials,
                engine = outcome.Engine,
                networkDefault = totalDefault,
                networkBest = totalBest,
                layers = outcome.Layers.Select(t => new
                {
                    name = t.Name,
                    trials = t.Trials,
                    generations = t.Generations,
                    defaultCost = t.DefaultCost,
                    bestCost = t.BestCost,
                    bestTrial = t.BestTrial,
                    speedup = t.DefaultCost is { } d && t.BestCost is { } b && b > 0 ? d / b : (double?)null,
                    bound = t.Bound,
                    problem = t.Problem,
                    tiles = t.Tiles,
                    constraints = t.Constraints.IsDefault ? null : t.Constraints.ToArray(),
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
        var bounded = outcome.Layers.Any(t => t.Bound is not null);
        var boundHeader = bounded ? string.Create(c, $" {"bound",12} {"tuned/bound",11}") : "";
        o.WriteLine(string.Create(c, $"{"layer",-14} {"default",12} {"tuned",12} {"speedup",8}{boundHeader} {"trials",7} {"gens",5} {"repaired",9} {"dropped",8}  tuned mapping"));
        foreach (var t in outcome.Layers)
        {
            var speedup = t.DefaultCost is { } d && t.BestCost is { } b && b > 0 ? string.Create(c, $"{d / b:F2}x") : "-";
            var bound = !bounded ? ""
                : t.Bound is { } limit && t.BestCost is { } best ? string.Create(c, $" {limit,12:F0} {best / limit,11:F3}") : string.Create(c, $" {"-",12} {"-",11}");
            o.WriteLine(string.Create(c,
                $"{t.Name,-14} {t.DefaultCost,12:F0} {t.BestCost,12:F0} {speedup,8}{bound} {t.Trials,7} {t.Generations,5} {t.Counters.Repaired,9} {t.Counters.Dropped,8}  {t.Tiles}"));
        }

        o.WriteLine(string.Create(c, $"network: {totalDefault:F0} -> {totalBest:F0} ({(totalBest > 0 ? totalDefault / totalBest : 0):F2}x) in {outcome.Trials} trials, {outcome.Elapsed.TotalSeconds:F1} s; {outcome.Engine}"));
        if (outcome.Interrupted)
        {
            o.WriteLine(settings.RecordsPath is null
                ? "interrupted"
                : $"interrupted; every finished trial is in {settings.RecordsPath}: rerun the same command to continue");
        }
    }

    /// <summary>
    /// Progress on stderr: on a terminal one line rewritten in place (<c>\r</c>); otherwise (redirected, CI) a plain line
    /// per layer step, so logs stay readable.
    /// </summary>
    private sealed class ProgressLine(TextWriter writer, bool live)
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

        public void Finish(string engine)
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
