using System.Collections.Immutable;
using Covenant.Onnx.Host;
using Covenant.Onnx.Import;
using Covenant.Onnx.Oracle;
using Covenant.Runtime;
using Covenant.Runtime.Reference;
using Covenant.Testing;
using Google.Protobuf;
using Onnx;
using DataType = Onnx.TensorProto.Types.DataType;

namespace Covenant.Onnx.Tests;

/// <summary>One imported layer checked against ONNX Runtime: the node alone as a one-node model, seeded inputs.</summary>
public sealed record LayerCheck(string Node, string Codelet, bool Exact, int Elements, int Mismatches, double WorstError, double WorstBound, string First)
{
    /// <summary>Distinct values among ONNX Runtime's outputs: a layer that saturates everything would prove little.</summary>
    public int DistinctExpected { get; init; }

    public override string ToString() =>
        $"{Node} ({Codelet}): {Elements} outputs ({DistinctExpected} distinct), {(Exact ? "exact" : "bounded")}, mismatches {Mismatches}" +
        (Exact ? "" : $", worst |diff| {WorstError:G3} (bound {WorstBound:G3})") + (Mismatches > 0 ? $"; first: {First}" : "");
}

/// <summary>
/// Runs a node through ONNX Runtime on its own and through Covenant (host steps around the codelet instance on the
/// reference interpreter), on the same seeded inputs.
/// </summary>
public static class OrtOracle
{
    public static LayerCheck Check(ModelProto model, ImportedModel imported, ImportedNode node, int seed)
    {
        var layer = node.Layer!;
        var random = new Random(seed);
        var runtimeInputs = node.Inputs.Where(i => i.Length > 0 && !imported.Constants.ContainsKey(i)).Distinct().ToList();
        var values = runtimeInputs.ToDictionary(i => i, i => RandomTensor(imported.Values[i], random));
        HostTensor Value(string name) => values.TryGetValue(name, out var v) ? v : HostTensor.Of(imported.Constants[name]);

        var output = node.Outputs[0];
        var outputType = imported.Values[output];
        var expected = RunOrt(OneNodeModel(model, imported, node), values, output);

        var operands = LayerHostSteps.Operands(layer, Value);
        var instance = Shipped.Codelet(layer.Codelet).Instantiate(layer.Bindings);
        Assert.That(instance.Diagnostics, Is.Empty);
        var accumulation = ReferenceInterpreter.Run(instance.Value!, operands).Values.Single();
        var actual = LayerHostSteps.Result(layer, outputType, operands, accumulation, Value);

        if (!actual.IsFloat)
        {
            var mismatches = Enumerable.Range(0, expected.Length).Where(i => actual.Integers[i] != expected[i]).ToList();
            var first = mismatches.Count == 0 ? "" : $"[{mismatches[0]}] covenant {actual.Integers[mismatches[0]]} ort {expected[mismatches[0]]}";
            return new LayerCheck(node.Name, layer.Codelet, true, expected.Length, mismatches.Count, 0, 0, first)
            {
                DistinctExpected = expected.Distinct().Count(),
            };
        }

        // Float layers: the codelet rounds f32 operands to f16 (each product off by at most 2^-10 of |x·w|) and
        // accumulates in f32; the bound per output is 2^-9 · |alpha| · Σ|x·w|, from the instance run on |x| and |w|.
        var absolute = operands.ToDictionary(o => o.Key, o => TensorData.FromFloats(o.Value.ElementType, o.Value.Shape,
            o.Value.Floats.ToArray().Select(MathF.Abs).ToArray()));
        var magnitude = LayerHostSteps.Result(layer with { Operands = layer.Operands with { Bias = null } }, outputType, absolute,
            ReferenceInterpreter.Run(instance.Value!, absolute).Values.Single(), Value);
        int count = 0;
        double worst = 0, worstBound = 0;
        var firstText = "";
        for (var i = 0; i < expected.Length; i++)
        {
            var bound = (Math.Abs(magnitude.Floats[i]) * Math.Pow(2, -9)) + 1e-6;
            var error = Math.Abs(actual.Floats[i] - expected[i]);
            if (error / bound > worst / Math.Max(worstBound, 1e-30))
            {
                (worst, worstBound) = (error, bound);
            }

            if (error > bound && count++ == 0)
            {
                firstText = $"[{i}] covenant {actual.Floats[i]} ort {expected[i]} bound {bound}";
            }
        }

        return new LayerCheck(node.Name, layer.Codelet, false, expected.Length, count, worst, worstBound, firstText)
        {
            DistinctExpected = expected.Distinct().Count(),
        };
    }

    /// <summary>The node alone: its runtime inputs as graph inputs, its constants as initializers, its output typed.</summary>
    public static byte[] OneNodeModel(ModelProto model, ImportedModel imported, ImportedNode node)
    {
        var graph = new GraphProto { Name = node.Name };
        graph.Node.Add(model.Graph.Node[node.Index].Clone());
        foreach (var input in node.Inputs.Where(i => i.Length > 0).Distinct())
        {
            if (imported.Constants.ContainsKey(input))
            {
                graph.Initializer.Add(model.Graph.Initializer.First(t => t.Name == input).Clone());
            }
            else
            {
                graph.Input.Add(OnnxModelBuilder.ValueInfo(input, imported.Values[input].ElementType, [.. imported.Values[input].Shape]));
            }
        }

        var output = imported.Values[node.Outputs[0]];
        graph.Output.Add(OnnxModelBuilder.ValueInfo(node.Outputs[0], output.ElementType, [.. output.Shape]));
        var single = new ModelProto { IrVersion = model.IrVersion, Graph = graph };
        single.OpsetImport.AddRange(model.OpsetImport);
        return single.ToByteArray();
    }

    public static HostTensor RandomTensor(OnnxTensorType type, Random random)
    {
        var count = (int)type.ElementCount;
        if (type.ElementType == DataType.Float)
        {
            return HostTensor.OfFloats(type.Shape, [.. Enumerable.Range(0, count).Select(_ => (float)((random.NextDouble() * 2) - 1))]);
        }

        var (low, high) = HostTensor.Range(type.ElementType);
        return HostTensor.OfIntegers(type.ElementType, type.Shape, [.. Enumerable.Range(0, count).Select(_ => random.Next(low, high + 1))]);
    }

    /// <summary>Runs a model in the library's oracle (ONNX Runtime, graph optimizations off) and returns its one output as doubles.</summary>
    public static double[] RunOrt(byte[] model, IReadOnlyDictionary<string, HostTensor> inputs, string output)
    {
        var run = OnnxRuntimeOracle.Run("model.onnx", model, inputs, [output]);
        Assert.That(run.Diagnostics, Is.Empty);
        return run.Value![output];
    }

    public static ImmutableArray<LayerCheck> CheckAll(OnnxModelBuilder builder, string name, int seed)
    {
        var model = builder.Build();
        var imported = OnnxImporter.Import(name, model.ToByteArray());
        Assert.That(imported.Diagnostics, Is.Empty);
        return [.. imported.Value!.Nodes.Where(n => n.Layer is not null).Select((n, i) => Check(model, imported.Value, n, seed + i))];
    }
}
