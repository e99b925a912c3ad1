using System.Collections.Immutable;
using Covenant.Acg.Model;
using Covenant.Acg.Queries;
using Covenant.Codelets;
using Covenant.Mapping.Analysis;
using Covenant.Mapping.Model;

namespace Covenant.Mapping.Space;

/// <summary>
/// Tiles the on-chip storage levels that sit between off-chip memory and the capability's operand storage (a
/// CPU's L2 and L1 above its register file, a GPU's shared memory above its registers). The Z3 model chooses
/// the innermost tile (at the operand storage); each outer level, from the inside out, then takes a tile that
/// is a whole multiple of the level inside it, holds the full tiles of every operand within its capacity, and
/// moves the least data over the edge that fills it. The search is greedy over the balanced multiples of the
/// inner tile, one loop a step at a time, so it is bounded and deterministic; the cost is the same traffic
/// arithmetic as <see cref="CostModel"/>'s.
/// </summary>
public sealed class LevelTiler
{
    // A hardware cache also holds data the tile does not own (stack, the other operands' stray lines) and evicts
    // by address, not by need: a tile may fill half of it, the usual allowance of blocked BLAS kernels.
    private const double CacheShare = 0.5;

    private readonly MappingProblem problem;
    private readonly ImmutableArray<Resident> residents;
    private readonly ImmutableArray<StorageNode> levels;
    private readonly ImmutableDictionary<string, (double Bandwidth, double Latency)> fill;

    /// <param name="operandResidents">The problem's residents at its operand storage (<see cref="Footprints.Residents"/>).</param>
    public LevelTiler(MappingProblem problem, ImmutableArray<Resident> operandResidents)
    {
        this.problem = problem;
        levels = OuterLevels(problem);
        residents = ElementResidents(problem, operandResidents);
        var queries = new AcgQueries(problem.Graph);
        fill = levels.ToImmutableDictionary(
            level => level.Name,
            level => queries.InEdges(level.Name)
                .Where(e => problem.Graph.FindNode(e.From) is StorageNode from && !levels.Take(levels.IndexOf(level)).Any(inner => inner.Name == from.Name))
                .Select(e => (e.BandwidthBytesPerCycle, e.LatencyCycles))
                .DefaultIfEmpty((1.0, 0.0)).MaxBy(e => e.Item1));
    }

    /// <summary>The levels this problem tiles, innermost first.</summary>
    public ImmutableArray<StorageNode> Levels => levels;

    /// <summary>
    /// On-chip storage on some path from off-chip memory to an input operand's storage, excluding the operand
    /// storages themselves, ordered by distance from them (innermost first).
    /// </summary>
    public static ImmutableArray<StorageNode> OuterLevels(MappingProblem problem)
    {
        var graph = problem.Graph;
        var queries = new AcgQueries(graph);
        var operandStorages = new[] { problem.Mac.A.Storage, problem.Mac.B.Storage, problem.Mac.Out.Storage }.ToHashSet(StringComparer.Ordinal);
        var distance = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var operand in new[] { problem.Mac.A, problem.Mac.B })
        {
            foreach (var offchip in graph.Offchip)
            {
                foreach (var path in queries.Paths(offchip.Name, operand.Storage))
                {
                    for (var n = 1; n < path.Nodes.Length - 1; n++)
                    {
                        var name = path.Nodes[n];
                        if (!operandStorages.Contains(name) && graph.FindNode(name) is StorageNode { Offchip: false })
                        {
                            var hops = path.Nodes.Length - 1 - n;
                            distance[name] = Math.Min(distance.GetValueOrDefault(name, int.MaxValue), hops);
                        }
                    }
                }
            }
        }

        return [.. distance.OrderBy(d => d.Value).ThenBy(d => d.Key, StringComparer.Ordinal).Select(d => graph.StorageNode(d.Key))];
    }

    /// <summary>Tiles for every outer level, outermost first, given the innermost choice.</summary>
    public ImmutableArray<TileLevel> Choose(TileChoice inner)
    {
        var tiles = Enumerable.Range(0, problem.Loops.Length)
            .Select(l => Math.Min(inner.Blocks[l] * problem.Intrinsic[l], problem.PaddedExtents[l])).ToArray();
        var chosen = new List<TileLevel>();
        foreach (var level in levels)
        {
            var capacity = (long)(level.UsableBytes * (level.Cache ? CacheShare : 1.0));
            var unit = (int[])tiles.Clone();
            var (bandwidth, latency) = fill[level.Name];
            var (bestFootprint, bestTraffic, transfers) = Evaluate(tiles, inner.Order);
            var bestCycles = (bestTraffic / bandwidth) + (transfers * latency);
            for (var improved = true; improved;)
            {
                improved = false;
                int[]? bestMove = null;
                for (var l = 0; l < tiles.Length; l++)
                {
                    if (tiles[l] >= problem.PaddedExtents[l])
                    {
                        continue;
                    }

                    // The next balanced multiple of the inner tile: ⌈n/k⌉ units with one tile fewer.
                    var units = (problem.PaddedExtents[l] + unit[l] - 1) / unit[l];
                    var now = tiles[l] / unit[l];
                    var trips = (units + now - 1) / now;
                    var next = (units + trips - 2) / Math.Max(1, trips - 1);
                    var move = (int[])tiles.Clone();
                    move[l] = Math.Min(next * unit[l], problem.PaddedExtents[l]);
                    // Each transfer into the level pays the edge's latency once (a miss, a DMA): fewer, larger tiles win ties.
                    var (footprint, traffic, count) = Evaluate(move, inner.Order);
                    var cycles = (traffic / bandwidth) + (count * latency);
                    if (footprint <= capacity && cycles < bestCycles - 1e-9)
                    {
                        (bestMove, bestFootprint, bestTraffic, bestCycles) = (move, footprint, traffic, cycles);
                    }
                }

                if (bestMove is not null)
                {
                    (tiles, improved) = (bestMove, true);
                }
            }

            chosen.Add(new TileLevel(level.Name, [.. tiles], bestFootprint, bestTraffic, bestCycles));
        }

        chosen.Reverse();
        return [.. chosen];
    }

    /// <summary>The bytes a tile of <paramref name="tiles"/> iterations holds, and the bytes and transfers (tile loads) moved into the level over the whole run.</summary>
    private (long Footprint, long Traffic, long Transfers) Evaluate(int[] tiles, ImmutableArray<int> order)
    {
        var loops = problem.Loops.Length;
        var trips = new int[loops];
        var ones = new int[loops];
        long outputTiles = 1, reductionTrips = 1;
        for (var l = 0; l < loops; l++)
        {
            trips[l] = (problem.PaddedExtents[l] + tiles[l] - 1) / tiles[l];
            ones[l] = 1;
            if (problem.Roles[l] == LoopRole.Reduction)
            {
                reductionTrips *= trips[l];
            }
            else
            {
                outputTiles *= trips[l];
            }
        }

        long footprint = 0, traffic = 0, transfers = 0;
        foreach (var resident in residents)
        {
            var bytes = Footprints.Rows(resident, ones, tiles) * resident.RowBytes;
            footprint += bytes;
            if (resident.IsOutput)
            {
                // Partial sums leave and come back once per reduction tile after the first.
                traffic += bytes * outputTiles * ((2 * reductionTrips) - 1);
                transfers += outputTiles * reductionTrips;
                continue;
            }

            var loads = CostModel.Reloads(resident, order, trips);
            traffic += loads * bytes;
            transfers += loads;
        }

        return (footprint, traffic, transfers);
    }

    // Caches and scratchpads above the operand storage hold plain elements: every dimension counts its index range.
    private static ImmutableArray<Resident> ElementResidents(MappingProblem problem, ImmutableArray<Resident> operandResidents) =>
    [
        .. operandResidents.Select(r => r with
        {
            RowBytes = problem.Instance.Tensors[problem.Instance.IndexOf(r.Tensor)].ElementType.Bytes(),
            Dims = [.. r.Dims.Select(d => d with { PackedLoop = null })],
            StepLoops = ImmutableDictionary<int, int>.Empty,
        }),
    ];
}
