using System.Text.Json;
using Covenant.Testing;

namespace Covenant.Cli.Tests;

/// <summary>
/// <c>arch check</c> runs the graph's target's check, so "ok" means the graph can be compiled for its target: every
/// capability mutation of every shipped architecture is refused by <c>arch check</c> and by <c>compile</c> with the
/// capability named at its YAML position, and the unmutated files pass both.
/// </summary>
public class ArchCheckTargetTests
{
    private string folder = "";

    [SetUp]
    public void CreateFolder() => folder = Directory.CreateTempSubdirectory("covenant-archcheck-cli-").FullName;

    [TearDown]
    public void DeleteFolder() => Directory.Delete(folder, recursive: true);

    private static IEnumerable<string> Shipped() => Directory.GetFiles(Repo.Architectures, "*.yaml").Select(Path.GetFileName).Order(StringComparer.Ordinal)!;

    // A small GEMM each family compiles (f16 for the tensor cores, whose f16 mma the first mutations change).
    private static (string Codelet, string Bindings) Gemm(string architecture) => architecture.StartsWith("tensorcore", StringComparison.Ordinal)
        ? ("gemm_f16.cdlt", "M=16,N=16,K=16")
        : ("gemm.cdlt", "M=16,N=32,K=32");

    private string[] Compile(string architecture)
    {
        var (codelet, bindings) = Gemm(Path.GetFileName(architecture));
        return ["compile", Repo.PathOf("codelets", codelet), "--arch", architecture, "--set", bindings, "-o", Path.Combine(folder, "out")];
    }

    [TestCaseSource(typeof(CapabilityMutation), nameof(CapabilityMutation.All))]
    public void ArchCheckAndCompileRefuseAMutatedCapability(CapabilityMutation mutation)
    {
        var path = mutation.WriteTo(folder);
        var (line, column) = mutation.ExpectedPosition();
        var expected = $"{path}({line},{column}): error {mutation.ExpectedId}: ";
        foreach (var run in new[] { CliRun.Of("arch", "check", path), CliRun.Of(Compile(path)) })
        {
            Assert.That(run.ExitCode, Is.EqualTo(CovenantCli.UserError), run.ToString());
            Assert.That(run.ErrorLines.Where(l => l.StartsWith(expected, StringComparison.Ordinal)), Has.Some.Contains($"'{mutation.Capability}'"), run.ToString());
            Assert.That(run.Error, Does.Not.Contain("COV9001").And.Not.Contain("System."), run.ToString());
            Assert.That(run.Out, Does.Not.Contain("ok:"), run.ToString());
        }

        Assert.That(Directory.Exists(Path.Combine(folder, "out")), Is.False, "compile wrote an artifact for a refused graph");
    }

    [TestCaseSource(nameof(Shipped))]
    public void EveryShippedArchitecturePassesArchCheckAndCompiles(string file)
    {
        var path = Repo.PathOf("architectures", file);
        var check = CliRun.Of("arch", "check", path);
        Assert.That(check.ExitCode, Is.Zero, check.ToString());
        Assert.That(check.Out, Does.StartWith($"ok: {path}"));

        var compile = CliRun.Of(Compile(path));
        Assert.That(compile.ExitCode, Is.Zero, compile.ToString());
        Assert.That(File.Exists(Path.Combine(folder, "out", "artifact.json")), Is.True);
    }

    [Test]
    public void JsonCarriesTheTargetsDiagnosticsWithPositions()
    {
        var mutation = CapabilityMutation.All().First(m => m.Architecture == "tensorcore-sm80.yaml" && m.Kind == "+ for *");
        var path = mutation.WriteTo(folder);
        var run = CliRun.Of("arch", "check", path, "--json");
        Assert.That(run.ExitCode, Is.EqualTo(CovenantCli.UserError), run.ToString());
        using var json = JsonDocument.Parse(run.Out);
        var result = json.RootElement.EnumerateArray().Single();
        Assert.That(result.GetProperty("ok").GetBoolean(), Is.False);
        Assert.That(result.GetProperty("target").GetString(), Is.EqualTo("tensorcore"));
        var diagnostic = result.GetProperty("diagnostics").EnumerateArray().First();
        var (line, column) = mutation.ExpectedPosition();
        Assert.That(diagnostic.GetProperty("id").GetString(), Is.EqualTo("COV5304"));
        Assert.That((diagnostic.GetProperty("line").GetInt32(), diagnostic.GetProperty("column").GetInt32()), Is.EqualTo((line, column)));
        Assert.That(diagnostic.GetProperty("message").GetString(), Does.Contain("'mma.sync.aligned.m16n8k16'"));
    }

    [Test]
    public void TuneRefusesAMutatedCapabilityBeforeSearching()
    {
        var mutation = CapabilityMutation.All().First(m => m.Architecture == "vta.yaml" && m.Kind == "+ for *");
        var path = mutation.WriteTo(folder);
        var suite = Path.Combine(folder, "small.yaml");
        File.WriteAllText(suite, "suite: small\nlayers:\n  - {name: g16, codelet: gemm, M: 16, N: 32, K: 32}\n");
        var (line, column) = mutation.ExpectedPosition();
        var run = CliRun.Of("tune", suite, "--codelets", Repo.PathOf("codelets"), "--arch", path, "--budget-trials", "2");
        Assert.That(run.ExitCode, Is.EqualTo(CovenantCli.UserError), run.ToString());
        Assert.That(run.Error, Does.Contain($"{path}({line},{column}): error COV5110: capability 'gemm' of 'gemm'"), run.ToString());
    }

    [Test]
    public void TheVtaExamplesOfIssue16AreRefused()
    {
        var shipped = File.ReadAllText(Repo.PathOf("architectures", "vta.yaml"));
        var core8x8 = Path.Combine(folder, "vta-8x8.yaml");
        File.WriteAllText(core8x8, shipped.Replace("shape: [1, 16]", "shape: [1, 8]", StringComparison.Ordinal)
            .Replace("shape: [16, 16]", "shape: [8, 8]", StringComparison.Ordinal)
            .Replace("shape: {i: 1, j: 16, k: 16}", "shape: {i: 1, j: 8, k: 8}", StringComparison.Ordinal)
            .Replace("shape: {i: 1, j: 16}", "shape: {i: 1, j: 8}", StringComparison.Ordinal));
        var noElement = Path.Combine(folder, "vta-no-weight-element.yaml");
        File.WriteAllText(noElement, string.Join('\n', shipped.Split('\n').Where(l => !l.Contains("element: {type: i8, shape: [16, 16]}", StringComparison.Ordinal))));

        var run = CliRun.Of("arch", "check", core8x8);
        Assert.That(run.ExitCode, Is.EqualTo(CovenantCli.UserError), run.ToString());
        Assert.That(run.Error, Does.Contain("error COV5010").And.Contain("more than 32"));
        run = CliRun.Of("arch", "check", noElement);
        Assert.That(run.ExitCode, Is.EqualTo(CovenantCli.UserError), run.ToString());
        Assert.That(run.Error, Does.Contain("error COV5004").And.Contain("'wgt_buf' needs an element layout"));
    }
}
