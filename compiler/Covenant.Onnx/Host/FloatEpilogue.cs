using Covenant.Onnx.Import;

namespace Covenant.Onnx.Host;

/// <summary>The host's steps after a float layer: Conv's per-channel bias; Gemm's alpha·AB + beta·C with C broadcast.</summary>
internal static class FloatEpilogue
{
    public static float[] Apply(CodeletLayer layer, double[] onnxOrder, Func<string, HostTensor> value)
    {
        var ops = layer.Operands;
        var result = Array.ConvertAll(onnxOrder, v => (float)v);
        if (ops.Alpha != 1)
        {
            for (var i = 0; i < result.Length; i++)
            {
                result[i] *= ops.Alpha;
            }
        }

        if (ops.Bias is not { } biasName)
        {
            return result;
        }

        var bias = value(biasName);
        if (LayerHostSteps.IsConv(ops.Kind))
        {
            var channel = LayerHostSteps.Channels(layer);
            for (var i = 0; i < result.Length; i++)
            {
                result[i] += bias.Floats[channel(i)];
            }

            return result;
        }

        // Gemm's C broadcasts to [M, N] from a scalar, [N], [1, N], [M, 1] or [M, N].
        var (m, n) = ((int)layer.Bindings["M"], (int)layer.Bindings["N"]);
        var shape = bias.Type.Shape;
        var rows = shape.Length == 2 ? (int)shape[0] : 1;
        var columns = shape.Length >= 1 ? (int)shape[^1] : 1;
        for (var i = 0; i < m; i++)
        {
            for (var j = 0; j < n; j++)
            {
                result[(i * n) + j] += ops.Beta * bias.Floats[((i % rows) * columns) + (j % columns)];
            }
        }

        return result;
    }
}
