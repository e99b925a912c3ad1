using System.Buffers.Binary;
using System.Collections.Immutable;
using System.Globalization;
using System.Runtime.InteropServices;
using Covenant.Codelets;

namespace Covenant.Runtime;

/// <summary>
/// An immutable dense tensor: an element type, a shape and row-major values. Integer types (i8, u8, i32)
/// hold their exact values in an <see cref="int"/> array; float types (f16, f32) hold values already rounded
/// to the element type in a <see cref="float"/> array (every f16 is exact in f32). That is the form the
/// interpreter computes in, so inputs are used without conversion.
/// <para>
/// The canonical byte form — little-endian, i8 as a signed byte, u8 as a byte, f16 as its IEEE half bits —
/// is what artifacts store and what <see cref="Checksum"/> hashes. Two tensors are equal when their types,
/// shapes and canonical bytes are (so NaN equals the same NaN, and +0 differs from -0).
/// </para>
/// </summary>
public sealed class TensorData : IEquatable<TensorData>
{
    private readonly int[]? integers;
    private readonly float[]? floats;

    private TensorData(ElementType elementType, ImmutableArray<int> shape, int[]? integers, float[]? floats)
    {
        ElementType = elementType;
        Shape = shape;
        this.integers = integers;
        this.floats = floats;
    }

    public ElementType ElementType { get; }

    public ImmutableArray<int> Shape { get; }

    public int Rank => Shape.Length;

    /// <summary>The number of elements (1 for a rank-0 tensor).</summary>
    public int Length => integers?.Length ?? floats!.Length;

    public bool IsInteger => integers is not null;

    /// <summary>The values of an i8, u8 or i32 tensor, row-major.</summary>
    public ReadOnlySpan<int> Integers =>
        integers ?? throw new InvalidOperationException($"{Describe()} holds floats, not integers");

    /// <summary>The values of an f16 or f32 tensor, row-major.</summary>
    public ReadOnlySpan<float> Floats =>
        floats ?? throw new InvalidOperationException($"{Describe()} holds integers, not floats");

    /// <summary>The number of bytes of the canonical form.</summary>
    public long ByteCount => (long)Length * ElementType.Bytes();

    /// <summary>The element at a multi-dimensional index, as a double (exact for every element type).</summary>
    public double this[params ReadOnlySpan<int> index] => GetFlat(FlatIndexOf(index));

    /// <summary>A tensor of zeros.</summary>
    public static TensorData Zeros(ElementType elementType, ImmutableArray<int> shape)
    {
        var length = CheckShape(shape);
        return elementType.IsInteger()
            ? new TensorData(elementType, shape, new int[length], null)
            : new TensorData(elementType, shape, null, new float[length]);
    }

    /// <summary>An integer tensor; throws when a value is outside the element type's range.</summary>
    public static TensorData FromIntegers(ElementType elementType, ImmutableArray<int> shape, ReadOnlySpan<int> values)
    {
        if (!elementType.IsInteger())
        {
            throw new ArgumentException($"{elementType.Name()} is not an integer type; use FromFloats", nameof(elementType));
        }

        CheckLength(shape, values.Length);
        var (low, high) = IntegerRange(elementType);
        for (var i = 0; i < values.Length; i++)
        {
            if (values[i] < low || values[i] > high)
            {
                throw new ArgumentException(
                    $"value {values[i]} at element {i} is outside the range of {elementType.Name()} [{low}, {high}]",
                    nameof(values));
            }
        }

        return new TensorData(elementType, shape, values.ToArray(), null);
    }

    /// <summary>A float tensor; f16 values are rounded to the nearest half (ties to even).</summary>
    public static TensorData FromFloats(ElementType elementType, ImmutableArray<int> shape, ReadOnlySpan<float> values)
    {
        if (!elementType.IsFloat())
        {
            throw new ArgumentException($"{elementType.Name()} is not a float type; use FromIntegers", nameof(elementType));
        }

        CheckLength(shape, values.Length);
        var copy = values.ToArray();
        if (elementType == ElementType.F16)
        {
            for (var i = 0; i < copy.Length; i++)
            {
                copy[i] = ScalarSemantics.RoundToF16(copy[i]);
            }
        }

        return new TensorData(elementType, shape, null, copy);
    }

    /// <summary>Reads the canonical byte form (see the class comment).</summary>
    public static TensorData FromBytes(ElementType elementType, ImmutableArray<int> shape, ReadOnlySpan<byte> bytes)
    {
        var length = CheckShape(shape);
        var size = elementType.Bytes();
        if (bytes.Length != (long)length * size)
        {
            throw new ArgumentException(
                $"{FormatType(elementType, shape)} needs {(long)length * size} bytes, got {bytes.Length}", nameof(bytes));
        }

        switch (elementType)
        {
            case ElementType.I8:
            case ElementType.U8:
            {
                var values = new int[length];
                for (var i = 0; i < length; i++)
                {
                    values[i] = elementType == ElementType.I8 ? unchecked((sbyte)bytes[i]) : bytes[i];
                }

                return new TensorData(elementType, shape, values, null);
            }

            case ElementType.I32:
            {
                var values = new int[length];
                for (var i = 0; i < length; i++)
                {
                    values[i] = BinaryPrimitives.ReadInt32LittleEndian(bytes[(4 * i)..]);
                }

                return new TensorData(elementType, shape, values, null);
            }

            case ElementType.F16:
            {
                var values = new float[length];
                for (var i = 0; i < length; i++)
                {
                    values[i] = (float)BitConverter.UInt16BitsToHalf(BinaryPrimitives.ReadUInt16LittleEndian(bytes[(2 * i)..]));
                }

                return new TensorData(elementType, shape, null, values);
            }

            default:
            {
                var values = new float[length];
                for (var i = 0; i < length; i++)
                {
                    values[i] = BinaryPrimitives.ReadSingleLittleEndian(bytes[(4 * i)..]);
                }

                return new TensorData(elementType, shape, null, values);
            }
        }
    }

    /// <summary>The element at a row-major flat index, as a double (exact for every element type).</summary>
    // The cast matters: int and float in one conditional meet at float, which would round int32 values above 2^24.
    public double GetFlat(int flatIndex) => integers is not null ? (double)integers[flatIndex] : floats![flatIndex];

    /// <summary>The row-major flat index of a multi-dimensional index; throws when it is out of bounds.</summary>
    public int FlatIndexOf(ReadOnlySpan<int> index)
    {
        if (index.Length != Rank)
        {
            throw new ArgumentException($"{Describe()} needs {Rank} indices, got {index.Length}", nameof(index));
        }

        var flat = 0;
        for (var d = 0; d < Rank; d++)
        {
            if ((uint)index[d] >= (uint)Shape[d])
            {
                throw new ArgumentOutOfRangeException(
                    nameof(index), $"index {FormatIndex(index)} is outside {Describe()}");
            }

            flat = (flat * Shape[d]) + index[d];
        }

        return flat;
    }

    /// <summary>The multi-dimensional index of a row-major flat index.</summary>
    public int[] IndexOf(int flatIndex)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(flatIndex);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(flatIndex, Length);
        var index = new int[Rank];
        for (var d = Rank - 1; d >= 0; d--)
        {
            index[d] = flatIndex % Shape[d];
            flatIndex /= Shape[d];
        }

        return index;
    }

    /// <summary>Writes the canonical byte form into <paramref name="destination"/> (exactly <see cref="ByteCount"/> bytes).</summary>
    public void WriteBytes(Span<byte> destination)
    {
        if (destination.Length != ByteCount)
        {
            throw new ArgumentException($"{Describe()} has {ByteCount} bytes, the destination {destination.Length}", nameof(destination));
        }

        WriteBytes(0, Length, destination);
    }

    public byte[] ToBytes()
    {
        var bytes = new byte[ByteCount];
        WriteBytes(bytes);
        return bytes;
    }

    /// <summary>FNV-1a 64 of the canonical bytes (type and shape are not hashed, so the number can be
    /// reproduced from a raw dump).</summary>
    public ulong Checksum()
    {
        // Hash in pieces so a large tensor is not copied whole.
        const int elementsPerChunk = 1024;
        Span<byte> buffer = stackalloc byte[elementsPerChunk * 4];
        var hash = Fnv1a64.OffsetBasis;
        for (var start = 0; start < Length; start += elementsPerChunk)
        {
            var count = Math.Min(elementsPerChunk, Length - start);
            var chunk = buffer[..(count * ElementType.Bytes())];
            WriteBytes(start, count, chunk);
            hash = Fnv1a64.Append(hash, chunk);
        }

        return hash;
    }

    /// <summary>The checksum as 16 lower-case hex digits.</summary>
    public string ChecksumText() => Fnv1a64.Format(Checksum());

    public bool Equals(TensorData? other)
    {
        if (other is null)
        {
            return false;
        }

        if (ReferenceEquals(this, other))
        {
            return true;
        }

        if (ElementType != other.ElementType || !Shape.SequenceEqual(other.Shape))
        {
            return false;
        }

        if (integers is not null)
        {
            return integers.AsSpan().SequenceEqual(other.integers);
        }

        // f16 values are exact halves, so equal f32 bits mean equal half bits.
        return MemoryMarshal.Cast<float, int>(floats).SequenceEqual(MemoryMarshal.Cast<float, int>(other.floats));
    }

    public override bool Equals(object? obj) => Equals(obj as TensorData);

    public override int GetHashCode() => HashCode.Combine(ElementType, Length, Checksum());

    public static bool operator ==(TensorData? left, TensorData? right) => left is null ? right is null : left.Equals(right);

    public static bool operator !=(TensorData? left, TensorData? right) => !(left == right);

    /// <summary><c>i8[2, 3]</c></summary>
    public override string ToString() => Describe();

    /// <summary><c>i8[2, 3]</c></summary>
    public static string FormatType(ElementType elementType, IReadOnlyList<int> shape) =>
        $"{elementType.Name()}[{string.Join(", ", shape)}]";

    /// <summary><c>[0, 2, 1]</c></summary>
    public static string FormatIndex(ReadOnlySpan<int> index) => "[" + string.Join(", ", index.ToArray()) + "]";

    /// <summary>Formats a value of this tensor's type: integers plainly, floats with round-trip precision.</summary>
    public string FormatValue(double value) => IsInteger
        ? ((long)value).ToString(CultureInfo.InvariantCulture)
        : ((float)value).ToString("R", CultureInfo.InvariantCulture);

    /// <summary>The inclusive range of an integer element type.</summary>
    public static (int Low, int High) IntegerRange(ElementType elementType) => elementType switch
    {
        ElementType.I8 => (sbyte.MinValue, sbyte.MaxValue),
        ElementType.U8 => (byte.MinValue, byte.MaxValue),
        ElementType.I32 => (int.MinValue, int.MaxValue),
        _ => throw new ArgumentOutOfRangeException(nameof(elementType), elementType, "not an integer type"),
    };

    /// <summary>Wraps storage the interpreter filled itself: no copy and no range check.</summary>
    internal static TensorData WrapIntegers(ElementType elementType, ImmutableArray<int> shape, int[] values) =>
        new(elementType, shape, values, null);

    /// <summary>Wraps storage the interpreter filled itself: no copy and no rounding.</summary>
    internal static TensorData WrapFloats(ElementType elementType, ImmutableArray<int> shape, float[] values) =>
        new(elementType, shape, null, values);

    /// <summary>The storage itself, for the interpreter, which only reads input tensors.</summary>
    internal int[]? IntegerStorage => integers;

    /// <summary>The storage itself, for the interpreter, which only reads input tensors.</summary>
    internal float[]? FloatStorage => floats;

    /// <summary>The element count of a shape; throws on a negative extent or one too large for an array.</summary>
    internal static int CheckShape(ImmutableArray<int> shape)
    {
        if (shape.IsDefault)
        {
            throw new ArgumentException("the shape is missing", nameof(shape));
        }

        long length = 1;
        foreach (var extent in shape)
        {
            if (extent < 0)
            {
                throw new ArgumentException($"shape [{string.Join(", ", shape)}] has a negative extent", nameof(shape));
            }

            length *= extent;
            if (length > Array.MaxLength)
            {
                throw new ArgumentException($"shape [{string.Join(", ", shape)}] has more elements than an array can hold", nameof(shape));
            }
        }

        return (int)length;
    }

    private static void CheckLength(ImmutableArray<int> shape, int count)
    {
        var length = CheckShape(shape);
        if (length != count)
        {
            throw new ArgumentException($"shape [{string.Join(", ", shape)}] has {length} elements, but {count} values were given");
        }
    }

    private string Describe() => FormatType(ElementType, Shape);

    private void WriteBytes(int start, int count, Span<byte> destination)
    {
        switch (ElementType)
        {
            case ElementType.I8:
            case ElementType.U8:
                // The low byte is both the two's-complement i8 and the u8.
                for (var i = 0; i < count; i++)
                {
                    destination[i] = unchecked((byte)integers![start + i]);
                }

                break;
            case ElementType.I32:
                for (var i = 0; i < count; i++)
                {
                    BinaryPrimitives.WriteInt32LittleEndian(destination[(4 * i)..], integers![start + i]);
                }

                break;
            case ElementType.F16:
                for (var i = 0; i < count; i++)
                {
                    BinaryPrimitives.WriteUInt16LittleEndian(destination[(2 * i)..], BitConverter.HalfToUInt16Bits((Half)floats![start + i]));
                }

                break;
            default:
                for (var i = 0; i < count; i++)
                {
                    BinaryPrimitives.WriteSingleLittleEndian(destination[(4 * i)..], floats![start + i]);
                }

                break;
        }
    }
}
