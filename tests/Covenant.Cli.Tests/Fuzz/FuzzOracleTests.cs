namespace Covenant.Cli.Tests.Fuzz;

/// <summary>The fuzz oracle catches what it is meant to catch, and passes what covenantc prints for a user mistake.</summary>
public sealed class FuzzOracleTests
{
    private static readonly FuzzCase ArchitectureCase = new(7, FuzzKind.Architecture, "/tmp/c7", "test") { Architecture = "/tmp/c7/arch.yaml" };
    private static readonly FuzzCase ArtifactCase = new(8, FuzzKind.Artifact, "/tmp/c8", "test") { Artifact = "/tmp/c8/artifact" };

    private static List<string> Check(FuzzCase fuzzCase, int exit, string error, params string[] arguments) =>
        FuzzOracle.Violations(fuzzCase, new FuzzStep(arguments, new CliRun(exit, "", error), TimeSpan.Zero)).ToList();

    [Test]
    public void APositionedErrorInTheCheckedFileHolds() =>
        Assert.That(Check(ArchitectureCase, 1, "/tmp/c7/arch.yaml(3,5): error COV1002: edge needs a transfer\n", "arch", "check", "/tmp/c7/arch.yaml"), Is.Empty);

    [Test]
    public void AnInternalErrorIsCaughtWithItsFrame()
    {
        var violations = Check(ArchitectureCase, 3,
            "error COV9001: internal error, this is a bug in Covenant (please report it with the command line): IndexOutOfRangeException: Index was outside\n" +
            "   at Covenant.Acg.Loading.AcgBuilder.Build(Draft draft) in /src/AcgBuilder.cs:line 4\n", "arch", "check", "/tmp/c7/arch.yaml");
        Assert.That(violations, Has.Count.EqualTo(1));
        Assert.That(violations[0], Does.StartWith("internal error in arch check [IndexOutOfRangeException at Covenant.Acg.Loading.AcgBuilder.Build(Draft draft)]"));
    }

    [TestCase("error COV1002: edge needs a transfer", "not a 'file(line,col)")]
    [TestCase("/tmp/c7/arch.yaml: error COV1002: edge needs a transfer", "no line and column")]
    [TestCase("/tmp/other.yaml(1,1): error COV1002: edge needs a transfer", "does not name the checked file")]
    [TestCase("", "failed without an error diagnostic")]
    [TestCase("/tmp/c7/arch.yaml(1,1): error COV1002: Value cannot be null. (Parameter 'System.String')", ".NET text")]
    public void AnUnplacedOrRawErrorIsCaught(string error, string expected) =>
        Assert.That(Check(ArchitectureCase, 1, error, "arch", "check", "/tmp/c7/arch.yaml"), Has.Some.Contains(expected));

    [TestCase("/tmp/c8/artifact: error COV6120: VTA simulation failed", 1)]
    [TestCase("/tmp/c8/artifact/memory-map.json(4,17): error COV6002: memory-map.json is not what the compiler wrote (at $.regions[0]); recompile the artifact", 1)]
    [TestCase("", 2)]
    public void ARunErrorNamingTheArtifactHolds(string error, int exit) =>
        Assert.That(Check(ArtifactCase, exit, error, "run", "/tmp/c8/artifact", "--simulate"), Is.Empty);

    [Test]
    public void ARunErrorNamingAnotherFolderIsCaught() =>
        Assert.That(Check(ArtifactCase, 1, "/etc/passwd: error COV6002: broken", "run", "/tmp/c8/artifact", "--simulate"),
            Has.Some.Contains("neither the artifact folder nor a file in it"));

    [Test]
    public void AHangIsReportedWithTheCase()
    {
        var campaign = new FuzzCampaign(1, Path.GetTempPath(), TimeSpan.Zero);
        var slow = new FuzzCase(9, FuzzKind.Codelet, "/tmp/c9", "test") { Codelet = Path.Combine(Covenant.Testing.Repo.Codelets, "conv2d.cdlt") };

        var outcome = campaign.RunCase(slow);

        Assert.That(outcome.Violations, Has.Some.StartsWith("hang"));
    }
}
