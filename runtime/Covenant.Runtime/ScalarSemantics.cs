using Covenant.Codelets;

namespace Covenant.Runtime;

/// <summary>
/// The scalar rules of the codelet value semantics (see the comment at the top of
/// <c>Covenant.Codelets.Semantics.CodeletInstance</c>), in one place so the reference interpreter and the
/// target simulators cannot drift apart. Integers are carried as <see cref="int"/> (i8/u8 widened),
/// floats as <see cref="float"/> (f16 widened exactly).
/// </summary>
public static class ScalarSemantics
{
    /// <summary>A cast or store to i8 keeps the low 8 bits, as VTA's store does: 200 → -56.</summary>
    public static int WrapToI8(int value) => unchecked((sbyte)value);

    /// <summary>A cast or store to u8 keeps the low 8 bits: -1 → 255.</summary>
    public static int WrapToU8(int value) => value & 0xFF;

    /// <summary>Rounds an f32 value to the nearest f16 (ties to even) and widens it back, exactly.</summary>
    public static float RoundToF16(float value) => (float)(Half)value;

    /// <summary>Converts an i32 value to <paramref name="target"/>: integers wrap, floats round to nearest.</summary>
    public static int IntegerToInteger(int value, ElementType target) => target switch
    {
        ElementType.I8 => WrapToI8(value),
        ElementType.U8 => WrapToU8(value),
        ElementType.I32 => value,
        _ => throw new ArgumentOutOfRangeException(nameof(target), target, "not an integer type"),
    };

    /// <summary>Converts an i32 value to a float type. int → f32 rounds to nearest even; f16 then rounds again,
    /// which is exact because every i32 that rounds differently is beyond f16's range (±65504) anyway.</summary>
    public static float IntegerToFloat(int value, ElementType target) => target switch
    {
        ElementType.F32 => value,
        ElementType.F16 => RoundToF16(value),
        _ => throw new ArgumentOutOfRangeException(nameof(target), target, "not a float type"),
    };

    /// <summary>
    /// Float → integer: truncates toward zero and saturates to the target's range (i8: [-128, 127],
    /// u8: [0, 255], i32: [-2^31, 2^31 - 1]); NaN becomes 0.
    /// </summary>
    public static int FloatToInteger(float value, ElementType target)
    {
        var (low, high) = target switch
        {
            ElementType.I8 => (sbyte.MinValue, sbyte.MaxValue),
            ElementType.U8 => (byte.MinValue, byte.MaxValue),
            ElementType.I32 => (int.MinValue, int.MaxValue),
            _ => throw new ArgumentOutOfRangeException(nameof(target), target, "not an integer type"),
        };
        return SaturatingTruncate(value, low, high);
    }

    /// <summary>Float → i32 with truncation and saturation (the i32 case of <see cref="FloatToInteger"/>).</summary>
    public static int FloatToI32(float value) => SaturatingTruncate(value, int.MinValue, int.MaxValue);

    /// <summary>Float → i8: truncate, saturate to [-128, 127], NaN → 0.</summary>
    public static int FloatToI8(float value) => SaturatingTruncate(value, sbyte.MinValue, sbyte.MaxValue);

    /// <summary>Float → u8: truncate, saturate to [0, 255], NaN → 0.</summary>
    public static int FloatToU8(float value) => SaturatingTruncate(value, byte.MinValue, byte.MaxValue);

    /// <summary>Converts a float value to a float type (f16 rounds, f32 is the identity).</summary>
    public static float FloatToFloat(float value, ElementType target) => target switch
    {
        ElementType.F32 => value,
        ElementType.F16 => RoundToF16(value),
        _ => throw new ArgumentOutOfRangeException(nameof(target), target, "not a float type"),
    };

    /// <summary>
    /// Division rounding toward negative infinity, like the shape language's <c>/</c>. Values never
    /// crash: x / 0 is defined as 0, and int.MinValue / -1 wraps to int.MinValue.
    /// </summary>
    public static int FloorDivide(int dividend, int divisor)
    {
        if (divisor == 0)
        {
            return 0;
        }

        if (divisor == -1)
        {
            return unchecked(-dividend);
        }

        var quotient = dividend / divisor;
        return (dividend % divisor != 0 && (dividend ^ divisor) < 0) ? quotient - 1 : quotient;
    }

    /// <summary>
    /// The remainder matching <see cref="FloorDivide(int, int)"/>: it has the divisor's sign, so it is
    /// never negative for a positive divisor. x % 0 is defined as 0.
    /// </summary>
    public static int FloorModulo(int dividend, int divisor)
    {
        if (divisor is 0 or -1)
        {
            return 0;
        }

        var remainder = dividend % divisor;
        return (remainder != 0 && (remainder ^ divisor) < 0) ? remainder + divisor : remainder;
    }

    /// <summary>Float floor division, floor(a / b) in f32 (Python's <c>//</c>); x / 0 is defined as 0.</summary>
    public static float FloorDivide(float dividend, float divisor) =>
        divisor == 0 ? 0 : MathF.Floor(dividend / divisor);

    /// <summary>Float remainder with the divisor's sign (Python's <c>%</c>); x % 0 is defined as 0.</summary>
    public static float FloorModulo(float dividend, float divisor)
    {
        if (divisor == 0)
        {
            return 0;
        }

        var remainder = dividend % divisor;
        return (remainder != 0 && (remainder < 0) != (divisor < 0)) ? remainder + divisor : remainder;
    }

    /// <summary>Shift left by the amount modulo 32; bits shifted out are lost (wraps).</summary>
    public static int ShiftLeft(int value, int amount) => value << (amount & 31);

    /// <summary>Arithmetic shift right by the amount modulo 32.</summary>
    public static int ShiftRight(int value, int amount) => value >> (amount & 31);

    // Clamping the float before truncating gives the same result as truncating first and saturating after,
    // because the bounds are integers; comparing in double keeps 2^31 - 1 exact.
    private static int SaturatingTruncate(float value, int low, int high)
    {
        if (float.IsNaN(value))
        {
            return 0;
        }

        if (value >= high + 1.0)
        {
            return high;
        }

        if (value <= low - 1.0)
        {
            return low;
        }

        return (int)value;
    }
}
