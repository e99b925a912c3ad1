using System.Collections.Immutable;
using System.Text.Json;
using Covenant.Codelets;
using Covenant.Runtime;
using Covenant.Testing;

namespace Covenant.Cli.Tests;

public class CodeletCommandTests
{
    private static string Codelet(string name) => Repo.PathOf("codelets", name);

    [Test]
    public void CheckAcceptsEveryShippedCodelet()
    {
        var files = Directory.GetFiles(Repo.Codelets, "*.cdlt").Order(StringComparer.Ordinal).ToArray();
        Assert.That(files, Is.Not.Empty);
        var run = CliRun.Of(["codelet", "check", .. files]);
        Assert.That(run.ExitCode, Is.Zero, run.ToString());
        Assert.That(run.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries), Has.Length.EqualTo(files.Length));
    }

    [Test]
    public void CheckReportsAPositionedErrorAndExitsOne()
    {
        var path = Path.Combine(Path.GetTempPath(), $"covenant-bad-{Guid.NewGuid():N}.cdlt");
        File.WriteAllText(path, "codelet broken<M>(a: i8[M]) -> b: i32[M]\n{\n    for m:\n        b[m] += a[m] *\n}\n");
        try
        {
            var run = CliRun.Of("codelet", "check", path);
            Assert.That(run.ExitCode, Is.EqualTo(1), run.ToString());
            Assert.That(run.Error, Does.Match(@"\(\d+,\d+\): error COV2\d{3}: "));
            Assert.That(run.Error, Does.Not.Contain("   at "), "no stack trace for a user mistake");
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Test]
    public void RunPrintsTheChecksumOfAnIndependentlyComputedGemm()
    {
        const int M = 3, N = 5, K = 7;
        var run = CliRun.Of("codelet", "run", Codelet("gemm.cdlt"), "--set", $"M={M},N={N}", "--set", $"K={K}", "--seed", "42", "--json");
        Assert.That(run.ExitCode, Is.Zero, run.ToString());

        using var json = JsonDocument.Parse(run.Out);
        var output = json.RootElement.GetProperty("outputs")[0];
        Assert.That(output.GetProperty("shape").EnumerateArray().Select(e => e.GetInt32()), Is.EqualTo(new[] { M, N }));

        // The same seeded inputs, multiplied by plain loops here rather than by the interpreter.
        var a = RandomTensors.Generate(ElementType.I8, [M, K], 42, "a");
        var b = RandomTensors.Generate(ElementType.I8, [K, N], 42, "b");
        var c = new int[M * N];
        for (var m = 0; m < M; m++)
        {
            for (var n = 0; n < N; n++)
            {
                for (var k = 0; k < K; k++)
                {
                    c[(m * N) + n] += a.Integers[(m * K) + k] * b.Integers[(k * N) + n];
                }
            }
        }

        var expected = TensorData.FromIntegers(ElementType.I32, ImmutableArray.Create(M, N), c);
        Assert.That(output.GetProperty("checksum").GetString(), Is.EqualTo(expected.ChecksumText()));
    }

    [Test]
    public void MissingShapeParameterIsAUserError()
    {
        var run = CliRun.Of("codelet", "run", Codelet("gemm.cdlt"), "--set", "M=4,N=4");
        Assert.That(run.ExitCode, Is.EqualTo(1), run.ToString());
        Assert.That(run.Error, Does.Contain("K"));
        Assert.That(run.Error, Does.Match(@"error COV3\d{3}"));
    }

    [TestCase("M")]
    [TestCase("M=")]
    [TestCase("M=four")]
    public void MalformedSetIsAUserError(string setting)
    {
        var run = CliRun.Of("codelet", "run", Codelet("gemm.cdlt"), "--set", setting);
        Assert.That(run.ExitCode, Is.EqualTo(1), run.ToString());
        Assert.That(run.Error, Does.Contain("error COV0003"));
    }

    [Test]
    public void MissingFileIsAUserError()
    {
        var run = CliRun.Of("codelet", "check", "no/such/file.cdlt");
        Assert.That(run.ExitCode, Is.EqualTo(1), run.ToString());
        Assert.That(run.Error, Does.Contain("no/such/file.cdlt: error COV0001"));
    }
}
