using System.Collections.Immutable;
using System.Globalization;
using System.Runtime.CompilerServices;

namespace Covenant.Runtime.Vta;

/// <summary>
/// Byte ranges of a DRAM region, offsets from the region's start: <see cref="Count"/> ranges of <see cref="Length"/>
/// bytes, the first at <see cref="Offset"/>, each <see cref="Stride"/> bytes after the previous (a repeat keeps the
/// padding lanes of every pixel one entry instead of one per pixel; a single range has Count 1 and Stride = Length).
/// </summary>
public sealed record VtaByteRange(long Offset, long Length, long Count = 1, long Stride = 0)
{
    /// <summary>One past the last byte of the last range.</summary>
    public long End => Offset + ((Count - 1) * Stride) + Length;

    /// <summary>The ranges one by one: (offset, length).</summary>
    public IEnumerable<(long Offset, long Length)> Ranges()
    {
        for (long i = 0; i < Count; i++)
        {
            yield return (Offset + (i * Stride), Length);
        }
    }

    public override string ToString() => Count == 1
        ? string.Create(CultureInfo.InvariantCulture, $"[{Offset}, {Offset + Length})")
        : string.Create(CultureInfo.InvariantCulture, $"{Count} x [{Offset}, {Offset + Length}) every {Stride} bytes");
}

/// <summary>
/// Which bytes of the DRAM image must be zero for a VTA program to compute the right result, and checks on an image.
/// A byte must be zero when some LOAD of the program reads it and no tensor element maps to it (channel padding up to
/// the block size, padded rows and columns, padding lanes; every byte of the <see cref="VtaRegionKind.Zeros"/>
/// region): its value reaches the SRAM and, through the GEMM or ALU, the result. Bytes no LOAD reads never leave DRAM,
/// so any value there is harmless; element bytes and the micro-op kernels are written by the host. An output region is
/// written by STORE and never loaded by the lowering, so the host need provide nothing there; should a program load
/// one, the bytes it loads are listed (the host cannot know the program wrote them first).
/// </summary>
public static class VtaZeroRanges
{
    /// <summary>The memory map with every region's <see cref="VtaDramRegion.MustBeZero"/> derived from <paramref name="instructions"/>.</summary>
    public static VtaMemoryMap Annotate(VtaMemoryMap map, VtaConfig config, IEnumerable<VtaInstruction> instructions)
    {
        ArgumentNullException.ThrowIfNull(map);
        var reads = Reads(map, config, instructions);
        return map with { Regions = [.. map.Regions.Select(r => r with { MustBeZero = Required(map, r, reads) })] };
    }

    /// <summary>One flag per byte of the image: some LOAD of <paramref name="instructions"/> reads it.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static bool[] Reads(VtaMemoryMap map, VtaConfig config, IEnumerable<VtaInstruction> instructions)
    {
        ArgumentNullException.ThrowIfNull(map);
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(instructions);
        var reads = new bool[checked((int)map.SizeBytes)];
        foreach (var load in instructions.OfType<VtaLoad>())
        {
            if (load.IsNop || load.YSize <= 0)
            {
                continue;
            }

            var e = config.ElementBytes(load.MemoryType);
            var first = (load.DramBase * e) - map.PhysicalBase;
            var pitch = (long)load.XStride * e;
            var rowBytes = (long)load.XSize * e;
            for (var y = 0; y < load.YSize; y++)
            {
                // The simulator refuses a LOAD outside the image; clip here so a broken stream still gets its own error there.
                var start = Math.Clamp(first + (y * pitch), 0, reads.Length);
                var end = Math.Clamp(first + (y * pitch) + rowBytes, 0, reads.Length);
                reads.AsSpan((int)start, (int)(end - start)).Fill(true);
            }
        }

        return reads;
    }

    /// <summary>The bytes of <paramref name="region"/> that must be zero, given which bytes of the image are read.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static ImmutableArray<VtaByteRange> Required(VtaMemoryMap map, VtaDramRegion region, bool[] reads)
    {
        ArgumentNullException.ThrowIfNull(map);
        ArgumentNullException.ThrowIfNull(region);
        ArgumentNullException.ThrowIfNull(reads);
        var start = checked((int)(region.Address - map.PhysicalBase));
        var read = reads.AsSpan(start, checked((int)region.SizeBytes));
        var must = new bool[read.Length];
        var written = region.Kind switch
        {
            VtaRegionKind.Input when region.Layout is { } layout => ElementBytes(layout, read.Length),
            VtaRegionKind.Uops => null,
            _ => new bool[read.Length],
        };
        for (var i = 0; i < must.Length; i++)
        {
            must[i] = read[i] && written is not null && !written[i];
        }

        return Runs(must);
    }

    /// <summary>One flag per byte of a region of <paramref name="sizeBytes"/>: some element of <paramref name="layout"/> is stored there (all planes, all stored bytes).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static bool[] ElementBytes(VtaTensorLayout layout, long sizeBytes)
    {
        ArgumentNullException.ThrowIfNull(layout);
        var covered = new bool[checked((int)sizeBytes)];
        var count = layout.Shape.Aggregate(1L, (p, e) => checked(p * e));
        if (count == 0)
        {
            return covered;
        }

        // Every level's position depends on one dimension, so the offset is a sum of one term per dimension: tabulate
        // the terms once (as VtaTensorLayout.Offset computes them) and add, instead of evaluating every level per element.
        var terms = DimensionTerms(layout);
        var rank = layout.Shape.Length;
        Span<int> index = stackalloc int[rank];
        var inner = layout.Shape[rank - 1];
        for (long outer = 0; outer < count / inner; outer++)
        {
            long offset = 0;
            for (var d = 0; d < rank - 1; d++)
            {
                offset += terms[d][index[d]];
            }

            foreach (var term in terms[rank - 1])
            {
                for (var plane = 0; plane < layout.Planes; plane++)
                {
                    var at = offset + term + (plane * layout.PlaneBytes);
                    for (var b = 0; b < layout.StoredBytes; b++)
                    {
                        covered[at + b] = true;
                    }
                }
            }

            for (var d = rank - 2; d >= 0 && ++index[d] == layout.Shape[d]; d--)
            {
                index[d] = 0;
            }
        }

        return covered;
    }

    /// <summary>For each dimension d and index i, the bytes <see cref="VtaTensorLayout.Offset"/> adds for index[d] = i.</summary>
    private static long[][] DimensionTerms(VtaTensorLayout layout)
    {
        var terms = layout.Shape.Select(e => new long[e]).ToArray();
        long weight = layout.StoredBytes;
        for (var l = layout.Levels.Length - 1; l >= 0; l--)
        {
            var level = layout.Levels[l];
            if (level.Part >= 0)
            {
                var part = layout.Parts[level.Part];
                for (var i = 0; i < terms[part.Dim].Length; i++)
                {
                    var v = i / part.Divisor;
                    v = part.Modulus > 0 ? v % part.Modulus : v;
                    var position = v / level.Divisor;
                    position = level.Modulus > 0 ? position % level.Modulus : position;
                    terms[part.Dim][i] += position * weight;
                }
            }

            weight = checked(weight * level.Extent);
        }

        return terms;
    }

    /// <summary>The set bytes of <paramref name="mask"/> as sorted, coalesced ranges, equal ranges at equal distances folded into one repeat.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static ImmutableArray<VtaByteRange> Runs(ReadOnlySpan<bool> mask)
    {
        var ranges = new List<(long Offset, long Length)>();
        for (var i = 0; i < mask.Length;)
        {
            if (!mask[i])
            {
                i++;
                continue;
            }

            var j = i;
            while (j < mask.Length && mask[j])
            {
                j++;
            }

            ranges.Add((i, j - i));
            i = j;
        }

        var runs = ImmutableArray.CreateBuilder<VtaByteRange>();
        for (var r = 0; r < ranges.Count;)
        {
            var (offset, length) = ranges[r];
            var count = 1;
            var stride = r + 1 < ranges.Count && ranges[r + 1].Length == length ? ranges[r + 1].Offset - offset : 0;
            while (stride > 0 && r + count < ranges.Count && ranges[r + count] == (offset + (count * stride), length))
            {
                count++;
            }

            runs.Add(new VtaByteRange(offset, length, count, count == 1 ? length : stride));
            r += count;
        }

        return runs.ToImmutable();
    }

    /// <summary>
    /// The first listed range that is not a set of bytes inside its region (negative, empty, overlapping itself, past the
    /// region's end; a region outside the image), as a sentence with its JSON path; null when all are well formed.
    /// </summary>
    public static string? FirstMalformed(VtaMemoryMap map)
    {
        ArgumentNullException.ThrowIfNull(map);
        for (var i = 0; i < map.Regions.Length; i++)
        {
            var region = map.Regions[i];
            if (region.MustBeZero.IsDefaultOrEmpty)
            {
                continue;
            }

            if (!Inside(map, region))
            {
                return string.Create(CultureInfo.InvariantCulture, $"$.regions[{i}] ('{region.Name}') is not inside the DRAM image, so its mustBeZero ranges cannot be either; recompile the artifact");
            }

            for (var j = 0; j < region.MustBeZero.Length; j++)
            {
                var r = region.MustBeZero[j];
                var end = (Int128)r.Offset + ((Int128)(r.Count - 1) * r.Stride) + r.Length;
                if (r.Offset < 0 || r.Length < 1 || r.Count < 1 || (r.Count > 1 && r.Stride < r.Length) || end > region.SizeBytes)
                {
                    return string.Create(CultureInfo.InvariantCulture,
                        $"$.regions[{i}].mustBeZero[{j}] (offset {r.Offset}, length {r.Length}, count {r.Count}, stride {r.Stride}) is not a set of bytes inside region '{region.Name}' ({region.SizeBytes} bytes): offset >= 0, length >= 1, count >= 1, stride >= length when count > 1; recompile the artifact");
                }
            }
        }

        return null;
    }

    /// <summary>Sets every byte of every listed range to zero.</summary>
    public static void ZeroListed(VtaMemoryMap map, VtaDram dram)
    {
        ArgumentNullException.ThrowIfNull(map);
        ArgumentNullException.ThrowIfNull(dram);
        foreach (var region in map.Regions)
        {
            foreach (var (offset, length) in region.MustBeZero.SelectMany(r => r.Ranges()))
            {
                dram.At(region.Address + offset, checked((int)length)).Clear();
            }
        }
    }

    /// <summary>Where the image holds a non-zero byte in a listed range, as a sentence for the host; null when every listed byte is zero.</summary>
    public static string? FirstNonZero(VtaMemoryMap map, VtaDram dram)
    {
        ArgumentNullException.ThrowIfNull(map);
        ArgumentNullException.ThrowIfNull(dram);
        foreach (var region in map.Regions)
        {
            foreach (var range in region.MustBeZero)
            {
                foreach (var (offset, length) in range.Ranges())
                {
                    var bytes = dram.At(region.Address + offset, checked((int)length));
                    var at = bytes.IndexOfAnyExcept((byte)0);
                    if (at >= 0)
                    {
                        // A listed byte a tensor element is stored in is the map's fault, not the host's.
                        var element = region.Layout is { } layout && ElementBytes(layout, region.SizeBytes)[offset + at];
                        var fix = element ? "but a tensor element is stored there, so the list is wrong; recompile the artifact" : "padding the program reads; the host must zero those bytes";
                        return string.Create(CultureInfo.InvariantCulture,
                            $"byte {offset + at} of region '{region.Name}' (address 0x{region.Address + offset + at:x}) is 0x{bytes[at]:x2}, but memory-map.json lists {range} of that region as mustBeZero: {fix}");
                    }
                }
            }
        }

        return null;
    }

    /// <summary>
    /// Where the map's lists leave out a byte the program needs zero (a list edited by hand, or an artifact written
    /// before the lists existed), as a sentence; null when every required byte is listed.
    /// </summary>
    public static string? FirstUnlisted(VtaMemoryMap map, VtaConfig config, IEnumerable<VtaInstruction> instructions)
    {
        ArgumentNullException.ThrowIfNull(map);
        var reads = Reads(map, config, instructions);
        foreach (var region in map.Regions.Where(r => Inside(map, r)))
        {
            var listed = new bool[checked((int)region.SizeBytes)];
            foreach (var (offset, length) in region.MustBeZero.SelectMany(r => r.Ranges()))
            {
                listed.AsSpan(checked((int)offset), checked((int)length)).Fill(true);
            }

            foreach (var (offset, length) in Required(map, region, reads).SelectMany(r => r.Ranges()))
            {
                var missing = listed.AsSpan(checked((int)offset), checked((int)length)).IndexOf(false);
                if (missing >= 0)
                {
                    return string.Create(CultureInfo.InvariantCulture,
                        $"region '{region.Name}' does not list byte {offset + missing} as mustBeZero, but the program reads it and no tensor element is stored there; recompile the artifact");
                }
            }
        }

        return null;
    }

    /// <summary>The region lies inside the image (a hand-edited map may say otherwise; that is reported where the image is built).</summary>
    private static bool Inside(VtaMemoryMap map, VtaDramRegion region) =>
        region.Address >= map.PhysicalBase && region.SizeBytes >= 0 && (Int128)region.Address + region.SizeBytes <= (Int128)map.PhysicalBase + map.SizeBytes;
}
