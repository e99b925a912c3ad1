using System.Collections.Immutable;
using Covenant.Acg.Model;
using Covenant.Acg.Queries;
using Covenant.Codelets;
using Covenant.Mapping.Analysis;
using Covenant.Mapping.Model;

namespace Covenant.Mapping.Space;

/// <summary>
/// The analytic cost of a tile choice, from the architecture graph's numbers only: intrinsic issues times
/// the capability's issue interval; per resident tensor, bytes moved (reloaded whenever a tile loop it depends
/// on advances) over the bandwidth of the path that fills or drains its storage, plus that path's latency per
/// transfer; the epilogue's element-wise issues. Transfers from off-chip storage share one port and are
/// summed, as are stores. With double buffering the three streams overlap (the slowest sets the pace, plus one
/// tile to fill the pipeline); without it they add up.
/// </summary>
public sealed class CostModel
{
    private readonly MappingProblem problem;
    private readonly ImmutableArray<Resident> residents;
    private readonly ImmutableDictionary<string, (double Bandwidth, double Latency)> fills;
    private readonly (double Bandwidth, double Latency, long ElementBytes) drain;
    private readonly double epilogueInterval;
    private readonly int outputBytes;
    private readonly ImmutableHashSet<string> registerFiles;

    public CostModel(MappingProblem problem, ImmutableArray<Resident> residents, double epilogueInterval)
    {
        this.problem = problem;
        this.residents = residents;
        this.epilogueInterval = epilogueInterval;
        var queries = new AcgQueries(problem.Graph);
        var offchip = problem.Graph.Offchip.Select(s => s.Name).ToList();
        // A register file is filled from the on-chip level just above it (its tiles are register blocks; the
        // levels above have their own tiles, see LevelTiler); any other storage from off-chip.
        fills = residents.Select(r => r.Storage).Distinct().ToImmutableDictionary(
            storage => storage,
            storage => problem.Graph.StorageNode(storage).RegisterFile
                ? Best(queries.InEdges(storage).Where(e => problem.Graph.FindNode(e.From) is StorageNode { Offchip: false })
                    .Select(e => new AcgPath([e.From, storage], [e])))
                : Best(offchip.SelectMany(o => queries.Paths(o, storage))));
        registerFiles = residents.Select(r => r.Storage).Distinct().Where(s => problem.Graph.StorageNode(s).RegisterFile).ToImmutableHashSet();
        var drainPaths = offchip.SelectMany(o => queries.Paths(problem.Mac.Out.Storage, o, throughCompute: true)).ToList();
        var drainPath = drainPaths.OrderByDescending(p => p.BottleneckBandwidth).FirstOrDefault();
        var (bandwidth, latency) = Best(drainPaths);
        var lastStorage = drainPath?.Nodes.Reverse().Skip(1)
            .Select(n => problem.Graph.FindNode(n)).OfType<StorageNode>().FirstOrDefault();
        drain = (bandwidth, latency, lastStorage?.Element is { } e ? e.Type.Bytes() : 4);
        var output = problem.Nest.Epilogue is { } epilogue
            ? problem.Instance.Tensors.First(t => t.Name == epilogue.Output).ElementType
            : problem.Instance.Tensors[problem.Nest.Accumulator.Tensor].ElementType;
        outputBytes = output.Bytes();
    }

    private static (double Bandwidth, double Latency) Best(IEnumerable<AcgPath> paths)
    {
        var best = paths.OrderByDescending(p => p.BottleneckBandwidth).FirstOrDefault();
        return best is null || double.IsInfinity(best.BottleneckBandwidth) ? (1.0, 0.0) : (best.BottleneckBandwidth, best.TotalLatency);
    }

    public CostEstimate Evaluate(TileChoice choice)
    {
        var loops = problem.Loops;
        var trips = new int[loops.Length];
        var iterations = new int[loops.Length];
        long issues = 1;
        for (var l = 0; l < loops.Length; l++)
        {
            var blocks = problem.Blocks(l);
            trips[l] = (blocks + choice.Blocks[l] - 1) / choice.Blocks[l];
            iterations[l] = Math.Min(choice.Blocks[l] * problem.Intrinsic[l], problem.PaddedExtents[l]);
            issues *= blocks;
        }

        var node = problem.Mac.Node;
        var compute = issues * problem.Mac.Capability.IntervalCycles / Math.Max(1, node.Count);

        // Accumulating in registers, each accumulator block is a dependency chain: fewer chains than the
        // capability's latency over its interval leave the unit idle between dependent issues.
        if (registerFiles.Contains(problem.Mac.Out.Storage))
        {
            long chains = 1;
            for (var l = 0; l < loops.Length; l++)
            {
                if (problem.Roles[l] != LoopRole.Reduction)
                {
                    chains *= choice.Blocks[l];
                }
            }

            var needed = problem.Mac.Capability.LatencyCycles / problem.Mac.Capability.IntervalCycles;
            compute *= Math.Max(1.0, needed / chains);
        }
        var traffic = ImmutableDictionary.CreateBuilder<string, long>();
        var transfer = ImmutableDictionary.CreateBuilder<string, double>();
        var footprint = ImmutableDictionary.CreateBuilder<string, long>();
        double loadCycles = 0, storeCycles = 0, firstLoad = 0, lastStore = 0, epilogue = 0;

        long outputTiles = 1;
        for (var l = 0; l < loops.Length; l++)
        {
            if (problem.Roles[l] != LoopRole.Reduction)
            {
                outputTiles *= trips[l];
            }
        }

        foreach (var resident in residents)
        {
            var rows = Footprints.Rows(resident, choice.Blocks.AsSpan(), iterations);
            var tileBytes = rows * resident.RowBytes;
            footprint[resident.Tensor] = tileBytes;
            if (resident.IsOutput)
            {
                // One store per output tile, of the output's bytes (an i32 result moves 4 bytes per element).
                var accElementBytes = problem.Mac.Out.Type.Bytes();
                var bytes = rows * (resident.RowBytes / accElementBytes) * outputBytes;
                traffic[resident.Tensor] = bytes * outputTiles;
                var cycles = outputTiles * ((bytes / drain.Bandwidth) + drain.Latency);
                transfer[resident.Tensor] = cycles;
                storeCycles += cycles;
                lastStore = (bytes / drain.Bandwidth) + drain.Latency;

                // Element-wise work per output row: the epilogue's steps, and the extra passes a result wider
                // than the drain's element needs (an i32 leaving through 8-bit rows: shift, store, 4 times).
                var passes = Math.Max(1, outputBytes / drain.ElementBytes);
                var steps = (problem.Nest.Epilogue?.Steps.Length ?? 0) + passes - 1;
                epilogue += outputTiles * rows * steps * epilogueInterval;
                continue;
            }

            var loads = LoadCount(resident, choice, trips, outputTiles);
            var (bandwidth, latency) = fills[resident.Storage];

            // A streamed input moves its whole tile, one reduction step at a time (its footprint is one step).
            var movedBytes = resident.StepLoops.IsEmpty ? tileBytes
                : Footprints.TileRows(resident, choice.Blocks.AsSpan(), iterations) * resident.RowBytes;
            traffic[resident.Tensor] = loads * movedBytes;
            var loadTime = loads * ((movedBytes / bandwidth) + (resident.StepLoops.IsEmpty ? latency : 0));
            transfer[resident.Tensor] = loadTime;
            loadCycles += loadTime;
            firstLoad += (movedBytes / bandwidth) + latency;
        }

        // Register files overlap their loads with compute (out-of-order issue, or warps), as double buffers do.
        var inputsOverlap = residents.Where(r => !r.IsOutput).All(r => choice.DoubleBuffered.Contains(r.Storage) || registerFiles.Contains(r.Storage));
        var outputOverlaps = choice.DoubleBuffered.Contains(problem.Mac.Out.Storage);
        var work = compute + epilogue;
        var total = inputsOverlap ? Math.Max(work, loadCycles) + firstLoad : work + loadCycles;
        total = outputOverlaps ? Math.Max(total, storeCycles) + lastStore : total + storeCycles;
        return new CostEstimate(total, compute, traffic.ToImmutable(), transfer.ToImmutable(), footprint.ToImmutable());
    }

    // A tile of an input is reloaded whenever a tile loop it depends on advances, and also whenever a loop
    // inside that one advances (the storage then holds another tile). Tensors the epilogue reads are loaded
    // once per output tile.
    private long LoadCount(Resident resident, TileChoice choice, int[] trips, long outputTiles)
    {
        // A streamed input keeps nothing between tiles: every tile streams its slice again.
        if (!resident.StepLoops.IsEmpty)
        {
            return trips.Aggregate(1L, (product, t) => product * t);
        }

        if (!problem.Loops.Select((_, l) => l).Any(l => Depends(resident, l) && problem.Roles[l] == LoopRole.Reduction)
            && resident.Storage == problem.Mac.Out.Storage)
        {
            return outputTiles;
        }

        return Reloads(resident, choice.Order, trips);
    }

    /// <summary>
    /// How often a storage holding a tile of <paramref name="resident"/> is refilled when the tile loops run in
    /// <paramref name="order"/> (outermost first) with <paramref name="trips"/> tiles each: whenever a loop it depends on
    /// advances, and whenever a loop inside that one does (the storage held another tile meanwhile).
    /// </summary>
    public static long Reloads(Resident resident, ImmutableArray<int> order, ReadOnlySpan<int> trips)
    {
        var innermost = -1;
        for (var position = 0; position < order.Length; position++)
        {
            if (Depends(resident, order[position]) && trips[order[position]] > 1)
            {
                innermost = position;
            }
        }

        long count = 1;
        for (var position = 0; position <= innermost; position++)
        {
            count *= trips[order[position]];
        }

        return count;
    }

    private static bool Depends(Resident resident, int loop) => resident.Dims.Any(d => d.Coefficients[loop] != 0);
}
