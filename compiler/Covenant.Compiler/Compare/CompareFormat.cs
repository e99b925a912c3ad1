using System.Globalization;

namespace Covenant.Compiler.Compare;

/// <summary>How the text and HTML writers print the numbers of a comparison (invariant culture, fixed units).</summary>
public static class CompareFormat
{
    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    public static string Cycles(double? cycles) => cycles is { } c ? c.ToString("F0", Invariant) : "-";

    /// <summary>Seconds in the largest unit that keeps a leading digit: "1.234 ms", "56.7 us".</summary>
    public static string Time(double? seconds, string micro = "us") => seconds switch
    {
        null => "-",
        >= 1 => seconds.Value.ToString("0.000", Invariant) + " s",
        >= 1e-3 => (seconds.Value * 1e3).ToString("0.000", Invariant) + " ms",
        >= 1e-6 => (seconds.Value * 1e6).ToString("0.0", Invariant) + " " + micro,
        _ => (seconds.Value * 1e9).ToString("0", Invariant) + " ns",
    };

    /// <summary>The value of the report's metric: cycles, or a time.</summary>
    public static string Value(double? value, CompareMetric metric, string micro = "us") =>
        metric == CompareMetric.Seconds ? Time(value, micro) : Cycles(value);

    public static string Percent(double? fraction) => fraction is { } f ? (f * 100).ToString("0.0", Invariant) + "%" : "-";

    /// <summary>Bytes in binary units with a fixed precision, so a column reads evenly: "512 B", "12.5 KiB", "1.39 MiB".</summary>
    public static string Bytes(long? bytes) => bytes switch
    {
        null => "-",
        < 1024 => bytes.Value.ToString(Invariant) + " B",
        < 1024 * 1024 => (bytes.Value / 1024.0).ToString("0.0", Invariant) + " KiB",
        < 1L << 30 => (bytes.Value / 1048576.0).ToString("0.00", Invariant) + " MiB",
        _ => (bytes.Value / 1073741824.0).ToString("0.00", Invariant) + " GiB",
    };

    public static string Ratio(double? ratio) => ratio is { } r ? r.ToString("0.000", Invariant) + "x" : "-";

    public static string Number(double? value, string format = "0.###") => value is { } v ? v.ToString(format, Invariant) : "-";

    public static string Source(CycleSource? source) => source switch
    {
        CycleSource.Simulated => "simulated",
        CycleSource.Measured => "measured",
        CycleSource.Predicted => "predicted",
        _ => "-",
    };

    public static string Status(CellStatus status) => status switch
    {
        CellStatus.Ok => "ok",
        CellStatus.Mismatch => "mismatch",
        CellStatus.CompileFailed => "compile-failed",
        _ => "run-failed",
    };

    public static string Occupancy(IEnumerable<StorageOccupancy> occupancy) =>
        string.Join(" ", occupancy.Select(o => $"{o.Storage} {Percent(o.Fraction)}"));

    /// <summary>The winners of a row: "vta", "vta = vta-halved" on a tie, "-" when nothing ranked.</summary>
    public static string Winners(LayerComparison row) => row.Winners.IsEmpty ? "-" : string.Join(" = ", row.Winners);
}
