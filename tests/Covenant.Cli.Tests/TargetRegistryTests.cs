using System.Collections.Immutable;
using Covenant.Compiler;
using Covenant.Core.Diagnostics;
using Covenant.Mapping.Model;
using Covenant.Runtime;
using Covenant.Runtime.Execution;
using Covenant.Targets;
using Covenant.Testing;

namespace Covenant.Cli.Tests;

/// <summary>The command line learns its targets from the registry alone: a registration added here shows up everywhere.</summary>
public class TargetRegistryTests
{
    private string folder = "";

    [SetUp]
    public void CreateFolder() => folder = Directory.CreateTempSubdirectory("covenant-registry-").FullName;

    [TearDown]
    public void DeleteFolder() => Directory.Delete(folder, recursive: true);

    private static readonly TargetRegistration Fake = new("fake", "a target that exists only in this test", new FakeTarget(), new FakeExecutor(), [new(7700, 7799)]);

    private static CliRun Run(RegisteredTargets targets, params string[] args)
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        var exit = CovenantCli.Run(args, stdout, stderr, targets);
        return new CliRun(exit, stdout.ToString(), stderr.ToString());
    }

    /// <summary>The shipped VTA architecture with another <c>target:</c>.</summary>
    private string Architecture(string target)
    {
        var path = Path.Combine(folder, target + ".yaml");
        File.WriteAllText(path, File.ReadAllText(Repo.PathOf("architectures", "vta.yaml")).Replace("target: vta", "target: " + target, StringComparison.Ordinal));
        return path;
    }

    [Test]
    public void HelpListsEveryRegisteredTargetWithItsDescription()
    {
        var builtin = Run(BuiltinTargets.All, "--help");
        Assert.That(builtin.Out, Does.Contain("vta").And.Contain("tensorcore").And.Not.Contain("fake"));
        var extended = Run(BuiltinTargets.All.With(Fake), "--help");
        Assert.That(extended.Out, Does.Contain("fake").And.Contain(Fake.Description));
    }

    [Test]
    public void ArchCheckAcceptsARegisteredTargetOnly()
    {
        var fake = Architecture("fake");
        var accepted = Run(BuiltinTargets.All.With(Fake), "arch", "check", fake);
        Assert.That(accepted.ExitCode, Is.Zero, accepted.ToString());
        Assert.That(accepted.Out, Does.Contain("target fake"));

        var rejected = Run(BuiltinTargets.All, "arch", "check", fake);
        Assert.That(rejected.ExitCode, Is.EqualTo(CovenantCli.UserError), rejected.ToString());
        Assert.That(rejected.Error, Does.Contain("error COV1010").And.Contain("unknown target 'fake'").And.Contain("'vta', 'vnni' or 'tensorcore'"));
    }

    [Test]
    public void AnUnknownTargetIsPositionedOnItsYamlLineWithDidYouMean()
    {
        var path = Architecture("vtaa");
        var line = File.ReadAllLines(path).ToList().FindIndex(l => l.StartsWith("target:", StringComparison.Ordinal)) + 1;
        var expected = $"{path}({line},9): error COV1010: unknown target 'vtaa' (did you mean 'vta'?)";
        foreach (var run in new[]
        {
            CliRun.Of("arch", "check", path),
            CliRun.Of("compile", Repo.PathOf("codelets", "gemm.cdlt"), "--arch", path, "--set", "M=16,N=16,K=16", "-o", Path.Combine(folder, "out")),
        })
        {
            Assert.That(run.ExitCode, Is.EqualTo(CovenantCli.UserError), run.ToString());
            Assert.That(run.Error, Does.Contain(expected), run.ToString());
        }
    }

    [Test]
    public void EveryBuiltinTargetHasItsOwnDiagnosticIds()
    {
        var ranges = BuiltinTargets.All.All.SelectMany(t => t.DiagnosticIds.Select(r => (t.Name, r))).ToList();
        foreach (var (name, range) in ranges)
        {
            Assert.That(ranges.Where(o => o.Name != name).Any(o => o.r.First <= range.Last && range.First <= o.r.Last), Is.False, $"{name} {range} overlaps");
        }

        Assert.That(BuiltinTargets.All.Find("vta")!.DiagnosticIds.Any(r => r.Contains("COV6120")), Is.True);
    }

    private sealed class FakeTarget : ITarget
    {
        public string Name => "fake";

        public Result<TargetOutput> Lower(LayerMapping mapping, TargetOptions options) =>
            Result<TargetOutput>.Success(new TargetOutput(Name, [], "", null));
    }

    private sealed class FakeExecutor : IArtifactExecutor
    {
        public string Target => "fake";

        public Result<Execution> Execute(LoadedArtifact artifact, IReadOnlyDictionary<string, TensorData> inputs, RunOptions options) =>
            Result<Execution>.Success(new Execution(new Dictionary<string, TensorData>(), "fake", null, null, null, ImmutableDictionary<string, double>.Empty)
            {
                Timing = TimingSource.Simulated,
            });
    }
}
