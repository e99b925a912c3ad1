using System.Globalization;
using System.Net;
using System.Text;

namespace Covenant.Compiler.Compare;

/// <summary>One bar of a grouped bar chart: a value (none when the cell failed), drawn light when it is a prediction.</summary>
public sealed record BarValue(string Series, double? Value, bool Predicted, string Tooltip);

public sealed record BarGroup(string Label, IReadOnlyList<BarValue> Bars);

/// <summary>One series of a roofline: its roofs (either may be unknown) and its points (x = MAC per DRAM byte, y = MAC per cycle).</summary>
public sealed record RooflineSeries(string Name, double? PeakMacsPerCycle, double? DramBytesPerCycle, IReadOnlyList<RooflinePoint> Points);

public sealed record RooflinePoint(double MacsPerByte, double MacsPerCycle, bool Predicted, string Tooltip);

/// <summary>
/// Inline SVG charts, written by hand so the report needs nothing but a browser: grouped bars and a log-log roofline.
/// Every text and attribute value is escaped. Elements carry classes the report's tests count: <c>bar</c> (one per value),
/// <c>missing</c> (a failed cell), <c>roof</c> (one per series with both roofs), <c>point</c> (one per roofline point).
/// </summary>
public static class SvgCharts
{
    /// <summary>Colors for series, in order; distinguishable for the common color-vision deficiencies (Okabe–Ito).</summary>
    public static readonly string[] Palette = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#D55E00", "#56B4E9", "#F0E442", "#000000"];

    private const int Top = 40, Bottom = 110, Left = 70, Right = 20, PlotHeight = 260;

    public static string Color(int series) => Palette[series % Palette.Length];

    public static string Escape(string text) => WebUtility.HtmlEncode(text);

    /// <summary>
    /// Grouped bars. On a linear scale they rise from zero (to <paramref name="fixedMax"/> or a round number above the
    /// largest); on a logarithmic one (speedups, which span orders of magnitude) they rise or fall from
    /// <paramref name="reference"/>, drawn as a dashed line, and are at least 2 px tall so a bar equal to it still shows.
    /// </summary>
    public static string GroupedBars(string id, string title, string axisLabel, IReadOnlyList<string> series, IReadOnlyList<BarGroup> groups,
        Func<double, string> tick, double? reference = null, double? fixedMax = null, bool logarithmic = false)
    {
        ArgumentNullException.ThrowIfNull(series);
        ArgumentNullException.ThrowIfNull(groups);
        ArgumentNullException.ThrowIfNull(tick);
        var barWidth = 14;
        var groupWidth = (series.Count * barWidth) + 16;
        var plotWidth = Math.Max(360, groups.Count * groupWidth);
        var width = Left + plotWidth + Right;
        var height = Top + PlotHeight + Bottom;
        var values = groups.SelectMany(g => g.Bars).Select(b => b.Value).OfType<double>().Where(v => !logarithmic || v > 0).ToList();
        var baseline = logarithmic ? reference ?? 1 : 0;
        double lo, hi;
        List<double> ticks;
        if (logarithmic)
        {
            lo = Math.Pow(10, Math.Floor(Math.Log10(values.Append(baseline).Min())));
            hi = Math.Pow(10, Math.Ceiling(Math.Log10(values.Append(baseline).Max() * 1.05)));
            hi = Math.Max(hi, lo * 10);
            var decades = (int)Math.Round(Math.Log10(hi / lo));
            double[] factors = decades <= 2 ? [1, 2, 5] : [1];
            ticks = [.. Enumerable.Range(0, decades + 1).SelectMany(e => factors.Select(f => f * lo * Math.Pow(10, e))).Where(v => v <= hi * (1 + 1e-9))];
        }

        else
        {
            lo = 0;
            var largest = Math.Max(values.DefaultIfEmpty(0).Max(), reference ?? 0);
            hi = fixedMax ?? NiceCeiling(largest > 0 ? largest * 1.05 : 1);
            var step = NiceStep(hi / 5);
            ticks = [.. Enumerable.Range(0, (int)Math.Floor((hi / step) + 1e-9) + 1).Select(i => i * step)];
        }

        double Y(double v) => logarithmic
            ? Top + PlotHeight - ((Math.Log10(Math.Clamp(v, lo, hi)) - Math.Log10(lo)) / Math.Log10(hi / lo) * PlotHeight)
            : Top + PlotHeight - (Math.Clamp(v, 0, hi) / hi * PlotHeight);

        var svg = Open(id, title, width, height);
        foreach (var v in ticks)
        {
            svg.Append(Line(Left, Y(v), Left + plotWidth, Y(v), "grid"));
            svg.Append(Text(Left - 6, Y(v) + 4, tick(v), "end", "tick"));
        }

        svg.Append(Line(Left, Top, Left, Top + PlotHeight, "axis")).Append(Line(Left, Top + PlotHeight, Left + plotWidth, Top + PlotHeight, "axis"));
        svg.Append(CultureInfo.InvariantCulture,
            $"<text class=\"label\" transform=\"translate(16 {Top + (PlotHeight / 2)}) rotate(-90)\" text-anchor=\"middle\">{Escape(axisLabel)}</text>");
        for (var g = 0; g < groups.Count; g++)
        {
            var x0 = Left + (g * groupWidth) + 8;
            for (var s = 0; s < groups[g].Bars.Count; s++)
            {
                var bar = groups[g].Bars[s];
                var x = x0 + (s * barWidth);
                var seriesIndex = IndexOf(series, bar.Series);
                if (bar.Value is { } value)
                {
                    var (y, end) = (Math.Min(Y(value), Y(baseline)), Math.Max(Y(value), Y(baseline)));
                    if (logarithmic && end - y < 2)
                    {
                        (y, end) = (Y(baseline) - 1, Y(baseline) + 1);
                    }

                    svg.Append(CultureInfo.InvariantCulture,
                        $"<rect class=\"bar{(bar.Predicted ? " predicted" : "")}\" data-series=\"{Escape(bar.Series)}\" data-group=\"{Escape(groups[g].Label)}\" " +
                        $"x=\"{x}\" y=\"{N(y)}\" width=\"{barWidth - 2}\" height=\"{N(end - y)}\" fill=\"{Color(seriesIndex)}\"" +
                        $"{(bar.Predicted ? " fill-opacity=\"0.45\" stroke=\"" + Color(seriesIndex) + "\" stroke-dasharray=\"3 2\"" : "")}>" +
                        $"<title>{Escape(bar.Tooltip)}</title></rect>");
                }
                else
                {
                    svg.Append(CultureInfo.InvariantCulture,
                        $"<text class=\"missing\" x=\"{x + ((barWidth - 2) / 2)}\" y=\"{Top + PlotHeight - 4}\" text-anchor=\"middle\" fill=\"{Color(seriesIndex)}\">" +
                        $"\u00d7<title>{Escape(bar.Tooltip)}</title></text>");
                }
            }

            var labelX = x0 + (groups[g].Bars.Count * barWidth / 2.0);
            svg.Append(CultureInfo.InvariantCulture,
                $"<text class=\"tick\" transform=\"translate({N(labelX)} {Top + PlotHeight + 14}) rotate(-35)\" text-anchor=\"end\">{Escape(groups[g].Label)}</text>");
        }

        if (reference is { } r)
        {
            svg.Append(Line(Left, Y(r), Left + plotWidth, Y(r), "reference"));
        }

        svg.Append(Legend(series, Left, 22));
        return svg.Append("</svg>").ToString();
    }

    /// <summary>
    /// A roofline on log-log axes: per series the roof min(peak, bandwidth x intensity) and its points. Hollow points are
    /// predictions.
    /// </summary>
    public static string Roofline(string id, string title, IReadOnlyList<RooflineSeries> series)
    {
        ArgumentNullException.ThrowIfNull(series);
        const int plotWidth = 640;
        var width = Left + plotWidth + Right + 160;
        var height = Top + PlotHeight + 60;
        var xs = series.SelectMany(s => s.Points.Select(p => p.MacsPerByte))
            .Concat(series.Where(s => s.PeakMacsPerCycle is > 0 && s.DramBytesPerCycle is > 0).Select(s => s.PeakMacsPerCycle!.Value / s.DramBytesPerCycle!.Value))
            .Where(v => v > 0).DefaultIfEmpty(1).ToList();
        var ys = series.SelectMany(s => s.Points.Select(p => p.MacsPerCycle)).Concat(series.Select(s => s.PeakMacsPerCycle ?? 0))
            .Where(v => v > 0).DefaultIfEmpty(1).ToList();
        var (x0, x1) = (Math.Floor(Math.Log10(xs.Min())) - 1, Math.Ceiling(Math.Log10(xs.Max())) + 1);
        var (y0, y1) = (Math.Floor(Math.Log10(ys.Min())), Math.Ceiling(Math.Log10(ys.Max() * 1.5)));
        if (y1 - y0 < 2)
        {
            y0 = y1 - 2;
        }

        double X(double v) => Left + ((Math.Log10(v) - x0) / (x1 - x0) * plotWidth);
        double Y(double v) => Top + PlotHeight - ((Math.Log10(v) - y0) / (y1 - y0) * PlotHeight);

        var svg = Open(id, title, width, height);
        for (var e = x0; e <= x1; e++)
        {
            svg.Append(Line(X(Math.Pow(10, e)), Top, X(Math.Pow(10, e)), Top + PlotHeight, "grid"));
            svg.Append(Text(X(Math.Pow(10, e)), Top + PlotHeight + 16, Power(e), "middle", "tick"));
        }

        for (var e = y0; e <= y1; e++)
        {
            svg.Append(Line(Left, Y(Math.Pow(10, e)), Left + plotWidth, Y(Math.Pow(10, e)), "grid"));
            svg.Append(Text(Left - 6, Y(Math.Pow(10, e)) + 4, Power(e), "end", "tick"));
        }

        svg.Append(Line(Left, Top, Left, Top + PlotHeight, "axis")).Append(Line(Left, Top + PlotHeight, Left + plotWidth, Top + PlotHeight, "axis"));
        svg.Append(Text(Left + (plotWidth / 2.0), Top + PlotHeight + 40, "operational intensity (useful MAC per DRAM byte)", "middle", "label"));
        svg.Append(CultureInfo.InvariantCulture,
            $"<text class=\"label\" transform=\"translate(16 {Top + (PlotHeight / 2)}) rotate(-90)\" text-anchor=\"middle\">achieved MAC per cycle</text>");
        svg.Append(CultureInfo.InvariantCulture, $"<clipPath id=\"{Escape(id)}-clip\"><rect x=\"{Left}\" y=\"{Top}\" width=\"{plotWidth}\" height=\"{PlotHeight}\"/></clipPath>");
        svg.Append(CultureInfo.InvariantCulture, $"<g clip-path=\"url(#{Escape(id)}-clip)\">");
        for (var s = 0; s < series.Count; s++)
        {
            var (peak, bandwidth) = (series[s].PeakMacsPerCycle, series[s].DramBytesPerCycle);
            if (peak is > 0 && bandwidth is > 0)
            {
                var ridge = peak.Value / bandwidth.Value;
                var start = Math.Pow(10, x0);
                var end = Math.Pow(10, x1);
                var points = ridge > start && ridge < end
                    ? $"{N(X(start))},{N(Y(start * bandwidth.Value))} {N(X(ridge))},{N(Y(peak.Value))} {N(X(end))},{N(Y(peak.Value))}"
                    : ridge >= end
                        ? $"{N(X(start))},{N(Y(start * bandwidth.Value))} {N(X(end))},{N(Y(end * bandwidth.Value))}"
                        : $"{N(X(start))},{N(Y(peak.Value))} {N(X(end))},{N(Y(peak.Value))}";
                svg.Append(CultureInfo.InvariantCulture,
                    $"<polyline class=\"roof\" data-series=\"{Escape(series[s].Name)}\" points=\"{points}\" fill=\"none\" stroke=\"{Color(s)}\" stroke-width=\"2\">" +
                    $"<title>{Escape($"{series[s].Name}: peak {Fmt(peak.Value)} MAC/cycle, DRAM {Fmt(bandwidth.Value)} B/cycle, ridge at {Fmt(ridge)} MAC/B")}</title></polyline>");
            }

            foreach (var point in series[s].Points)
            {
                svg.Append(CultureInfo.InvariantCulture,
                    $"<circle class=\"point{(point.Predicted ? " predicted" : "")}\" data-series=\"{Escape(series[s].Name)}\" cx=\"{N(X(point.MacsPerByte))}\" " +
                    $"cy=\"{N(Y(point.MacsPerCycle))}\" r=\"5\" stroke=\"{Color(s)}\" stroke-width=\"2\" fill=\"{(point.Predicted ? "white" : Color(s))}\">" +
                    $"<title>{Escape(point.Tooltip)}</title></circle>");
            }
        }

        svg.Append("</g>");
        svg.Append(Legend([.. series.Select(s => s.Name)], Left + plotWidth + 16, Top, vertical: true));
        return svg.Append("</svg>").ToString();
    }

    private static StringBuilder Open(string id, string title, int width, int height) =>
        new StringBuilder().Append(CultureInfo.InvariantCulture,
            $"<svg id=\"{Escape(id)}\" class=\"chart\" role=\"img\" aria-label=\"{Escape(title)}\" viewBox=\"0 0 {width} {height}\" width=\"{width}\" height=\"{height}\">" +
            $"<title>{Escape(title)}</title><rect class=\"background\" width=\"{width}\" height=\"{height}\" fill=\"white\"/>");

    private static string Legend(IReadOnlyList<string> series, double x, double y, bool vertical = false)
    {
        var legend = new StringBuilder("<g class=\"legend\">");
        var offset = 0.0;
        for (var s = 0; s < series.Count; s++)
        {
            var (lx, ly) = vertical ? (x, y + (s * 18)) : (x + offset, y - 10);
            legend.Append(CultureInfo.InvariantCulture, $"<rect x=\"{N(lx)}\" y=\"{N(ly)}\" width=\"12\" height=\"12\" fill=\"{Color(s)}\"/>");
            legend.Append(Text(lx + 16, ly + 10, series[s], "start", "tick"));
            offset += 30 + (series[s].Length * 7);
        }

        return legend.Append("</g>").ToString();
    }

    private static int IndexOf(IReadOnlyList<string> series, string name)
    {
        for (var i = 0; i < series.Count; i++)
        {
            if (series[i] == name)
            {
                return i;
            }
        }

        return 0;
    }

    private static string Line(double x1, double y1, double x2, double y2, string cssClass) =>
        $"<line class=\"{cssClass}\" x1=\"{N(x1)}\" y1=\"{N(y1)}\" x2=\"{N(x2)}\" y2=\"{N(y2)}\"/>";

    private static string Text(double x, double y, string text, string anchor, string cssClass) =>
        $"<text class=\"{cssClass}\" x=\"{N(x)}\" y=\"{N(y)}\" text-anchor=\"{anchor}\">{Escape(text)}</text>";

    private static string Power(double exponent) => exponent switch
    {
        0 => "1",
        1 => "10",
        _ => "1e" + exponent.ToString("0", CultureInfo.InvariantCulture),
    };

    private static string Fmt(double value) => value.ToString("0.###", CultureInfo.InvariantCulture);

    private static string N(double value) => value.ToString("0.#", CultureInfo.InvariantCulture);

    /// <summary>The smallest 1, 2 or 5 x 10^k at or above <paramref name="value"/>.</summary>
    public static double NiceStep(double value)
    {
        if (!(value > 0))
        {
            return 1;
        }

        var magnitude = Math.Pow(10, Math.Floor(Math.Log10(value)));
        return new[] { 1.0, 2.0, 5.0, 10.0 }.Select(f => f * magnitude).First(s => s >= value * (1 - 1e-12));
    }

    private static double NiceCeiling(double value)
    {
        var step = NiceStep(value / 5);
        return Math.Ceiling(value / step) * step;
    }
}
