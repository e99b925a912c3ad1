using System.Collections.Immutable;
using Covenant.Acg.Model;
using Covenant.Core.Diagnostics;
using Covenant.Mapping.Model;
using Covenant.Runtime.Execution;

namespace Covenant.Compiler.Compare;

/// <summary>Builds the cells of a comparison from a mapping, a failure, or a run.</summary>
public static class CellFactory
{
    /// <summary>
    /// A predicted cell: the target's timing model of the emitted program where it gave one
    /// (<paramref name="targetPredictedCycles"/>), else the mapper's cost model.
    /// </summary>
    public static CompareCell FromMapping(string layer, LayerMapping mapping, double? targetPredictedCycles, double compileSeconds)
    {
        ArgumentNullException.ThrowIfNull(mapping);
        var graph = mapping.Graph;
        var node = graph.ComputeNode(mapping.ComputeNode);
        var capability = node.FindCapability(mapping.Capability)!;
        var peak = capability.OperationsPerIssue / capability.IntervalCycles * Math.Max(1, node.Count);
        var cycles = targetPredictedCycles ?? mapping.Cost.Cycles;
        var bound = mapping.ComputeBoundCycles;
        return new CompareCell(
            layer,
            graph.Name,
            CellStatus.Ok,
            null,
            cycles,
            graph.ClockHz is { } hz && hz > 0 ? cycles / hz : null,
            CycleSource.Predicted,
            targetPredictedCycles is null ? "cost model" : "target timing model",
            null,
            cycles > 0 ? bound / cycles : null,
            mapping.UsefulOperations,
            DramBytes(mapping),
            null,
            peak,
            bound,
            mapping.Cost.Cycles,
            Occupancy(mapping),
            Embedding(mapping),
            Tiles(mapping),
            compileSeconds);
    }

    /// <summary>A cell for a layer that did not compile or run, with the first error as the reason.</summary>
    public static CompareCell Failed(string layer, string architecture, CellStatus status, IEnumerable<Diagnostic> diagnostics, double compileSeconds) =>
        new(layer, architecture, status, ComparisonDriver.FirstError(diagnostics), null, null, null, null, null, null,
            0, null, null, null, null, null, [], null, null, compileSeconds);

    /// <summary>
    /// The predicted cell updated with what a run measured. An engine that timed real hardware
    /// (<see cref="TimingSource.Measured"/>) gives seconds, converted to cycles at the architecture's clock; any other engine is a simulator, whose cycles count
    /// and whose seconds (its own run time) do not. A simulator that counts no cycles keeps the prediction, but its outputs
    /// were still verified.
    /// </summary>
    public static CompareCell WithRun(CompareCell predicted, RunOutcome run, double? clockHz)
    {
        ArgumentNullException.ThrowIfNull(predicted);
        ArgumentNullException.ThrowIfNull(run);
        var native = run.Timing == TimingSource.Measured;
        var hz = clockHz is > 0 ? clockHz : null;
        double? cycles, seconds;
        CycleSource source;
        if (native && (run.Seconds ?? run.Cycles) is not null)
        {
            (cycles, seconds, source) = run.Seconds is { } measured
                ? (measured * hz, measured, CycleSource.Measured)
                : (run.Cycles, run.Cycles / hz, CycleSource.Measured);
        }
        else if (!native && run.Cycles is { } simulated)
        {
            (cycles, seconds, source) = (simulated, simulated / hz, CycleSource.Simulated);
        }
        else
        {
            // A simulator that counts no cycles (its seconds are its own run time, not the hardware's): keep the prediction.
            (cycles, seconds, source) = (predicted.Cycles, predicted.Seconds, CycleSource.Predicted);
        }

        return predicted with
        {
            Status = run.Match ? CellStatus.Ok : CellStatus.Mismatch,
            Reason = run.Match ? null : run.Summary,
            Cycles = cycles,
            Seconds = seconds,
            Source = source,
            Engine = source == CycleSource.Predicted ? $"{predicted.Engine} (verified on {run.Engine})" : run.Engine,
            Match = run.Match,
            Utilization = cycles is > 0 && predicted.ComputeBoundCycles is { } bound ? bound / cycles : null,
            MeasuredDramBytes = run.DramBytes is { } bytes ? (long)Math.Round(bytes) : null,
        };
    }

    /// <summary>
    /// Off-chip traffic of the chosen mapping, from the cost model: what fills the outermost on-chip level (the outermost
    /// <see cref="LayerMapping.Levels"/> entry, or each operand tensor when the operands come straight from off-chip
    /// memory), plus the accumulator's stores.
    /// </summary>
    public static long DramBytes(LayerMapping mapping)
    {
        ArgumentNullException.ThrowIfNull(mapping);
        var traffic = mapping.Cost.TrafficBytes;
        var tensors = mapping.Instance.Tensors.Select(t => t.Name).ToHashSet(StringComparer.Ordinal);
        var loads = mapping.Levels.IsEmpty
            ? traffic.Where(t => tensors.Contains(t.Key) && t.Key != mapping.Accumulator).Sum(t => t.Value)
            : mapping.Levels[0].TrafficBytes;
        return loads + traffic.GetValueOrDefault(mapping.Accumulator);
    }

    /// <summary>
    /// Bytes each on-chip storage node holds: the tile of every outer level (<see cref="LayerMapping.Levels"/>), and in
    /// the operand storage the tile footprints of the tensors placed there (an operand lives where the capability puts it;
    /// tensors the epilogue reads sit beside the accumulator), doubled where the mapping double-buffers the storage.
    /// </summary>
    public static ImmutableArray<StorageOccupancy> Occupancy(LayerMapping mapping)
    {
        ArgumentNullException.ThrowIfNull(mapping);
        var accumulatorStorage = mapping.Operands.FirstOrDefault(o => o.Tensor == mapping.Accumulator)?.Storage;
        var tensors = mapping.Instance.Tensors.Select(t => t.Name).ToHashSet(StringComparer.Ordinal);
        var bytes = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var level in mapping.Levels)
        {
            bytes[level.Storage] = bytes.GetValueOrDefault(level.Storage) + level.FootprintBytes;
        }

        foreach (var (tensor, footprint) in mapping.Cost.FootprintBytes.Where(f => tensors.Contains(f.Key)))
        {
            var storage = mapping.Operands.FirstOrDefault(o => o.Tensor == tensor)?.Storage ?? accumulatorStorage;
            if (storage is not null)
            {
                bytes[storage] = bytes.GetValueOrDefault(storage) + footprint;
            }
        }

        return [.. mapping.Graph.Storage
            .Where(s => !s.Offchip && bytes.ContainsKey(s.Name))
            .Select(s => new StorageOccupancy(s.Name, bytes[s.Name] * (mapping.DoubleBuffered.Contains(s.Name) ? 2 : 1), s.CapacityBytes))];
    }

    public static string Embedding(LayerMapping mapping)
    {
        ArgumentNullException.ThrowIfNull(mapping);
        var unused = mapping.Embedding.Where(e => e.Loop is null).Select(e => e.Axis).ToList();
        return string.Join(" ", mapping.Embedding.Where(e => e.Loop is not null).Select(e => $"{e.Axis}<-{e.Loop}")) +
            (unused.Count > 0 ? $" ({string.Join(",", unused)} unused)" : "") + $" on {mapping.ComputeNode}.{mapping.Capability}";
    }

    public static string Tiles(LayerMapping mapping)
    {
        ArgumentNullException.ThrowIfNull(mapping);
        return string.Join(" ", mapping.Loops.Select(l => $"{l.Loop}={l.Tile}/{l.PaddedExtent}")) + "; order " + string.Join(",", mapping.TileOrder);
    }
}
