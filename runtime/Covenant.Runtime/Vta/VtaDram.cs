using System.Buffers.Binary;
using System.Collections.Immutable;
using System.Globalization;
using System.Runtime.InteropServices;
using Covenant.Codelets;

namespace Covenant.Runtime.Vta;

/// <summary>
/// The DRAM a VTA stream reads and writes: a byte array mapped at a physical base address. Instructions
/// address it in elements (<c>dram_base</c> = physical byte address / element bytes); the simulator checks
/// every access against [<see cref="PhysicalBase"/>, <see cref="End"/>). STOREs write into the array in place.
/// </summary>
public sealed class VtaDram
{
    private readonly byte[] bytes;

    /// <summary>A zero-filled image of <paramref name="sizeBytes"/> bytes (deterministic, unlike <c>VTAMemAlloc</c>).</summary>
    public VtaDram(long physicalBase, int sizeBytes)
        : this(physicalBase, new byte[sizeBytes])
    {
    }

    /// <summary>Wraps <paramref name="bytes"/> (no copy): writes by the simulator land in it.</summary>
    public VtaDram(long physicalBase, byte[] bytes)
    {
        ArgumentNullException.ThrowIfNull(bytes);
        ArgumentOutOfRangeException.ThrowIfNegative(physicalBase);
        PhysicalBase = physicalBase;
        this.bytes = bytes;
    }

    public long PhysicalBase { get; }

    public int Length => bytes.Length;

    /// <summary>One past the last physical byte address.</summary>
    public long End => PhysicalBase + bytes.Length;

    /// <summary>The whole image.</summary>
    public Span<byte> Bytes => bytes;

    internal byte[] Array => bytes;

    public bool Contains(long physicalAddress, long length) =>
        length >= 0 && physicalAddress >= PhysicalBase && physicalAddress + length <= End;

    /// <summary>The bytes [address, address + length); throws when they are not all inside the image.</summary>
    public Span<byte> At(long physicalAddress, int length)
    {
        if (!Contains(physicalAddress, length))
        {
            throw new ArgumentOutOfRangeException(nameof(physicalAddress), string.Format(
                CultureInfo.InvariantCulture,
                "bytes [0x{0:x}, 0x{1:x}) are outside the DRAM image [0x{2:x}, 0x{3:x})",
                physicalAddress, physicalAddress + length, PhysicalBase, End));
        }

        return bytes.AsSpan((int)(physicalAddress - PhysicalBase), length);
    }

    public void Write(long physicalAddress, ReadOnlySpan<byte> data) => data.CopyTo(At(physicalAddress, data.Length));

    public void Write(long physicalAddress, ReadOnlySpan<sbyte> data) => Write(physicalAddress, MemoryMarshal.AsBytes(data));

    /// <summary>Little-endian int32 values (ACC rows).</summary>
    public void Write(long physicalAddress, ReadOnlySpan<int> data)
    {
        var target = At(physicalAddress, checked(data.Length * 4));
        for (var i = 0; i < data.Length; i++)
        {
            BinaryPrimitives.WriteInt32LittleEndian(target[(4 * i)..], data[i]);
        }
    }

    /// <summary>A tensor's canonical bytes (little-endian, row-major).</summary>
    public void Write(long physicalAddress, TensorData tensor)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        tensor.WriteBytes(At(physicalAddress, checked((int)tensor.ByteCount)));
    }

    public sbyte[] ReadSBytes(long physicalAddress, int count) => MemoryMarshal.Cast<byte, sbyte>(At(physicalAddress, count)).ToArray();

    public int[] ReadInt32s(long physicalAddress, int count)
    {
        var source = At(physicalAddress, checked(count * 4));
        var values = new int[count];
        for (var i = 0; i < count; i++)
        {
            values[i] = BinaryPrimitives.ReadInt32LittleEndian(source[(4 * i)..]);
        }

        return values;
    }

    public TensorData Read(long physicalAddress, ElementType type, ImmutableArray<int> shape)
    {
        var count = TensorData.CheckShape(shape);
        return TensorData.FromBytes(type, shape, At(physicalAddress, checked(count * type.Bytes())));
    }
}
