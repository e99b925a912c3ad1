using System.Collections.Immutable;
using System.Globalization;

namespace Covenant.Runtime;

/// <summary>
/// How an actual tensor compares with the expected one. <see cref="FirstMismatch"/> is the
/// multi-dimensional index of the first differing element in row-major order (empty when they match).
/// <see cref="MaxAbsoluteError"/> is over all elements (infinite where one side is NaN or infinite and the
/// other is not the same).
/// </summary>
public sealed record ComparisonResult(
    long ElementCount,
    long MismatchCount,
    ImmutableArray<int> FirstMismatch,
    double FirstExpected,
    double FirstActual,
    double MaxAbsoluteError,
    double? Tolerance)
{
    public bool Matches => MismatchCount == 0;

    /// <summary>One line for a person: <c>exact match (64 elements)</c> or where and how it differs.</summary>
    public string Summary
    {
        get
        {
            var inv = CultureInfo.InvariantCulture;
            var kind = Tolerance is { } t ? string.Create(inv, $"within {t:R}") : "exact";
            if (Matches)
            {
                return string.Create(inv, $"{kind} match ({ElementCount} elements, max abs error {MaxAbsoluteError:R})");
            }

            return string.Create(
                inv,
                $"{MismatchCount} of {ElementCount} elements differ ({kind}); first at {TensorData.FormatIndex(FirstMismatch.AsSpan())}: expected {FirstExpected:R}, got {FirstActual:R}; max abs error {MaxAbsoluteError:R}");
        }
    }

    public override string ToString() => Summary;
}

/// <summary>Compares a computed tensor with the reference interpreter's.</summary>
public static class ResultComparer
{
    /// <summary>
    /// Compares element by element. With no tolerance, elements must be identical (the canonical bytes: for
    /// floats the same bits, so NaN matches NaN and -0 differs from +0). With a tolerance, an element
    /// differs when |expected - actual| exceeds it, or when one is NaN and the other not, or for unequal
    /// infinities. Integer tensors are normally compared exactly. Type and shape must agree — a tensor
    /// of another type or shape is a caller's bug, reported with an <see cref="ArgumentException"/>.
    /// </summary>
    public static ComparisonResult Compare(TensorData expected, TensorData actual, double? tolerance = null)
    {
        ArgumentNullException.ThrowIfNull(expected);
        ArgumentNullException.ThrowIfNull(actual);
        if (expected.ElementType != actual.ElementType || !expected.Shape.SequenceEqual(actual.Shape))
        {
            throw new ArgumentException($"cannot compare {actual} with the expected {expected}", nameof(actual));
        }

        if (tolerance is { } t && !(t >= 0))
        {
            throw new ArgumentOutOfRangeException(nameof(tolerance), tolerance, "the tolerance must be a non-negative number");
        }

        long mismatches = 0;
        var first = -1;
        var maxError = 0.0;
        for (var i = 0; i < expected.Length; i++)
        {
            var error = AbsoluteError(expected.GetFlat(i), actual.GetFlat(i));
            maxError = Math.Max(maxError, error);
            var differs = tolerance is { } tol ? error > tol : !Identical(expected, actual, i);
            if (differs)
            {
                mismatches++;
                if (first < 0)
                {
                    first = i;
                }
            }
        }

        return new ComparisonResult(
            expected.Length,
            mismatches,
            first < 0 ? [] : [.. expected.IndexOf(first)],
            first < 0 ? 0 : expected.GetFlat(first),
            first < 0 ? 0 : actual.GetFlat(first),
            maxError,
            tolerance);
    }

    private static bool Identical(TensorData expected, TensorData actual, int i) => expected.IsInteger
        ? expected.Integers[i] == actual.Integers[i]
        : BitConverter.SingleToInt32Bits(expected.Floats[i]) == BitConverter.SingleToInt32Bits(actual.Floats[i]);

    // NaN against NaN and an infinity against the same infinity are no error; any other NaN or infinity is.
    private static double AbsoluteError(double expected, double actual)
    {
        if (double.IsNaN(expected) || double.IsNaN(actual))
        {
            return double.IsNaN(expected) && double.IsNaN(actual) ? 0 : double.PositiveInfinity;
        }

        if (double.IsInfinity(expected) || double.IsInfinity(actual))
        {
            return expected == actual ? 0 : double.PositiveInfinity;
        }

        return Math.Abs(expected - actual);
    }
}
