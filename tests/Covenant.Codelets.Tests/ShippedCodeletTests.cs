using System.Globalization;
using System.Text.RegularExpressions;
using Covenant.Codelets.Semantics;
using Covenant.Codelets.Syntax;
using Covenant.Core.Diagnostics;
using Covenant.Testing;
using static Covenant.Codelets.Tests.TestSupport;

namespace Covenant.Codelets.Tests;

/// <summary>The codelets in codelets/: each loads, instantiates on a small shape and on every suite layer that uses it.</summary>
public sealed partial class ShippedCodeletTests
{
    /// <summary>A small shape per codelet, with strides, padding and dilation where the codelet has them.</summary>
    private static readonly Dictionary<string, string> SmallShapes = new(StringComparer.Ordinal)
    {
        ["gemm"] = "M=3, N=5, K=7",
        ["gemm_f16"] = "M=3, N=5, K=7",
        ["bmm"] = "B=2, M=3, N=4, K=5",
        ["bmm_f16"] = "B=2, M=3, N=4, K=5",
        ["conv2d_f16"] = "N=1, H=6, W=5, C=3, K=4, R=3, S=3, stride=2, pad=1",
        ["gemv"] = "M=3, K=5",
        ["conv1d"] = "N=1, W=9, C=3, K=4, S=3, stride=2, pad=1, dilation=2",
        ["conv2d"] = "N=1, H=6, W=5, C=3, K=4, R=3, S=3, stride=2, pad=1",
        ["conv2d_grouped"] = "N=1, H=6, W=6, C=4, K=6, G=2, R=3, S=3, pad=1",
        ["conv2d_depthwise"] = "N=1, H=6, W=6, C=4, R=3, S=3, stride=2, pad=1",
        ["conv3d"] = "N=1, D=4, H=5, W=5, C=2, K=3, T=3, R=3, S=3, pad=1, stride_d=2",
        ["conv2d_transposed"] = "N=1, H=3, W=3, C=2, K=3, R=3, S=3, stride=2, pad=1",
        ["fc_requant"] = "M=2, N=3, K=4",
    };

    public static IEnumerable<string> CodeletNames() =>
        Directory.GetFiles(Repo.Codelets, "*.cdlt").Select(p => Path.GetFileNameWithoutExtension(p)!).Order(StringComparer.Ordinal);

    [TestCaseSource(nameof(CodeletNames))]
    public void LoadsAndSaysWhatItComputes(string name)
    {
        var codelet = LoadShipped(name);
        var text = File.ReadAllText(Path.Combine(Repo.Codelets, name + ".cdlt"));
        using (Assert.EnterMultipleScope())
        {
            Assert.That(codelet.Name, Is.EqualTo(name), "the codelet is named after its file");
            Assert.That(text, Does.StartWith($"// {name}: "), "the file starts with a comment saying what it computes");
        }
    }

    [TestCaseSource(nameof(CodeletNames))]
    public void InstantiatesForASmallShape(string name)
    {
        Assert.That(SmallShapes, Does.ContainKey(name), "every shipped codelet needs a small shape here");
        var result = LoadShipped(name).Instantiate(Bindings(SmallShapes[name]));
        Assert.That(result.Diagnostics, Is.Empty);
        using (Assert.EnterMultipleScope())
        {
            Assert.That(result.Value!.Tensors.Select(t => t.ElementCount), Is.All.Positive);
            Assert.That(result.Value.Nests.SelectMany(n => n.Loops).Select(l => l.Extent), Is.All.Positive);
        }
    }

    [Test]
    public void ResNet50Conv1()
    {
        var instance = LoadShipped("conv2d").Instantiate(Bindings("N=1, H=224, W=224, C=3, K=64, R=7, S=7, stride=2, pad=3")).Value!;
        using (Assert.EnterMultipleScope())
        {
            Assert.That((instance.Sizes["P"], instance.Sizes["Q"]), Is.EqualTo((112L, 112L)));
            Assert.That(instance.Tensors.Select(t => (t.Name, t.Shape.ToArray())), Is.EqualTo(new[]
            {
                ("x", new[] { 1, 224, 224, 3 }),
                ("w", new[] { 64, 7, 7, 3 }),
                ("y", new[] { 1, 112, 112, 64 }),
            }));
            Assert.That(instance.Nests.Single().Loops.Select(l => l.Extent), Is.EqualTo(new[] { 1, 112, 112, 64, 7, 7, 3 }));
        }
    }

    [Test]
    public void EverySuiteLayerInstantiates()
    {
        var layers = SuiteLayers().ToList();
        var codelets = new Dictionary<string, CheckedCodelet>(StringComparer.Ordinal);
        using (Assert.EnterMultipleScope())
        {
            Assert.That(layers, Has.Count.GreaterThan(60), "the suite reader found the layers");
            foreach (var layer in layers)
            {
                if (!codelets.TryGetValue(layer.Codelet, out var codelet))
                {
                    codelet = codelets[layer.Codelet] = LoadShipped(layer.Codelet);
                }

                var result = codelet.Instantiate(layer.Bindings, layer.Location);
                Assert.That(result.Diagnostics, Is.Empty, layer.Location.ToString());
            }
        }
    }

    [Test]
    public void SuiteOutputSizesMatchTheNetworks()
    {
        var layers = SuiteLayers().ToDictionary(l => l.Name, StringComparer.Ordinal);
        var conv = LoadShipped("conv2d");
        (long P, long Q) Output(string layer)
        {
            var sizes = conv.Instantiate(layers[layer].Bindings).Value!.Sizes;
            return (sizes["P"], sizes["Q"]);
        }

        using (Assert.EnterMultipleScope())
        {
            Assert.That(Output("res3_3x3s2"), Is.EqualTo((28L, 28L)));
            Assert.That(Output("res5_3x3"), Is.EqualTo((7L, 7L)));
            Assert.That(Output("res3_proj"), Is.EqualTo((28L, 28L)));
            Assert.That(Output("conv_40x151x1_k32_r5s20_speech"), Is.EqualTo((26L, 19L))); // (40+16-5)/2+1, (151+16-20)/8+1
        }
    }

    [Test]
    public void RequantizingEpilogueIsTyped()
    {
        var instance = LoadShipped("fc_requant").Instantiate(Bindings("M=2, N=3, K=4")).Value!;
        var epilogue = instance.Nests[1].Statements.Single();
        var cast = (CastValue)epilogue.Value;
        var clip = (CallValue)cast.Operand;
        var relu = (CallValue)clip.Arguments[0];
        var shift = (BinaryValue)relu.Arguments[0];
        using (Assert.EnterMultipleScope())
        {
            Assert.That(instance.Tensors.Select(t => (t.Name, t.Role, t.ElementType)), Is.EqualTo(new[]
            {
                ("x", TensorRole.Input, ElementType.I8),
                ("w", TensorRole.Input, ElementType.I8),
                ("bias", TensorRole.Input, ElementType.I32),
                ("y", TensorRole.Output, ElementType.I8),
                ("acc", TensorRole.Local, ElementType.I32),
            }));
            Assert.That(instance.Nests[0].Statements.Single().Kind, Is.EqualTo(AssignKind.Accumulate));
            Assert.That(cast.Type, Is.EqualTo(ElementType.I8));
            Assert.That((clip.Function, clip.Arguments[1], clip.Arguments[2]), Is.EqualTo((
                BuiltinFunction.Clip, new ConstantValue(ElementType.I32, -128, 0), new ConstantValue(ElementType.I32, 127, 0))));
            Assert.That(relu.Function, Is.EqualTo(BuiltinFunction.Relu));
            Assert.That((shift.Op, shift.Right), Is.EqualTo((BinaryOp.ShiftRight, new ConstantValue(ElementType.I32, 8, 0))));
        }
    }

    [Test]
    public void HalfPrecisionGemmAccumulatesInSinglePrecision()
    {
        var instance = LoadShipped("gemm_f16").Instantiate(Bindings("M=16, N=8, K=16")).Value!;
        var product = (BinaryValue)instance.Nests.Single().Statements.Single().Value;
        using (Assert.EnterMultipleScope())
        {
            Assert.That(instance.Tensors.Select(t => t.ElementType), Is.EqualTo(new[] { ElementType.F16, ElementType.F16, ElementType.F32 }));
            Assert.That(product.Type, Is.EqualTo(ElementType.F32));
        }
    }

    private sealed record SuiteLayer(string Name, string Codelet, Dictionary<string, long> Bindings, SourceLocation Location);

    /// <summary>The layers of codelets/suites/*.yaml, read from their one-line flow mappings: <c>- {name: x, codelet: gemm, M: 1}</c>.</summary>
    private static IEnumerable<SuiteLayer> SuiteLayers()
    {
        foreach (var path in Directory.GetFiles(Path.Combine(Repo.Codelets, "suites"), "*.yaml").Order(StringComparer.Ordinal))
        {
            var lines = File.ReadAllLines(path);
            for (var i = 0; i < lines.Length; i++)
            {
                var match = LayerLine().Match(lines[i]);
                if (!match.Success)
                {
                    continue;
                }

                var fields = match.Groups["fields"].Value.Split(',')
                    .Select(field => field.Split(':', 2, StringSplitOptions.TrimEntries))
                    .ToDictionary(pair => pair[0], pair => pair[1], StringComparer.Ordinal);
                var bindings = fields.Where(f => f.Key is not ("name" or "codelet"))
                    .ToDictionary(f => f.Key, f => long.Parse(f.Value, CultureInfo.InvariantCulture), StringComparer.Ordinal);
                yield return new SuiteLayer(fields["name"], fields["codelet"], bindings, new SourceLocation(path, i + 1, match.Groups["fields"].Index));
            }
        }
    }

    [GeneratedRegex(@"^\s*-\s*\{(?<fields>.*)\}\s*$")]
    private static partial Regex LayerLine();
}
