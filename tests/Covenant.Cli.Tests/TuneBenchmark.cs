using System.Diagnostics;
using System.Globalization;
using Covenant.Acg;
using Covenant.Codelets.Semantics;
using Covenant.Cli.Commands;
using Covenant.Compiler;
using Covenant.Mapping.Search;
using Covenant.Testing;

namespace Covenant.Cli.Tests;

/// <summary>
/// The tuning benchmark (opt-in: <c>dotnet test tests/Covenant.Cli.Tests --filter TuneBenchmark</c>, or
/// <c>tools/tune/benchmark.sh</c>). Per layer, on VTA with simulator cycles: the default mapping, the tuned one (with
/// and without the correction), seconds and trials until within 5% of the final best, and on small spaces the
/// exhaustive optimum (every valid tile choice enumerated by the solver and simulated). Prints a table; asserts the
/// issue's floors so a regression shows as a failure. Budgets come from COVENANT_TUNE_TRIALS (default 40 per layer).
/// </summary>
[Explicit("minutes of simulation; run on demand")]
[Category("Benchmark")]
public class TuneBenchmark
{
    private static readonly string[] ResNetLayers = (Environment.GetEnvironmentVariable("COVENANT_TUNE_LAYERS")
        ?? "res2_1x1a,res2_3x3,res3_1x1c,res4_3x3,res4_1x1b,res5_1x1c").Split(',');

    private static int Budget => int.TryParse(Environment.GetEnvironmentVariable("COVENANT_TUNE_TRIALS"), CultureInfo.InvariantCulture, out var n) ? n : 40;

    private sealed record Row(string Layer, double Default, double Tuned, double TunedRaw, int TrialsTo5, double SecondsTo5, int RawTrialsTo5, double? Optimum, int? SpaceSize, double Seconds, double? Bound);

    [Test]
    public void ResNet50OnVta()
    {
        var suite = Suite.Load(Repo.PathOf("codelets", "suites", "resnet50.yaml")).Value!;
        var rows = ResNetLayers.Select(name => Tune(suite, suite.Layers.Single(l => l.Name == name), exhaustiveLimit: 0)).ToList();
        Print("ResNet-50 on VTA (simulator cycles)", rows);
        var ratios = rows.Select(r => r.Tuned / r.Default).Order().ToList();
        var median = Median(ratios);
        TestContext.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"median tuned/default: {median:F3} (floor 0.8)"));
        // What no mapping can beat: the median of the layers' lower bounds over their defaults.
        TestContext.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"median bound/default: {Median([.. rows.Select(r => (r.Bound ?? double.NaN) / r.Default).Order()]):F3} (the least any mapping could reach)"));
        Assert.Multiple(() =>
        {
            Assert.That(median, Is.LessThanOrEqualTo(0.8), "issue floor: tuned VTA cycles <= 0.8x default on the ResNet-50 median");
            Assert.That(rows.Min(r => r.SecondsTo5), Is.LessThan(60), "issue floor: a ResNet-50 layer within 5% of its final best in < 60 s");
        });
    }

    [Test]
    public void SmallSpacesAgainstTheExhaustiveOptimum()
    {
        var path = Path.Combine(Path.GetTempPath(), $"covenant-small-{Guid.NewGuid():N}.yaml");
        File.WriteAllText(path, """
            suite: small
            layers:
              - {name: g16x32x32, codelet: gemm, M: 16, N: 32, K: 32}
              - {name: g64x64x64, codelet: gemm, M: 64, N: 64, K: 64}
              - {name: c7_1x1, codelet: conv2d, N: 1, H: 7, W: 7, C: 32, K: 32, R: 1, S: 1}
            """);
        try
        {
            var suite = Suite.Load(path).Value!;
            var rows = suite.Layers.Select(l => Tune(suite, l, exhaustiveLimit: 5_000, codelets: Repo.PathOf("codelets"))).ToList();
            Print("small spaces on VTA: search vs exhaustive optimum (simulator cycles)", rows);
        }
        finally
        {
            File.Delete(path);
        }
    }

    private static Row Tune(Suite suite, SuiteLayer layer, int exhaustiveLimit, string? codelets = null)
    {
        var codeletPath = suite.CodeletPath(layer, codelets);
        var archPath = Repo.PathOf("architectures", "vta.yaml");
        var graph = AcgLoader.Load(archPath).Value!;
        var instance = CodeletLoader.Load(codeletPath).Value!.Instantiate(layer.Bindings).Value!;
        var identity = LayerIdentity.Of(layer.Name, layer.Codelet, File.ReadAllText(codeletPath), instance.Sizes, graph.Name, File.ReadAllText(archPath));
        var context = new CliContext(TextWriter.Null, TextWriter.Null);

        (List<(double Seconds, int Trial, double Best)> Curve, double? Default, double Seconds, double? Bound) Run(bool correction)
        {
            using var tuner = LayerTuner.Create(identity, instance, graph, (BuiltinTargets.All.CreateMeasurer(graph) ?? new CostModelMeasurer()),
                SearchOptions.Default with { Correction = correction }).Value!;
            var clock = Stopwatch.StartNew();
            var curve = new List<(double, int, double)>();
            while (tuner.Trials < Budget)
            {
                // The best so far as each trial finishes (not at the end of its step).
                var trials = tuner.Step(Math.Min(4, Budget - tuner.Trials), CancellationToken.None,
                    trial => curve.Add((clock.Elapsed.TotalSeconds, trial.Number, tuner.Best?.Measured ?? double.PositiveInfinity)));

                if (trials.Count == 0)
                {
                    break;
                }
            }

            return (curve, tuner.DefaultCost, clock.Elapsed.TotalSeconds, tuner.Bound);
        }

        var corrected = Run(correction: true);
        var raw = Run(correction: false);
        double? optimum = null;
        int? size = null;
        if (exhaustiveLimit > 0)
        {
            using var tuner = LayerTuner.Create(identity, instance, graph, (BuiltinTargets.All.CreateMeasurer(graph) ?? new CostModelMeasurer())).Value!;
            var (all, complete) = tuner.Enumerate(exhaustiveLimit);
            if (complete)
            {
                size = all.Count;
                optimum = all.Select(c => tuner.MeasureOnly(c, CancellationToken.None).Cost ?? double.PositiveInfinity).Min();
            }
        }

        var best = corrected.Curve[^1].Best;
        var target = 1.05 * Math.Min(best, Math.Min(raw.Curve[^1].Best, optimum ?? double.PositiveInfinity));
        var reach = corrected.Curve.FirstOrDefault(p => p.Best <= 1.05 * best);
        var rawReach = raw.Curve.FirstOrDefault(p => p.Best <= target);
        var reachCommon = corrected.Curve.FirstOrDefault(p => p.Best <= target);
        TestContext.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{layer.Name}: trials to within 5% of the best either run found: corrected {(reachCommon.Trial > 0 ? reachCommon.Trial : -1)}, raw model {(rawReach.Trial > 0 ? rawReach.Trial : -1)}"));
        return new Row(layer.Name, corrected.Default ?? double.NaN, best, raw.Curve[^1].Best,
            reachCommon.Trial > 0 ? reachCommon.Trial : -1, reach.Seconds, rawReach.Trial > 0 ? rawReach.Trial : -1, optimum, size, corrected.Seconds, corrected.Bound);
    }

    private static double Median(List<double> sorted) =>
        sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[(sorted.Count / 2) - 1] + sorted[sorted.Count / 2]) / 2;

    private static void Print(string title, List<Row> rows)
    {
        var c = CultureInfo.InvariantCulture;
        TestContext.Out.WriteLine($"{title}; {Budget} trials per layer and run; timings on a shared 2-core machine");
        TestContext.Out.WriteLine("| layer | default | tuned | tuned/default | bound | tuned/bound | tuned, raw model | trials to 5% (corrected / raw) | s to 5% of final | exhaustive optimum (space) | tune s |");
        TestContext.Out.WriteLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var r in rows)
        {
            var optimum = r.Optimum is { } o ? string.Create(c, $"{o:F0} ({r.SpaceSize})") : "-";
            TestContext.Out.WriteLine(string.Create(c,
                $"| {r.Layer} | {r.Default:F0} | {r.Tuned:F0} | {r.Tuned / r.Default:F3} | {r.Bound:F0} | {r.Tuned / r.Bound:F3} | {r.TunedRaw:F0} | {r.TrialsTo5} / {r.RawTrialsTo5} | {r.SecondsTo5:F1} | {optimum} | {r.Seconds:F1} |"));
        }
    }
}
