using System.Collections.Immutable;
using System.Globalization;
using System.Text;

namespace Covenant.Runtime.Vta;

// What the VTA lowering produces: the instruction stream, the micro-op kernels, and the memory map that says
// where every tensor lives in the DRAM image and how its logical indices map to bytes. The memory map is plain
// data (no code of the lowering is needed to read it): the runtime packs inputs and unpacks outputs with it.

/// <summary>Options of <see cref="VtaLowering.Lower"/>.</summary>
public sealed record VtaLoweringOptions
{
    public static VtaLoweringOptions Default { get; } = new();

    /// <summary>
    /// Physical address of the DRAM image (relocatable): every <c>dram_base</c> of the stream is absolute, so the
    /// image must be placed here. Must be a multiple of <see cref="VtaMemoryMap.Alignment"/> (the largest element size).
    /// </summary>
    public long PhysicalBase { get; init; } = 0x1000_0000;

    /// <summary>Keep tiles resident across steps that need the same data (no reload); off reloads every step.</summary>
    public bool ReuseResidentTiles { get; init; } = true;

    /// <summary>Interleave the byte-plane stores of an int32 output with the next tile's GEMMs (needs a double-buffered ACC).</summary>
    public bool DeferPlaneStores { get; init; } = true;

    /// <summary>Put the 32-character hex encoding of every instruction in the listing.</summary>
    public bool ListingHex { get; init; }
}

/// <summary>What a DRAM region holds.</summary>
public enum VtaRegionKind
{
    /// <summary>A codelet input, packed by the runtime before the run.</summary>
    Input,

    /// <summary>A codelet output, unpacked by the runtime after the run.</summary>
    Output,

    /// <summary>Zeros the stream loads where LOAD padding cannot be used.</summary>
    Zeros,

    /// <summary>The micro-op kernels (<c>uops.bin</c>), loaded with LOAD UOP.</summary>
    Uops,
}

/// <summary>
/// One part of a tensor dimension: <c>value = (index[Dim] / Divisor) mod Modulus</c> (no modulus when
/// <see cref="Modulus"/> is 0). A dimension is one part, or two when it is split (grouped channels
/// <c>g*CG + c</c>: the group <c>index / CG</c> and the channel in the group <c>index mod CG</c>).
/// </summary>
public sealed record VtaLayoutPart(int Dim, long Divisor, long Modulus)
{
    public long Value(ReadOnlySpan<int> index)
    {
        var v = index[Dim] / Divisor;
        return Modulus > 0 ? v % Modulus : v;
    }
}

/// <summary>
/// One level of a blocked layout, outermost first: <c>position = (part / Divisor) mod Modulus</c> (no modulus
/// when 0), in <c>[0, Extent)</c>. <see cref="Part"/> = -1 is a level of padding lanes: position 0 always (a row of
/// which only the first lane holds data). Byte offset = row-major position over the levels × stored bytes.
/// </summary>
public sealed record VtaLayoutLevel(int Part, long Divisor, long Modulus, long Extent, string Name)
{
    public long Position(ReadOnlySpan<long> parts)
    {
        if (Part < 0)
        {
            return 0;
        }

        var v = parts[Part] / Divisor;
        return Modulus > 0 ? v % Modulus : v;
    }
}

/// <summary>
/// How a tensor's logical elements map to the bytes of its DRAM region. A byte not written by any element (padding
/// lanes, padded rows) must be zero where the program reads it: the region's <see cref="VtaDramRegion.MustBeZero"/>. Values are stored little-endian in <see cref="StoredBytes"/> bytes (an 8-bit
/// value in 4 bytes is sign-extended for i8, zero-extended for u8). With <see cref="Planes"/> = 4 an int32 value is
/// split into byte planes: byte k of the value (k = 0 least significant) is at <c>k · PlaneBytes + offset</c>.
/// </summary>
public sealed record VtaTensorLayout(
    string Tensor,
    string ElementType,
    ImmutableArray<int> Shape,
    int StoredBytes,
    int Planes,
    long PlaneBytes,
    ImmutableArray<VtaLayoutPart> Parts,
    ImmutableArray<VtaLayoutLevel> Levels)
{
    /// <summary>Bytes of the whole layout (all planes).</summary>
    public long SizeBytes => Planes * PlaneBytes;

    /// <summary>Byte offset (within a plane) of the element at <paramref name="index"/>.</summary>
    public long Offset(ReadOnlySpan<int> index)
    {
        Span<long> parts = stackalloc long[Parts.Length];
        for (var p = 0; p < Parts.Length; p++)
        {
            parts[p] = Parts[p].Value(index);
        }

        long offset = 0;
        foreach (var level in Levels)
        {
            offset = (offset * level.Extent) + level.Position(parts);
        }

        return offset * StoredBytes;
    }

    /// <summary><c>[n][c/16][h][w][c%16]</c>: the levels, outermost first.</summary>
    public string Describe() => string.Concat(Levels.Select(l => "[" + l.Name + "]"));
}

/// <summary>One region of the DRAM image. <see cref="Layout"/> is set for tensors.</summary>
public sealed record VtaDramRegion(string Name, VtaRegionKind Kind, long Address, long SizeBytes, VtaTensorLayout? Layout)
{
    /// <summary>
    /// The bytes of the region (offsets from its start, sorted, coalesced) that must hold zero for the program to compute
    /// the right result: padding it reads (<see cref="VtaZeroRanges"/>). Every other byte may hold anything before the
    /// host writes the tensors and micro-ops.
    /// </summary>
    public ImmutableArray<VtaByteRange> MustBeZero { get; init; } = [];
}

/// <summary>
/// The DRAM image a stream expects: it starts at <see cref="PhysicalBase"/> and is <see cref="SizeBytes"/> long; every
/// region is aligned to <see cref="Alignment"/> (the largest element size, so every dram_base is a whole element).
/// </summary>
public sealed record VtaMemoryMap(long PhysicalBase, long SizeBytes, long Alignment, ImmutableArray<VtaDramRegion> Regions)
{
    public VtaDramRegion Region(string name) => Regions.First(r => r.Name == name);

    public IEnumerable<VtaDramRegion> Inputs => Regions.Where(r => r.Kind == VtaRegionKind.Input);

    public IEnumerable<VtaDramRegion> Outputs => Regions.Where(r => r.Kind == VtaRegionKind.Output);

    public override string ToString()
    {
        var text = new StringBuilder();
        var c = CultureInfo.InvariantCulture;
        text.AppendLine(c, $"DRAM image at 0x{PhysicalBase:x}, {SizeBytes} bytes, alignment {Alignment}");
        foreach (var r in Regions)
        {
            text.Append(c, $"  0x{r.Address:x8} {r.SizeBytes,10} B  {r.Kind,-6} {r.Name}");
            if (r.Layout is { } l)
            {
                text.Append(c, $"  {l.ElementType}[{string.Join(", ", l.Shape)}] as {l.Describe()}");
                if (l.Planes > 1)
                {
                    text.Append(c, $" x {l.Planes} byte planes");
                }
                else if (l.StoredBytes > 1)
                {
                    text.Append(c, $" x {l.StoredBytes} B");
                }
            }

            text.AppendLine();
        }

        return text.ToString();
    }
}

/// <summary>Counts that describe a lowered program (for reports and tests).</summary>
public sealed record VtaProgramSummary(
    int Instructions,
    int LoadInstructions,
    int ComputeInstructions,
    int StoreInstructions,
    int GemmInstructions,
    int AluInstructions,
    int UopLoads,
    int Kernels,
    int Steps,
    int AccTiles,
    long GemmUops,
    long MacsUseful);

/// <summary>
/// A lowered VTA program: the instruction stream (FINISH last), the micro-op kernels as DRAM holds them (the
/// <see cref="VtaRegionKind.Uops"/> region), the memory map, the configuration it was lowered for, and a listing.
/// </summary>
public sealed record VtaProgram(
    string Codelet,
    VtaConfig Config,
    ImmutableArray<VtaInstruction> Instructions,
    ImmutableArray<VtaUop> Uops,
    VtaMemoryMap MemoryMap,
    string Listing,
    VtaProgramSummary Summary);
