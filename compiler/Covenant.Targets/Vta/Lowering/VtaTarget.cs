using System.Collections.Immutable;
using System.Text.Json;
using Covenant.Acg;
using Covenant.Acg.Model;
using Covenant.Core.Diagnostics;
using Covenant.Mapping.Model;
using Covenant.Runtime.Vta;

namespace Covenant.Targets.Vta.Lowering;

/// <summary>
/// The VTA target pass behind <see cref="ITarget"/>: reads the <see cref="VtaConfig"/> from the mapping's graph, lowers
/// with <see cref="VtaLowering"/> at <see cref="TargetOptions.DramBase"/>, and returns the artifact files of
/// <see cref="VtaProgramFiles"/> (the listing goes through <see cref="TargetOutput.Listing"/>). The predicted cycles are
/// the busiest module's total under <see cref="VtaTimingModel"/>: a lower bound, as it ignores token waits.
/// </summary>
public sealed class VtaTarget : ITarget
{
    public string Name => VtaArtifactExecutor.TargetName;

    /// <summary>VTA as the compiler, the runtime and the command line know it (listed in the compiler's BuiltinTargets).</summary>
    public static TargetRegistration Registration { get; } = new(
        VtaArtifactExecutor.TargetName,
        "TVM's VTA: LOAD/GEMM/ALU/STORE instruction streams, run on the cycle-counting simulator",
        new VtaTarget(),
        new VtaArtifactExecutor(),
        [new(5000, 5199), new(6100, 6199), new(9501, 9501)])
    {
        CreateMeasurer = VtaSimulatorMeasurer.Create,
        LowerBound = VtaSimulatorMeasurer.Bound,
    };

    /// <summary>The graph-level checks of <see cref="Vta.VtaArchitectureCheck"/>: what keeps this target from compiling for a graph at all.</summary>
    public ImmutableArray<Diagnostic> CheckArchitecture(ArchitectureGraph graph) => Vta.VtaArchitectureCheck.Check(graph);

    public Result<TargetOutput> Lower(LayerMapping mapping, TargetOptions options)
    {
        ArgumentNullException.ThrowIfNull(mapping);
        ArgumentNullException.ThrowIfNull(options);
        var config = VtaConfig.FromGraph(mapping.Graph);
        if (!config.Succeeded)
        {
            return Result<TargetOutput>.Failure(config.Diagnostics);
        }

        if (options.DramBase > long.MaxValue)
        {
            var dram = mapping.Graph.Offchip.FirstOrDefault()?.Location ?? mapping.Graph.Location;
            return Result<TargetOutput>.Failure(VtaLoweringDiagnostics.BadPhysicalBase.Create(dram, $"the DRAM base 0x{options.DramBase:x} is too large"));
        }

        var lowered = VtaLowering.Lower(mapping, config.Value, new VtaLoweringOptions { PhysicalBase = (long)options.DramBase });
        if (!lowered.Succeeded)
        {
            return Result<TargetOutput>.Failure(config.Diagnostics.AddRange(lowered.Diagnostics));
        }

        var program = lowered.Value;
        var files = Files(program);
        var timing = new VtaTimingModel(program.Config);
        var predicted = program.Instructions.GroupBy(i => i.Module).Max(g => g.Sum(timing.Cycles));
        return Result<TargetOutput>.Success(new TargetOutput(Name, files, program.Listing, predicted), config.Diagnostics.AddRange(lowered.Diagnostics));
    }

    /// <summary>The files of a program as <see cref="VtaProgramFiles.Save"/> writes them, without the listing.</summary>
    public static System.Collections.Immutable.ImmutableArray<ArtifactFile> Files(VtaProgram program)
    {
        ArgumentNullException.ThrowIfNull(program);
        var encoder = new VtaEncoder(program.Config);
        return
        [
            new ArtifactFile(VtaProgramFiles.ProgramFile, encoder.EncodeProgram(program.Instructions)),
            new ArtifactFile(VtaProgramFiles.UopsFile, encoder.EncodeUops(program.Uops)),
            ArtifactFile.Text(VtaProgramFiles.MemoryMapFile, JsonSerializer.Serialize(program.MemoryMap, VtaProgramFiles.JsonOptions) + "\n"),
            ArtifactFile.Text(VtaProgramFiles.ProgramInfoFile,
                JsonSerializer.Serialize(new VtaProgramFiles.ProgramInfo(program.Codelet, program.Config, program.Summary), VtaProgramFiles.JsonOptions) + "\n"),
        ];
    }
}
