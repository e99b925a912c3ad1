using Covenant.Core.Diagnostics;

namespace Covenant.Targets.Vnni;

/// <summary>
/// Diagnostics of the VNNI target (COV52xx). COV521x: the codelet cannot be planned as a VNNI kernel. COV520x (the
/// architecture graph does not describe a VNNI machine) are <c>Covenant.Runtime.Vnni.VnniIsaDiagnostics</c>, where the
/// ISA is read. Ids are stable; never renumber, retire instead.
/// </summary>
public static class VnniDiagnostics
{
    /// <summary>The codelet has no accumulation the kernel can run.</summary>
    public static readonly DiagnosticDescriptor NoAccumulation = new("COV5210", "no multiply-accumulate nest");

    /// <summary>Element types the kernel cannot multiply (it needs u8 or i8 times i8 into i32).</summary>
    public static readonly DiagnosticDescriptor UnsupportedTypes = new("COV5211", "unsupported element types");

    /// <summary>An access pattern the kernel cannot address (an output that is not written exactly once per element...).</summary>
    public static readonly DiagnosticDescriptor UnsupportedAccess = new("COV5212", "unsupported access pattern");

    /// <summary>An epilogue step the kernel cannot fuse.</summary>
    public static readonly DiagnosticDescriptor UnsupportedEpilogue = new("COV5213", "unsupported epilogue");

    /// <summary>A tensor or table too large for the kernel's 32-bit offsets.</summary>
    public static readonly DiagnosticDescriptor TooLarge = new("COV5214", "problem too large");

    /// <summary>A capability whose semantics do not compute the instruction it stands for (<c>VnniArchitectureCheck</c>).</summary>
    public static readonly DiagnosticDescriptor CapabilitySemantics = new("COV5216", "capability semantics differ from the VNNI instruction");

    /// <summary>A capability whose operand types, extents or immediates no instruction of the target has (<c>VnniArchitectureCheck</c>).</summary>
    public static readonly DiagnosticDescriptor CapabilityDeclaration = new("COV5217", "capability is not a VNNI instruction");

    /// <summary>A plan option out of range (register blocking that exceeds the register file...).</summary>
    public static readonly DiagnosticDescriptor BadOption = new("COV5215", "invalid plan option");
}
