using System.Collections.Concurrent;
using Covenant.Mapping;
using Covenant.Targets.Vnni;
using static Covenant.Targets.Tests.Vnni.VnniTestSupport;

namespace Covenant.Targets.Tests.Vnni;

/// <summary>
/// The operator set as <c>covenantc compile</c> builds it: the Z3 mapper chooses the broadcast operand, the register
/// block and the cache blocks, <see cref="VnniKernelPlan.FromMapping"/> turns them into a kernel, and the kernel runs
/// natively and in the simulator, bit-exact against the reference interpreter.
/// </summary>
public class VnniMappedKernelTests
{
    private static readonly ConcurrentDictionary<string, VnniKernelPlan> Plans = new(StringComparer.Ordinal);

    public static IEnumerable<TestCaseData> Cases() =>
        VnniKernelTests.Cases().Where(c => ReferenceEquals(c.Arguments[3], VnniPlanOptions.Default))
            .Select(c => new TestCaseData(c.Arguments[0], c.Arguments[1], c.Arguments[2]).SetName(c.TestName + " mapped"));

    private static VnniKernelPlan MappedPlan(string codelet, string bindings, string architecture) =>
        Plans.GetOrAdd($"{codelet}<{bindings}>{architecture}", _ =>
        {
            var mapped = Mapper.Map(Instance(codelet, bindings), Architecture(architecture));
            Assert.That(mapped.Succeeded, Is.True, () => string.Join("\n", mapped.Diagnostics));
            // Two threads even on tiny shapes, so the parallel region is exercised.
            var plan = VnniKernelPlan.FromMapping(mapped.Value!, new VnniPlanOptions { Threads = 2 });
            Assert.That(plan.Succeeded, Is.True, () => string.Join("\n", plan.Diagnostics));
            var mapping = mapped.Value!;
            var broadcast = mapping.Operands.Single(o => o.Operand == "a");
            Assert.Multiple(() =>
            {
                Assert.That(plan.Value!.TensorA, Is.EqualTo(broadcast.Tensor), "the mapper's u8 operand is the kernel's broadcast operand");
                Assert.That(plan.Value!.Compensate, Is.EqualTo(broadcast.Offset == 128), "compensation exactly when the mapping offsets the data");
            });
            return plan.Value!;
        });

    [TestCaseSource(nameof(Cases))]
    public void Native(string codelet, string bindings, string architecture)
    {
        RequireNativeVnni();
        RunAndCompare(MappedPlan(codelet, bindings, architecture), simulate: false);
    }

    [TestCaseSource(nameof(Cases))]
    public void Simulated(string codelet, string bindings, string architecture) =>
        RunAndCompare(MappedPlan(codelet, bindings, architecture), simulate: true);

    [TestCase("conv2d", "N=1, H=7, W=7, C=2048, K=512, R=1, S=1")]
    [TestCase("gemm", "M=49, N=512, K=2048")]
    public void BothCoresGetEqualShares(string codelet, string bindings)
    {
        // ResNet-50's res5_1x1c: the mapping's L2 tile holds all 49 x 512 outputs, one tile for two threads.
        var mapping = Mapper.Map(Instance(codelet, bindings), Architecture("vnni-avx512")).Value!;
        var plan = VnniKernelPlan.FromMapping(mapping).Value!;
        Assert.That(plan.Threads, Is.EqualTo(2));
        Assert.That(plan.Tiles % plan.Threads, Is.Zero, plan.Describe());
    }

    [Test]
    public void TheRegisterAndCacheBlocksAreTheMappingsTiles()
    {
        var instance = Instance("gemm", "M=384, N=1024, K=1024");
        var mapping = Mapper.Map(instance, Architecture("vnni-avx512")).Value!;
        var plan = VnniKernelPlan.FromMapping(mapping).Value!;
        var l2 = mapping.Levels.Single(l => l.Storage == "l2");
        int At(string loop) => l2.Tiles[mapping.Loops.IndexOf(mapping.Loop(loop))];
        Assert.Multiple(() =>
        {
            Assert.That(plan.MR, Is.EqualTo(Math.Min(mapping.Loop("m").Tile, VnniKernelPlan.MaxRows)), "MR: the register tile's rows");
            Assert.That(plan.NR, Is.EqualTo((mapping.Loop("n").Tile + 15) / 16), "NR: the register tile's columns in vectors");
            Assert.That(plan.KC, Is.EqualTo((At("k") + 3) / 4), "KC: the L2 tile's reduction, in groups of 4");
            Assert.That(plan.MC, Is.EqualTo((At("m") + plan.MR - 1) / plan.MR * plan.MR), "MC: the L2 tile's rows, whole register blocks");
            Assert.That(plan.NC, Is.EqualTo((At("n") + plan.PanelWidth - 1) / plan.PanelWidth * plan.PanelWidth), "NC: the L2 tile's columns, whole panels");
        });
    }
}
