using Covenant.Core.Diagnostics;
using Covenant.Mapping.Model;

namespace Covenant.Targets.Vta.Lowering;

/// <summary>The DRAM and SRAM layouts of INP, WGT and the accumulator (which the output shares).</summary>
internal sealed record TensorLayouts(TensorModel Inp, TensorModel Wgt, TensorModel Acc);

/// <summary>
/// Step: packs each tensor as VTA loads it natively (the loop on k fills INP lanes, j and k the weight blocks, j the
/// ACC lanes; the rest are row levels ordered so a tile is a few 2-D strided transfers), then checks that no scatter
/// into the accumulator is split across tiles. Errors point at the access in the accumulation.
/// </summary>
internal static class LayOutTensors
{
    public static Result<TensorLayouts> Run(LoweringContext context, VtaTensors tensors, LoopPlacement placement)
    {
        var cfg = context.Config;
        var (j, k) = (placement.J, placement.K);
        var inp = Model(context, tensors.Inp, placement, [(LaneAxis.K, k, cfg.BlockIn)], tensors.Inp.Tensor.Padded);
        if (!inp.Succeeded)
        {
            return Result<TensorLayouts>.Failure(inp.Diagnostics);
        }

        var wgt = Model(context, tensors.Wgt, placement, [(LaneAxis.J, j, cfg.BlockOut), (LaneAxis.K, k, cfg.BlockIn)], tensors.Wgt.Tensor.Padded);
        if (!wgt.Succeeded)
        {
            return Result<TensorLayouts>.Failure(wgt.Diagnostics);
        }

        var acc = Model(context, tensors.Acc, placement, [(LaneAxis.J, j, cfg.BlockOut)], tensors.Acc.Tensor.Cropped);
        if (!acc.Succeeded)
        {
            return Result<TensorLayouts>.Failure(acc.Diagnostics);
        }

        var scatter = CheckScatter(context, acc.Value, tensors.Acc, placement);
        return scatter is null
            ? Result<TensorLayouts>.Success(new TensorLayouts(inp.Value, wgt.Value, acc.Value))
            : Result<TensorLayouts>.Failure(scatter);
    }

    private static Result<TensorModel> Model(
        LoweringContext context, GemmTensor tensor, LoopPlacement placement, (LaneAxis, int, int)[] lanes, bool allowInvalid)
    {
        var at = context.AccessLocation(tensor.Name);
        var parts = TensorModels.Parts(tensor.Tensor, tensor.Access.Indices, placement.Loops, lanes, at);
        return parts.Succeeded
            ? TensorModels.Build(tensor.Tensor, parts.Value, placement.Loops, lanes, allowInvalid, at)
            : Result<TensorModel>.Failure(parts.Diagnostics);
    }

    /// <summary>
    /// An accumulator dimension indexed by several loops (a transposed convolution's ih*stride + r) can receive
    /// several iterations' products in one element; they must all land in one ACC tile, as partial sums cannot leave
    /// the chip (STORE writes 8 bits).
    /// </summary>
    private static Diagnostic? CheckScatter(LoweringContext context, TensorModel acc, GemmTensor tensor, LoopPlacement placement)
    {
        var loops = placement.Loops;
        foreach (var c in acc.Coords)
        {
            var used = Enumerable.Range(0, loops.Length).Where(l => c.Coef[l] != 0).ToList();
            if (used.Count < 2)
            {
                continue;
            }

            var split = used.Where(l => loops[l].TileCount > 1).ToList();
            if (split.Count > 0)
            {
                return VtaLoweringDiagnostics.ScatterAcrossTiles.Create(context.AccessLocation(tensor.Name),
                    $"accumulator coordinate {c.Name} of '{tensor.Name}' combines loops {string.Join(", ", used.Select(l => $"'{loops[l].Name}'"))}, so one element can receive products from several of their iterations; " +
                    $"VTA cannot carry partial sums between tiles (STORE writes 8 bits), so these loops must not be tiled, but {string.Join(", ", split.Select(l => $"'{loops[l].Name}' has tile {loops[l].Map.Tile} of {loops[l].Map.PaddedExtent}"))}");
            }
        }

        return null;
    }
}
