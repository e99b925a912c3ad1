using System.Collections.Immutable;
using DataType = Onnx.TensorProto.Types.DataType;

namespace Covenant.Onnx.Import;

/// <summary>
/// Shape rules of the nodes that run on the host (activations, pooling, element-wise arithmetic, reshapes,
/// quantize/dequantize). Each keeps shapes static: a shape that depends on data stops the import.
/// </summary>
internal static class HostRules
{
    private static readonly ImmutableHashSet<string> SameShape = ImmutableHashSet.Create(StringComparer.Ordinal,
        "Relu", "LeakyRelu", "Sigmoid", "Tanh", "Clip", "Identity", "Softmax", "LogSoftmax", "Erf", "Sqrt", "Neg", "Abs",
        "Exp", "Dropout", "HardSigmoid", "HardSwish", "Gelu");

    private static readonly ImmutableHashSet<string> Elementwise = ImmutableHashSet.Create(StringComparer.Ordinal,
        "Add", "Sub", "Mul", "Div", "Max", "Min", "Pow");

    public static IEnumerable<string> Supported => SameShape.Concat(Elementwise).Concat(
        ["QuantizeLinear", "DequantizeLinear", "MaxPool", "AveragePool", "GlobalAveragePool", "GlobalMaxPool", "Flatten", "Reshape", "Transpose", "Cast"]);

    public static bool Handles(string opType) => Supported.Contains(opType, StringComparer.Ordinal);

    public static NodeOutcome Apply(NodeContext node)
    {
        var x = node.Input(0, "X");
        if (SameShape.Contains(node.OpType))
        {
            return NodeOutcome.OnHost(x, $"{node.OpType} is element-wise: no codelet ships for it");
        }

        if (Elementwise.Contains(node.OpType))
        {
            var y = node.Input(1, "B");
            node.Require(x.ElementType == y.ElementType, $"inputs are {x} and {y}: element types differ");
            return NodeOutcome.OnHost(new OnnxTensorType(x.ElementType, Broadcast(node, x.Shape, y.Shape)), $"element-wise {node.OpType}: no codelet ships for it");
        }

        return node.OpType switch
        {
            "QuantizeLinear" => Quantize(node, x),
            "DequantizeLinear" => Dequantize(node, x),
            "MaxPool" or "AveragePool" => Pool(node, x),
            "GlobalAveragePool" or "GlobalMaxPool" => NodeOutcome.OnHost(
                new OnnxTensorType(x.ElementType, [.. x.Shape.Take(2), .. Enumerable.Repeat(1L, x.Shape.Length - 2)]), "pooling: no codelet ships for it"),
            "Flatten" => Flatten(node, x),
            "Reshape" => Reshape(node, x),
            "Transpose" => Transpose(node, x),
            "Cast" => NodeOutcome.OnHost(x with { ElementType = (DataType)node.Int("to", (long)x.ElementType) }, "a type conversion"),
            _ => throw node.Fail(OnnxDiagnostics.UnsupportedOp, $"operator '{node.OpType}' is not supported"),
        };
    }

    private static NodeOutcome Quantize(NodeContext node, OnnxTensorType x)
    {
        node.QuantizationInput(1, "y_scale");
        var zero = node.ZeroPointInput(2, "y_zero_point");
        return NodeOutcome.OnHost(x with { ElementType = zero?.Type.ElementType ?? DataType.Uint8 }, "quantization (round half to even) runs on the host");
    }

    private static NodeOutcome Dequantize(NodeContext node, OnnxTensorType x)
    {
        node.QuantizationInput(1, "x_scale");
        node.ZeroPointInput(2, "x_zero_point");
        return NodeOutcome.OnHost(x with { ElementType = DataType.Float }, "dequantization runs on the host");
    }

    private static NodeOutcome Pool(NodeContext node, OnnxTensorType x)
    {
        node.Require(x.Shape.Length == 4, $"input 0 (X) is {x}: import infers 2-D pooling only");
        var kernel = node.Ints("kernel_shape");
        node.Require(kernel.Length == 2 && kernel.All(v => v >= 1), "kernel_shape must be two positive values");
        var strides = node.Ints("strides") is { IsEmpty: false } s ? s.ToArray() : [1L, 1L];
        var dilations = node.Ints("dilations") is { IsEmpty: false } d ? d.ToArray() : [1L, 1L];
        var pads = ConvRules.Pads(node, x.Shape[2], x.Shape[3], kernel[0], kernel[1], strides, dilations);
        var ceil = node.Int("ceil_mode", 0) != 0;
        long Extent(long size, long before, long after, long k, long stride, long dilation)
        {
            var span = size + before + after - (dilation * (k - 1)) - 1;
            return (ceil ? (span + stride - 1) / stride : span / stride) + 1;
        }

        var p = Extent(x.Shape[2], pads[0], pads[2], kernel[0], strides[0], dilations[0]);
        var q = Extent(x.Shape[3], pads[1], pads[3], kernel[1], strides[1], dilations[1]);
        node.Require(p >= 1 && q >= 1, $"the output would be empty ({p} x {q})");
        return NodeOutcome.OnHost(x with { Shape = [x.Shape[0], x.Shape[1], p, q] }, "pooling: no codelet ships for it");
    }

    private static NodeOutcome Flatten(NodeContext node, OnnxTensorType x)
    {
        var axis = node.Int("axis", 1);
        axis = axis < 0 ? axis + x.Shape.Length : axis;
        node.Require(axis >= 0 && axis <= x.Shape.Length, $"axis {axis} is outside {x}'s rank");
        var outer = x.Shape.Take((int)axis).Aggregate(1L, (p, v) => p * v);
        var inner = x.Shape.Skip((int)axis).Aggregate(1L, (p, v) => p * v);
        return NodeOutcome.OnHost(x with { Shape = [outer, inner] }, "a reshape (no data moves)");
    }

    private static NodeOutcome Reshape(NodeContext node, OnnxTensorType x)
    {
        node.Input(1, "shape");
        var shape = node.ConstantInput(1) ?? throw node.Fail(OnnxDiagnostics.DynamicShape,
            $"input 1 (shape) '{node.InputName(1)}' is computed at run time: import needs a constant target shape");
        var target = shape.Integers.ToArray();
        for (var i = 0; i < target.Length; i++)
        {
            if (target[i] == 0 && node.Int("allowzero", 0) == 0)
            {
                node.Require(i < x.Shape.Length, $"shape entry {i} is 0 (copy) beyond {x}'s rank");
                target[i] = x.Shape[i];
            }
        }

        var unknown = Array.FindAll(target, v => v == -1).Length;
        node.Require(unknown <= 1 && target.All(v => v >= -1), $"shape [{string.Join(", ", shape.Integers)}] is not a valid target shape");
        var known = target.Where(v => v != -1).Aggregate(1L, (p, v) => p * v);
        if (unknown == 1)
        {
            node.Require(known > 0 && x.ElementCount % known == 0, $"shape [{string.Join(", ", shape.Integers)}] does not divide {x}");
            target[Array.IndexOf(target, -1)] = x.ElementCount / known;
        }

        node.Require(target.Aggregate(1L, (p, v) => p * v) == x.ElementCount, $"shape [{string.Join(", ", target)}] does not hold {x}'s elements");
        return NodeOutcome.OnHost(x with { Shape = [.. target] }, "a reshape (no data moves)");
    }

    private static NodeOutcome Transpose(NodeContext node, OnnxTensorType x)
    {
        var perm = node.Ints("perm");
        var order = perm.IsEmpty ? Enumerable.Range(0, x.Shape.Length).Reverse().Select(i => (long)i).ToImmutableArray() : perm;
        node.Require(order.Length == x.Shape.Length && order.Order().SequenceEqual(Enumerable.Range(0, x.Shape.Length).Select(i => (long)i)),
            $"perm [{string.Join(", ", perm)}] is not a permutation of {x}'s axes");
        return NodeOutcome.OnHost(x with { Shape = [.. order.Select(i => x.Shape[(int)i])] }, "a transpose");
    }

    /// <summary>Numpy broadcasting of two shapes, or the import stops naming both.</summary>
    public static ImmutableArray<long> Broadcast(NodeContext node, ImmutableArray<long> a, ImmutableArray<long> b)
    {
        var rank = Math.Max(a.Length, b.Length);
        var result = new long[rank];
        for (var i = 0; i < rank; i++)
        {
            var da = i < rank - a.Length ? 1 : a[i - (rank - a.Length)];
            var db = i < rank - b.Length ? 1 : b[i - (rank - b.Length)];
            node.Require(da == db || da == 1 || db == 1, $"shapes [{string.Join(", ", a)}] and [{string.Join(", ", b)}] do not broadcast");
            result[i] = Math.Max(da, db);
        }

        return [.. result];
    }
}
