namespace Covenant.Core.Numerics;

/// <summary>The integer helpers every target's tiling arithmetic needs, in one place.</summary>
public static class IntegerMath
{
    /// <summary>The smallest multiple of <paramref name="multiple"/> that is at least <paramref name="value"/> (value ≥ 0, multiple > 0).</summary>
    public static long RoundUp(long value, long multiple) => (value + multiple - 1) / multiple * multiple;

    /// <summary>⌈<paramref name="value"/> / <paramref name="divisor"/>⌉ for value ≥ 0, divisor > 0.</summary>
    public static long CeilDiv(long value, long divisor) => (value + divisor - 1) / divisor;

    /// <summary>The greatest common divisor, non-negative; Gcd(0, x) = |x|.</summary>
    public static long Gcd(long a, long b)
    {
        while (b != 0)
        {
            (a, b) = (b, a % b);
        }

        return Math.Abs(a);
    }
}
