using Covenant.Targets.TensorCore;
using static Covenant.Targets.Tests.TensorCore.TensorCoreTestSupport;

namespace Covenant.Targets.Tests.TensorCore;

/// <summary>Kernels from the mapper's mappings, simulated at warp level and checked against the reference interpreter.</summary>
public class TensorCoreKernelTests
{
    [TestCase("gemm", "M=64, N=64, K=128", Sm80)]
    [TestCase("gemm", "M=33, N=17, K=40", Sm80)]
    [TestCase("gemm", "M=1, N=24, K=96", Sm90)]
    [TestCase("gemm", "M=50, N=70, K=300", Sm90)]
    [TestCase("gemm_f16", "M=64, N=32, K=64", Sm80)]
    [TestCase("gemm_f16", "M=33, N=17, K=40", Sm80)]
    [TestCase("gemm_f16", "M=7, N=5, K=3", Sm90)]
    [TestCase("gemm_f16", "M=80, N=48, K=200", Sm90)]
    [TestCase("bmm", "B=3, M=20, N=24, K=64", Sm80)]
    [TestCase("bmm", "B=2, M=17, N=9, K=33", Sm90)]
    [TestCase("bmm_f16", "B=3, M=32, N=16, K=48", Sm80)]
    [TestCase("bmm_f16", "B=2, M=17, N=9, K=33", Sm90)]
    [TestCase("conv2d", "N=1, H=6, W=6, C=32, K=16, R=3, S=3, pad=1", Sm80)]
    [TestCase("conv2d", "N=2, H=7, W=5, C=3, K=5, R=3, S=3, stride=2, pad=1", Sm90)]
    [TestCase("conv2d_f16", "N=1, H=6, W=6, C=16, K=16, R=3, S=3, pad=1", Sm80)]
    [TestCase("conv2d_f16", "N=2, H=5, W=7, C=5, K=6, R=3, S=2, stride=2, pad=1", Sm90)]
    public void MatchesTheReference(string codelet, string bindings, string architecture)
    {
        var statistics = RunAndCompare(Plan(codelet, bindings, architecture));
        Assert.That(statistics.BankConflictWavefronts, Is.Zero, "the swizzled layout should keep every ldmatrix phase conflict-free");
    }

    [TestCase("gemm", "M=40, N=24, K=100")]
    [TestCase("gemm_f16", "M=40, N=24, K=100")]
    [TestCase("conv2d_f16", "N=1, H=5, W=5, C=8, K=8, R=3, S=3, pad=1")]
    public void TheElementByElementFallbackMatches(string codelet, string bindings)
    {
        var plan = Plan(codelet, bindings, options: new TensorCorePlanOptions { ByElement = true });
        Assert.That(new[] { plan.A.Layout, plan.B.Layout }, Is.All.EqualTo(TensorCoreOperandLayout.KMajorByElement));
        var statistics = RunAndCompare(plan);
        Assert.That(statistics.ElementCopies, Is.GreaterThan(0));
        Assert.That(statistics.CpAsyncBytes, Is.Zero);
    }

    [TestCase(2, 1, 2)]
    [TestCase(1, 2, 2)]
    [TestCase(2, 2, 3)]
    [TestCase(1, 1, 4)]
    public void EveryWarpSplitAndPipelineDepthMatches(int warpsM, int warpsN, int stages)
    {
        foreach (var codelet in new[] { "gemm", "gemm_f16" })
        {
            var plan = Plan(codelet, "M=70, N=40, K=200", options: new TensorCorePlanOptions { BlockM = 32, BlockN = 16, WarpsM = warpsM, WarpsN = warpsN, Stages = stages });
            Assert.That((plan.WarpsM, plan.WarpsN, plan.Stages), Is.EqualTo((warpsM, warpsN, stages)));
            RunAndCompare(plan);
        }
    }

    [Test]
    public void APipelineOfOneStageIsRefused()
    {
        var plan = TensorCorePlan.Choose(Map("gemm", "M=70, N=40, K=200"), new TensorCorePlanOptions { Stages = 1 });
        Assert.That(plan.Succeeded, Is.False);
        Assert.That(plan.Diagnostics.Single().Descriptor.Id, Is.EqualTo("COV5313"));
    }

    [Test]
    public void SharedMemoryComesFromTheGraph()
    {
        Assert.That(Plan("gemm", "M=64, N=64, K=64", Sm80).SharedLimit, Is.EqualTo((164 * 1024) - 1024));
        Assert.That(Plan("gemm", "M=64, N=64, K=64", Sm90).SharedLimit, Is.EqualTo((228 * 1024) - 1024));
    }

    [Test]
    public void BothLayoutsOfF16OperandsAreUsedAndMatch()
    {
        // gemm_f16's b[k, n] is contiguous along n: staged N-major and read with ldmatrix.trans.
        var plan = Plan("gemm_f16", "M=48, N=64, K=64");
        var layouts = new[] { plan.A.Layout, plan.B.Layout };
        Assert.That(layouts, Does.Contain(TensorCoreOperandLayout.KMajor));
        Assert.That(layouts, Does.Contain(TensorCoreOperandLayout.MnMajor));
        RunAndCompare(plan);
    }

    [Test]
    public void AConvolutionFusesItsOutputPixelsIntoOneGemmDimension()
    {
        var plan = Plan("conv2d_f16", "N=2, H=6, W=6, C=16, K=16, R=3, S=3, pad=1");
        var fused = plan.RowLoops.Length > 1 ? plan.RowLoops : plan.ColumnLoops;
        Assert.That(fused.Select(l => plan.Loops[l].Name), Is.EqualTo(new[] { "n", "p", "q" }));
        Assert.That(plan.ReductionLoops.Select(l => plan.Loops[l].Name), Is.EqualTo(new[] { "r", "s", "c" }));
        Assert.That(plan.K, Is.EqualTo(3 * 3 * 16));
        RunAndCompare(plan);
    }
}
