using System.Text.Json.Nodes;
using Covenant.Cli.Commands;
using Covenant.Compiler;
using Covenant.Mapping.Search;
using Covenant.Testing;

namespace Covenant.Cli.Tests;

/// <summary><c>covenantc tune</c> and <c>compile --records</c>, on small VTA layers measured by the simulator.</summary>
public class TuneCommandTests
{
    private string folder = "";

    private string Suite => Path.Combine(folder, "small.yaml");

    private string Records => Path.Combine(folder, "records.jsonl");

    private static string Vta => Repo.PathOf("architectures", "vta.yaml");

    // g16: a GEMM whose default mapping is well off the best one (exhaustively: 1267 vs 980 simulator cycles when written).
    [SetUp]
    public void CreateSuite()
    {
        folder = Directory.CreateTempSubdirectory("covenant-tune-").FullName;
        File.WriteAllText(Suite, """
            suite: small
            layers:
              - {name: c14, codelet: conv2d, N: 1, H: 14, W: 14, C: 64, K: 64, R: 1, S: 1}
              - {name: g16, codelet: gemm, M: 16, N: 32, K: 32}
            """);
    }

    [TearDown]
    public void DeleteSuite() => Directory.Delete(folder, recursive: true);

    private string[] Tune(params string[] extra) =>
        ["tune", Suite, "--codelets", Repo.PathOf("codelets"), "--arch", Vta, .. extra];

    [Test]
    public void TuningBeatsTheDefaultMappingOfASmallVtaLayer()
    {
        var run = CliRun.Of(Tune("--only", "g16", "--budget-trials", "20", "--json"));
        Assert.That(run.ExitCode, Is.EqualTo(0), run.ToString());
        var layer = JsonNode.Parse(run.Out)!["layers"]![0]!;
        var (defaultCost, best) = ((double)layer["defaultCost"]!, (double)layer["bestCost"]!);
        TestContext.Out.WriteLine($"default {defaultCost}, tuned {best}: {layer["tiles"]}");
        Assert.That(best, Is.LessThan(0.9 * defaultCost), "the search finds a mapping at least 10% faster in simulator cycles");
        Assert.That(run.Error, Does.Contain("[tune] g16 gen 1:"), "plain progress lines when not on a terminal");
    }

    [Test]
    public void AnInterruptedRunLosesNothingAndTheRerunContinues()
    {
        var stderr = new StringWriter();
        var settings = new TuneSettings(Suite, Vta)
        {
            CodeletDirectory = Repo.PathOf("codelets"),
            BudgetTrials = 12,
            RecordsPath = Records,
        };
        using var stop = new CancellationTokenSource();
        var seen = 0;
        var exit = TuneCommand.Run(new CliContext(new StringWriter(), stderr), settings with
        {
            OnTrial = _ =>
            {
                if (++seen == 5)
                {
                    stop.Cancel();
                }
            },
        }, stop.Token);
        Assert.That(exit, Is.EqualTo(TuneCommand.Interrupted), stderr.ToString());
        Assert.That(TuningLog.Read(Records).Value!.Records, Has.Length.EqualTo(5));

        var rerun = CliRun.Of(Tune("--budget-trials", "12", "--records", Records));
        Assert.That(rerun.ExitCode, Is.EqualTo(0), rerun.ToString());
        Assert.That(rerun.Error, Does.Contain("resumed"));
        var records = TuningLog.Read(Records).Value!;
        Assert.Multiple(() =>
        {
            Assert.That(records.SkippedLines, Is.Empty);
            Assert.That(records.Records, Has.Length.EqualTo(12));
            Assert.That(records.Records.GroupBy(r => r.Layer).Select(g => g.Count(r => r.IsDefault)), Is.All.EqualTo(1), "each default measured once");
        });

        // Spent: a third run measures nothing more.
        var third = CliRun.Of(Tune("--budget-trials", "12", "--records", Records));
        Assert.That(third.ExitCode, Is.EqualTo(0), third.ToString());
        Assert.That(TuningLog.Read(Records).Value!.Records, Has.Length.EqualTo(12));
    }

    [Test]
    public void CompileWithRecordsRebuildsTheBestRecordedMapping()
    {
        var tune = CliRun.Of(Tune("--only", "c14", "--budget-trials", "12", "--records", Records));
        Assert.That(tune.ExitCode, Is.EqualTo(0), tune.ToString());
        var best = TuningLog.Read(Records).Value!.Records.Where(r => r.Measured is not null).MinBy(r => r.Measured)!;

        var artifact = Path.Combine(folder, "c14");
        var compile = CliRun.Of("compile", Repo.PathOf("codelets", "conv2d.cdlt"), "--arch", Vta, "--set", "N=1,H=14,W=14,C=64,K=64,R=1,S=1",
            "-o", artifact, "--records", Records, "--json");
        Assert.That(compile.ExitCode, Is.EqualTo(0), compile.ToString());
        var report = JsonNode.Parse(compile.Out)!;
        Assert.That((string?)report["tunedFrom"], Does.Contain($"trial {best.Trial}"));

        var run = CliRun.Of("run", artifact, "--json");
        Assert.That(run.ExitCode, Is.EqualTo(0), run.ToString());
        Assert.That((double)JsonNode.Parse(run.Out)!["cycles"]!, Is.EqualTo(best.Measured), "the recorded mapping, cycle for cycle");
    }

    [Test]
    public void ARecordThatNoLongerAppliesFallsBackToTheDefaultWithAWarning()
    {
        var tune = CliRun.Of(Tune("--only", "g16", "--budget-trials", "4", "--records", Records));
        Assert.That(tune.ExitCode, Is.EqualTo(0), tune.ToString());
        var lines = File.ReadAllLines(Records).Select(l => l.Replace("\"blocks(m)=", "\"blocks(m)=99", StringComparison.Ordinal));
        File.WriteAllLines(Records, lines);

        var compile = CliRun.Of("compile", Repo.PathOf("codelets", "gemm.cdlt"), "--arch", Vta, "--set", "M=16,N=32,K=32",
            "-o", Path.Combine(folder, "g16"), "--records", Records);
        Assert.That(compile.ExitCode, Is.EqualTo(0), compile.ToString());
        Assert.That(compile.Error, Does.Contain("warning COV4101").And.Contain("no longer applies"));
        Assert.That(compile.Out, Does.Not.Contain("tuned:"));

        // Another shape has no record: a note, and the default mapping.
        var other = CliRun.Of("compile", Repo.PathOf("codelets", "gemm.cdlt"), "--arch", Vta, "--set", "M=16,N=16,K=32",
            "-o", Path.Combine(folder, "g16b"), "--records", Records);
        Assert.That(other.ExitCode, Is.EqualTo(0), other.ToString());
        Assert.That(other.Error, Does.Contain("no usable record"));
    }

    [TestCase("--budget-trials", "0")]
    [TestCase("--budget-seconds", "-3")]
    [TestCase("--measure", "guess")]
    [TestCase("--only", "nosuchlayer")]
    [TestCase("--frobnicate", "1")]
    public void BadFlagsAreUserErrors(string flag, string value)
    {
        var run = CliRun.Of(Tune(flag, value));
        Assert.That(run.ExitCode, Is.EqualTo(1), run.ToString());
        Assert.That(run.Error, Does.Contain("error COV0"));
        Assert.That(run.Error, Does.Not.Contain("   at "), "no stack trace");
    }

    [Test]
    public void CompileWithAMissingRecordsFileIsAUserError()
    {
        var run = CliRun.Of("compile", Repo.PathOf("codelets", "gemm.cdlt"), "--arch", Vta, "--set", "M=16,N=32,K=32",
            "-o", Path.Combine(folder, "x"), "--records", Path.Combine(folder, "missing.jsonl"));
        Assert.That(run.ExitCode, Is.EqualTo(1), run.ToString());
        Assert.That(run.Error, Does.Contain("error COV0001"));
    }
}
