using System.Diagnostics;
using System.Globalization;
using Covenant.Codelets;
using Covenant.Codelets.Semantics;
using Covenant.Codelets.Syntax;
using Covenant.Runtime.Reference;

namespace Covenant.Runtime.Tests;

/// <summary>
/// Throughput of the interpreter on layers of realistic size, printed rather than asserted (timings
/// are not test outcomes). Run with <c>dotnet test --filter Category=Benchmark</c>.
/// </summary>
[Explicit("prints timings; run on demand")]
[Category("Benchmark")]
public sealed class InterpreterBenchmark
{
    [Test]
    public void GemmI8_256() => Measure("gemm i8 256x256x256, b[k, n]", Gemm(256, 256, 256, transposedB: false));

    [Test]
    public void GemmI8_256TransposedB() => Measure("gemm i8 256x256x256, b[n, k]", Gemm(256, 256, 256, transposedB: true));

    [Test]
    public void GemmI8_1024() => Measure("gemm i8 1024x1024x1024, b[k, n]", Gemm(1024, 1024, 1024, transposedB: false));

    [Test]
    public void Conv3x3_56x56x64() => Measure("conv2d i8 56x56x64 -> 64, 3x3, pad 1", Conv2d(56, 56, 64, 64, 3, 1, 1));

    [Test]
    public void Conv3x3_14x14x256() => Measure("conv2d i8 14x14x256 -> 256, 3x3, pad 1", Conv2d(14, 14, 256, 256, 3, 1, 1));

    [Test]
    public void GemmF16_256() => Measure("gemm f16 256x256x256 (f32 out)", Gemm(256, 256, 256, transposedB: true, ElementType.F16, ElementType.F32));

    [Test]
    public void ShippedGemm_256() =>
        Measure("codelets/gemm.cdlt 256x256x256", ShippedCodelets.Instantiate("gemm", "M=256, N=256, K=256"));

    [Test]
    public void ShippedConv2d_Res2_3x3() =>
        Measure("codelets/conv2d.cdlt 56x56x64 -> 64, 3x3, pad 1", ShippedCodelets.Instantiate("conv2d", "N=1, H=56, W=56, C=64, K=64, R=3, S=3, pad=1"));

    [Test]
    public void ShippedConv2d_Res4_3x3() =>
        Measure("codelets/conv2d.cdlt 14x14x256 -> 256, 3x3, pad 1", ShippedCodelets.Instantiate("conv2d", "N=1, H=14, W=14, C=256, K=256, R=3, S=3, pad=1"));

    [Test]
    public void ShippedFcRequant_1024() =>
        Measure("codelets/fc_requant.cdlt 64x1024x1024", ShippedCodelets.Instantiate("fc_requant", "M=64, N=1024, K=1024"));

    internal static CodeletInstance Gemm(int m, int n, int k, bool transposedB, ElementType input = ElementType.I8, ElementType output = ElementType.I32)
    {
        var b = new InstanceBuilder("gemm")
            .Input("a", input, [m, k]).Input("b", input, transposedB ? [n, k] : [k, n]).Output("c", output, [m, n]);
        var nest = b.Nest(("i", m), ("j", n), ("k", k));
        nest.Accumulate("c", ["i", "j"], V.Mul(nest.Load("a", "i", "k"), transposedB ? nest.Load("b", "j", "k") : nest.Load("b", "k", "j")));
        return b.Build();
    }

    internal static CodeletInstance Conv2d(int h, int w, int c, int k, int r, int stride, int pad)
    {
        var p = ((h + (2 * pad) - r) / stride) + 1;
        var q = ((w + (2 * pad) - r) / stride) + 1;
        var b = new InstanceBuilder("conv2d")
            .Input("x", ElementType.I8, [1, h, w, c], TensorModifiers.Padded).Input("w", ElementType.I8, [k, r, r, c])
            .Output("y", ElementType.I32, [1, p, q, k]);
        var nest = b.Nest(("n", 1), ("p", p), ("q", q), ("k", k), ("r", r), ("s", r), ("c", c));
        nest.Accumulate(
            "y",
            ["n", "p", "q", "k"],
            V.Mul(nest.Load("x", "n", $"{stride}*p + r - {pad}", $"{stride}*q + s - {pad}", "c"), nest.Load("w", "k", "r", "s", "c")));
        return b.Build();
    }

    private static void Measure(string what, CodeletInstance instance)
    {
        var compile = Stopwatch.StartNew();
        var compiled = ReferenceInterpreter.Compile(instance);
        compile.Stop();
        var inputs = RandomTensors.Inputs(instance, seed: 1);
        foreach (var threads in new[] { 1, -1 })
        {
            var options = new InterpreterOptions { MaxDegreeOfParallelism = threads };
            compiled.Run(inputs, options); // warm-up
            var best = double.MaxValue;
            for (var run = 0; run < 5; run++)
            {
                var watch = Stopwatch.StartNew();
                compiled.Run(inputs, options);
                best = Math.Min(best, watch.Elapsed.TotalSeconds);
            }

            TestContext.Out.WriteLine(string.Create(
                CultureInfo.InvariantCulture,
                $"{what}: {compiled.Iterations / 1e6:F1} M MAC in {best * 1e3:F1} ms = {compiled.Iterations / best / 1e6:F0} M MAC/s ({(threads == 1 ? "1 thread" : $"{Environment.ProcessorCount} threads")}; compiled in {compile.Elapsed.TotalMilliseconds:F0} ms)"));
        }
    }
}
