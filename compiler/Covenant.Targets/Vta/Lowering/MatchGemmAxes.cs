using Covenant.Core.Diagnostics;
using Covenant.Mapping.Model;

namespace Covenant.Targets.Vta.Lowering;

/// <summary>
/// VTA's GEMM axes <c>acc[i, j] += inp[i, k] * wgt[j, k]</c> named as the capability names them, and the operands
/// that play INP (sharing the row axis i with the accumulator) and WGT (sharing the column axis j).
/// </summary>
internal sealed record GemmAxes(string I, string J, string K, GemmOperand Inp, GemmOperand Wgt);

/// <summary>
/// Step: finds which capability operand is VTA's INP and which its WGT, and checks the mapping's axis extents are the
/// configuration's BATCH, BLOCK_IN and BLOCK_OUT: every later layout is in blocks of these.
/// </summary>
internal static class MatchGemmAxes
{
    public static Result<GemmAxes> Run(LoweringContext context)
    {
        var gemm = context.Gemm;
        var capability = gemm.Capability;
        var output = capability.Output;
        if (output.Axes.Length != 2 || capability.Inputs.Count(o => o != output) != 2 || !capability.ReductionAxes.Any())
        {
            return Invalid(capability.Location, $"capability '{capability.Name}' is not a GEMM of the form acc[i, j] += inp[i, k] * wgt[j, k]");
        }

        var (i, j, k) = (output.Axes[0], output.Axes[1], capability.ReductionAxes.First().Name);
        GemmOperand[] factors = [gemm.A, gemm.B];
        if (factors.FirstOrDefault(o => o.Operand.Axes.Contains(i)) is not { } inp)
        {
            return Invalid(capability.Location, $"capability '{capability.Name}' has no input indexed by axis {i}");
        }

        if (factors.FirstOrDefault(o => o.Operand.Axes.Contains(j)) is not { } wgt)
        {
            return Invalid(capability.Location, $"capability '{capability.Name}' has no input indexed by axis {j}");
        }

        if (inp.Name == wgt.Name)
        {
            return Invalid(gemm.Location, $"the operands '{inp.Name}' (input rows) and '{wgt.Name}' (weights) are not the two factors of the product in '{context.CodeletName}'");
        }

        var cfg = context.Config;
        foreach (var (axis, extent, name) in new[] { (j, cfg.BlockOut, "BLOCK_OUT"), (k, cfg.BlockIn, "BLOCK_IN"), (i, cfg.Batch, "BATCH") })
        {
            if (gemm.FindAxis(axis) is { Embedding: { } e } found && e.AxisExtent != extent)
            {
                return Invalid(found.Axis.Location, $"axis {axis} has extent {e.AxisExtent} in the mapping, but {extent} ({name}) in '{cfg.Name}'");
            }
        }

        return Result<GemmAxes>.Success(new GemmAxes(i, j, k, inp, wgt));
    }

    private static Result<GemmAxes> Invalid(SourceLocation at, string message) =>
        LoweringContext.Fail<GemmAxes>(VtaLoweringDiagnostics.InvalidMapping, at, message);
}
