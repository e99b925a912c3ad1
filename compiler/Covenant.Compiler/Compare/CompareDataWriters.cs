using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Covenant.Compiler.Compare;

/// <summary>
/// The comparison as CSV: one row per layer and architecture (RFC 4180 quoting, invariant numbers, empty for unknown).
/// Geomeans are not rows of their own (they would not share the columns); they are in the JSON and the text.
/// </summary>
public static class CompareCsvWriter
{
    public static readonly string[] Columns =
    [
        "suite", "layer", "codelet", "shape", "architecture", "status", "reason", "source", "engine", "match", "cycles", "seconds",
        "utilization", "useful_macs", "dram_bytes", "measured_dram_bytes", "macs_per_dram_byte", "macs_per_cycle", "peak_macs_per_cycle",
        "occupancy", "embedding", "tiles", "winner", "compile_seconds",
    ];

    public static string Write(ComparisonReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        var text = new StringBuilder();
        text.Append(string.Join(',', Columns)).Append("\r\n");
        foreach (var row in report.Layers)
        {
            foreach (var cell in row.Cells)
            {
                string?[] fields =
                [
                    report.Suite, row.Layer, row.Codelet, row.Shape, cell.Architecture, CompareFormat.Status(cell.Status), cell.Reason,
                    cell.Source is null ? null : CompareFormat.Source(cell.Source), cell.Engine,
                    cell.Match is { } m ? (m ? "true" : "false") : null,
                    Number(cell.Cycles), Number(cell.Seconds), Number(cell.Utilization),
                    cell.UsefulMacs.ToString(CultureInfo.InvariantCulture), Number(cell.DramBytes), Number(cell.MeasuredDramBytes),
                    Number(cell.MacsPerDramByte), Number(cell.MacsPerCycle), Number(cell.PeakMacsPerCycle),
                    string.Join(';', cell.Occupancy.Select(o => $"{o.Storage}={o.Bytes}/{o.CapacityBytes}")),
                    cell.Embedding, cell.Tiles, row.Winners.Contains(cell.Architecture) ? "true" : "false",
                    cell.CompileSeconds.ToString("0.###", CultureInfo.InvariantCulture),
                ];
                text.Append(string.Join(',', fields.Select(Quote))).Append("\r\n");
            }
        }

        return text.ToString();
    }

    private static string? Number(double? value) => value?.ToString("R", CultureInfo.InvariantCulture);

    private static string? Number(long? value) => value?.ToString(CultureInfo.InvariantCulture);

    private static string Quote(string? field) =>
        field is null ? "" : field.IndexOfAny([',', '"', '\r', '\n']) >= 0 ? "\"" + field.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"" : field;
}

/// <summary>The comparison as one JSON document (the shape is documented by <see cref="ToJson"/>).</summary>
public static class CompareJsonWriter
{
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    public static string Write(ComparisonReport report) => ToJson(report).ToJsonString(Indented);

    /// <summary>
    /// <c>{suite, suiteFile, metric, ran, seed, notes[], architectures[{name, file, target, description, clockHz, peakMacsPerCycle,
    /// dramBytesPerCycle}], layers[{name, codelet, shape, winners[], margin, results[{architecture, status, reason, source, engine,
    /// match, cycles, seconds, utilization, usefulMacs, dramBytes, measuredDramBytes, macsPerDramByte, macsPerCycle,
    /// peakMacsPerCycle, computeBoundCycles, modelCycles, occupancy[{storage, bytes, capacityBytes, fraction}], embedding, tiles,
    /// compileSeconds}]}], geomean{layers[], architectures[{name, value, ratioToFirst, wins, failed}]}}</c>.
    /// </summary>
    public static JsonObject ToJson(ComparisonReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        return new JsonObject
        {
            ["suite"] = report.Suite,
            ["suiteFile"] = report.SuiteFile,
            ["metric"] = report.Metric == CompareMetric.Seconds ? "seconds" : "cycles",
            ["ran"] = report.Ran,
            ["seed"] = report.Seed,
            ["notes"] = new JsonArray([.. report.Notes.Select(n => (JsonNode)JsonValue.Create(n))]),
            ["architectures"] = new JsonArray([.. report.Architectures.Select(a => (JsonNode)new JsonObject
            {
                ["name"] = a.Name,
                ["file"] = a.File,
                ["target"] = a.Target,
                ["description"] = a.Description,
                ["clockHz"] = a.ClockHz,
                ["peakMacsPerCycle"] = a.PeakMacsPerCycle,
                ["dramBytesPerCycle"] = a.DramBytesPerCycle,
            })]),
            ["layers"] = new JsonArray([.. report.Layers.Select(row => (JsonNode)new JsonObject
            {
                ["name"] = row.Layer,
                ["codelet"] = row.Codelet,
                ["shape"] = row.Shape,
                ["winners"] = new JsonArray([.. row.Winners.Select(w => (JsonNode)JsonValue.Create(w))]),
                ["margin"] = row.Margin,
                ["results"] = new JsonArray([.. row.Cells.Select(c => (JsonNode)Cell(c))]),
            })]),
            ["geomean"] = new JsonObject
            {
                ["layers"] = new JsonArray([.. report.GeomeanLayers.Select(l => (JsonNode)JsonValue.Create(l))]),
                ["architectures"] = new JsonArray([.. report.Totals.Select(t => (JsonNode)new JsonObject
                {
                    ["name"] = t.Architecture,
                    ["value"] = t.Geomean,
                    ["ratioToFirst"] = t.RatioToFirst,
                    ["wins"] = t.Wins,
                    ["failed"] = t.Failed,
                })]),
            },
        };
    }

    private static JsonObject Cell(CompareCell c) => new()
    {
        ["architecture"] = c.Architecture,
        ["status"] = CompareFormat.Status(c.Status),
        ["reason"] = c.Reason,
        ["source"] = c.Source is null ? null : CompareFormat.Source(c.Source),
        ["engine"] = c.Engine,
        ["match"] = c.Match,
        ["cycles"] = c.Cycles,
        ["seconds"] = c.Seconds,
        ["utilization"] = c.Utilization,
        ["usefulMacs"] = c.UsefulMacs,
        ["dramBytes"] = c.DramBytes,
        ["measuredDramBytes"] = c.MeasuredDramBytes,
        ["macsPerDramByte"] = c.MacsPerDramByte,
        ["macsPerCycle"] = c.MacsPerCycle,
        ["peakMacsPerCycle"] = c.PeakMacsPerCycle,
        ["computeBoundCycles"] = c.ComputeBoundCycles,
        ["modelCycles"] = c.ModelCycles,
        ["occupancy"] = new JsonArray([.. c.Occupancy.Select(o => (JsonNode)new JsonObject
        {
            ["storage"] = o.Storage,
            ["bytes"] = o.Bytes,
            ["capacityBytes"] = o.CapacityBytes,
            ["fraction"] = o.Fraction,
        })]),
        ["embedding"] = c.Embedding,
        ["tiles"] = c.Tiles,
        ["compileSeconds"] = Math.Round(c.CompileSeconds, 3),
    };
}
