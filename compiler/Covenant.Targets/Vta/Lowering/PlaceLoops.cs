using System.Collections.Immutable;
using Covenant.Core.Diagnostics;

namespace Covenant.Targets.Vta.Lowering;

/// <summary>The main nest's loops as the lowering iterates them (nest order), with the ones on the lane axes j and k.</summary>
internal sealed record LoopPlacement(ImmutableArray<LoopVar> Loops)
{
    /// <summary>The loop on GEMM axis j (BLOCK_OUT lanes), or -1.</summary>
    public int J => IndexOfLane(LaneAxis.J);

    /// <summary>The loop on GEMM axis k (BLOCK_IN lanes), or -1.</summary>
    public int K => IndexOfLane(LaneAxis.K);

    private int IndexOfLane(LaneAxis lane)
    {
        for (var l = 0; l < Loops.Length; l++)
        {
            if (Loops[l].Lane == lane)
            {
                return l;
            }
        }

        return -1;
    }
}

/// <summary>
/// Step: gives each loop its lane axis and block (the axis extent for the loops on j and k, else 1) and checks that
/// the mapping splits it in whole blocks; a loop on the reduction axis must not index the accumulator.
/// </summary>
internal static class PlaceLoops
{
    public static Result<LoopPlacement> Run(LoweringContext context, GemmAxes axes)
    {
        var gemm = context.Gemm;
        var cfg = context.Config;
        var jLoop = gemm.LoopOn(axes.J)?.Name;
        var kLoop = gemm.LoopOn(axes.K)?.Name;
        var loops = ImmutableArray.CreateBuilder<LoopVar>(gemm.Loops.Length);
        foreach (var loop in gemm.Loops)
        {
            var map = loop.Mapping;
            var (lane, block) = loop.Name == jLoop ? (LaneAxis.J, cfg.BlockOut) : loop.Name == kLoop ? (LaneAxis.K, cfg.BlockIn) : (LaneAxis.None, 1);
            if (map.Extent != loop.Extent || map.Tile <= 0 || map.PaddedExtent < map.Extent || map.PaddedExtent % block != 0 || map.Tile % block != 0)
            {
                return LoweringContext.Fail<LoopPlacement>(VtaLoweringDiagnostics.InvalidMapping, loop.Location,
                    $"loop '{loop.Name}' (extent {loop.Extent}) is mapped with extent {map.Extent}, padded extent {map.PaddedExtent}, tile {map.Tile}; on this axis the padded extent and the tile must be positive multiples of {block}");
            }

            loops.Add(new LoopVar(loop.Index, map, lane, block));
        }

        var placement = new LoopPlacement(loops.MoveToImmutable());
        var k = placement.K;
        if (k >= 0 && gemm.C.Access.Indices.Any(i => i.Coefficients[k] != 0))
        {
            return LoweringContext.Fail<LoopPlacement>(VtaLoweringDiagnostics.InvalidMapping, context.AccessLocation(gemm.C.Name),
                $"loop '{placement.Loops[k].Name}' on the reduction axis indexes the accumulator '{gemm.C.Name}'");
        }

        return Result<LoopPlacement>.Success(placement);
    }
}
