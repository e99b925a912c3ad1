using Covenant.Core.Diagnostics;

namespace Covenant.Runtime.Vta;

/// <summary>
/// What the VTA simulator reports about a stream (COV61xx, in the runtime's COV6xxx range). Ids are stable.
/// The severity of the hardware-portability checks depends on <see cref="VtaSimulatorOptions.Strict"/>; the
/// descriptors carry their strict severity.
/// </summary>
public static class VtaSimulatorDiagnostics
{
    /// <summary>The stream cannot be executed: undecodable bytes, a field that does not fit, an unknown memory type or ALU opcode.</summary>
    public static readonly DiagnosticDescriptor InvalidInstruction = new("COV6101", "invalid VTA instruction");

    /// <summary>A dependency flag naming a queue the module does not have (load: prev flags; store: next flags).</summary>
    public static readonly DiagnosticDescriptor IllegalDependencyFlag = new("COV6102", "illegal dependency flag");

    /// <summary>No FINISH, FINISH not the last compute instruction, or instructions after FINISH.</summary>
    public static readonly DiagnosticDescriptor FinishPlacement = new("COV6103", "misplaced FINISH");

    /// <summary>FINISH does not wait, through tokens, for the last load and the last store.</summary>
    public static readonly DiagnosticDescriptor FinishDependency = new("COV6104", "FINISH does not depend on the last load/store");

    /// <summary>No module can progress and the stream has not finished.</summary>
    public static readonly DiagnosticDescriptor Deadlock = new("COV6105", "deadlock");

    /// <summary>A token queue is not empty at the end of the run.</summary>
    public static readonly DiagnosticDescriptor LeftoverToken = new("COV6106", "leftover dependency token");

    /// <summary>More tokens can be outstanding in a queue than the hardware FIFO holds (8).</summary>
    public static readonly DiagnosticDescriptor TokenOverflow = new("COV6107", "too many outstanding tokens");

    /// <summary>An SRAM index at or beyond the buffer's depth.</summary>
    public static readonly DiagnosticDescriptor SramOutOfRange = new("COV6108", "SRAM index out of range");

    /// <summary>A DRAM access outside the DRAM image.</summary>
    public static readonly DiagnosticDescriptor DramOutOfRange = new("COV6109", "DRAM access out of range");

    /// <summary>A transfer shape the hardware does not accept: y_size 0 with x_size &gt; 0, a STORE of something other than OUT, a padded STORE.</summary>
    public static readonly DiagnosticDescriptor BadTransfer = new("COV6110", "bad transfer shape");

    /// <summary>A stored ACC row whose last writer is not a non-reset GEMM or an ALU op (on hardware STORE reads OUT, which only those write; vta-isa.md §6.1).</summary>
    public static readonly DiagnosticDescriptor StaleOutRow = new("COV6111", "stored row not written by GEMM/ALU");

    /// <summary>A GEMM/ALU micro-op writing the ACC row one of the previous 2 micro-ops wrote (pipeline hazard on hardware; vta-isa.md §6.6).</summary>
    public static readonly DiagnosticDescriptor PipelineHazard = new("COV6112", "ACC pipeline hazard");

    /// <summary>Valid in the functional simulator only (MUL, ACC_8BIT, SHR outside [0, 31], pads on WGT/UOP loads, 2-D UOP loads; vta-isa.md §6).</summary>
    public static readonly DiagnosticDescriptor NotPortable = new("COV6113", "not portable to VTA hardware");

    /// <summary>Two modules touch the same SRAM row or DRAM bytes, one writing, with no token ordering them.</summary>
    public static readonly DiagnosticDescriptor DataRace = new("COV6114", "data race between modules");

    /// <summary>An SHR by 32 or more bits either way (undefined in the functional simulator).</summary>
    public static readonly DiagnosticDescriptor ShiftOutOfRange = new("COV6115", "shift amount out of range");

    /// <summary>More issues of one kind than <see cref="VtaSimulatorOptions.MaxIssuesPerKind"/>; the rest are counted here.</summary>
    public static readonly DiagnosticDescriptor IssuesSuppressed = new("COV6116", "further issues suppressed", Severity.Note);
}
