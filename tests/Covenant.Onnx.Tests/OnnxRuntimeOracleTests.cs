using Covenant.Compiler;
using Covenant.Onnx.Host;
using Covenant.Onnx.Import;
using Covenant.Onnx.Network;
using Covenant.Onnx.Oracle;
using Covenant.Testing;

namespace Covenant.Onnx.Tests;

/// <summary>The library's oracle (what <c>covenantc network --check</c> runs): whole networks against ONNX Runtime, a corrupted output caught, and its failures as messages.</summary>
public sealed class OnnxRuntimeOracleTests
{
    private static (ImportedModel Model, byte[] Bytes, IReadOnlyDictionary<string, HostTensor> Inputs, NetworkRun Run) RunNetwork(OnnxModelBuilder builder, ILayerExecutor executor)
    {
        var bytes = builder.Bytes();
        var imported = OnnxImporter.Import("net.onnx", bytes);
        Assert.That(imported.Diagnostics, Is.Empty);
        var inputs = NetworkRunner.RandomInputs(imported.Value!, 11);
        var run = NetworkRunner.Run(imported.Value!, inputs, executor);
        Assert.That(run.Diagnostics, Is.Empty);
        return (imported.Value!, bytes, inputs, run.Value!);
    }

    [Test]
    public void TheQuantizedMlpOnVtaMatchesExactly()
    {
        var executor = new ArchitectureLayerExecutor(Repo.PathOf("architectures", "vta.yaml"), Repo.Codelets, BuiltinTargets.All);
        var (model, bytes, inputs, run) = RunNetwork(Fixtures.QuantizedMlp(), executor);
        var check = OnnxRuntimeOracle.Check(model, bytes, inputs, run);
        Assert.That(check.Diagnostics, Is.Empty);
        var y = check.Value!.Outputs.Single();
        Assert.That((y.Name, y.Exact, y.Elements, y.Mismatches, y.Bound), Is.EqualTo(("y", true, 64, 0, (double?)null)));
        Assert.That(check.Value.Matches, Is.True);
        Assert.That(check.Value.OrtVersion, Does.StartWith("1."));
    }

    [Test]
    public void ACorruptedOutputIsAMismatchAtItsElement()
    {
        var (model, bytes, inputs, run) = RunNetwork(Fixtures.QuantizedMlp(), new ReferenceLayerExecutor(Repo.Codelets));
        var y = run.Outputs["y"];
        var corrupted = run with { Outputs = run.Outputs.SetItem("y", y with { Integers = y.Integers.SetItem(5, y.Integers[5] + 1) }) };
        var check = OnnxRuntimeOracle.Check(model, bytes, inputs, corrupted).Value!;
        Assert.That(check.Matches, Is.False);
        Assert.That(check.Outputs.Single().Mismatches, Is.EqualTo(1));
        Assert.That(check.Outputs.Single().First, Does.StartWith("[5] covenant "));
    }

    [Test]
    public void AFloatNetworkIsCheckedWithinItsStatedBound()
    {
        var (model, bytes, inputs, run) = RunNetwork(Fixtures.FloatNet(), new ReferenceLayerExecutor(Repo.Codelets));
        var check = OnnxRuntimeOracle.Check(model, bytes, inputs, run).Value!;
        var y = check.Outputs.Single();
        Assert.That(y.Exact, Is.False);
        Assert.That(y.Bound, Is.GreaterThan(0).And.LessThan(1));
        Assert.That(y.WorstError, Is.LessThanOrEqualTo(y.Bound!.Value));
        Assert.That(y.WorstError, Is.GreaterThan(0), "f16 operands leave some difference: a zero would mean the float path was not compared");

        // Ten times tighter than the worst difference seen is a mismatch: the bound is what decides.
        var tight = OnnxRuntimeOracle.Check(model, bytes, inputs, run, y.WorstError / 10 / y.Bound.Value * OnnxRuntimeOracle.DefaultFloatTolerance).Value!;
        Assert.That(tight.Matches, Is.False);
    }

    [Test]
    public void ANativeLibraryThatDoesNotLoadIsOneMessage()
    {
        var failed = OnnxRuntimeOracle.Guard<string>("model.onnx", () => throw new TypeInitializationException(
            "Microsoft.ML.OnnxRuntime.NativeMethods", new DllNotFoundException("Unable to load shared library 'onnxruntime' or one of its dependencies. In order to help diagnose loading problems, ...\n/x/libonnxruntime.so: cannot open shared object file")));
        var message = failed.Diagnostics.Single().ToString();
        Assert.That(message, Does.Contain("COV7020").And.Contain("model.onnx").And.Contain("Unable to load shared library 'onnxruntime'").And.Contain("without --check"));
        Assert.That(message, Does.Not.Contain("System.").And.Not.Contain("NativeMethods").And.Not.Contain("\n").And.Not.Contain("diagnose"));
    }

    [Test]
    public void AModelOnnxRuntimeRefusesIsOneMessage()
    {
        var refused = OnnxRuntimeOracle.Run("broken.onnx", [1, 2, 3], new Dictionary<string, HostTensor>(), ["y"]);
        Assert.That(refused.Diagnostics.Single().ToString(), Does.Contain("COV7021").And.Contain("broken.onnx"));
    }
}
