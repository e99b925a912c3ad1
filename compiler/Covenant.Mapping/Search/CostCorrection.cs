using Covenant.Mapping.Model;

namespace Covenant.Mapping.Search;

/// <summary>
/// A small online correction of the analytic cost model: log(measured / model) fit by ridge-regularized least squares
/// on a few features of the mapping (the model's own log cycles, its compute utilization, the share of transfer cycles,
/// the log of the number of tiles — per-tile overheads the model does not see — and the number of double-buffered
/// storages). Predictions are model × exp(fit). With fewer than two measurements it predicts the model times the
/// mean ratio, which does not change the ranking.
/// </summary>
public sealed class CostCorrection
{
    public const int FeatureCount = 6;

    // Shrinks the slopes (not the intercept) towards zero: with a handful of points the fit must not overreach.
    private const double Ridge = 0.5;

    private readonly List<(double[] Features, double Target)> points = [];
    private double[] weights = new double[FeatureCount];
    private double[] means = new double[FeatureCount];
    private double[] scales = Enumerable.Repeat(1.0, FeatureCount).ToArray();

    public int Count => points.Count;

    public static double[] Features(LayerMapping mapping)
    {
        ArgumentNullException.ThrowIfNull(mapping);
        var cost = mapping.Cost;
        var cycles = Math.Max(1.0, cost.Cycles);
        var tiles = mapping.Loops.Aggregate(1.0, (product, loop) => product * loop.TileCount);
        return
        [
            1.0,
            Math.Log(cycles),
            cost.Utilization,
            Math.Min(4.0, cost.TransferCycles.Values.Sum() / cycles),
            Math.Log(tiles),
            mapping.DoubleBuffered.Length,
        ];
    }

    public void Add(LayerMapping mapping, double measured)
    {
        ArgumentNullException.ThrowIfNull(mapping);
        if (measured <= 0 || mapping.Cost.Cycles <= 0)
        {
            return;
        }

        points.Add((Features(mapping), Math.Log(measured / mapping.Cost.Cycles)));
        Fit();
    }

    /// <summary>The model's cycles, corrected by what the measurements so far say about mappings like this one.</summary>
    public double Predict(LayerMapping mapping)
    {
        ArgumentNullException.ThrowIfNull(mapping);
        var x = Features(mapping);
        var y = weights[0];
        for (var f = 1; f < FeatureCount; f++)
        {
            y += weights[f] * (x[f] - means[f]) / scales[f];
        }

        return mapping.Cost.Cycles * Math.Exp(Math.Clamp(y, -5, 5));
    }

    private void Fit()
    {
        var n = points.Count;
        means = new double[FeatureCount];
        scales = Enumerable.Repeat(1.0, FeatureCount).ToArray();
        for (var f = 1; f < FeatureCount; f++)
        {
            means[f] = points.Average(p => p.Features[f]);
            var variance = points.Average(p => (p.Features[f] - means[f]) * (p.Features[f] - means[f]));
            scales[f] = variance > 1e-12 ? Math.Sqrt(variance) : 1.0;
        }

        weights = new double[FeatureCount];
        weights[0] = points.Average(p => p.Target);
        if (n < 2)
        {
            return;
        }

        // Normal equations on centered, scaled features: (XᵀX + λI) w = Xᵀ(y - ȳ); the intercept is the mean.
        var size = FeatureCount - 1;
        var a = new double[size, size + 1];
        foreach (var (features, target) in points)
        {
            var z = new double[size];
            for (var f = 0; f < size; f++)
            {
                z[f] = (features[f + 1] - means[f + 1]) / scales[f + 1];
            }

            for (var i = 0; i < size; i++)
            {
                for (var j = 0; j < size; j++)
                {
                    a[i, j] += z[i] * z[j];
                }

                a[i, size] += z[i] * (target - weights[0]);
            }
        }

        for (var i = 0; i < size; i++)
        {
            a[i, i] += Ridge;
        }

        var solution = Solve(a, size);
        for (var f = 0; f < size; f++)
        {
            weights[f + 1] = solution[f];
        }
    }

    // Gaussian elimination with partial pivoting; the ridge keeps the system positive definite.
    private static double[] Solve(double[,] a, int size)
    {
        for (var column = 0; column < size; column++)
        {
            var pivot = column;
            for (var row = column + 1; row < size; row++)
            {
                if (Math.Abs(a[row, column]) > Math.Abs(a[pivot, column]))
                {
                    pivot = row;
                }
            }

            for (var k = 0; k <= size; k++)
            {
                (a[column, k], a[pivot, k]) = (a[pivot, k], a[column, k]);
            }

            for (var row = column + 1; row < size; row++)
            {
                var factor = a[row, column] / a[column, column];
                for (var k = column; k <= size; k++)
                {
                    a[row, k] -= factor * a[column, k];
                }
            }
        }

        var x = new double[size];
        for (var row = size - 1; row >= 0; row--)
        {
            var sum = a[row, size];
            for (var k = row + 1; k < size; k++)
            {
                sum -= a[row, k] * x[k];
            }

            x[row] = sum / a[row, row];
        }

        return x;
    }
}
