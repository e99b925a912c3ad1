using System.Text.Json;
using Covenant.Testing;

namespace Covenant.Cli.Tests;

public class ArchCommandTests
{
    private static string[] ShippedArchitectures() =>
        Directory.GetFiles(Repo.Architectures, "*.yaml").Order(StringComparer.Ordinal).ToArray();

    [Test]
    public void CheckAcceptsEveryShippedArchitecture()
    {
        var files = ShippedArchitectures();
        Assert.That(files, Has.Length.GreaterThanOrEqualTo(6));
        var run = CliRun.Of(["arch", "check", .. files]);
        Assert.That(run.ExitCode, Is.Zero, run.ToString());
        Assert.That(run.Error, Is.Empty);
    }

    [TestCaseSource(nameof(ShippedArchitectures))]
    public void ShowRendersDotWithEveryNode(string file)
    {
        var run = CliRun.Of("arch", "show", file, "--format", "dot");
        Assert.That(run.ExitCode, Is.Zero, run.ToString());
        Assert.That(run.Out.TrimStart(), Does.StartWith("digraph"));
        Assert.That(run.Out.Count(c => c == '{'), Is.EqualTo(run.Out.Count(c => c == '}')));

        // Every node declared under nodes: in the YAML appears in the DOT output.
        var loaded = Covenant.Acg.AcgLoader.Load(file);
        Assert.That(loaded.Succeeded, Is.True);
        foreach (var node in loaded.Value!.Nodes)
        {
            Assert.That(run.Out, Does.Contain($"\"{node.Name}\""), node.Name);
        }
    }

    [Test]
    public void ShowWritesToAFileWithOutput()
    {
        var path = Path.Combine(Path.GetTempPath(), $"covenant-{Guid.NewGuid():N}.dot");
        try
        {
            var run = CliRun.Of("arch", "show", Repo.PathOf("architectures", "vta.yaml"), "--format", "dot", "-o", path);
            Assert.That(run.ExitCode, Is.Zero, run.ToString());
            Assert.That(File.ReadAllText(path), Does.StartWith("digraph"));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Test]
    public void ShowRejectsAnUnknownFormat()
    {
        var run = CliRun.Of("arch", "show", Repo.PathOf("architectures", "vta.yaml"), "--format", "png");
        Assert.That(run.ExitCode, Is.EqualTo(1), run.ToString());
        Assert.That(run.Error, Does.Contain("error COV0003"));
    }

    [Test]
    public void CheckReportsEveryErrorOfABrokenFileWithPositions()
    {
        var path = Path.Combine(Path.GetTempPath(), $"covenant-bad-{Guid.NewGuid():N}.yaml");
        File.WriteAllText(path, """
            name: broken
            target: vta
            nodes:
              dram: {kind: storage, offchip: true, capacity: 1 GiB}
              buf: {kind: storage, capacty: 32 KiB}
            edges:
              - {from: dram, to: bfu, bandwidth: 8 B/cycle}
            """);
        try
        {
            var run = CliRun.Of("arch", "check", path, "--json");
            Assert.That(run.ExitCode, Is.EqualTo(1), run.ToString());
            var lines = run.ErrorLines.ToArray();
            Assert.That(lines, Has.Length.GreaterThanOrEqualTo(2), run.ToString());
            Assert.That(lines, Has.All.Match(@"\(\d+,\d+\): error COV1\d{3}: "));
            Assert.That(run.Error, Does.Contain("capacity"), "the misspelt key is named with a suggestion");
            Assert.That(run.Error, Does.Contain("buf"), "the unknown edge end suggests the real node");

            using var json = JsonDocument.Parse(run.Out);
            var result = json.RootElement[0];
            Assert.That(result.GetProperty("ok").GetBoolean(), Is.False);
            Assert.That(result.GetProperty("diagnostics").GetArrayLength(), Is.EqualTo(lines.Length));
        }
        finally
        {
            File.Delete(path);
        }
    }
}
