using System.Diagnostics;
using Covenant.Compiler;
using Covenant.Onnx.Import;
using Covenant.Onnx.Network;
using Covenant.Testing;

namespace Covenant.Onnx.Tests;

/// <summary>The ResNet-50-shaped graph: its import against the shipped ResNet-50 suite (fast), and a whole run (opt-in, slow).</summary>
public sealed class ResNetTests
{
    [Test]
    public void TheImportFindsEveryResNet50LayerOfTheShippedSuite()
    {
        var bytes = ResNetFixture.Build().Bytes();
        var clock = Stopwatch.StartNew();
        var imported = OnnxImporter.Import("resnet50.onnx", bytes);
        TestContext.Out.WriteLine($"import of {bytes.Length / 1e6:F1} MB: {clock.Elapsed.TotalMilliseconds:F0} ms");
        Assert.That(imported.Diagnostics, Is.Empty);
        var model = imported.Value!;
        Assert.That(model.Layers.Count(), Is.EqualTo(54), "53 convolutions and fc1000");
        // ResNet-50 v1.5 at 224 x 224: about 4.1 G multiply-accumulates, all of them in the layers.
        Assert.That(model.AcceleratorMacs, Is.EqualTo(4_089_184_256L));
        var suite = Suite.Load(Repo.PathOf("codelets", "suites", "resnet50.yaml"));
        Assert.That(suite.Diagnostics, Is.Empty);
        var imports = model.Layers.Select(l => Key(l.Codelet, l.Bindings)).ToHashSet();
        var missing = suite.Value!.Layers.Where(l => !imports.Contains(Key(l.Codelet, l.Bindings))).Select(l => l.Name);
        Assert.That(missing, Is.Empty, "suite layers the import did not produce");
    }

    private static string Key(string codelet, IReadOnlyDictionary<string, long> bindings)
    {
        var normalized = bindings.Where(b => !(b.Key == "stride" && b.Value == 1) && !(b.Key == "pad" && b.Value == 0))
            .OrderBy(b => b.Key, StringComparer.Ordinal).Select(b => $"{b.Key}={b.Value}");
        return codelet + ":" + string.Join(",", normalized);
    }

    [Test]
    [Explicit("slow: 4.1 G MACs through VNNI and the reference interpreter, and through ONNX Runtime")]
    [Category("Slow")]
    public void TheResNet50ShapedNetworkMatchesOnnxRuntimeOnVnni()
    {
        var bytes = ResNetFixture.Build().Bytes();
        var model = OnnxImporter.Import("resnet50.onnx", bytes).Value!;
        var inputs = NetworkRunner.RandomInputs(model, 11);
        var clock = Stopwatch.StartNew();
        var executor = new ArchitectureLayerExecutor(Repo.PathOf("architectures", "vnni-avx512.yaml"), Repo.Codelets, BuiltinTargets.All);
        var run = NetworkRunner.Run(model, inputs, executor);
        Assert.That(run.Diagnostics, Is.Empty);
        TestContext.Out.WriteLine($"network run: {clock.Elapsed.TotalSeconds:F1} s; MACs on VNNI {run.Value!.AcceleratorMacs} of {run.Value.LayerMacs}");
        foreach (var node in run.Value.Nodes.Where(n => n.Layer is not null))
        {
            TestContext.Out.WriteLine($"{node.Node.Name,-14} {node.RanOn,-45} cycles {node.Layer!.Cycles} compile {node.Layer.CompileSeconds:F1} s = reference {node.Layer.MatchesReference}");
        }

        var expected = OrtOracle.RunOrt(bytes, inputs, "logits");
        Assert.That(run.Value.AllMatchReference, Is.True);
        Assert.That(run.Value.Outputs["logits"].Integers.Select(v => (double)v), Is.EqualTo(expected));
        Assert.That(expected.Distinct().Count(), Is.GreaterThan(10));
    }
}
