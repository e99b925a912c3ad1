using Covenant.Runtime.Vnni;

namespace Covenant.Targets.Vnni.Kernel;

/// <summary>
/// Step 6, the pack function: B into the vpdpbusd layout [outer][panel][group][NR][lanes][4] (zero-padded), and, for
/// signed A, the compensation -128 x the column sums of B. Runs once per set of weights, not per run.
/// </summary>
internal static class PackB
{
    public static VnniBlock Run(VnniKernelContext context, VnniKernelBuffers buffers)
    {
        var (plan, gemm) = (context.Plan, context.Gemm);
        var body = new List<VnniStmt> { new VnniFill(buffers.BPacked, 0, buffers.All[buffers.BPacked].Length, 0) };
        if (buffers.Compensation >= 0)
        {
            body.Add(new VnniFill(buffers.Compensation, 0, buffers.All[buffers.Compensation].Length, 0));
        }

        var outerVars = context.LoopVars(gemm.Outers);
        var n = gemm.Vector >= 0 ? context.Var(gemm.Loops[gemm.Vector].Name) : context.Var("n");
        var sum = context.Var("column_sum");
        var value = context.Var("value");
        body.Add(context.Nest(gemm.Outers, outerVars, () =>
        {
            var outer = context.Flat(gemm.Outers, outerVars);
            var columnBody = new List<VnniStmt> { new VnniSet(sum, 0), Column(context, buffers, outer, outerVars, n, sum, value) };
            if (buffers.Compensation >= 0)
            {
                columnBody.Add(new VnniStore(buffers.Compensation, (outer * plan.PaddedN) + n, new VnniVarRef(sum) * -128));
            }

            return [new VnniFor(n, 0, gemm.N, 1, new VnniBlock([.. columnBody]))];
        }));
        return new VnniBlock([.. body]);
    }

    // One column n of B over the reduction: each value to its place in the packed panel, and into the column sum.
    private static VnniStmt Column(
        VnniKernelContext context, VnniKernelBuffers buffers, VnniExpr outer, Dictionary<int, VnniVar> outerVars, VnniVar n, VnniVar sum, VnniVar value)
    {
        var (plan, gemm) = (context.Plan, context.Gemm);
        var reductionVars = context.LoopVars(gemm.ReductionOuter);
        var inner = gemm.Packed >= 0 ? context.Var(gemm.Loops[gemm.Packed].Name) : context.Var("k_inner");
        VnniExpr group, within;
        if (gemm.AMode == VnniAMode.Direct)
        {
            group = (context.Flat(gemm.ReductionOuter, reductionVars) * gemm.InnerGroups) + (new VnniVarRef(inner) / 4);
            within = new VnniVarRef(inner) % 4;
        }
        else
        {
            var k = context.Flat(gemm.ReductionOuter, reductionVars);
            group = k / 4;
            within = k % 4;
        }

        var all = new Dictionary<int, VnniVar>(outerVars);
        foreach (var (l, v) in reductionVars)
        {
            all[l] = v;
        }

        if (gemm.Vector >= 0)
        {
            all[gemm.Vector] = n;
        }

        if (gemm.Packed >= 0)
        {
            all[gemm.Packed] = inner;
        }

        var load = new VnniLoad(buffers.Tensors[gemm.B.Name], VnniKernelContext.Dot(gemm.BaseB, gemm.StrideB, all));
        VnniExpr loaded = gemm.B.Padded ? new VnniSelect(VnniKernelContext.InBounds(gemm.BAccess, gemm.B.Shape, all), load, 0) : load;
        var (groups, panelBytes) = (gemm.Groups, context.PanelBytes);
        var destination = (outer * (plan.PaddedN * groups * 4)) + (new VnniVarRef(n) / plan.PanelWidth * (groups * panelBytes))
            + (group * panelBytes) + (new VnniVarRef(n) % plan.PanelWidth * 4) + within;
        VnniStmt innermost = new VnniBlock(
        [
            new VnniSet(value, loaded),
            new VnniStore(buffers.BPacked, destination, value),
            new VnniSet(sum, new VnniVarRef(sum) + value),
        ]);
        return context.Nest(gemm.ReductionOuter, reductionVars, () =>
            gemm.AMode == VnniAMode.Direct
                ? [new VnniFor(inner, 0, gemm.PackedExtent, 1, new VnniBlock([innermost]))]
                : [innermost]);
    }
}
