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

public class EndToEndTests
{
    private static CliRun Compile(string arch, string codelet, string bindings, DirectoryInfo directory)
    {
        var compile = CliRun.Of("compile", Repo.PathOf("codelets", codelet + ".cdlt"), "--arch", Repo.PathOf("architectures", arch + ".yaml"),
            "--set", bindings, "-o", directory.FullName);
        Assert.That(compile.ExitCode, Is.Zero, compile.ToString());
        return compile;
    }

    [TestCase("vta", "gemm", "M=7,N=13,K=29")]
    [TestCase("vta-1x32x32", "gemm", "M=7,N=13,K=29")]
    [TestCase("vta", "conv2d", "N=1,H=9,W=7,C=5,K=18,R=3,S=3,stride=2,pad=1")]
    [TestCase("vta", "fc_requant", "M=3,N=20,K=40,shift=5")]
    public void CompileThenRunMatchesTheReference(string arch, string codelet, string bindings)
    {
        var directory = Directory.CreateTempSubdirectory("covenant-e2e-");
        try
        {
            Compile(arch, codelet, bindings, directory);
            foreach (var file in new[] { "artifact.json", "program.bin", "memory-map.json", "mapping.json", "listing.txt", "codelet.cdlt", "architecture.yaml" })
            {
                Assert.That(File.Exists(Path.Combine(directory.FullName, file)), Is.True, file);
            }

            // Instructions are 16 bytes each.
            Assert.That(new FileInfo(Path.Combine(directory.FullName, "program.bin")).Length % 16, Is.Zero);

            var run = CliRun.Of("run", directory.FullName, "--seed", "7", "--json");
            Assert.That(run.ExitCode, Is.Zero, run.ToString());
            using var json = System.Text.Json.JsonDocument.Parse(run.Out);
            Assert.That(json.RootElement.GetProperty("match").GetBoolean(), Is.True);
            Assert.That(json.RootElement.GetProperty("cycles").GetDouble(), Is.GreaterThan(0));
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    [TestCase("vnni-avx512", "conv2d", "N=1,H=9,W=7,C=5,K=18,R=3,S=3,stride=2,pad=1", false)]
    [TestCase("vnni-avx512", "fc_requant", "M=3,N=20,K=40,shift=5", true)]
    [TestCase("vnni-avx256", "gemm", "M=7,N=13,K=29", true)]
    public void VnniCompileThenRunMatchesTheReference(string arch, string codelet, string bindings, bool simulate)
    {
        var directory = Directory.CreateTempSubdirectory("covenant-e2e-vnni-");
        try
        {
            var compile = Compile(arch, codelet, bindings, directory);
            Assert.That(compile.Out, Does.Contain("l1d:").And.Contain("l2:"), "the cache levels' tiles are shown");
            foreach (var file in new[] { "artifact.json", "vnni_kernel.c", "vnni_plan.json", "mapping.json", "listing.txt" })
            {
                Assert.That(File.Exists(Path.Combine(directory.FullName, file)), Is.True, file);
            }

            var arguments = simulate ? new[] { "run", directory.FullName, "--simulate" } : ["run", directory.FullName];
            var run = CliRun.Of(arguments);
            Assert.That(run.ExitCode, Is.Zero, run.ToString());
            Assert.That(run.Out, Does.Contain("exact match"));
            if (simulate)
            {
                Assert.That(run.Out, Does.Contain("VNNI instruction simulator"), "a forced fallback says it simulated");
            }
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    [TestCase("tensorcore-sm80", "gemm_f16", "M=33,N=17,K=40")]
    [TestCase("tensorcore-sm90", "conv2d", "N=1,H=7,W=6,C=20,K=24,R=3,S=3,pad=1")]
    public void TensorCoreCompileThenRunMatchesTheReference(string arch, string codelet, string bindings)
    {
        var directory = Directory.CreateTempSubdirectory("covenant-e2e-tc-");
        try
        {
            Compile(arch, codelet, bindings, directory);
            var cuda = File.ReadAllText(Path.Combine(directory.FullName, "tensorcore_kernel.cu"));
            Assert.That(cuda, Does.Contain("mma.sync.aligned").And.Contain("ldmatrix").And.Contain("cp.async"));

            var run = CliRun.Of("run", directory.FullName, "--json");
            Assert.That(run.ExitCode, Is.Zero, run.ToString());
            using var json = System.Text.Json.JsonDocument.Parse(run.Out);
            Assert.That(json.RootElement.GetProperty("match").GetBoolean(), Is.True);
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    [Test]
    public void SuiteJsonHasOneObjectPerLayerWithNameMatchAndCycles()
    {
        var run = CliRun.Of("suite", Repo.PathOf("codelets", "suites", "dlrm.yaml"), "--arch", Repo.PathOf("architectures", "vta.yaml"),
            "--only", "bot_mlp1,top_mlp5", "--json");
        Assert.That(run.ExitCode, Is.Zero, run.ToString());
        using var json = System.Text.Json.JsonDocument.Parse(run.Out);
        var rows = json.RootElement.EnumerateArray().ToList();
        Assert.That(rows.Select(r => r.GetProperty("name").GetString()), Is.EqualTo(new[] { "bot_mlp1", "top_mlp5" }));
        Assert.That(rows.All(r => r.GetProperty("match").GetBoolean() && r.GetProperty("cycles").GetDouble() > 0), Is.True);
    }
}

public class ScatterEndToEndTests
{
    [Test]
    public void TransposedConvolutionCompilesAndRunsExactly()
    {
        var directory = Directory.CreateTempSubdirectory("covenant-scatter-");
        try
        {
            var compile = CliRun.Of("compile", Repo.PathOf("codelets", "conv2d_transposed.cdlt"), "--arch", Repo.PathOf("architectures", "vta.yaml"),
                "--set", "N=1,H=5,W=4,C=16,K=16,R=3,S=3,stride=2,pad=1", "-o", directory.FullName);
            Assert.That(compile.ExitCode, Is.Zero, compile.ToString());
            var run = CliRun.Of("run", directory.FullName);
            Assert.That(run.ExitCode, Is.Zero, run.ToString());
            Assert.That(run.Out, Does.Contain("exact match"));
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }
}

public class DumpSmtTests
{
    [Test]
    public void CompileWritesEverySolverQueryAsSmtLib()
    {
        var directory = Directory.CreateTempSubdirectory("covenant-smt-");
        try
        {
            var smt = Path.Combine(directory.FullName, "smt");
            var compile = CliRun.Of("compile", Repo.PathOf("codelets", "gemm.cdlt"), "--arch", Repo.PathOf("architectures", "vta.yaml"),
                "--set", "M=8,N=16,K=32", "-o", Path.Combine(directory.FullName, "artifact"), "--dump-smt", smt);
            Assert.That(compile.ExitCode, Is.Zero, compile.ToString());
            var files = Directory.GetFiles(smt, "*.smt2");
            Assert.That(files, Is.Not.Empty);
            var text = File.ReadAllText(files[0]);
            Assert.That(text, Does.Contain("(declare-fun").And.Contain("(check-sat)"));
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }
}
