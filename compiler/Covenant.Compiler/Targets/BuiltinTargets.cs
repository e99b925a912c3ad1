using Covenant.Acg;
using Covenant.Runtime.Artifacts;
using Covenant.Runtime.TensorCore;
using Covenant.Runtime.Vnni;
using Covenant.Targets.TensorCore;
using Covenant.Targets.Vnni;
using Covenant.Targets.Vta.Lowering;

namespace Covenant.Compiler;

/// <summary>
/// The targets this build ships, one registration each: the only place a new target is added (outside its own folders).
/// The command line, <c>suite</c>, <c>compare</c>, <c>tune</c> and the benchmark read this list.
/// </summary>
public static class BuiltinTargets
{
    public static RegisteredTargets All { get; } = new(
    [
        new(KnownTargets.Vta, "TVM's VTA: LOAD/GEMM/ALU/STORE instruction streams, run on the cycle-counting simulator", new VtaTarget(), new VtaArtifactExecutor(), [new(5000, 5199), new(6100, 6199), new(9501, 9501)]) { CreateMeasurer = VtaSimulatorMeasurer.Create, LowerBound = VtaSimulatorMeasurer.Bound },
        new(KnownTargets.Vnni, "x86 AVX-512 VNNI / AVX-VNNI: C with intrinsics, timed natively where the CPU has it, else simulated", new VnniTarget(), new VnniArtifactExecutor(new VnniPlanRebuilder()), [new(5200, 5299), new(6200, 6299)]),
        new(KnownTargets.TensorCore, "NVIDIA tensor cores: CUDA C++ (mma.sync, ldmatrix, cp.async), run on the warp simulator", new TensorCoreTarget(), new TensorCoreArtifactExecutor(), [new(5300, 5399), new(6300, 6399)]),
    ]);
}
