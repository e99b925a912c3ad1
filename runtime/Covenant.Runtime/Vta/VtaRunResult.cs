using System.Collections.Immutable;
using System.Globalization;
using System.Text;
using Covenant.Core.Diagnostics;

namespace Covenant.Runtime.Vta;

/// <summary>Which implementation runs GEMM micro-ops. All give identical results; <see cref="Auto"/> picks the fastest the CPU supports.</summary>
public enum VtaGemmKernel
{
    Auto,

    /// <summary><c>vpmaddwd</c> on int16 pairs (x86 with AVX2, BLOCK_OUT a multiple of 8, BLOCK_IN even).</summary>
    Avx2,

    /// <summary>Portable <see cref="System.Numerics.Vector{T}"/> int32 multiply-adds (BLOCK_OUT a multiple of the vector width).</summary>
    Vector,

    /// <summary>Plain scalar loops: the reference the others are tested against.</summary>
    Scalar,
}

/// <summary>How strictly the simulator judges a stream.</summary>
public sealed record VtaSimulatorOptions
{
    public static VtaSimulatorOptions Default { get; } = new();

    /// <summary>
    /// Streams must also be valid on VTA hardware (vta-isa.md §6): MUL, ACC_8BIT, SHR amounts outside [0, 31],
    /// pads on WGT/UOP loads, 2-D UOP loads, stored rows not last written by GEMM/ALU, ACC pipeline hazards and
    /// more than <see cref="TokenQueueDepth"/> outstanding tokens are errors. Off: they are warnings and the
    /// functional simulator's semantics apply. On by default, since Covenant's streams must run on hardware.
    /// </summary>
    public bool Strict { get; init; } = true;

    /// <summary>Report reads and writes of the same SRAM row or DRAM bytes by two modules that no token orders.</summary>
    public bool CheckRaces { get; init; } = true;

    /// <summary>Keep the start and end cycle of every instruction in <see cref="VtaRunResult.Trace"/>.</summary>
    public bool RecordTrace { get; init; }

    /// <summary>The hardware token FIFO depth (8 in the HLS design).</summary>
    public int TokenQueueDepth { get; init; } = VtaDependencyRules.QueueDepth;

    /// <summary>The GEMM implementation; a kernel the CPU or configuration cannot run falls back to the next portable one.</summary>
    public VtaGemmKernel GemmKernel { get; init; }

    /// <summary>Issues of one kind kept in the result; further ones are only counted.</summary>
    public int MaxIssuesPerKind { get; init; } = 10;
}

/// <summary>One problem found in a stream, with the instruction it concerns (index in the stream and listing).</summary>
public sealed record VtaIssue(DiagnosticDescriptor Descriptor, Severity Severity, string Message, int? InstructionIndex = null, string? Instruction = null)
{
    public string Id => Descriptor.Id;

    public bool IsError => Severity == Severity.Error;

    /// <summary>The message with the instruction in front: <c>instruction #3 (GEMM ...): ...</c>.</summary>
    public string Text => InstructionIndex is { } i ? $"instruction #{i} ({Instruction}): {Message}" : Message;

    public Diagnostic ToDiagnostic() => (Descriptor with { Severity = Severity }).Create(null, Text);

    public override string ToString() => ToDiagnostic().ToString();
}

/// <summary>What one module did: instructions run, cycles busy, cycles waiting for tokens, and when it finished.</summary>
public sealed record VtaModuleStatistics(int Instructions, long BusyCycles, long StallCycles, long EndCycle);

/// <summary>One instruction's time on its module.</summary>
public readonly record struct VtaTraceEntry(int Index, VtaModule Module, long StartCycle, long EndCycle);

/// <summary>
/// Counters and cycles of one run. The byte and micro-op counters match the functional simulator's
/// (<c>vta.testing.simulator.stats()</c>: inp/wgt/acc/uop load bytes, out store bytes, gemm_counter, alu_counter).
/// </summary>
public sealed record VtaStatistics
{
    /// <summary>Cycles until the last module finished.</summary>
    public long TotalCycles { get; init; }

    public required VtaModuleStatistics Load { get; init; }

    public required VtaModuleStatistics Compute { get; init; }

    public required VtaModuleStatistics Store { get; init; }

    /// <summary>Cycles the compute module spent in GEMM instructions (resets and pipeline overheads included).</summary>
    public long GemmCoreBusyCycles { get; init; }

    /// <summary>Cycles of multiply-accumulate micro-ops: gemm_counter × GEMM interval.</summary>
    public long GemmUopCycles { get; init; }

    /// <summary>GEMM micro-op cycles / total cycles.</summary>
    public double GemmUtilization => TotalCycles == 0 ? 0 : (double)GemmUopCycles / TotalCycles;

    public long AluBusyCycles { get; init; }

    /// <summary>Non-reset GEMM micro-ops executed (the fsim's gemm_counter).</summary>
    public long GemmCounter { get; init; }

    public long GemmResetCounter { get; init; }

    /// <summary>ALU micro-ops executed (the fsim's alu_counter).</summary>
    public long AluCounter { get; init; }

    /// <summary>Multiply-accumulates: gemm_counter × BATCH × BLOCK_IN × BLOCK_OUT.</summary>
    public long Macs { get; init; }

    /// <summary>Bytes read from DRAM per memory type (x_size·y_size·element bytes; padding is not counted).</summary>
    public long UopLoadBytes { get; init; }

    public long InpLoadBytes { get; init; }

    public long WgtLoadBytes { get; init; }

    public long AccLoadBytes { get; init; }

    public long Acc8BitLoadBytes { get; init; }

    public long OutStoreBytes { get; init; }

    /// <summary>SRAM elements written as padding (no DRAM traffic).</summary>
    public long PaddedElements { get; init; }

    public int InstructionsExecuted { get; init; }

    /// <summary>The most tokens that were outstanding in each queue (indexed by <see cref="VtaQueue"/>) in the simulated schedule.</summary>
    public ImmutableArray<int> MaxOutstandingTokens { get; init; } = [0, 0, 0, 0];

    /// <summary>The most tokens that could be outstanding in each queue in any schedule the tokens allow.</summary>
    public ImmutableArray<int> WorstCaseOutstandingTokens { get; init; } = [0, 0, 0, 0];

    /// <summary>The configuration's clock, when known.</summary>
    public double? ClockHz { get; init; }

    public double? Seconds => ClockHz is { } hz && hz > 0 ? TotalCycles / hz : null;

    /// <summary>Host time the simulation took.</summary>
    public TimeSpan WallTime { get; init; }

    /// <summary>Simulated multiply-accumulates per host second.</summary>
    public double SimulatedMacsPerSecond => WallTime.TotalSeconds > 0 ? Macs / WallTime.TotalSeconds : 0;

    public long DramBytes => UopLoadBytes + InpLoadBytes + WgtLoadBytes + AccLoadBytes + Acc8BitLoadBytes + OutStoreBytes;

    public override string ToString()
    {
        var text = new StringBuilder();
        var c = CultureInfo.InvariantCulture;
        text.AppendLine(c, $"cycles {TotalCycles}{(Seconds is { } s ? $" ({s * 1e6:0.###} us)" : "")}, GEMM utilization {GemmUtilization:P1}");
        foreach (var (name, m) in new[] { ("load", Load), ("compute", Compute), ("store", Store) })
        {
            text.AppendLine(c, $"  {name,-7} {m.Instructions} instructions, busy {m.BusyCycles}, stalled {m.StallCycles}, done at {m.EndCycle}");
        }

        text.AppendLine(c, $"  gemm_counter {GemmCounter} ({Macs} MACs), resets {GemmResetCounter}, alu_counter {AluCounter}");
        text.Append(c, $"  bytes: uop {UopLoadBytes}, inp {InpLoadBytes}, wgt {WgtLoadBytes}, acc {AccLoadBytes}, acc8 {Acc8BitLoadBytes}, out {OutStoreBytes}; padded elements {PaddedElements}");
        return text.ToString();
    }
}

/// <summary>The outcome of one run: issues (errors stop nothing unless they make execution impossible), statistics and an optional trace.</summary>
public sealed record VtaRunResult(
    ImmutableArray<VtaIssue> Issues,
    VtaStatistics Statistics,
    ImmutableArray<VtaTraceEntry> Trace,
    bool Completed)
{
    /// <summary>Every instruction ran, FINISH was reached, and no error was found.</summary>
    public bool Succeeded => Completed && !Issues.Any(i => i.IsError);

    public IEnumerable<VtaIssue> Errors => Issues.Where(i => i.IsError);

    public IEnumerable<VtaIssue> Warnings => Issues.Where(i => i.Severity == Severity.Warning);

    public ImmutableArray<Diagnostic> Diagnostics => [.. Issues.Select(i => i.ToDiagnostic())];

    /// <summary>This result, or a <see cref="VtaSimulationException"/> listing the errors when it did not succeed.</summary>
    public VtaRunResult ThrowIfFailed()
    {
        if (!Succeeded)
        {
            var errors = Errors.ToList();
            var text = errors.Count == 0 ? "the stream did not finish" : string.Join("\n", errors);
            throw new VtaSimulationException($"VTA simulation failed:\n{text}") { Issues = Issues };
        }

        return this;
    }
}

/// <summary>A stream the simulator rejected; <see cref="Issues"/> says why, instruction by instruction.</summary>
public sealed class VtaSimulationException : Exception
{
    public VtaSimulationException()
    {
    }

    public VtaSimulationException(string message)
        : base(message)
    {
    }

    public VtaSimulationException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public ImmutableArray<VtaIssue> Issues { get; init; } = [];
}
