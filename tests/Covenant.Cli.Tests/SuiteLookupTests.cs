using System.Text.Json;
using Covenant.Testing;

namespace Covenant.Cli.Tests;

/// <summary>
/// A suite kept outside <c>codelets/suites/</c> finds no codelets by default: the error says which layer, where it
/// looked and that <c>--codelets</c> points elsewhere; <c>--json</c> rows carry the reasons; progress goes to stderr.
/// </summary>
public sealed class SuiteLookupTests
{
    private const string SuiteText = "suite: mine\nlayers:\n  - {name: tiny, codelet: gemm, M: 16, N: 16, K: 32}\n";

    [Test]
    public void ACodeletNotFoundNamesTheLayerWhereItLookedAndTheOption()
    {
        var folder = Directory.CreateTempSubdirectory("covenant-suite-lookup-");
        try
        {
            var suite = Path.Combine(folder.FullName, "mine.yaml");
            File.WriteAllText(suite, SuiteText);

            var run = CliRun.Of("suite", suite, "--arch", Repo.PathOf("architectures", "vta.yaml"), "--no-run");

            Assert.Multiple(() =>
            {
                Assert.That(run.ExitCode, Is.EqualTo(1), run.ToString());
                Assert.That(run.Error, Does.Contain($"{suite}(3,").And.Contain("error COV0001"), run.ToString());
                Assert.That(run.Error, Does.Contain("layer 'tiny' uses codelet 'gemm'").And.Contain("--codelets"), run.ToString());
                Assert.That(run.Error, Does.Contain(Path.GetDirectoryName(folder.FullName)!), "where it looked");
            });
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }

    [Test]
    public void WithCodeletsItCompilesAndJsonRowsCarryReasons()
    {
        var folder = Directory.CreateTempSubdirectory("covenant-suite-lookup-");
        try
        {
            var suite = Path.Combine(folder.FullName, "mine.yaml");
            File.WriteAllText(suite, SuiteText + "  - {name: broken, codelet: nosuch, M: 1}\n");

            var run = CliRun.Of("suite", suite, "--arch", Repo.PathOf("architectures", "vta.yaml"), "--codelets", Repo.Codelets, "--json");

            Assert.That(run.ExitCode, Is.EqualTo(1), run.ToString());
            using var json = JsonDocument.Parse(run.Out);
            var rows = json.RootElement.EnumerateArray().ToDictionary(r => r.GetProperty("name").GetString()!);
            Assert.Multiple(() =>
            {
                Assert.That(rows["tiny"].GetProperty("match").GetBoolean(), Is.True, run.Out);
                Assert.That(rows["broken"].GetProperty("error").GetString(), Is.EqualTo("compile failed"));
                Assert.That(rows["broken"].GetProperty("diagnostics")[0].GetString(), Does.Contain("no nosuch.cdlt").And.Contain("--codelets"));
                Assert.That(run.Error, Does.Contain("[1/2] tiny").And.Contain("[2/2] broken"), "progress as each layer starts");
            });
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }
}
