using System.Collections.Immutable;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using Covenant.Acg;
using Covenant.Acg.Model;
using Covenant.Core.Diagnostics;
using Covenant.Mapping.Model;
using Covenant.Runtime.Vnni;

namespace Covenant.Targets.Vnni;

/// <summary>
/// The VNNI target pass behind <see cref="ITarget"/>: plans the kernel from the mapping (<see cref="VnniKernelPlan.FromMapping"/>),
/// builds its program and emits it as C. The artifact holds the C (<see cref="KernelFile"/>, built with gcc when the
/// artifact runs) and the plan's choices (<see cref="PlanFile"/>), from which the runtime rebuilds the identical program
/// for the simulator where the CPU lacks VNNI. The predicted cycles are the vpdpbusd issue count over the threads: a
/// compute-bound lower bound.
/// </summary>
public sealed class VnniTarget : ITarget
{
    public const string KernelFile = VnniArtifactFiles.KernelFile;
    public const string PlanFile = VnniArtifactFiles.PlanFile;

    public static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        Converters = { new JsonStringEnumConverter() },
    };

    public string Name => VnniArtifactExecutor.TargetName;

    /// <summary>VNNI as the compiler, the runtime and the command line know it (listed in the compiler's BuiltinTargets).</summary>
    public static TargetRegistration Registration { get; } = new(
        VnniArtifactExecutor.TargetName,
        "x86 AVX-512 VNNI / AVX-VNNI: C with intrinsics, timed natively where the CPU has it, else simulated",
        new VnniTarget(),
        new VnniArtifactExecutor(new VnniPlanRebuilder()),
        [new(5200, 5299), new(6200, 6299)]);

    /// <summary>The graph-level checks of <see cref="VnniArchitectureCheck"/>: what keeps this target from compiling for a graph at all.</summary>
    public ImmutableArray<Diagnostic> CheckArchitecture(ArchitectureGraph graph) => VnniArchitectureCheck.Check(graph);

    public Result<TargetOutput> Lower(LayerMapping mapping, TargetOptions options)
    {
        ArgumentNullException.ThrowIfNull(mapping);
        ArgumentNullException.ThrowIfNull(options);
        var planned = VnniKernelPlan.FromMapping(mapping);
        if (!planned.Succeeded)
        {
            return Result<TargetOutput>.Failure(planned.Diagnostics);
        }

        return Result<TargetOutput>.Success(Output(planned.Value), planned.Diagnostics);
    }

    /// <summary>The artifact files and listing of a plan.</summary>
    public static TargetOutput Output(VnniKernelPlan plan)
    {
        ArgumentNullException.ThrowIfNull(plan);
        var program = VnniKernelBuilder.Build(plan);
        var source = VnniCEmitter.Emit(program, plan.Describe());
        var files = ImmutableArray.Create(
            ArtifactFile.Text(KernelFile, source),
            ArtifactFile.Text(PlanFile, JsonSerializer.Serialize(VnniPlanOptions.Of(plan), Json) + "\n"));
        var cycles = plan.DotInstructions * plan.Isa.DotInterval / Math.Max(1, Math.Min(plan.Threads, plan.Isa.Cores));
        var listing = plan.Describe() + "\n" + string.Create(CultureInfo.InvariantCulture,
            $"  {plan.DotInstructions} vpdpbusd, at least {cycles:F0} cycles on {Math.Min(plan.Threads, plan.Isa.Cores)} cores\n\n") + source;
        return new TargetOutput(VnniArtifactExecutor.TargetName, files, listing, cycles);
    }

    /// <summary>Reads <see cref="PlanFile"/> back (null when it is not a plan file).</summary>
    public static VnniPlanOptions? ReadPlan(string json) => JsonSerializer.Deserialize<VnniPlanOptions>(json, Json);
}
