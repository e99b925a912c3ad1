namespace Covenant.Cli.Tests;

public class CommandLineTests
{
    [TestCase]
    [TestCase("arch")]
    [TestCase("arch", "check")]
    [TestCase("arch", "show")]
    [TestCase("codelet")]
    [TestCase("codelet", "check")]
    [TestCase("codelet", "run")]
    [TestCase("compile")]
    [TestCase("run")]
    [TestCase("suite")]
    public void EveryCommandHasHelp(params string[] command)
    {
        var run = CliRun.Of([.. command, "--help"]);
        Assert.That(run.ExitCode, Is.Zero, run.ToString());
        Assert.That(run.Out, Does.Contain("Usage:"));
    }

    [Test]
    public void UnknownOptionIsOneMessageAndExitOne()
    {
        var run = CliRun.Of("codelet", "check", "--frobnicate", "x.cdlt");
        Assert.That(run.ExitCode, Is.EqualTo(1), run.ToString());
        Assert.That(run.Error, Does.Contain("error COV0003"));
        Assert.That(run.Error, Does.Contain("covenantc codelet check --help"));
        Assert.That(run.Error, Does.Not.Contain("   at "));
    }

    [Test]
    public void UnknownCommandIsAUserError()
    {
        var run = CliRun.Of("compil");
        Assert.That(run.ExitCode, Is.EqualTo(1), run.ToString());
        Assert.That(run.Error, Does.Contain("error COV0003"));
    }

    [Test]
    public void NoCommandIsAUserError()
    {
        var run = CliRun.Of();
        Assert.That(run.ExitCode, Is.EqualTo(1), run.ToString());
    }
}
