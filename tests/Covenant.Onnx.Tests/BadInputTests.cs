using Covenant.Onnx.Import;
using DataType = Onnx.TensorProto.Types.DataType;

namespace Covenant.Onnx.Tests;

/// <summary>Each kind of bad model gets one message with its id that names the node (name and index) and the input.</summary>
public sealed class BadInputTests
{
    private static string Refused(byte[] bytes, string id)
    {
        var result = OnnxImporter.Import("bad.onnx", bytes);
        Assert.That(result.Succeeded, Is.False);
        Assert.That(result.Diagnostics, Has.Length.EqualTo(1));
        var text = result.Diagnostics[0].ToString();
        Assert.That(text, Does.StartWith($"bad.onnx: error {id}: "));
        Assert.That(text, Does.Not.Contain("System.").And.Not.Contain("   at "));
        return text;
    }

    [Test]
    public void ATruncatedModelIsNotAModel()
    {
        var bytes = Fixtures.QuantizedMlp().Bytes();
        Refused(bytes[..(bytes.Length / 2)], "COV7000");
    }

    [Test]
    public void TextIsNotAModel() => Refused("this is not a protobuf\n"u8.ToArray(), "COV7000");

    [Test]
    public void AnOldOpsetIsRefused() =>
        Assert.That(Refused(new OnnxModelBuilder("old", opset: 7).Input("x", DataType.Float, 1, 4)
            .Node("Relu", "r", ["x"], ["y"]).Output("y", DataType.Float, 1, 4).Bytes(), "COV7001"), Does.Contain("opset 7"));

    [Test]
    public void AnUnknownOperatorNamesTheNodeAndIndex() =>
        Assert.That(Refused(new OnnxModelBuilder("odd").Input("x", DataType.Float, 1, 4)
            .Node("Relu", "r", ["x"], ["h"]).Node("Hardmax", "strange", ["h"], ["y"]).Output("y", DataType.Float, 1, 4).Bytes(), "COV7002"),
            Does.Contain("node 'strange' (#1, Hardmax)"));

    [Test]
    public void ADynamicBatchIsRefused()
    {
        var builder = new OnnxModelBuilder("dynamic").Node("Relu", "r", ["x"], ["y"]).Output("y", DataType.Float, 1, 4);
        var model = builder.Build();
        var input = OnnxModelBuilder.ValueInfo("x", DataType.Float, [1, 4]);
        input.Type.TensorType.Shape.Dim[0].DimParam = "batch";
        model.Graph.Input.Add(input);
        var text = Refused(Google.Protobuf.MessageExtensions.ToByteArray(model), "COV7003");
        Assert.That(text, Does.Contain("graph input 'x' (#0)").And.Contain("'batch'"));
    }

    [Test]
    public void AReshapeToAComputedShapeIsRefused() =>
        Assert.That(Refused(new OnnxModelBuilder("reshape").Input("x", DataType.Float, 2, 4).Input("shape", DataType.Int64, 2)
            .Node("Reshape", "rs", ["x", "shape"], ["y"]).Output("y", DataType.Float, 8).Bytes(), "COV7003"),
            Does.Contain("node 'rs' (#0, Reshape): input 1 (shape) 'shape'"));

    [Test]
    public void AQuantizedProductWithoutItsScaleNamesTheInput() =>
        Assert.That(Refused(new OnnxModelBuilder("noscale").Input("a", DataType.Int8, 2, 8)
            .Integers("b", DataType.Int8, [8, 4], new int[32]).Scalar("s", 0.5f)
            .Node("QLinearMatMul", "mm", ["a", "", "", "b", "s", "", "s", ""], ["y"]).Output("y", DataType.Uint8, 2, 4).Bytes(), "COV7004"),
            Does.Contain("node 'mm' (#0, QLinearMatMul): input 1 (a_scale) is missing"));

    [Test]
    public void AScaleComputedAtRunTimeIsRefused() =>
        Assert.That(Refused(new OnnxModelBuilder("runtimescale").Input("a", DataType.Int8, 2, 8).Input("s", DataType.Float)
            .Integers("b", DataType.Int8, [8, 4], new int[32]).Scalar("bs", 0.5f)
            .Node("QLinearMatMul", "mm", ["a", "s", "", "b", "bs", "", "bs", ""], ["y"]).Output("y", DataType.Uint8, 2, 4).Bytes(), "COV7004"),
            Does.Contain("input 1 (a_scale) 's' is not an initializer"));

    [Test]
    public void APerRowActivationScaleIsRefused() =>
        Assert.That(Refused(new OnnxModelBuilder("perrow").Input("a", DataType.Int8, 2, 8)
            .Integers("b", DataType.Int8, [8, 4], new int[32]).Floats("s2", [2], [0.5f, 0.25f]).Scalar("s", 0.5f)
            .Node("QLinearMatMul", "mm", ["a", "s2", "", "b", "s", "", "s", ""], ["y"]).Output("y", DataType.Uint8, 2, 4).Bytes(), "COV7004"),
            Does.Contain("input 1 (a_scale) 's2' has 2 values"));

    [Test]
    public void MismatchedShapesNameBothOperands() =>
        Assert.That(Refused(new OnnxModelBuilder("mismatch").Input("a", DataType.Float, 2, 8)
            .Floats("b", [7, 4], new float[28]).Node("MatMul", "mm", ["a", "b"], ["y"]).Output("y", DataType.Float, 2, 4).Bytes(), "COV7005"),
            Does.Contain("disagree on the reduced dimension (8 vs 7)"));

    [Test]
    public void AnInputNoNodeProducesIsNamed() =>
        Assert.That(Refused(new OnnxModelBuilder("dangling").Input("x", DataType.Float, 1, 4)
            .Node("Add", "add", ["x", "nowhere"], ["y"]).Output("y", DataType.Float, 1, 4).Bytes(), "COV7005"),
            Does.Contain("node 'add' (#0, Add): input 1 (B) 'nowhere'"));
}
