namespace Covenant.Runtime.Vnni;

/// <summary>
/// The files of a VNNI artifact: the C kernel (<see cref="KernelFile"/>, built with gcc when the artifact runs) and the
/// plan's choices (<see cref="PlanFile"/>), from which the compiler's kernel builder rebuilds the identical program for
/// the simulator (see <see cref="IVnniPlanRebuilder"/>).
/// </summary>
public static class VnniArtifactFiles
{
    public const string KernelFile = "vnni_kernel.c";
    public const string PlanFile = "vnni_plan.json";
}
