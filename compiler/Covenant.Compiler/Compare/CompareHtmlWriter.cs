using System.Globalization;
using System.Text;

namespace Covenant.Compiler.Compare;

/// <summary>
/// The comparison as one self-contained HTML file: no external resource of any kind (a Content-Security-Policy forbids
/// them, so a browser would refuse even an accidental one), inline CSS, inline SVG charts (<see cref="SvgCharts"/>), and
/// a few lines of script that only make the summary table sortable. Every text from the inputs is escaped.
/// </summary>
public static class CompareHtmlWriter
{
    /// <summary>The ids of the charts, in the order the report shows them.</summary>
    public static readonly string[] ChartIds = ["chart-speedup", "chart-utilization", "chart-roofline"];

    private const string Style = """
        body { font: 14px/1.4 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 24px; color: #222; }
        h1 { font-size: 22px; } h2 { font-size: 18px; margin-top: 32px; } h3 { font-size: 15px; margin-bottom: 4px; }
        table { border-collapse: collapse; margin: 8px 0 16px; }
        th, td { border: 1px solid #ccc; padding: 3px 8px; text-align: left; vertical-align: top; }
        th { background: #f2f2f2; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
        th.sortable { cursor: pointer; } th.sortable::after { content: " \2195"; color: #999; }
        td.win { font-weight: bold; background: #e8f5e9; } td.bad { background: #fdecea; } td.small { font-size: 12px; }
        .note { color: #555; margin: 2px 0; } .figure { overflow-x: auto; margin: 8px 0 24px; }
        svg .grid { stroke: #e5e5e5; } svg .axis { stroke: #333; } svg .reference { stroke: #555; stroke-dasharray: 6 4; }
        svg .tick { font-size: 11px; fill: #333; } svg .label { font-size: 12px; fill: #222; } svg .missing { font-size: 14px; font-weight: bold; }
        """;

    // Sorts the summary table by a clicked header (numbers by their data-sort value); the last line marks the page as
    // scripted so a headless browser can tell that the script ran to the end.
    private const string Script = """
        (function () {
          var table = document.getElementById('summary');
          var body = table.tBodies[0];
          Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th, column) {
            th.classList.add('sortable');
            th.addEventListener('click', function () {
              var rows = Array.prototype.slice.call(body.rows);
              var descending = th.dataset.order === 'asc';
              rows.sort(function (a, b) {
                var x = a.cells[column].dataset.sort, y = b.cells[column].dataset.sort;
                var c = (x !== undefined && y !== undefined) ? Number(x) - Number(y) : a.cells[column].textContent.localeCompare(b.cells[column].textContent);
                return descending ? -c : c;
              });
              th.dataset.order = descending ? 'desc' : 'asc';
              rows.forEach(function (r) { body.appendChild(r); });
            });
          });
          document.body.dataset.script = 'ok';
        })();
        """;

    public static string Write(ComparisonReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        var names = report.Architectures.Select(a => a.Name).ToList();
        var html = new StringBuilder();
        html.Append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
        html.Append("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'\">\n");
        html.Append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
        html.Append(CultureInfo.InvariantCulture, $"<title>covenantc compare: {E(report.Suite)} on {E(string.Join(", ", names))}</title>\n");
        html.Append("<style>\n").Append(Style).Append("</style>\n</head>\n<body>\n");
        html.Append(CultureInfo.InvariantCulture, $"<h1>{E(report.Suite)}: {report.Layers.Length} layer(s) on {report.Architectures.Length} architecture(s)</h1>\n");
        html.Append(CultureInfo.InvariantCulture, $"<p class=\"note\">Suite file {E(report.SuiteFile)}; {(report.Ran ? $"runs verified against the reference interpreter with seed {report.Seed}" : "nothing was run")}.</p>\n");
        foreach (var note in report.Notes)
        {
            html.Append(CultureInfo.InvariantCulture, $"<p class=\"note\">{E(note)}</p>\n");
        }

        Architectures(html, report);
        Summary(html, report);
        Charts(html, report);
        Details(html, report);
        html.Append("<script>\n").Append(Script).Append("</script>\n</body>\n</html>\n");
        return html.ToString();
    }

    private static string E(string? text) => SvgCharts.Escape(text ?? "");

    private static string Num(double? value) => value is { } v ? v.ToString("R", CultureInfo.InvariantCulture) : "";

    private static void Architectures(StringBuilder html, ComparisonReport report)
    {
        html.Append("<h2>Architectures</h2>\n<table id=\"architectures\">\n<thead><tr><th>name</th><th>target</th><th>clock</th>" +
            "<th>peak MAC/cycle</th><th>DRAM B/cycle</th><th>file</th><th>description</th></tr></thead>\n<tbody>\n");
        foreach (var a in report.Architectures)
        {
            html.Append(CultureInfo.InvariantCulture,
                $"<tr><td>{E(a.Name)}</td><td>{E(a.Target)}</td><td class=\"num\">{E(a.ClockHz is { } hz ? Acg.Model.Format.Frequency(hz) : "-")}</td>" +
                $"<td class=\"num\">{E(CompareFormat.Number(a.PeakMacsPerCycle))}</td><td class=\"num\">{E(CompareFormat.Number(a.DramBytesPerCycle))}</td>" +
                $"<td>{E(a.File)}</td><td>{E(a.Description)}</td></tr>\n");
        }

        html.Append("</tbody>\n</table>\n");
        html.Append("<p class=\"note\">Peak: the fastest multiply-accumulate capability the layers used (operations per issue / issue interval x units). " +
            "DRAM: the widest edge out of off-chip storage. Both come from the YAML and are the roofs of the roofline below.</p>\n");
    }

    private static void Summary(StringBuilder html, ComparisonReport report)
    {
        var unit = report.Metric == CompareMetric.Seconds ? "time" : "cycles";
        html.Append(CultureInfo.InvariantCulture, $"<h2>Summary ({unit}, lower is better)</h2>\n<table id=\"summary\">\n<thead><tr><th>layer</th>");
        foreach (var a in report.Architectures)
        {
            html.Append(CultureInfo.InvariantCulture, $"<th>{E(a.Name)}</th>");
        }

        html.Append("<th>winner</th><th>by</th></tr></thead>\n<tbody>\n");
        foreach (var row in report.Layers)
        {
            html.Append(CultureInfo.InvariantCulture, $"<tr><td>{E(row.Layer)}</td>");
            foreach (var cell in row.Cells)
            {
                var css = row.Winners.Contains(cell.Architecture) ? "num win" : cell.Ranked ? "num" : "num bad";
                var value = cell.Value(report.Metric);
                var text = cell.Status switch
                {
                    CellStatus.CompileFailed => "did not compile",
                    CellStatus.RunFailed => "run failed",
                    CellStatus.Mismatch => CompareFormat.Value(value, report.Metric, "\u00b5s") + " MISMATCH",
                    _ => CompareFormat.Value(value, report.Metric, "\u00b5s") + " " + CompareFormat.Source(cell.Source),
                };
                var sort = cell.Ranked && value is { } v ? $" data-sort=\"{Num(v)}\"" : " data-sort=\"Infinity\"";
                html.Append(CultureInfo.InvariantCulture, $"<td class=\"{css}\"{sort} title=\"{E(cell.Reason ?? cell.Engine)}\">{E(text)}</td>");
            }

            html.Append(CultureInfo.InvariantCulture,
                $"<td>{E(CompareFormat.Winners(row))}</td><td class=\"num\" data-sort=\"{Num(row.Margin ?? 1)}\">{E(CompareFormat.Ratio(row.Margin))}</td></tr>\n");
        }

        html.Append("</tbody>\n<tfoot>\n");
        html.Append(CultureInfo.InvariantCulture, $"<tr><th>geomean ({report.GeomeanLayers.Length} layer(s))</th>");
        foreach (var total in report.Totals)
        {
            html.Append(CultureInfo.InvariantCulture, $"<td class=\"num\">{E(CompareFormat.Value(total.Geomean, report.Metric, "\u00b5s"))}</td>");
        }

        html.Append("<td></td><td></td></tr>\n");
        html.Append(CultureInfo.InvariantCulture, $"<tr><th>ratio to {E(report.Architectures[0].Name)}</th>");
        foreach (var total in report.Totals)
        {
            html.Append(CultureInfo.InvariantCulture, $"<td class=\"num\">{E(CompareFormat.Ratio(total.RatioToFirst))}</td>");
        }

        html.Append("<td></td><td></td></tr>\n<tr><th>wins / failed</th>");
        foreach (var total in report.Totals)
        {
            html.Append(CultureInfo.InvariantCulture, $"<td class=\"num\">{total.Wins} / {total.Failed}</td>");
        }

        html.Append("<td></td><td></td></tr>\n</tfoot>\n</table>\n");
        html.Append(CultureInfo.InvariantCulture,
            $"<p class=\"note\">Geomeans are over the {report.GeomeanLayers.Length} layer(s) every architecture ran without error; a ratio below 1 is faster than " +
            $"{E(report.Architectures[0].Name)}. \u201cBy\u201d is the runner-up over the winner. Simulated: the target's simulator counted the cycles; " +
            $"measured: native time at the YAML clock; predicted: the target's timing model or the mapper's cost model. Click a header to sort.</p>\n");
    }

    private static void Charts(StringBuilder html, ComparisonReport report)
    {
        var names = report.Architectures.Select(a => a.Name).ToList();
        var first = names[0];
        var speedups = report.Layers.Select(row =>
        {
            var baseline = row.Cells[0];
            return new BarGroup(row.Layer, [.. row.Cells.Select(cell =>
            {
                var value = cell.Ranked && baseline.Ranked && cell.Value(report.Metric) is > 0 && baseline.Value(report.Metric) is > 0
                    ? baseline.Value(report.Metric)!.Value / cell.Value(report.Metric)!.Value
                    : (double?)null;
                var tooltip = value is { } v
                    ? $"{row.Layer} on {cell.Architecture}: {v.ToString("0.000", CultureInfo.InvariantCulture)}x {first} ({CompareFormat.Value(cell.Value(report.Metric), report.Metric)}, {CompareFormat.Source(cell.Source)})"
                    : $"{row.Layer} on {cell.Architecture}: {Why(cell, baseline, first)}";
                return new BarValue(cell.Architecture, value, cell.Source == CycleSource.Predicted || baseline.Source == CycleSource.Predicted, tooltip);
            })]);
        }).ToList();
        var utilization = report.Layers.Select(row => new BarGroup(row.Layer, [.. row.Cells.Select(cell => new BarValue(
            cell.Architecture,
            cell.Ranked ? cell.Utilization : null,
            cell.Source == CycleSource.Predicted,
            cell.Ranked ? $"{row.Layer} on {cell.Architecture}: {CompareFormat.Percent(cell.Utilization)} of peak ({CompareFormat.Source(cell.Source)})" : $"{row.Layer} on {cell.Architecture}: {Why(cell, null, first)}"))])).ToList();
        var roofline = report.Architectures.Select(a => new RooflineSeries(a.Name, a.PeakMacsPerCycle, a.DramBytesPerCycle, [.. report.Layers
            .Select(row => row.Cell(a.Name))
            .Where(c => c.Ranked && c.MacsPerDramByte is > 0 && c.MacsPerCycle is > 0)
            .Select(c => new RooflinePoint(c.MacsPerDramByte!.Value, c.MacsPerCycle!.Value, c.Source == CycleSource.Predicted,
                $"{c.Layer} on {c.Architecture}: {CompareFormat.Number(c.MacsPerDramByte)} MAC/B, {CompareFormat.Number(c.MacsPerCycle)} MAC/cycle ({CompareFormat.Source(c.Source)})"))])).ToList();

        html.Append("<h2>Charts</h2>\n");
        html.Append(CultureInfo.InvariantCulture, $"<h3>Speedup over {E(first)} per layer (higher is better; logarithmic scale)</h3>\n<div class=\"figure\">");
        html.Append(SvgCharts.GroupedBars(ChartIds[0], $"Speedup over {first} per layer", $"speedup over {first}", names, speedups,
            v => v.ToString("0.##", CultureInfo.InvariantCulture) + "x", reference: 1, logarithmic: true));
        html.Append("</div>\n<p class=\"note\">Light, dashed bars involve a prediction; \u00d7 marks a layer that failed (hover for why).</p>\n");
        html.Append("<h3>Utilization per layer (useful MACs per cycle over peak)</h3>\n<div class=\"figure\">");
        html.Append(SvgCharts.GroupedBars(ChartIds[1], "Utilization per layer", "utilization", names, utilization,
            v => (v * 100).ToString("0", CultureInfo.InvariantCulture) + "%", fixedMax: 1));
        html.Append("</div>\n<h3>Roofline</h3>\n<div class=\"figure\">");
        html.Append(SvgCharts.Roofline(ChartIds[2], "Roofline: achieved MAC per cycle against MAC per DRAM byte", roofline));
        html.Append("</div>\n<p class=\"note\">Each architecture's roof is min(peak MAC/cycle, DRAM bytes/cycle \u00d7 intensity), in its own cycles. " +
            "Intensity uses the DRAM traffic the executor counted where it counts it, else the cost model's. Hollow points are predictions.</p>\n");
    }

    private static string Why(CompareCell cell, CompareCell? baseline, string first) =>
        !cell.Ranked ? $"{CompareFormat.Status(cell.Status)}: {cell.Reason}"
        : baseline is { Ranked: false } ? $"no baseline ({first}: {CompareFormat.Status(baseline.Status)})"
        : "no value";

    private static void Details(StringBuilder html, ComparisonReport report)
    {
        html.Append("<h2>Per layer</h2>\n");
        foreach (var row in report.Layers)
        {
            html.Append(CultureInfo.InvariantCulture, $"<h3>{E(row.Layer)} <small>{E(row.Codelet)} {E(row.Shape)}</small></h3>\n");
            html.Append("<table class=\"layer\">\n<thead><tr><th>architecture</th><th>cycles</th><th>source</th><th>time</th><th>utilization</th>" +
                "<th>DRAM traffic</th><th>on-chip occupancy (tiles / capacity)</th><th>embedding</th><th>tiles</th><th>result</th></tr></thead>\n<tbody>\n");
            foreach (var cell in row.Cells)
            {
                var win = row.Winners.Contains(cell.Architecture);
                var result = cell.Status switch
                {
                    CellStatus.Ok => win ? "winner" : cell.Match == true ? "match" : "",
                    _ => $"{CompareFormat.Status(cell.Status)}: {cell.Reason}",
                };
                var traffic = cell.MeasuredDramBytes is { } measured
                    ? $"{CompareFormat.Bytes(measured)} counted ({CompareFormat.Bytes(cell.DramBytes)} predicted)"
                    : CompareFormat.Bytes(cell.DramBytes);
                html.Append(CultureInfo.InvariantCulture,
                    $"<tr><td{(win ? " class=\"win\"" : "")}>{E(cell.Architecture)}</td><td class=\"num\">{E(CompareFormat.Cycles(cell.Cycles))}</td>" +
                    $"<td>{E(CompareFormat.Source(cell.Source) + (cell.Engine is { } e ? $" ({e})" : ""))}</td><td class=\"num\">{E(CompareFormat.Time(cell.Seconds, "\u00b5s"))}</td>" +
                    $"<td class=\"num\">{E(CompareFormat.Percent(cell.Utilization))}</td><td class=\"num\">{E(traffic)}</td>" +
                    $"<td class=\"small\">{E(string.Join(", ", cell.Occupancy.Select(o => $"{o.Storage} {CompareFormat.Bytes(o.Bytes)} / {CompareFormat.Bytes(o.CapacityBytes)} ({CompareFormat.Percent(o.Fraction)})")))}</td>" +
                    $"<td class=\"small\">{E(cell.Embedding)}</td><td class=\"small\">{E(cell.Tiles)}</td><td{(cell.Ranked ? "" : " class=\"bad\"")}>{E(result)}</td></tr>\n");
            }

            html.Append("</tbody>\n</table>\n");
        }
    }
}
