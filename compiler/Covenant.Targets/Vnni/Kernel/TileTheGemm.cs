using Covenant.Runtime.Vnni;

namespace Covenant.Targets.Vnni.Kernel;

/// <summary>The offsets of one tile (outer index, row block, column block) every register block of it starts from.</summary>
internal sealed record VnniTileOffsets(
    VnniVar A, VnniVar B, VnniVar? Initial, VnniVar C, IReadOnlyDictionary<string, VnniVar> Epilogue, VnniVar? Partial, VnniVar RowStart, VnniVar ColumnStart);

/// <summary>The loop variables a register block is placed by: row ir, column jr, groups [pc, pcEnd), B panel.</summary>
internal sealed record VnniBlockPosition(VnniVar Row, VnniVar Column, VnniVar GroupStart, VnniVar GroupEnd, VnniVar Panel);

/// <summary>
/// Step 5, the run's last part: the tiled GEMM over the threads. Per tile (outer, row block, column block), per KC
/// block, per register block (<see cref="RegisterBlock"/>): full MR x NR blocks, and the remainder row block or
/// column panel where the shape leaves one.
/// </summary>
internal static class TileTheGemm
{
    public static VnniStmt Run(VnniKernelContext context, VnniKernelBuffers buffers)
    {
        var (plan, gemm) = (context.Plan, context.Gemm);
        var (rowBlocks, columnBlocks) = (plan.RowBlocks, plan.ColumnBlocks);
        var t = context.Var("tile");
        var body = new List<VnniStmt>();
        var tm = context.Var("tm");
        var tn = context.Var("tn");
        var outer = context.Var("outer");
        if (plan.Split == VnniParallelSplit.Columns)
        {
            body.Add(new VnniSet(tm, new VnniVarRef(t) % rowBlocks));
            body.Add(new VnniSet(tn, new VnniVarRef(t) / rowBlocks % columnBlocks));
        }
        else
        {
            body.Add(new VnniSet(tn, new VnniVarRef(t) % columnBlocks));
            body.Add(new VnniSet(tm, new VnniVarRef(t) / columnBlocks % rowBlocks));
        }

        body.Add(new VnniSet(outer, new VnniVarRef(t) / (rowBlocks * (long)columnBlocks)));
        var ic0 = context.Var("ic0");
        var ic1 = context.Var("ic1");
        var jc0 = context.Var("jc0");
        var jc1 = context.Var("jc1");
        body.Add(new VnniSet(ic0, new VnniVarRef(tm) * plan.MC));
        body.Add(new VnniSet(ic1, VnniExpr.Min(new VnniVarRef(ic0) + plan.MC, gemm.M)));
        body.Add(new VnniSet(jc0, new VnniVarRef(tn) * plan.NC));
        body.Add(new VnniSet(jc1, VnniExpr.Min(new VnniVarRef(jc0) + plan.NC, gemm.N)));
        var offsets = Offsets(context, buffers, body, outer, ic0, jc0);

        var pc = context.Var("pc");
        var pcEnd = context.Var("pc_end");
        var jr = context.Var("jr");
        var ir = context.Var("ir");
        var position = new VnniBlockPosition(ir, jr, pc, pcEnd, context.Var("b_panel"));
        var micro = Dispatch(context, buffers, offsets, position);
        var rowLoop = new VnniFor(ir, ic0, ic1, plan.MR, new VnniBlock([micro]));
        var columnLoop = new VnniFor(jr, jc0, jc1, plan.PanelWidth, new VnniBlock(
        [
            new VnniSet(position.Panel, offsets.B + (new VnniVarRef(jr) / plan.PanelWidth * (gemm.Groups * context.PanelBytes))),
            rowLoop,
        ]));
        if (buffers.Partial >= 0)
        {
            body.Add(new VnniFor(pc, 0, gemm.Groups, plan.KC, new VnniBlock(
            [
                new VnniSet(pcEnd, VnniExpr.Min(new VnniVarRef(pc) + plan.KC, gemm.Groups)),
                columnLoop,
            ])));
        }
        else
        {
            body.Add(new VnniSet(pc, 0));
            body.Add(new VnniSet(pcEnd, gemm.Groups));
            body.Add(columnLoop);
        }

        return new VnniFor(t, 0, plan.Tiles, 1, new VnniBlock([.. body]), Parallel: context.Threaded, NoWait: true);
    }

    // The outer loops' values, and each operand's offset for this outer index.
    private static VnniTileOffsets Offsets(VnniKernelContext context, VnniKernelBuffers buffers, List<VnniStmt> body, VnniVar outer, VnniVar ic0, VnniVar jc0)
    {
        var (plan, gemm) = (context.Plan, context.Gemm);
        var outerVars = new Dictionary<int, VnniVar>();
        long radix = 1;
        for (var i = gemm.Outers.Length - 1; i >= 0; i--)
        {
            var l = gemm.Outers[i];
            var v = context.Var(gemm.Loops[l].Name);
            outerVars[l] = v;
            body.Add(new VnniSet(v, new VnniVarRef(outer) / radix % gemm.Loops[l].Extent));
            radix *= gemm.Loops[l].Extent;
        }

        VnniVar Set(string name, VnniExpr value)
        {
            var v = context.Var(name);
            body.Add(new VnniSet(v, value));
            return v;
        }

        return new VnniTileOffsets(
            Set("off_a", gemm.AMode == VnniAMode.Direct
                ? VnniKernelContext.Dot(gemm.BaseAPrime, gemm.StrideAPrime, outerVars)
                : new VnniVarRef(outer) * (gemm.M * gemm.Im2colRow)),
            Set("off_b", new VnniVarRef(outer) * (plan.PaddedN * gemm.Groups * 4)),
            buffers.Initial >= 0 ? Set("off_init", new VnniVarRef(outer) * plan.PaddedN) : null,
            Set("off_c", VnniKernelContext.Dot(0, gemm.StrideC, outerVars)),
            gemm.EpilogueTensors.ToDictionary(e => e.Name, e => Set("off_" + e.Name, VnniKernelContext.Dot(e.Base, e.Strides, outerVars)), StringComparer.Ordinal),
            buffers.Partial >= 0 ? Set("off_partial", new VnniThreadId() * ((long)plan.MC * plan.NC)) : null,
            ic0,
            jc0);
    }

    // Full register blocks, and the remainder row block / column panel where the shape leaves one.
    private static VnniStmt Dispatch(VnniKernelContext context, VnniKernelBuffers buffers, VnniTileOffsets offsets, VnniBlockPosition position)
    {
        var (plan, gemm, lanes) = (context.Plan, context.Gemm, context.Lanes);
        var mrRem = (int)(gemm.M % plan.MR);
        var nRem = gemm.N % plan.PanelWidth;
        var nrRem = (int)((nRem + lanes - 1) / lanes);
        var lastLanes = (int)(gemm.N % lanes == 0 ? lanes : gemm.N % lanes);

        VnniStmt Columns(int mr)
        {
            var full = RegisterBlock.Build(context, buffers, new VnniBlockShape(mr, plan.NR, lanes), offsets, position);
            if (nRem == 0)
            {
                return full;
            }

            var partialPanel = RegisterBlock.Build(context, buffers, new VnniBlockShape(mr, nrRem, lastLanes), offsets, position);
            if (gemm.N < plan.PanelWidth)
            {
                return partialPanel;
            }

            return new VnniIf(VnniExpr.Less(new VnniVarRef(position.Column) + (plan.PanelWidth - 1), gemm.N),
                VnniKernelContext.Wrap(full), VnniKernelContext.Wrap(partialPanel));
        }

        if (mrRem == 0)
        {
            return Columns(plan.MR);
        }

        if (gemm.M < plan.MR)
        {
            return Columns(mrRem);
        }

        return new VnniIf(VnniExpr.Less(new VnniVarRef(position.Row) + (plan.MR - 1), gemm.M),
            VnniKernelContext.Wrap(Columns(plan.MR)), VnniKernelContext.Wrap(Columns(mrRem)));
    }
}
