using System.Collections.Immutable;
using Covenant.Acg;
using Covenant.Core.Diagnostics;
using Covenant.Runtime.Execution;

namespace Covenant.Runtime.Vnni;

/// <summary>
/// Runs VNNI artifacts: builds the artifact's C with gcc into a shared library inside the artifact directory and
/// calls it natively where this CPU has the ISA, else executes the same program in <see cref="VnniSimulator"/> and
/// says why in the engine name. Metrics: wall seconds of the kernel call, and the cycles they come to at the YAML's
/// clock. The plan is rebuilt into a program by <paramref name="rebuilder"/>, the compiler's (see <see cref="IVnniPlanRebuilder"/>).
/// </summary>
public sealed class VnniArtifactExecutor(IVnniPlanRebuilder rebuilder) : IArtifactExecutor
{
    public static readonly DiagnosticDescriptor KernelFailed = new("COV6201", "VNNI kernel did not run");

    /// <summary>What an architecture's <c>target:</c> says for VNNI.</summary>
    public const string TargetName = "vnni";

    public string Target => TargetName;

    public Result<Execution.Execution> Execute(LoadedArtifact artifact, IReadOnlyDictionary<string, TensorData> inputs, RunOptions options)
    {
        ArgumentNullException.ThrowIfNull(artifact);
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentNullException.ThrowIfNull(options);
        var location = SourceLocation.OfFile(artifact.Directory);
        string planJson;
        string kernelSource;
        try
        {
            planJson = artifact.Files.ReadText(VnniArtifactFiles.PlanFile);
            kernelSource = artifact.Files.ReadText(VnniArtifactFiles.KernelFile);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return Result<Execution.Execution>.Failure(RunDiagnostics.Broken(location, VnniArtifactFiles.PlanFile, e));
        }

        VnniRunResult result;
        try
        {
            result = VnniArtifactRunner.Run(rebuilder, artifact.Instance, artifact.Graph, planJson, kernelSource, inputs,
                new VnniKernelOptions { ForceSimulator = options.ForceSimulation, BuildDirectory = artifact.Files.Directory });
        }
        catch (Exception e) when (e is InvalidDataException or System.Text.Json.JsonException)
        {
            return Result<Execution.Execution>.Failure(RunDiagnostics.Broken(location, VnniArtifactFiles.PlanFile, e));
        }
        catch (VnniBuildException e)
        {
            return Result<Execution.Execution>.Failure(KernelFailed.Create(location, e.Message));
        }

        var engine = result.Backend == VnniBackend.Native
            ? $"native {artifact.Graph.Name} kernel"
            : $"VNNI instruction simulator ({result.SimulationReason ?? "forced"})";
        double? cycles = result.Backend == VnniBackend.Native && artifact.Graph.ClockHz is { } hz ? result.Seconds * hz : null;
        var metrics = ImmutableDictionary.CreateRange(StringComparer.Ordinal, new Dictionary<string, double>
        {
            ["seconds"] = result.Seconds,
            ["simulatedVectorInstructions"] = result.SimulatedVectorInstructions,
        });
        return Result<Execution.Execution>.Success(new Execution.Execution(
            result.Outputs, engine, cycles, result.Seconds, null, metrics)
        {
            Timing = result.Backend == VnniBackend.Native ? TimingSource.Measured : TimingSource.Simulated,
        });
    }
}
