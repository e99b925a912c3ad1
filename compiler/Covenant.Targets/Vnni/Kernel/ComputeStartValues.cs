using Covenant.Runtime.Vnni;

namespace Covenant.Targets.Vnni.Kernel;

/// <summary>
/// Step 4, the run's second part: initial[o][n] = -128 x column sum of B (signed A) + the leading epilogue additions,
/// 0 in the padding columns. The accumulators start from it: those terms commute with the sum modulo 2^32, so no
/// register but the accumulators is live across the dot-product loop. Nothing without an initial buffer.
/// </summary>
internal static class ComputeStartValues
{
    public static VnniStmt? Run(VnniKernelContext context, VnniKernelBuffers buffers)
    {
        if (buffers.Initial < 0)
        {
            return null;
        }

        var (plan, gemm) = (context.Plan, context.Gemm);
        var outerVars = context.LoopVars(gemm.Outers);
        var n = gemm.Vector >= 0 ? context.Var(gemm.Loops[gemm.Vector].Name) : context.Var("n");
        var body = context.Nest(gemm.Outers, outerVars, () =>
        {
            var index = (context.Flat(gemm.Outers, outerVars) * plan.PaddedN) + n;
            VnniExpr value = buffers.Compensation >= 0 ? new VnniLoad(buffers.Compensation, index) : 0;
            var vars = new Dictionary<int, VnniVar>(outerVars);
            if (gemm.Vector >= 0)
            {
                vars[gemm.Vector] = n;
            }

            foreach (var step in gemm.Epilogue.Take(buffers.LeadingAdditions))
            {
                value += step.Tensor is null
                    ? (long)unchecked((int)step.Immediate!.Value)
                    : gemm.EpilogueTensors.First(t => t.Name == step.Tensor) is var t
                        ? new VnniLoad(buffers.Tensors[t.Name], VnniKernelContext.Dot(t.Base, t.Strides, vars))
                        : 0;
            }

            // The padding columns start at 0 (their operand loads are never evaluated: the select is lazy).
            var loop = new VnniFor(n, 0, plan.PaddedN, 1,
                new VnniBlock([new VnniStore(buffers.Initial, index, new VnniSelect(VnniExpr.Less(n, gemm.N), value, 0))]),
                Parallel: context.Threaded, NoWait: true);
            return [loop.Parallel ? loop : context.OneThread(loop)];
        });
        return new VnniBlock([body]);
    }
}
