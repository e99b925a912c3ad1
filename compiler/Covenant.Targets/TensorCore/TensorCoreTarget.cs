using System.Collections.Immutable;
using System.Globalization;
using Covenant.Acg;
using Covenant.Acg.Model;
using Covenant.Core.Diagnostics;
using Covenant.Mapping.Model;
using Covenant.Runtime.TensorCore;

namespace Covenant.Targets.TensorCore;

/// <summary>
/// The TensorCore target pass behind <see cref="ITarget"/>: plans the implicit GEMM from the mapping
/// (<see cref="TensorCorePlan.Choose"/>), builds the block's instruction stream (<see cref="TensorCoreKernelBuilder"/>)
/// and prints it as CUDA (<see cref="TensorCoreCudaPrinter"/>). The artifact holds the CUDA (<see cref="KernelFile"/>) and
/// the stream itself as JSON (<see cref="ProgramFile"/>), which the runtime's warp simulator executes after checking
/// that the CUDA is what that stream prints. The predicted cycles are <see cref="TensorCorePlan.PredictedCycles"/>.
/// </summary>
public sealed class TensorCoreTarget(TensorCorePlanOptions? options = null) : ITarget
{
    public const string KernelFile = TensorCoreArtifactFiles.KernelFile;
    public const string ProgramFile = TensorCoreArtifactFiles.ProgramFile;

    public string Name => TensorCoreArtifactExecutor.TargetName;

    /// <summary>TensorCore as the compiler, the runtime and the command line know it (listed in the compiler's BuiltinTargets).</summary>
    public static TargetRegistration Registration { get; } = new(
        TensorCoreArtifactExecutor.TargetName,
        "NVIDIA tensor cores: CUDA C++ (mma.sync, ldmatrix, cp.async), run on the warp simulator",
        new TensorCoreTarget(),
        new TensorCoreArtifactExecutor(),
        [new(5300, 5399), new(6300, 6399)]);

    /// <summary>The graph-level checks of <see cref="TensorCoreArchitectureCheck"/>: what keeps this target from compiling for a graph at all.</summary>
    public ImmutableArray<Diagnostic> CheckArchitecture(ArchitectureGraph graph) => TensorCoreArchitectureCheck.Check(graph);

    public Result<TargetOutput> Lower(LayerMapping mapping, TargetOptions options)
    {
        ArgumentNullException.ThrowIfNull(mapping);
        ArgumentNullException.ThrowIfNull(options);
        var plan = TensorCorePlan.Choose(mapping, this.options);
        return plan.Succeeded
            ? Result<TargetOutput>.Success(Output(plan.Value), plan.Diagnostics)
            : Result<TargetOutput>.Failure(plan.Diagnostics);
    }

    private readonly TensorCorePlanOptions? options = options;

    /// <summary>The artifact files and listing of a plan.</summary>
    public static TargetOutput Output(TensorCorePlan plan)
    {
        ArgumentNullException.ThrowIfNull(plan);
        var kernel = TensorCoreKernelBuilder.Build(plan);
        var source = TensorCoreCudaPrinter.Print(kernel);
        var files = ImmutableArray.Create(
            ArtifactFile.Text(KernelFile, source),
            ArtifactFile.Text(ProgramFile, kernel.ToJson() + "\n"));
        var listing = plan.Describe() + "\n" + string.Create(CultureInfo.InvariantCulture,
            $"  at least {plan.PredictedCycles:F0} cycles (mma issue or global-to-shared traffic, whichever is larger)\n\n") + source;
        return new TargetOutput(TensorCoreArtifactExecutor.TargetName, files, listing, plan.PredictedCycles);
    }
}
