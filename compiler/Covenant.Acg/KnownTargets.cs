namespace Covenant.Acg;

/// <summary>
/// The names of the shipped targets, for code that means one of them. This is not the list of targets: any name may
/// appear in <c>target:</c>; which ones this build can compile for is the compiler's registry (Covenant.Compiler's
/// <c>BuiltinTargets</c>), checked by <see cref="TargetNameCheck"/> where that registry is known.
/// </summary>
public static class KnownTargets
{
    /// <summary>TVM's Versatile Tensor Accelerator (LOAD/STORE/GEMM/ALU instruction streams).</summary>
    public const string Vta = "vta";

    /// <summary>x86 with AVX-512 VNNI or AVX-VNNI (<c>vpdpbusd</c>), emitted as C with intrinsics.</summary>
    public const string Vnni = "vnni";

    /// <summary>NVIDIA tensor cores (<c>mma.sync</c>, <c>ldmatrix</c>, <c>cp.async</c>), emitted as CUDA C++.</summary>
    public const string TensorCore = "tensorcore";
}
