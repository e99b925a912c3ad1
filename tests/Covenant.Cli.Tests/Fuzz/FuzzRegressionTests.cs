using Covenant.Testing;

namespace Covenant.Cli.Tests.Fuzz;

/// <summary>
/// One test per internal error the fuzz campaign found and that was fixed, on the smallest input that showed it
/// (the campaign's seed and case are in each test's comment).
/// </summary>
public sealed class FuzzRegressionTests
{
    /// <summary>
    /// Seed 2, case 1051: a stride of 2^32 (or 2^62) over a one-long output axis passed every check and compiled, but
    /// the reference interpreter refused the index (COV9001, NotSupportedException): it counted one step of the huge
    /// stride past the axis's single iteration.
    /// </summary>
    [TestCase("stride=4294967296")]
    [TestCase("stride=2147483647")]
    [TestCase("dilation=4294967296")]
    public void AHugeStrideOverAOneLongAxisRunsOnTheReference(string binding)
    {
        var run = CliRun.Of("codelet", "run", Shipped.CodeletPath("conv2d"), "--set", "N=1,H=3,W=3,C=4,K=4,R=1,S=1," + binding);

        Assert.That(run.ExitCode, Is.Zero, run.ToString());
        Assert.That(run.Out, Does.Contain("output y: i32["), run.ToString());
    }

    [Test]
    public void AHugeStrideCompilesAndMatchesOnVta()
    {
        var artifact = Directory.CreateTempSubdirectory("covenant-fuzz-regression-");
        try
        {
            var compile = CliRun.Of("compile", Shipped.CodeletPath("conv2d"), "--arch", Shipped.ArchitecturePath("vta"),
                "--set", "N=1,H=3,W=3,C=16,K=16,R=1,S=1,stride=4294967296", "-o", artifact.FullName);
            Assert.That(compile.ExitCode, Is.Zero, compile.ToString());

            var run = CliRun.Of("run", artifact.FullName, "--simulate");

            Assert.That(run.ExitCode, Is.Zero, run.ToString());
            Assert.That(run.Out, Does.Contain("exact match"), run.ToString());
        }
        finally
        {
            artifact.Delete(recursive: true);
        }
    }
}
