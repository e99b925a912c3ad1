using System.Collections.Immutable;
using Covenant.Acg;
using Covenant.Codelets;
using Covenant.Core.Diagnostics;
using Covenant.Runtime.Execution;

namespace Covenant.Runtime.Vta;

/// <summary>
/// Runs VTA artifacts (<see cref="VtaProgramFiles"/>) on the <see cref="VtaSimulator"/>: packs the inputs per the
/// memory map, simulates, and unpacks the outputs. Simulator errors (a hazard, a race, a token problem) fail the run
/// with their diagnostics; warnings are passed on.
/// </summary>
public sealed class VtaArtifactExecutor(VtaSimulatorOptions? options = null) : IArtifactExecutor
{
    public static readonly DiagnosticDescriptor SimulationFailed = new("COV6120", "VTA simulation failed");

    /// <summary>What an architecture's <c>target:</c> says for VTA.</summary>
    public const string TargetName = "vta";

    public string Target => TargetName;

    public Result<Execution.Execution> Execute(LoadedArtifact artifact, IReadOnlyDictionary<string, TensorData> inputs, RunOptions runOptions)
    {
        ArgumentNullException.ThrowIfNull(artifact);
        ArgumentNullException.ThrowIfNull(inputs);
        VtaProgram program;
        try
        {
            program = VtaProgramFiles.Load(name => artifact.Files.Exists(name) ? artifact.Files.ReadBytes(name) : null);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or System.Text.Json.JsonException or FormatException or InvalidDataException)
        {
            return Result<Execution.Execution>.Failure(RunDiagnostics.Broken(SourceLocation.OfFile(artifact.Directory), "program.json or memory-map.json", e));
        }

        var dram = VtaImage.Build(program, inputs);
        var result = new VtaSimulator(program.Config, options).Run(program.Instructions, dram);
        // The simulator speaks of instruction numbers; its messages are about the artifact's program.bin.
        var programFile = SourceLocation.OfFile(Path.Combine(artifact.Directory, VtaProgramFiles.ProgramFile));
        var diagnostics = result.Diagnostics.Select(d => d.Location is null ? d with { Location = programFile } : d).ToImmutableArray();
        if (!result.Succeeded)
        {
            var reason = result.Errors.FirstOrDefault()?.Text ?? "the stream did not reach FINISH";
            return Result<Execution.Execution>.Failure(diagnostics.Add(SimulationFailed.Create(SourceLocation.OfFile(artifact.Directory), reason)));
        }

        var outputs = new Dictionary<string, TensorData>(StringComparer.Ordinal);
        foreach (var region in program.MemoryMap.Outputs)
        {
            var layout = region.Layout!;
            if (!ElementTypes.TryParse(layout.ElementType, out var type))
            {
                return Result<Execution.Execution>.Failure(RunDiagnostics.BrokenArtifact.Create(SourceLocation.OfFile(artifact.Directory),
                    $"output '{region.Name}' has unknown element type '{layout.ElementType}'"));
            }

            outputs[region.Name] = VtaImage.Unpack(dram.At(region.Address, checked((int)region.SizeBytes)), layout, type);
        }

        var s = result.Statistics;
        var metrics = ImmutableDictionary.CreateRange(StringComparer.Ordinal, new Dictionary<string, double>
        {
            ["loadBusyCycles"] = s.Load.BusyCycles,
            ["computeBusyCycles"] = s.Compute.BusyCycles,
            ["storeBusyCycles"] = s.Store.BusyCycles,
            ["gemmUopCycles"] = s.GemmUopCycles,
            ["aluBusyCycles"] = s.AluBusyCycles,
            ["macs"] = s.Macs,
            ["dramBytes"] = s.DramBytes,
            ["instructions"] = s.InstructionsExecuted,
        });
        return Result<Execution.Execution>.Success(
            new Execution.Execution(outputs, "VTA simulator", s.TotalCycles, s.Seconds, s.GemmUtilization, metrics) { Timing = TimingSource.Simulated }, diagnostics);
    }
}
