using System.Collections.Immutable;
using Covenant.Mapping.Space;

namespace Covenant.Mapping.Search;

/// <summary>One problem's mapping space as the tuner searches it: the candidate problem, its Z3 tile space, its cost model.</summary>
internal sealed record ProblemSpace(MappingCandidate Candidate, TileSpace Space, CostModel Costs);

/// <summary>
/// The genetic operators on constraint sets (crossover, mutation, random genes), drawing from the tuner's one random
/// stream, so a seed still fixes the whole search.
/// </summary>
internal sealed class GeneOperators(Random random)
{
    // Per constrained variable, one parent's constraint (or, now and then, none: the solver chooses).
    public ImmutableArray<SearchConstraint> Crossover(Individual first, Individual second)
    {
        var genes = ImmutableArray.CreateBuilder<SearchConstraint>();
        var variables = first.Constraints.Concat(second.Constraints).Select(c => c.Variable).Distinct(StringComparer.Ordinal);
        foreach (var variable in variables)
        {
            if (random.NextDouble() < 0.1)
            {
                continue;
            }

            var parent = random.NextDouble() < 0.5 ? first : second;
            var gene = parent.Constraints.FirstOrDefault(c => c.Variable == variable)
                ?? (parent == first ? second : first).Constraints.First(c => c.Variable == variable);
            genes.Add(gene);
        }

        return genes.ToImmutable();
    }

    /// <summary>One change to <paramref name="genes"/>; <paramref name="best"/> is the best measured candidate of this problem, if any.</summary>
    public ImmutableArray<SearchConstraint> Mutate(ProblemSpace space, ImmutableArray<SearchConstraint> genes, Candidate? best)
    {
        var roll = random.NextDouble();
        if (roll < 0.2 && best is not null)
        {
            // Exploit: pin the best choice's variables but one or two; the solver varies those.
            var all = space.Space.ConstraintsOf(best.Choice);
            return [.. all.OrderBy(_ => random.Next()).Skip(1 + random.Next(2))];
        }

        if (roll < 0.55 || genes.IsEmpty)
        {
            var gene = RandomGene(space, best);
            return [.. genes.Where(g => g.Variable != gene.Variable), gene];
        }

        var index = random.Next(genes.Length);
        if (roll < 0.75)
        {
            return genes.RemoveAt(index);
        }

        return genes.SetItem(index, Change(space, genes[index], best));
    }

    private SearchConstraint RandomGene(ProblemSpace space, Candidate? best)
    {
        var loops = space.Space.LoopNames;
        var ordered = space.Space.OrderedLoopNames;
        var buffered = space.Space.BufferedStorages;
        if (!space.Space.LevelStorages.IsEmpty && random.NextDouble() < 0.3)
        {
            return RandomLevelGene(space, best);
        }

        var kind = random.Next(10);
        if (kind < 6 || (ordered.Length < 2 && buffered.IsEmpty))
        {
            var l = random.Next(loops.Length);
            var values = space.Space.BlockCandidates(l);
            // Near the best choice's value half the time: small steps around what works.
            var at = best is not null && random.NextDouble() < 0.5
                ? Math.Clamp(values.IndexOf(best.Choice.Blocks[l]) + random.Next(-2, 3), 0, values.Length - 1)
                : random.Next(values.Length);
            if (random.NextDouble() < 0.25 && values.Length > 2)
            {
                var to = Math.Clamp(at + random.Next(1, 4), 0, values.Length - 1);
                return new TileBlocks(loops[l], values[at], values[to]);
            }

            return new TileBlocks(loops[l], values[at], values[at]);
        }

        if (kind < 8 && ordered.Length >= 2)
        {
            if (random.NextDouble() < 0.5)
            {
                return new LoopPosition(ordered[random.Next(ordered.Length)], random.Next(ordered.Length));
            }

            var outer = random.Next(ordered.Length);
            var inner = (outer + 1 + random.Next(ordered.Length - 1)) % ordered.Length;
            return new LoopBefore(ordered[outer], ordered[inner]);
        }

        return buffered.IsEmpty
            ? new TileBlocks(loops[0], 1, space.Space.BlockCandidates(0)[^1])
            : new DoubleBuffer(buffered[random.Next(buffered.Length)], random.NextDouble() < 0.6);
    }

    // A cache (or shared-memory) tile: some loop's multiple of the tile inside it, near the best mapping's half the time.
    private LevelTile RandomLevelGene(ProblemSpace space, Candidate? best)
    {
        var levels = space.Space.LevelStorages;
        var level = random.Next(levels.Length);
        var l = random.Next(space.Space.LoopNames.Length);
        var (values, current) = LevelMultiples(space, best, level, l);
        var at = current is { } now && random.NextDouble() < 0.5
            ? Math.Clamp(NearestIndex(values, now) + random.Next(-2, 3), 0, values.Length - 1)
            : random.Next(values.Length);
        return new LevelTile(levels[level], space.Space.LoopNames[l], values[at]);
    }

    // The multiples a level tile of loop l may take around a reference mapping (its tile inside that level), and the
    // reference's own multiple; without a reference, around the intrinsic's tile.
    public static (ImmutableArray<int> Values, int? Current) LevelMultiples(ProblemSpace space, Candidate? candidate, int level, int l)
    {
        var tiler = space.Candidate.LevelTiler;
        if (candidate is null)
        {
            return (tiler.Multiples(l, space.Candidate.Problem.Intrinsic[l]), null);
        }

        var loop = space.Space.LoopNames[l];
        var levels = space.Space.LevelStorages;
        var inner = level == 0 ? tiler.UnitTile(candidate.Choice, l) : candidate.Mapping.TileAt(levels[level - 1], loop);
        return (tiler.Multiples(l, inner), (candidate.Mapping.TileAt(levels[level], loop) + inner - 1) / inner);
    }

    private SearchConstraint Change(ProblemSpace space, SearchConstraint gene, Candidate? best)
    {
        switch (gene)
        {
            case TileBlocks tile when space.Space.LoopNames.IndexOf(tile.Loop) is var l and >= 0:
                {
                    var values = space.Space.BlockCandidates(l);
                    var step = random.NextDouble() < 0.5 ? -1 : 1;
                    var min = values[Math.Clamp(NearestIndex(values, tile.Min) + step, 0, values.Length - 1)];
                    var max = tile.IsFixed ? min : Math.Max(min, values[Math.Clamp(NearestIndex(values, tile.Max) + step, 0, values.Length - 1)]);
                    return tile with { Min = min, Max = max };
                }

            case LoopPosition position:
                return position with { Position = random.Next(Math.Max(1, space.Space.OrderedLoopNames.Length)) };
            case LoopBefore before:
                return new LoopBefore(before.Inner, before.Outer);
            case DoubleBuffer buffer:
                return buffer with { Enabled = !buffer.Enabled };
            case LevelTile tile when space.Space.LevelStorages.IndexOf(tile.Storage) is var level and >= 0
                                     && space.Space.LoopNames.IndexOf(tile.Loop) is var l and >= 0:
                {
                    var (values, _) = LevelMultiples(space, best, level, l);
                    var step = random.NextDouble() < 0.5 ? -1 : 1;
                    return tile with { Multiple = values[Math.Clamp(NearestIndex(values, tile.Multiple) + step, 0, values.Length - 1)] };
                }

            default:
                return RandomGene(space, null);
        }
    }

    public static int NearestIndex(ImmutableArray<int> values, int value)
    {
        var index = 0;
        for (var i = 0; i < values.Length; i++)
        {
            if (Math.Abs(values[i] - value) < Math.Abs(values[index] - value))
            {
                index = i;
            }
        }

        return index;
    }
}
