using System.Text.Json;
using Covenant.Testing;
using Onnx;
using static Covenant.Cli.Tests.OnnxProtos;
using DataType = Onnx.TensorProto.Types.DataType;

namespace Covenant.Cli.Tests;

/// <summary>
/// <c>covenantc network --check</c> (the run against ONNX Runtime, per output, in text and JSON) and <c>-o</c> (each
/// compiled layer's artifact, which <c>covenantc run</c> reruns, and network.json).
/// </summary>
public sealed class NetworkCheckCommandTests
{
    private string directory = "";

    [SetUp]
    public void CreateDirectory()
    {
        directory = Path.Combine(Path.GetTempPath(), "covenant-network-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory);
    }

    [TearDown]
    public void DeleteDirectory() => Directory.Delete(directory, true);

    private static string Vta => Repo.PathOf("architectures", "vta.yaml");

    [Test]
    public void TheQuantizedMlpMatchesOnnxRuntimeOnVta()
    {
        var run = CliRun.Of("network", WriteQuantizedMlp(), "--arch", Vta, "--check");
        Assert.That(run.ExitCode, Is.Zero, run.ToString());
        Assert.That(run.Out, Does.Contain("check against ONNX Runtime 1.").And.Contain("graph optimizations off"));
        Assert.That(run.Out, Does.Contain("  y: int32[4, 16], 64 values, exact: matches"));
        Assert.That(run.Out, Does.Contain("check: every graph output matches ONNX Runtime"));
        Assert.That(run.Error, Is.Empty);
    }

    [Test]
    public void JsonCarriesTheCheckPerOutput()
    {
        var run = CliRun.Of("network", WriteQuantizedMlp(), "--arch", Vta, "--check", "--json", "--seed", "4");
        Assert.That(run.ExitCode, Is.Zero, run.ToString());
        using var json = JsonDocument.Parse(run.Out);
        var check = json.RootElement.GetProperty("check");
        Assert.That(check.GetProperty("matches").GetBoolean(), Is.True);
        Assert.That(check.GetProperty("oracle").GetString(), Does.StartWith("ONNX Runtime 1."));
        var y = check.GetProperty("outputs").EnumerateArray().Single();
        Assert.That(y.GetProperty("name").GetString(), Is.EqualTo("y"));
        Assert.That((y.GetProperty("exact").GetBoolean(), y.GetProperty("elements").GetInt32(), y.GetProperty("mismatches").GetInt32()), Is.EqualTo((true, 64, 0)));
        Assert.That(y.GetProperty("bound").ValueKind, Is.EqualTo(JsonValueKind.Null));

        var unchecked_ = JsonDocument.Parse(CliRun.Of("network", WriteQuantizedMlp(), "--arch", Vta, "--json").Out);
        Assert.That(unchecked_.RootElement.GetProperty("check").ValueKind, Is.EqualTo(JsonValueKind.Null), "no --check, no check");
    }

    [Test]
    public void AFloatModelReportsItsBound()
    {
        var run = CliRun.Of("network", WriteFloatMlp(), "--arch", Vta, "--check");
        Assert.That(run.ExitCode, Is.Zero, run.ToString());
        Assert.That(run.Out, Does.Match(@"  y: float\[2, 6\], 12 values, within 0\.01 x max\|ort\| = [0-9.eE+-]+, worst \|diff\| [0-9.eE+-]+: matches"));

        var json = CliRun.Of("network", WriteFloatMlp(), "--arch", Vta, "--check", "--json");
        using var document = JsonDocument.Parse(json.Out);
        var y = document.RootElement.GetProperty("check").GetProperty("outputs")[0];
        Assert.That(y.GetProperty("exact").GetBoolean(), Is.False);
        Assert.That(y.GetProperty("worstError").GetDouble(), Is.LessThanOrEqualTo(y.GetProperty("bound").GetDouble()));
        Assert.That(document.RootElement.GetProperty("check").GetProperty("floatTolerance").GetDouble(), Is.EqualTo(0.01));
    }

    [Test]
    public void KeptLayerArtifactsRerunAndNetworkJsonHasEveryNode()
    {
        var output = Path.Combine(directory, "out");
        var run = CliRun.Of("network", WriteQuantizedMlp(), "--arch", Vta, "-o", output);
        Assert.That(run.ExitCode, Is.Zero, run.ToString());
        Assert.That(Directory.GetDirectories(output).Select(Path.GetFileName), Is.EquivalentTo(new[] { "fc1", "fc2" }));

        var rerun = CliRun.Of("run", Path.Combine(output, "fc2"));
        Assert.That(rerun.ExitCode, Is.Zero, rerun.ToString());

        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(output, "network.json")));
        var nodes = json.RootElement.GetProperty("nodes").EnumerateArray().ToList();
        Assert.That(nodes.Select(n => n.GetProperty("name").GetString()), Is.EqualTo(new[] { "fc1", "dq1", "relu1", "q1", "fc2" }));
        Assert.That(nodes[0].GetProperty("artifact").GetString(), Is.EqualTo(Path.Combine(output, "fc1")));
        Assert.That(nodes[1].GetProperty("artifact").ValueKind, Is.EqualTo(JsonValueKind.Null));
        Assert.That(nodes[4].GetProperty("cycles").GetDouble(), Is.GreaterThan(0));
    }

    [Test]
    public void AnOutputThatIsAFileIsOneMessage()
    {
        var blocker = Path.Combine(directory, "file");
        File.WriteAllText(blocker, "");
        var run = CliRun.Of("network", WriteQuantizedMlp(), "--arch", Vta, "-o", blocker);
        Assert.That(run.ExitCode, Is.EqualTo(1), run.ToString());
        Assert.That(run.ErrorLines.First(), Does.Contain("COV0004"));
        Assert.That(run.Error, Does.Not.Contain("System.").And.Not.Contain(" at "));
    }

    /// <summary>The quantized MLP of the ONNX tests' fixtures: QLinearMatMul, QDQ ReLU, MatMulInteger with per-column zero points.</summary>
    private string WriteQuantizedMlp()
    {
        var random = new Random(1);
        var graph = new GraphProto { Name = "quantized_mlp" };
        graph.Input.Add(Value("x", DataType.Uint8, 4, 32));
        graph.Initializer.Add(Floats("x_scale", [], 0.05f));
        graph.Initializer.Add(Integers("x_zero", DataType.Uint8, [], 120));
        graph.Initializer.Add(Integers("w1", DataType.Int8, [32, 64], [.. Enumerable.Range(0, 32 * 64).Select(_ => random.Next(-128, 128))]));
        graph.Initializer.Add(Floats("w1_scale", [], 0.01f));
        graph.Initializer.Add(Integers("w1_zero", DataType.Int8, [], 0));
        graph.Initializer.Add(Floats("h1_scale", [], 0.2f));
        graph.Initializer.Add(Integers("h1_zero", DataType.Uint8, [], 100));
        graph.Initializer.Add(Floats("h2_scale", [], 0.1f));
        graph.Initializer.Add(Integers("h2_zero", DataType.Int8, [], -3));
        graph.Initializer.Add(Integers("w2", DataType.Int8, [64, 16], [.. Enumerable.Range(0, 64 * 16).Select(_ => random.Next(-128, 128))]));
        graph.Initializer.Add(Integers("w2_zero", DataType.Int8, [16], [.. Enumerable.Range(0, 16).Select(i => (i % 5) - 2)]));
        graph.Node.Add(Node("QLinearMatMul", "fc1", ["x", "x_scale", "x_zero", "w1", "w1_scale", "w1_zero", "h1_scale", "h1_zero"], "h1"));
        graph.Node.Add(Node("DequantizeLinear", "dq1", ["h1", "h1_scale", "h1_zero"], "h1_float"));
        graph.Node.Add(Node("Relu", "relu1", ["h1_float"], "h1_relu"));
        graph.Node.Add(Node("QuantizeLinear", "q1", ["h1_relu", "h2_scale", "h2_zero"], "h2"));
        graph.Node.Add(Node("MatMulInteger", "fc2", ["h2", "w2", "h2_zero", "w2_zero"], "y"));
        graph.Output.Add(Value("y", DataType.Int32, 4, 16));
        return Write(graph);
    }

    /// <summary>A float MLP (MatMul, Relu, MatMul): its layers use f16 operands, so the check is bounded.</summary>
    private string WriteFloatMlp()
    {
        var random = new Random(3);
        var graph = new GraphProto { Name = "float_mlp" };
        graph.Input.Add(Value("x", DataType.Float, 2, 24));
        graph.Initializer.Add(Floats("w1", [24, 16], [.. Enumerable.Range(0, 24 * 16).Select(_ => (float)((random.NextDouble() * 2) - 1))]));
        graph.Initializer.Add(Floats("w2", [16, 6], [.. Enumerable.Range(0, 16 * 6).Select(_ => (float)((random.NextDouble() * 2) - 1))]));
        graph.Node.Add(Node("MatMul", "fc1", ["x", "w1"], "h"));
        graph.Node.Add(Node("Relu", "relu", ["h"], "hr"));
        graph.Node.Add(Node("MatMul", "fc2", ["hr", "w2"], "y"));
        graph.Output.Add(Value("y", DataType.Float, 2, 6));
        return Write(graph);
    }

    private string Write(GraphProto graph) => OnnxProtos.Write(directory, graph);
}
