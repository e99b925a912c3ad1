using Covenant.Compiler;
using Covenant.Onnx.Host;
using Covenant.Onnx.Import;
using Covenant.Onnx.Network;
using Covenant.Testing;
using DataType = Onnx.TensorProto.Types.DataType;

namespace Covenant.Onnx.Tests;

/// <summary>
/// Whole networks, layer outputs feeding the next layer, against ONNX Runtime running the whole model on the same
/// seeded inputs: exact for the quantized fixtures on each architecture, bounded for the float one.
/// </summary>
public sealed class NetworkTests
{
    private static (NetworkRun Run, Dictionary<string, double[]> Expected) RunBoth(OnnxModelBuilder builder, ILayerExecutor executor, ulong seed)
    {
        var bytes = builder.Bytes();
        var imported = OnnxImporter.Import("net.onnx", bytes);
        Assert.That(imported.Diagnostics, Is.Empty);
        var model = imported.Value!;
        var inputs = NetworkRunner.RandomInputs(model, seed);
        var run = NetworkRunner.Run(model, inputs, executor);
        Assert.That(run.Diagnostics, Is.Empty);
        var expected = model.GraphOutputs.ToDictionary(o => o, o => OrtOracle.RunOrt(bytes, inputs, o));
        return (run.Value!, expected);
    }

    private static double[] Values(HostTensor tensor) => tensor.IsFloat ? [.. tensor.Floats.Select(v => (double)v)] : [.. tensor.Integers.Select(v => (double)v)];

    [TestCase(ImportTests.FixtureName.QuantizedMlp, "vta.yaml")]
    [TestCase(ImportTests.FixtureName.QuantizedCnn, "vta.yaml")]
    [TestCase(ImportTests.FixtureName.QuantizedMlp, "vnni-avx512.yaml")]
    [TestCase(ImportTests.FixtureName.QuantizedCnn, "vnni-avx512.yaml")]
    public void AQuantizedNetworkMatchesOnnxRuntimeExactly(ImportTests.FixtureName fixture, string architecture)
    {
        var executor = new ArchitectureLayerExecutor(Repo.PathOf("architectures", architecture), Repo.Codelets, BuiltinTargets.All);
        var (run, expected) = RunBoth(ImportTests.Fixture(fixture), executor, 7);
        foreach (var node in run.Nodes)
        {
            TestContext.Out.WriteLine($"{node.Node.Name,-12} {node.RanOn,-60} cycles {node.Layer?.Cycles} matches reference {node.Layer?.MatchesReference}");
        }

        TestContext.Out.WriteLine($"MACs on the accelerator: {run.AcceleratorMacs} of {run.LayerMacs}");
        Assert.That(run.AllMatchReference, Is.True);
        foreach (var (name, values) in expected)
        {
            Assert.That(Values(run.Outputs[name]), Is.EqualTo(values), name);
            Assert.That(values.Distinct().Count(), Is.GreaterThan(1), $"{name}: an output that is constant would prove little");
        }
    }

    [Test]
    public void ANodeTheHostCannotRunYetIsNamed()
    {
        var model = OnnxImporter.Import("softmax.onnx", new OnnxModelBuilder("softmax").Input("x", DataType.Float, 1, 4)
            .Node("Relu", "relu", ["x"], ["h"]).Node("Softmax", "probabilities", ["h"], ["y"])
            .Output("y", DataType.Float, 1, 4).Bytes()).Value!;
        var run = NetworkRunner.Run(model, NetworkRunner.RandomInputs(model, 1), new ReferenceLayerExecutor(Repo.Codelets));
        Assert.That(run.Diagnostics.Single().ToString(), Does.Contain("COV7010").And.Contain("node 'probabilities' (#1, Softmax)"));
    }

    [Test]
    public void TheFloatNetworkStaysWithinTheF16Bound()
    {
        var (run, expected) = RunBoth(Fixtures.FloatNet(), new ReferenceLayerExecutor(Repo.Codelets), 7);
        var actual = Values(run.Outputs["y"]);
        // Three layers of f16 operands: each output within 1% of the largest |output| (the per-layer bound is checked exactly in OrtOracleTests).
        var scale = expected["y"].Max(Math.Abs);
        Assert.That(actual.Zip(expected["y"], (a, e) => Math.Abs(a - e)).Max(), Is.LessThan(0.01 * scale));
    }
}
