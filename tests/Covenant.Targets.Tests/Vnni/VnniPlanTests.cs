using Covenant.Codelets;
using Covenant.Mapping.Model;
using Covenant.Runtime.Vnni;
using Covenant.Targets.Vnni;
using static Covenant.Targets.Tests.Vnni.VnniTestSupport;

namespace Covenant.Targets.Tests.Vnni;

/// <summary>What <see cref="VnniKernelPlan.Choose"/> derives from the affine indices and the YAML.</summary>
public class VnniPlanTests
{
    private static VnniLoopPlan Loop(VnniKernelPlan plan, string name) => plan.Loops.Single(l => l.Name == name);

    [Test]
    public void AConvolutionIsAnImplicitGemmOverItsIndices()
    {
        var plan = Plan(Instance("conv2d", "N=1, H=14, W=14, C=64, K=96, R=3, S=3, pad=1"));
        Assert.Multiple(() =>
        {
            Assert.That(plan.TensorA, Is.EqualTo("x"));
            Assert.That(plan.TensorB, Is.EqualTo("w"));
            Assert.That(plan.Compensate, Is.True, "i8 activations are shifted to u8 and compensated");
            Assert.That(new[] { "n", "p", "q" }.Select(l => Loop(plan, l).Role), Is.All.EqualTo(LoopRole.Row));
            Assert.That(Loop(plan, "k").Role, Is.EqualTo(LoopRole.Column));
            Assert.That(Loop(plan, "k").Vector, Is.True);
            Assert.That(new[] { "r", "s", "c" }.Select(l => Loop(plan, l).Role), Is.All.EqualTo(LoopRole.Reduction));
            Assert.That(Loop(plan, "c").Packed, Is.True, "the channels are contiguous in x: groups of 4 feed vpdpbusd");
            Assert.That(plan.AMode, Is.EqualTo(VnniAMode.Direct));
            Assert.That((plan.M, plan.N, plan.K, plan.Groups), Is.EqualTo((196L, 96L, 576L, 144L)));
        });
    }

    [Test]
    public void ShortPackedLoopsSwitchToIm2col()
    {
        var plan = Plan(Instance("conv2d", "N=1, H=40, W=151, C=1, K=32, R=5, S=20, stride_h=2, stride_w=8, pad_h=8, pad_w=8"));
        Assert.That(plan.AMode, Is.EqualTo(VnniAMode.Im2col));
        Assert.That(plan.Groups, Is.EqualTo(25), "R·S·C = 100 values in 25 groups, not 100 groups of 1");
    }

    [Test]
    public void GroupsAndBatchesRunOutsideTheGemm()
    {
        var grouped = Plan(Instance("conv2d_grouped", "N=1, H=6, W=6, C=8, K=12, G=4, R=3, S=3, pad=1"));
        var bmm = Plan(Instance("bmm", "B=3, M=5, N=17, K=9"));
        var depthwise = Plan(Instance("conv2d_depthwise", "N=1, H=7, W=7, C=5, R=3, S=3"));
        Assert.Multiple(() =>
        {
            Assert.That(Loop(grouped, "g").Outer, Is.True);
            Assert.That(grouped.Outer, Is.EqualTo(4));
            Assert.That(Loop(bmm, "i").Outer, Is.True);
            Assert.That(Loop(depthwise, "c").Outer, Is.True, "each channel is its own GEMM");
            Assert.That(depthwise.N, Is.EqualTo(1));
        });
    }

    [Test]
    public void TheOrientationPutsTheLongDimensionOnTheLanes()
    {
        var gemv = Plan(Instance("gemv", "M=300, K=64"));
        var tall = Plan(Instance("gemm", "M=3072, N=1, K=128"));
        var wide = Plan(Instance("gemm", "M=1, N=1000, K=64"));
        Assert.Multiple(() =>
        {
            Assert.That((gemv.TensorA, gemv.TensorB, gemv.N), Is.EqualTo(("x", "a", 300L)), "gemv: the matrix is packed, the vector broadcast");
            Assert.That((tall.TensorA, tall.N), Is.EqualTo(("b", 3072L)));
            Assert.That((wide.TensorA, wide.N), Is.EqualTo(("a", 1000L)));
        });
    }

    [Test]
    public void TheEpilogueIsFusedInOrder()
    {
        var plan = Plan(Instance("fc_requant", "M=4, N=32, K=48, shift=6"));
        Assert.Multiple(() =>
        {
            Assert.That(plan.Accumulator, Is.EqualTo("acc"));
            Assert.That(plan.Output, Is.EqualTo("y"));
            Assert.That(plan.OutputType, Is.EqualTo(ElementType.I8));
            // The mapper's analysis gives the steps (it may fold relu's max 0 with the clip's max -128).
            var steps = plan.Epilogue.Select(s => s.ToString()).ToList();
            Assert.That(steps.Take(3), Is.EqualTo(new[] { "add bias", ">> 6", "max 0" }));
            Assert.That(steps[^1], Is.EqualTo("min 127"));
        });
    }

    [TestCase("vnni-avx512", 16, 32)]
    [TestCase("vnni-avx256", 8, 16)]
    public void BlockingRespectsTheRegistersAndCachesOfTheYaml(string architecture, int lanes, int registers)
    {
        var isa = VnniIsa.FromGraph(Architecture(architecture)).Value!;
        Assert.That((isa.Lanes, isa.Registers, isa.L1Bytes, isa.L2Bytes, isa.Cores), Is.EqualTo((lanes, registers, 32L * 1024, 1024L * 1024, 2)));
        foreach (var (codelet, bindings) in new[]
        {
            ("gemm", "M=384, N=1024, K=4096"), ("gemm", "M=1, N=1000, K=2048"), ("conv2d", "N=1, H=56, W=56, C=64, K=64, R=3, S=3, pad=1"),
            ("bmm", "B=16, M=384, N=64, K=384"), ("gemv", "M=3072, K=1024"),
        })
        {
            var plan = Plan(Instance(codelet, bindings), architecture);
            Assert.Multiple(() =>
            {
                Assert.That((plan.MR * plan.NR) + plan.NR + 1, Is.LessThanOrEqualTo(registers), $"{codelet} registers: {plan.Describe()}");
                Assert.That(plan.MR, Is.LessThanOrEqualTo(VnniKernelPlan.MaxRows));
                Assert.That(plan.MC % plan.MR, Is.Zero);
                Assert.That(plan.NC % plan.PanelWidth, Is.Zero);
                Assert.That(plan.KC == plan.Groups || (long)plan.KC * plan.PanelWidth * 4 <= isa.L2Bytes / 4, Is.True, $"{codelet}: the B micro-panel fits a quarter of L2");
                Assert.That((long)plan.MC * plan.KC * 4, Is.LessThanOrEqualTo(isa.L2Bytes / 2).Or.EqualTo((long)plan.MR * plan.KC * 4), $"{codelet}: the A block fits half of L2");
                Assert.That(plan.Tiles, Is.GreaterThanOrEqualTo(plan.Threads), $"{codelet}: every thread gets work");
            });
        }
    }

    [Test]
    public void TinyProblemsRunOnOneThread()
    {
        var tiny = VnniKernelPlan.Choose(Instance("gemm", "M=1, N=256, K=256"), Architecture("vnni-avx512")).Value!;
        var large = VnniKernelPlan.Choose(Instance("gemm", "M=256, N=256, K=256"), Architecture("vnni-avx512")).Value!;
        Assert.That((tiny.Threads, large.Threads), Is.EqualTo((1, 2)));
    }

    [Test]
    public void OptionsOverrideTheHeuristic()
    {
        var plan = Plan(Instance("gemm", "M=64, N=64, K=64"), options: new VnniPlanOptions { MR = 4, NR = 2, MC = 16, NC = 32, KC = 3, Threads = 1, Split = VnniParallelSplit.Columns });
        Assert.That((plan.MR, plan.NR, plan.MC, plan.NC, plan.KC, plan.Threads, plan.Split), Is.EqualTo((4, 2, 16, 32, 3, 1, VnniParallelSplit.Columns)));
        Assert.That(plan.Tiles, Is.EqualTo(4 * 2));
    }

    [TestCase("gemm_f16", "M=4, N=4, K=4", "COV5211")]
    [TestCase("conv2d_transposed", "N=1, H=4, W=4, C=4, K=4, R=3, S=3", "COV5212")]
    public void UnsupportedCodeletsAreExplained(string codelet, string bindings, string id)
    {
        var result = VnniKernelPlan.Choose(Instance(codelet, bindings), Architecture("vnni-avx512"));
        Assert.That(result.Succeeded, Is.False);
        Assert.That(result.Diagnostics.Select(d => d.Descriptor.Id), Does.Contain(id), string.Join("\n", result.Diagnostics));
        Assert.That(result.Diagnostics.Select(d => d.Location?.HasPosition), Is.All.True, "positioned on the codelet element at fault");
        Assert.That(result.Diagnostics.Select(d => d.Message.TrimEnd()), Has.None.EndsWith(":"), "every reason is given");
    }

    [Test]
    public void ABroadcastOperandThatIsNoFactorIsExplained()
    {
        var result = VnniKernelPlan.Choose(Instance("gemm", "M=4, N=4, K=4"), Architecture("vnni-avx512"), new VnniPlanOptions { TensorA = "nope" });
        var error = result.Diagnostics.Single();
        Assert.That((error.Id, error.Location?.HasPosition), Is.EqualTo(("COV5215", true)));
        Assert.That(error.Message, Does.Contain("'nope'"));
    }

    [TestCase("vta")]
    [TestCase("tensorcore-sm80")]
    public void OtherTargetsAreRejected(string architecture)
    {
        var result = VnniKernelPlan.Choose(Instance("gemm", "M=4, N=4, K=4"), Architecture(architecture));
        Assert.That(result.Diagnostics.Single().Descriptor.Id, Is.EqualTo("COV5201"));
    }

    [Test]
    public void ARegisterBlockBeyondTheRegisterFileIsRejected()
    {
        var result = VnniKernelPlan.Choose(Instance("gemm", "M=64, N=64, K=64"), Architecture("vnni-avx512"), new VnniPlanOptions { MR = 8, NR = 4 });
        Assert.That(result.Diagnostics.Single().Descriptor.Id, Is.EqualTo("COV5215"));
    }

    [Test]
    public void ThePlanDescribesItself()
    {
        var text = Plan(Instance("fc_requant", "M=4, N=32, K=48, shift=6")).Describe();
        Assert.That(text, Does.Contain("A (broadcast u8) = x").And.Contain("B (packed i8) = w").And.Contain("epilogue: add bias, >> 6"));
    }

    [Test]
    public void EpilogueStepsNameTheMappersOperations() =>
        Assert.That(new VnniEpilogueStep(EpilogueOp.Min, 127, null).ToString(), Is.EqualTo("min 127"));
}
