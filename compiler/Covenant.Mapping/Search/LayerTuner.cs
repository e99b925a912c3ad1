using System.Collections.Immutable;
using Covenant.Acg.Model;
using Covenant.Codelets.Semantics;
using Covenant.Core.Diagnostics;
using Covenant.Mapping.Space;
using Covenant.Mapping.Model;

namespace Covenant.Mapping.Search;

/// <summary>
/// The constraint-based genetic search of one layer (Heron's idea on our Z3 tile spaces). An individual is a problem
/// and a few extra constraints on its tile space; crossover takes, per constrained variable, one parent's constraint;
/// mutation adds, drops or changes one (or pins all of the best choice's variables but one or two); the solver samples
/// concrete choices from each, so every candidate is valid. Offspring the solver finds unsatisfiable lose a constraint
/// from the unsat core until they are satisfiable (repaired) or are dropped. Candidates are ranked by the cost model,
/// corrected online by <see cref="CostCorrection"/>; each <see cref="Step"/> measures the few best-ranked (and one by
/// chance, so the correction sees more than its own favorites). The layer's default mapping is measured first, so the
/// best measured mapping is never worse than the default.
/// Not thread-safe: one tuner runs on one thread (Z3 contexts are single-threaded).
/// </summary>
public sealed class LayerTuner : IDisposable
{
    private readonly List<ProblemSpace> spaces = [];
    private readonly IMappingMeasurer measurer;
    private readonly SearchOptions options;
    private readonly Random random;
    private readonly GeneOperators genetics;
    private readonly CostCorrection correction = new();
    private readonly Dictionary<string, Candidate> evaluated = new(StringComparer.Ordinal);
    private readonly Dictionary<string, double> measured = new(StringComparer.Ordinal);
    private readonly Dictionary<string, List<string>> candidatesOf = new(StringComparer.Ordinal);
    private List<Individual> population = [];
    private Candidate? defaultCandidate;
    private bool defaultMeasured;

    private LayerTuner(LayerIdentity identity, IMappingMeasurer measurer, SearchOptions options)
    {
        Identity = identity;
        this.measurer = measurer;
        this.options = options;
        random = new Random((int)options.Seed);
        genetics = new GeneOperators(random);
    }

    public LayerIdentity Identity { get; }

    public string Name => Identity.Layer;

    public string Engine => measurer.Engine;

    /// <summary>Trials measured so far, resumed ones included.</summary>
    public int Trials { get; private set; }

    public int Generation { get; private set; }

    public Trial? Best { get; private set; }

    public double? DefaultCost { get; private set; }

    public Candidate? Default => defaultCandidate;

    /// <summary>The measurer's lower bound for the default mapping's problem (<see cref="IMappingMeasurer.LowerBound"/>), if it knows one.</summary>
    public double? Bound => defaultCandidate is null ? null : measurer.LowerBound(defaultCandidate.Mapping);

    public SearchCounters Counters { get; private set; } = SearchCounters.Zero;

    /// <summary>True when the last generation found no candidate it had not evaluated before: the space is spent.</summary>
    public bool Exhausted { get; private set; }

    public IReadOnlyList<MappingCandidate> Problems => [.. spaces.Select(s => s.Candidate)];

    /// <summary>Builds the tile spaces of the layer's most efficient problems and finds its default mapping.</summary>
    public static Result<LayerTuner> Create(LayerIdentity identity, CodeletInstance instance, ArchitectureGraph graph,
        IMappingMeasurer measurer, SearchOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(identity);
        ArgumentNullException.ThrowIfNull(measurer);
        options ??= SearchOptions.Default;
        var found = Mapper.Candidates(instance, graph);
        if (!found.Succeeded)
        {
            return Result<LayerTuner>.Failure(found.Diagnostics);
        }

        var mapped = Mapper.Map(instance, graph, MapperOptions.Default with { SolverTimeoutMs = options.SolverTimeoutMs });
        if (!mapped.Succeeded)
        {
            return Result<LayerTuner>.Failure(mapped.Diagnostics);
        }

        var tuner = new LayerTuner(identity, measurer, options);
        var chosen = found.Value.Take(options.MaxProblems).ToList();
        var defaultProblem = found.Value.FirstOrDefault(c => Produced(c, mapped.Value));
        if (defaultProblem is not null && !chosen.Contains(defaultProblem))
        {
            chosen.Add(defaultProblem);
        }

        foreach (var candidate in chosen)
        {
            tuner.spaces.Add(new ProblemSpace(candidate, candidate.CreateSpace(options.SolverTimeoutMs, null, options.Seed), candidate.CreateCostModel()));
        }

        if (defaultProblem is not null)
        {
            var space = tuner.spaces.First(s => s.Candidate == defaultProblem);
            var choice = Mapper.ChoiceOf(mapped.Value);
            tuner.defaultCandidate = new Candidate(new Individual(defaultProblem.Key, space.Space.ConstraintsOf(choice)), choice, mapped.Value);
        }

        return Result<LayerTuner>.Success(tuner);
    }

    private static bool Produced(MappingCandidate candidate, LayerMapping mapping) =>
        candidate.Problem.Mac.Node.Name == mapping.ComputeNode && candidate.Problem.Mac.Capability.Name == mapping.Capability
        && candidate.Problem.TensorA == mapping.Operands[0].Tensor && candidate.Problem.TensorB == mapping.Operands[1].Tensor
        && candidate.Problem.Embedding.SequenceEqual(mapping.Embedding);

    /// <summary>
    /// Takes up earlier trials of this layer from a tuning log: their costs are known (not measured again), the best
    /// becomes the best so far, they train the correction and their individuals join the population. Records whose
    /// problem or constraints no longer apply are skipped and counted.
    /// </summary>
    public (int Resumed, int Skipped) Resume(IEnumerable<TuningRecord> records)
    {
        ArgumentNullException.ThrowIfNull(records);
        var (resumed, skipped) = (0, 0);
        foreach (var record in records.Where(r => r.Matches(Identity)).OrderBy(r => r.Trial))
        {
            var space = spaces.FirstOrDefault(s => s.Candidate.Key == record.Problem);
            var choice = SearchConstraint.ParseAll(record.Choice, null);
            var constraints = SearchConstraint.ParseAll(record.Constraints, null);
            if (space is null || !choice.Succeeded || !constraints.Succeeded)
            {
                skipped++;
                continue;
            }

            var sample = space.Space.Sample(1, random, choice.Value);
            if (!sample.Satisfiable)
            {
                skipped++;
                continue;
            }

            var candidate = Evaluate(space, new Individual(record.Problem, [.. constraints.Value]), sample.Choices[0]);
            var trial = new Trial(Name, record.Trial, record.Generation, candidate, record.Measured, record.Failure, record.Predicted, record.IsDefault, Resumed: true);
            Account(trial);
            if (record.IsDefault)
            {
                defaultMeasured = true;
                DefaultCost = record.Measured;
            }

            if (!population.Any(i => i.Key == candidate.Individual.Key))
            {
                population.Add(candidate.Individual);
            }

            resumed++;
        }

        Generation = Math.Max(Generation, records.Where(r => r.Matches(Identity)).Select(r => r.Generation).DefaultIfEmpty(0).Max());
        return (resumed, skipped);
    }

    /// <summary>
    /// One generation: breed, repair and sample offspring, rank every new candidate, and measure up to
    /// <paramref name="measurements"/> of them (the default mapping first, on the first step). Stops between
    /// measurements when <paramref name="cancellation"/> fires; every finished trial has been passed to
    /// <paramref name="onTrial"/> by then.
    /// </summary>
    public IReadOnlyList<Trial> Step(int measurements, CancellationToken cancellation, Action<Trial>? onTrial = null)
    {
        var trials = new List<Trial>();
        if (measurements <= 0 || cancellation.IsCancellationRequested)
        {
            return trials;
        }

        Generation++;
        if (!defaultMeasured && defaultCandidate is not null)
        {
            defaultMeasured = true;
            Remember(defaultCandidate);
            var trial = Measure(defaultCandidate, isDefault: true, cancellation);
            DefaultCost = trial.Measured;
            trials.Add(trial);
            onTrial?.Invoke(trial);
            measurements--;
        }

        if (population.Count == 0)
        {
            Initialize();
        }

        var fresh = new List<Candidate>();
        var children = Breed(fresh);
        Exhausted = fresh.Count == 0 && children.Count > 0;

        // The best-ranked new candidates, and one drawn at random from the rest so the correction also learns where the
        // model is optimistic about what it ranks low.
        var ranked = fresh.Where(c => !measured.ContainsKey(c.Key)).OrderBy(Predict).ToList();
        var picks = new List<Candidate>();
        var explore = measurements >= 3 ? 1 : 0;
        picks.AddRange(ranked.Take(measurements - explore));
        var rest = ranked.Skip(measurements - explore).ToList();
        for (var e = 0; e < explore && rest.Count > 0; e++)
        {
            var pick = rest[random.Next(rest.Count)];
            picks.Add(pick);
            rest.Remove(pick);
        }

        foreach (var candidate in picks)
        {
            if (cancellation.IsCancellationRequested)
            {
                break;
            }

            var trial = Measure(candidate, isDefault: false, cancellation);
            trials.Add(trial);
            onTrial?.Invoke(trial);
        }

        // Survivors: the fittest of parents and offspring, one copy each.
        population = [.. population.Concat(children)
            .DistinctBy(i => i.Key)
            .OrderBy(Fitness)
            .Take(options.Population)];
        return trials;
    }

    /// <summary>The cost model's rank of a candidate, corrected by the measurements so far (when enabled).</summary>
    public double Predict(Candidate candidate)
    {
        ArgumentNullException.ThrowIfNull(candidate);
        return options.Correction ? correction.Predict(candidate.Mapping) : candidate.ModelCycles;
    }

    /// <summary>Every valid choice of every problem's space, up to <paramref name="limitPerProblem"/> each, as candidates.</summary>
    public (List<Candidate> Candidates, bool Complete) Enumerate(int limitPerProblem)
    {
        var all = new List<Candidate>();
        var complete = true;
        foreach (var space in spaces)
        {
            var (choices, done) = space.Space.Enumerate(limitPerProblem);
            complete &= done;
            all.AddRange(choices.Select(choice => Evaluate(space, new Individual(space.Candidate.Key, space.Space.ConstraintsOf(choice)), choice)));
        }

        return (all, complete);
    }

    /// <summary>Measures one candidate outside the search (the benchmark's exhaustive sweep); not counted as a trial.</summary>
    public Measurement MeasureOnly(Candidate candidate, CancellationToken cancellation)
    {
        ArgumentNullException.ThrowIfNull(candidate);
        return measurer.Measure(candidate.Mapping, cancellation);
    }

    /// <summary>The record of a trial for the tuning log.</summary>
    public TuningRecord ToRecord(Trial trial, double seconds)
    {
        ArgumentNullException.ThrowIfNull(trial);
        var space = spaces.First(s => s.Candidate.Key == trial.Candidate.Individual.Problem);
        return new TuningRecord(
            TuningRecord.CurrentVersion, Identity.Layer, Identity.Codelet, Identity.Bindings, Identity.LayerSignature,
            Identity.Architecture, Identity.ArchitectureHash, trial.Candidate.Individual.Problem,
            [.. trial.Candidate.Individual.Constraints.Select(c => c.ToString())],
            [.. space.Space.ConstraintsOf(trial.Candidate.Choice).Select(c => c.ToString())],
            trial.Candidate.DescribeTiles(), trial.Measured, trial.Failure, measurer.Engine, trial.Candidate.ModelCycles,
            trial.Predicted, trial.IsDefault, trial.Number, trial.Generation, seconds, options.Seed, DateTimeOffset.UtcNow);
    }

    private Trial Measure(Candidate candidate, bool isDefault, CancellationToken cancellation)
    {
        var predicted = Predict(candidate);
        var measurement = measurer.Measure(candidate.Mapping, cancellation);

        // A noisy measurer is read a second time where one reading would mislead. The default, measured first and
        // coldest, keeps the faster reading: every ratio is against it. A reading that would become the best keeps the
        // slower: among hundreds of readings the luckiest wins otherwise, and the mapping it names is no faster when
        // measured beside anything else.
        var newBest = measurement.Cost is { } first && Best?.Measured is { } best && first < best;
        if ((isDefault || newBest) && !measurer.Deterministic && !cancellation.IsCancellationRequested
            && measurer.Measure(candidate.Mapping, cancellation) is { Cost: { } second })
        {
            measurement = isDefault
                ? (measurement.Cost <= second ? measurement : Measurement.Of(second))
                : Measurement.Of(Math.Max(measurement.Cost!.Value, second));
        }

        var trial = new Trial(Name, Trials + 1, Generation, candidate, measurement.Cost, measurement.Failure, predicted, isDefault, Resumed: false);
        Account(trial);
        return trial;
    }

    private void Account(Trial trial)
    {
        Trials++;
        var key = trial.Candidate.Key;
        Remember(trial.Candidate);
        // A candidate the target cannot run ranks last, and is never picked again.
        measured[key] = trial.Measured ?? double.PositiveInfinity;
        if (trial.Measured is { } cost)
        {
            correction.Add(trial.Candidate.Mapping, cost);
            if (Best?.Measured is not { } best || cost < best)
            {
                Best = trial;
            }
        }
    }

    private void Remember(Candidate candidate)
    {
        evaluated.TryAdd(candidate.Key, candidate);
        if (!candidatesOf.TryGetValue(candidate.Individual.Key, out var keys))
        {
            candidatesOf[candidate.Individual.Key] = keys = [];
        }

        if (!keys.Contains(candidate.Key))
        {
            keys.Add(candidate.Key);
        }
    }

    private double Score(string candidateKey) =>
        measured.TryGetValue(candidateKey, out var cost) ? cost : Predict(evaluated[candidateKey]);

    private double Fitness(Individual individual) =>
        candidatesOf.TryGetValue(individual.Key, out var keys) && keys.Count > 0 ? keys.Min(Score) : double.PositiveInfinity;

    private Candidate Evaluate(ProblemSpace space, Individual individual, TileChoice choice)
    {
        var key = individual.Problem + " # " + choice.Key;
        var candidate = evaluated.TryGetValue(key, out var known)
            ? known with { Individual = individual }
            : new Candidate(individual, choice, Mapper.Complete(space.Candidate, choice, space.Costs));
        evaluated.TryAdd(key, candidate);
        Remember(candidate);
        return candidate;
    }

    // The first population: the default mapping pinned, and for every problem a spread of solver samples, each
    // reduced to one to three of its variables' values (the solver fills in the rest, differently each time).
    private void Initialize()
    {
        if (defaultCandidate is not null)
        {
            population.Add(defaultCandidate.Individual);
        }

        var perProblem = Math.Max(2, options.Population / spaces.Count);
        foreach (var space in spaces)
        {
            foreach (var choice in space.Space.Sample(perProblem, random))
            {
                var all = space.Space.ConstraintsOf(choice);
                var kept = all.OrderBy(_ => random.Next()).Take(1 + random.Next(3)).ToImmutableArray();
                var individual = new Individual(space.Candidate.Key, kept);
                Evaluate(space, individual, choice);
                population.Add(individual);
            }
        }
    }

    private List<Individual> Breed(List<Candidate> fresh)
    {
        var children = new List<Individual>();
        var counters = Counters;
        var bestByProblem = population.GroupBy(i => i.Problem).ToDictionary(g => g.Key, g => g.Min(Fitness), StringComparer.Ordinal);
        for (var n = 0; n < options.Population; n++)
        {
            var first = Tournament();
            var space = spaces.First(s => s.Candidate.Key == first.Problem);
            ImmutableArray<SearchConstraint> genes;
            if (spaces.Count > 1 && random.NextDouble() < 0.1)
            {
                // Another problem (embedding / operand roles), favoring those whose best is close to the overall best.
                space = PickProblem(bestByProblem);
                genes = first.Constraints;
            }
            else
            {
                var mates = population.Where(i => i.Problem == first.Problem && i != first).ToList();
                var second = mates.Count > 0 ? Tournament(mates) : first;
                genes = genetics.Crossover(first, second);
            }

            genes = genetics.Mutate(space, genes, BestOf(space));
            counters = counters with { Offspring = counters.Offspring + 1 };
            var (sample, repairs, kept) = Repair(space, genes);
            if (repairs > 0)
            {
                counters = counters with { Repaired = counters.Repaired + 1 };
            }

            if (sample is null)
            {
                counters = counters with { Dropped = counters.Dropped + 1 };
                continue;
            }

            var child = new Individual(space.Candidate.Key, kept);
            children.Add(child);
            foreach (var choice in sample.Choices)
            {
                counters = counters with { Sampled = counters.Sampled + 1 };
                var isNew = !evaluated.ContainsKey(child.Problem + " # " + choice.Key);
                var candidate = Evaluate(space, child, choice);
                if (isNew)
                {
                    fresh.Add(candidate);
                }
                else
                {
                    counters = counters with { Duplicates = counters.Duplicates + 1 };
                }
            }
        }

        Counters = counters;
        return children;
    }

    private ProblemSpace PickProblem(Dictionary<string, double> bestByProblem)
    {
        var overall = bestByProblem.Values.Where(double.IsFinite).DefaultIfEmpty(1).Min();
        var weights = spaces.Select(s => bestByProblem.TryGetValue(s.Candidate.Key, out var best) && double.IsFinite(best)
            ? Math.Max(0.05, Math.Exp(-5 * ((best / overall) - 1)))
            : 0.5).ToList();
        var pick = random.NextDouble() * weights.Sum();
        for (var s = 0; s < spaces.Count; s++)
        {
            pick -= weights[s];
            if (pick <= 0)
            {
                return spaces[s];
            }
        }

        return spaces[^1];
    }

    // The best measured candidate, when it belongs to this problem's space.
    private Candidate? BestOf(ProblemSpace space) => Best?.Candidate is { } best && best.Individual.Problem == space.Candidate.Key ? best : null;

    private Individual Tournament(List<Individual>? from = null)
    {
        from ??= population;
        var best = from[random.Next(from.Count)];
        for (var k = 1; k < 3; k++)
        {
            var other = from[random.Next(from.Count)];
            if (Fitness(other) < Fitness(best))
            {
                best = other;
            }
        }

        return best;
    }

    // Drops one constraint of each unsat core until the solver can sample, at most MaxRepairs times. Pinned level tiles
    // are checked after the solver (they are not its variables): when none of the samples' pinned tiles fit their
    // levels, one level gene goes, as if it were the core.
    private (ConstrainedSample? Sample, int Repairs, ImmutableArray<SearchConstraint> Kept) Repair(ProblemSpace space, ImmutableArray<SearchConstraint> genes)
    {
        for (var repairs = 0; ; repairs++)
        {
            var sample = space.Space.Sample(options.SamplesPerIndividual, random, genes);
            if (sample.Satisfiable)
            {
                var fitting = sample.Choices.Select(space.Candidate.LevelTiler.Normalize).OfType<TileChoice>().ToImmutableArray();
                if (!fitting.IsEmpty)
                {
                    return (sample with { Choices = fitting }, repairs, genes);
                }

                var levels = genes.OfType<LevelTile>().ToList();
                sample = sample with { Choices = [], Conflict = levels.Count == 0 ? [] : [levels[random.Next(levels.Count)]] };
            }

            if (repairs >= options.MaxRepairs || sample.Conflict.IsEmpty)
            {
                return (null, repairs, genes);
            }

            var culprits = sample.Inapplicable ? sample.Conflict : [sample.Conflict[random.Next(sample.Conflict.Length)]];
            genes = [.. genes.Where(g => !culprits.Contains(g))];
        }
    }

    public void Dispose()
    {
        foreach (var space in spaces)
        {
            space.Space.Dispose();
        }
    }
}
