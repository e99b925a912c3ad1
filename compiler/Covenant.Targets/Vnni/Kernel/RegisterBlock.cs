using Covenant.Runtime.Vnni;

namespace Covenant.Targets.Vnni.Kernel;

/// <summary>A register block: <paramref name="Rows"/> x <paramref name="Vectors"/> accumulators, the last vector storing <paramref name="LastLanes"/> lanes.</summary>
internal sealed record VnniBlockShape(int Rows, int Vectors, int LastLanes)
{
    public string Tag => $"{Rows}x{Vectors}";
}

/// <summary>
/// One register block of the tiled GEMM (outlined into its own C function): the accumulators start from the initial
/// vector (or zero, or the partial sums of earlier KC blocks), a loop over the groups does NR vector loads of B, MR
/// broadcasts of A and MR x NR vpdpbusd, then <see cref="FinishRegisterBlock"/> applies the epilogue and stores
/// (or the sums go back to the thread's partial tile when more KC blocks follow).
/// </summary>
internal static class RegisterBlock
{
    public static VnniBlock Build(VnniKernelContext context, VnniKernelBuffers buffers, VnniBlockShape shape, VnniTileOffsets offsets, VnniBlockPosition position)
    {
        var gemm = context.Gemm;
        var body = new List<VnniStmt>();
        var rowA = RowOffsetsOfA(context, buffers, shape, offsets, position, body);
        var accumulators = new VnniVReg[shape.Rows, shape.Vectors];
        for (var i = 0; i < shape.Rows; i++)
        {
            for (var v = 0; v < shape.Vectors; v++)
            {
                accumulators[i, v] = context.Reg($"acc{shape.Tag}_{i}_{v}");
            }
        }

        body.Add(Start(context, buffers, accumulators, offsets, position));
        DotProductLoop(context, buffers, shape, accumulators, rowA, position, body);
        var finish = FinishRegisterBlock.Build(context, buffers, shape, accumulators, offsets, position);
        if (buffers.Partial >= 0)
        {
            var save = new List<VnniStmt>();
            ForEach(accumulators, (i, v) => save.Add(new VnniVector(VnniVectorOp.Store32, null, accumulators[i, v],
                Buffer: buffers.Partial, Index: PartialIndex(context, offsets, position, i, v), Count: context.Lanes)));
            body.Add(new VnniIf(VnniExpr.Less(new VnniVarRef(position.GroupEnd), gemm.Groups), new VnniBlock([.. save]), finish));
        }
        else
        {
            body.Add(finish);
        }

        return new VnniBlock([.. body], Outline: $"block{context.NextOutline()}_{shape.Tag}");
    }

    // Each row's A' offset (through the row table in Direct mode, computed in Im2col mode).
    private static VnniVar[] RowOffsetsOfA(
        VnniKernelContext context, VnniKernelBuffers buffers, VnniBlockShape shape, VnniTileOffsets offsets, VnniBlockPosition position, List<VnniStmt> body)
    {
        var gemm = context.Gemm;
        var rowA = new VnniVar[shape.Rows];
        for (var i = 0; i < shape.Rows; i++)
        {
            rowA[i] = context.Var($"a_row{i}");
            VnniExpr row = new VnniVarRef(position.Row) + i;
            body.Add(new VnniSet(rowA[i], gemm.AMode == VnniAMode.Direct
                ? new VnniVarRef(offsets.A) + new VnniLoad(buffers.RowTables["a"], row)
                : new VnniVarRef(offsets.A) + (row * gemm.Im2colRow)));
        }

        return rowA;
    }

    // The first KC block starts from the initial vector (or zero); later ones reload the thread's partial sums.
    private static VnniStmt Start(VnniKernelContext context, VnniKernelBuffers buffers, VnniVReg[,] accumulators, VnniTileOffsets offsets, VnniBlockPosition position)
    {
        var lanes = context.Lanes;
        var zero = new List<VnniStmt>();
        var reload = new List<VnniStmt>();
        ForEach(accumulators, (i, v) =>
        {
            zero.Add(buffers.Initial >= 0
                ? new VnniVector(VnniVectorOp.Load, accumulators[i, v], Buffer: buffers.Initial,
                    Index: new VnniVarRef(offsets.Initial!) + position.Column + (v * lanes), Count: lanes)
                : new VnniVector(VnniVectorOp.Zero, accumulators[i, v]));
            if (buffers.Partial >= 0)
            {
                reload.Add(new VnniVector(VnniVectorOp.Load, accumulators[i, v], Buffer: buffers.Partial,
                    Index: PartialIndex(context, offsets, position, i, v), Count: lanes));
            }
        });

        return buffers.Partial >= 0
            ? new VnniIf(VnniExpr.Less(new VnniVarRef(position.GroupStart), 1), new VnniBlock([.. zero]), new VnniBlock([.. reload]))
            : new VnniBlock([.. zero]);
    }

    // for g in [pc, pcEnd): NR vector loads of B, then per row a broadcast of A' (sign-flipped when A is read in
    // place) and NR vpdpbusd.
    private static void DotProductLoop(
        VnniKernelContext context, VnniKernelBuffers buffers, VnniBlockShape shape, VnniVReg[,] accumulators, VnniVar[] rowA,
        VnniBlockPosition position, List<VnniStmt> body)
    {
        var gemm = context.Gemm;
        var g = context.Var("g");
        var ko = context.Var("k_off");
        var bg = context.Var("b_group");
        var loop = new List<VnniStmt>
        {
            new VnniSet(ko, buffers.GroupTable >= 0 ? new VnniLoad(buffers.GroupTable, g) : new VnniVarRef(g) * buffers.GroupStep),
            new VnniSet(bg, new VnniVarRef(position.Panel) + (new VnniVarRef(g) * context.PanelBytes)),
        };
        var bVectors = new VnniVReg[shape.Vectors];
        for (var v = 0; v < shape.Vectors; v++)
        {
            bVectors[v] = context.Reg($"b{shape.Tag}_{v}");
            loop.Add(new VnniVector(VnniVectorOp.Load, bVectors[v], Buffer: buffers.BPacked, Index: new VnniVarRef(bg) + (v * context.Lanes * 4L), Count: context.Lanes));
        }

        var broadcast = context.Reg($"a{shape.Tag}");
        VnniVReg? signs = null;
        if (buffers.ReadsA && gemm.Compensate)
        {
            signs = context.Reg($"signs{shape.Tag}");
            body.Add(new VnniVector(VnniVectorOp.Set1, signs, Scalar: unchecked((int)0x80808080u)));
        }

        for (var i = 0; i < shape.Rows; i++)
        {
            loop.Add(new VnniVector(VnniVectorOp.Broadcast, broadcast, Buffer: buffers.APrime, Index: new VnniVarRef(rowA[i]) + ko));
            if (signs is not null)
            {
                loop.Add(new VnniVector(VnniVectorOp.Xor, broadcast, broadcast, signs));
            }

            for (var v = 0; v < shape.Vectors; v++)
            {
                loop.Add(new VnniVector(VnniVectorOp.Dpbusd, accumulators[i, v], broadcast, bVectors[v]));
            }
        }

        body.Add(new VnniFor(g, position.GroupStart, position.GroupEnd, 1, new VnniBlock([.. loop])));
    }

    // Partial sums of earlier KC blocks live in the thread's scratch tile.
    private static VnniExpr PartialIndex(VnniKernelContext context, VnniTileOffsets offsets, VnniBlockPosition position, int i, int v) =>
        new VnniVarRef(offsets.Partial!) + ((new VnniVarRef(position.Row) - offsets.RowStart + i) * context.Plan.NC)
            + (new VnniVarRef(position.Column) - offsets.ColumnStart) + (v * context.Lanes);

    public static void ForEach(VnniVReg[,] accumulators, Action<int, int> action)
    {
        for (var i = 0; i < accumulators.GetLength(0); i++)
        {
            for (var v = 0; v < accumulators.GetLength(1); v++)
            {
                action(i, v);
            }
        }
    }
}
