namespace Covenant.Runtime.TensorCore;

/// <summary>
/// The files of a TensorCore artifact: the CUDA (<see cref="KernelFile"/>) and the block's instruction stream as JSON
/// (<see cref="ProgramFile"/>, a <see cref="TensorCoreKernel"/>), which the warp simulator executes after checking that
/// the CUDA is what that stream prints.
/// </summary>
public static class TensorCoreArtifactFiles
{
    public const string KernelFile = "tensorcore_kernel.cu";
    public const string ProgramFile = "tensorcore_program.json";
}
