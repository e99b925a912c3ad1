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
        var kernel = Rebuild(rebuilder, instance, graph, planJson, kernelSource);
        return VnniRunner.Run(kernel, inputs, options);
    }

    /// <summary>
    /// The kernel the plan builds for this instance and graph, which must print as <paramref name="kernelSource"/> (when
    /// given); throws <see cref="InvalidDataException"/> (or <see cref="System.Text.Json.JsonException"/>) when it does not.
    /// </summary>
    public static VnniKernelSource Rebuild(IVnniPlanRebuilder rebuilder, CodeletInstance instance, ArchitectureGraph graph, string planJson, string? kernelSource)
    {
        ArgumentNullException.ThrowIfNull(rebuilder);
        ArgumentNullException.ThrowIfNull(planJson);
        var kernel = rebuilder.Rebuild(instance, graph, planJson);
        if (kernelSource is not null && kernelSource != kernel.Source)
        {
            throw new InvalidDataException(Stale(kernelSource, kernel.Source, out _));
        }

        return kernel;
    }

    /// <summary>Why an artifact's C that is not <paramref name="rebuilt"/> is refused; <paramref name="line"/> is where they part ways.</summary>
    public static string Stale(string kernelSource, string rebuilt, out int line)
    {
        ArgumentNullException.ThrowIfNull(kernelSource);
        ArgumentNullException.ThrowIfNull(rebuilt);

        // The line an edited plan value or binding shows up on.
        line = kernelSource.Split('\n').Zip(rebuilt.Split('\n')).TakeWhile(pair => pair.First == pair.Second).Count() + 1;
        return $"{VnniArtifactFiles.KernelFile} differs (from line {line} on) from the kernel this version of Covenant builds from " +
            $"{VnniArtifactFiles.PlanFile} for the codelet and the bindings in artifact.json; recompile the artifact";
    }
}
