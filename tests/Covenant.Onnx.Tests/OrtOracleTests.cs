using Microsoft.ML.OnnxRuntime;
using Onnx;
using DataType = Onnx.TensorProto.Types.DataType;

namespace Covenant.Onnx.Tests;

/// <summary>ONNX Runtime as the oracle: every imported layer of every fixture, exact for integers, bounded for floats.</summary>
public sealed class OrtOracleTests
{
    [Test]
    public void TheOnnxRuntimeNativeLibraryLoads()
    {
        // The managed package finds libonnxruntime.so under runtimes/linux-x64/native; a missing or incompatible one throws here.
        Assert.That(OrtEnv.Instance().GetVersionString(), Does.StartWith("1."));
        Assert.That(OrtEnv.Instance().GetAvailableProviders(), Does.Contain("CPUExecutionProvider"));
    }

    [Test]
    public void EveryLayerMatchesOnnxRuntime([Values] ImportTests.FixtureName fixture, [Values(1, 2)] int seed)
    {
        var checks = OrtOracle.CheckAll(ImportTests.Fixture(fixture), $"{fixture}.onnx", seed * 100);
        foreach (var check in checks)
        {
            TestContext.Out.WriteLine(check);
        }

        Assert.That(checks, Is.Not.Empty);
        Assert.That(checks.Where(c => c.Mismatches > 0).Select(c => c.ToString()), Is.Empty);
        Assert.That(checks.Where(c => c.DistinctExpected < Math.Min(8, c.Elements / 2)).Select(c => c.ToString()), Is.Empty,
            "layers whose outputs barely vary (saturated) check little");
    }

    [Test]
    public void RequantizationRoundsHalfToEvenAsOnnxRuntimeDoes([Values(1, 2, 3)] int seed)
    {
        var check = OrtOracle.CheckAll(Fixtures.RoundingTies(), "ties.onnx", seed).Single();
        Assert.That(check.Mismatches, Is.Zero, check.ToString());
        Assert.That(check.DistinctExpected, Is.GreaterThan(20));
    }

    [Test]
    public void TheWholeQuantizedMlpRunsInOnnxRuntime()
    {
        // The fixtures are valid ONNX as ONNX Runtime reads it, not just as the importer does.
        var model = Fixtures.QuantizedMlp().Bytes();
        var input = OrtOracle.RandomTensor(new Import.OnnxTensorType(DataType.Uint8, [4, 32]), new Random(5));
        var y = OrtOracle.RunOrt(model, new Dictionary<string, Host.HostTensor> { ["x"] = input }, "y");
        Assert.That(y, Has.Length.EqualTo(64));
        Assert.That(y.Distinct().Count(), Is.GreaterThan(8));
    }
}
