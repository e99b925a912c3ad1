using Covenant.Codelets;
using Covenant.Codelets.Semantics;
using Covenant.Core.Diagnostics;
using Covenant.Mapping.Model;

namespace Covenant.Targets.Vta.Lowering;

/// <summary>
/// The tensors VTA moves: INP and WGT rows loaded from DRAM, the i32 accumulator, and the stored output, written as
/// <see cref="Planes"/> byte planes (1 for an 8-bit output, 4 for i32).
/// </summary>
internal sealed record VtaTensors(GemmTensor Inp, GemmTensor Wgt, GemmTensor Acc, GemmTensor Out, int Planes);

/// <summary>
/// Step: checks the element types and roles VTA's loads, GEMM and stores can handle, and that the stored output is
/// element-wise in the accumulator; errors point at the tensor's declaration.
/// </summary>
internal static class CheckTensors
{
    public static Result<VtaTensors> Run(LoweringContext context, GemmAxes axes)
    {
        var gemm = context.Gemm;
        var acc = gemm.C.Tensor;
        if (acc.Tensor.ElementType != ElementType.I32)
        {
            return Fail(VtaLoweringDiagnostics.UnsupportedType, acc.Location,
                $"the accumulator '{acc.Name}' is {acc.Tensor.ElementType.Name()}; VTA accumulates in i32");
        }

        foreach (var t in new[] { axes.Inp.Tensor, axes.Wgt.Tensor })
        {
            if (t.Tensor.ElementType is not (ElementType.I8 or ElementType.U8) || t.Tensor.Role != TensorRole.Input)
            {
                return Fail(VtaLoweringDiagnostics.UnsupportedType, t.Location,
                    $"'{t.Name}' is a {t.Tensor.Role.ToString().ToLowerInvariant()} of type {t.Tensor.ElementType.Name()}; VTA's GEMM reads 8-bit inputs loaded from DRAM");
            }

            if (t.Tensor.ElementType == ElementType.U8)
            {
                return Fail(VtaLoweringDiagnostics.UnsupportedType, t.Location, $"'{t.Name}' is u8; VTA's GEMM multiplies signed int8 values");
            }
        }

        var output = gemm.Output;
        if (output.Tensor.Role != TensorRole.Output)
        {
            return Fail(VtaLoweringDiagnostics.InvalidMapping, output.Location, $"'{output.Name}' is not an output of '{context.CodeletName}'");
        }

        if (!output.Tensor.Shape.SequenceEqual(acc.Tensor.Shape))
        {
            return Fail(VtaLoweringDiagnostics.UnsupportedEpilogue, output.Location,
                $"the output '{output.Name}' [{string.Join(", ", output.Tensor.Shape)}] must have the accumulator's shape [{string.Join(", ", acc.Tensor.Shape)}]: the epilogue is element-wise");
        }

        var planes = output.Tensor.ElementType switch
        {
            ElementType.I8 or ElementType.U8 => 1,
            ElementType.I32 => 4,
            _ => 0,
        };
        if (planes == 0)
        {
            return Fail(VtaLoweringDiagnostics.UnsupportedType, output.Location,
                $"the output '{output.Name}' is {output.Tensor.ElementType.Name()}; VTA stores 8-bit rows (an i32 result as four byte planes)");
        }

        var outputs = context.Mapping.Instance.Outputs.Count();
        if (outputs != 1)
        {
            return Fail(VtaLoweringDiagnostics.UnsupportedNest, context.CodeletLocation, $"'{context.CodeletName}' has {outputs} outputs; the VTA lowering stores one");
        }

        return Result<VtaTensors>.Success(new VtaTensors(axes.Inp.Tensor, axes.Wgt.Tensor, acc, output, planes));
    }

    private static Result<VtaTensors> Fail(DiagnosticDescriptor descriptor, SourceLocation at, string message) =>
        LoweringContext.Fail<VtaTensors>(descriptor, at, message);
}
