using Covenant.Runtime;
using Covenant.Targets.Vnni;
using static Covenant.Targets.Tests.Vnni.VnniTestSupport;

namespace Covenant.Targets.Tests.Vnni;

/// <summary>
/// Every operator the VNNI target supports, on small and odd shapes, natively (where the CPU has AVX-512 VNNI)
/// and in the instruction-level simulator, each checked bit for bit against the reference interpreter.
/// </summary>
[Parallelizable(ParallelScope.All)]
public class VnniKernelTests
{
    private const string Avx512 = "vnni-avx512";
    private const string Avx256 = "vnni-avx256";

    public static IEnumerable<TestCaseData> Cases()
    {
        TestCaseData Case(string codelet, string bindings, string architecture = Avx512, VnniPlanOptions? options = null, string? note = null) =>
            new TestCaseData(codelet, bindings, architecture, options ?? VnniPlanOptions.Default)
                .SetName($"{codelet}<{bindings}> {architecture}{(note is null ? "" : " " + note)}");

        // GEMM: ones, primes, exact blocks, partial register blocks in both directions, K not a multiple of 4.
        yield return Case("gemm", "M=1, N=1, K=1");
        yield return Case("gemm", "M=7, N=13, K=29");
        yield return Case("gemm", "M=6, N=64, K=16");
        yield return Case("gemm", "M=13, N=100, K=37");
        yield return Case("gemm", "M=1, N=300, K=70");
        yield return Case("gemm", "M=3, N=1, K=50", note: "(N = 1: the operands swap)");
        yield return Case("gemm", "M=31, N=33, K=130", options: new VnniPlanOptions { KC = 5 }, note: "KC 5 (partial sums between K blocks)");
        yield return Case("gemm", "M=20, N=70, K=24", options: new VnniPlanOptions { MR = 3, NR = 2, MC = 6, NC = 32 }, note: "MR 3 NR 2 MC 6 NC 32 (12 tiles)");
        yield return Case("gemm", "M=9, N=40, K=12", options: new VnniPlanOptions { MR = 5, NR = 3, Threads = 1 }, note: "MR 5 NR 3, 1 thread");
        yield return Case("gemm", "M=11, N=21, K=9", options: new VnniPlanOptions { TensorA = "b" }, note: "(b broadcast: one lane per vector)");
        yield return Case("bmm", "B=3, M=5, N=17, K=9");
        yield return Case("bmm", "B=2, M=8, N=48, K=64", options: new VnniPlanOptions { KC = 4 }, note: "KC 4");
        yield return Case("gemv", "M=37, K=29");
        yield return Case("gemv", "M=1, K=5");
        yield return Case("gemv", "M=130, K=64");

        // Convolutions: implicit GEMM over the affine indices; A' handles padding, strides and dilation.
        yield return Case("conv1d", "N=2, W=11, C=3, K=5, S=3, stride=2, pad=1, dilation=2");
        yield return Case("conv1d", "N=1, W=16, C=8, K=16, S=1");
        yield return Case("conv2d", "N=1, H=7, W=7, C=8, K=20, R=3, S=3, pad=1");
        yield return Case("conv2d", "N=2, H=9, W=11, C=5, K=17, R=3, S=3, stride=2, pad=1, dilation=2");
        yield return Case("conv2d", "N=1, H=5, W=5, C=16, K=32, R=1, S=1");
        yield return Case("conv2d", "N=1, H=10, W=23, C=1, K=7, R=3, S=5, stride_h=2, stride_w=3, pad_h=2, pad_w=1", note: "(C = 1: im2col)");
        yield return Case("conv2d", "N=1, H=6, W=6, C=8, K=9, R=3, S=3, pad=1", options: new VnniPlanOptions { AMode = VnniAMode.Im2col }, note: "im2col forced");
        yield return Case("conv2d", "N=1, H=5, W=6, C=4, K=3, R=2, S=2", options: new VnniPlanOptions { TensorA = "w" }, note: "(weights broadcast)");
        yield return Case("conv2d_grouped", "N=1, H=6, W=6, C=8, K=12, G=4, R=3, S=3, pad=1");
        yield return Case("conv2d_grouped", "N=1, H=7, W=5, C=6, K=10, G=2, R=3, S=3, stride=2");
        yield return Case("conv2d_depthwise", "N=1, H=7, W=7, C=5, R=3, S=3, pad=1, stride=2");
        yield return Case("conv2d_depthwise", "N=2, H=6, W=6, C=16, R=3, S=3, pad=1, dilation=2");

        // The quantized FC: bias, shift, relu, clip and the narrowing store, fused.
        yield return Case("fc_requant", "M=5, N=37, K=19, shift=6");
        yield return Case("fc_requant", "M=1, N=16, K=64, shift=0");
        yield return Case("fc_requant", "M=8, N=24, K=100, shift=31", options: new VnniPlanOptions { KC = 7 }, note: "KC 7");

        // The 8-lane form (AVX-VNNI's operation, EVEX-encoded ymm).
        yield return Case("gemm", "M=7, N=13, K=29", Avx256);
        yield return Case("bmm", "B=2, M=9, N=20, K=33", Avx256);
        yield return Case("conv2d", "N=2, H=9, W=11, C=5, K=17, R=3, S=3, stride=2, pad=1, dilation=2", Avx256);
        yield return Case("conv2d_depthwise", "N=1, H=7, W=7, C=5, R=3, S=3, pad=1, stride=2", Avx256);
        yield return Case("fc_requant", "M=5, N=37, K=19, shift=9", Avx256);
    }

    [TestCaseSource(nameof(Cases))]
    public void Native(string codelet, string bindings, string architecture, VnniPlanOptions options)
    {
        RequireNativeVnni();
        var plan = Plan(Instance(codelet, bindings), architecture, options);
        RunAndCompare(plan, simulate: false);
    }

    [TestCaseSource(nameof(Cases))]
    public void Simulated(string codelet, string bindings, string architecture, VnniPlanOptions options)
    {
        var plan = Plan(Instance(codelet, bindings), architecture, options);
        var result = RunAndCompare(plan, simulate: true);
        Assert.That(result.SimulatedVectorInstructions, Is.GreaterThan(0));
    }

    private const string GemmU8 = """
        codelet gemm_u8<M, N, K>(a: u8[M, K], b: i8[K, N]) -> c: i32[M, N]
        {
            for m, n, k:
                c[m, n] += a[m, k] * b[k, n]
        }
        """;

    [TestCase(false)]
    [TestCase(true)]
    public void UnsignedTimesSignedNeedsNoCompensation(bool simulate)
    {
        if (!simulate)
        {
            RequireNativeVnni();
        }

        var plan = Plan(InstanceOfText(GemmU8, "M=5, N=20, K=11"));
        Assert.That(plan.Compensate, Is.False);
        Assert.That(plan.TensorA, Is.EqualTo("a"));
        RunAndCompare(plan, simulate);
    }

    /// <summary>
    /// All -128: each product is 16384, and 140 000 of them overflow int32. The kernel computes 0 · b on the
    /// shifted A and adds -128 x the column sum; both sides must wrap to the same value.
    /// </summary>
    [TestCase(-128, -128, false)]
    [TestCase(-128, -128, true)]
    [TestCase(127, -128, false)]
    [TestCase(-128, 127, true)]
    public void WrapsLikeTheReferenceWhenTheSumOverflows(int a, int b, bool simulate)
    {
        if (!simulate)
        {
            RequireNativeVnni();
        }

        var instance = Instance("gemm", "M=2, N=17, K=140000");
        var plan = Plan(instance);
        var inputs = new Dictionary<string, TensorData>(StringComparer.Ordinal)
        {
            ["a"] = Filled(instance.Tensors.First(t => t.Name == "a"), a),
            ["b"] = Filled(instance.Tensors.First(t => t.Name == "b"), b),
        };
        var result = RunAndCompare(plan, simulate, inputs);
        var expected = unchecked((int)(140000L * a * b));
        Assert.That(result.Outputs["c"].Integers[0], Is.EqualTo(expected));
    }
}
