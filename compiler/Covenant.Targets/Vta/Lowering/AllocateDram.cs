using System.Collections.Immutable;
using Covenant.Core.Diagnostics;
using Covenant.Core.Numerics;
using Covenant.Runtime.Vta;

namespace Covenant.Targets.Vta.Lowering;

/// <summary>The DRAM image so far: its regions in address order, each aligned to the largest element size.</summary>
internal sealed record DramImage(long PhysicalBase, long Alignment, long End, ImmutableArray<VtaDramRegion> Regions)
{
    /// <summary>The image with one more region at its end.</summary>
    public DramImage Add(string name, VtaRegionKind kind, VtaTensorLayout? layout, long size = 0)
    {
        var bytes = layout?.SizeBytes ?? size;
        var region = new VtaDramRegion(name, kind, End, bytes, layout);
        return this with { Regions = Regions.Add(region), End = End + IntegerMath.RoundUp(Math.Max(bytes, 1), Alignment) };
    }

    public VtaDramRegion Region(string name) => Regions.Last(r => r.Name == name);

    /// <summary>The address of a region's plane in elements of <paramref name="type"/>, as LOAD and STORE take it.</summary>
    public long ElementBase(VtaConfig config, string region, VtaMemoryType type, int plane = 0)
    {
        var r = Region(region);
        var address = r.Address + (plane * (r.Layout?.PlaneBytes ?? 0));
        var element = config.ElementBytes(type);
        if (address % element != 0)
        {
            // Every region starts at a multiple of the largest element size: a misaligned one is a bug here.
            throw new InvalidOperationException($"region '{region}' plane {plane} at 0x{address:x} is not aligned to {element}");
        }

        return address / element;
    }
}

/// <summary>
/// Step: places the tensors in the DRAM image from the physical base: INP, WGT, the epilogue operands (as i32 ACC
/// rows), then the output (its byte planes one after the other). The zero and micro-op regions follow once the
/// stream is known (<see cref="AssembleProgram"/>).
/// </summary>
internal static class AllocateDram
{
    public static Result<DramImage> Run(LoweringContext context, VtaTensors tensors, TensorLayouts layouts, EpiloguePlan epilogue)
    {
        var cfg = context.Config;
        var physicalBase = context.Options.PhysicalBase;
        var alignment = new[] { cfg.InpElementBytes, cfg.WgtElementBytes, cfg.AccElementBytes, cfg.OutElementBytes, cfg.UopElementBytes }.Max();
        if (physicalBase < 0 || physicalBase % alignment != 0)
        {
            var dram = context.Mapping.Graph.Offchip.FirstOrDefault()?.Location ?? context.Mapping.Graph.Location;
            return LoweringContext.Fail<DramImage>(VtaLoweringDiagnostics.BadPhysicalBase, dram,
                $"the DRAM image base 0x{physicalBase:x} must be a non-negative multiple of {alignment} (the largest element size of '{cfg.Name}')");
        }

        var image = new DramImage(physicalBase, alignment, physicalBase, [])
            .Add(tensors.Inp.Name, VtaRegionKind.Input, layouts.Inp.Layout(tensors.Inp.Tensor, 1, 1))
            .Add(tensors.Wgt.Name, VtaRegionKind.Input, layouts.Wgt.Layout(tensors.Wgt.Tensor, 1, 1));
        foreach (var (tensor, model, _) in epilogue.Operands)
        {
            image = image.Add(tensor.Name, VtaRegionKind.Input, model.Layout(tensor, 4, 1));
        }

        return Result<DramImage>.Success(image.Add(tensors.Out.Name, VtaRegionKind.Output, layouts.Acc.Layout(tensors.Out.Tensor, 1, tensors.Planes)));
    }
}
