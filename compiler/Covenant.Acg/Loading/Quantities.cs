using System.Globalization;
using System.Text.RegularExpressions;

namespace Covenant.Acg.Loading;

/// <summary>
/// The units an architecture file may use, and the parsing of "number unit" values. Sizes use binary
/// (IEC) units only, because memories are sized in powers of two and <c>32 KB</c> is ambiguous (32 000 or
/// 32 768?); bandwidths per second use the decimal units datasheets quote (<c>1555 GB/s</c>).
/// </summary>
internal static partial class Quantities
{
    /// <summary>The largest size accepted: 1 PiB. Anything larger is a typo, and products stay far from overflow.</summary>
    public const long MaxBytes = 1L << 50;

    /// <summary>The largest bandwidth, clock and cycle count accepted (about 10^15).</summary>
    public const double MaxMagnitude = 1e15;

    public static readonly IReadOnlyDictionary<string, long> SizeUnits = new Dictionary<string, long>(StringComparer.Ordinal)
    {
        ["B"] = 1,
        ["KiB"] = 1L << 10,
        ["MiB"] = 1L << 20,
        ["GiB"] = 1L << 30,
        ["TiB"] = 1L << 40,
    };

    /// <summary>Decimal or bare size units people write out of habit, and the binary unit they probably meant.</summary>
    public static readonly IReadOnlyDictionary<string, string> AmbiguousSizeUnits = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["K"] = "KiB", ["k"] = "KiB", ["KB"] = "KiB", ["kB"] = "KiB", ["kb"] = "KiB",
        ["M"] = "MiB", ["MB"] = "MiB", ["G"] = "GiB", ["GB"] = "GiB", ["T"] = "TiB", ["TB"] = "TiB",
    };

    public static readonly IReadOnlyDictionary<string, double> PerSecondUnits = new Dictionary<string, double>(StringComparer.Ordinal)
    {
        ["B/s"] = 1,
        ["kB/s"] = 1e3, ["MB/s"] = 1e6, ["GB/s"] = 1e9, ["TB/s"] = 1e12,
        ["KiB/s"] = 1024.0, ["MiB/s"] = 1024.0 * 1024, ["GiB/s"] = 1024.0 * 1024 * 1024, ["TiB/s"] = 1024.0 * 1024 * 1024 * 1024,
    };

    public static readonly IReadOnlyDictionary<string, double> ClockUnits = new Dictionary<string, double>(StringComparer.Ordinal)
    {
        ["Hz"] = 1, ["kHz"] = 1e3, ["MHz"] = 1e6, ["GHz"] = 1e9,
    };

    public static readonly IReadOnlyList<string> CycleUnits = ["cycle", "cycles"];

    /// <summary>Bandwidth units per cycle: every size unit followed by <c>/cycle</c>.</summary>
    public static IEnumerable<string> PerCycleUnits => SizeUnits.Keys.Select(u => u + "/cycle");

    /// <summary>Splits <c>"32 KiB"</c> into its number text and unit ("" when there is none); false when it is not "number unit" at all.</summary>
    public static bool TrySplit(string text, out string number, out string unit)
    {
        // "8 B / cycle" and "8 B/cycle" mean the same.
        var match = QuantityPattern().Match(SpacedSlash().Replace(text, "/"));
        number = match.Success ? match.Groups["number"].Value : "";
        unit = match.Success ? match.Groups["unit"].Value : "";
        return match.Success;
    }

    /// <summary>An exact decimal; false on overflow (the text is already known to be a number).</summary>
    public static bool TryParseDecimal(string number, out decimal value) =>
        decimal.TryParse(number, NumberStyles.Float, CultureInfo.InvariantCulture, out value);

    /// <summary>A double; false when it is out of the double range.</summary>
    public static bool TryParseDouble(string number, out double value) =>
        double.TryParse(number, NumberStyles.Float, CultureInfo.InvariantCulture, out value) && double.IsFinite(value);

    /// <summary>An integer written in plain decimal digits, with an optional sign.</summary>
    public static bool IsInteger(string text) => IntegerPattern().IsMatch(text);

    [GeneratedRegex(@"^\s*(?<number>[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)\s*(?<unit>[^\s0-9.+-][^\s]*)?\s*$", RegexOptions.CultureInvariant)]
    private static partial Regex QuantityPattern();

    [GeneratedRegex(@"\s*/\s*", RegexOptions.CultureInvariant)]
    private static partial Regex SpacedSlash();

    [GeneratedRegex(@"^[+-]?[0-9]+$", RegexOptions.CultureInvariant)]
    private static partial Regex IntegerPattern();
}
