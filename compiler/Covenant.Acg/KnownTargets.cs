namespace Covenant.Acg;

/// <summary>
/// The target passes an architecture's <c>target:</c> key may name. This is the one list: the loader
/// validates against it and the documentation points here, so adding a target pass means adding its name here.
/// </summary>
public static class KnownTargets
{
    /// <summary>TVM's Versatile Tensor Accelerator (LOAD/STORE/GEMM/ALU instruction streams).</summary>
    public const string Vta = "vta";

    /// <summary>x86 with AVX-512 VNNI or AVX-VNNI (<c>vpdpbusd</c>), emitted as C with intrinsics.</summary>
    public const string Vnni = "vnni";

    /// <summary>NVIDIA tensor cores (<c>mma.sync</c>, <c>ldmatrix</c>, <c>cp.async</c>), emitted as CUDA C++.</summary>
    public const string TensorCore = "tensorcore";

    public static readonly IReadOnlyList<string> All = [Vta, Vnni, TensorCore];

    public static bool IsKnown(string name) => All.Contains(name, StringComparer.Ordinal);
}
