using System.Text.Json.Nodes;
using Covenant.Testing;

namespace Covenant.Cli.Tests;

/// <summary>
/// <c>covenantc run</c> reads an artifact only from its own folder: the manifest's codelet and architecture names and
/// every file an executor reads are plain names there, and a symbolic link may lead only to a file in the same folder.
/// Each escape is refused with COV0006 (or the executor's broken-artifact error naming the escape), never followed.
/// </summary>
[NonParallelizable]
public sealed class ArtifactConfinementTests
{
    private DirectoryInfo compiled = null!;

    [OneTimeSetUp]
    public void CompileOnce()
    {
        compiled = Directory.CreateTempSubdirectory("covenant-confined-");
        var compile = CliRun.Of("compile", Repo.PathOf("codelets", "gemm.cdlt"), "--arch", Repo.PathOf("architectures", "vta.yaml"),
            "--set", "M=16,N=16,K=32", "-o", Path.Combine(compiled.FullName, "artifact"));
        Assert.That(compile.ExitCode, Is.Zero, compile.ToString());
    }

    [OneTimeTearDown]
    public void Delete() => compiled.Delete(recursive: true);

    [TestCase("codeletFile", "/etc/passwd")]
    [TestCase("architectureFile", "/etc/passwd")]
    [TestCase("codeletFile", "../elsewhere/codelet.cdlt")]
    [TestCase("architectureFile", "sub/../../architecture.yaml")]
    public void AManifestNameLeavingTheFolderIsRefused(string key, string name)
    {
        var artifact = Copy();
        var manifestPath = Path.Combine(artifact, "artifact.json");
        var manifest = JsonNode.Parse(File.ReadAllText(manifestPath))!;
        manifest[key] = name;
        File.WriteAllText(manifestPath, manifest.ToJsonString());

        var run = CliRun.Of("run", artifact);

        Assert.Multiple(() =>
        {
            Assert.That(run.ExitCode, Is.EqualTo(1), run.ToString());
            Assert.That(run.Error, Does.Contain("error COV0006").And.Contain(name), run.ToString());
            Assert.That(run.Error, Does.Not.Contain("root:"), "the file outside must not be read");
            Assert.That(run.Error, Does.Not.Contain("COV9001"));
        });
    }

    [Test]
    public void AProgramFileLinkedToAFileOutsideIsRefused()
    {
        var artifact = Copy();
        var outside = Path.Combine(compiled.FullName, "program-elsewhere.bin");
        File.Copy(Path.Combine(artifact, "program.bin"), outside, overwrite: true);
        File.Delete(Path.Combine(artifact, "program.bin"));
        File.CreateSymbolicLink(Path.Combine(artifact, "program.bin"), outside);

        var run = CliRun.Of("run", artifact);

        Assert.Multiple(() =>
        {
            Assert.That(run.ExitCode, Is.EqualTo(1), run.ToString());
            Assert.That(run.Error, Does.Contain("outside the artifact folder"), run.ToString());
            Assert.That(run.Error, Does.Not.Contain("COV9001"));
        });
    }

    [Test]
    public void ALinkToAFileOfTheSameFolderStillRuns()
    {
        // The rule is about where a file is, not about links: a link inside the folder is harmless.
        var artifact = Copy();
        File.Move(Path.Combine(artifact, "program.bin"), Path.Combine(artifact, "program.copy.bin"));
        File.CreateSymbolicLink(Path.Combine(artifact, "program.bin"), "program.copy.bin");

        var run = CliRun.Of("run", artifact);

        Assert.That(run.ExitCode, Is.Zero, run.ToString());
        Assert.That(run.Out, Does.Contain("match"));
    }

    [Test]
    public void AManifestThatIsALinkOutsideIsRefused()
    {
        var artifact = Copy();
        var outside = Path.Combine(compiled.FullName, "manifest-elsewhere.json");
        File.Move(Path.Combine(artifact, "artifact.json"), outside, overwrite: true);
        File.CreateSymbolicLink(Path.Combine(artifact, "artifact.json"), outside);

        var run = CliRun.Of("run", artifact);

        Assert.That(run.ExitCode, Is.EqualTo(1), run.ToString());
        Assert.That(run.Error, Does.Contain("error COV0006"), run.ToString());
    }

    private string Copy()
    {
        var copy = Path.Combine(compiled.FullName, "copy-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(copy);
        foreach (var file in Directory.EnumerateFiles(Path.Combine(compiled.FullName, "artifact")))
        {
            File.Copy(file, Path.Combine(copy, Path.GetFileName(file)));
        }

        return copy;
    }
}
