using DataType = Onnx.TensorProto.Types.DataType;
using B = Covenant.Onnx.Tests.OnnxModelBuilder;

namespace Covenant.Onnx.Tests;

/// <summary>
/// The three test models, built at test time with seeded random weights: a quantized MLP (QLinearMatMul, QDQ ReLU,
/// MatMulInteger with per-column zero points), a small quantized CNN (QLinearConv plain, depthwise and grouped,
/// MaxPool, a residual Add in QDQ form, Flatten, QLinearMatMul, and a ConvInteger with uint8 zero points on the side)
/// and a float one (Conv, Relu, Flatten, Gemm with transB/alpha/beta, MatMul).
/// </summary>
public static class Fixtures
{
    public static B QuantizedMlp(int seed = 1)
    {
        var random = new Random(seed);
        return new B("quantized_mlp")
            .Input("x", DataType.Uint8, 4, 32)
            .Scalar("x_scale", 0.05f).ZeroPoint("x_zero", DataType.Uint8, 120)
            .Integers("w1", DataType.Int8, [32, 64], Int8s(random, 32 * 64)).Scalar("w1_scale", 0.01f).ZeroPoint("w1_zero", DataType.Int8, 0)
            .Scalar("h1_scale", 0.2f).ZeroPoint("h1_zero", DataType.Uint8, 100)
            .Node("QLinearMatMul", "fc1", ["x", "x_scale", "x_zero", "w1", "w1_scale", "w1_zero", "h1_scale", "h1_zero"], ["h1"])
            .Node("DequantizeLinear", "dq1", ["h1", "h1_scale", "h1_zero"], ["h1_float"])
            .Node("Relu", "relu1", ["h1_float"], ["h1_relu"])
            .Scalar("h2_scale", 0.1f).ZeroPoint("h2_zero", DataType.Int8, -3)
            .Node("QuantizeLinear", "q1", ["h1_relu", "h2_scale", "h2_zero"], ["h2"])
            .Integers("w2", DataType.Int8, [64, 16], Int8s(random, 64 * 16))
            .Integers("w2_zero", DataType.Int8, [16], Enumerable.Range(0, 16).Select(i => (i % 5) - 2))
            .Node("MatMulInteger", "fc2", ["h2", "w2", "h2_zero", "w2_zero"], ["y"])
            .Output("y", DataType.Int32, 4, 16);
    }

    public static B QuantizedCnn(int seed = 2)
    {
        var random = new Random(seed);
        return new B("quantized_cnn")
            .Input("x", DataType.Uint8, 1, 4, 8, 8)
            .Scalar("x_scale", 0.02f).ZeroPoint("x_zero", DataType.Uint8, 128)
            .Integers("w1", DataType.Int8, [8, 4, 3, 3], Int8s(random, 8 * 4 * 9))
            .Floats("w1_scale", [8], Enumerable.Range(0, 8).Select(i => 0.004f + (0.001f * i)))
            .Integers("w1_zero", DataType.Int8, [8], new int[8])
            .Scalar("c1_scale", 0.1f).ZeroPoint("c1_zero", DataType.Uint8, 5)
            .Integers("b1", DataType.Int32, [8], Enumerable.Range(0, 8).Select(_ => random.Next(-2000, 2000)))
            .Node("QLinearConv", "conv1", ["x", "x_scale", "x_zero", "w1", "w1_scale", "w1_zero", "c1_scale", "c1_zero", "b1"], ["c1"],
                B.Ints("pads", 1, 1, 1, 1), B.Ints("kernel_shape", 3, 3))
            .Node("MaxPool", "pool1", ["c1"], ["p1"], B.Ints("kernel_shape", 2, 2), B.Ints("strides", 2, 2))
            .Integers("wd", DataType.Int8, [8, 1, 3, 3], Int8s(random, 8 * 9)).Scalar("wd_scale", 0.01f).ZeroPoint("wd_zero", DataType.Int8, 0)
            .Scalar("d_scale", 0.1f).ZeroPoint("d_zero", DataType.Uint8, 7)
            .Integers("bd", DataType.Int32, [8], Enumerable.Range(0, 8).Select(_ => random.Next(-500, 500)))
            .Node("QLinearConv", "depthwise", ["p1", "c1_scale", "c1_zero", "wd", "wd_scale", "wd_zero", "d_scale", "d_zero", "bd"], ["c2"],
                B.Ints("pads", 1, 1, 1, 1), B.Int("group", 8))
            .Node("DequantizeLinear", "dq_skip", ["p1", "c1_scale", "c1_zero"], ["skip"])
            .Node("DequantizeLinear", "dq_branch", ["c2", "d_scale", "d_zero"], ["branch"])
            .Node("Add", "residual", ["skip", "branch"], ["sum"])
            .Node("Relu", "relu", ["sum"], ["sum_relu"])
            .Scalar("r_scale", 0.1f).ZeroPoint("r_zero", DataType.Uint8, 0)
            .Node("QuantizeLinear", "q_residual", ["sum_relu", "r_scale", "r_zero"], ["r"])
            .Integers("wg", DataType.Int8, [8, 4, 3, 3], Int8s(random, 8 * 4 * 9)).Scalar("wg_scale", 0.02f).ZeroPoint("wg_zero", DataType.Int8, 0)
            .Scalar("g_scale", 2f).ZeroPoint("g_zero", DataType.Uint8, 10)
            .Node("QLinearConv", "grouped", ["r", "r_scale", "r_zero", "wg", "wg_scale", "wg_zero", "g_scale", "g_zero"], ["g"],
                B.Ints("pads", 1, 1, 1, 1), B.Ints("strides", 2, 2), B.Int("group", 2))
            .Node("Flatten", "flatten", ["g"], ["f"])
            .Integers("wf", DataType.Int8, [32, 10], Int8s(random, 320)).Scalar("wf_scale", 0.01f).ZeroPoint("wf_zero", DataType.Int8, 0)
            .Scalar("y_scale", 50f).ZeroPoint("y_zero", DataType.Uint8, 128)
            .Node("QLinearMatMul", "fc", ["f", "g_scale", "g_zero", "wf", "wf_scale", "wf_zero", "y_scale", "y_zero"], ["y"])
            .Integers("wci", DataType.Uint8, [4, 4, 1, 1], Enumerable.Range(0, 16).Select(_ => random.Next(0, 256)))
            .ZeroPoint("xci_zero", DataType.Uint8, 100).ZeroPoint("wci_zero", DataType.Uint8, 7)
            .Node("ConvInteger", "side", ["x", "wci", "xci_zero", "wci_zero"], ["side_out"])
            .Output("y", DataType.Uint8, 1, 10)
            .Output("side_out", DataType.Int32, 1, 4, 8, 8);
    }

    public static B FloatNet(int seed = 3)
    {
        var random = new Random(seed);
        return new B("float_net")
            .Input("x", DataType.Float, 1, 3, 8, 8)
            .Floats("wc", [4, 3, 3, 3], Float32s(random, 108)).Floats("bc", [4], Float32s(random, 4))
            .Node("Conv", "conv", ["x", "wc", "bc"], ["c"], B.Ints("strides", 2, 2), B.Ints("pads", 1, 1, 1, 1))
            .Node("Relu", "relu", ["c"], ["cr"])
            .Node("Flatten", "flatten", ["cr"], ["f"])
            .Floats("wg", [10, 64], Float32s(random, 640)).Floats("bg", [10], Float32s(random, 10))
            .Node("Gemm", "gemm", ["f", "wg", "bg"], ["g"], B.Int("transB", 1), B.Float("alpha", 0.5f), B.Float("beta", 2f))
            .Floats("wm", [10, 5], Float32s(random, 50))
            .Node("MatMul", "matmul", ["g", "wm"], ["y"])
            .Output("y", DataType.Float, 1, 5);
    }

    /// <summary>
    /// A QLinearMatMul whose scale is exactly 1/2 and whose products are odd half the time, so half its outputs are ties:
    /// rounding half away from zero (or a shift) would differ from ONNX's half to even there.
    /// </summary>
    public static B RoundingTies() => new B("rounding_ties")
        .Input("a", DataType.Int8, 16, 1)
        .Scalar("a_scale", 1f).ZeroPoint("a_zero", DataType.Int8, 0)
        .Integers("b", DataType.Int8, [1, 8], [1, -1, 1, -1, 1, 1, -1, -1]).Scalar("b_scale", 1f).ZeroPoint("b_zero", DataType.Int8, 0)
        .Scalar("y_scale", 2f).ZeroPoint("y_zero", DataType.Int8, 0)
        .Node("QLinearMatMul", "half", ["a", "a_scale", "a_zero", "b", "b_scale", "b_zero", "y_scale", "y_zero"], ["y"])
        .Output("y", DataType.Int8, 16, 8);

    public static IEnumerable<int> Int8s(Random random, int count) => Enumerable.Range(0, count).Select(_ => random.Next(-128, 128));

    public static IEnumerable<float> Float32s(Random random, int count) =>
        Enumerable.Range(0, count).Select(_ => (float)((random.NextDouble() * 2) - 1));
}
