using System.Collections.Immutable;
using System.Text.Json;
using System.Text.RegularExpressions;
using Covenant.Compiler.Compare;
using static Covenant.Cli.Tests.CompareMathTests;

namespace Covenant.Cli.Tests;

/// <summary>The shapes of the CSV, JSON and HTML a comparison writes, on a report built by hand.</summary>
public partial class CompareWriterTests
{
    private const string Nasty = "l<1>, \"q\" & 'x'";

    private static ComparisonReport Report() => ComparisonMath.Assemble("suite<&>", "s.yaml", [Arch("a"), Arch("b<b>")],
    [
        ("l1", "gemm", "M=1 N=2", [Cell("l1", "a", 100), Cell("l1", "b<b>", 40)]),
        (Nasty, "gemm", "M=3", [Cell(Nasty, "a", 90, source: CycleSource.Predicted), Cell(Nasty, "b<b>", null, status: CellStatus.CompileFailed)]),
    ], true, 7, ["a note <with> markup"]);

    /// <summary>A minimal RFC 4180 reader: fields split on commas outside quotes, "" inside quotes is a quote.</summary>
    private static List<List<string>> ReadCsv(string text)
    {
        var rows = new List<List<string>>();
        var row = new List<string>();
        var field = new System.Text.StringBuilder();
        var quoted = false;
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (quoted)
            {
                if (c == '"' && i + 1 < text.Length && text[i + 1] == '"')
                {
                    field.Append('"');
                    i++;
                }
                else if (c == '"')
                {
                    quoted = false;
                }
                else
                {
                    field.Append(c);
                }
            }
            else if (c == '"')
            {
                quoted = true;
            }
            else if (c == ',')
            {
                row.Add(field.ToString());
                field.Clear();
            }
            else if (c == '\n')
            {
                row.Add(field.ToString().TrimEnd('\r'));
                field.Clear();
                rows.Add(row);
                row = [];
            }
            else
            {
                field.Append(c);
            }
        }

        return rows;
    }

    [Test]
    public void CsvHasOneRowPerLayerAndArchitectureAndQuotesWhatNeedsIt()
    {
        var rows = ReadCsv(CompareCsvWriter.Write(Report()));
        Assert.That(rows, Has.Count.EqualTo(1 + (2 * 2)));
        Assert.That(rows[0], Is.EqualTo(CompareCsvWriter.Columns));
        Assert.That(rows.Skip(1).Select(r => r.Count), Is.All.EqualTo(CompareCsvWriter.Columns.Length));
        int Col(string name) => Array.IndexOf(CompareCsvWriter.Columns, name);

        // The nasty name survives the round trip.
        Assert.That(rows[3][Col("layer")], Is.EqualTo(Nasty));
        Assert.That(rows[1][Col("cycles")], Is.EqualTo("100"));
        Assert.That(rows[1][Col("seconds")], Is.EqualTo((100 / 100e6).ToString("R", System.Globalization.CultureInfo.InvariantCulture)));
        Assert.That(rows.Skip(1).Select(r => r[Col("winner")]), Is.EqualTo(new[] { "false", "true", "true", "false" }));
        Assert.That(rows[3][Col("source")], Is.EqualTo("predicted"));
        Assert.That((rows[4][Col("status")], rows[4][Col("cycles")], rows[4][Col("reason")]), Is.EqualTo(("compile-failed", "", "because")));

        // 1000 MACs over 500 DRAM bytes, and over 100 cycles.
        Assert.That(double.Parse(rows[1][Col("macs_per_dram_byte")], System.Globalization.CultureInfo.InvariantCulture), Is.EqualTo(2));
        Assert.That(double.Parse(rows[1][Col("macs_per_cycle")], System.Globalization.CultureInfo.InvariantCulture), Is.EqualTo(10));
    }

    [Test]
    public void JsonCarriesEveryLayerResultAndTheGeomeans()
    {
        using var document = JsonDocument.Parse(CompareJsonWriter.Write(Report()));
        var root = document.RootElement;
        Assert.That(root.GetProperty("metric").GetString(), Is.EqualTo("cycles"));
        Assert.That(root.GetProperty("seed").GetUInt64(), Is.EqualTo(7));
        Assert.That(root.GetProperty("architectures").EnumerateArray().Select(a => a.GetProperty("name").GetString()), Is.EqualTo(new[] { "a", "b<b>" }));
        var layers = root.GetProperty("layers").EnumerateArray().ToList();
        Assert.That(layers.Select(l => l.GetProperty("name").GetString()), Is.EqualTo(new[] { "l1", Nasty }));
        Assert.That(layers.Select(l => l.GetProperty("results").GetArrayLength()), Is.All.EqualTo(2));
        Assert.That(layers[0].GetProperty("winners").EnumerateArray().Select(w => w.GetString()), Is.EqualTo(new[] { "b<b>" }));
        Assert.That(layers[0].GetProperty("margin").GetDouble(), Is.EqualTo(2.5).Within(1e-12));
        var failed = layers[1].GetProperty("results")[1];
        Assert.That(failed.GetProperty("status").GetString(), Is.EqualTo("compile-failed"));
        Assert.That(failed.GetProperty("cycles").ValueKind, Is.EqualTo(JsonValueKind.Null));

        // Only l1 ran everywhere: the geomeans are its values, 100 and 40, and 40 / 100 = 0.4.
        var geomean = root.GetProperty("geomean");
        Assert.That(geomean.GetProperty("layers").EnumerateArray().Select(l => l.GetString()), Is.EqualTo(new[] { "l1" }));
        var totals = geomean.GetProperty("architectures").EnumerateArray().ToList();
        Assert.That(totals[0].GetProperty("value").GetDouble(), Is.EqualTo(100).Within(1e-9));
        Assert.That(totals[1].GetProperty("ratioToFirst").GetDouble(), Is.EqualTo(0.4).Within(1e-12));
        Assert.That(totals[1].GetProperty("failed").GetInt32(), Is.EqualTo(1));
    }

    [Test]
    public void HtmlEscapesEveryTextAndReachesForNothingOutside()
    {
        var html = CompareHtmlWriter.Write(Report());
        Assert.That(html, Does.Not.Contain("suite<&>").And.Not.Contain("b<b>").And.Not.Contain("<with>").And.Not.Contain("l<1>"));
        Assert.That(html, Does.Contain("suite&lt;&amp;&gt;").And.Contain("b&lt;b&gt;").And.Contain("l&lt;1&gt;, &quot;q&quot; &amp; &#39;x&#39;"));

        // Self-contained: no external reference of any kind, and a policy that forbids them.
        Assert.That(Regex.IsMatch(html, @"(src|href)\s*=", RegexOptions.IgnoreCase), Is.False);
        Assert.That(html, Does.Not.Contain("http://").And.Not.Contain("https://").And.Not.Contain("@import").And.Not.Contain("url(http"));
        Assert.That(html, Does.Contain("Content-Security-Policy").And.Contain("default-src 'none'"));

        // Three charts; a bar per ranked cell of the speedup chart (the failed one is a marker), every cell in the utilization chart.
        Assert.That(SvgCount().Count(html), Is.EqualTo(3));
        var speedup = Chart(html, "chart-speedup");
        Assert.That(BarCount().Count(speedup), Is.EqualTo(3));
        Assert.That(speedup, Does.Contain("class=\"missing\""));
        Assert.That(Regex.Count(Chart(html, "chart-roofline"), "class=\"roof\""), Is.EqualTo(2));
        Assert.That(Regex.Count(Chart(html, "chart-roofline"), "<circle class=\"point"), Is.EqualTo(3));
    }

    internal static string Chart(string html, string id)
    {
        var start = html.IndexOf($"<svg id=\"{id}\"", StringComparison.Ordinal);
        Assert.That(start, Is.GreaterThanOrEqualTo(0), id);
        return html[start..(html.IndexOf("</svg>", start, StringComparison.Ordinal) + 6)];
    }

    [GeneratedRegex("<svg[ >]")]
    internal static partial Regex SvgCount();

    [GeneratedRegex("<rect class=\"bar[ \"]")]
    internal static partial Regex BarCount();
}
