using Covenant.Onnx.Import;
using Covenant.Runtime;

namespace Covenant.Onnx.Host;

/// <summary>
/// ONNX sums (x - zx)(w - zw) over the taps inside the input (padding contributes nothing); the codelet sums x·w with
/// padding reading 0. The difference, per output, is zw·Σx + zx·Σw - n·zx·zw over the n valid taps, computed here from
/// the codelet's own operands (already offset into int8, so zx and zw are the zero points after that offset).
/// </summary>
internal static class ZeroPointCorrection
{
    public static void Apply(CodeletLayer layer, IReadOnlyDictionary<string, TensorData> operands, long[] onnxOrder, int zx, int[] zw)
    {
        long Zw(int channel) => zw.Length == 1 ? zw[0] : zw[channel];
        if (LayerHostSteps.IsConv(layer.Operands.Kind))
        {
            Conv(layer, operands["x"].Integers, operands["w"].Integers, onnxOrder, zx, Zw);
            return;
        }

        var b = layer.Bindings;
        var (batches, m, n, k) = (b.TryGetValue("B", out var bb) ? (int)bb : 1, (int)b["M"], (int)b["N"], (int)b["K"]);
        var a = operands["a"].Integers;
        var w = operands["b"].Integers;
        for (var batch = 0; batch < batches; batch++)
        {
            for (var row = 0; row < m; row++)
            {
                long sumA = 0;
                for (var i = 0; i < k; i++)
                {
                    sumA += a[(((batch * m) + row) * k) + i];
                }

                for (var column = 0; column < n; column++)
                {
                    long sumB = 0;
                    for (var i = 0; i < k; i++)
                    {
                        sumB += w[(((batch * k) + i) * n) + column];
                    }

                    onnxOrder[(((batch * m) + row) * n) + column] -= (Zw(column) * sumA) + (zx * sumB) - (k * zx * Zw(column));
                }
            }
        }
    }

    private static void Conv(CodeletLayer layer, ReadOnlySpan<int> x, ReadOnlySpan<int> w, long[] onnxOrder, int zx, Func<int, long> zw)
    {
        var depthwise = layer.Operands.Kind == LayerKind.DepthwiseConv;
        var g = ConvGeometry.Of(layer.Bindings, depthwise);
        var (p, q, kCount, c, cg, kg) = ((int)g.P, (int)g.Q, (int)g.K, (int)g.C, (int)g.ChannelsPerGroup, (int)g.FiltersPerGroup);
        var (r, s, h, wd) = ((int)g.R, (int)g.S, (int)g.H, (int)g.W);
        for (var n = 0; n < g.N; n++)
        {
            for (var k = 0; k < kCount; k++)
            {
                var group = k / kg;
                for (var row = 0; row < p; row++)
                {
                    for (var column = 0; column < q; column++)
                    {
                        long sumA = 0, sumB = 0, taps = 0;
                        for (var kr = 0; kr < r; kr++)
                        {
                            var ih = (int)g.InputRow(row, kr);
                            for (var ks = 0; ks < s && ih >= 0; ks++)
                            {
                                var iw = (int)g.InputColumn(column, ks);
                                if (iw < 0)
                                {
                                    continue;
                                }

                                taps += cg;
                                for (var ci = 0; ci < cg; ci++)
                                {
                                    sumA += x[(((((n * h) + ih) * wd) + iw) * c) + (group * cg) + ci];
                                    sumB += depthwise ? w[(((kr * s) + ks) * c) + k] : w[(((((k * r) + kr) * s) + ks) * cg) + ci];
                                }
                            }
                        }

                        onnxOrder[(((((n * kCount) + k) * p) + row) * q) + column] -= (zw(k) * sumA) + (zx * sumB) - (taps * zx * zw(k));
                    }
                }
            }
        }
    }
}
