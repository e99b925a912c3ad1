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

    public ImmutableArray<Diagnostic> Check(LoadedArtifact artifact) => Rebuild(artifact).Diagnostics;

    /// <summary>The kernel the artifact's plan builds for its instance, which must be the artifact's C; else why not, at the plan file.</summary>
    private Result<VnniKernelSource> Rebuild(LoadedArtifact artifact)
    {
        ArgumentNullException.ThrowIfNull(artifact);
        var plan = SourceLocation.OfFile(Path.Combine(artifact.Directory, VnniArtifactFiles.PlanFile));
        try
        {
            var kernel = VnniArtifactRunner.Rebuild(rebuilder, artifact.Instance, artifact.Graph, artifact.Files.ReadText(VnniArtifactFiles.PlanFile), null);
            var source = artifact.Files.ReadText(VnniArtifactFiles.KernelFile);
            if (source == kernel.Source)
            {
                return Result<VnniKernelSource>.Success(kernel);
            }

            var why = VnniArtifactRunner.Stale(source, kernel.Source, out var line);
            return Result<VnniKernelSource>.Failure(RunDiagnostics.BrokenArtifact.Create(
                SourceLocation.OfFile(Path.Combine(artifact.Directory, VnniArtifactFiles.KernelFile)) with { Line = line, Column = 1 }, why));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return Result<VnniKernelSource>.Failure(RunDiagnostics.BrokenArtifact.Create(plan, e.Message));
        }
        catch (System.Text.Json.JsonException e)
        {
            return Result<VnniKernelSource>.Failure(RunDiagnostics.Broken(SourceLocation.OfFile(artifact.Directory), VnniArtifactFiles.PlanFile, e));
        }
        catch (InvalidDataException e)
        {
            return Result<VnniKernelSource>.Failure(RunDiagnostics.BrokenArtifact.Create(plan, $"{VnniArtifactFiles.PlanFile}: {e.Message}"));
        }
    }

    public Result<Execution.Execution> Execute(LoadedArtifact artifact, IReadOnlyDictionary<string, TensorData> inputs, RunOptions options)
    {
        ArgumentNullException.ThrowIfNull(artifact);
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentNullException.ThrowIfNull(options);
        var kernel = Rebuild(artifact);
        if (!kernel.Succeeded)
        {
            return Result<Execution.Execution>.Failure(kernel.Diagnostics);
        }

        VnniRunResult result;
        try
        {
            result = VnniRunner.Run(kernel.Value!, inputs,
                new VnniKernelOptions { ForceSimulator = options.ForceSimulation, BuildDirectory = artifact.Files.Directory });
        }
        catch (VnniBuildException e)
        {
            return Result<Execution.Execution>.Failure(KernelFailed.Create(SourceLocation.OfFile(artifact.Directory), e.Message));
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
