using System.Text.Json;
using System.Text.RegularExpressions;
using Covenant.Compiler;
using Covenant.Compiler.Compare;
using Covenant.Core.Diagnostics;
using Covenant.Testing;
using Covenant.Runtime.Execution;

namespace Covenant.Cli.Tests;

/// <summary><c>covenantc compare</c> end to end, on small layers so the default test run stays fast.</summary>
public partial class CompareCommandTests
{
    private string folder = "";

    internal static string Vta => Repo.PathOf("architectures", "vta.yaml");

    internal static string Vta32 => Repo.PathOf("architectures", "vta-1x32x32.yaml");

    internal static string Codelets => Repo.PathOf("codelets");

    [SetUp]
    public void CreateFolder() => folder = Directory.CreateTempSubdirectory("covenant-compare-test-").FullName;

    [TearDown]
    public void DeleteFolder() => Directory.Delete(folder, recursive: true);

    /// <summary>A suite of small layers: two int8 GEMMs every VTA runs, and an f16 one no VTA can.</summary>
    internal static string TinySuite(string folder)
    {
        var path = Path.Combine(folder, "tiny.yaml");
        File.WriteAllText(path, """
            suite: tiny
            layers:
              - {name: g16, codelet: gemm, M: 16, N: 16, K: 16}
              - {name: g32, codelet: gemm, M: 32, N: 64, K: 32}
              - {name: h16, codelet: gemm_f16, M: 16, N: 16, K: 16}
            """);
        return path;
    }

    [Test]
    public void TwoVtaConfigurationsAreRunVerifiedAndRanked()
    {
        var suite = TinySuite(folder);
        var csv = Path.Combine(folder, "out.csv");
        var run = CliRun.Of("compare", suite, "--codelets", Codelets, "--arch", Vta, "--arch", Vta32, "--only", "g16,g32", "--csv", csv, "--json");
        Assert.That(run.ExitCode, Is.Zero, run.ToString());
        using var json = JsonDocument.Parse(run.Out);
        var layers = json.RootElement.GetProperty("layers").EnumerateArray().ToList();
        Assert.That(layers.Select(l => l.GetProperty("name").GetString()), Is.EqualTo(new[] { "g16", "g32" }));

        var cycles = new Dictionary<(string, string), double>();
        foreach (var layer in layers)
        {
            var results = layer.GetProperty("results").EnumerateArray().ToList();
            foreach (var result in results)
            {
                Assert.That(result.GetProperty("source").GetString(), Is.EqualTo("simulated"));
                Assert.That(result.GetProperty("match").GetBoolean(), Is.True);
                Assert.That(result.GetProperty("engine").GetString(), Is.EqualTo("VTA simulator"));
                cycles[(layer.GetProperty("name").GetString()!, result.GetProperty("architecture").GetString()!)] = result.GetProperty("cycles").GetDouble();
            }

            // The winner is the architecture with fewer cycles, worked out here from the numbers themselves.
            var best = results.MinBy(r => r.GetProperty("cycles").GetDouble());
            Assert.That(layer.GetProperty("winners").EnumerateArray().Select(w => w.GetString()), Does.Contain(best.GetProperty("architecture").GetString()));
        }

        // The simulated cycles are the ones `covenantc suite` reports for the same layers on the same architecture.
        foreach (var (arch, name) in new[] { (Vta, "vta"), (Vta32, "vta-1x32x32") })
        {
            var alone = CliRun.Of("suite", suite, "--codelets", Codelets, "--arch", arch, "--only", "g16,g32", "--json");
            Assert.That(alone.ExitCode, Is.Zero, alone.ToString());
            using var rows = JsonDocument.Parse(alone.Out);
            foreach (var row in rows.RootElement.EnumerateArray())
            {
                Assert.That(cycles[(row.GetProperty("name").GetString()!, name)], Is.EqualTo(row.GetProperty("cycles").GetDouble()), $"{row} on {name}");
            }
        }

        // Geomean of two layers = sqrt(product); ratio = vta-1x32x32's over vta's.
        var totals = json.RootElement.GetProperty("geomean").GetProperty("architectures").EnumerateArray().ToList();
        var vtaGeomean = Math.Sqrt(cycles[("g16", "vta")] * cycles[("g32", "vta")]);
        var vta32Geomean = Math.Sqrt(cycles[("g16", "vta-1x32x32")] * cycles[("g32", "vta-1x32x32")]);
        Assert.That(totals[0].GetProperty("value").GetDouble(), Is.EqualTo(vtaGeomean).Within(1e-6));
        Assert.That(totals[1].GetProperty("ratioToFirst").GetDouble(), Is.EqualTo(vta32Geomean / vtaGeomean).Within(1e-9));

        var lines = File.ReadAllLines(csv);
        Assert.That(lines, Has.Length.EqualTo(1 + 4));
        Assert.That(lines[0], Is.EqualTo(string.Join(',', CompareCsvWriter.Columns)));
        Assert.That(run.Error, Does.Contain("[4/4]").And.Contain("wrote " + csv));
    }

    [Test]
    public void ALayerThatDoesNotMapOnOneArchitectureIsShownNotFatal()
    {
        var suite = TinySuite(folder);
        var sm80 = Repo.PathOf("architectures", "tensorcore-sm80.yaml");
        var run = CliRun.Of("compare", suite, "--codelets", Codelets, "--arch", Vta, "--arch", sm80, "--only", "g16,h16", "--no-run");
        Assert.That(run.ExitCode, Is.Zero, run.ToString());

        // The summary row of h16: vta did not compile, the tensor cores won; the reason is printed under its layer.
        var h16 = run.Out.Split('\n').First(l => l.StartsWith("h16 ", StringComparison.Ordinal));
        Assert.That(h16, Does.Contain("did not compile").And.EndWith("tensorcore-sm80"));
        Assert.That(run.Out, Does.Contain("vta: compile-failed: COV4002:").And.Contain("f32"));
        Assert.That(run.Out, Does.Contain("--no-run: nothing was executed"));
        Assert.That(run.Out, Does.Match(@"geomean \(1\)"));

        var json = CliRun.Of("compare", suite, "--codelets", Codelets, "--arch", Vta, "--arch", sm80, "--only", "g16,h16", "--no-run", "--json");
        using var document = JsonDocument.Parse(json.Out);
        var results = document.RootElement.GetProperty("layers")[1].GetProperty("results");
        Assert.That(results[0].GetProperty("status").GetString(), Is.EqualTo("compile-failed"));
        Assert.That(results[1].GetProperty("status").GetString(), Is.EqualTo("ok"));
        Assert.That(results[1].GetProperty("source").GetString(), Is.EqualTo("predicted"));
        Assert.That(document.RootElement.GetProperty("layers").EnumerateArray()
            .SelectMany(l => l.GetProperty("results").EnumerateArray()).Select(r => r.GetProperty("match").ValueKind), Is.All.EqualTo(JsonValueKind.Null));
        Assert.That(document.RootElement.GetProperty("geomean").GetProperty("layers").EnumerateArray().Select(l => l.GetString()), Is.EqualTo(new[] { "g16" }));
    }

    private sealed class FakeExecutor(bool match, bool fail) : ICompareExecutor
    {
        public bool CanRun(string target) => true;

        public Result<RunOutcome> Run(Compilation compilation, ulong seed) => fail
            ? Result<RunOutcome>.Failure(new DiagnosticDescriptor("COV6999", "test").Create(null, "the fake executor failed"))
            : Result<RunOutcome>.Success(new RunOutcome("fake simulator", TimingSource.Simulated, match, 1, null, null, match ? "exact" : "c: 1 of 256 differ"));
    }

    [TestCase(false, false, CellStatus.Mismatch, "c: 1 of 256 differ")]
    [TestCase(true, true, CellStatus.RunFailed, "COV6999: the fake executor failed")]
    public void AWrongOrFailedRunNeverWins(bool match, bool fail, CellStatus status, string reason)
    {
        var suite = Suite.Load(TinySuite(folder)).Value!;
        var report = ComparisonDriver.Run(suite, [suite.Layers[0]], [Vta, Vta32], BuiltinTargets.All, new FakeExecutor(match, fail),
            CompareOptions.Default with { CodeletDirectory = Codelets });
        Assert.That(report.Succeeded, Is.True, string.Join("\n", report.Diagnostics));
        var cells = report.Value!.Layers[0].Cells;
        Assert.That(cells.Select(c => (c.Status, c.Reason)), Is.All.EqualTo((status, reason)));
        Assert.That(report.Value.Layers[0].Winners, Is.Empty);
        Assert.That(report.Value.Totals.Select(t => t.Geomean), Is.All.Null);
        Assert.That((report.Value.AnyMismatch, report.Value.AnyRunFailure), Is.EqualTo((status == CellStatus.Mismatch, status == CellStatus.RunFailed)));
    }

    private static IEnumerable<TestCaseData> BadCommandLines()
    {
        yield return new TestCaseData(new[] { "--arch", "VTA", "--bogus" }, "COV0003", "--bogus").SetName("UnknownFlag");
        yield return new TestCaseData(Array.Empty<string>(), "COV0003", "--arch").SetName("NoArchitecture");
        yield return new TestCaseData(new[] { "--arch", "no-such-arch.yaml" }, "COV0001", "no-such-arch.yaml").SetName("MissingArchitectureFile");
        yield return new TestCaseData(new[] { "--arch", "VTA", "--only", "g16,nope" }, "COV0003", "nope").SetName("UnknownLayer");
        yield return new TestCaseData(new[] { "--arch", "VTA", "--out", "/no/such/folder/r.html" }, "COV0004", "/no/such/folder").SetName("OutIntoAMissingFolder");
        yield return new TestCaseData(new[] { "--arch", "VTA", "--arch", "VTA" }, "COV0011", "'vta'").SetName("SameArchitectureTwice");
        yield return new TestCaseData(new[] { "--arch", "VTA", "--seed", "minus-one" }, "COV0003", "minus-one").SetName("BadSeed");
    }

    [TestCaseSource(nameof(BadCommandLines))]
    public void BadCommandLinesAreUserErrorsWithOneClearMessage(string[] flags, string id, string mentions)
    {
        var args = new[] { "compare", TinySuite(folder), "--codelets", Codelets }.Concat(flags.Select(f => f == "VTA" ? Vta : f)).ToArray();
        var run = CliRun.Of(args);
        Assert.That(run.ExitCode, Is.EqualTo(1), run.ToString());
        var errors = run.ErrorLines.Where(l => l.Contains("error COV", StringComparison.Ordinal)).ToList();
        Assert.That(errors, Is.Not.Empty, run.ToString());
        Assert.That(errors[0], Does.Match(DiagnosticLine()).And.Contain(id).And.Contain(mentions));
        Assert.That(run.Error, Does.Not.Contain("   at ").And.Not.Contain("Exception"));
        Assert.That(run.Out, Is.Empty);
    }

    [GeneratedRegex(@"^(\S.*\(\d+,\d+\): |\S+: )?error COV\d{4}: \S")]
    private static partial Regex DiagnosticLine();
}
