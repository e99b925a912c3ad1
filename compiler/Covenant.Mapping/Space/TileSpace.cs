using System.Collections.Immutable;
using Covenant.Acg.Model;
using Covenant.Mapping.Analysis;
using Covenant.Mapping.Model;
using Covenant.Mapping.Search;
using Covenant.Mapping.Z3;
using Microsoft.Z3;

namespace Covenant.Mapping.Space;

/// <summary>
/// The Z3 model of one problem's tile space. Variables: intrinsic blocks per tile for each loop (each
/// restricted to the balanced tile sizes ⌈n/k⌉, which include every divisor), the position of each
/// non-reduction loop in the tile order (a permutation; reduction loops come after them), and a double-buffering
/// flag per storage node. Constraints: every storage node holds the footprints of its resident tensors —
/// twice over when double-buffered — within its usable capacity. Every sample the solver returns is a valid
/// mapping by construction; the cost model ranks them.
/// </summary>
public sealed class TileSpace : IDisposable
{
    private readonly MappingProblem problem;
    private readonly Context context;
    private readonly Solver solver;
    private readonly IntExpr[] blocks;
    private readonly IntExpr[] positions;
    private readonly ImmutableArray<int> orderedLoops;
    private readonly ImmutableDictionary<string, BoolExpr> doubleBuffer;

    // The flags in name order: iterating the dictionary follows string hash codes, which .NET randomizes per process,
    // and the order decides which random hints a sample draws and which neighbor refinement tries first.
    private readonly ImmutableArray<KeyValuePair<string, BoolExpr>> orderedBuffers;
    private readonly ImmutableArray<ImmutableArray<int>> candidates;
    private readonly ImmutableDictionary<string, (long Capacity, ImmutableArray<Resident> Residents)> storages;
    private readonly int timeoutMs;
    private readonly SmtDump? dump;
    private readonly ImmutableArray<string> levelStorages;

    // Every term made after construction, held until Dispose. A .NET Z3 object releases its node from a finalizer, at a
    // time the garbage collector picks; Z3 then recycles the node's id for the next term it makes, and ids steer the
    // solver's choices. Holding them makes the same calls give the same models, run after run in one process.
    private readonly List<Z3Object> retained = [];

    // Timed-out checks, shared with the other spaces of the same mapping (see SolverTimeouts).
    private readonly SolverTimeouts timeouts;

    /// <summary>True once the shared <see cref="SolverTimeouts"/> are exhausted: no more queries are made.</summary>
    public bool GivenUp => timeouts.Exhausted;

    /// <param name="levelTiler">The problem's outer storage levels: the innermost tile must fit each of them.</param>
    public TileSpace(MappingProblem problem, ImmutableArray<Resident> residents, LevelTiler levelTiler, int timeoutMs, SmtDump? dump, uint seed,
        SolverTimeouts? timeouts = null)
    {
        ArgumentNullException.ThrowIfNull(levelTiler);
        this.problem = problem;
        this.timeouts = timeouts ?? new SolverTimeouts();
        this.timeoutMs = timeoutMs;
        this.dump = dump;
        context = Z3Runtime.CreateContext(timeoutMs);
        solver = context.MkSolver();
        var parameters = context.MkParams();
        parameters.Add("random_seed", seed);
        solver.Parameters = parameters;

        var loops = problem.Loops;
        blocks = new IntExpr[loops.Length];
        var candidateSets = ImmutableArray.CreateBuilder<ImmutableArray<int>>(loops.Length);
        for (var l = 0; l < loops.Length; l++)
        {
            blocks[l] = context.MkIntConst($"blocks_{loops[l].Name}");
            var values = BalancedTiles(problem.Blocks(l));
            candidateSets.Add(values);
            solver.Assert(context.MkOr(values.Select(v => context.MkEq(blocks[l], context.MkInt(v)))));
        }

        candidates = candidateSets.MoveToImmutable();

        // Loops that share an accumulator coordinate (a scatter such as ih*stride + r) must not be tiled:
        // tiles of one would add into rows of another's tile, and partial sums never leave the chip.
        foreach (var index in problem.Nest.Accumulator.Indices)
        {
            var sharing = Enumerable.Range(0, loops.Length).Where(l => index.Coefficients[l] != 0).ToList();
            if (sharing.Count > 1)
            {
                foreach (var l in sharing)
                {
                    solver.Assert(context.MkEq(blocks[l], context.MkInt(problem.Blocks(l))));
                }
            }
        }

        // Reduction loops stay innermost (an accumulator tile completes on chip); the others are permuted.
        orderedLoops = [.. Enumerable.Range(0, loops.Length).Where(l => problem.Roles[l] != LoopRole.Reduction)];
        positions = orderedLoops.Select(l => context.MkIntConst($"position_{loops[l].Name}")).ToArray();
        foreach (var position in positions)
        {
            solver.Assert(context.MkAnd(context.MkGe(position, context.MkInt(0)), context.MkLt(position, context.MkInt(positions.Length))));
        }

        if (positions.Length > 1)
        {
            solver.Assert(context.MkDistinct(positions));
        }

        (doubleBuffer, storages) = AssertCapacities(residents, levelTiler);
        orderedBuffers = [.. doubleBuffer.OrderBy(p => p.Key, StringComparer.Ordinal)];
        levelStorages = [.. levelTiler.Levels.Select(level => level.Name)];
    }

    /// <summary>
    /// Each operand storage's capacity (double-buffered or not) in rows of its smallest resident, and each outer level's
    /// capacity for the innermost tile; returns the double-buffering flags and the storages with their residents.
    /// </summary>
    private (ImmutableDictionary<string, BoolExpr> Buffers, ImmutableDictionary<string, (long Capacity, ImmutableArray<Resident> Residents)> Storages)
        AssertCapacities(ImmutableArray<Resident> residents, LevelTiler levelTiler)
    {
        var buffers = ImmutableDictionary.CreateBuilder<string, BoolExpr>();
        var storageBuilder = ImmutableDictionary.CreateBuilder<string, (long, ImmutableArray<Resident>)>();
        foreach (var group in residents.GroupBy(r => r.Storage))
        {
            var node = problem.Graph.StorageNode(group.Key);
            // Capacity in units of the group's smallest row: operands of one register file may have blocks of
            // different sizes (an mma's a and d fragments take twice the registers of its b).
            var rowBytes = group.Min(r => r.RowBytes);
            var capacity = node.UsableBytes / rowBytes;
            storageBuilder[group.Key] = (capacity, [.. group]);
            var flag = context.MkBoolConst($"double_buffer_{group.Key}");
            buffers[group.Key] = flag;
            if (node.RegisterFile)
            {
                // Registers overlap loads by issue order, not by halves.
                solver.Assert(context.MkNot(flag));
            }

            ArithExpr used = context.MkInt(0);
            foreach (var resident in group)
            {
                var units = resident.RowBytes / rowBytes;
                used = context.MkAdd(used, units == 1 ? RowsExpression(resident) : context.MkMul(context.MkInt(units), RowsExpression(resident)));
            }

            var copies = (ArithExpr)context.MkITE(flag, context.MkInt(2), context.MkInt(1));
            solver.AssertAndTrack(
                context.MkLe(context.MkMul(copies, used), context.MkInt(capacity)),
                context.MkBoolConst($"capacity of {group.Key}"));
        }

        // Every outer level's tile is a multiple of the innermost one, so the innermost tile, as plain elements (a loop
        // streamed through a register file counting one step), must fit each of them (a cache within its share).
        var elements = levelTiler.InnermostResidents;
        foreach (var level in levelTiler.Levels)
        {
            ArithExpr bytes = context.MkInt(0);
            foreach (var resident in elements)
            {
                bytes = context.MkAdd(bytes, context.MkMul(context.MkInt(resident.RowBytes), RowsExpression(resident)));
            }

            solver.AssertAndTrack(context.MkLe(bytes, context.MkInt(LevelTiler.Capacity(level))), context.MkBoolConst($"capacity of {level.Name}"));
        }

        return (buffers.ToImmutable(), storageBuilder.ToImmutable());
    }

    /// <summary>Checks that a concrete choice satisfies the model (it always should for sampled ones).</summary>
    public bool IsValid(TileChoice choice) => !GivenUp && Check(Fix(choice)) is { IsSat: true };

    /// <summary>
    /// Draws up to <paramref name="count"/> distinct valid choices. Each draw asks the solver for a model under
    /// random lower bounds on some tiles (so samples spread over the space instead of clustering at the
    /// smallest tiles), and every model found is blocked from being drawn again.
    /// </summary>
    public List<TileChoice> Sample(int count, Random random)
    {
        var found = new List<TileChoice>();
        solver.Push();
        try
        {
            SampleInto(found, count, random);
        }
        finally
        {
            // The blocking clauses only serve this round of sampling.
            solver.Pop();
        }

        return found;
    }

    /// <summary>
    /// Draws up to <paramref name="count"/> distinct valid choices that also satisfy <paramref name="constraints"/>
    /// (the search's extra constraints, asserted only for this call). When they conflict with the model or with each
    /// other, no choice is drawn and the result names the constraints in the solver's unsat core (or those that name
    /// a loop or storage this space does not have), so that the caller can drop one and retry.
    /// </summary>
    public ConstrainedSample Sample(int count, Random random, IReadOnlyList<SearchConstraint> constraints)
    {
        ArgumentNullException.ThrowIfNull(random);
        ArgumentNullException.ThrowIfNull(constraints);
        // Level tiles are not solver variables: they ride along on every choice drawn, for the level tiler.
        var pins = LevelPins(constraints);
        var solved = constraints.Where(c => c is not LevelTile).ToList();
        var terms = solved.Select(Translate).ToList();
        var unknown = constraints.Where(c => c is LevelTile level
            ? !levelStorages.Contains(level.Storage) || !problem.Loops.Any(l => l.Name == level.Loop)
            : terms[solved.IndexOf(c)] is null).ToImmutableArray();
        if (!unknown.IsEmpty)
        {
            return new ConstrainedSample([], unknown, Inapplicable: true, Timeout: false);
        }

        solver.Push();
        try
        {
            // Each constraint behind its own literal: an unsat answer then says which of them conflict.
            var literals = new BoolExpr[solved.Count];
            for (var i = 0; i < solved.Count; i++)
            {
                literals[i] = Keep(context.MkBoolConst($"search constraint {i}: {solved[i]}"));
                solver.Assert(Keep(context.MkImplies(literals[i], terms[i]!)));
            }

            var outcome = Check(literals);
            if (!outcome.IsSat)
            {
                var core = outcome.UnsatCore.Select(c => Array.IndexOf(literals, c)).Where(i => i >= 0).Select(i => solved[i]);
                return new ConstrainedSample([], [.. core], Inapplicable: false, Timeout: !outcome.IsUnsat);
            }

            foreach (var literal in literals)
            {
                solver.Assert(literal);
            }

            var found = new List<TileChoice>();
            SampleInto(found, count, random);
            return new ConstrainedSample([.. found.Select(choice => choice.WithLevelPins(pins))], [], Inapplicable: false, Timeout: false);
        }
        finally
        {
            solver.Pop();
        }
    }

    /// <summary>
    /// Every valid choice (under <paramref name="constraints"/>), by blocking each model found until the solver answers
    /// unsat, up to <paramref name="limit"/>; <c>Complete</c> is false when the limit (or a timeout) stopped it first.
    /// </summary>
    public (List<TileChoice> Choices, bool Complete) Enumerate(int limit, IReadOnlyList<SearchConstraint>? constraints = null)
    {
        var found = new List<TileChoice>();
        solver.Push();
        try
        {
            var pins = LevelPins(constraints ?? []);
            foreach (var constraint in (constraints ?? []).Where(c => c is not LevelTile))
            {
                solver.Assert(Translate(constraint) ?? Keep(context.MkFalse()));
            }

            while (found.Count < limit)
            {
                var outcome = Check();
                if (!outcome.IsSat)
                {
                    return (found, outcome.IsUnsat);
                }

                var choice = Read(outcome.Model!);
                found.Add(choice.WithLevelPins(pins));
                solver.Assert(Keep(context.MkNot(Keep(context.MkAnd(Fix(choice))))));
            }

            return (found, Check().IsUnsat);
        }
        finally
        {
            solver.Pop();
        }
    }

    /// <summary>The loops of the nest, in order; the search names tiles and positions by them.</summary>
    public ImmutableArray<string> LoopNames => [.. problem.Loops.Select(l => l.Name)];

    /// <summary>The loops whose tile order is free (the non-reduction ones); their positions are 0..Count-1.</summary>
    public ImmutableArray<string> OrderedLoopNames => [.. orderedLoops.Select(l => problem.Loops[l].Name)];

    /// <summary>The storage levels above the operand storage whose tiles <see cref="LevelTile"/> constraints may pin, innermost first.</summary>
    public ImmutableArray<string> LevelStorages => levelStorages;

    /// <summary>The storage nodes that have a double-buffering flag.</summary>
    public ImmutableArray<string> BufferedStorages => [.. doubleBuffer.Keys.Order(StringComparer.Ordinal)];

    /// <summary>The block counts loop <paramref name="loop"/> may take (ascending), before capacity constraints.</summary>
    public ImmutableArray<int> BlockCandidates(int loop) => candidates[loop];

    /// <summary>
    /// <paramref name="choice"/> as search constraints that fix every variable: re-solving them gives the choice back,
    /// as long as the model still admits it. Tuning records store this.
    /// </summary>
    public ImmutableArray<SearchConstraint> ConstraintsOf(TileChoice choice)
    {
        ArgumentNullException.ThrowIfNull(choice);
        var constraints = ImmutableArray.CreateBuilder<SearchConstraint>();
        for (var l = 0; l < blocks.Length; l++)
        {
            constraints.Add(new TileBlocks(problem.Loops[l].Name, choice.Blocks[l], choice.Blocks[l]));
        }

        var nonReduction = choice.Order.Where(l => problem.Roles[l] != LoopRole.Reduction).ToList();
        foreach (var l in orderedLoops)
        {
            constraints.Add(new LoopPosition(problem.Loops[l].Name, nonReduction.IndexOf(l)));
        }

        foreach (var storage in BufferedStorages)
        {
            constraints.Add(new DoubleBuffer(storage, choice.DoubleBuffered.Contains(storage)));
        }

        foreach (var pin in choice.LevelPins.IsDefault ? [] : choice.LevelPins)
        {
            constraints.Add(new LevelTile(pin.Storage, pin.Loop, pin.Multiple));
        }

        return constraints.ToImmutable();
    }

    private static List<LevelPin> LevelPins(IEnumerable<SearchConstraint> constraints) =>
        [.. constraints.OfType<LevelTile>().Select(level => level.Pin)];

    // A search constraint as a term over this space's variables; null when it names what this space lacks.
    private BoolExpr? Translate(SearchConstraint constraint)
    {
        int LoopIndex(string name) => problem.Loops.IndexOf(problem.Loops.FirstOrDefault(l => l.Name == name)!);
        int OrderIndex(string name) => orderedLoops.IndexOf(LoopIndex(name));
        switch (constraint)
        {
            case TileBlocks tile when LoopIndex(tile.Loop) is var l and >= 0:
                return tile.IsFixed
                    ? Keep(context.MkEq(blocks[l], Keep(context.MkInt(tile.Min))))
                    : Keep(context.MkAnd(Keep(context.MkGe(blocks[l], Keep(context.MkInt(tile.Min)))), Keep(context.MkLe(blocks[l], Keep(context.MkInt(tile.Max))))));
            case LoopPosition position when OrderIndex(position.Loop) is var p and >= 0:
                return Keep(context.MkEq(positions[p], Keep(context.MkInt(position.Position))));
            case LoopBefore before when LoopIndex(before.Outer) >= 0 && LoopIndex(before.Inner) >= 0:
                {
                    var (outer, inner) = (OrderIndex(before.Outer), OrderIndex(before.Inner));
                    // Reduction loops are always innermost, after every ordered loop.
                    return (outer, inner) switch
                    {
                        ( >= 0, >= 0) => Keep(context.MkLt(positions[outer], positions[inner])),
                        ( >= 0, < 0) => Keep(context.MkTrue()),
                        _ => Keep(context.MkFalse()),
                    };
                }

            case DoubleBuffer buffer when doubleBuffer.TryGetValue(buffer.Storage, out var flag):
                return buffer.Enabled ? flag : Keep(context.MkNot(flag));
            default:
                return null;
        }
    }

    private void SampleInto(List<TileChoice> found, int count, Random random)
    {
        for (var attempt = 0; attempt < count * 2 && found.Count < count && !GivenUp; attempt++)
        {
            var hints = new List<BoolExpr>();
            for (var l = 0; l < blocks.Length; l++)
            {
                // A loop can have no candidate block sizes to hint at (an extent beyond what the candidates enumerate).
                var values = candidates[l];
                if (values.Length > 0 && random.NextDouble() < 0.6)
                {
                    hints.Add(Keep(context.MkGe(blocks[l], Keep(context.MkInt(values[random.Next(values.Length)])))));
                }
            }

            foreach (var (storage, flag) in orderedBuffers)
            {
                if (random.NextDouble() < 0.5)
                {
                    hints.Add(random.NextDouble() < 0.7 ? flag : Keep(context.MkNot(flag)));
                }
            }

            var outcome = Check([.. hints]);
            if (outcome is not { IsSat: true })
            {
                outcome = Check();
                if (outcome is not { IsSat: true })
                {
                    break;
                }
            }

            var choice = Read(outcome.Model!);
            found.Add(choice);
            solver.Assert(Keep(context.MkNot(Keep(context.MkAnd(Fix(choice))))));
        }
    }

    /// <summary>Why even the smallest tiles do not fit: the capacities in the solver's unsat core, in words.</summary>
    public string Explain()
    {
        var smallest = new TileChoice([.. Enumerable.Repeat(1, blocks.Length)], orderedLoops, []);
        var lines = new List<string>();
        foreach (var (storage, (capacity, residents)) in storages)
        {
            var ones = Enumerable.Repeat(1, blocks.Length).ToArray();
            var iterations = problem.Intrinsic.ToArray();
            var unit = residents.Min(r => r.RowBytes);
            var rows = residents.Sum(r => Footprints.Rows(r, ones, iterations) * (r.RowBytes / unit));
            if (rows > capacity)
            {
                lines.Add($"{storage} holds {capacity} rows{(residents.Any(r => r.RowBytes != unit) ? $" of {unit} B" : "")}, but the smallest tile of " +
                    $"{string.Join(" and ", residents.Select(r => r.Tensor))} needs {rows}");
            }
        }

        var outcome = Check(Fix(smallest));
        var core = outcome.UnsatCore.Select(c => c.ToString().Trim('|')).ToList();
        return lines.Count > 0 ? string.Join("; ", lines)
            : core.Count > 0 ? "these constraints conflict: " + string.Join(", ", core)
            : "the solver found no tiling (" + outcome + ")";
    }

    /// <summary>The values of <paramref name="choice"/> as equalities on the model's variables.</summary>
    public BoolExpr[] Fix(TileChoice choice)
    {
        var fixes = new List<BoolExpr>();
        for (var l = 0; l < blocks.Length; l++)
        {
            fixes.Add(Keep(context.MkEq(blocks[l], Keep(context.MkInt(choice.Blocks[l])))));
        }

        var nonReduction = choice.Order.Where(l => problem.Roles[l] != LoopRole.Reduction).ToList();
        for (var p = 0; p < positions.Length; p++)
        {
            fixes.Add(Keep(context.MkEq(positions[p], Keep(context.MkInt(nonReduction.IndexOf(orderedLoops[p]))))));
        }

        foreach (var (storage, flag) in orderedBuffers)
        {
            fixes.Add(choice.DoubleBuffered.Contains(storage) ? flag : Keep(context.MkNot(flag)));
        }

        return [.. fixes];
    }

    /// <summary>The neighbors of a choice: one tile a step larger or smaller, two adjacent tile loops swapped,
    /// or one double-buffering flag flipped.</summary>
    public IEnumerable<TileChoice> Neighbors(TileChoice choice)
    {
        for (var l = 0; l < blocks.Length; l++)
        {
            var values = candidates[l];
            var index = values.IndexOf(choice.Blocks[l]);
            foreach (var next in new[] { index - 1, index + 1 })
            {
                if (next >= 0 && next < values.Length)
                {
                    yield return choice with { Blocks = choice.Blocks.SetItem(l, values[next]) };
                }
            }
        }

        for (var p = 0; p + 1 < choice.Order.Length; p++)
        {
            if (problem.Roles[choice.Order[p]] != LoopRole.Reduction && problem.Roles[choice.Order[p + 1]] != LoopRole.Reduction)
            {
                yield return choice with { Order = choice.Order.SetItem(p, choice.Order[p + 1]).SetItem(p + 1, choice.Order[p]) };
            }
        }

        foreach (var storage in BufferedStorages)
        {
            yield return choice with
            {
                DoubleBuffered = choice.DoubleBuffered.Contains(storage) ? choice.DoubleBuffered.Remove(storage) : choice.DoubleBuffered.Add(storage),
            };
        }
    }

    private SolverOutcome Check(params BoolExpr[] assumptions)
    {
        dump?.Write(solver, problem.Instance.Name);
        var outcome = solver.CheckWithTimeout(timeoutMs, assumptions);
        if (outcome.Verdict == SolverVerdict.Unknown)
        {
            timeouts.Add();
        }
        if (outcome.Model is { } model)
        {
            retained.Add(model);
        }

        retained.AddRange(outcome.UnsatCore);
        return outcome;
    }

    private T Keep<T>(T term)
        where T : Z3Object
    {
        retained.Add(term);
        return term;
    }

    private TileChoice Read(Microsoft.Z3.Model model)
    {
        var values = blocks.Select(b => ((IntNum)Keep(model.Evaluate(b, true))).Int).ToImmutableArray();
        var order = orderedLoops
            .OrderBy(l => ((IntNum)Keep(model.Evaluate(positions[orderedLoops.IndexOf(l)], true))).Int)
            .Concat(Enumerable.Range(0, blocks.Length).Where(l => problem.Roles[l] == LoopRole.Reduction))
            .ToImmutableArray();
        var buffered = doubleBuffer.Where(p => Keep(model.Evaluate(p.Value, true)).IsTrue).Select(p => p.Key).ToImmutableHashSet();
        return new TileChoice(values, order, buffered);
    }

    // The same footprint as Footprints.Rows, as a Z3 term over the block variables.
    private ArithExpr RowsExpression(Resident resident)
    {
        ArithExpr rows = context.MkInt(1);
        foreach (var dim in resident.Dims)
        {
            ArithExpr range;
            if (dim.PackedLoop is { } packed)
            {
                range = resident.StepLoops.ContainsKey(packed) ? context.MkInt(1) : blocks[packed];
                for (var l = 0; l < dim.Coefficients.Length; l++)
                {
                    if (l != packed && dim.Coefficients[l] != 0)
                    {
                        range = context.MkMul(range, Iterations(resident, l));
                    }
                }
            }
            else
            {
                range = context.MkInt(1);
                for (var l = 0; l < dim.Coefficients.Length; l++)
                {
                    if (dim.Coefficients[l] != 0)
                    {
                        range = context.MkAdd(range, context.MkMul(context.MkInt(Math.Abs(dim.Coefficients[l])),
                            context.MkSub(Iterations(resident, l), context.MkInt(1))));
                    }
                }
            }

            rows = context.MkMul(rows, range);
        }

        return rows;
    }

    private ArithExpr Iterations(Resident resident, int loop) => resident.StepLoops.TryGetValue(loop, out var step)
        ? context.MkInt(step)
        : context.MkMul(blocks[loop], context.MkInt(problem.Intrinsic[loop]));

    /// <summary>⌈n/k⌉ for k = 1..n, ascending: every tile size that gives a distinct number of tiles.</summary>
    public static ImmutableArray<int> BalancedTiles(int n)
    {
        var values = new SortedSet<int>();
        for (var k = 1; k <= n; k++)
        {
            values.Add((n + k - 1) / k);
        }

        return [.. values];
    }

    public void Dispose()
    {
        retained.Clear();
        solver.Dispose();
        context.Dispose();
    }
}

/// <summary>
/// What sampling under search constraints gave: valid choices, or (none) the constraints to blame — the solver's unsat
/// core, or those that name a loop or storage the space lacks (<see cref="Inapplicable"/>), or a solver timeout.
/// </summary>
public sealed record ConstrainedSample(ImmutableArray<TileChoice> Choices, ImmutableArray<SearchConstraint> Conflict, bool Inapplicable, bool Timeout)
{
    public bool Satisfiable => !Choices.IsEmpty;

    public string Describe() =>
        Satisfiable ? $"{Choices.Length} choices"
        : Timeout ? "the solver timed out"
        : Inapplicable ? "the space has no variable for " + string.Join(", ", Conflict)
        : Conflict.IsEmpty ? "no valid choice" : "these constraints conflict: " + string.Join(", ", Conflict);
}
