using Covenant.Runtime.Artifacts;
using Covenant.Runtime.Execution;
using Covenant.Runtime.TensorCore;
using Covenant.Runtime.Vnni;
using Covenant.Targets;
using Covenant.Targets.TensorCore;
using Covenant.Targets.Vnni;
using Covenant.Targets.Vta.Lowering;

namespace Covenant.Cli;

/// <summary>The one place where the command line learns which target passes and executors exist.</summary>
public static class CliTargets
{
    public static TargetRegistry Registry { get; } = new([new VtaTarget(), new VnniTarget(), new TensorCoreTarget()]);

    public static IReadOnlyList<IArtifactExecutor> Executors { get; } = [new VtaArtifactExecutor(), new VnniArtifactExecutor(new VnniPlanRebuilder()), new TensorCoreArtifactExecutor()];
}
