using System.Collections.Immutable;
using Covenant.Acg.Model;
using Covenant.Codelets.Semantics;
using Covenant.Codelets.Syntax;
using Covenant.Core.Diagnostics;
using Covenant.Mapping.Analysis;
using Covenant.Mapping.Model;
using Covenant.Mapping.Search;
using Covenant.Mapping.Space;
using Covenant.Mapping.Z3;

namespace Covenant.Mapping;

public sealed record MapperOptions
{
    public static MapperOptions Default { get; } = new();

    /// <summary>Valid tile choices the solver draws per problem before local search refines the best.</summary>
    public int SamplesPerProblem { get; init; } = 48;

    /// <summary>Problems (capability, operand roles, embedding) searched, best efficiency first.</summary>
    public int MaxProblems { get; init; } = 3;

    /// <summary>Every solver call stops after this long.</summary>
    public int SolverTimeoutMs { get; init; } = 5_000;

    public uint Seed { get; init; } = 1;

    /// <summary>When set, every solver query is written there as SMT-LIB2 (see <see cref="SmtDump"/>).</summary>
    public string? DumpSmtDirectory { get; init; }

    /// <summary>
    /// A mapping to rebuild instead of searching (a tuning record's): when it no longer applies, <see cref="Mapper.Map"/>
    /// says so in a warning and maps as usual.
    /// </summary>
    public PinnedMapping? Pinned { get; init; }
}

/// <summary>A problem (by <see cref="MappingCandidate.Key"/>) and constraints on its tile space that pick one choice.</summary>
public sealed record PinnedMapping(string Problem, ImmutableArray<SearchConstraint> Constraints, string Source);

/// <summary>
/// A problem whose epilogue can be placed, ready to be tiled: what <see cref="Mapper.Map"/> and the tuner search.
/// <see cref="Key"/> names it stably across runs (capability, operand roles, embedding).
/// </summary>
public sealed record MappingCandidate(MappingProblem Problem, ImmutableArray<EpilogueStep> Epilogue, double EpilogueInterval)
{
    public string Key => Problem.Describe();

    // Computed on first use: candidates the search never reaches need no footprints.
    private readonly Lazy<ImmutableArray<Resident>> residents = new(() => Footprints.Residents(Problem));

    public ImmutableArray<Resident> Residents => residents.Value;

    // Built once: the tuner completes every candidate it evaluates with it.
    private LevelTiler? levelTiler;

    /// <summary>Tiles the storage levels above the operand storage around a choice (see <see cref="Mapper.Complete"/>).</summary>
    public LevelTiler LevelTiler => levelTiler ??= new LevelTiler(Problem, Residents);

    public CostModel CreateCostModel() => new(Problem, Residents, EpilogueInterval);

    public TileSpace CreateSpace(int timeoutMs, SmtDump? dump, uint seed, SolverTimeouts? timeouts = null) =>
        new(Problem, Residents, LevelTiler, timeoutMs, dump, seed, timeouts);
}

/// <summary>
/// Maps a codelet instance onto an architecture graph: finds the accumulation nest and its epilogue, enumerates
/// the ways to run it on the graph's multiply-accumulate capabilities (operand roles, which loop feeds each
/// axis), samples each problem's tile space with Z3, refines the best samples by local search, and returns the
/// mapping the analytic cost model ranks fastest. When nothing fits, the diagnostics say why.
/// </summary>
public static class Mapper
{
    public static Result<LayerMapping> Map(CodeletInstance instance, ArchitectureGraph graph, MapperOptions? options = null)
    {
        options ??= MapperOptions.Default;
        var location = instance.Syntax.Location;
        var found = Candidates(instance, graph);
        if (!found.Succeeded)
        {
            return Result<LayerMapping>.Failure(found.Diagnostics);
        }

        var dump = options.DumpSmtDirectory is { } directory ? new SmtDump(directory) : null;
        var notes = ImmutableArray<Diagnostic>.Empty;
        if (options.Pinned is { } pinned)
        {
            var (pinnedMapping, reason) = MapPinned(found.Value, pinned, options, dump);
            if (pinnedMapping is not null)
            {
                return Result<LayerMapping>.Success(pinnedMapping);
            }

            notes = [SearchDiagnostics.PinnedDoesNotApply.Create(location,
                $"the tuned mapping from {pinned.Source} no longer applies ({reason}); using the default mapping")];
        }

        var random = new Random((int)options.Seed);
        LayerMapping? best = null;
        var misfits = new List<string>();
        var timeouts = new SolverTimeouts();
        foreach (var candidate in found.Value.Take(options.MaxProblems))
        {
            var costs = candidate.CreateCostModel();
            using var space = candidate.CreateSpace(options.SolverTimeoutMs, dump, options.Seed, timeouts);
            var samples = space.Sample(options.SamplesPerProblem, random);
            if (samples.Count == 0)
            {
                misfits.Add($"{candidate.Key}: {space.Explain()}");
                continue;
            }

            var (choice, _) = Refine(space, costs, samples);
            var mapping = Complete(candidate, choice, costs);
            if (best is null || mapping.Cost.Cycles < best.Cost.Cycles)
            {
                best = mapping;
            }
        }

        return best is null
            ? Result<LayerMapping>.Failure(notes.Add(MappingDiagnostics.DoesNotFit.Create(location,
                $"no tiling of codelet '{instance.Name}' fits '{graph.Name}': {string.Join("; ", misfits)}")))
            : Result<LayerMapping>.Success(best, notes);
    }

    /// <summary>
    /// The problems a mapping can be searched in (capability, operand roles, embedding) whose epilogue can be placed,
    /// most efficient first; or why there are none. This is the space that <see cref="Map"/> and the tuner explore.
    /// </summary>
    public static Result<IReadOnlyList<MappingCandidate>> Candidates(CodeletInstance instance, ArchitectureGraph graph)
    {
        var location = instance.Syntax.Location;
        var z3 = Z3Runtime.TryInitialize();
        if (!z3.Succeeded)
        {
            return Result<IReadOnlyList<MappingCandidate>>.Failure(z3.Diagnostics);
        }

        var (nest, problem) = AccumulationFinder.Find(instance);
        if (nest is null)
        {
            return Fail(MappingDiagnostics.NoAccumulation, problem!);
        }

        var (problems, rejections) = MappingProblem.Enumerate(instance, graph, nest);
        if (problems.IsEmpty)
        {
            return Fail(MappingDiagnostics.NoCapability,
                $"no capability of '{graph.Name}' can run codelet '{instance.Name}': {string.Join("; ", rejections)}");
        }

        var epilogueFailures = new List<string>();
        var placeable = new List<MappingCandidate>();
        foreach (var candidate in problems)
        {
            var (steps, interval, reason) = PlaceEpilogue(candidate);
            if (reason is not null)
            {
                epilogueFailures.Add(reason);
                continue;
            }

            placeable.Add(new MappingCandidate(candidate, steps, interval));
        }

        if (placeable.Count == 0)
        {
            return Fail(MappingDiagnostics.UnsupportedEpilogue, string.Join("; ", epilogueFailures.Distinct()));
        }

        return Result<IReadOnlyList<MappingCandidate>>.Success(placeable.OrderByDescending(p => p.Problem.Efficiency).ToImmutableArray());

        Result<IReadOnlyList<MappingCandidate>> Fail(DiagnosticDescriptor descriptor, string message) =>
            Result<IReadOnlyList<MappingCandidate>>.Failure(descriptor.Create(location, message));
    }

    /// <summary>
    /// The mapping of one tile choice in a candidate's space: the cost model's estimate, then the outer storage
    /// levels tiled around it (they fill while the inner tiles compute; the slowest stream sets the pace).
    /// </summary>
    public static LayerMapping Complete(MappingCandidate candidate, TileChoice choice, CostModel? costs = null)
    {
        var cost = (costs ?? candidate.CreateCostModel()).Evaluate(choice);
        var levels = candidate.LevelTiler.Choose(choice);
        if (!levels.IsEmpty)
        {
            var traffic = cost.TrafficBytes.AddRange(levels.Select(l => KeyValuePair.Create("fill " + l.Storage, l.TrafficBytes)));
            var transfer = cost.TransferCycles.AddRange(levels.Select(l => KeyValuePair.Create("fill " + l.Storage, l.TransferCycles)));
            var footprint = cost.FootprintBytes.AddRange(levels.Select(l => KeyValuePair.Create(l.Storage, l.FootprintBytes)));
            cost = cost with
            {
                Cycles = Math.Max(cost.Cycles, levels.Max(l => l.TransferCycles)),
                TrafficBytes = traffic,
                TransferCycles = transfer,
                FootprintBytes = footprint,
            };
        }

        return Build(candidate.Problem, choice, candidate.Epilogue, cost) with { Levels = levels };
    }

    /// <summary>The tile choice a mapping was built from (the inverse of <see cref="Complete"/> on the inner tiles).</summary>
    public static TileChoice ChoiceOf(LayerMapping mapping)
    {
        var names = mapping.Loops.Select(l => l.Loop).ToList();
        return new TileChoice(
            [.. mapping.Loops.Select(l => l.BlocksPerTile)],
            [.. mapping.TileOrder.Select(names.IndexOf)],
            [.. mapping.DoubleBuffered]);
    }

    // The recorded problem, re-solved under the recorded constraints: the first model is the recorded choice when
    // the constraints fix every variable, and a valid choice in any case.
    private static (LayerMapping? Mapping, string Reason) MapPinned(
        IReadOnlyList<MappingCandidate> candidates, PinnedMapping pinned, MapperOptions options, SmtDump? dump)
    {
        var candidate = candidates.FirstOrDefault(c => c.Key == pinned.Problem);
        if (candidate is null)
        {
            return (null, $"no problem '{pinned.Problem}' among this codelet's mappings");
        }

        using var space = candidate.CreateSpace(options.SolverTimeoutMs, dump, options.Seed);
        var sample = space.Sample(1, new Random((int)options.Seed), pinned.Constraints);
        if (!sample.Satisfiable)
        {
            return (null, sample.Describe());
        }

        // Cache-tile pins are checked after the solver: one that no longer fits its level makes the record stale too.
        return candidate.LevelTiler.Normalize(sample.Choices[0]) is { } choice
            ? (Complete(candidate, choice), "")
            : (null, "a pinned cache tile (level(...)) no longer fits its level");
    }

    private const int MaxRefinementSteps = 200;

    // Hill-climbs from the best samples: a neighbor is taken when the solver confirms it valid and it is cheaper.
    private static (TileChoice Choice, CostEstimate Cost) Refine(TileSpace space, CostModel costs, List<TileChoice> samples)
    {
        var ranked = samples.Select(s => (Choice: s, Cost: costs.Evaluate(s))).OrderBy(s => s.Cost.Cycles).ToList();
        var (choice, cost) = ranked[0];
        var seen = samples.Select(s => s.Key).ToHashSet(StringComparer.Ordinal);
        // Bounded by steps, not by time, so the same inputs always give the same mapping whatever the machine's load.
        for (var (improved, step) = (true, 0); improved && step < MaxRefinementSteps; step++)
        {
            improved = false;
            foreach (var neighbor in space.Neighbors(choice))
            {
                if (!seen.Add(neighbor.Key))
                {
                    continue;
                }

                var neighborCost = costs.Evaluate(neighbor);
                if (neighborCost.Cycles < cost.Cycles && space.IsValid(neighbor))
                {
                    (choice, cost, improved) = (neighbor, neighborCost, true);
                    break;
                }
            }
        }

        return (choice, cost);
    }

    private static LayerMapping Build(MappingProblem problem, TileChoice choice, ImmutableArray<EpilogueStep> steps, CostEstimate cost)
    {
        var loops = problem.Loops.Select((loop, l) => new LoopMapping(
            loop.Name, problem.Roles[l], loop.Extent, problem.PaddedExtents[l], problem.AxisOf(l),
            problem.Intrinsic[l], choice.Blocks[l] * problem.Intrinsic[l])).ToImmutableArray();
        var operands = ImmutableArray.Create(
            new OperandBinding(problem.TensorA, problem.Mac.A.Name, problem.Mac.A.Storage) { Offset = problem.OffsetA },
            new OperandBinding(problem.TensorB, problem.Mac.B.Name, problem.Mac.B.Storage) { Offset = problem.OffsetB },
            new OperandBinding(problem.Accumulator, problem.Mac.Out.Name, problem.Mac.Out.Storage));
        var output = problem.Nest.Epilogue?.Output ?? problem.Accumulator;
        return new LayerMapping(
            problem.Instance, problem.Graph, problem.Nest.NestIndex, problem.Mac.Node.Name, problem.Mac.Capability.Name,
            problem.Accumulator, output, operands, problem.Embedding, loops,
            [.. choice.Order.Select(l => problem.Loops[l].Name)],
            [.. choice.DoubleBuffered.Order(StringComparer.Ordinal)],
            steps, cost);
    }

    // Each epilogue step needs an element-wise capability on the accumulator's storage: `dst = op(dst, imm)` for
    // an immediate (within the capability's range) or `dst = op(dst, src)` for a tensor operand.
    private static (ImmutableArray<EpilogueStep> Steps, double Interval, string? Problem) PlaceEpilogue(MappingProblem problem)
    {
        var storage = problem.Mac.Out.Storage;
        var steps = ImmutableArray.CreateBuilder<EpilogueStep>();
        var interval = problem.Mac.Capability.IntervalCycles;
        var elementwise = problem.Graph.Compute
            .SelectMany(node => node.Capabilities.Select(capability => (Node: node, Capability: capability)))
            .Where(c => c.Capability.Semantics.Kind == AssignKind.Assign
                && c.Capability.FindOperand(c.Capability.Semantics.Target.Tensor) is { } dst && dst.Storage == storage)
            .ToList();

        // Wider results leave through narrower rows in passes separated by shifts: that needs a shift.
        foreach (var operation in problem.Nest.Epilogue?.Steps ?? [])
        {
            var match = elementwise.FirstOrDefault(c => Performs(c.Capability, operation));
            if (match.Capability is null)
            {
                var operand = operation.Tensor is null ? $"immediate {operation.Immediate}" : $"tensor '{operation.Tensor}'";
                return ([], 0, $"no capability of '{problem.Graph.Name}' performs {operation.Op} with {operand} on '{storage}'");
            }

            steps.Add(new EpilogueStep(operation.Op, operation.Immediate, operation.Tensor, match.Node.Name, match.Capability.Name));
            interval = Math.Max(interval, match.Capability.IntervalCycles);
        }

        var shift = elementwise.FirstOrDefault(c => Performs(c.Capability, new EpilogueOperation(EpilogueOp.ShiftRight, 8, null)));
        if (shift.Capability is not null)
        {
            interval = Math.Max(interval, shift.Capability.IntervalCycles);
        }

        return (steps.ToImmutable(), interval, null);
    }

    private static bool Performs(Acg.Model.Capability capability, EpilogueOperation operation)
    {
        var value = capability.Semantics.Value;
        var target = capability.Semantics.Target.Tensor;
        (ExprSyntax? left, ExprSyntax? right) = (operation.Op, value) switch
        {
            (EpilogueOp.Add, BinarySyntax { Op: BinaryOp.Add } b) => (b.Left, b.Right),
            (EpilogueOp.ShiftRight, BinarySyntax { Op: BinaryOp.ShiftRight } b) => (b.Left, b.Right),
            (EpilogueOp.Max, CallSyntax { Function: "max", Arguments.Length: 2 } c) => (c.Arguments[0], c.Arguments[1]),
            (EpilogueOp.Min, CallSyntax { Function: "min", Arguments.Length: 2 } c) => (c.Arguments[0], c.Arguments[1]),
            _ => (null, null),
        };
        if (left is not AccessSyntax { } self || self.Tensor != target || right is null)
        {
            return false;
        }

        if (operation.Tensor is not null)
        {
            return right is AccessSyntax;
        }

        return right is NameSyntax name && capability.Immediates.FirstOrDefault(i => i.Name == name.Name) is { } immediate
            && (immediate.Min is null || operation.Immediate >= immediate.Min)
            && (immediate.Max is null || operation.Immediate <= immediate.Max);
    }
}
