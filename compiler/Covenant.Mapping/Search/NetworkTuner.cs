using System.Diagnostics;

namespace Covenant.Mapping.Search;

/// <summary>The tuning budget of a whole network: trials (measurements, resumed ones included) and/or wall-clock time.</summary>
public sealed record TuneBudget(int? Trials, TimeSpan? Time)
{
    public override string ToString() => (Trials, Time) switch
    {
        ({ } t, { } s) => $"{t} trials or {s.TotalSeconds:F0} s",
        ({ } t, null) => $"{t} trials",
        (null, { } s) => $"{s.TotalSeconds:F0} s",
        _ => "unbounded",
    };
}

/// <summary>Where a tuning run stands, for the progress line.</summary>
public sealed record TuneProgress(
    string Layer,
    int Generation,
    double? LayerBest,
    double? LayerDefault,
    double NetworkBest,
    int Trials,
    int? BudgetTrials,
    TimeSpan Elapsed,
    TimeSpan? Remaining);

/// <summary>
/// Shares one budget across a network's layers (GTA's dual-task scheduling, Ansor's task scheduler): after one
/// warm-up step per layer, each step goes to the layer expected to reduce the network's total latency (the sum of the
/// layers' best) the most per trial — its latency times a blend of its recent relative improvement per trial and an
/// optimism that decays with the trials it already had. Large layers that keep improving get more; small or stalled
/// ones get less; spent spaces get nothing. Within a layer, the share among its problems follows the genetic search's
/// selection (see <see cref="LayerTuner"/>).
/// </summary>
public sealed class NetworkTuner(IReadOnlyList<LayerTuner> layers, TuneBudget budget, int measurementsPerStep)
{
    // Steps of a layer its backward gradient looks back over.
    private const int Window = 3;

    // Weight of the observed improvement against the optimistic prior.
    private const double Observed = 0.5;

    private readonly Dictionary<LayerTuner, List<(int Trials, double Best)>> history = [];

    public event Action<Trial>? TrialFinished;

    public event Action<TuneProgress>? Progressed;

    /// <summary>The sum of every layer's best measured cost (its default where nothing better was measured).</summary>
    public double NetworkBest => layers.Sum(l => l.Best?.Measured ?? l.DefaultCost ?? 0);

    public int Trials => layers.Sum(l => l.Trials);

    /// <summary>Runs until the budget is spent, every layer's space is spent, or <paramref name="cancellation"/> fires.</summary>
    public void Run(CancellationToken cancellation)
    {
        var clock = Stopwatch.StartNew();
        var startTrials = Trials;
        while (!cancellation.IsCancellationRequested)
        {
            var left = budget.Trials is { } total ? total - Trials : int.MaxValue;
            if (left <= 0 || (budget.Time is { } time && clock.Elapsed >= time))
            {
                return;
            }

            var layer = Next();
            if (layer is null)
            {
                return;
            }

            var before = layer.Best?.Measured ?? double.PositiveInfinity;
            var trialsBefore = layer.Trials;
            foreach (var trial in layer.Step(Math.Min(left, measurementsPerStep), cancellation, t =>
            {
                TrialFinished?.Invoke(t);
                Report(t.Layer, layer, clock.Elapsed, startTrials);
            }))
            {
                _ = trial;
            }

            if (!history.TryGetValue(layer, out var steps))
            {
                history[layer] = steps = [(trialsBefore, before)];
            }

            steps.Add((layer.Trials, layer.Best?.Measured ?? double.PositiveInfinity));
            Report(layer.Name, layer, clock.Elapsed, startTrials);
        }
    }

    /// <summary>The layer to give the next step: an unstarted one first, then the highest expected gain per trial.</summary>
    public LayerTuner? Next()
    {
        var unstarted = layers.FirstOrDefault(l => l.Trials == 0 && !l.Exhausted);
        if (unstarted is not null)
        {
            return unstarted;
        }

        LayerTuner? pick = null;
        var bestGain = 0.0;
        foreach (var layer in layers.Where(l => !l.Exhausted))
        {
            var gain = ExpectedGain(layer);
            if (pick is null || gain > bestGain)
            {
                (pick, bestGain) = (layer, gain);
            }
        }

        return pick;
    }

    /// <summary>Expected reduction of the layer's latency per trial, in its cost unit.</summary>
    public double ExpectedGain(LayerTuner layer)
    {
        ArgumentNullException.ThrowIfNull(layer);
        var latency = layer.Best?.Measured ?? layer.DefaultCost ?? 0;
        var backward = 0.0;
        if (history.TryGetValue(layer, out var steps) && steps.Count > 1)
        {
            var (thenTrials, thenBest) = steps[Math.Max(0, steps.Count - 1 - Window)];
            var (nowTrials, nowBest) = steps[^1];
            if (double.IsFinite(thenBest) && double.IsFinite(nowBest) && nowTrials > thenTrials)
            {
                backward = (thenBest - nowBest) / thenBest / (nowTrials - thenTrials);
            }
        }

        var optimism = 1.0 / (layer.Trials + measurementsPerStep);
        return latency * ((Observed * backward) + ((1 - Observed) * optimism));
    }

    private void Report(string name, LayerTuner layer, TimeSpan elapsed, int startTrials)
    {
        if (Progressed is null)
        {
            return;
        }

        TimeSpan? remaining = null;
        var done = Trials - startTrials;
        if (budget.Trials is { } total && done > 0)
        {
            remaining = elapsed / done * Math.Max(0, total - Trials);
        }

        if (budget.Time is { } time)
        {
            var byTime = time - elapsed;
            remaining = remaining is { } r && r < byTime ? r : (byTime > TimeSpan.Zero ? byTime : TimeSpan.Zero);
        }

        Progressed(new TuneProgress(name, layer.Generation, layer.Best?.Measured, layer.DefaultCost, NetworkBest, Trials, budget.Trials, elapsed, remaining));
    }
}
