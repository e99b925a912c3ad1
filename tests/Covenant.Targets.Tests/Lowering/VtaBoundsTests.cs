using Covenant.Mapping;
using Covenant.Runtime.Artifacts;
using Covenant.Targets.Vta;
using Covenant.Targets.Vta.Lowering;
using Covenant.Runtime.Vta;
using static Covenant.Targets.Tests.Lowering.TestMappings;

namespace Covenant.Targets.Tests.Lowering;

/// <summary>The VTA lower bound the tuner reports against: counted by hand, and never beaten by any simulated tiling.</summary>
public sealed class VtaBoundsTests
{
    [Test]
    public void TheBoundCountsPaddedMultipliesShiftsAndBytes()
    {
        // conv2d 8x8, C=3 (padded to one 16-channel block), K=16, 3x3: 8*8*16*9*16 padded MACs over 256 per uop.
        var instance = Instance("conv2d", "N=1, H=8, W=8, C=3, K=16, R=3, S=3, pad=1");
        var mapping = Mapper.Map(instance, Graph(Vta16)).Value!;
        var config = Config(Vta16);
        var bounds = VtaBounds.Of(mapping, config);
        var gemm = 8 * 8 * 16 * 9 * 16 / 256;
        // 1,024 i32 outputs = 64 accumulator rows, each shifted three times (four byte planes) at the ALU's interval.
        var alu = 64 * 3 * config.AluIntervalCycles;
        Assert.Multiple(() =>
        {
            Assert.That(bounds.ComputeCycles, Is.EqualTo(gemm + (long)alu));
            // x 8*8*3 and w 16*3*3*3 bytes, once each; the result as four planes of 1,024 bytes.
            Assert.That(bounds.LoadCycles, Is.EqualTo((long)Math.Ceiling(((8 * 8 * 3) + (16 * 27)) / Math.Max(config.InpLoad.BytesPerCycle, config.WgtLoad.BytesPerCycle))));
            Assert.That(bounds.StoreCycles, Is.EqualTo((long)Math.Ceiling(4 * 1024 / config.OutStore.BytesPerCycle)));
            Assert.That(bounds.Cycles, Is.EqualTo(Math.Max(bounds.ComputeCycles, Math.Max(bounds.LoadCycles, bounds.StoreCycles))));
        });
    }

    [TestCase("gemm", "M=16, N=64, K=64")]
    [TestCase("conv2d", "N=1, H=7, W=7, C=32, K=32, R=1, S=1")]
    public void NoTilingOfTheSpaceSimulatesBelowTheBound(string codelet, string bindings)
    {
        var instance = Instance(codelet, bindings);
        var config = Config(Vta16);
        var candidate = Mapper.Candidates(instance, Graph(Vta16)).Value![0];
        using var space = candidate.CreateSpace(5_000, null, 1);
        var (choices, complete) = space.Enumerate(400);
        Assert.That(choices, Is.Not.Empty);
        var bound = VtaBounds.Of(Mapper.Complete(candidate, choices[0]), config).Cycles;
        var fastest = long.MaxValue;
        foreach (var choice in choices)
        {
            var mapping = Mapper.Complete(candidate, choice);
            Assert.That(VtaBounds.Of(mapping, config).Cycles, Is.EqualTo(bound), "the bound does not depend on the tiling");
            var lowered = VtaLowering.Lower(mapping, config);
            Assert.That(lowered.Succeeded, Is.True, () => string.Join("\n", lowered.Diagnostics));
            var report = VtaRunner.Run(lowered.Value!, instance, 3);
            Assert.That(report.Match, Is.True);
            Assert.That(report.Cycles, Is.GreaterThanOrEqualTo(bound), string.Join(",", mapping.Loops.Select(l => $"{l.Loop}={l.Tile}")));
            fastest = Math.Min(fastest, report.Cycles);
        }

        TestContext.Out.WriteLine($"{choices.Count} tilings{(complete ? " (all)" : "")}: fastest {fastest} cycles, bound {bound}");
    }

    [Test]
    public void ALayerSizedMappingComesCloseToTheBound()
    {
        // Small layers are dominated by per-instruction latencies; at a ResNet size the default mapping is within 30 %.
        var instance = Instance("conv2d", "N=1, H=28, W=28, C=64, K=64, R=3, S=3, pad=1");
        var config = Config(Vta16);
        var mapping = Mapper.Map(instance, Graph(Vta16)).Value!;
        var report = VtaRunner.Run(VtaLowering.Lower(mapping, config).Value!, instance, 3);
        var bounds = VtaBounds.Of(mapping, config);
        TestContext.Out.WriteLine($"default {report.Cycles} cycles, bound {bounds.Cycles} (compute {bounds.ComputeCycles}, load {bounds.LoadCycles}, store {bounds.StoreCycles})");
        Assert.That(report.Match, Is.True);
        Assert.That(report.Cycles, Is.InRange(bounds.Cycles, (long)(bounds.Cycles * 1.3)));
    }
}
