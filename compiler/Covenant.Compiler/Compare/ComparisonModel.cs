using System.Collections.Immutable;

namespace Covenant.Compiler.Compare;

// The report of `covenantc compare`: one suite's layers on several architectures. Everything here is an
// immutable record computed once (ComparisonMath, ComparisonDriver); the writers (text, CSV, JSON, HTML) only
// format it and never compute a number of their own that another writer would need.

/// <summary>Where a cell's cycle count comes from. Every table, file and chart says which.</summary>
public enum CycleSource
{
    /// <summary>Counted by a simulator that models timing (VTA's: load, compute and store modules, token queues).</summary>
    Simulated,

    /// <summary>Measured on the hardware (native time, converted to cycles at the architecture's <c>clock:</c>).</summary>
    Measured,

    /// <summary>Predicted: the target's timing model for the emitted program where it has one, else the mapper's cost model.</summary>
    Predicted,
}

public enum CellStatus
{
    Ok,

    /// <summary>The run finished but an output differs from the reference interpreter. Never a winner, never in a geomean.</summary>
    Mismatch,

    /// <summary>The layer did not map (or lower) on this architecture; <see cref="CompareCell.Reason"/> says why.</summary>
    CompileFailed,

    /// <summary>It compiled but the executor failed (a simulator error, a broken artifact).</summary>
    RunFailed,
}

/// <summary>What a comparison ranks by: cycles when every architecture runs at one clock (or a clock is missing), else time.</summary>
public enum CompareMetric
{
    Cycles,
    Seconds,
}

/// <summary>Bytes of one on-chip storage node a layer's tiles occupy.</summary>
/// <param name="Bytes">The tiles' footprint, twice over where the mapping double-buffers this storage.</param>
public sealed record StorageOccupancy(string Storage, long Bytes, long CapacityBytes)
{
    public double Fraction => CapacityBytes > 0 ? (double)Bytes / CapacityBytes : 0;
}

/// <summary>One architecture as the comparison sees it, with the two roofs of its roofline, both from its YAML.</summary>
/// <param name="PeakMacsPerCycle">The fastest multiply-accumulate capability the comparison's layers used (or, when none mapped,
/// the fastest in the graph): operations per issue / issue interval x number of units.</param>
/// <param name="DramBytesPerCycle">The widest edge out of an off-chip storage node.</param>
public sealed record ArchitectureProfile(
    string Name,
    string File,
    string Target,
    string Description,
    double? ClockHz,
    double? PeakMacsPerCycle,
    double? DramBytesPerCycle);

/// <summary>One layer on one architecture.</summary>
/// <param name="Cycles">At the architecture's clock; null where the layer failed to compile, or only a time was measured on an
/// architecture without a clock.</param>
/// <param name="Seconds">Cycles / clock, or the measured time.</param>
/// <param name="Engine">What produced the number: "VTA simulator", "native AVX-512 VNNI", "target timing model", "cost model".</param>
/// <param name="Match">Whether every output matched the reference; null when nothing ran.</param>
/// <param name="Utilization">Useful MACs per cycle over the peak: <see cref="ComputeBoundCycles"/> / <see cref="Cycles"/>.</param>
/// <param name="UsefulMacs">Multiply-accumulates the layer asks for, without padding.</param>
/// <param name="DramBytes">Off-chip traffic the cost model predicts for the chosen mapping.</param>
/// <param name="MeasuredDramBytes">Off-chip traffic the executor counted, where it counts it.</param>
/// <param name="Embedding">Which loop feeds which capability axis, and the capability: "i&lt;-p j&lt;-k k&lt;-c on gemm.gemm".</param>
/// <param name="Tiles">Tile / padded extent per loop, and the tile order.</param>
public sealed record CompareCell(
    string Layer,
    string Architecture,
    CellStatus Status,
    string? Reason,
    double? Cycles,
    double? Seconds,
    CycleSource? Source,
    string? Engine,
    bool? Match,
    double? Utilization,
    long UsefulMacs,
    long? DramBytes,
    long? MeasuredDramBytes,
    double? PeakMacsPerCycle,
    double? ComputeBoundCycles,
    double? ModelCycles,
    ImmutableArray<StorageOccupancy> Occupancy,
    string? Embedding,
    string? Tiles,
    double CompileSeconds)
{
    /// <summary>Whether this cell may win a row and enter a geomean: it produced a number and no wrong output.</summary>
    public bool Ranked => Status == CellStatus.Ok;

    /// <summary>The cell's value of <paramref name="metric"/>, or null.</summary>
    public double? Value(CompareMetric metric) => metric == CompareMetric.Seconds ? Seconds : Cycles;

    /// <summary>Operational intensity: useful MACs per byte of off-chip traffic (measured where counted, else predicted).</summary>
    public double? MacsPerDramByte => (MeasuredDramBytes ?? DramBytes) is { } bytes && bytes > 0 ? (double)UsefulMacs / bytes : null;

    /// <summary>Achieved useful MACs per cycle.</summary>
    public double? MacsPerCycle => Cycles is { } c && c > 0 ? UsefulMacs / c : null;
}

/// <summary>One layer across the architectures: a cell per architecture, in the order they were given, and the winners.</summary>
/// <param name="Shape">The layer's bindings as "NAME=VALUE ..." in the suite's order.</param>
/// <param name="Winners">The architectures with the smallest value of the report's metric among ranked cells (several on a tie,
/// none when no cell is ranked).</param>
/// <param name="Margin">The best value among the other ranked cells over the winners' value (how much the winners win by);
/// null when fewer than two architectures ranked or all of them tied.</param>
public sealed record LayerComparison(string Layer, string Codelet, string Shape, ImmutableArray<CompareCell> Cells, ImmutableArray<string> Winners, double? Margin)
{
    public CompareCell Cell(string architecture) => Cells.First(c => c.Architecture == architecture);
}

/// <summary>One architecture's summary over the layers.</summary>
/// <param name="Geomean">The geometric mean of the metric over the layers every architecture ranked (<see cref="ComparisonReport.GeomeanLayers"/>).</param>
/// <param name="RatioToFirst">Geomean / the first architecture's geomean: below 1 is faster than the first.</param>
/// <param name="Wins">Rows this architecture won or tied.</param>
/// <param name="Failed">Layers that did not compile or run here, or mismatched.</param>
public sealed record ArchitectureTotal(string Architecture, double? Geomean, double? RatioToFirst, int Wins, int Failed);

public sealed record ComparisonReport(
    string Suite,
    string SuiteFile,
    CompareMetric Metric,
    bool Ran,
    ulong Seed,
    ImmutableArray<ArchitectureProfile> Architectures,
    ImmutableArray<LayerComparison> Layers,
    ImmutableArray<ArchitectureTotal> Totals,
    ImmutableArray<string> GeomeanLayers,
    ImmutableArray<string> Notes)
{
    public bool AnyMismatch => Layers.Any(l => l.Cells.Any(c => c.Status == CellStatus.Mismatch));

    public bool AnyRunFailure => Layers.Any(l => l.Cells.Any(c => c.Status == CellStatus.RunFailed));

    public string MetricUnit => Metric == CompareMetric.Seconds ? "time" : "cycles";
}
