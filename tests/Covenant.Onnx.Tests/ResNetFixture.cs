using DataType = Onnx.TensorProto.Types.DataType;
using B = Covenant.Onnx.Tests.OnnxModelBuilder;

namespace Covenant.Onnx.Tests;

/// <summary>
/// A ResNet-50 v1.5-shaped quantized graph (QOperator form, 224 x 224, batch 1) with seeded random int8 weights:
/// conv1 7x7/2, max pool, 3-4-6-3 bottlenecks (stride on the 3x3, projections on the first block of each stage),
/// residual adds as DequantizeLinear → Add → Relu → QuantizeLinear, global average pool, fc1000 as QLinearMatMul.
/// Activations are uint8 with zero point 128, so the codelets' int8 needs no zero-point correction; each layer's weight
/// scale keeps its outputs spread over the uint8 range instead of saturating.
/// </summary>
public static class ResNetFixture
{
    private const float ActivationScale = 1f / 32;

    public static B Build(int seed = 50)
    {
        var random = new Random(seed);
        var b = new B("resnet50_shaped").Input("x", DataType.Uint8, 1, 3, 224, 224)
            .Scalar("act_scale", ActivationScale).ZeroPoint("act_zero", DataType.Uint8, 128)
            .ZeroPoint("w_zero", DataType.Int8, 0);
        var x = Conv(b, random, "conv1", "x", 3, 64, 7, 2, 3);
        b.Node("MaxPool", "pool1", [x], ["pool1_out"], B.Ints("kernel_shape", 3, 3), B.Ints("strides", 2, 2), B.Ints("pads", 1, 1, 1, 1));
        x = "pool1_out";
        var channels = 64;
        int[] blocks = [3, 4, 6, 3];
        for (var stage = 0; stage < 4; stage++)
        {
            var width = 64 << stage;
            for (var block = 0; block < blocks[stage]; block++)
            {
                var name = $"res{stage + 2}{(char)('a' + block)}";
                var stride = block == 0 && stage > 0 ? 2 : 1;
                var a = Conv(b, random, $"{name}_1x1a", x, channels, width, 1, 1, 0);
                var m = Conv(b, random, $"{name}_3x3", a, width, width, 3, stride, 1);
                var c = Conv(b, random, $"{name}_1x1b", m, width, width * 4, 1, 1, 0);
                var skip = block == 0 ? Conv(b, random, $"{name}_proj", x, channels, width * 4, 1, stride, 0) : x;
                b.Node("DequantizeLinear", $"{name}_dq_skip", [skip, "act_scale", "act_zero"], [$"{name}_skip_f"])
                    .Node("DequantizeLinear", $"{name}_dq_branch", [c, "act_scale", "act_zero"], [$"{name}_branch_f"])
                    .Node("Add", $"{name}_add", [$"{name}_skip_f", $"{name}_branch_f"], [$"{name}_sum"])
                    .Node("Relu", $"{name}_relu", [$"{name}_sum"], [$"{name}_relu_out"])
                    .Node("QuantizeLinear", $"{name}_q", [$"{name}_relu_out", "act_scale", "act_zero"], [$"{name}_out"]);
                x = $"{name}_out";
                channels = width * 4;
            }
        }

        b.Node("DequantizeLinear", "pool5_dq", [x, "act_scale", "act_zero"], ["pool5_in"])
            .Node("GlobalAveragePool", "pool5", ["pool5_in"], ["pool5_f"])
            .Node("QuantizeLinear", "pool5_q", ["pool5_f", "act_scale", "act_zero"], ["pool5_out"])
            .Node("Flatten", "flatten", ["pool5_out"], ["features"])
            .Integers("fc1000_w", DataType.Int8, [2048, 1000], Fixtures.Int8s(random, 2048 * 1000))
            .Scalar("fc1000_w_scale", 8 * WeightScale(2048)) // pooled features spread about 8 times less than a conv input
            .Node("QLinearMatMul", "fc1000", ["features", "act_scale", "act_zero", "fc1000_w", "fc1000_w_scale", "w_zero", "act_scale", "act_zero"], ["logits"])
            .Output("logits", DataType.Uint8, 1, 1000);
        return b;
    }

    // Random int8 weights have a standard deviation near 74, and so do uint8 activations around 128: a sum over n taps
    // spreads by about sqrt(n) * 74 * 74; this scale brings that to about 40 steps of the output.
    private static float WeightScale(int taps) => 40f / (MathF.Sqrt(taps) * 74 * 74);

    private static string Conv(B b, Random random, string name, string input, int c, int k, int kernel, int stride, int pad)
    {
        b.Integers($"{name}_w", DataType.Int8, [k, c, kernel, kernel], Fixtures.Int8s(random, k * c * kernel * kernel))
            .Scalar($"{name}_w_scale", WeightScale(c * kernel * kernel))
            .Node("QLinearConv", name, [input, "act_scale", "act_zero", $"{name}_w", $"{name}_w_scale", "w_zero", "act_scale", "act_zero"], [$"{name}_out"],
                B.Ints("kernel_shape", kernel, kernel), B.Ints("strides", stride, stride), B.Ints("pads", pad, pad, pad, pad));
        return $"{name}_out";
    }
}
