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
public sealed class VtaArtifactExecutor(VtaSimulatorOptions? options = null) : IDramImageExecutor
{
    public static readonly DiagnosticDescriptor SimulationFailed = new("COV6120", "VTA simulation failed");

    /// <summary>The host's image holds a non-zero byte where the memory map says it must be zero.</summary>
    public static readonly DiagnosticDescriptor PaddingNotZero = new("COV6130", "DRAM padding not zero");

    /// <summary>The memory map's <c>mustBeZero</c> lists are malformed or leave out padding the program reads.</summary>
    public static readonly DiagnosticDescriptor BadZeroRanges = new("COV6131", "memory map's zero ranges are wrong");

    /// <summary>What an architecture's <c>target:</c> says for VTA.</summary>
    public const string TargetName = "vta";

    public string Target => TargetName;

    public ImmutableArray<Diagnostic> Check(LoadedArtifact artifact) => VtaArtifactChecks.Load(artifact).Diagnostics;

    public Result<Execution.Execution> Execute(LoadedArtifact artifact, IReadOnlyDictionary<string, TensorData> inputs, RunOptions runOptions)
    {
        ArgumentNullException.ThrowIfNull(artifact);
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentNullException.ThrowIfNull(runOptions);
        var loaded = VtaArtifactChecks.Load(artifact);
        if (!loaded.Succeeded)
        {
            return Result<Execution.Execution>.Failure(loaded.Diagnostics);
        }

        var program = loaded.Value!;
        var image = BuildImage(artifact, program, inputs, runOptions);
        if (!image.Succeeded)
        {
            return Result<Execution.Execution>.Failure(image.Diagnostics);
        }

        var dram = image.Value!;
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
        var engine = runOptions.DramGarbage ? "VTA simulator, DRAM image garbage except the tensors and the mustBeZero ranges" : "VTA simulator";
        return Result<Execution.Execution>.Success(
            new Execution.Execution(outputs, engine, s.TotalCycles, s.Seconds, s.GemmUtilization, metrics) { Timing = TimingSource.Simulated }, diagnostics);
    }

    /// <summary>
    /// The image the host hands the accelerator: zero-filled, or with <see cref="RunOptions.DramGarbage"/> garbage
    /// everywhere but the tensors and the listed ranges (refused when the lists leave out padding the program reads).
    /// Either way the listed ranges are checked to be zero before the run, as a host with its own buffers must ensure.
    /// </summary>
    private static Result<VtaDram> BuildImage(LoadedArtifact artifact, VtaProgram program, IReadOnlyDictionary<string, TensorData> inputs, RunOptions runOptions)
    {
        var mapFile = SourceLocation.OfFile(Path.Combine(artifact.Directory, VtaProgramFiles.MemoryMapFile));
        if (VtaZeroRanges.FirstMalformed(program.MemoryMap) is { } malformed)
        {
            return Result<VtaDram>.Failure(BadZeroRanges.Create(mapFile, malformed));
        }

        var dram = VtaImage.Build(program, inputs, runOptions.DramGarbage ? runOptions.Seed : null);
        if (runOptions.DramGarbage && VtaZeroRanges.FirstUnlisted(program.MemoryMap, program.Config, program.Instructions) is { } unlisted)
        {
            return Result<VtaDram>.Failure(BadZeroRanges.Create(mapFile, unlisted));
        }

        return VtaZeroRanges.FirstNonZero(program.MemoryMap, dram) is { } dirty
            ? Result<VtaDram>.Failure(PaddingNotZero.Create(SourceLocation.OfFile(artifact.Directory), dirty))
            : Result<VtaDram>.Success(dram);
    }
}
