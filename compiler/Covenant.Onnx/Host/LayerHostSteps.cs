using System.Collections.Immutable;
using Covenant.Codelets;
using Covenant.Onnx.Import;
using Covenant.Runtime;
using DataType = Onnx.TensorProto.Types.DataType;

namespace Covenant.Onnx.Host;

/// <summary>
/// The host's part of an imported layer, before and after the codelet instance runs: ONNX's tensors become the
/// codelet's operands (NCHW → NHWC, OIHW → KRSC, uint8 - 128 into int8, Gemm's transposes, f32 → f16), and the
/// codelet's accumulation becomes ONNX's output (back to NCHW, zero-point correction, bias, requantization rounding
/// half to even with ONNX's float scale and saturating). Stage by stage this is what ONNX defines; nothing here
/// approximates an integer result.
/// </summary>
public static class LayerHostSteps
{
    /// <summary>The codelet's inputs (x and w, or a and b) from the node's ONNX values.</summary>
    public static IReadOnlyDictionary<string, TensorData> Operands(CodeletLayer layer, Func<string, HostTensor> value)
    {
        ArgumentNullException.ThrowIfNull(layer);
        ArgumentNullException.ThrowIfNull(value);
        var operands = layer.Operands;
        var activation = value(operands.Activation);
        var weight = value(operands.Weight);
        var isFloat = activation.IsFloat;
        var (first, second) = IsConv(operands.Kind) ? ("x", "w") : ("a", "b");
        var (activationShape, activationValues) = ActivationOperand(layer, activation);
        var (weightShape, weightValues) = WeightOperand(layer, weight);
        return new Dictionary<string, TensorData>(StringComparer.Ordinal)
        {
            [first] = Tensor(isFloat, activationShape, activationValues, Offset(activation)),
            [second] = Tensor(isFloat, weightShape, weightValues, Offset(weight)),
        };
    }

    /// <summary>ONNX's output of the node from the codelet's result (<paramref name="accumulation"/>) and its operands.</summary>
    public static HostTensor Result(
        CodeletLayer layer,
        OnnxTensorType outputType,
        IReadOnlyDictionary<string, TensorData> operands,
        TensorData accumulation,
        Func<string, HostTensor> value)
    {
        ArgumentNullException.ThrowIfNull(layer);
        ArgumentNullException.ThrowIfNull(outputType);
        ArgumentNullException.ThrowIfNull(operands);
        ArgumentNullException.ThrowIfNull(accumulation);
        ArgumentNullException.ThrowIfNull(value);
        var ops = layer.Operands;
        var rows = ToOnnxOrder(layer, accumulation);
        if (!accumulation.IsInteger)
        {
            var floats = FloatEpilogue.Apply(layer, rows, value);
            return HostTensor.OfFloats(outputType.Shape, [.. floats]);
        }

        var integers = Array.ConvertAll(rows, v => (long)v);
        // Zero points as they stand once the operand is offset into int8 (a uint8 operand without one has -128).
        var activationZero = ZeroPoints(ops.ActivationZeroPoint, value(ops.Activation), value)[0];
        var weightZeros = ZeroPoints(ops.WeightZeroPoint, value(ops.Weight), value);
        if (activationZero != 0 || weightZeros.Any(z => z != 0))
        {
            ZeroPointCorrection.Apply(layer, operands, integers, activationZero, weightZeros);
        }

        var channels = Channels(layer);
        if (ops.Bias is { } bias)
        {
            var b = value(bias).Integers;
            for (var i = 0; i < integers.Length; i++)
            {
                integers[i] += b[channels(i)];
            }
        }

        if (ops.Requantization is not { } requant)
        {
            return HostTensor.OfIntegers(outputType.ElementType, outputType.Shape, [.. integers.Select(v => unchecked((int)v))]);
        }

        var xScale = value(requant.ActivationScale).Floats[0];
        var wScale = value(requant.WeightScale).Floats;
        var yScale = value(requant.OutputScale).Floats[0];
        var yZero = requant.OutputZeroPoint is { } z ? value(z).Integers[0] : 0;
        var scales = wScale.Select(w => xScale * w / yScale).ToArray();
        var (low, high) = HostTensor.Range(outputType.ElementType);
        var result = new int[integers.Length];
        for (var i = 0; i < integers.Length; i++)
        {
            // As ONNX (and ONNX Runtime's MLAS): the int32 sum converted to float, times the float scale, rounded half
            // to even, plus the zero point, saturated.
            var scaled = MathF.Round((float)integers[i] * scales[scales.Length == 1 ? 0 : channels(i)], MidpointRounding.ToEven);
            result[i] = (int)Math.Clamp(scaled + yZero, low, high);
        }

        return HostTensor.OfIntegers(outputType.ElementType, outputType.Shape, [.. result]);
    }

    internal static bool IsConv(LayerKind kind) => kind is LayerKind.Conv or LayerKind.GroupedConv or LayerKind.DepthwiseConv;

    /// <summary>Which output channel (conv: K of NKPQ; gemm: the column N) each flat ONNX output index belongs to.</summary>
    internal static Func<int, int> Channels(CodeletLayer layer)
    {
        var b = layer.Bindings;
        if (IsConv(layer.Operands.Kind))
        {
            var g = ConvGeometry.Of(b, layer.Operands.Kind == LayerKind.DepthwiseConv);
            var plane = (int)(g.P * g.Q);
            var k = (int)g.K;
            return i => i / plane % k;
        }

        var n = (int)b["N"];
        return i => i % n;
    }

    private static int Offset(HostTensor tensor) => tensor.Type.ElementType == DataType.Uint8 ? 128 : 0;

    private static int[] ZeroPoints(string? name, HostTensor operand, Func<string, HostTensor> value)
    {
        var offset = Offset(operand);
        return name is null ? [-offset] : [.. value(name).Integers.Select(z => z - offset)];
    }

    private static TensorData Tensor(bool isFloat, ImmutableArray<int> shape, double[] values, int offset) => isFloat
        ? TensorData.FromFloats(ElementType.F16, shape, Array.ConvertAll(values, v => (float)v))
        : TensorData.FromIntegers(ElementType.I8, shape, Array.ConvertAll(values, v => (int)v - offset));

    private static (ImmutableArray<int> Shape, double[] Values) ActivationOperand(CodeletLayer layer, HostTensor tensor)
    {
        var b = layer.Bindings;
        var source = Values(tensor);
        switch (layer.Operands.Kind)
        {
            case LayerKind.Gemm:
                var (m, k) = ((int)b["M"], (int)b["K"]);
                return ([m, k], layer.Operands.TransposeActivation ? Transpose2(source, k, m) : source);
            case LayerKind.BatchedGemm:
                return ([(int)b["B"], (int)b["M"], (int)b["K"]], source);
            default:
                var g = ConvGeometry.Of(b, layer.Operands.Kind == LayerKind.DepthwiseConv);
                var (n, c, h, w) = ((int)g.N, (int)g.C, (int)g.H, (int)g.W);
                return ([n, h, w, c], Permute(source, [n, c, h, w], [0, 2, 3, 1]));
        }
    }

    private static (ImmutableArray<int> Shape, double[] Values) WeightOperand(CodeletLayer layer, HostTensor tensor)
    {
        var b = layer.Bindings;
        var source = Values(tensor);
        switch (layer.Operands.Kind)
        {
            case LayerKind.Gemm:
                var (k, n) = ((int)b["K"], (int)b["N"]);
                return ([k, n], layer.Operands.TransposeWeight ? Transpose2(source, n, k) : source);
            case LayerKind.BatchedGemm:
                return ([(int)b["B"], (int)b["K"], (int)b["N"]], source);
            case LayerKind.DepthwiseConv:
                var d = ConvGeometry.Of(b, true);
                var (c, r, s) = ((int)d.C, (int)d.R, (int)d.S);
                return ([r, s, c], Permute(source, [c, r, s], [1, 2, 0]));
            default:
                var g = ConvGeometry.Of(b, false);
                var (kk, cg, rr, ss) = ((int)g.K, (int)g.ChannelsPerGroup, (int)g.R, (int)g.S);
                return ([kk, rr, ss, cg], Permute(source, [kk, cg, rr, ss], [0, 2, 3, 1]));
        }
    }

    /// <summary>The codelet's result in ONNX's layout (conv: NPQK → NKPQ; products are already row-major).</summary>
    private static double[] ToOnnxOrder(CodeletLayer layer, TensorData accumulation)
    {
        var values = new double[accumulation.Length];
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = accumulation.GetFlat(i);
        }

        if (!IsConv(layer.Operands.Kind))
        {
            return values;
        }

        var shape = accumulation.Shape;
        return Permute(values, [shape[0], shape[1], shape[2], shape[3]], [0, 3, 1, 2]);
    }

    private static double[] Values(HostTensor tensor) => tensor.IsFloat
        ? [.. tensor.Floats.Select(f => (double)f)]
        : [.. tensor.Integers.Select(i => (double)i)];

    private static double[] Transpose2(double[] source, int rows, int columns) => Permute(source, [rows, columns], [1, 0]);

    /// <summary>A row-major tensor of <paramref name="shape"/> with its axes reordered: result axis i is source axis order[i].</summary>
    internal static double[] Permute(double[] source, int[] shape, int[] order)
    {
        var rank = shape.Length;
        var strides = new int[rank];
        for (int i = rank - 1, stride = 1; i >= 0; stride *= shape[i], i--)
        {
            strides[i] = stride;
        }

        var outShape = order.Select(o => shape[o]).ToArray();
        var result = new double[source.Length];
        var index = new int[rank];
        for (var flat = 0; flat < result.Length; flat++)
        {
            var offset = 0;
            for (var i = 0; i < rank; i++)
            {
                offset += index[i] * strides[order[i]];
            }

            result[flat] = source[offset];
            for (var i = rank - 1; i >= 0 && ++index[i] == outShape[i]; i--)
            {
                index[i] = 0;
            }
        }

        return result;
    }
}
