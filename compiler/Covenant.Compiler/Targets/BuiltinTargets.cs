using Covenant.Targets;
using Covenant.Targets.TensorCore;
using Covenant.Targets.Vnni;
using Covenant.Targets.Vta.Lowering;

namespace Covenant.Compiler;

/// <summary>
/// The targets this build ships: the only line a new target adds outside its own folders (its pass, executor, measurer,
/// bounds, diagnostic ids and --help line are its <see cref="TargetRegistration"/>, built in its folder). The command
/// line, <c>suite</c>, <c>compare</c>, <c>tune</c> and the benchmark read this list.
/// </summary>
public static class BuiltinTargets
{
    public static RegisteredTargets All { get; } = new(
    [
        VtaTarget.Registration,
        VnniTarget.Registration,
        TensorCoreTarget.Registration,
    ]);
}
