using Covenant.Codelets;
using Covenant.Codelets.Semantics;
using Covenant.Testing;
using static Covenant.Runtime.Tests.ShippedCodelets;
using static Covenant.Runtime.Tests.Tensors;

namespace Covenant.Runtime.Tests;

/// <summary>
/// Every shipped codelet, on small and awkward shapes, against a plain C# implementation of the operator
/// written from its mathematical definition (direct loops, explicit padding checks, the gather form of
/// the transposed convolution) — independent of the codelet text and of the interpreter's machinery.
/// Integer results must agree exactly.
/// </summary>
public sealed class CodeletReferenceTests
{
    /// <summary>Every codelet in codelets/ must be tested here: a new one without a reference fails.</summary>
    private static readonly string[] Tested =
    [
        "bmm", "bmm_f16", "conv1d", "conv2d", "conv2d_depthwise", "conv2d_f16", "conv2d_grouped", "conv2d_transposed", "conv3d",
        "fc_requant", "gemm", "gemm_f16", "gemv",
    ];

    [Test]
    public void EveryShippedCodeletHasAReferenceTest()
    {
        var shipped = Directory.EnumerateFiles(Repo.Codelets, "*.cdlt").Select(Path.GetFileNameWithoutExtension).Order(StringComparer.Ordinal);

        Assert.That(shipped, Is.EqualTo(Tested));
    }

    // ---- GEMM family ----

    [TestCase(1, 1, 1)]
    [TestCase(7, 5, 13)]
    [TestCase(3, 17, 2)]
    [TestCase(16, 16, 16)]
    [TestCase(1, 31, 64)]
    public void Gemm(int m, int n, int k)
    {
        var (inputs, outputs) = RunRandom(Instantiate("gemm", $"M={m}, N={n}, K={k}"));
        var a = inputs["a"];
        var b = inputs["b"];

        var expected = new int[m * n];
        for (var i = 0; i < m; i++)
        {
            for (var j = 0; j < n; j++)
            {
                var sum = 0;
                for (var kk = 0; kk < k; kk++)
                {
                    sum += (int)a[i, kk] * (int)b[kk, j];
                }

                expected[(i * n) + j] = sum;
            }
        }

        Assert.That(Values(outputs["c"]), Is.EqualTo(expected));
    }

    [Test]
    public void GemmTwoByTwoIsWorkedOutByHand()
    {
        // [1 -2; 3 4] x [5 6; -7 8] = [1*5 + -2*-7, 1*6 + -2*8; 3*5 + 4*-7, 3*6 + 4*8] = [19 -10; -13 50]
        var outputs = Run(
            Instantiate("gemm", "M=2, N=2, K=2"),
            ("a", I8([2, 2], 1, -2, 3, 4)),
            ("b", I8([2, 2], 5, 6, -7, 8)));

        Assert.That(Values(outputs["c"]), Is.EqualTo(new[] { 19, -10, -13, 50 }));
    }

    [TestCase(1, 1, 1, 1)]
    [TestCase(3, 5, 7, 2)]
    [TestCase(2, 4, 4, 9)]
    public void Bmm(int batches, int m, int n, int k)
    {
        var (inputs, outputs) = RunRandom(Instantiate("bmm", $"B={batches}, M={m}, N={n}, K={k}"));
        var a = inputs["a"];
        var b = inputs["b"];

        var expected = new List<int>();
        for (var batch = 0; batch < batches; batch++)
        {
            for (var i = 0; i < m; i++)
            {
                for (var j = 0; j < n; j++)
                {
                    expected.Add(Enumerable.Range(0, k).Sum(kk => (int)a[batch, i, kk] * (int)b[batch, kk, j]));
                }
            }
        }

        Assert.That(Values(outputs["c"]), Is.EqualTo(expected));
    }

    [TestCase(1, 1)]
    [TestCase(13, 7)]
    [TestCase(64, 33)]
    public void Gemv(int m, int k)
    {
        var (inputs, outputs) = RunRandom(Instantiate("gemv", $"M={m}, K={k}"));
        var a = inputs["a"];
        var x = inputs["x"];

        var expected = Enumerable.Range(0, m).Select(i => Enumerable.Range(0, k).Sum(kk => (int)a[i, kk] * (int)x[kk]));

        Assert.That(Values(outputs["y"]), Is.EqualTo(expected));
    }

    [TestCase(7, 5, 13)]
    [TestCase(16, 8, 16)]
    [TestCase(1, 1, 1)]
    public void GemmF16AccumulatesInF32(int m, int n, int k)
    {
        var (inputs, outputs) = RunRandom(Instantiate("gemm_f16", $"M={m}, N={n}, K={k}"));
        var a = inputs["a"];
        var b = inputs["b"];

        // f16 values widen exactly; products and sums in f32, k ascending.
        var expected = new float[m * n];
        for (var i = 0; i < m; i++)
        {
            for (var j = 0; j < n; j++)
            {
                var sum = 0f;
                for (var kk = 0; kk < k; kk++)
                {
                    sum += (float)a[i, kk] * (float)b[kk, j];
                }

                expected[(i * n) + j] = sum;
            }
        }

        Assert.Multiple(() =>
        {
            Assert.That(outputs["c"].ElementType, Is.EqualTo(ElementType.F32));
            Assert.That(FloatValues(outputs["c"]), Is.EqualTo(expected));
        });
    }

    [TestCase(1, 1, 1, 1)]
    [TestCase(3, 5, 7, 9)]
    public void BmmF16AccumulatesInF32(int batches, int m, int n, int k)
    {
        var (inputs, outputs) = RunRandom(Instantiate("bmm_f16", $"B={batches}, M={m}, N={n}, K={k}"));
        var a = inputs["a"];
        var b = inputs["b"];

        // f16 values widen exactly; products and sums in f32, k ascending, as the loop nest orders them.
        var expected = new List<float>();
        for (var batch = 0; batch < batches; batch++)
        {
            for (var i = 0; i < m; i++)
            {
                for (var j = 0; j < n; j++)
                {
                    var sum = 0f;
                    for (var kk = 0; kk < k; kk++)
                    {
                        sum += (float)a[batch, i, kk] * (float)b[batch, kk, j];
                    }

                    expected.Add(sum);
                }
            }
        }

        Assert.That(FloatValues(outputs["c"]), Is.EqualTo(expected));
    }

    [TestCase("N=1, H=6, W=5, C=3, K=4, R=3, S=3, stride=2, pad=1")]
    [TestCase("N=2, H=5, W=5, C=2, K=3, R=3, S=3, dilation=2, pad=2")]
    public void Conv2dF16AccumulatesInF32(string bindings)
    {
        var instance = Instantiate("conv2d_f16", bindings);
        var (inputs, outputs) = RunRandom(instance);
        var size = Sizes(instance);
        var x = inputs["x"];
        var w = inputs["w"];
        var axes = Axes2d(size);

        // Sums in f32 in the nest's order r, s, c; taps in the padding add nothing.
        var expected = new List<float>();
        for (var b = 0; b < size["N"]; b++)
        {
            for (var p = 0; p < axes.P; p++)
            {
                for (var q = 0; q < axes.Q; q++)
                {
                    for (var kk = 0; kk < size["K"]; kk++)
                    {
                        var sum = 0f;
                        for (var r = 0; r < size["R"]; r++)
                        {
                            for (var s = 0; s < size["S"]; s++)
                            {
                                var (ih, iw) = axes.Input(p, q, r, s);
                                for (var c = 0; c < size["C"]; c++)
                                {
                                    if (ih >= 0 && ih < size["H"] && iw >= 0 && iw < size["W"])
                                    {
                                        sum += (float)x[b, ih, iw, c] * (float)w[kk, r, s, c];
                                    }
                                }
                            }
                        }

                        expected.Add(sum);
                    }
                }
            }
        }

        Assert.That(FloatValues(outputs["y"]), Is.EqualTo(expected));
    }

    [Test]
    public void GemmF16IsWorkedOutByHand()
    {
        // [0.5 2; -1 0.25] x [3 1; 1 -4] = [1.5 + 2, 0.5 - 8; -3 + 0.25, -1 - 1]
        var outputs = Run(
            Instantiate("gemm_f16", "M=2, N=2, K=2"),
            ("a", F16([2, 2], 0.5f, 2f, -1f, 0.25f)),
            ("b", F16([2, 2], 3f, 1f, 1f, -4f)));

        Assert.That(FloatValues(outputs["c"]), Is.EqualTo(new[] { 3.5f, -7.5f, -2.75f, -2f }));
    }

    // ---- fc_requant ----

    [TestCase(3, 5, 7, 8)]
    [TestCase(1, 1, 1, 0)]
    [TestCase(4, 6, 64, 4)]
    [TestCase(2, 3, 200, 12)]
    public void FcRequant(int m, int n, int k, int shift)
    {
        var (inputs, outputs) = RunRandom(Instantiate("fc_requant", $"M={m}, N={n}, K={k}, shift={shift}"));
        var x = inputs["x"];
        var w = inputs["w"];
        var bias = inputs["bias"];

        // y = saturate_i8(relu((x . w^T + bias) >> shift))
        var expected = new int[m * n];
        for (var i = 0; i < m; i++)
        {
            for (var j = 0; j < n; j++)
            {
                var acc = 0;
                for (var kk = 0; kk < k; kk++)
                {
                    acc += (int)x[i, kk] * (int)w[j, kk];
                }

                var scaled = (acc + (int)bias[j]) >> shift;
                expected[(i * n) + j] = Math.Clamp(Math.Max(scaled, 0), -128, 127);
            }
        }

        Assert.Multiple(() =>
        {
            Assert.That(outputs["y"].ElementType, Is.EqualTo(ElementType.I8));
            Assert.That(Values(outputs["y"]), Is.EqualTo(expected));
            Assert.That(expected.Distinct().Count(), Is.GreaterThan(1).Or.EqualTo(m * n), "the data should exercise the epilogue");
        });
    }

    [Test]
    public void FcRequantIsWorkedOutByHand()
    {
        // x = [10 -3], w rows [5 7], [-20 1], [127 127]; bias [2, 0, 1000], shift 2:
        // row 0: 50 - 21 + 2 = 31 >> 2 = 7;  row 1: -200 - 3 + 0 = -203 >> 2 = -51 -> relu 0;
        // row 2: 1270 - 381 + 1000 = 1889 >> 2 = 472 -> saturates at 127.
        var outputs = Run(
            Instantiate("fc_requant", "M=1, N=3, K=2, shift=2"),
            ("x", I8([1, 2], 10, -3)),
            ("w", I8([3, 2], 5, 7, -20, 1, 127, 127)),
            ("bias", I32([3], 2, 0, 1000)));

        Assert.That(Values(outputs["y"]), Is.EqualTo(new[] { 7, 0, 127 }));
    }

    // ---- Convolutions ----

    [TestCase("N=1, W=11, C=3, K=4, S=3")]
    [TestCase("N=2, W=7, C=1, K=1, S=1")]
    [TestCase("N=1, W=11, C=3, K=4, S=3, stride=2, pad=1")]
    [TestCase("N=1, W=12, C=2, K=3, S=3, dilation=2, pad=2")]
    [TestCase("N=1, W=13, C=5, K=2, S=3, stride=3, dilation=2, pad=3")]
    public void Conv1d(string bindings)
    {
        var instance = Instantiate("conv1d", bindings);
        var (inputs, outputs) = RunRandom(instance);
        var size = Sizes(instance);
        var x = inputs["x"];
        var w = inputs["w"];
        int n = size["N"], width = size["W"], c = size["C"], k = size["K"], s = size["S"];
        int stride = size["stride"], pad = size["pad"], dilation = size["dilation"];
        var q = ((width + (2 * pad) - (dilation * (s - 1)) - 1) / stride) + 1;

        var expected = new List<int>();
        for (var b = 0; b < n; b++)
        {
            for (var oq = 0; oq < q; oq++)
            {
                for (var f = 0; f < k; f++)
                {
                    var sum = 0;
                    for (var tap = 0; tap < s; tap++)
                    {
                        var iw = (oq * stride) + (tap * dilation) - pad;
                        if (iw < 0 || iw >= width)
                        {
                            continue; // zero padding
                        }

                        for (var ch = 0; ch < c; ch++)
                        {
                            sum += (int)x[b, iw, ch] * (int)w[f, tap, ch];
                        }
                    }

                    expected.Add(sum);
                }
            }
        }

        Assert.Multiple(() =>
        {
            Assert.That(outputs["y"].Shape, Is.EqualTo(new[] { n, q, k }));
            Assert.That(Values(outputs["y"]), Is.EqualTo(expected));
        });
    }

    [Test]
    public void Conv1dIsWorkedOutByHand()
    {
        // x = [1 2 3 4], w = [1 0 -1], pad 1: y[q] = x[q-1] - x[q+1] -> [0-2, 1-3, 2-4, 3-0] = [-2 -2 -2 3]
        var outputs = Run(
            Instantiate("conv1d", "N=1, W=4, C=1, K=1, S=3, pad=1"),
            ("x", I8([1, 4, 1], 1, 2, 3, 4)),
            ("w", I8([1, 3, 1], 1, 0, -1)));

        Assert.That(Values(outputs["y"]), Is.EqualTo(new[] { -2, -2, -2, 3 }));
    }

    [TestCase("N=1, H=1, W=1, C=1, K=1, R=1, S=1")]
    [TestCase("N=1, H=6, W=5, C=3, K=4, R=3, S=3, pad=1")]
    [TestCase("N=2, H=7, W=5, C=3, K=5, R=3, S=2")]
    [TestCase("N=1, H=9, W=8, C=2, K=3, R=3, S=3, stride=2, pad=1")]
    [TestCase("N=1, H=9, W=9, C=2, K=2, R=3, S=3, dilation=2, pad=2")]
    [TestCase("N=1, H=11, W=7, C=3, K=2, R=3, S=2, stride_h=2, stride_w=1, pad_h=0, pad_w=2, dilation_w=2")]
    [TestCase("N=1, H=13, W=13, C=1, K=1, R=5, S=3, stride=3, pad=2, dilation_h=2")]
    public void Conv2d(string bindings) => CheckGroupedConv2d("conv2d", bindings);

    [TestCase("N=1, H=5, W=5, C=4, K=6, G=2, R=3, S=3, pad=1")]
    [TestCase("N=2, H=4, W=3, C=3, K=3, G=3, R=1, S=1")]
    [TestCase("N=1, H=8, W=7, C=6, K=4, G=2, R=3, S=3, stride=2, pad=1")]
    [TestCase("N=1, H=7, W=7, C=2, K=2, G=1, R=3, S=3, dilation=2, pad=1")]
    [TestCase("N=1, H=6, W=6, C=12, K=8, G=4, R=2, S=3, stride_h=2, pad_w=1")]
    public void Conv2dGrouped(string bindings) => CheckGroupedConv2d("conv2d_grouped", bindings);

    [TestCase("N=1, H=5, W=5, C=5, R=3, S=3, pad=1")]
    [TestCase("N=2, H=7, W=6, C=3, R=3, S=3, stride=2")]
    [TestCase("N=1, H=9, W=9, C=2, R=3, S=3, dilation=2, pad=2")]
    [TestCase("N=1, H=1, W=1, C=1, R=1, S=1")]
    [TestCase("N=1, H=8, W=5, C=4, R=3, S=1, stride_h=2, pad_h=1")]
    public void Conv2dDepthwise(string bindings)
    {
        var instance = Instantiate("conv2d_depthwise", bindings);
        var (inputs, outputs) = RunRandom(instance);
        var size = Sizes(instance);
        var x = inputs["x"];
        var w = inputs["w"];
        var axes = Axes2d(size);

        var expected = new List<int>();
        for (var b = 0; b < size["N"]; b++)
        {
            for (var p = 0; p < axes.P; p++)
            {
                for (var q = 0; q < axes.Q; q++)
                {
                    for (var ch = 0; ch < size["C"]; ch++)
                    {
                        var sum = 0;
                        for (var r = 0; r < size["R"]; r++)
                        {
                            for (var s = 0; s < size["S"]; s++)
                            {
                                var (ih, iw) = axes.Input(p, q, r, s);
                                if (ih >= 0 && ih < size["H"] && iw >= 0 && iw < size["W"])
                                {
                                    sum += (int)x[b, ih, iw, ch] * (int)w[r, s, ch];
                                }
                            }
                        }

                        expected.Add(sum);
                    }
                }
            }
        }

        Assert.Multiple(() =>
        {
            Assert.That(outputs["y"].Shape, Is.EqualTo(new[] { size["N"], axes.P, axes.Q, size["C"] }));
            Assert.That(Values(outputs["y"]), Is.EqualTo(expected));
        });
    }

    [TestCase("N=1, D=4, H=5, W=3, C=2, K=3, T=2, R=3, S=2")]
    [TestCase("N=1, D=5, H=5, W=5, C=2, K=2, T=3, R=3, S=3, stride=2, pad=1")]
    [TestCase("N=2, D=7, H=4, W=4, C=1, K=2, T=3, R=2, S=2, dilation_d=2, pad_h=1, stride_w=2")]
    public void Conv3d(string bindings)
    {
        var instance = Instantiate("conv3d", bindings);
        var (inputs, outputs) = RunRandom(instance);
        var size = Sizes(instance);
        var x = inputs["x"];
        var w = inputs["w"];
        int OutputSize(string input, string kernel, string axis) =>
            ((size[input] + (2 * size["pad_" + axis]) - (size["dilation_" + axis] * (size[kernel] - 1)) - 1) / size["stride_" + axis]) + 1;
        int o = OutputSize("D", "T", "d"), pp = OutputSize("H", "R", "h"), qq = OutputSize("W", "S", "w");

        var expected = new List<int>();
        for (var b = 0; b < size["N"]; b++)
        {
            for (var od = 0; od < o; od++)
            {
                for (var p = 0; p < pp; p++)
                {
                    for (var q = 0; q < qq; q++)
                    {
                        for (var f = 0; f < size["K"]; f++)
                        {
                            var sum = 0;
                            for (var t = 0; t < size["T"]; t++)
                            {
                                for (var r = 0; r < size["R"]; r++)
                                {
                                    for (var s = 0; s < size["S"]; s++)
                                    {
                                        var id = (od * size["stride_d"]) + (t * size["dilation_d"]) - size["pad_d"];
                                        var ih = (p * size["stride_h"]) + (r * size["dilation_h"]) - size["pad_h"];
                                        var iw = (q * size["stride_w"]) + (s * size["dilation_w"]) - size["pad_w"];
                                        if (id < 0 || id >= size["D"] || ih < 0 || ih >= size["H"] || iw < 0 || iw >= size["W"])
                                        {
                                            continue;
                                        }

                                        for (var ch = 0; ch < size["C"]; ch++)
                                        {
                                            sum += (int)x[b, id, ih, iw, ch] * (int)w[f, t, r, s, ch];
                                        }
                                    }
                                }
                            }

                            expected.Add(sum);
                        }
                    }
                }
            }
        }

        Assert.Multiple(() =>
        {
            Assert.That(outputs["y"].Shape, Is.EqualTo(new[] { size["N"], o, pp, qq, size["K"] }));
            Assert.That(Values(outputs["y"]), Is.EqualTo(expected));
        });
    }

    [TestCase("N=1, H=3, W=4, C=2, K=3, R=3, S=3, stride=2, pad=1")]
    [TestCase("N=1, H=3, W=3, C=2, K=2, R=3, S=3, stride=2, pad=1, out_pad=1")]
    [TestCase("N=2, H=4, W=2, C=1, K=2, R=2, S=3")]
    [TestCase("N=1, H=3, W=5, C=3, K=2, R=3, S=2, dilation=2, pad=2")]
    [TestCase("N=1, H=5, W=4, C=2, K=2, R=4, S=3, stride_h=3, stride_w=2, pad_h=1, pad_w=0, out_pad_w=1")]
    public void Conv2dTransposed(string bindings)
    {
        var instance = Instantiate("conv2d_transposed", bindings);
        var (inputs, outputs) = RunRandom(instance);
        var size = Sizes(instance);
        var x = inputs["x"];
        var w = inputs["w"];
        int sh = size["stride_h"], sw = size["stride_w"], ph = size["pad_h"], pw = size["pad_w"], dh = size["dilation_h"], dw = size["dilation_w"];
        var p = ((size["H"] - 1) * sh) - (2 * ph) + (dh * (size["R"] - 1)) + size["out_pad_h"] + 1;
        var qq = ((size["W"] - 1) * sw) - (2 * pw) + (dw * (size["S"] - 1)) + size["out_pad_w"] + 1;

        // The gather form: output (oh, ow) takes input (ih, iw) through tap (r, s) where
        // ih * stride + r * dilation - pad = oh, i.e. ih = (oh + pad - r * dilation) / stride when that divides.
        var expected = new List<int>();
        for (var b = 0; b < size["N"]; b++)
        {
            for (var oh = 0; oh < p; oh++)
            {
                for (var ow = 0; ow < qq; ow++)
                {
                    for (var f = 0; f < size["K"]; f++)
                    {
                        var sum = 0;
                        for (var r = 0; r < size["R"]; r++)
                        {
                            for (var s = 0; s < size["S"]; s++)
                            {
                                var hNumerator = oh + ph - (r * dh);
                                var wNumerator = ow + pw - (s * dw);
                                if (hNumerator < 0 || wNumerator < 0 || hNumerator % sh != 0 || wNumerator % sw != 0)
                                {
                                    continue;
                                }

                                int ih = hNumerator / sh, iw = wNumerator / sw;
                                if (ih >= size["H"] || iw >= size["W"])
                                {
                                    continue;
                                }

                                for (var ch = 0; ch < size["C"]; ch++)
                                {
                                    sum += (int)x[b, ih, iw, ch] * (int)w[f, r, s, ch];
                                }
                            }
                        }

                        expected.Add(sum);
                    }
                }
            }
        }

        Assert.Multiple(() =>
        {
            Assert.That(outputs["y"].Shape, Is.EqualTo(new[] { size["N"], p, qq, size["K"] }));
            Assert.That(Values(outputs["y"]), Is.EqualTo(expected));
        });
    }

    [Test]
    public void Conv2dTransposedIsWorkedOutByHand()
    {
        // One channel, 1 x 2 input [1 2], 1 x 3 kernel [1 10 100], stride 2, pad 1 along the width:
        // the scatter puts 1 * [1 10 100] at columns -1..1 and 2 * [1 10 100] at columns 1..3;
        // full row [1, 10, 100 + 2, 20, 200] (columns -1..3), cropped by the padding to columns 0..2: [10, 102, 20].
        var outputs = Run(
            Instantiate("conv2d_transposed", "N=1, H=1, W=2, C=1, K=1, R=1, S=3, stride_w=2, pad_w=1"),
            ("x", I8([1, 1, 2, 1], 1, 2)),
            ("w", I8([1, 1, 3, 1], 1, 10, 100)));

        Assert.That(Values(outputs["y"]), Is.EqualTo(new[] { 10, 102, 20 }));
    }

    [Test]
    public void Conv2dIsWorkedOutByHand()
    {
        // 3 x 3 input 1..9, 3 x 3 kernel of ones, pad 1: each output is the sum of its 3 x 3 neighborhood.
        var outputs = Run(
            Instantiate("conv2d", "N=1, H=3, W=3, C=1, K=1, R=3, S=3, pad=1"),
            ("x", I8([1, 3, 3, 1], 1, 2, 3, 4, 5, 6, 7, 8, 9)),
            ("w", I8([1, 3, 3, 1], 1, 1, 1, 1, 1, 1, 1, 1, 1)));

        Assert.That(Values(outputs["y"]), Is.EqualTo(new[] { 12, 21, 16, 27, 45, 33, 24, 39, 28 }));
    }

    /// <summary>conv2d and conv2d_grouped against one grouped reference (conv2d has no G: one group).</summary>
    private static void CheckGroupedConv2d(string codelet, string bindings)
    {
        var instance = Instantiate(codelet, bindings);
        var (inputs, outputs) = RunRandom(instance);
        var size = Sizes(instance);
        var groups = size.GetValueOrDefault("G", 1);
        var x = inputs["x"];
        var w = inputs["w"];
        var axes = Axes2d(size);
        var channelsPerGroup = size["C"] / groups;
        var filtersPerGroup = size["K"] / groups;

        var expected = new List<int>();
        for (var b = 0; b < size["N"]; b++)
        {
            for (var p = 0; p < axes.P; p++)
            {
                for (var q = 0; q < axes.Q; q++)
                {
                    for (var f = 0; f < size["K"]; f++)
                    {
                        var group = f / filtersPerGroup;
                        var sum = 0;
                        for (var r = 0; r < size["R"]; r++)
                        {
                            for (var s = 0; s < size["S"]; s++)
                            {
                                var (ih, iw) = axes.Input(p, q, r, s);
                                if (ih < 0 || ih >= size["H"] || iw < 0 || iw >= size["W"])
                                {
                                    continue;
                                }

                                for (var ch = 0; ch < channelsPerGroup; ch++)
                                {
                                    sum += (int)x[b, ih, iw, (group * channelsPerGroup) + ch] * (int)w[f, r, s, ch];
                                }
                            }
                        }

                        expected.Add(sum);
                    }
                }
            }
        }

        Assert.Multiple(() =>
        {
            Assert.That(outputs["y"].Shape, Is.EqualTo(new[] { size["N"], axes.P, axes.Q, size["K"] }));
            Assert.That(Values(outputs["y"]), Is.EqualTo(expected));
        });
    }

    /// <summary>Every shape parameter of the instance, defaults included, as ints.</summary>
    private static Dictionary<string, int> Sizes(CodeletInstance instance) =>
        instance.Sizes.ToDictionary(s => s.Key, s => checked((int)s.Value), StringComparer.Ordinal);

    private static Conv2dAxes Axes2d(Dictionary<string, int> size) => new(
        size["H"], size["W"], size["R"], size["S"],
        size["stride_h"], size["stride_w"], size["pad_h"], size["pad_w"], size["dilation_h"], size["dilation_w"]);

    /// <summary>The output size and input coordinates of a 2-D sliding window, per axis.</summary>
    private sealed record Conv2dAxes(int H, int W, int R, int S, int StrideH, int StrideW, int PadH, int PadW, int DilationH, int DilationW)
    {
        public int P => ((H + (2 * PadH) - (DilationH * (R - 1)) - 1) / StrideH) + 1;

        public int Q => ((W + (2 * PadW) - (DilationW * (S - 1)) - 1) / StrideW) + 1;

        public (int H, int W) Input(int p, int q, int r, int s) =>
            ((p * StrideH) + (r * DilationH) - PadH, (q * StrideW) + (s * DilationW) - PadW);
    }
}
