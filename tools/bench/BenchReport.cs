using System.Globalization;
using System.Text;
using System.Text.Json;
using Covenant.Runtime.Vnni;
using Covenant.Targets.Vnni;

namespace Covenant.Bench;

/// <summary>The table on stdout, the CSV and the JSON.</summary>
internal sealed class BenchReport(
    List<LayerResult> results, VnniIsa isa, VnniCpu cpu, string? oneDnnVersion, string? oneDnnIsa, int threads, string amxNote)
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    /// <summary>The floor the issue sets: ResNet-50 convolutions and BERT-Large GEMMs.</summary>
    private IEnumerable<LayerResult> FloorSet => results.Where(r =>
        (r.Suite == "resnet50" && r.Codelet == "conv2d") || (r.Suite == "bert_large" && r.Codelet is "gemm" or "bmm"));

    private static double? Geomean(IEnumerable<double?> values)
    {
        var list = values.Where(v => v is > 0).Select(v => v!.Value).ToList();
        return list.Count == 0 ? null : Math.Exp(list.Average(Math.Log));
    }

    private static string F(double? value, string format) => value is { } v ? v.ToString(format, Inv) : "-";

    public string Table()
    {
        var text = new StringBuilder();
        text.AppendLine(Inv, $"Covenant VNNI kernels vs oneDNN {oneDnnVersion ?? "(not run)"} on {cpu.Brand}, {threads} threads, {isa.Architecture} ({isa.Lanes} lanes)");
        text.AppendLine(Inv, $"oneDNN capped to AVX512_CORE_VNNI (effective {oneDnnIsa ?? "-"}); {amxNote}");
        var cores = Math.Min(threads, isa.Cores);
        text.AppendLine(Inv, $"peak = 2 ops x {isa.MacsPerDot} MAC / {isa.DotInterval} cycle x {F(isa.ClockHz / 1e9, "F2")} GHz x {cores} cores = {F(isa.PeakOpsPerSecond * cores / isa.Cores / 1e9, "F0")} GOPS");
        text.AppendLine("  (vpdpbusd issue interval and clock from the YAML; measured here: one zmm vpdpbusd per cycle per core with 12 independent chains)");
        text.AppendLine();
        var header = $"{"layer",-44} {"shape (MxNxK)",-18} {"ours",7} {"oneDNN",7} {"ratio",6} {"best",6} {"uncapd",7} {"%peak",6}  check";
        text.AppendLine(header);
        text.AppendLine(new string('-', header.Length + 20));
        foreach (var r in results)
        {
            text.AppendLine(Inv,
                $"{r.Suite + "/" + r.Layer,-44} {r.Shape,-18} {r.OursGops,7:F1} {F(r.OneDnnGops, "F1"),7} {F(r.Ratio, "F2"),6} {F(r.RatioBest, "F2"),6} {F(r.UncappedGops, "F1"),7} {F(r.PercentOfPeak, "F1"),6}  {r.Check}");
        }

        text.AppendLine();
        text.AppendLine("GOPS = 2 x multiply-accumulates / median time; ratio = oneDNN median / our median (> 1: ours is faster);");
        text.AppendLine("best = the same ratio from each side's fastest run (runs alternate between the two libraries)");
        foreach (var (name, set) in Groups())
        {
            var list = set.ToList();
            if (list.Count == 0)
            {
                continue;
            }

            text.AppendLine(Inv, $"geomean ratio vs capped oneDNN, {name} ({list.Count} layers): {F(Geomean(list.Select(r => r.Ratio)), "F3")} (best runs {F(Geomean(list.Select(r => r.RatioBest)), "F3")})" +
                $"   ours {F(Geomean(list.Select(r => (double?)r.OursGops)), "F1")} GOPS, oneDNN {F(Geomean(list.Select(r => r.OneDnnGops)), "F1")} GOPS");
        }

        return text.ToString();
    }

    private IEnumerable<(string Name, IEnumerable<LayerResult> Set)> Groups()
    {
        yield return ("ResNet-50 conv + BERT-Large GEMMs (the floor: >= 0.8)", FloorSet);
        foreach (var suite in results.Select(r => r.Suite).Distinct())
        {
            yield return (suite, results.Where(r => r.Suite == suite));
        }

        yield return ("all layers", results);
    }

    public string Csv()
    {
        var text = new StringBuilder();
        text.AppendLine("suite,layer,codelet,shape,operations,ours_seconds,ours_best_seconds,ours_gops,onednn_seconds,onednn_best_seconds,onednn_gops,ratio,ratio_best,uncapped_seconds,uncapped_gops,percent_of_peak,check,checksum,onednn_impl,uncapped_impl,plan");
        foreach (var r in results)
        {
            text.AppendLine(string.Join(",",
                r.Suite, r.Layer, r.Codelet, r.Shape, r.Operations.ToString(Inv), r.OursSeconds.ToString("R", Inv), r.OursBest.ToString("R", Inv),
                r.OursGops.ToString("F3", Inv), F(r.OneDnnSeconds, "R"), F(r.OneDnnBest, "R"), F(r.OneDnnGops, "F3"), F(r.Ratio, "F4"),
                F(r.RatioBest, "F4"), F(r.UncappedSeconds, "R"), F(r.UncappedGops, "F3"),
                F(r.PercentOfPeak, "F2"), Quote(r.Check), r.Checksum, Quote(r.OneDnnImplementation ?? ""), Quote(r.UncappedImplementation ?? ""), Quote(r.Plan)));
        }

        return text.ToString();
    }

    private static string Quote(string value) => "\"" + value.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";

    public string Json()
    {
        var document = new
        {
            cpu = cpu.Describe(),
            architecture = isa.Architecture,
            lanes = isa.Lanes,
            threads,
            peakGops = isa.PeakOpsPerSecond / 1e9,
            oneDnn = oneDnnVersion,
            oneDnnCappedIsa = oneDnnIsa,
            amx = amxNote,
            geomeans = Groups().Select(g => new
            {
                name = g.Name,
                ratio = Geomean(g.Set.Select(r => r.Ratio)),
                ratioBest = Geomean(g.Set.Select(r => r.RatioBest)),
                layers = g.Set.Count(),
            }).ToList(),
            layers = results.Select(r => new
            {
                r.Suite,
                r.Layer,
                r.Codelet,
                r.Shape,
                r.Operations,
                r.OursSeconds,
                r.OursBest,
                r.OursGops,
                r.OneDnnSeconds,
                r.OneDnnBest,
                r.OneDnnGops,
                r.Ratio,
                r.RatioBest,
                r.UncappedSeconds,
                r.UncappedGops,
                r.PercentOfPeak,
                r.Check,
                r.Checksum,
                r.OneDnnImplementation,
                r.UncappedImplementation,
                r.Plan,
            }).ToList(),
        };
        return JsonSerializer.Serialize(document, new JsonSerializerOptions { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.CamelCase }) + "\n";
    }
}
