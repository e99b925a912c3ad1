using Covenant.Mapping.Model;
using Covenant.Runtime.Vnni;

namespace Covenant.Targets.Vnni.Kernel;

/// <summary>
/// The end of a register block: the epilogue steps not folded into the start, in order (a shift, a constant, or a
/// tensor operand loaded as a vector or broadcast), and the store: int32, or the low byte for i8/u8 outputs.
/// </summary>
internal static class FinishRegisterBlock
{
    public static VnniBlock Build(
        VnniKernelContext context, VnniKernelBuffers buffers, VnniBlockShape shape, VnniVReg[,] accumulators, VnniTileOffsets offsets, VnniBlockPosition position)
    {
        var body = new List<VnniStmt>();
        var stepIndex = 0;
        foreach (var step in context.Gemm.Epilogue.Skip(buffers.LeadingAdditions))
        {
            stepIndex++;
            var op = step.Op switch
            {
                EpilogueOp.Add => VnniVectorOp.Add,
                EpilogueOp.Max => VnniVectorOp.Max,
                EpilogueOp.Min => VnniVectorOp.Min,
                _ => VnniVectorOp.ShiftRight,
            };
            if (step.Op == EpilogueOp.ShiftRight)
            {
                // The reference shifts by the amount modulo 32, as vpsrad's immediate does for 0..31.
                var amount = (int)(step.Immediate!.Value & 31);
                if (amount != 0)
                {
                    RegisterBlock.ForEach(accumulators, (i, v) =>
                        body.Add(new VnniVector(VnniVectorOp.ShiftRight, accumulators[i, v], accumulators[i, v], Immediate: amount)));
                }
            }
            else if (step.Tensor is null)
            {
                var constant = context.Reg($"k{shape.Tag}_{stepIndex}");
                body.Add(new VnniVector(VnniVectorOp.Set1, constant, Scalar: (long)unchecked((int)step.Immediate!.Value)));
                RegisterBlock.ForEach(accumulators, (i, v) => body.Add(new VnniVector(op, accumulators[i, v], accumulators[i, v], constant)));
            }
            else
            {
                TensorStep(context, buffers, shape, accumulators, offsets, position, op, context.Gemm.EpilogueTensors.First(t => t.Name == step.Tensor), stepIndex, body);
            }
        }

        Store(context, buffers, shape, accumulators, offsets, position, body);
        return new VnniBlock([.. body]);
    }

    // acc = op(acc, operand): the operand is a vector along the columns (loaded once for all rows unless it depends
    // on the row), or one value per row broadcast.
    private static void TensorStep(
        VnniKernelContext context, VnniKernelBuffers buffers, VnniBlockShape shape, VnniVReg[,] accumulators, VnniTileOffsets offsets,
        VnniBlockPosition position, VnniVectorOp op, VnniEpilogueTensor tensor, int stepIndex, List<VnniStmt> body)
    {
        var gemm = context.Gemm;
        var buffer = buffers.Tensors[tensor.Name];
        var byRow = buffers.RowTables.TryGetValue(tensor.Name, out var table);
        var vectorStride = gemm.Vector >= 0 ? tensor.Strides[gemm.Vector] : 0;
        for (var i = 0; i < shape.Rows; i++)
        {
            if (i > 0 && !byRow && vectorStride == 1)
            {
                continue;
            }

            VnniExpr rowOffset = byRow
                ? new VnniVarRef(offsets.Epilogue[tensor.Name]) + new VnniLoad(table, new VnniVarRef(position.Row) + i)
                : offsets.Epilogue[tensor.Name];
            var operand = new VnniVReg[shape.Vectors];
            for (var v = 0; v < shape.Vectors; v++)
            {
                operand[v] = context.Reg($"e{shape.Tag}_{stepIndex}_{i}_{v}");
                body.Add(vectorStride == 1
                    ? new VnniVector(VnniVectorOp.Load, operand[v], Buffer: buffer, Index: rowOffset + position.Column + (v * context.Lanes), Count: LanesOf(context, shape, v))
                    : new VnniVector(VnniVectorOp.Broadcast, operand[v], Buffer: buffer, Index: rowOffset));
            }

            var rows = !byRow && vectorStride == 1 ? Enumerable.Range(0, shape.Rows) : [i];
            foreach (var row in rows)
            {
                for (var v = 0; v < shape.Vectors; v++)
                {
                    body.Add(new VnniVector(op, accumulators[row, v], accumulators[row, v], operand[v]));
                }
            }
        }
    }

    private static void Store(
        VnniKernelContext context, VnniKernelBuffers buffers, VnniBlockShape shape, VnniVReg[,] accumulators, VnniTileOffsets offsets,
        VnniBlockPosition position, List<VnniStmt> body)
    {
        var narrow = context.Plan.OutputType != Codelets.ElementType.I32;
        var output = buffers.Tensors[context.Plan.Output];
        var byRowC = buffers.RowTables.TryGetValue("c", out var rowsC);
        for (var i = 0; i < shape.Rows; i++)
        {
            VnniExpr row = byRowC ? new VnniVarRef(offsets.C) + new VnniLoad(rowsC, new VnniVarRef(position.Row) + i) : offsets.C;
            var rowVar = context.Var($"c_row{i}");
            body.Add(new VnniSet(rowVar, row));
            for (var v = 0; v < shape.Vectors; v++)
            {
                body.Add(new VnniVector(narrow ? VnniVectorOp.Store8 : VnniVectorOp.Store32, null, accumulators[i, v], Buffer: output,
                    Index: new VnniVarRef(rowVar) + position.Column + (v * context.Lanes), Count: LanesOf(context, shape, v)));
            }
        }
    }

    private static int LanesOf(VnniKernelContext context, VnniBlockShape shape, int v) => v == shape.Vectors - 1 ? shape.LastLanes : context.Lanes;
}
