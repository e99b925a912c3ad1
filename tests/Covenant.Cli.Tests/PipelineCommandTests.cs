using Covenant.Compiler;
using Covenant.Testing;

namespace Covenant.Cli.Tests;

public class PipelineCommandTests
{
    [Test]
    public void RunOnADirectoryWithoutAnArtifactIsAUserError()
    {
        var directory = Directory.CreateTempSubdirectory("covenant-empty-");
        try
        {
            var run = CliRun.Of("run", directory.FullName);
            Assert.That(run.ExitCode, Is.EqualTo(1), run.ToString());
            Assert.That(run.Error, Does.Contain("error COV0005").And.Contain("artifact.json"));
        }
        finally
        {
            directory.Delete();
        }
    }

    [Test]
    public void CompileReportsCodeletErrorsBeforeTouchingTheArchitecture()
    {
        var run = CliRun.Of("compile", Repo.PathOf("codelets", "gemm.cdlt"), "--arch", Repo.PathOf("architectures", "vta.yaml"),
            "--set", "M=4,N=4", "-o", Path.Combine(Path.GetTempPath(), "covenant-never-written"));
        Assert.That(run.ExitCode, Is.EqualTo(1), run.ToString());
        Assert.That(run.Error, Does.Contain("error COV3101").And.Contain("'K'"));
        Assert.That(Directory.Exists(Path.Combine(Path.GetTempPath(), "covenant-never-written")), Is.False);
    }

    [Test]
    public void CompileRejectsABadDramBase()
    {
        var run = CliRun.Of("compile", Repo.PathOf("codelets", "gemm.cdlt"), "--arch", Repo.PathOf("architectures", "vta.yaml"),
            "--set", "M=4,N=4,K=4", "-o", "x", "--dram-base", "0xZZ");
        Assert.That(run.ExitCode, Is.EqualTo(1), run.ToString());
        Assert.That(run.Error, Does.Contain("--dram-base"));
    }

    [Test]
    public void SuiteRejectsAnUnknownLayer()
    {
        var run = CliRun.Of("suite", Repo.PathOf("codelets", "suites", "dlrm.yaml"), "--arch", Repo.PathOf("architectures", "vta.yaml"),
            "--only", "bot_mlp9");
        Assert.That(run.ExitCode, Is.EqualTo(1), run.ToString());
        Assert.That(run.Error, Does.Contain("bot_mlp9"));
    }

    private static IEnumerable<string> ShippedSuites() =>
        Directory.GetFiles(Repo.PathOf("codelets", "suites"), "*.yaml").Order(StringComparer.Ordinal);

    [TestCaseSource(nameof(ShippedSuites))]
    public void EveryShippedSuiteLoadsAndEveryLayerInstantiates(string path)
    {
        var suite = Suite.Load(path);
        Assert.That(suite.Succeeded, Is.True, string.Join("\n", suite.Diagnostics));

        // Counted independently of the loader: one "- {name:" line per layer.
        var expected = File.ReadLines(path).Count(l => l.TrimStart().StartsWith("- {name:", StringComparison.Ordinal));
        Assert.That(suite.Value!.Layers, Has.Length.EqualTo(expected));
        foreach (var layer in suite.Value.Layers)
        {
            var codelet = Codelets.Semantics.CodeletLoader.Load(suite.Value.CodeletPath(layer));
            Assert.That(codelet.Succeeded, Is.True, layer.Name);
            var instance = codelet.Value!.Instantiate(layer.Bindings, layer.Location);
            Assert.That(instance.Succeeded, Is.True, $"{layer.Name}: {string.Join("\n", instance.Diagnostics)}");
        }
    }

    [Test]
    public void ASuiteErrorIsPositioned()
    {
        var path = Path.Combine(Path.GetTempPath(), $"covenant-suite-{Guid.NewGuid():N}.yaml");
        File.WriteAllText(path, "suite: s\nlayers:\n  - {name: a, codelet: gemm, M: 4, N: four, K: 4}\n");
        try
        {
            var suite = Suite.Load(path);
            Assert.That(suite.Succeeded, Is.False);
            var diagnostic = suite.Diagnostics.Single();
            Assert.That((diagnostic.Location!.Line, diagnostic.Location.Column), Is.EqualTo((3, 39)));
            Assert.That(diagnostic.Message, Does.Contain("'N' must be an integer"));
        }
        finally
        {
            File.Delete(path);
        }
    }
}
