namespace Covenant.Onnx.Tests;

/// <summary>
/// Writes the test models as .onnx files for use with <c>covenantc import</c> and <c>covenantc network</c>: the examples a
/// user can try without a model of their own. Explicit: it only writes files.
/// </summary>
public sealed class FixtureFilesTests
{
    [Test]
    [Explicit("writes the example models into $COVENANT_ONNX_FIXTURES (default: a temp folder it prints)")]
    [Category("Fixtures")]
    public void WriteTheExampleModels()
    {
        var folder = Environment.GetEnvironmentVariable("COVENANT_ONNX_FIXTURES") is { Length: > 0 } named
            ? Directory.CreateDirectory(named).FullName
            : Directory.CreateTempSubdirectory("covenant-onnx-fixtures-").FullName;
        var written = new[]
        {
            Fixtures.QuantizedMlp().WriteTo(folder, "quantized_mlp.onnx"),
            Fixtures.QuantizedCnn().WriteTo(folder, "quantized_cnn.onnx"),
            Fixtures.FloatNet().WriteTo(folder, "float_net.onnx"),
            ResNetFixture.Build().WriteTo(folder, "resnet50_shaped_quantized.onnx"),
        };

        foreach (var path in written)
        {
            Assert.That(new FileInfo(path).Length, Is.GreaterThan(0), path);
            TestContext.Out.WriteLine($"wrote {path}");
        }
    }
}
