using Covenant.Core.Diagnostics;

namespace Covenant.Targets.Vta.Lowering;

/// <summary>
/// Diagnostics of the VTA lowering (COV51xx): a mapping the lowering cannot turn into a VTA stream, with the
/// reason. Ids are stable; never renumber, retire instead.
/// </summary>
public static class VtaLoweringDiagnostics
{
    /// <summary>The mapping is inconsistent with its codelet instance or architecture (a loop without a mapping, an unknown tensor...).</summary>
    public static readonly DiagnosticDescriptor InvalidMapping = new("COV5101", "invalid mapping");

    /// <summary>The main nest is not an accumulation <c>Acc[..] += A[..] * B[..]</c> the GEMM can run.</summary>
    public static readonly DiagnosticDescriptor UnsupportedNest = new("COV5102", "nest not supported by the VTA lowering");

    /// <summary>An index expression the VTA data layout cannot express (a negative coefficient, an axis loop with a stride...).</summary>
    public static readonly DiagnosticDescriptor UnsupportedIndex = new("COV5103", "index not supported by the VTA lowering");

    /// <summary>A tile whose footprint does not fit its on-chip buffer.</summary>
    public static readonly DiagnosticDescriptor TileTooLarge = new("COV5104", "tile does not fit its buffer");

    /// <summary>An epilogue step the VTA ALU cannot perform (an immediate out of range, an operand that varies across lanes...).</summary>
    public static readonly DiagnosticDescriptor UnsupportedEpilogue = new("COV5105", "epilogue not supported");

    /// <summary>A tensor type VTA cannot load or store (floats, an 8-bit accumulator...).</summary>
    public static readonly DiagnosticDescriptor UnsupportedType = new("COV5106", "element type not supported");

    /// <summary>A scatter into the accumulator (several iterations add to one element) split across tiles: partial sums cannot leave the chip.</summary>
    public static readonly DiagnosticDescriptor ScatterAcrossTiles = new("COV5107", "scatter output split across tiles");

    /// <summary>The configuration is one the lowering does not handle (BATCH > 1...).</summary>
    public static readonly DiagnosticDescriptor UnsupportedConfig = new("COV5108", "VTA configuration not supported");

    /// <summary>The physical base of the DRAM image is not aligned.</summary>
    public static readonly DiagnosticDescriptor BadPhysicalBase = new("COV5109", "unaligned DRAM base");

    /// <summary>The layer's tensors need a DRAM image larger than an artifact may hold.</summary>
    public static readonly DiagnosticDescriptor ImageTooLarge = new("COV5112", "DRAM image too large");

    /// <summary>A capability whose semantics do not compute the VTA instruction it stands for (<c>VtaArchitectureCheck</c>).</summary>
    public static readonly DiagnosticDescriptor CapabilitySemantics = new("COV5110", "capability semantics differ from the VTA instruction");

    /// <summary>A capability whose operand types, extents or immediates no VTA instruction has (<c>VtaArchitectureCheck</c>).</summary>
    public static readonly DiagnosticDescriptor CapabilityDeclaration = new("COV5111", "capability is not a VTA instruction");

    /// <summary>Something the lowering should always be able to do failed: a bug in Covenant.</summary>
    public static readonly DiagnosticDescriptor InternalError = new("COV9501", "internal error in the VTA lowering");
}
