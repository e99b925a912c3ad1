using System.Text;

namespace Covenant.Compiler.Compare;

/// <summary>The comparison as plain-text tables for a terminal: a summary (a row per layer, a column per architecture,
/// the winner, the geomeans) and a table per layer with the details.</summary>
public static class CompareTextWriter
{
    public static string Write(ComparisonReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        var text = new StringBuilder();
        var names = report.Architectures.Select(a => a.Name).ToList();
        text.AppendLine($"compare {report.Suite}: {report.Layers.Length} layer(s) on {string.Join(", ", names)}");
        foreach (var note in report.Notes)
        {
            text.AppendLine("  " + note);
        }

        text.AppendLine();
        List<string[]> summary = [["layer", .. names, "winner"]];
        foreach (var row in report.Layers)
        {
            var winner = CompareFormat.Winners(row) + (row.Margin is { } m ? $" by {CompareFormat.Ratio(m)}" : "");
            summary.Add([row.Layer, .. row.Cells.Select(c => SummaryCell(c, report.Metric)), winner]);
        }

        summary.Add([$"geomean ({report.GeomeanLayers.Length})", .. report.Totals.Select(t => CompareFormat.Value(t.Geomean, report.Metric)), ""]);
        summary.Add([$"ratio to {names[0]}", .. report.Totals.Select(t => CompareFormat.Ratio(t.RatioToFirst)), ""]);
        summary.Add(["wins", .. report.Totals.Select(t => t.Wins.ToString(System.Globalization.CultureInfo.InvariantCulture)), ""]);
        Table(text, summary, rightAligned: column => column > 0 && column <= names.Count);
        text.AppendLine($"  {report.MetricUnit}: sim = simulated, meas = measured on the hardware, pred = predicted. " +
            $"Geomeans over the {report.GeomeanLayers.Length} layer(s) every architecture ran without error; ratio below 1 = faster than {names[0]}.");

        foreach (var row in report.Layers)
        {
            text.AppendLine();
            text.AppendLine($"{row.Layer}: {row.Codelet} {row.Shape}");
            List<string[]> table = [["architecture", "cycles", "source", "time", "util", "DRAM", "on-chip occupancy", "embedding", "tiles", ""]];
            foreach (var cell in row.Cells)
            {
                var mark = cell.Status switch
                {
                    CellStatus.Ok => row.Winners.Contains(cell.Architecture) ? "winner" : "",
                    _ => CompareFormat.Status(cell.Status).ToUpperInvariant(),
                };
                table.Add(cell.Status == CellStatus.CompileFailed
                    ? [cell.Architecture, "-", "", "", "", "", "", "", "", mark]
                    : [
                        cell.Architecture, CompareFormat.Cycles(cell.Cycles), CompareFormat.Source(cell.Source) + (cell.Engine is { } e ? $" ({e})" : ""),
                        CompareFormat.Time(cell.Seconds), CompareFormat.Percent(cell.Utilization), CompareFormat.Bytes(cell.MeasuredDramBytes ?? cell.DramBytes),
                        CompareFormat.Occupancy(cell.Occupancy), cell.Embedding ?? "", cell.Tiles ?? "", mark,
                    ]);
            }

            Table(text, table, rightAligned: column => column is 1 or 3 or 4 or 5, indent: "  ");
            foreach (var cell in row.Cells.Where(c => c.Reason is not null))
            {
                text.AppendLine($"  {cell.Architecture}: {CompareFormat.Status(cell.Status)}: {cell.Reason}");
            }
        }

        return text.ToString();
    }

    private static string SummaryCell(CompareCell cell, CompareMetric metric) => cell.Status switch
    {
        CellStatus.CompileFailed => "did not compile",
        CellStatus.RunFailed => "run failed",
        CellStatus.Mismatch => CompareFormat.Value(cell.Value(metric), metric) + " MISMATCH",
        _ => CompareFormat.Value(cell.Value(metric), metric) + " " + cell.Source switch
        {
            CycleSource.Simulated => "sim",
            CycleSource.Measured => "meas",
            _ => "pred",
        },
    };

    private static void Table(StringBuilder text, List<string[]> rows, Func<int, bool> rightAligned, string indent = "")
    {
        var widths = Enumerable.Range(0, rows[0].Length).Select(c => rows.Max(r => r[c].Length)).ToArray();
        foreach (var row in rows)
        {
            var line = new StringBuilder(indent);
            for (var c = 0; c < row.Length; c++)
            {
                line.Append(rightAligned(c) ? row[c].PadLeft(widths[c]) : row[c].PadRight(widths[c]));
                line.Append("  ");
            }

            text.AppendLine(line.ToString().TrimEnd());
        }
    }
}
