using Covenant.Runtime.Vnni;

namespace Covenant.Targets.Vnni.Kernel;

/// <summary>
/// Step 2, the init function: fills the offset tables <see cref="LayOutBuffers"/> made, so the dot-product loop reads
/// an operand's offset for a row (or a reduction group) with one load instead of decomposing a flat index.
/// </summary>
internal static class TabulateOffsets
{
    public static VnniBlock Run(VnniKernelContext context, VnniKernelBuffers buffers)
    {
        var gemm = context.Gemm;
        var init = new List<VnniStmt>();
        if (buffers.RowTables.TryGetValue("a", out var rowsA))
        {
            init.Add(RowTable(context, rowsA, gemm.StrideAPrime));
        }

        if (buffers.GroupTable >= 0)
        {
            init.Add(GroupTable(context, buffers.GroupTable));
        }

        foreach (var (name, strides) in new[] { ("c", gemm.StrideC) }.Concat(gemm.EpilogueTensors.Select(t => (t.Name, t.Strides))))
        {
            if (buffers.RowTables.TryGetValue(name, out var table))
            {
                init.Add(RowTable(context, table, strides));
            }
        }

        return new VnniBlock([.. init]);
    }

    // rows_NAME[m] = Σ stride · (row loop values of flattened row m).
    private static VnniStmt RowTable(VnniKernelContext context, int table, long[] strides)
    {
        var rows = context.Gemm.Rows;
        var vars = context.LoopVars(rows);
        return context.Nest(rows, vars, () => [new VnniStore(table, context.Flat(rows, vars), VnniKernelContext.Dot(0, strides, vars))]);
    }

    // groups_a[g] = A' offset of reduction group g: the outer reduction loops' offset plus 4 per inner group.
    private static VnniStmt GroupTable(VnniKernelContext context, int table)
    {
        var gemm = context.Gemm;
        var vars = context.LoopVars(gemm.ReductionOuter);
        var q = context.Var("q");
        return context.Nest(gemm.ReductionOuter, vars, () =>
        [
            new VnniFor(q, 0, gemm.InnerGroups, 1, new VnniBlock(
            [
                new VnniStore(table, (context.Flat(gemm.ReductionOuter, vars) * gemm.InnerGroups) + q,
                    VnniKernelContext.Dot(0, gemm.StrideAPrime, vars) + (new VnniVarRef(q) * 4)),
            ])),
        ]);
    }
}
