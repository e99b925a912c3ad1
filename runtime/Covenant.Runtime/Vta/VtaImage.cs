using System.Buffers.Binary;
using System.Collections.Immutable;
using Covenant.Codelets;

namespace Covenant.Runtime.Vta;

/// <summary>
/// Builds the DRAM image a lowered VTA program expects and reads results back, driven only by the memory map's
/// layout descriptions (<see cref="VtaTensorLayout"/>): nothing here knows how the lowering chose them.
/// </summary>
public static class VtaImage
{
    /// <summary>
    /// The image at the map's physical base with every input packed and the micro-op kernels in place. Zero-filled; with
    /// <paramref name="garbageSeed"/>, every byte starts as seeded non-zero garbage instead and only the map's
    /// <see cref="VtaDramRegion.MustBeZero"/> ranges are zeroed after the tensors are written, as a host that allocates
    /// its own buffers and zeroes no more than it must would leave it.
    /// </summary>
    public static VtaDram Build(VtaProgram program, IReadOnlyDictionary<string, TensorData> inputs, ulong? garbageSeed = null)
    {
        ArgumentNullException.ThrowIfNull(program);
        ArgumentNullException.ThrowIfNull(inputs);
        var map = program.MemoryMap;
        var dram = new VtaDram(map.PhysicalBase, checked((int)map.SizeBytes));
        if (garbageSeed is { } seed)
        {
            FillWithGarbage(dram.Bytes, seed);
        }

        foreach (var region in map.Inputs)
        {
            if (!inputs.TryGetValue(region.Name, out var tensor))
            {
                throw new ArgumentException($"the program needs input '{region.Name}', which was not given", nameof(inputs));
            }

            Pack(dram.At(region.Address, checked((int)region.SizeBytes)), region.Layout!, tensor);
        }

        var uops = map.Regions.FirstOrDefault(r => r.Kind == VtaRegionKind.Uops);
        if (uops is not null && program.Uops.Length > 0)
        {
            dram.Write(uops.Address, new VtaEncoder(program.Config).EncodeUops(program.Uops));
        }

        if (garbageSeed is not null)
        {
            VtaZeroRanges.ZeroListed(map, dram);
        }

        return dram;
    }

    /// <summary>Fills <paramref name="bytes"/> with garbage from <paramref name="seed"/>; never a zero byte, so every byte left unwritten differs from zero.</summary>
    public static void FillWithGarbage(Span<byte> bytes, ulong seed)
    {
        var random = SeededRandom.ForStream(seed, "dram-garbage");
        for (var i = 0; i < bytes.Length; i += 8)
        {
            var bits = random.Next();
            for (var b = i; b < Math.Min(i + 8, bytes.Length); b++, bits >>= 8)
            {
                bytes[b] = (byte)bits is 0 ? (byte)0xa5 : (byte)bits;
            }
        }
    }

    /// <summary>Writes every element of <paramref name="tensor"/> where <paramref name="layout"/> puts it; other bytes are left as they are.</summary>
    public static void Pack(Span<byte> region, VtaTensorLayout layout, TensorData tensor)
    {
        ArgumentNullException.ThrowIfNull(layout);
        ArgumentNullException.ThrowIfNull(tensor);
        Check(layout, tensor.ElementType, tensor.Shape);
        if (!tensor.IsInteger)
        {
            throw new ArgumentException($"'{layout.Tensor}' is {tensor.ElementType.Name()}; VTA layouts hold integers", nameof(tensor));
        }

        var values = tensor.Integers;
        Span<int> index = stackalloc int[tensor.Rank];
        for (var flat = 0; flat < values.Length; flat++)
        {
            var offset = checked((int)layout.Offset(index));
            var value = values[flat];
            if (layout.Planes > 1)
            {
                for (var plane = 0; plane < layout.Planes; plane++)
                {
                    region[checked((int)(offset + (plane * layout.PlaneBytes)))] = unchecked((byte)(value >> (8 * plane)));
                }
            }
            else if (layout.StoredBytes == 4)
            {
                BinaryPrimitives.WriteInt32LittleEndian(region[offset..], value);
            }
            else
            {
                region[offset] = unchecked((byte)value);
            }

            Next(index, tensor.Shape);
        }
    }

    /// <summary>Reads the tensor a layout describes back from its region.</summary>
    public static TensorData Unpack(ReadOnlySpan<byte> region, VtaTensorLayout layout, ElementType elementType)
    {
        ArgumentNullException.ThrowIfNull(layout);
        Check(layout, elementType, layout.Shape);
        var count = layout.Shape.Aggregate(1, (p, e) => checked(p * e));
        var values = new int[count];
        Span<int> index = stackalloc int[layout.Shape.Length];
        for (var flat = 0; flat < count; flat++)
        {
            var offset = checked((int)layout.Offset(index));
            int value;
            if (layout.Planes > 1)
            {
                value = 0;
                for (var plane = 0; plane < layout.Planes; plane++)
                {
                    value |= region[checked((int)(offset + (plane * layout.PlaneBytes)))] << (8 * plane);
                }
            }
            else if (layout.StoredBytes == 4)
            {
                value = BinaryPrimitives.ReadInt32LittleEndian(region[offset..]);
            }
            else
            {
                value = elementType == ElementType.U8 ? region[offset] : unchecked((sbyte)region[offset]);
            }

            values[flat] = value;
            Next(index, layout.Shape);
        }

        return TensorData.FromIntegers(elementType, layout.Shape, values);
    }

    private static void Check(VtaTensorLayout layout, ElementType type, ImmutableArray<int> shape)
    {
        if (layout.ElementType != type.Name() || !layout.Shape.SequenceEqual(shape))
        {
            throw new ArgumentException(
                $"'{layout.Tensor}' is laid out as {layout.ElementType}[{string.Join(", ", layout.Shape)}], not {type.Name()}[{string.Join(", ", shape)}]");
        }
    }

    private static void Next(Span<int> index, ImmutableArray<int> shape)
    {
        for (var d = index.Length - 1; d >= 0; d--)
        {
            if (++index[d] < shape[d])
            {
                return;
            }

            index[d] = 0;
        }
    }
}
