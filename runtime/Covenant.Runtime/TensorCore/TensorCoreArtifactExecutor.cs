using System.Collections.Immutable;
using System.Text.Json;
using Covenant.Core.Diagnostics;
using Covenant.Runtime.Execution;

namespace Covenant.Runtime.TensorCore;

/// <summary>
/// Runs TensorCore artifacts on the <see cref="TensorCoreSimulator"/>: reads the program the target wrote
/// (<see cref="TensorCoreArtifactFiles.ProgramFile"/>), refuses the artifact when its CUDA (<see cref="TensorCoreArtifactFiles.KernelFile"/>) is
/// not what that program prints (so the simulated stream is the one a GPU would run), and simulates every block. No
/// GPU is used; see tools/tensorcore/gpu-check.sh for running the CUDA on one. The cycles are the target's prediction
/// (the simulator is functional, not timed).
/// </summary>
public sealed class TensorCoreArtifactExecutor : IArtifactExecutor
{
    public const string EngineName = "TensorCore warp simulator";

    /// <summary>What an architecture's <c>target:</c> says for tensor cores.</summary>
    public const string TargetName = "tensorcore";

    public string Target => TargetName;

    public Result<Execution.Execution> Execute(LoadedArtifact artifact, IReadOnlyDictionary<string, TensorData> inputs, RunOptions options)
    {
        ArgumentNullException.ThrowIfNull(artifact);
        ArgumentNullException.ThrowIfNull(inputs);
        var location = SourceLocation.OfFile(artifact.Directory);
        TensorCoreKernel kernel;
        try
        {
            kernel = TensorCoreKernel.FromJson(artifact.Files.ReadText(TensorCoreArtifactFiles.ProgramFile));
            var source = artifact.Files.ReadText(TensorCoreArtifactFiles.KernelFile);
            if (source != TensorCoreCudaPrinter.Print(kernel))
            {
                return Result<Execution.Execution>.Failure(TensorCoreSimulatorDiagnostics.StaleArtifact.Create(location,
                    $"{TensorCoreArtifactFiles.KernelFile} is not what {TensorCoreArtifactFiles.ProgramFile} prints; recompile the artifact"));
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or JsonException or InvalidDataException or NotSupportedException)
        {
            return Result<Execution.Execution>.Failure(RunDiagnostics.Broken(location, TensorCoreArtifactFiles.ProgramFile, e));
        }

        return Simulate(kernel, inputs, location, artifact.Manifest.PredictedCycles);
    }

    /// <summary>Simulates a program, turning simulation errors into diagnostics.</summary>
    public static Result<Execution.Execution> Simulate(TensorCoreKernel kernel, IReadOnlyDictionary<string, TensorData> inputs, SourceLocation? location = null, double? predictedCycles = null)
    {
        ArgumentNullException.ThrowIfNull(kernel);
        TensorCoreRunResult result;
        try
        {
            result = new TensorCoreSimulator(kernel).Run(inputs);
        }
        catch (TensorCoreSimulationException e)
        {
            return Result<Execution.Execution>.Failure(e.Descriptor.Create(location, e.Message));
        }
        catch (InvalidDataException e)
        {
            return Result<Execution.Execution>.Failure(TensorCoreSimulatorDiagnostics.SimulationFailed.Create(location, e.Message));
        }

        var s = result.Statistics;
        var metrics = ImmutableDictionary.CreateRange(StringComparer.Ordinal, new Dictionary<string, double>
        {
            ["blocks"] = s.Blocks,
            ["mma"] = s.Mma,
            ["ldmatrix"] = s.LdMatrix,
            ["ldmatrixBankConflictWavefronts"] = s.BankConflictWavefronts,
            ["cpAsyncBytes"] = s.CpAsyncBytes,
            ["elementCopies"] = s.ElementCopies,
            ["barriers"] = s.Barriers,
            ["stores"] = s.Stores,
        });
        return Result<Execution.Execution>.Success(new Execution.Execution(result.Outputs, EngineName, predictedCycles, null, null, metrics) { Timing = TimingSource.Simulated });
    }
}
