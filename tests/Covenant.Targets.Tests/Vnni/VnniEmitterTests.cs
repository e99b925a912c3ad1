using Covenant.Runtime.Vnni;
using Covenant.Targets.Vnni;
using static Covenant.Targets.Tests.Vnni.VnniTestSupport;

namespace Covenant.Targets.Tests.Vnni;

/// <summary>The C the target emits: the intrinsics of each width, the structure, determinism.</summary>
public class VnniEmitterTests
{
    private static string Emit(string codelet, string bindings, string architecture = "vnni-avx512")
    {
        var plan = Plan(Instance(codelet, bindings), architecture);
        return VnniCEmitter.Emit(VnniKernelBuilder.Build(plan), plan.Describe());
    }

    [Test]
    public void TheZmmKernelUsesTheNonSaturatingDotProduct()
    {
        var c = Emit("gemm", "M=64, N=64, K=64");
        Assert.Multiple(() =>
        {
            Assert.That(c, Does.Contain("_mm512_dpbusd_epi32("));
            Assert.That(c, Does.Not.Contain("dpbusds"), "vpdpbusds saturates; the reference wraps");
            Assert.That(c, Does.Contain("_mm512_set1_epi32(cov_load_i32(buf_a +"), "A is broadcast 4 bytes at a time, from A itself");
            Assert.That(c, Does.Contain("#pragma omp parallel num_threads(2)").And.Contain("#pragma omp for schedule(static)").And.Contain("#pragma omp barrier"), "one parallel region per run");
            Assert.That(c, Does.Contain("void covenant_vnni_init(void** buffers)").And.Contain("void covenant_vnni_pack(void** buffers)").And.Contain("void covenant_vnni_run(void** buffers)"));
            Assert.That(c, Does.Contain("noinline, noclone"), "register blocks are outlined");
        });
    }

    /// <summary>
    /// Where A' would be A byte for byte (a GEMM, a 1x1 stride-1 convolution), the kernel reads A and flips the sign bits
    /// in the register; padding, strides or a K that is not a multiple of 4 still need the copy into A'.
    /// </summary>
    [TestCase("gemm", "M=64, N=64, K=64", true)]
    [TestCase("conv2d", "N=1, H=14, W=14, C=64, K=64, R=1, S=1", true)]
    [TestCase("gemm", "M=64, N=64, K=66", false)]
    [TestCase("conv2d", "N=1, H=14, W=14, C=64, K=64, R=1, S=1, stride=2", false)]
    [TestCase("conv2d", "N=1, H=14, W=14, C=64, K=64, R=3, S=3, pad=1", false)]
    public void ACopyOfAIsMadeOnlyWhereItDiffersFromA(string codelet, string bindings, bool direct)
    {
        var c = Emit(codelet, bindings);
        var run = c[c.IndexOf("void covenant_vnni_run(void** buffers)", StringComparison.Ordinal)..];
        Assert.Multiple(() =>
        {
            Assert.That(run.Contains("buf_a_prime", StringComparison.Ordinal), Is.EqualTo(!direct), "the run writes and reads A' only when it is needed");
            Assert.That(c.Contains("_mm512_xor_epi32(", StringComparison.Ordinal), Is.EqualTo(direct), "signed A read directly is shifted to u8 in the register");
        });
    }

    [Test]
    public void TheYmmKernelUsesThe256BitForm()
    {
        var c = Emit("gemm", "M=64, N=64, K=64", "vnni-avx256");
        Assert.That(c, Does.Contain("_mm256_dpbusd_epi32(").And.Not.Contain("_mm512_"));
    }

    [Test]
    public void TheRequantizingEpilogueIsFusedIntoTheStore()
    {
        var c = Emit("fc_requant", "M=5, N=37, K=19, shift=6");
        Assert.That(c, Does.Contain("_mm512_srai_epi32(").And.Contain("_mm512_max_epi32(").And.Contain("_mm512_min_epi32(")
            .And.Contain("_mm512_mask_cvtepi32_storeu_epi8("));
    }

    [Test]
    public void EmissionIsDeterministic()
    {
        var first = Emit("conv2d", "N=1, H=7, W=7, C=8, K=20, R=3, S=3, pad=1");
        var second = Emit("conv2d", "N=1, H=7, W=7, C=8, K=20, R=3, S=3, pad=1");
        Assert.That(second, Is.EqualTo(first));
    }
}
