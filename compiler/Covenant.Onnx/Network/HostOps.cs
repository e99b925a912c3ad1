using System.Collections.Immutable;
using Covenant.Onnx.Host;
using Covenant.Onnx.Import;
using DataType = Onnx.TensorProto.Types.DataType;

namespace Covenant.Onnx.Network;

/// <summary>
/// The nodes that run on the host, as ONNX defines them: element-wise arithmetic with broadcasting, ReLU, pooling,
/// reshapes, and (de)quantization (x / scale rounded half to even, plus the zero point, saturated). Float arithmetic is
/// f32 throughout, as ONNX Runtime's CPU kernels do it.
/// </summary>
public static class HostOps
{
    public static IReadOnlySet<string> Implemented { get; } = new HashSet<string>(StringComparer.Ordinal)
    {
        "Relu", "Identity", "Dropout", "Flatten", "Reshape", "DequantizeLinear", "QuantizeLinear", "Add", "Sub", "Mul", "Div",
        "Max", "Min", "MaxPool", "GlobalAveragePool", "Sigmoid", "Tanh",
    };

    /// <summary>Runs one host node; null when no host implementation exists yet (the caller says so).</summary>
    public static HostTensor? Run(ImportedNode node, OnnxTensorType outputType, Func<string, HostTensor> value)
    {
        ArgumentNullException.ThrowIfNull(node);
        ArgumentNullException.ThrowIfNull(outputType);
        ArgumentNullException.ThrowIfNull(value);
        var x = value(node.Inputs[0]);
        switch (node.OpType)
        {
            case "Identity" or "Dropout" or "Flatten" or "Reshape":
                return x with { Type = outputType };
            case "Relu":
                return x.IsFloat ? Floats(outputType, x.Floats.Select(v => v > 0 ? v : 0)) : Integers(outputType, x.Integers.Select(v => Math.Max(v, 0)));
            case "Sigmoid":
                return Floats(outputType, x.Floats.Select(v => 1 / (1 + MathF.Exp(-v))));
            case "Tanh":
                return Floats(outputType, x.Floats.Select(MathF.Tanh));
            case "DequantizeLinear" or "QuantizeLinear" when value(node.Inputs[1]).Floats.Length != 1:
                return null; // per-axis (de)quantization: not on the host yet
            case "MaxPool" when node.StringAttributes.GetValueOrDefault("auto_pad", "NOTSET") is not ("NOTSET" or "" or "VALID")
                || node.Ints("dilations").Any(d => d != 1):
                return null; // SAME padding or dilated pooling: not on the host yet
            case "DequantizeLinear":
                var (dScale, dZero) = (value(node.Inputs[1]).Floats[0], node.Inputs.Length > 2 && node.Inputs[2].Length > 0 ? value(node.Inputs[2]).Integers[0] : 0);
                return Floats(outputType, x.Integers.Select(v => (v - dZero) * dScale));
            case "QuantizeLinear":
                var (qScale, qZero) = (value(node.Inputs[1]).Floats[0], node.Inputs.Length > 2 && node.Inputs[2].Length > 0 ? value(node.Inputs[2]).Integers[0] : 0);
                var (low, high) = HostTensor.Range(outputType.ElementType);
                return Integers(outputType, x.Floats.Select(v => (int)Math.Clamp(MathF.Round(v / qScale, MidpointRounding.ToEven) + qZero, low, high)));
            case "Add" or "Sub" or "Mul" or "Div" or "Max" or "Min":
                return Binary(node.OpType, outputType, x, value(node.Inputs[1]));
            case "MaxPool":
                return MaxPool(outputType, x, node.Ints("kernel_shape"), node.Ints("strides"), node.Ints("pads"));
            case "GlobalAveragePool":
                var plane = (int)(x.Type.ElementCount / outputType.ElementCount);
                return Floats(outputType, Enumerable.Range(0, (int)outputType.ElementCount)
                    .Select(i => Enumerable.Range(0, plane).Aggregate(0f, (sum, j) => sum + x.Floats[(i * plane) + j]) / plane));
            default:
                return null;
        }
    }

    private static HostTensor Floats(OnnxTensorType type, IEnumerable<float> values) => new(type, default, [.. values]);

    private static HostTensor Integers(OnnxTensorType type, IEnumerable<int> values) => new(type, [.. values], default);

    private static HostTensor Binary(string op, OnnxTensorType type, HostTensor a, HostTensor b)
    {
        var count = (int)type.ElementCount;
        var indexA = BroadcastIndex(type.Shape, a.Type.Shape);
        var indexB = BroadcastIndex(type.Shape, b.Type.Shape);
        if (a.IsFloat)
        {
            Func<float, float, float> f = op switch
            {
                "Add" => (p, q) => p + q,
                "Sub" => (p, q) => p - q,
                "Mul" => (p, q) => p * q,
                "Div" => (p, q) => p / q,
                "Max" => MathF.Max,
                _ => MathF.Min,
            };
            return Floats(type, Enumerable.Range(0, count).Select(i => f(a.Floats[indexA(i)], b.Floats[indexB(i)])));
        }

        Func<int, int, int> g = op switch
        {
            "Add" => (p, q) => unchecked(p + q),
            "Sub" => (p, q) => unchecked(p - q),
            "Mul" => (p, q) => unchecked(p * q),
            "Div" => (p, q) => p / q,
            "Max" => Math.Max,
            _ => Math.Min,
        };
        return Integers(type, Enumerable.Range(0, count).Select(i => g(a.Integers[indexA(i)], b.Integers[indexB(i)])));
    }

    /// <summary>Maps a flat index of the broadcast result to the flat index of an operand of shape <paramref name="operand"/>.</summary>
    private static Func<int, int> BroadcastIndex(ImmutableArray<long> result, ImmutableArray<long> operand)
    {
        var rank = result.Length;
        var strides = new int[rank];
        for (int i = rank - 1, stride = 1; i >= 0; i--)
        {
            var o = i - (rank - operand.Length);
            var extent = o >= 0 ? (int)operand[o] : 1;
            strides[i] = extent == 1 ? 0 : stride;
            stride *= extent;
        }

        return flat =>
        {
            var offset = 0;
            for (var i = rank - 1; i >= 0; i--)
            {
                offset += (int)(flat % result[i]) * strides[i];
                flat = (int)(flat / result[i]);
            }

            return offset;
        };
    }

    private static HostTensor MaxPool(OnnxTensorType type, HostTensor x, ImmutableArray<long> kernel, ImmutableArray<long> strides, ImmutableArray<long> pads)
    {
        var (n, c, h, w) = ((int)x.Type.Shape[0], (int)x.Type.Shape[1], (int)x.Type.Shape[2], (int)x.Type.Shape[3]);
        var (p, q) = ((int)type.Shape[2], (int)type.Shape[3]);
        var (sh, sw) = strides.IsEmpty ? (1, 1) : ((int)strides[0], (int)strides[1]);
        var (ph, pw) = pads.IsEmpty ? (0, 0) : ((int)pads[0], (int)pads[1]);
        var result = new double[n * c * p * q];
        for (var plane = 0; plane < n * c; plane++)
        {
            for (var i = 0; i < p; i++)
            {
                for (var j = 0; j < q; j++)
                {
                    var best = double.NegativeInfinity;
                    for (var r = 0; r < kernel[0]; r++)
                    {
                        for (var s = 0; s < kernel[1]; s++)
                        {
                            var (ih, iw) = ((i * sh) + r - ph, (j * sw) + s - pw);
                            if (ih >= 0 && ih < h && iw >= 0 && iw < w)
                            {
                                var at = (((plane * h) + ih) * w) + iw;
                                best = Math.Max(best, x.IsFloat ? x.Floats[at] : x.Integers[at]);
                            }
                        }
                    }

                    result[(((plane * p) + i) * q) + j] = best;
                }
            }
        }

        return x.IsFloat ? Floats(type, result.Select(v => (float)v)) : Integers(type, result.Select(v => (int)v));
    }
}
