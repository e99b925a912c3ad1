using DataType = Onnx.TensorProto.Types.DataType;

namespace Covenant.Onnx.Import;

/// <summary>
/// Says, for a mapped node, what the accelerator computes and which steps the host adds, so the table never
/// claims more than the codelet does. The codelets multiply int8 by int8 into int32 with no zero points;
/// ONNX's uint8 operands are shifted by 128 into int8 on the host (exact), and whatever zero point remains
/// is corrected on the host from window sums; QLinear requantization rounds half to even with a float scale,
/// which no codelet epilogue expresses (fc_requant shifts), so it runs on the host.
/// </summary>
internal static class QuantizedNotes
{
    public static (NodePlacement Placement, string Note) Describe(
        NodeContext node, LayerOperands operands, bool isFloat, OnnxTensorType activation, OnnxTensorType weight)
    {
        var hostSteps = new List<string>();
        if (isFloat)
        {
            if (operands.TransposeActivation || operands.TransposeWeight)
            {
                hostSteps.Add("transpose");
            }

            if (operands.Alpha != 1)
            {
                hostSteps.Add("alpha");
            }

            if (operands.Bias is not null)
            {
                hostSteps.Add("bias");
            }

            return (NodePlacement.AcceleratorAndHost,
                "accelerator: f32 operands rounded to f16, f32 accumulation (within a bound of ONNX's f32, not exact)" +
                (hostSteps.Count > 0 ? "; host: " + string.Join(", ", hostSteps) : ""));
        }

        if (activation.ElementType == DataType.Uint8 || weight.ElementType == DataType.Uint8)
        {
            hostSteps.Add("uint8 - 128 into int8");
        }

        if (NonZeroAfterOffset(node, operands.ActivationZeroPoint, activation) || NonZeroAfterOffset(node, operands.WeightZeroPoint, weight))
        {
            hostSteps.Add("zero-point correction");
        }

        if (operands.Bias is not null)
        {
            hostSteps.Add("bias");
        }

        if (operands.Requantization is not null)
        {
            hostSteps.Add("requantization (round half to even, float scale, saturate)");
        }

        return hostSteps.Count == 0
            ? (NodePlacement.Accelerator, "exact on the accelerator")
            : (NodePlacement.AcceleratorAndHost, "accelerator: int32 accumulation; host: " + string.Join(", ", hostSteps));
    }

    /// <summary>Whether a zero point, once the operand is offset into int8, is still non-zero anywhere.</summary>
    private static bool NonZeroAfterOffset(NodeContext node, string? zeroPoint, OnnxTensorType operand)
    {
        var offset = operand.ElementType == DataType.Uint8 ? 128 : 0;
        var constant = zeroPoint is null ? null : node.ConstantByName(zeroPoint);
        return constant is null ? offset != 0 : constant.Integers.Any(z => z - offset != 0);
    }
}
