using System.Collections.Immutable;
using System.Globalization;
using Covenant.Mapping.Space;
using Covenant.Mapping.Model;

namespace Covenant.Mapping.Search;

/// <summary>Settings of the genetic search of one layer. Defaults are sized for a two-core machine.</summary>
public sealed record SearchOptions
{
    public static SearchOptions Default { get; } = new();

    /// <summary>Individuals (constraint sets) kept between generations, and offspring bred per generation.</summary>
    public int Population { get; init; } = 24;

    /// <summary>Concrete choices the solver draws per individual.</summary>
    public int SamplesPerIndividual { get; init; } = 2;

    /// <summary>Problems (capability, operand roles, embedding) searched, most efficient first.</summary>
    public int MaxProblems { get; init; } = 4;

    /// <summary>Constraints an unsatisfiable offspring may lose (one per unsat core) before it is dropped.</summary>
    public int MaxRepairs { get; init; } = 4;

    /// <summary>Rank by the cost model corrected by a regression fit online to the measurements (off: the raw model).</summary>
    public bool Correction { get; init; } = true;

    public uint Seed { get; init; } = 1;

    public int SolverTimeoutMs { get; init; } = 5_000;
}

/// <summary>
/// An individual of the genetic search: a problem (by <see cref="MappingCandidate.Key"/>) and extra constraints on its
/// tile space. The solver turns it into concrete choices, so every candidate it stands for is valid.
/// </summary>
public sealed record Individual(string Problem, ImmutableArray<SearchConstraint> Constraints)
{
    public string Key => Problem + " | " + string.Join(" ", Constraints.Select(c => c.ToString()).Order(StringComparer.Ordinal));
}

/// <summary>One concrete mapping the search produced: the individual it was sampled from, the choice and the mapping.</summary>
public sealed record Candidate(Individual Individual, TileChoice Choice, LayerMapping Mapping)
{
    public string Key => Individual.Problem + " # " + Choice.Key;

    public double ModelCycles => Mapping.Cost.Cycles;

    /// <summary>Tiles and order in a line: <c>p=4/56 q=56/56 ...; order k,p,q; db inp_buf</c>, then each outer level's tiles (<c>; L2 p=28 ...</c>).</summary>
    public string DescribeTiles() =>
        string.Join(" ", Mapping.Loops.Select(l => string.Create(CultureInfo.InvariantCulture, $"{l.Loop}={l.Tile}/{l.PaddedExtent}"))) +
        "; order " + string.Join(",", Mapping.TileOrder) + "; db " + (Mapping.DoubleBuffered.IsEmpty ? "-" : string.Join(",", Mapping.DoubleBuffered)) +
        string.Concat(Mapping.Levels.Select(level => "; " + level.Storage + " " +
            string.Join(" ", Mapping.Loops.Select((l, i) => string.Create(CultureInfo.InvariantCulture, $"{l.Loop}={level.Tiles[i]}")))));
}

/// <summary>
/// One measured candidate. <see cref="Measured"/> is null when the target could not lower or run it
/// (<see cref="Failure"/> says why); <see cref="Predicted"/> is the corrected model's cost when it was picked.
/// </summary>
public sealed record Trial(
    string Layer,
    int Number,
    int Generation,
    Candidate Candidate,
    double? Measured,
    string? Failure,
    double Predicted,
    bool IsDefault,
    bool Resumed);

/// <summary>How the genetic operators fared: offspring bred, repaired (lost constraints until sat), dropped, and choices drawn.</summary>
public sealed record SearchCounters(int Offspring, int Repaired, int Dropped, int Sampled, int Duplicates)
{
    public static SearchCounters Zero { get; } = new(0, 0, 0, 0, 0);
}

/// <summary>Measures mappings on a target: simulator cycles, native time, or (without either) the cost model.</summary>
public interface IMappingMeasurer
{
    /// <summary>What the numbers are, e.g. "VTA simulator cycles".</summary>
    string Engine { get; }

    /// <summary>
    /// Whether measuring the same mapping twice gives the same number (a simulator) or not (a wall clock). A noisy
    /// measurer's baseline, the default mapping, is measured twice and the faster taken: it is measured first, coldest,
    /// and every ratio the tuner reports is against it.
    /// </summary>
    bool Deterministic => true;

    Measurement Measure(LayerMapping mapping, CancellationToken cancellation);

    /// <summary>
    /// The least cost any tiling of <paramref name="mapping"/>'s problem could measure (a hardware bound, in the same units),
    /// when the measurer knows one: what is left between it and the best found is all a search could still gain.
    /// </summary>
    double? LowerBound(LayerMapping mapping) => null;
}

/// <summary>A measured cost (lower is better), or why there is none.</summary>
public sealed record Measurement(double? Cost, string? Failure)
{
    public static Measurement Of(double cost) => new(cost, null);

    public static Measurement Failed(string reason) => new(null, reason);
}

/// <summary>Ranks by the analytic cost model alone: for targets with nothing to measure on, and for fast tests.</summary>
public sealed class CostModelMeasurer : IMappingMeasurer
{
    public string Engine => "cost model cycles";

    public Measurement Measure(LayerMapping mapping, CancellationToken cancellation)
    {
        ArgumentNullException.ThrowIfNull(mapping);
        return Measurement.Of(mapping.Cost.Cycles);
    }
}
