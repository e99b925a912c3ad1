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

    /// <summary>
    /// Seed 3, case 991: vnni-avx256 with its register file made a scratchpad (<c>register_file: false</c>) and a small
    /// conv3d: every tile-space query timed out (5 s each) and the mapper kept drawing, 90 s and more on a busy machine
    /// (a hang past the campaign's 60 s). The spaces of one mapping now give up after <see cref="Covenant.Mapping.Space.SolverTimeouts.Limit"/>
    /// timeouts and keep what they drew.
    /// </summary>
    [Test]
    public void ATileSpaceThatKeepsTimingOutIsGivenUpInTime()
    {
        var folder = Directory.CreateTempSubdirectory("covenant-fuzz-regression-");
        try
        {
            var yaml = File.ReadAllText(Shipped.ArchitecturePath("vnni-avx256")).Replace("register_file: true", "register_file: false", StringComparison.Ordinal);
            var architecture = Path.Combine(folder.FullName, "arch.yaml");
            File.WriteAllText(architecture, yaml);
            var clock = System.Diagnostics.Stopwatch.StartNew();

            var compile = CliRun.Of("compile", Shipped.CodeletPath("conv3d"), "--arch", architecture,
                "--set", "N=4,D=4,H=3,W=4,C=8,K=6,T=2,R=2,S=3", "-o", Path.Combine(folder.FullName, "artifact"));

            Assert.That(compile.ExitCode, Is.Zero, compile.ToString());
            Assert.That(clock.Elapsed, Is.LessThan(TimeSpan.FromSeconds(60)), "the fuzz campaign's hang limit");
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }

    /// <summary>
    /// Seed 2026, case 5459: a transposed convolution with K = 10^6 needs a DRAM image of 9 GB; the zero-range derivation
    /// indexed it by byte and overflowed (COV9001). The lowering now refuses an image larger than an artifact may hold.
    /// </summary>
    [Test]
    public void ADramImageTooLargeForAnArtifactIsAUserError()
    {
        var folder = Directory.CreateTempSubdirectory("covenant-fuzz-regression-");
        try
        {
            var compile = CliRun.Of("compile", Shipped.CodeletPath("conv2d_transposed"), "--arch", Shipped.ArchitecturePath("vta-1x32x32"),
                "--set", "N=1,H=1,W=1,C=1,K=1000000,R=1,S=255", "-o", Path.Combine(folder.FullName, "artifact"));

            Assert.That(compile.ExitCode, Is.EqualTo(1), compile.ToString());
            Assert.That(compile.Error, Does.Contain("error COV5112").And.Contain("vta-1x32x32.yaml("), compile.ToString());
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }

    /// <summary>
    /// Seed 2026, case 8595: an extent of 2^31 - 1 left a loop with no candidate block sizes, and sampling the tile space
    /// indexed the empty list (COV9001). Sampling now skips hints for such a loop and the mapper explains why no tiling fits.
    /// </summary>
    [Test]
    public void AnExtentOfIntMaxIsExplainedNotACrash()
    {
        var folder = Directory.CreateTempSubdirectory("covenant-fuzz-regression-");
        try
        {
            var compile = CliRun.Of("compile", Shipped.CodeletPath("gemm"), "--arch", Shipped.ArchitecturePath("vnni-avx512"),
                "--set", "M=1,N=1,K=2147483647", "-o", Path.Combine(folder.FullName, "artifact"));

            Assert.That(compile.ExitCode, Is.EqualTo(1), compile.ToString());
            Assert.That(compile.Error, Does.Not.Contain("COV9001"), compile.ToString());
            Assert.That(compile.ErrorLines, Has.All.Match(@"\(\d+,\d+\): error COV\d{4}: "), compile.ToString());
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }
}
