using System.Collections.Immutable;
using DataType = Onnx.TensorProto.Types.DataType;

namespace Covenant.Onnx.Import;

/// <summary>What a rule decides for one node: its outputs' types, where it runs, and the codelet layer if any.</summary>
internal sealed record NodeOutcome(ImmutableArray<OnnxTensorType> Outputs, NodePlacement Placement, CodeletLayer? Layer, string Note)
{
    public static NodeOutcome OnHost(OnnxTensorType output, string why) => new([output], NodePlacement.Host, null, why);
}

/// <summary>
/// Conv, ConvInteger and QLinearConv (2-D) → conv2d, conv2d_grouped or conv2d_depthwise (integer), conv2d_f16 (float).
/// ONNX is NCHW with OIHW weights; the codelets are NHWC with KRSC weights (RSC depthwise), so the host transposes
/// activations at the layer's boundary and weights once (<see cref="Host.LayerHostSteps"/>).
/// </summary>
internal static class ConvRules
{
    public static NodeOutcome Apply(NodeContext node)
    {
        var (x, w, layout) = node.OpType switch
        {
            "QLinearConv" => (0, 3, "QLinear"),
            "ConvInteger" => (0, 1, "Integer"),
            _ => (0, 1, "Float"),
        };
        var input = node.Input(x, "X");
        var weight = node.Input(w, "W");
        if (input.Shape.Length != 4)
        {
            throw node.Fail(OnnxDiagnostics.UnsupportedOp, $"input {x} (X) is {input}: import maps 2-D convolutions (rank-4 NCHW input) only");
        }

        node.Require(weight.Shape.Length == 4, $"input {w} (W) is {weight}, expected rank 4 (K, C/group, R, S)");
        var (n, c, h, wd) = (input.Shape[0], input.Shape[1], input.Shape[2], input.Shape[3]);
        var (k, cg, r, s) = (weight.Shape[0], weight.Shape[1], weight.Shape[2], weight.Shape[3]);
        var group = node.Int("group", 1);
        node.Require(group >= 1 && c % group == 0 && k % group == 0 && cg * group == c,
            $"group {group} does not divide X's {c} channels and W's {k} filters into W's {cg} channels per group");
        var kernel = node.Ints("kernel_shape");
        node.Require(kernel.IsEmpty || (kernel.Length == 2 && kernel[0] == r && kernel[1] == s), $"kernel_shape [{string.Join(", ", kernel)}] disagrees with W {weight}");
        var strides = Pair(node, "strides", 1);
        var dilations = Pair(node, "dilations", 1);
        var pads = Pads(node, h, wd, r, s, strides, dilations);
        var p = ((h + pads[0] + pads[2] - (dilations[0] * (r - 1)) - 1) / strides[0]) + 1;
        var q = ((wd + pads[1] + pads[3] - (dilations[1] * (s - 1)) - 1) / strides[1]) + 1;
        node.Require(p >= 1 && q >= 1, $"the output would be empty ({p} x {q})");

        var outputType = layout switch
        {
            "QLinear" => node.ZeroPointInput(7, "y_zero_point")?.Type.ElementType ?? DataType.Uint8,
            "Integer" => DataType.Int32,
            _ => input.ElementType,
        };
        var output = new OnnxTensorType(outputType, [n, k, p, q]);
        var macs = n * k * p * q * cg * r * s;

        if (pads[0] != pads[2] || pads[1] != pads[3])
        {
            return NodeOutcome.OnHost(output, $"asymmetric pads [{string.Join(", ", pads)}]: the conv codelets pad both sides alike");
        }

        var operands = Operands(node, layout, input, weight);
        var isFloat = layout == "Float";
        if (isFloat && input.ElementType != DataType.Float)
        {
            return NodeOutcome.OnHost(output, $"{OnnxTensorType.ElementName(input.ElementType)} convolution: the codelets take int8 or f16 operands");
        }

        if (isFloat && group != 1)
        {
            return NodeOutcome.OnHost(output, "grouped float convolution: no f16 grouped codelet ships");
        }

        var kind = group == 1 ? LayerKind.Conv : group == c && k == c ? LayerKind.DepthwiseConv : LayerKind.GroupedConv;
        var codelet = isFloat ? "conv2d_f16" : kind switch
        {
            LayerKind.Conv => "conv2d",
            LayerKind.DepthwiseConv => "conv2d_depthwise",
            _ => "conv2d_grouped",
        };
        var bindings = ImmutableDictionary.CreateBuilder<string, long>(StringComparer.Ordinal);
        bindings["N"] = n;
        bindings["H"] = h;
        bindings["W"] = wd;
        bindings["C"] = c;
        if (kind != LayerKind.DepthwiseConv)
        {
            bindings["K"] = k;
        }

        if (kind == LayerKind.GroupedConv)
        {
            bindings["G"] = group;
        }

        bindings["R"] = r;
        bindings["S"] = s;
        AxisPair(bindings, "stride", strides[0], strides[1], 1);
        AxisPair(bindings, "pad", pads[0], pads[1], 0);
        AxisPair(bindings, "dilation", dilations[0], dilations[1], 1);
        var layer = new CodeletLayer("", codelet, bindings.ToImmutable(), macs, operands with { Kind = kind });
        var (placement, note) = QuantizedNotes.Describe(node, layer.Operands, isFloat, input, weight);
        return new NodeOutcome([output], placement, layer, note);
    }

    private static LayerOperands Operands(NodeContext node, string layout, OnnxTensorType input, OnnxTensorType weight)
    {
        switch (layout)
        {
            case "QLinear":
                node.RequireScalar(node.QuantizationInput(1, "x_scale"), 1, "x_scale");
                var xZero = node.ZeroPointInput(2, "x_zero_point");
                node.RequireScalar(xZero, 2, "x_zero_point");
                node.RequirePerChannel(node.QuantizationInput(4, "w_scale"), 4, "w_scale", weight.Shape[0]);
                var wZero = node.ZeroPointInput(5, "w_zero_point");
                node.RequirePerChannel(wZero, 5, "w_zero_point", weight.Shape[0]);
                node.RequireScalar(node.QuantizationInput(6, "y_scale"), 6, "y_scale");
                var yZero = node.ZeroPointInput(7, "y_zero_point");
                node.RequireScalar(yZero, 7, "y_zero_point");
                CheckInt8(node, input, weight);
                if (node.InputName(8) is not null)
                {
                    node.Require(node.Input(8, "B").ElementType == DataType.Int32, "input 8 (B) must be int32");
                }

                return new LayerOperands(node.RequiredName(0, "x"), node.RequiredName(3, "w"), LayerKind.Conv, false, false,
                    xZero?.Name, wZero?.Name, node.InputName(8),
                    new Requantization(node.RequiredName(1, "x_scale"), node.RequiredName(4, "w_scale"), node.RequiredName(6, "y_scale"), yZero?.Name));
            case "Integer":
                CheckInt8(node, input, weight);
                node.RequireScalar(node.ZeroPointInput(2, "x_zero_point"), 2, "x_zero_point");
                node.RequirePerChannel(node.ZeroPointInput(3, "w_zero_point"), 3, "w_zero_point", weight.Shape[0]);
                return new LayerOperands(node.RequiredName(0, "x"), node.RequiredName(1, "w"), LayerKind.Conv, false, false,
                    node.ZeroPointInput(2, "x_zero_point")?.Name, node.ZeroPointInput(3, "w_zero_point")?.Name, null, null);
            default:
                if (node.InputName(2) is not null)
                {
                    node.Input(2, "B");
                }

                return new LayerOperands(node.RequiredName(0, "X"), node.RequiredName(1, "W"), LayerKind.Conv, false, false,
                    null, null, node.InputName(2), null);
        }
    }

    internal static void CheckInt8(NodeContext node, OnnxTensorType activation, OnnxTensorType weight)
    {
        foreach (var (type, role) in new[] { (activation, "activation"), (weight, "weight") })
        {
            if (type.ElementType is not (DataType.Int8 or DataType.Uint8))
            {
                throw node.Fail(OnnxDiagnostics.BadNode, $"the {role} is {type}: quantized operands are int8 or uint8");
            }
        }
    }

    private static void AxisPair(ImmutableDictionary<string, long>.Builder bindings, string name, long h, long w, long fallback)
    {
        if (h == w)
        {
            if (h != fallback)
            {
                bindings[name] = h;
            }
        }
        else
        {
            bindings[name + "_h"] = h;
            bindings[name + "_w"] = w;
        }
    }

    private static long[] Pair(NodeContext node, string attribute, long fallback)
    {
        var values = node.Ints(attribute);
        if (values.IsEmpty)
        {
            return [fallback, fallback];
        }

        node.Require(values.Length == 2 && values.All(v => v >= 1), $"{attribute} [{string.Join(", ", values)}] must be two positive values");
        return [values[0], values[1]];
    }

    /// <summary>[top, left, bottom, right], from pads or auto_pad (SAME_UPPER puts the odd pixel at the end).</summary>
    internal static long[] Pads(NodeContext node, long h, long w, long r, long s, long[] strides, long[] dilations)
    {
        var autoPad = node.String("auto_pad", "NOTSET");
        switch (autoPad)
        {
            case "NOTSET" or "":
                var pads = node.Ints("pads");
                if (pads.IsEmpty)
                {
                    return [0, 0, 0, 0];
                }

                node.Require(pads.Length == 4 && pads.All(v => v >= 0), $"pads [{string.Join(", ", pads)}] must be four non-negative values");
                return [.. pads];
            case "VALID":
                return [0, 0, 0, 0];
            case "SAME_UPPER" or "SAME_LOWER":
                var total = new long[2];
                var extents = new[] { (h, r), (w, s) };
                for (var axis = 0; axis < 2; axis++)
                {
                    var (size, kernel) = extents[axis];
                    var output = (size + strides[axis] - 1) / strides[axis];
                    total[axis] = Math.Max(0, ((output - 1) * strides[axis]) + (dilations[axis] * (kernel - 1)) + 1 - size);
                }

                var upper = autoPad == "SAME_UPPER";
                long Begin(long t) => upper ? t / 2 : t - (t / 2);
                return [Begin(total[0]), Begin(total[1]), total[0] - Begin(total[0]), total[1] - Begin(total[1])];
            default:
                throw node.Fail(OnnxDiagnostics.BadNode, $"auto_pad '{autoPad}' is not NOTSET, VALID, SAME_UPPER or SAME_LOWER");
        }
    }
}
