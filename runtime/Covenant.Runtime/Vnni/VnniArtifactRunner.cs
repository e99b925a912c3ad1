using Covenant.Acg.Model;
using Covenant.Codelets.Semantics;
using Covenant.Targets.Vnni;

namespace Covenant.Runtime.Vnni;

/// <summary>
/// Runs what <see cref="VnniTarget"/> put in an artifact: the plan file's choices rebuild the same program (so the
/// simulator has it where the CPU lacks VNNI), and the artifact's C must be what that program prints — an artifact
/// compiled by another version of Covenant is refused rather than silently run differently.
/// </summary>
public static class VnniArtifactRunner
{
    public static VnniRunResult Run(
        CodeletInstance instance,
        ArchitectureGraph graph,
        string planJson,
        string? kernelSource,
        IReadOnlyDictionary<string, TensorData> inputs,
        VnniKernelOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(planJson);
        var planOptions = VnniTarget.ReadPlan(planJson) ?? throw new InvalidDataException($"{VnniTarget.PlanFile} holds no plan");
        var planned = VnniKernelPlan.Choose(instance, graph, planOptions);
        if (!planned.Succeeded)
        {
            throw new InvalidDataException($"the artifact's plan does not apply: {string.Join("; ", planned.Diagnostics)}");
        }

        if (kernelSource is not null && kernelSource != VnniTarget.Output(planned.Value).Files.First(f => f.Name == VnniTarget.KernelFile).Text())
        {
            throw new InvalidDataException($"{VnniTarget.KernelFile} differs from the kernel this version of Covenant builds from the plan; recompile the artifact");
        }

        return VnniRunner.Run(planned.Value, inputs, options);
    }

    private static string Text(this Targets.ArtifactFile file) => System.Text.Encoding.UTF8.GetString(file.Contents);
}
