using Covenant.Testing;
using Onnx;
using static Covenant.Cli.Tests.OnnxProtos;
using DataType = Onnx.TensorProto.Types.DataType;

namespace Covenant.Cli.Tests;

/// <summary><c>covenantc import</c> end to end: the table, <c>-o</c>'s suite (which <c>covenantc suite</c> compiles and runs), <c>--json</c>, bad files.</summary>
public sealed class ImportCommandTests
{
    private string directory = "";

    [SetUp]
    public void CreateDirectory()
    {
        directory = Path.Combine(Path.GetTempPath(), "covenant-import-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory);
    }

    [TearDown]
    public void DeleteDirectory() => Directory.Delete(directory, true);

    /// <summary>A two-layer int8 MLP: MatMulInteger (exact on the accelerator), Relu on int32 (host), MatMulInteger with a zero point.</summary>
    private string WriteMlp()
    {
        var graph = new GraphProto { Name = "mlp" };
        graph.Input.Add(Value("x", DataType.Int8, 2, 16));
        graph.Initializer.Add(Int8s("w1", [16, 32], 1));
        graph.Initializer.Add(Int8s("w2", [16, 8], 2));
        graph.Initializer.Add(Int8s("z", [], 3));
        graph.Node.Add(Node("MatMulInteger", "fc1", ["x", "w1"], "h"));
        graph.Node.Add(Node("Relu", "relu", ["h"], "hr"));
        graph.Node.Add(Node("MatMulInteger", "fc2", ["x", "w2", "z"], "unused"));
        graph.Output.Add(Value("hr", DataType.Int32, 2, 32));
        return Write(directory, graph);
    }

    [Test]
    public void TheTableListsEveryNodeAndTheSuiteRunsOnVta()
    {
        var suitePath = Path.Combine(directory, "out", "mlp.yaml");
        var run = CliRun.Of("import", WriteMlp(), "-o", suitePath);
        Assert.That(run.ExitCode, Is.Zero, run.ToString());
        Assert.That(run.Out, Does.Contain("fc1").And.Contain("gemm").And.Contain("M=2,N=32,K=16").And.Contain("1,024"));
        Assert.That(run.Out, Does.Contain("exact on the accelerator"));
        Assert.That(run.Out, Does.Contain("relu").And.Contain("host").And.Contain("element-wise"));
        Assert.That(run.Out, Does.Contain("zero-point correction"));
        Assert.That(File.ReadAllText(suitePath), Does.Contain("{name: fc1, codelet: gemm, M: 2, N: 32, K: 16}").And.Contain("relu [Relu] h -> hr"));

        var suite = CliRun.Of("suite", suitePath, "--arch", Repo.PathOf("architectures", "vta.yaml"), "--codelets", Repo.Codelets);
        Assert.That(suite.ExitCode, Is.Zero, suite.ToString());
        Assert.That(suite.Out, Does.Contain("fc1").And.Contain("fc2"));
    }

    [Test]
    public void JsonListsNodesWithBindings()
    {
        var run = CliRun.Of("import", WriteMlp(), "--json");
        Assert.That(run.ExitCode, Is.Zero, run.ToString());
        using var json = System.Text.Json.JsonDocument.Parse(run.Out);
        var nodes = json.RootElement.GetProperty("nodes");
        Assert.That(nodes.GetArrayLength(), Is.EqualTo(3));
        Assert.That(nodes[0].GetProperty("bindings").GetProperty("K").GetInt64(), Is.EqualTo(16));
        Assert.That(nodes[1].GetProperty("runsOn").GetString(), Is.EqualTo("host"));
        Assert.That(json.RootElement.GetProperty("acceleratorMacs").GetInt64(), Is.EqualTo((2 * 32 * 16) + (2 * 8 * 16)));
    }

    [Test]
    public void ATruncatedModelIsOneMessageAndExitOne()
    {
        var path = WriteMlp();
        var bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..(bytes.Length - 7)]);
        var run = CliRun.Of("import", path);
        Assert.That(run.ExitCode, Is.EqualTo(1), run.ToString());
        Assert.That(run.ErrorLines.Single(), Does.Contain("error COV7000"));
        Assert.That(run.Error, Does.Not.Contain("System.").And.Not.Contain(" at "));
    }

    [Test]
    public void TheNetworkRunsOnVtaLayerByLayer()
    {
        var run = CliRun.Of("network", WriteMlp(), "--arch", Repo.PathOf("architectures", "vta.yaml"));
        Assert.That(run.ExitCode, Is.Zero, run.ToString());
        Assert.That(run.Out, Does.Contain("fc1").And.Contain("VTA simulator").And.Contain("= reference"));
        Assert.That(run.Out, Does.Contain("relu").And.Contain("host"));
        Assert.That(run.Out, Does.Contain("(100.0 %) on the accelerator").And.Contain("output hr: int32[2, 32]"));

        var json = CliRun.Of("network", WriteMlp(), "--arch", Repo.PathOf("architectures", "vta.yaml"), "--json", "--seed", "3");
        Assert.That(json.ExitCode, Is.Zero, json.ToString());
        using var document = System.Text.Json.JsonDocument.Parse(json.Out);
        Assert.That(document.RootElement.GetProperty("nodes")[0].GetProperty("cycles").GetDouble(), Is.GreaterThan(0));
        Assert.That(document.RootElement.GetProperty("acceleratorMacs").GetInt64(), Is.EqualTo(document.RootElement.GetProperty("layerMacs").GetInt64()));
    }

    [Test]
    public void TheNetworkNeedsAnArchitectureThatExists()
    {
        var run = CliRun.Of("network", WriteMlp(), "--arch", Path.Combine(directory, "none.yaml"));
        Assert.That((run.ExitCode, run.Error), Is.EqualTo((1, run.Error)));
        Assert.That(run.Error, Does.Contain("COV0001"));
    }

    [Test]
    public void AMissingModelIsFileNotFound() =>
        Assert.That(CliRun.Of("import", Path.Combine(directory, "none.onnx")).Error, Does.Contain("COV0001"));

    private static TensorProto Int8s(string name, long[] shape, int seed)
    {
        var random = new Random(seed);
        var count = (int)shape.Aggregate(1L, (p, d) => p * d);
        return Integers(name, DataType.Int8, shape, [.. Enumerable.Range(0, count).Select(_ => random.Next(256))]);
    }
}
