using System.Collections.Immutable;

namespace Covenant.Compiler.Compare;

/// <summary>
/// The arithmetic of a comparison: which metric to rank by, the winners of a row, the geomeans and their ratios.
/// Pure functions over the records of <see cref="ComparisonReport"/>, so tests can check them against hand computation.
/// </summary>
public static class ComparisonMath
{
    /// <summary>Two values this close (relative) are a tie: the same cycle count reached by two architectures.</summary>
    public const double TieTolerance = 1e-9;

    /// <summary>The geometric mean of positive values; null for none. Computed in logs, so large cycle counts do not overflow.</summary>
    public static double? Geomean(IEnumerable<double> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        double sum = 0;
        var count = 0;
        foreach (var value in values)
        {
            if (!(value > 0) || double.IsInfinity(value))
            {
                throw new ArgumentOutOfRangeException(nameof(values), value, "a geomean needs positive finite values");
            }

            sum += Math.Log(value);
            count++;
        }

        return count == 0 ? null : Math.Exp(sum / count);
    }

    /// <summary>
    /// Cycles when every architecture runs at the same clock (the ratio of times is then the ratio of cycles) or when
    /// one has no clock (time cannot be computed for it); time when the clocks differ and all are known.
    /// </summary>
    public static CompareMetric ChooseMetric(IEnumerable<ArchitectureProfile> architectures)
    {
        var clocks = architectures.Select(a => a.ClockHz).ToList();
        return clocks.All(c => c is > 0) && clocks.Distinct().Count() > 1 ? CompareMetric.Seconds : CompareMetric.Cycles;
    }

    /// <summary>The architectures whose ranked cell has the smallest value (ties within <see cref="TieTolerance"/>), in cell order.</summary>
    public static ImmutableArray<string> Winners(IEnumerable<CompareCell> cells, CompareMetric metric)
    {
        var ranked = cells.Where(c => c.Ranked && c.Value(metric) is > 0).ToList();
        if (ranked.Count == 0)
        {
            return [];
        }

        var best = ranked.Min(c => c.Value(metric)!.Value);
        return [.. ranked.Where(c => c.Value(metric)!.Value <= best * (1 + TieTolerance)).Select(c => c.Architecture)];
    }

    /// <summary>The best value among ranked non-winners over the winners' value; null when there is no such cell.</summary>
    public static double? Margin(IEnumerable<CompareCell> cells, ImmutableArray<string> winners, CompareMetric metric)
    {
        var ranked = cells.Where(c => c.Ranked && c.Value(metric) is > 0).ToList();
        var best = ranked.Where(c => winners.Contains(c.Architecture)).Select(c => c.Value(metric)!.Value).DefaultIfEmpty().Min();
        var runnerUp = ranked.Where(c => !winners.Contains(c.Architecture)).Select(c => c.Value(metric)!.Value).DefaultIfEmpty().Min();
        return best > 0 && runnerUp > 0 ? runnerUp / best : null;
    }

    /// <summary>
    /// Puts a report together: winners per row, and per architecture the geomean over the layers that every architecture
    /// ranked (so the geomeans compare like with like), its ratio to the first architecture's, wins and failures.
    /// </summary>
    public static ComparisonReport Assemble(
        string suite,
        string suiteFile,
        ImmutableArray<ArchitectureProfile> architectures,
        IEnumerable<(string Layer, string Codelet, string Shape, ImmutableArray<CompareCell> Cells)> layers,
        bool ran,
        ulong seed,
        IEnumerable<string> notes)
    {
        ArgumentNullException.ThrowIfNull(layers);
        var metric = ChooseMetric(architectures);
        var rows = layers.Select(l =>
        {
            if (l.Cells.Length != architectures.Length || l.Cells.Select(c => c.Architecture).Where((a, i) => a != architectures[i].Name).Any())
            {
                throw new ArgumentException($"layer '{l.Layer}' needs one cell per architecture, in the architectures' order", nameof(layers));
            }

            var winners = Winners(l.Cells, metric);
            return new LayerComparison(l.Layer, l.Codelet, l.Shape, l.Cells, winners, Margin(l.Cells, winners, metric));
        }).ToImmutableArray();

        var common = rows.Where(r => r.Cells.All(c => c.Ranked && c.Value(metric) is > 0)).ToImmutableArray();
        var totals = ImmutableArray.CreateBuilder<ArchitectureTotal>();
        double? first = null;
        foreach (var (architecture, index) in architectures.Select((a, i) => (a.Name, i)))
        {
            var geomean = Geomean(common.Select(r => r.Cells[index].Value(metric)!.Value));
            if (index == 0)
            {
                first = geomean;
            }

            totals.Add(new ArchitectureTotal(
                architecture,
                geomean,
                geomean is { } g && first is { } f ? g / f : null,
                rows.Count(r => r.Winners.Contains(architecture)),
                rows.Count(r => !r.Cells[index].Ranked)));
        }

        return new ComparisonReport(suite, suiteFile, metric, ran, seed, architectures, rows, totals.ToImmutable(),
            [.. common.Select(r => r.Layer)], [.. notes]);
    }
}
