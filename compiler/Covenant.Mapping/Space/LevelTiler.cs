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
/// moves the least data over the edge that fills it. A loop whose inputs stream through a register file counts one
/// step as the tile inside, and a choice's <see cref="TileChoice.LevelPins"/> fix the loops the tuner chose. The
/// search is greedy over the balanced multiples of the inner tile, one loop a step at a time, so it is bounded and
/// deterministic; the cost is the same traffic arithmetic as <see cref="CostModel"/>'s.
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
    private readonly ImmutableDictionary<int, int> streamed;

    /// <param name="operandResidents">The problem's residents at its operand storage (<see cref="Footprints.Residents"/>).</param>
    public LevelTiler(MappingProblem problem, ImmutableArray<Resident> operandResidents)
    {
        this.problem = problem;
        levels = OuterLevels(problem);
        residents = ElementResidents(problem, operandResidents);
        streamed = StreamedLoops(operandResidents);
        var queries = new AcgQueries(problem.Graph);
        fill = levels.ToImmutableDictionary(
            level => level.Name,
            level => queries.InEdges(level.Name)
                .Where(e => problem.Graph.FindNode(e.From) is StorageNode from && !levels.Take(levels.IndexOf(level)).Any(inner => inner.Name == from.Name))
                .Select(e => (e.BandwidthBytesPerCycle, e.LatencyCycles))
                .DefaultIfEmpty((1.0, 0.0)).MaxBy(e => e.Item1));
    }

    /// <summary>The bytes a tile may take in <paramref name="level"/>: all of a scratchpad, a share of a cache.</summary>
    public static long Capacity(StorageNode level)
    {
        ArgumentNullException.ThrowIfNull(level);
        return (long)(level.UsableBytes * (level.Cache ? CacheShare : 1.0));
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

    /// <summary>
    /// Tiles for every outer level, outermost first, given the innermost choice. The choice's <see cref="TileChoice.LevelPins"/>
    /// fix loops at their level where the pinned tile fits (a level whose pins overflow it is tiled as if unpinned);
    /// the greedy search chooses the rest.
    /// </summary>
    public ImmutableArray<TileLevel> Choose(TileChoice inner) => Tile(inner).Levels;

    /// <summary>
    /// <paramref name="choice"/> with each level pin clamped to the loop's extent (so pins that give the same tiles are
    /// spelled the same), or null when a pin names a level or loop this problem lacks or a pinned tile overflows its level.
    /// </summary>
    public TileChoice? Normalize(TileChoice choice)
    {
        ArgumentNullException.ThrowIfNull(choice);
        if (choice.LevelPins.IsDefaultOrEmpty)
        {
            return choice;
        }

        var (_, effective, fit) = Tile(choice);
        return fit && effective.Count == choice.LevelPins.Length ? choice.WithLevelPins(effective) : null;
    }

    private (ImmutableArray<TileLevel> Levels, List<LevelPin> Effective, bool Fit) Tile(TileChoice inner)
    {
        // A loop whose inputs stream through a register file a step at a time holds no data there beyond the step: the
        // level above tiles it in steps, whatever the register tile (which only says how long accumulators stay).
        var tiles = Enumerable.Range(0, problem.Loops.Length).Select(l => UnitTile(inner, l)).ToArray();
        var pins = inner.LevelPins.IsDefault ? [] : inner.LevelPins;
        var effective = new List<LevelPin>();
        var fit = true;
        var chosen = new List<TileLevel>();
        foreach (var level in levels)
        {
            var capacity = Capacity(level);
            var unit = (int[])tiles.Clone();
            var pinned = new bool[tiles.Length];
            var placed = new List<LevelPin>();
            foreach (var pin in pins.Where(p => p.Storage == level.Name))
            {
                var l = problem.Loops.IndexOf(problem.Loops.FirstOrDefault(loop => loop.Name == pin.Loop)!);
                if (l < 0)
                {
                    continue;
                }

                var units = (problem.PaddedExtents[l] + unit[l] - 1) / unit[l];
                var multiple = Math.Clamp(pin.Multiple, 1, units);
                tiles[l] = Math.Min(multiple * unit[l], problem.PaddedExtents[l]);
                pinned[l] = true;
                placed.Add(pin with { Multiple = multiple });
            }

            var (bestFootprint, bestTraffic, transfers) = Evaluate(tiles, inner.Order);
            if (bestFootprint > capacity && placed.Count > 0)
            {
                // The pinned tile overflows the level: tile it as if unpinned (a stale record still compiles), and say so.
                fit = false;
                tiles = unit;
                pinned = new bool[tiles.Length];
                (bestFootprint, bestTraffic, transfers) = Evaluate(tiles, inner.Order);
            }
            else
            {
                effective.AddRange(placed);
            }

            var (bandwidth, latency) = fill[level.Name];
            var bestCycles = (bestTraffic / bandwidth) + (transfers * latency);
            for (var improved = true; improved;)
            {
                improved = false;
                int[]? bestMove = null;
                for (var l = 0; l < tiles.Length; l++)
                {
                    if (pinned[l] || tiles[l] >= problem.PaddedExtents[l])
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

        // Pins naming a level this problem does not tile are not placed: Normalize rejects them.
        chosen.Reverse();
        return ([.. chosen], effective, fit);
    }

    /// <summary>The tile of <paramref name="loop"/> the innermost outer level builds on: a streamed loop's step, else the choice's tile.</summary>
    public int UnitTile(TileChoice choice, int loop)
    {
        ArgumentNullException.ThrowIfNull(choice);
        return Math.Min(streamed.TryGetValue(loop, out var step) ? step : choice.Blocks[loop] * problem.Intrinsic[loop], problem.PaddedExtents[loop]);
    }

    /// <summary>
    /// The multiples a pin of <paramref name="loop"/> at a level may usefully take when the tile inside is
    /// <paramref name="innerTile"/>: the balanced ones, ⌈units/k⌉ for every trip count k, smallest first.
    /// </summary>
    public ImmutableArray<int> Multiples(int loop, int innerTile) =>
        TileSpace.BalancedTiles((problem.PaddedExtents[loop] + innerTile - 1) / Math.Max(1, innerTile));

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

    /// <summary>
    /// The operand residents as the innermost outer level sees them: plain elements, with a loop streamed through a register
    /// file counting one step (the tile the level above must hold at least).
    /// </summary>
    public ImmutableArray<Resident> InnermostResidents => [.. residents.Select(r => r with { StepLoops = streamed })];

    // Loops the inputs stream through a register file one step at a time, with the step's iterations.
    private static ImmutableDictionary<int, int> StreamedLoops(ImmutableArray<Resident> operandResidents) =>
        operandResidents.Where(r => !r.IsOutput).SelectMany(r => r.StepLoops)
            .GroupBy(p => p.Key).ToImmutableDictionary(g => g.Key, g => g.Max(p => p.Value));

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
