using System.Collections.Immutable;
using Covenant.Core.Diagnostics;

namespace Covenant.Targets.Vta.Lowering;

/// <summary>A region of an on-chip buffer that holds one tile at a time.</summary>
internal sealed record SlotRegion(int Base, int Rows);

/// <summary>
/// The on-chip buffers cut into tile slots (two halves where double-buffering was asked for and fits): INP, WGT,
/// ACC tiles, then the epilogue operands' rows and two scratch ACC rows for hazard spacers and dummy micro-ops.
/// <see cref="Notes"/> say where a wish for double-buffering could not be granted (they go into the listing).
/// </summary>
internal sealed record BufferLayout(
    ImmutableArray<SlotRegion> Inp,
    ImmutableArray<SlotRegion> Wgt,
    ImmutableArray<SlotRegion> Acc,
    ImmutableArray<SlotRegion> Operands,
    int Scratch0,
    ImmutableArray<string> Notes);

/// <summary>
/// Step: sizes each buffer's slots by the largest tile any step needs; a tile larger than its buffer is an error on
/// the storage node of the YAML (the mapping must choose smaller tiles).
/// </summary>
internal static class PartitionBuffers
{
    public static Result<BufferLayout> Run(LoweringContext context, GemmAxes axes, VtaTensors tensors, EpiloguePlan epilogue, StepSchedule schedule, TileBoxes boxes)
    {
        var cfg = context.Config;
        int maxInp = 0, maxWgt = 0, maxAcc = 0;
        var maxOperand = new int[epilogue.Operands.Length];
        foreach (var step in schedule.Steps)
        {
            maxInp = Math.Max(maxInp, TileBoxes.Rows(boxes.Inp(step)));
            maxWgt = Math.Max(maxWgt, TileBoxes.Rows(boxes.Wgt(step)));
            var accBox = boxes.Acc(step);
            maxAcc = Math.Max(maxAcc, TileBoxes.Rows(accBox));
            for (var o = 0; o < maxOperand.Length; o++)
            {
                maxOperand[o] = Math.Max(maxOperand[o], TileBoxes.Rows(boxes.Operand(o, accBox)));
            }
        }

        string StorageOf(string tensor) => context.Mapping.Operands.FirstOrDefault(o => o.Tensor == tensor)?.Storage ?? "";
        bool Wants(string tensor) => context.Mapping.DoubleBuffered.Contains(StorageOf(tensor));

        var notes = ImmutableArray.CreateBuilder<string>();
        var inp = Slots(context, notes, "INP", axes.Inp, maxInp, cfg.InpDepth, Wants(tensors.Inp.Name));
        var wgt = Slots(context, notes, "WGT", axes.Wgt, maxWgt, cfg.WgtDepth, Wants(tensors.Wgt.Name));

        // ACC: [tile slots][epilogue operands][2 scratch rows for hazard spacers and dummy micro-ops]
        var reserved = 2 + maxOperand.Sum();
        var acc = Slots(context, notes, "ACC", context.Gemm.C, maxAcc, cfg.AccDepth - reserved, Wants(tensors.Acc.Name));
        foreach (var slots in new[] { inp, wgt, acc })
        {
            if (!slots.Succeeded)
            {
                return Result<BufferLayout>.Failure(slots.Diagnostics);
            }
        }

        var operands = ImmutableArray.CreateBuilder<SlotRegion>(maxOperand.Length);
        var next = acc.Value!.Value.Sum(s => s.Rows);
        foreach (var rows in maxOperand)
        {
            operands.Add(new SlotRegion(next, rows));
            next += rows;
        }

        return Result<BufferLayout>.Success(new BufferLayout(
            inp.Value!.Value, wgt.Value!.Value, acc.Value.Value, operands.MoveToImmutable(), cfg.AccDepth - 2, notes.ToImmutable()));
    }

    private static Result<Box<ImmutableArray<SlotRegion>>> Slots(
        LoweringContext context, ImmutableArray<string>.Builder notes, string buffer, Mapping.Model.GemmOperand operand, int rows, int depth, bool wantsDouble)
    {
        if (rows > depth)
        {
            return LoweringContext.Fail<Box<ImmutableArray<SlotRegion>>>(VtaLoweringDiagnostics.TileTooLarge, operand.Storage.Location,
                $"a tile of '{operand.Name}' needs {rows} {buffer} rows, but the {buffer} buffer of '{context.Config.Name}' has {depth} available; choose smaller tiles");
        }

        if (wantsDouble && 2 * rows > depth)
        {
            notes.Add($"{buffer} is single-buffered: two tiles of {rows} rows do not fit {depth}");
        }

        ImmutableArray<SlotRegion> slots = wantsDouble && 2 * rows <= depth
            ? [new SlotRegion(0, depth / 2), new SlotRegion(depth / 2, depth / 2)]
            : [new SlotRegion(0, depth)];
        return Result<Box<ImmutableArray<SlotRegion>>>.Success(new(slots));
    }
}
