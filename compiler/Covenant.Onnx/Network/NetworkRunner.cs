using System.Collections.Immutable;
using System.Diagnostics;
using Covenant.Core.Diagnostics;
using Covenant.Onnx.Host;
using Covenant.Onnx.Import;
using Covenant.Runtime;
using DataType = Onnx.TensorProto.Types.DataType;

namespace Covenant.Onnx.Network;

/// <summary>How one codelet layer ran: its result (the codelet's output), where, and what it cost.</summary>
/// <param name="Engine">Where it ran, for people: "VTA simulator", "native AVX-512 VNNI", or "host (reference interpreter): why".</param>
/// <param name="OnAccelerator">False when the layer fell back to the host (it does not map on the architecture).</param>
/// <param name="MatchesReference">The accelerator's result equals the reference interpreter's (null: not compared).</param>
public sealed record LayerExecution(
    TensorData Result,
    string Engine,
    bool OnAccelerator,
    double? Cycles,
    double? Seconds,
    double? Utilization,
    double CompileSeconds,
    bool? MatchesReference)
{
    /// <summary>What the cycles and time are, as the executor says (simulated or measured); null when the layer ran on the host.</summary>
    public string? Timing { get; init; }

    /// <summary>The folder the layer's artifact was kept in (<c>covenantc network -o</c>); null when not kept.</summary>
    public string? Artifact { get; init; }
}

/// <summary>Runs a codelet layer on some machine: an architecture's target, or the reference interpreter.</summary>
public interface ILayerExecutor
{
    LayerExecution Execute(CodeletLayer layer, IReadOnlyDictionary<string, TensorData> operands);
}

/// <summary>One node of a network run: where it ran and, for a layer, how.</summary>
/// <param name="HostSeconds">Time on the host: the whole node for a host node; for a layer, its host steps and the reference
/// check (not its compilation nor its execution).</param>
public sealed record NodeRun(ImportedNode Node, LayerExecution? Layer, double HostSeconds)
{
    public string RanOn => Layer is { } l ? (Node.Placement == NodePlacement.AcceleratorAndHost && l.OnAccelerator ? l.Engine + " + host steps" : l.Engine) : "host";
}

/// <summary>A whole network run: every node in graph order and the graph's outputs.</summary>
public sealed record NetworkRun(ImmutableArray<NodeRun> Nodes, ImmutableDictionary<string, HostTensor> Outputs)
{
    public long AcceleratorMacs => Nodes.Where(n => n.Layer is { OnAccelerator: true }).Sum(n => n.Node.Layer!.Macs);

    public long LayerMacs => Nodes.Where(n => n.Node.Layer is not null).Sum(n => n.Node.Layer!.Macs);

    public double? AcceleratorCycles => Nodes.Any(n => n.Layer?.Cycles is not null) ? Nodes.Sum(n => n.Layer?.Cycles ?? 0) : null;

    public bool AllMatchReference => Nodes.All(n => n.Layer?.MatchesReference != false);
}

/// <summary>
/// Runs an imported network in graph order, the outputs of one node feeding the next: each codelet layer through
/// <see cref="ILayerExecutor"/> with the host steps around it (<see cref="LayerHostSteps"/>), every other node through
/// <see cref="HostOps"/>.
/// </summary>
public static class NetworkRunner
{
    public static readonly DiagnosticDescriptor NoHostImplementation = new("COV7010", "no host implementation for a node");

    public static Result<NetworkRun> Run(ImportedModel model, IReadOnlyDictionary<string, HostTensor> inputs, ILayerExecutor executor)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentNullException.ThrowIfNull(executor);
        var values = new Dictionary<string, HostTensor>(inputs, StringComparer.Ordinal);
        HostTensor Value(string name) => values.TryGetValue(name, out var v) ? v : HostTensor.Of(model.Constants[name]);
        var runs = ImmutableArray.CreateBuilder<NodeRun>();
        foreach (var node in model.Nodes)
        {
            var outputType = model.Values[node.Outputs[0]];
            var clock = Stopwatch.StartNew();
            if (node.Layer is { } layer)
            {
                var operands = LayerHostSteps.Operands(layer, Value);
                var execution = executor.Execute(layer, operands);
                values[node.Outputs[0]] = LayerHostSteps.Result(layer, outputType, operands, execution.Result, Value);
                runs.Add(new NodeRun(node, execution, Math.Max(0, clock.Elapsed.TotalSeconds - (execution.Seconds ?? 0) - execution.CompileSeconds)));
                continue;
            }

            var result = HostOps.Run(node, outputType, Value);
            if (result is null)
            {
                return Result<NetworkRun>.Failure(NoHostImplementation.Create(SourceLocation.OfFile(model.Path),
                    $"{node.Label}: its shape is known but the host cannot run '{node.OpType}' yet (it runs {string.Join(", ", HostOps.Implemented)})"));
            }

            values[node.Outputs[0]] = result;
            runs.Add(new NodeRun(node, null, clock.Elapsed.TotalSeconds));
        }

        return Result<NetworkRun>.Success(new NetworkRun(runs.ToImmutable(),
            model.GraphOutputs.ToImmutableDictionary(o => o, o => values[o], StringComparer.Ordinal)));
    }

    /// <summary>Seeded inputs for every graph input: integers over their type's range, floats in [-1, 1).</summary>
    public static ImmutableDictionary<string, HostTensor> RandomInputs(ImportedModel model, ulong seed)
    {
        ArgumentNullException.ThrowIfNull(model);
        var random = new Random(unchecked((int)seed ^ (int)(seed >> 32)));
        return model.GraphInputs.ToImmutableDictionary(name => name, name =>
        {
            var type = model.Values[name];
            var count = (int)type.ElementCount;
            if (type.ElementType == DataType.Float)
            {
                return HostTensor.OfFloats(type.Shape, [.. Enumerable.Range(0, count).Select(_ => (float)((random.NextDouble() * 2) - 1))]);
            }

            var (low, high) = HostTensor.Range(type.ElementType);
            return HostTensor.OfIntegers(type.ElementType, type.Shape, [.. Enumerable.Range(0, count).Select(_ => random.Next(low, high + 1))]);
        }, StringComparer.Ordinal);
    }
}
