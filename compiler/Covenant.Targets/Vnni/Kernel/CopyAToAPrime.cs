using Covenant.Runtime.Vnni;

namespace Covenant.Targets.Vnni.Kernel;

/// <summary>
/// Step 3, the run's first part: copies A into A' (u8, padded, rounded up to groups of 4), the layout the
/// dot-product loop broadcasts from. Nothing where A' is A itself (<see cref="VnniKernelBuffers.ReadsA"/>).
/// </summary>
internal static class CopyAToAPrime
{
    public static VnniStmt? Run(VnniKernelContext context, VnniKernelBuffers buffers)
    {
        if (buffers.ReadsA)
        {
            return null;
        }

        return context.Gemm.AMode == VnniAMode.Direct ? Direct(context, buffers) : Im2col(context, buffers);
    }

    // Walks A' dimension by dimension: padding runs are filled with the zero byte, the valid range recurses, and
    // the innermost dimension is one strided copy with the XOR that shifts i8 to u8.
    private static VnniStmt Direct(VnniKernelContext context, VnniKernelBuffers buffers)
    {
        var (plan, gemm) = (context.Plan, context.Gemm);
        var dims = gemm.APrimeDims;
        var strides = VnniAPrimeLayout.DenseStrides(dims);
        var source = buffers.Tensors[gemm.A.Name];
        var aPrime = buffers.APrime;
        var zero = gemm.ZeroByte;
        var xor = gemm.Compensate ? 0x80 : 0;

        // The threads share the first dimension with enough coordinates (batch 1 leaves the first one at 1).
        var parallelDim = plan.Threads > 1
            ? Enumerable.Range(0, dims.Length - 1).FirstOrDefault(i => dims[i].ValidTo - dims[i].ValidFrom >= plan.Threads, -1)
            : -1;

        VnniStmt Level(int i, VnniExpr destination, VnniExpr sourceOffset)
        {
            var dim = dims[i];
            var list = new List<VnniStmt>();

            // Above the parallel dimension every thread walks the loops; memory is written by one of them.
            VnniStmt Write(VnniStmt statement) => parallelDim < 0 || i <= parallelDim ? context.OneThread(statement) : statement;
            if (dim.ValidFrom > 0)
            {
                list.Add(Write(new VnniFill(aPrime, destination, dim.ValidFrom * strides[i], zero)));
            }

            if (dim.ValidTo < dim.Extent)
            {
                list.Add(Write(new VnniFill(aPrime, destination + (Math.Max(dim.ValidTo, dim.ValidFrom) * strides[i]),
                    (dim.Extent - Math.Max(dim.ValidTo, dim.ValidFrom)) * strides[i], zero)));
            }

            if (dim.ValidTo > dim.ValidFrom)
            {
                if (i == dims.Length - 1)
                {
                    list.Add(Write(new VnniCopyBytes(aPrime, destination + dim.ValidFrom, source,
                        sourceOffset + dim.SourceFirst + (dim.ValidFrom * dim.SourceStride), dim.SourceStride, dim.ValidTo - dim.ValidFrom, xor)));
                }
                else
                {
                    var coordinate = context.Var($"a{i}");
                    var body = Level(i + 1, destination + (new VnniVarRef(coordinate) * strides[i]),
                        sourceOffset + dim.SourceFirst + (new VnniVarRef(coordinate) * dim.SourceStride));
                    list.Add(new VnniFor(coordinate, dim.ValidFrom, dim.ValidTo, 1, new VnniBlock([body]), Parallel: i == parallelDim, NoWait: true));
                }
            }

            return new VnniBlock([.. list]);
        }

        return new VnniBlock([Level(0, 0, 0)]);
    }

    // A'[o][m][k] = A at (outer o, row m, reduction k) + 128 (signed A), the zero byte where A is padded, and the
    // zero byte in the rounding of each row up to a multiple of 4.
    private static VnniStmt Im2col(VnniKernelContext context, VnniKernelBuffers buffers)
    {
        var (plan, gemm) = (context.Plan, context.Gemm);
        var row = gemm.Im2colRow;
        var zero = gemm.ZeroByte;
        var shift = gemm.Compensate ? 128 : 0;
        var outerVars = context.LoopVars(gemm.Outers);
        var rowVars = context.LoopVars(gemm.Rows);
        var reductionVars = context.LoopVars(gemm.ReductionOuter);
        var all = new Dictionary<int, VnniVar>(outerVars);
        foreach (var (l, v) in rowVars.Concat(reductionVars))
        {
            all[l] = v;
        }

        var (aBase, aStrides) = VnniGemmAnalysis.Offset(gemm.AAccess, gemm.A, gemm.Loops.Length);
        var load = new VnniLoad(buffers.Tensors[gemm.A.Name], VnniKernelContext.Dot(aBase, aStrides, all)) + shift;
        VnniExpr value = gemm.A.Padded ? new VnniSelect(VnniKernelContext.InBounds(gemm.AAccess, gemm.A.Shape, all), load, zero) : load;
        var destination = (((context.Flat(gemm.Outers, outerVars) * gemm.M) + context.Flat(gemm.Rows, rowVars)) * row)
            + context.Flat(gemm.ReductionOuter, reductionVars);
        var list = new List<VnniStmt>();
        var loops = gemm.Outers.Concat(gemm.Rows).ToList();
        var vars = new Dictionary<int, VnniVar>(outerVars);
        foreach (var (l, v) in rowVars)
        {
            vars[l] = v;
        }

        // The threads share the first outer or row loop with enough iterations.
        var parallelLoop = context.Threaded ? loops.FirstOrDefault(l => gemm.Loops[l].Extent >= plan.Threads, -1) : -1;
        var copy = context.Nest(loops, vars, () => [context.Nest(gemm.ReductionOuter, reductionVars, () => [new VnniStore(buffers.APrime, destination, value)])],
            parallelLoop: parallelLoop);
        list.Add(parallelLoop >= 0 ? copy : context.OneThread(copy));
        if (row > gemm.K)
        {
            var r = context.Var("r");
            var rows = gemm.OuterCount * gemm.M;
            list.Add(new VnniFor(r, 0, rows, 1, new VnniBlock(
            [
                new VnniFill(buffers.APrime, (new VnniVarRef(r) * row) + gemm.K, row - gemm.K, zero),
            ]), Parallel: context.Threaded, NoWait: true));
        }

        return new VnniBlock([.. list]);
    }
}
