using System.Globalization;

namespace Covenant.Acg.Model;

/// <summary>Quantities printed the way an architecture file writes them, culture-independently.</summary>
public static class Format
{
    private static readonly (string Unit, long Scale)[] BinaryUnits =
        [("TiB", 1L << 40), ("GiB", 1L << 30), ("MiB", 1L << 20), ("KiB", 1L << 10)];

    /// <summary><c>32 KiB</c>, <c>1.5 MiB</c>, <c>100 B</c>: the largest binary unit that gives a short exact number.</summary>
    public static string Bytes(long bytes)
    {
        foreach (var (unit, scale) in BinaryUnits)
        {
            // Up to three decimals are exact for multiples of scale/1000-ish fractions like 1.5 or 0.25.
            if (Math.Abs(bytes) >= scale && bytes * 1000 % scale == 0)
            {
                return Number((double)bytes / scale) + " " + unit;
            }
        }

        return bytes.ToString(CultureInfo.InvariantCulture) + " B";
    }

    /// <summary><c>8 B/cycle</c>.</summary>
    public static string Bandwidth(double bytesPerCycle) => Number(bytesPerCycle) + " B/cycle";

    /// <summary><c>100 MHz</c>, <c>1.41 GHz</c>.</summary>
    public static string Frequency(double hertz) => hertz switch
    {
        >= 1e9 => Number(hertz / 1e9) + " GHz",
        >= 1e6 => Number(hertz / 1e6) + " MHz",
        >= 1e3 => Number(hertz / 1e3) + " kHz",
        _ => Number(hertz) + " Hz",
    };

    /// <summary>At most three decimals, no trailing zeros, invariant culture.</summary>
    public static string Number(double value) => Math.Round(value, 3).ToString("0.###", CultureInfo.InvariantCulture);
}
