using System.Globalization;
using System.Text;
using Covenant.Core.Diagnostics;
using Covenant.Runtime.Vta;

namespace Covenant.Targets.Vta.Lowering;

/// <summary>
/// Step: completes the DRAM image (the zero region LOAD pads from, the micro-op kernels), assigns the dependency
/// tokens, fixes up the addresses only the image knows, flattens the groups into the program and its listing, and lists
/// the padding bytes the program reads (which the host must zero) in the memory map.
/// </summary>
internal static class AssembleProgram
{
    public static Result<VtaProgram> Run(GenerationInputs inputs, GeneratedStream generated)
    {
        var (context, cfg) = (inputs.Context, inputs.Context.Config);
        var kernels = generated.Kernels;
        var image = inputs.Dram;
        if (generated.ZeroBytes > 0)
        {
            image = image.Add("zeros", VtaRegionKind.Zeros, null, generated.ZeroBytes);
        }

        image = image.Add("uops", VtaRegionKind.Uops, null, kernels.TotalUops * cfg.UopElementBytes);
        var zeros = generated.ZeroBytes > 0 ? image.Region("zeros") : null;
        var uopRegion = image.Region("uops");
        var memoryMap = new VtaMemoryMap(image.PhysicalBase, image.End - image.PhysicalBase, image.Alignment, image.Regions);
        if (memoryMap.SizeBytes > VtaMemoryMapChecks.MaxImageBytes)
        {
            // Refused here, not at run time: the runtime refuses such a map, and the zero ranges below index it by byte.
            var dram = context.Mapping.Graph.Offchip.FirstOrDefault()?.Location ?? context.Mapping.Graph.Location;
            return Result<VtaProgram>.Failure(VtaLoweringDiagnostics.ImageTooLarge.Create(dram, string.Create(CultureInfo.InvariantCulture,
                $"the layer's tensors need a DRAM image of {memoryMap.SizeBytes:N0} bytes; a VTA artifact's image holds at most {VtaMemoryMapChecks.MaxImageBytes:N0} bytes")));
        }


        generated.Stream.AssignTokens();
        VtaInstruction Fix(Item item)
        {
            if (item.Instruction is not VtaLoad load)
            {
                return item.Instruction;
            }

            return item.Fixup switch
            {
                Fixup.Zeros => load with { DramBase = zeros!.Address / cfg.ElementBytes(load.MemoryType) },
                Fixup.Kernel => load with { DramBase = (uopRegion.Address / cfg.UopElementBytes) + kernels.Offset(item.Kernel) },
                _ => load,
            };
        }

        var header = Header(inputs, memoryMap);
        var (program, listing) = generated.Stream.Flatten(Fix, context.Options.ListingHex ? new VtaEncoder(cfg) : null, header);

        // Only the finished stream knows which padding bytes its LOADs read: those are the ones a host must zero.
        memoryMap = VtaZeroRanges.Annotate(memoryMap, cfg, program);
        var steps = inputs.Schedule.Steps;
        var counts = generated.Counts;
        var summary = new VtaProgramSummary(
            program.Length,
            program.Count(i => i.Module == VtaModule.Load),
            program.Count(i => i.Module == VtaModule.Compute),
            program.Count(i => i.Module == VtaModule.Store),
            counts.GemmInstructions,
            counts.AluInstructions,
            counts.UopLoads,
            kernels.Count,
            steps.Length,
            steps.Count(s => s.LastOfAccTile),
            counts.GemmUops,
            inputs.Placement.Loops.Aggregate(1L, (p, v) => p * v.Map.Extent));
        return Result<VtaProgram>.Success(new VtaProgram(context.CodeletName, cfg, program, kernels.All(), memoryMap, listing, summary));
    }

    /// <summary>The listing's header: the instance, the GEMM axes, the loops, the buffers, notes and the memory map.</summary>
    private static string Header(GenerationInputs inputs, VtaMemoryMap memoryMap)
    {
        var (instance, cfg) = (inputs.Context.Mapping.Instance, inputs.Context.Config);
        var (loops, buffers) = (inputs.Placement.Loops, inputs.Buffers);
        var header = new StringBuilder();
        var c = CultureInfo.InvariantCulture;
        header.AppendLine(c, $"; {instance.Name}<{string.Join(", ", instance.Sizes.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => $"{p.Key}={p.Value}"))}> on {cfg.Name} (BATCH {cfg.Batch}, BLOCK_IN {cfg.BlockIn}, BLOCK_OUT {cfg.BlockOut})");
        header.AppendLine(c, $"; GEMM axes: j <- {loops.FirstOrDefault(v => v.Lane == LaneAxis.J)?.Name ?? "(unused)"}, k <- {loops.FirstOrDefault(v => v.Lane == LaneAxis.K)?.Name ?? "(unused)"}; tile order [{string.Join(", ", inputs.Context.Mapping.TileOrder)}]");
        header.AppendLine(c, $"; loops: {string.Join(", ", loops.Select(v => $"{v.Name} {v.Map.Role.ToString().ToLowerInvariant()} {v.Map.Extent}->{v.Map.PaddedExtent} tile {v.Map.Tile}"))}");
        header.AppendLine(c, $"; buffers: INP {buffers.Inp.Length} x {buffers.Inp[0].Rows} rows, WGT {buffers.Wgt.Length} x {buffers.Wgt[0].Rows}, ACC {buffers.Acc.Length} x {buffers.Acc[0].Rows} (+{buffers.Operands.Sum(s => s.Rows)} operand rows, scratch {buffers.Scratch0}-{buffers.Scratch0 + 1})");
        foreach (var note in buffers.Notes)
        {
            header.AppendLine(c, $"; note: {note}");
        }

        foreach (var line in memoryMap.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            header.Append("; ").AppendLine(line);
        }

        return header.ToString();
    }
}
