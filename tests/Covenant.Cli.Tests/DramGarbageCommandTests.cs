using System.Text.Json.Nodes;
using Covenant.Testing;

namespace Covenant.Cli.Tests;

/// <summary>
/// <c>covenantc run --dram-garbage</c> (issue 16 item 9): a VTA artifact compiled by the mapper still matches when its
/// DRAM image is garbage everywhere but the tensors and memory-map.json's mustBeZero ranges; a map whose lists are
/// missing or malformed is refused; other targets say the option does not apply.
/// </summary>
public sealed class DramGarbageCommandTests
{
    [TestCase("conv2d", "N=1,H=8,W=8,C=3,K=16,R=3,S=3,pad=1", "x")]
    [TestCase("conv2d", "N=1,H=7,W=7,C=24,K=20,R=3,S=3,stride=2,pad=1", "x")]
    [TestCase("fc_requant", "M=7,N=20,K=33,shift=8", "bias")]
    [TestCase("conv2d_depthwise", "N=1,H=8,W=8,C=5,R=3,S=3,pad=1", "w")]
    public void AGarbageImageWithTheListedRangesZeroedMatches(string codelet, string bindings, string padded)
    {
        WithArtifact("vta", codelet, bindings, artifact =>
        {
            var map = ReadMap(artifact);
            Assert.That(Region(map, padded)["mustBeZero"]!.AsArray(), Is.Not.Empty, $"'{padded}' has padding the program reads");

            var run = CliRun.Of("run", artifact, "--dram-garbage", "--seed", "3");

            Assert.That(run.ExitCode, Is.Zero, run.ToString());
            Assert.That(run.Out, Does.Contain("garbage").And.Contain("exact match"), run.ToString());
        });
    }

    [Test]
    public void AMapThatLeavesOutPaddingTheProgramReadsIsRefusedUnderGarbage()
    {
        WithArtifact("vta", "conv2d", "N=1,H=8,W=8,C=3,K=16,R=3,S=3,pad=1", artifact =>
        {
            var map = ReadMap(artifact);
            Region(map, "w")["mustBeZero"] = new JsonArray();
            WriteMap(artifact, map);

            var garbage = CliRun.Of("run", artifact, "--dram-garbage");
            var zeroed = CliRun.Of("run", artifact);

            Assert.Multiple(() =>
            {
                Assert.That(garbage.ExitCode, Is.EqualTo(1), garbage.ToString());
                Assert.That(garbage.Error, Does.Contain("COV6131").And.Contain("memory-map.json").And.Contain("region 'w' does not list byte 3"), garbage.ToString());
                Assert.That(zeroed.ExitCode, Is.Zero, "a zero-filled image needs no list: " + zeroed);
            });
        });
    }

    [TestCase("offset", -4, "mustBeZero[0] (offset -4")]
    [TestCase("count", 1_000_000_000_000, "is not a set of bytes inside region 'x'")]
    [TestCase("length", 0, "length >= 1")]
    public void AHandEditedRangeIsAPositionedUserError(string field, long value, string expected)
    {
        WithArtifact("vta", "conv2d", "N=1,H=8,W=8,C=3,K=16,R=3,S=3,pad=1", artifact =>
        {
            var map = ReadMap(artifact);
            Region(map, "x")["mustBeZero"]![0]![field] = value;
            WriteMap(artifact, map);

            foreach (var run in new[] { CliRun.Of("run", artifact), CliRun.Of("run", artifact, "--dram-garbage") })
            {
                Assert.That(run.ExitCode, Is.EqualTo(1), run.ToString());
                Assert.That(run.Error, Does.Contain("COV6131").And.Contain("memory-map.json").And.Contain("$.regions[0]").And.Contain(expected), run.ToString());
                Assert.That(run.Error, Does.Not.Contain("COV9001").And.Not.Contain("System."), run.ToString());
            }
        });
    }

    [Test]
    public void AListedRangeOverATensorIsRefusedAsTheMapsFault()
    {
        WithArtifact("vta", "conv2d", "N=1,H=8,W=8,C=3,K=16,R=3,S=3,pad=1", artifact =>
        {
            var map = ReadMap(artifact);
            var x = Region(map, "x")["mustBeZero"]![0]!;
            (x["offset"], x["length"]) = (0, 16);
            WriteMap(artifact, map);

            var run = CliRun.Of("run", artifact);

            Assert.That(run.ExitCode, Is.EqualTo(1), run.ToString());
            Assert.That(run.Error, Does.Contain("COV6130").And.Contain("region 'x'").And.Contain("a tensor element is stored there"), run.ToString());
        });
    }

    [TestCase("vnni-avx512")]
    [TestCase("tensorcore-sm80")]
    public void OtherTargetsSayTheOptionDoesNotApply(string arch)
    {
        WithArtifact(arch, "gemm", "M=7,N=13,K=29", artifact =>
        {
            var run = CliRun.Of("run", artifact, "--dram-garbage");

            Assert.That(run.ExitCode, Is.EqualTo(1), run.ToString());
            Assert.That(run.Error, Does.Contain("COV0003").And.Contain("--dram-garbage does not apply"), run.ToString());
        });
    }

    private static void WithArtifact(string arch, string codelet, string bindings, Action<string> test)
    {
        var directory = Directory.CreateTempSubdirectory("covenant-dram-garbage-");
        try
        {
            var compile = CliRun.Of("compile", Repo.PathOf("codelets", codelet + ".cdlt"), "--arch", Repo.PathOf("architectures", arch + ".yaml"),
                "--set", bindings, "-o", directory.FullName);
            Assert.That(compile.ExitCode, Is.Zero, compile.ToString());
            test(directory.FullName);
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    private static JsonNode ReadMap(string artifact) => JsonNode.Parse(File.ReadAllText(Path.Combine(artifact, "memory-map.json")))!;

    private static void WriteMap(string artifact, JsonNode map) => File.WriteAllText(Path.Combine(artifact, "memory-map.json"), map.ToJsonString());

    private static JsonNode Region(JsonNode map, string name) => map["regions"]!.AsArray().First(r => (string?)r!["name"] == name)!;
}
