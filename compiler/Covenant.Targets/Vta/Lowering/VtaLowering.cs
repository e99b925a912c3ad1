using Covenant.Core.Diagnostics;
using Covenant.Mapping.Model;
using Covenant.Runtime.Vta;

namespace Covenant.Targets.Vta.Lowering;

/// <summary>
/// Lowers a <see cref="LayerMapping"/> of a codelet onto VTA's GEMM to a real VTA instruction stream (vta-isa.md), generic
/// over the codelet: every address derives from the instance's affine indices and the mapping's axis embedding and
/// tiles; there is no per-operator code.
/// <para>
/// The lowering is an ordered list of steps (<see cref="Run"/>, the one place that states the order). Each step reads
/// the <see cref="LoweringContext"/> and the immutable results of the steps before it, and returns its own result or
/// diagnostics positioned on the codelet or YAML element at fault; the first failing step ends the lowering. Only
/// <see cref="GenerateStream"/> keeps mutable state, inside itself.
/// </para>
/// </summary>
public static class VtaLowering
{
    public static Result<VtaProgram> Lower(LayerMapping mapping, VtaConfig config, VtaLoweringOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(mapping);
        ArgumentNullException.ThrowIfNull(config);
        try
        {
            return Run(mapping, config, options ?? VtaLoweringOptions.Default);
        }
        catch (InvalidOperationException e)
        {
            // Only a bug in the lowering throws (an invariant broken); every user-facing problem is a diagnostic.
            return Result<VtaProgram>.Failure(VtaLoweringDiagnostics.InternalError.Create(mapping.Instance.Syntax.Location, e.Message));
        }
    }

    /// <summary>The steps, in order, and why each comes where it does.</summary>
    private static Result<VtaProgram> Run(LayerMapping mapping, VtaConfig config, VtaLoweringOptions options)
    {
        // 1. The GEMM form every target reads (operands, loops by role, the capability): nothing below re-derives it.
        var gemm = GemmView.Of(mapping);
        if (!gemm.Succeeded)
        {
            return Result<VtaProgram>.Failure(gemm.Diagnostics);
        }

        var context = new LoweringContext(mapping, gemm.Value, config, options);

        // 2. BATCH = 1 and a valid configuration: the layouts below pack one row per GEMM row, in blocks of its extents.
        var configuration = CheckConfiguration.Run(context);
        if (!configuration.Succeeded)
        {
            return Result<VtaProgram>.Failure(configuration.Diagnostics);
        }

        // 3. Which operand is INP and which WGT, with the axis extents the configuration fixes: lanes need both.
        var axes = MatchGemmAxes.Run(context);
        if (!axes.Succeeded)
        {
            return Result<VtaProgram>.Failure(axes.Diagnostics);
        }

        // 4. Element types and the stored output, before any layout is built for tensors VTA could not move.
        var tensors = CheckTensors.Run(context, axes.Value);
        if (!tensors.Succeeded)
        {
            return Result<VtaProgram>.Failure(tensors.Diagnostics);
        }

        // 5. Each loop's lane axis and block: the unit in which layouts, tiles and steps count.
        var placement = PlaceLoops.Run(context, axes.Value);
        if (!placement.Succeeded)
        {
            return Result<VtaProgram>.Failure(placement.Diagnostics);
        }

        // 6. The DRAM/SRAM layouts of INP, WGT and ACC, from the accesses and the lane loops.
        var layouts = LayOutTensors.Run(context, tensors.Value, placement.Value);
        if (!layouts.Succeeded)
        {
            return Result<VtaProgram>.Failure(layouts.Diagnostics);
        }

        // 7. The epilogue's ALU steps and its operands' layouts, derived from the accumulator's layout.
        var epilogue = PlanEpilogue.Run(context, tensors.Value, layouts.Value);
        if (!epilogue.Succeeded)
        {
            return Result<VtaProgram>.Failure(epilogue.Diagnostics);
        }

        // 8. The tile steps in the mapping's order: the buffers are sized by the largest tile any step needs.
        var schedule = EnumerateSteps.Run(context, placement.Value, layouts.Value);
        if (!schedule.Succeeded)
        {
            return Result<VtaProgram>.Failure(schedule.Diagnostics);
        }

        // 9. The on-chip buffers cut into tile slots (double-buffered where asked and where it fits).
        var boxes = new TileBoxes(layouts.Value, epilogue.Value);
        var buffers = PartitionBuffers.Run(context, axes.Value, tensors.Value, epilogue.Value, schedule.Value, boxes);
        if (!buffers.Succeeded)
        {
            return Result<VtaProgram>.Failure(buffers.Diagnostics);
        }

        // 10. The tensors' DRAM regions: loads and stores address them.
        var dram = AllocateDram.Run(context, tensors.Value, layouts.Value, epilogue.Value);
        if (!dram.Succeeded)
        {
            return Result<VtaProgram>.Failure(dram.Diagnostics);
        }

        // 11. The instruction groups, step by step, with the groups each waits for.
        var inputs = new GenerationInputs(context, tensors.Value, placement.Value, layouts.Value, epilogue.Value, schedule.Value, buffers.Value, boxes, dram.Value);
        var generated = GenerateStream.Run(inputs);
        if (!generated.Succeeded)
        {
            return Result<VtaProgram>.Failure(generated.Diagnostics);
        }

        // 12. Last, as only the whole stream knows the zero and micro-op regions and the dependency tokens.
        return AssembleProgram.Run(inputs, generated.Value);
    }
}
