using Covenant.Acg.Model;
using Covenant.Codelets.Semantics;

namespace Covenant.Runtime.Vnni;

/// <summary>
/// Runs what the VNNI target put in an artifact: the plan file's choices rebuild the same program (so the simulator
/// has it where the CPU lacks VNNI), and the artifact's C must be what that program prints — an artifact compiled by
/// another version of Covenant is refused rather than silently run differently.
/// </summary>
public static class VnniArtifactRunner
{
    public static VnniRunResult Run(
        IVnniPlanRebuilder rebuilder,
        CodeletInstance instance,
        ArchitectureGraph graph,
        string planJson,
        string? kernelSource,
        IReadOnlyDictionary<string, TensorData> inputs,
        VnniKernelOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(rebuilder);
        ArgumentNullException.ThrowIfNull(planJson);
        var kernel = rebuilder.Rebuild(instance, graph, planJson);
        if (kernelSource is not null && kernelSource != kernel.Source)
        {
            throw new InvalidDataException($"{VnniArtifactFiles.KernelFile} differs from the kernel this version of Covenant builds from the plan; recompile the artifact");
        }

        return VnniRunner.Run(kernel, inputs, options);
    }
}
