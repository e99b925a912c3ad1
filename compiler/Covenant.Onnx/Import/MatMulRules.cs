using System.Collections.Immutable;
using DataType = Onnx.TensorProto.Types.DataType;

namespace Covenant.Onnx.Import;

/// <summary>
/// MatMul, MatMulInteger, QLinearMatMul and Gemm → gemm (int8) or gemm_f16 (float); a rank-3 x rank-3 product
/// with equal batches → bmm / bmm_f16. An A of rank above 2 times a 2-D B folds its leading dimensions into M.
/// The codelets' a[M, K] and b[K, N] are ONNX's row-major layouts, so no transpose is needed (except Gemm's transA/transB).
/// </summary>
internal static class MatMulRules
{
    public static NodeOutcome Apply(NodeContext node)
    {
        var (a, b) = node.OpType == "QLinearMatMul" ? (0, 3) : (0, 1);
        var left = node.Input(a, "A");
        var right = node.Input(b, "B");
        var isGemm = node.OpType == "Gemm";
        var transA = isGemm && node.Int("transA", 0) != 0;
        var transB = isGemm && node.Int("transB", 0) != 0;
        if (isGemm)
        {
            node.Require(left.Shape.Length == 2 && right.Shape.Length == 2, $"Gemm takes 2-D A and B, got {left} and {right}");
        }

        node.Require(left.Shape.Length >= 2 && right.Shape.Length >= 2,
            $"A {left} and B {right}: import maps matrix products of rank 2 or more (a 1-D operand runs nowhere yet)");
        var m = transA ? left.Shape[^1] : left.Shape[^2];
        var k = transA ? left.Shape[^2] : left.Shape[^1];
        var kb = transB ? right.Shape[^1] : right.Shape[^2];
        var n = transB ? right.Shape[^2] : right.Shape[^1];
        node.Require(k == kb, $"A {left} and B {right} disagree on the reduced dimension ({k} vs {kb})");

        var outputType = node.OpType switch
        {
            "QLinearMatMul" => node.ZeroPointInput(7, "y_zero_point")?.Type.ElementType ?? DataType.Uint8,
            "MatMulInteger" => DataType.Int32,
            _ => left.ElementType,
        };

        ImmutableArray<long> outputShape;
        LayerKind kind;
        long batch = 1;
        if (right.Shape.Length == 2)
        {
            outputShape = [.. left.Shape[..^2], m, n];
            m *= left.Shape[..^2].Aggregate(1L, (p, d) => p * d);
            kind = LayerKind.Gemm;
        }
        else if (left.Shape.Length == 3 && right.Shape.Length == 3 && left.Shape[0] == right.Shape[0])
        {
            batch = left.Shape[0];
            outputShape = [batch, m, n];
            kind = LayerKind.BatchedGemm;
        }
        else
        {
            var broadcast = new OnnxTensorType(outputType, [.. HostRules.Broadcast(node, left.Shape[..^2], right.Shape[..^2]), m, n]);
            return NodeOutcome.OnHost(broadcast, "broadcast batched product: the bmm codelet takes equal batches of rank 3");
        }

        var output = new OnnxTensorType(outputType, outputShape);
        var isFloat = node.OpType is "MatMul" or "Gemm";
        if (isFloat && left.ElementType != DataType.Float)
        {
            return NodeOutcome.OnHost(output, $"{OnnxTensorType.ElementName(left.ElementType)} {node.OpType}: the codelets take int8 or f16 operands");
        }

        var operands = Operands(node, left, right) with { Kind = kind, TransposeActivation = transA, TransposeWeight = transB };
        var bindings = ImmutableDictionary.CreateBuilder<string, long>(StringComparer.Ordinal);
        if (kind == LayerKind.BatchedGemm)
        {
            bindings["B"] = batch;
        }

        bindings["M"] = m;
        bindings["N"] = n;
        bindings["K"] = k;
        var codelet = (kind, isFloat) switch
        {
            (LayerKind.Gemm, false) => "gemm",
            (LayerKind.Gemm, true) => "gemm_f16",
            (_, false) => "bmm",
            _ => "bmm_f16",
        };
        var layer = new CodeletLayer("", codelet, bindings.ToImmutable(), batch * m * n * k, operands);
        var (placement, note) = QuantizedNotes.Describe(node, operands, isFloat, left, right);
        return new NodeOutcome([output], placement, layer, note);
    }

    private static LayerOperands Operands(NodeContext node, OnnxTensorType left, OnnxTensorType right)
    {
        switch (node.OpType)
        {
            case "QLinearMatMul":
                node.RequireScalar(node.QuantizationInput(1, "a_scale"), 1, "a_scale");
                var aZero = node.ZeroPointInput(2, "a_zero_point");
                node.RequireScalar(aZero, 2, "a_zero_point");
                node.RequirePerChannel(node.QuantizationInput(4, "b_scale"), 4, "b_scale", right.Shape[^1]);
                var bZero = node.ZeroPointInput(5, "b_zero_point");
                node.RequirePerChannel(bZero, 5, "b_zero_point", right.Shape[^1]);
                node.RequireScalar(node.QuantizationInput(6, "y_scale"), 6, "y_scale");
                var yZero = node.ZeroPointInput(7, "y_zero_point");
                node.RequireScalar(yZero, 7, "y_zero_point");
                ConvRules.CheckInt8(node, left, right);
                return new LayerOperands(node.RequiredName(0, "a"), node.RequiredName(3, "b"), LayerKind.Gemm, false, false,
                    aZero?.Name, bZero?.Name, null,
                    new Requantization(node.RequiredName(1, "a_scale"), node.RequiredName(4, "b_scale"), node.RequiredName(6, "y_scale"), yZero?.Name));
            case "MatMulInteger":
                ConvRules.CheckInt8(node, left, right);
                node.RequireScalar(node.ZeroPointInput(2, "a_zero_point"), 2, "a_zero_point");
                node.RequirePerChannel(node.ZeroPointInput(3, "b_zero_point"), 3, "b_zero_point", right.Shape[^1]);
                return new LayerOperands(node.RequiredName(0, "A"), node.RequiredName(1, "B"), LayerKind.Gemm, false, false,
                    node.ZeroPointInput(2, "a_zero_point")?.Name, node.ZeroPointInput(3, "b_zero_point")?.Name, null, null);
            case "Gemm":
                if (node.InputName(2) is not null)
                {
                    node.Input(2, "C");
                }

                return new LayerOperands(node.RequiredName(0, "A"), node.RequiredName(1, "B"), LayerKind.Gemm, false, false,
                    null, null, node.InputName(2), null, node.Float("alpha", 1), node.Float("beta", 1));
            default:
                return new LayerOperands(node.RequiredName(0, "A"), node.RequiredName(1, "B"), LayerKind.Gemm, false, false,
                    null, null, null, null);
        }
    }
}
