using Covenant.Compiler;
using Covenant.Onnx.Import;
using Covenant.Testing;
using DataType = Onnx.TensorProto.Types.DataType;

namespace Covenant.Onnx.Tests;

/// <summary>Import of the three fixtures: inferred shapes, the codelet each node maps to, host placement, and the suite.</summary>
public sealed class ImportTests
{
    private static ImportedModel Import(OnnxModelBuilder builder, string name)
    {
        var result = OnnxImporter.Import(name, builder.Bytes());
        Assert.That(result.Diagnostics, Is.Empty);
        return result.Value!;
    }

    private static ImportedNode Node(ImportedModel model, string name) => model.Nodes.Single(n => n.Name == name);

    [Test]
    public void TheQuantizedCnnMapsEachConvolutionToItsCodelet()
    {
        var model = Import(Fixtures.QuantizedCnn(), "cnn.onnx");
        var conv1 = Node(model, "conv1").Layer!;
        Assert.That(conv1.Codelet, Is.EqualTo("conv2d"));
        Assert.That(conv1.Bindings, Is.EquivalentTo(new Dictionary<string, long>
        {
            ["N"] = 1, ["H"] = 8, ["W"] = 8, ["C"] = 4, ["K"] = 8, ["R"] = 3, ["S"] = 3, ["pad"] = 1,
        }));
        Assert.That(conv1.Macs, Is.EqualTo(8L * 8 * 8 * 4 * 9));
        Assert.That(Node(model, "depthwise").Layer!.Codelet, Is.EqualTo("conv2d_depthwise"));
        var grouped = Node(model, "grouped").Layer!;
        Assert.That(grouped.Codelet, Is.EqualTo("conv2d_grouped"));
        Assert.That(grouped.Bindings["G"], Is.EqualTo(2));
        Assert.That(grouped.Bindings["stride"], Is.EqualTo(2));
        Assert.That(grouped.Macs, Is.EqualTo(8L * 2 * 2 * 4 * 9), "K * P * Q * C/G * R * S");
        var fc = Node(model, "fc").Layer!;
        Assert.That((fc.Codelet, fc.Bindings["M"], fc.Bindings["N"], fc.Bindings["K"]), Is.EqualTo(("gemm", 1L, 10L, 32L)));
        Assert.That(model.Values["p1"].Shape, Is.EqualTo(new long[] { 1, 8, 4, 4 }));
        Assert.That(model.Values["g"].Shape, Is.EqualTo(new long[] { 1, 8, 2, 2 }));
        Assert.That(model.Values["y"], Is.EqualTo(new OnnxTensorType(DataType.Uint8, [1, 10])));
        Assert.That(model.Values["side_out"], Is.EqualTo(new OnnxTensorType(DataType.Int32, [1, 4, 8, 8])));
    }

    [Test]
    public void PlacementSaysWhatTheHostAdds()
    {
        var model = Import(Fixtures.QuantizedCnn(), "cnn.onnx");
        Assert.That(Node(model, "conv1").Placement, Is.EqualTo(NodePlacement.AcceleratorAndHost));
        Assert.That(Node(model, "conv1").Note, Does.Contain("requantization").And.Contain("uint8 - 128"));
        // x's zero point 128 is exactly the uint8 offset, so conv1 needs no zero-point correction; ConvInteger's 100 does.
        Assert.That(Node(model, "conv1").Note, Does.Not.Contain("zero-point"));
        Assert.That(Node(model, "side").Note, Does.Contain("zero-point correction").And.Not.Contain("requantization"));
        foreach (var host in new[] { "pool1", "residual", "relu", "flatten", "q_residual", "dq_skip" })
        {
            Assert.That(Node(model, host).Placement, Is.EqualTo(NodePlacement.Host), host);
            Assert.That(Node(model, host).Note, Is.Not.Empty, host);
        }
    }

    [Test]
    public void AnInt8MatMulIntegerWithoutZeroPointsIsExactOnTheAccelerator()
    {
        var builder = new OnnxModelBuilder("exact")
            .Input("a", DataType.Int8, 2, 8).Integers("b", DataType.Int8, [8, 4], Enumerable.Range(0, 32).Select(i => i - 16))
            .Node("MatMulInteger", "mm", ["a", "b"], ["y"]).Output("y", DataType.Int32, 2, 4);
        var node = Node(Import(builder, "exact.onnx"), "mm");
        Assert.That((node.Placement, node.Note), Is.EqualTo((NodePlacement.Accelerator, "exact on the accelerator")));
    }

    [Test]
    public void TheFloatNetMapsToTheF16CodeletsAndSaysItIsNotExact()
    {
        var model = Import(Fixtures.FloatNet(), "float.onnx");
        Assert.That(Node(model, "conv").Layer!.Codelet, Is.EqualTo("conv2d_f16"));
        var gemm = Node(model, "gemm");
        Assert.That((gemm.Layer!.Codelet, gemm.Layer.Operands.TransposeWeight), Is.EqualTo(("gemm_f16", true)));
        Assert.That(gemm.Note, Does.Contain("not exact").And.Contain("alpha"));
        Assert.That(Node(model, "matmul").Layer!.Bindings["K"], Is.EqualTo(10));
        Assert.That(model.Values["y"].Shape, Is.EqualTo(new long[] { 1, 5 }));
    }

    [Test]
    public void TheSuiteLoadsAndEveryLayerInstantiates([Values] FixtureName fixture)
    {
        var model = Import(Fixture(fixture), $"{fixture}.onnx");
        var directory = Path.Combine(Path.GetTempPath(), "covenant-onnx-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory);
        try
        {
            var path = Path.Combine(directory, "suite.yaml");
            File.WriteAllText(path, ImportWriter.SuiteYaml(model));
            var suite = Suite.Load(path);
            Assert.That(suite.Diagnostics, Is.Empty);
            Assert.That(suite.Value!.Layers.Select(l => l.Name), Is.EqualTo(model.Layers.Select(l => l.LayerName)));
            foreach (var layer in suite.Value.Layers)
            {
                var instance = Shipped.Codelet(layer.Codelet).Instantiate(layer.Bindings);
                Assert.That(instance.Diagnostics, Is.Empty, layer.Name);
            }

            Assert.That(File.ReadAllText(path), Does.Contain("# network"));
        }
        finally
        {
            Directory.Delete(directory, true);
        }
    }

    public enum FixtureName
    {
        QuantizedMlp,
        QuantizedCnn,
        FloatNet,
    }

    public static OnnxModelBuilder Fixture(FixtureName name) => name switch
    {
        FixtureName.QuantizedMlp => Fixtures.QuantizedMlp(),
        FixtureName.QuantizedCnn => Fixtures.QuantizedCnn(),
        _ => Fixtures.FloatNet(),
    };
}

/// <summary>Writes the fixtures as .onnx files for trying <c>covenantc import</c> by hand (README's worked example).</summary>
public sealed class FixtureFiles
{
    [Test]
    [Explicit("writes files: COVENANT_ONNX_FIXTURES=DIR dotnet test --filter FixtureFiles")]
    public void WriteTheFixtures()
    {
        var directory = Environment.GetEnvironmentVariable("COVENANT_ONNX_FIXTURES") ?? Path.GetTempPath();
        Directory.CreateDirectory(directory);
        foreach (var name in Enum.GetValues<ImportTests.FixtureName>())
        {
            TestContext.Out.WriteLine(ImportTests.Fixture(name).WriteTo(directory, $"{name}.onnx"));
        }
    }
}
