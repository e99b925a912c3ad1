using System.Collections.Immutable;
using System.Globalization;
using Covenant.Codelets;
using Covenant.Codelets.Semantics;
using Covenant.Core.Diagnostics;
using Covenant.Core.Numerics;
using Covenant.Mapping.Model;
using Covenant.Runtime.Vta;

namespace Covenant.Targets.Vta.Lowering;

/// <summary>Which GEMM axis a loop feeds with its lanes.</summary>
internal enum LaneAxis
{
    None,

    /// <summary>BLOCK_OUT: the lanes of ACC rows and the rows of weight blocks.</summary>
    J,

    /// <summary>BLOCK_IN: the lanes of INP rows and the columns of weight blocks.</summary>
    K,
}

/// <summary>
/// One loop of the main nest as the lowering iterates it. Loops laid along a GEMM lane axis (j, k) are iterated in
/// blocks of the axis extent ("var units": one unit = one block); the others one iteration at a time.
/// </summary>
internal sealed class LoopVar(int index, LoopMapping map, LaneAxis lane, int block)
{
    public int Index { get; } = index;

    public LoopMapping Map { get; } = map;

    public string Name => Map.Loop;

    public LaneAxis Lane { get; } = lane;

    /// <summary>Iterations per var unit: the axis extent for a lane loop, else 1.</summary>
    public int Block { get; } = block;

    public LoopRole Role => Map.Role;

    /// <summary>Var units over the padded extent.</summary>
    public int Units => Map.PaddedExtent / Block;

    /// <summary>Var units per full tile.</summary>
    public int TileUnits => Math.Max(1, Map.Tile / Block);

    public int TileCount => (Units + TileUnits - 1) / TileUnits;
}

/// <summary>
/// A row coordinate of a tensor: a layout level above the lanes. Its value is affine in the loops, in var units
/// (<see cref="Coef"/> per loop, <see cref="Const"/>). Values in [0, <see cref="ValidSize"/>) hold data; values
/// outside it are the zero padding of a <c>padded</c> tensor (reads) or the cropped border (writes).
/// </summary>
internal sealed record Coord(string Name, int Part, bool IsBlock, long[] Coef, long Const, long Extent, long ValidSize)
{
    /// <summary>Position of this level in DRAM, in elements (set once the order is known).</summary>
    public long DramStride { get; init; }

    public bool MayBeInvalid { get; init; }

    public long Lo(ReadOnlySpan<int> lo)
    {
        var value = Const;
        for (var l = 0; l < Coef.Length; l++)
        {
            value += Coef[l] * lo[l];
        }

        return value;
    }

    public long Count(ReadOnlySpan<int> units)
    {
        long count = 1;
        for (var l = 0; l < Coef.Length; l++)
        {
            count += Coef[l] * (units[l] - 1);
        }

        return count;
    }

    public bool DependsOn(int loop) => Coef[loop] != 0;
}

/// <summary>
/// A tensor as the GEMM sees it: split into parts, its lane parts blocked by the axis extents, its row coordinates
/// in DRAM order, and the resulting layout. One DRAM element (= one SRAM row) holds the lanes.
/// </summary>
internal sealed class TensorModel
{
    public required TensorInstance Tensor { get; init; }

    public required ImmutableArray<VtaLayoutPart> Parts { get; init; }

    /// <summary>Row coordinates in DRAM (and SRAM box) order, outermost first.</summary>
    public required ImmutableArray<Coord> Coords { get; init; }

    /// <summary>Levels inside an element (lanes), outermost first.</summary>
    public required ImmutableArray<VtaLayoutLevel> LaneLevels { get; init; }

    /// <summary>Lanes per element (the product of the lane levels' extents).</summary>
    public long Lanes => LaneLevels.Aggregate(1L, (p, l) => p * l.Extent);

    /// <summary>Elements of the layout (rows of lanes).</summary>
    public long Elements => Coords.Aggregate(1L, (p, c) => p * c.Extent);

    /// <summary>The layout, for the memory map.</summary>
    public VtaTensorLayout Layout(TensorInstance tensor, int storedBytes, int planes)
    {
        var levels = ImmutableArray.CreateBuilder<VtaLayoutLevel>();
        foreach (var c in Coords)
        {
            levels.Add(c.IsBlock
                ? new VtaLayoutLevel(c.Part, LanesOfPart(c.Part), 0, c.Extent, c.Name)
                : new VtaLayoutLevel(c.Part, 1, 0, c.Extent, c.Name));
        }

        levels.AddRange(LaneLevels);
        var planeBytes = Elements * Lanes * storedBytes;
        return new VtaTensorLayout(tensor.Name, tensor.ElementType.Name(), tensor.Shape, storedBytes, planes, planeBytes, Parts, levels.ToImmutable());
    }

    private long LanesOfPart(int part) => LaneLevels.First(l => l.Part == part).Extent;
}

/// <summary>How one tensor dimension is split into parts, before the layout orders them.</summary>
internal sealed record PartSpec(int Dim, long Divisor, long Modulus, long[] Coef, long Constant, long Extent, long ValidSize, LaneAxis Lane, int LaneLoop, string Name);

/// <summary>Builds <see cref="TensorModel"/>s from access index expressions.</summary>
internal static class TensorModels
{
    /// <summary>
    /// Splits the dimensions of <paramref name="tensor"/> (accessed with <paramref name="indices"/> in the main nest)
    /// into parts. <paramref name="lanes"/> lists, innermost last, the lane axes of this operand and the loop on each
    /// (or -1 when the axis is unused: the element then has padding lanes).
    /// </summary>
    public static Result<IReadOnlyList<PartSpec>> Parts(
        TensorInstance tensor,
        ImmutableArray<AffineIndex> indices,
        IReadOnlyList<LoopVar> loops,
        IReadOnlyList<(LaneAxis Axis, int Loop, int Block)> lanes,
        SourceLocation access)
    {
        Result<IReadOnlyList<PartSpec>> Unsupported(string message) => LoweringContext.Fail<IReadOnlyList<PartSpec>>(VtaLoweringDiagnostics.UnsupportedIndex, access, message);

        var parts = new List<PartSpec>();
        var laneSeen = new HashSet<LaneAxis>();
        for (var d = 0; d < indices.Length; d++)
        {
            var index = indices[d];
            for (var l = 0; l < loops.Count; l++)
            {
                if (index.Coefficients[l] < 0)
                {
                    return Unsupported(
                        $"dimension {d} of '{tensor.Name}' has coefficient {index.Coefficients[l]} on loop '{loops[l].Name}'; the VTA lowering needs non-negative coefficients");
                }

                if (index.Coefficients[l] != 0 && loops[l].Lane != LaneAxis.None && !lanes.Any(x => x.Loop == l))
                {
                    return Unsupported(
                        $"loop '{loops[l].Name}' is laid along GEMM axis {loops[l].Lane} but also indexes '{tensor.Name}', which that axis does not reach; map it to another axis or leave it off the GEMM axes");
                }
            }

            var here = lanes.Where(x => x.Loop >= 0 && index.Coefficients[x.Loop] != 0).ToList();
            if (here.Count > 1)
            {
                return Unsupported(
                    $"dimension {d} of '{tensor.Name}' combines two GEMM axis loops ({string.Join(", ", here.Select(h => loops[h.Loop].Name))}); each must index its own dimension");
            }

            if (here.Count == 0)
            {
                parts.Add(new PartSpec(d, 1, 0, [.. index.Coefficients], index.Constant, tensor.Shape[d], tensor.Shape[d], LaneAxis.None, -1, DimName(index, loops, d)));
                continue;
            }

            var (axis, lane, block) = here[0];
            if (!laneSeen.Add(axis))
            {
                return Unsupported(
                    $"loop '{loops[lane].Name}' (GEMM axis {axis}) indexes more than one dimension of '{tensor.Name}'");
            }

            if (index.Coefficients[lane] != 1 || index.Constant != 0)
            {
                return Unsupported(
                    $"'{tensor.Name}' dimension {d} is indexed {Describe(index, loops)}; the loop on GEMM axis {axis} ('{loops[lane].Name}') must appear with coefficient 1 and no offset so {block} consecutive elements fill one row (lay another loop along the axis, or leave the axis unused)");
            }

            var others = Enumerable.Range(0, loops.Count).Where(l => l != lane && index.Coefficients[l] != 0).ToList();
            var laneExtent = loops[lane].Map.Extent;
            var laneName = loops[lane].Name;
            if (others.Count == 0)
            {
                var extent = IntegerMath.RoundUp(Math.Max(tensor.Shape[d], loops[lane].Map.PaddedExtent), block);
                var coef = new long[loops.Count];
                coef[lane] = 1;
                parts.Add(new PartSpec(d, 1, 0, coef, 0, extent, extent, axis, lane, laneName));
                continue;
            }

            // g*CG + c: split the dimension into the group (index / M) and the position in the group (index mod M).
            var m = others.Aggregate(0L, (g, l) => IntegerMath.Gcd(g, index.Coefficients[l]));
            if (laneExtent > m)
            {
                return Unsupported(
                    $"'{tensor.Name}' dimension {d} is indexed {Describe(index, loops)}: the GEMM axis loop '{laneName}' (extent {laneExtent}) overlaps the step {m} of the other loops, so its rows cannot be packed");
            }

            var outerCoef = new long[loops.Count];
            foreach (var l in others)
            {
                outerCoef[l] = index.Coefficients[l] / m;
            }

            var outerExtent = (tensor.Shape[d] + m - 1) / m;
            parts.Add(new PartSpec(d, m, 0, outerCoef, 0, outerExtent, outerExtent, LaneAxis.None, -1,
                string.Create(CultureInfo.InvariantCulture, $"d{d}/{m}")));
            var innerCoef = new long[loops.Count];
            innerCoef[lane] = 1;
            var innerExtent = IntegerMath.RoundUp(Math.Max(m, loops[lane].Map.PaddedExtent), block);
            parts.Add(new PartSpec(d, 1, m, innerCoef, 0, innerExtent, innerExtent, axis, lane, laneName));
        }

        return Result<IReadOnlyList<PartSpec>>.Success(parts);
    }

    /// <summary>
    /// Orders the row coordinates (partly covered by a tile first, then fully covered ones, then those that can fall
    /// outside the tensor, each in dimension order) so a tile is a few 2-D strided transfers and padding lies in the
    /// two innermost levels, where LOAD pads can produce it; then sets the DRAM strides.
    /// </summary>
    public static Result<TensorModel> Build(
        TensorInstance tensor,
        IReadOnlyList<PartSpec> parts,
        IReadOnlyList<LoopVar> loops,
        IReadOnlyList<(LaneAxis Axis, int Loop, int Block)> lanes,
        bool allowInvalid,
        SourceLocation access)
    {
        var coords = new List<(Coord Coord, int Class, int Order)>();
        for (var p = 0; p < parts.Count; p++)
        {
            var spec = parts[p];
            Coord coord;
            if (spec.Lane != LaneAxis.None)
            {
                var block = lanes.First(x => x.Axis == spec.Lane).Block;
                var coef = new long[loops.Count];
                coef[spec.LaneLoop] = 1; // var units of a lane loop are blocks
                coord = new Coord(spec.Name + "/" + block.ToString(CultureInfo.InvariantCulture), p, true, coef, 0, spec.Extent / block, spec.Extent / block);
            }
            else
            {
                coord = new Coord(spec.Name, p, false, spec.Coef, spec.Constant, spec.Extent, spec.ValidSize);
            }

            // Range of the coordinate over the whole iteration space.
            var lo = coord.Const;
            var hi = coord.Const;
            for (var l = 0; l < loops.Count; l++)
            {
                hi += coord.Coef[l] * (loops[l].Units - 1);
            }

            coord = coord with { MayBeInvalid = lo < 0 || hi >= coord.ValidSize };
            if (coord.MayBeInvalid && !allowInvalid)
            {
                return LoweringContext.Fail<TensorModel>(VtaLoweringDiagnostics.UnsupportedIndex, access,
                    $"'{tensor.Name}' is accessed outside its bounds (coordinate {coord.Name} spans [{lo}, {hi}] of [0, {coord.ValidSize})) but is not declared 'padded'");
            }

            var full = !coord.MayBeInvalid && Enumerable.Range(0, loops.Count).All(l => coord.Coef[l] == 0 || loops[l].TileCount == 1)
                && hi - lo + 1 == coord.Extent;
            var cls = coord.MayBeInvalid ? 2 : full ? 1 : 0;
            coords.Add((coord, cls, p));
        }

        var ordered = WithDramStrides(coords.OrderBy(c => c.Class).ThenBy(c => c.Order).Select(c => c.Coord).ToImmutableArray());

        var laneLevels = ImmutableArray.CreateBuilder<VtaLayoutLevel>();
        foreach (var (axis, _, block) in lanes)
        {
            var p = parts.Select(s => s.Lane).ToList().IndexOf(axis);
            laneLevels.Add(p >= 0
                ? new VtaLayoutLevel(p, 1, block, block, parts[p].Name + "%" + block.ToString(CultureInfo.InvariantCulture))
                : new VtaLayoutLevel(-1, 1, 0, block, "pad" + block.ToString(CultureInfo.InvariantCulture)));
        }

        return Result<TensorModel>.Success(new TensorModel
        {
            Tensor = tensor,
            Parts = [.. parts.Select(s => new VtaLayoutPart(s.Dim, s.Divisor, s.Modulus))],
            Coords = ordered,
            LaneLevels = laneLevels.ToImmutable(),
        });
    }

    /// <summary>The coordinates with their DRAM strides: row-major in the given order, the last one fastest.</summary>
    public static ImmutableArray<Coord> WithDramStrides(ImmutableArray<Coord> coords)
    {
        var result = coords.ToBuilder();
        long stride = 1;
        for (var i = result.Count - 1; i >= 0; i--)
        {
            result[i] = result[i] with { DramStride = stride };
            stride *= result[i].Extent;
        }

        return result.ToImmutable();
    }

    private static string DimName(AffineIndex index, IReadOnlyList<LoopVar> loops, int d)
    {
        var used = Enumerable.Range(0, loops.Count).Where(l => index.Coefficients[l] != 0).ToList();
        return used.Count == 1 && index.Coefficients[used[0]] == 1 && index.Constant == 0
            ? loops[used[0]].Name
            : "d" + d.ToString(CultureInfo.InvariantCulture);
    }

    public static string Describe(AffineIndex index, IReadOnlyList<LoopVar> loops)
    {
        var terms = new List<string>();
        for (var l = 0; l < loops.Count; l++)
        {
            var c = index.Coefficients[l];
            if (c != 0)
            {
                terms.Add(c == 1 ? loops[l].Name : string.Create(CultureInfo.InvariantCulture, $"{c}*{loops[l].Name}"));
            }
        }

        if (index.Constant != 0 || terms.Count == 0)
        {
            terms.Add(index.Constant.ToString(CultureInfo.InvariantCulture));
        }

        return "[" + string.Join(" + ", terms) + "]";
    }
}
