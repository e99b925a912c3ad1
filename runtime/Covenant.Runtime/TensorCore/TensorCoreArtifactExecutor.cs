using System.Collections.Immutable;
using System.Text.Json;
using Covenant.Core.Diagnostics;
using Covenant.Runtime.Artifacts;
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
        var kernel = Load(artifact);
        return kernel.Succeeded
            ? Simulate(kernel.Value!, inputs, SourceLocation.OfFile(artifact.Directory), artifact.Manifest.PredictedCycles)
            : Result<Execution.Execution>.Failure(kernel.Diagnostics);
    }

    public ImmutableArray<Diagnostic> Check(LoadedArtifact artifact) => Load(artifact).Diagnostics;

    /// <summary>
    /// The artifact's program, checked (<see cref="TensorCoreProgramChecks"/>) against its codelet instance, and its CUDA
    /// compared with what the program prints (so the simulated stream is the one a GPU would run).
    /// </summary>
    private static Result<TensorCoreKernel> Load(LoadedArtifact artifact)
    {
        ArgumentNullException.ThrowIfNull(artifact);
        var location = SourceLocation.OfFile(artifact.Directory);
        var check = new ArtifactFileCheck(artifact.Files, TensorCoreArtifactFiles.ProgramFile);
        try
        {
            var kernel = check.Read<TensorCoreKernel>(artifact.Files.ReadBytes(TensorCoreArtifactFiles.ProgramFile), TensorCoreKernel.Json);
            if (kernel is not null
                && check.Require(kernel.Version == TensorCoreKernel.FormatVersion, "$.version", $"program format {kernel.Version} is not {TensorCoreKernel.FormatVersion}")
                && check.Require(!kernel.Tensors.IsDefault, "$.tensors", "the program has no tensors")
                && check.Require(!kernel.Registers.IsDefault, "$.registers", "the program has no registers")
                && check.Require(!kernel.Body.IsDefault, "$.body", "the program has no body"))
            {
                TensorCoreProgramChecks.Check(kernel, artifact.Instance, check);
            }

            if (check.Failed)
            {
                return Result<TensorCoreKernel>.Failure(check.Problems);
            }

            var source = artifact.Files.ReadText(TensorCoreArtifactFiles.KernelFile);
            var printed = TensorCoreCudaPrinter.Print(kernel!);
            if (source == printed)
            {
                return Result<TensorCoreKernel>.Success(kernel!);
            }

            // Where the CUDA and the program part ways: the line of the CUDA the edited value is printed on.
            var line = source.Split('\n').Zip(printed.Split('\n')).TakeWhile(pair => pair.First == pair.Second).Count() + 1;
            var cuda = SourceLocation.OfFile(Path.Combine(artifact.Directory, TensorCoreArtifactFiles.KernelFile)) with { Line = line, Column = 1 };
            return Result<TensorCoreKernel>.Failure(TensorCoreSimulatorDiagnostics.StaleArtifact.Create(cuda,
                $"{TensorCoreArtifactFiles.KernelFile} is not what {TensorCoreArtifactFiles.ProgramFile} prints (from line {line} on); recompile the artifact"));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return Result<TensorCoreKernel>.Failure(RunDiagnostics.Broken(location, TensorCoreArtifactFiles.ProgramFile, e));
        }
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
