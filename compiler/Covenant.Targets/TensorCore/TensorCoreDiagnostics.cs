using Covenant.Core.Diagnostics;

namespace Covenant.Targets.TensorCore;

/// <summary>
/// Diagnostics of the TensorCore target (COV53xx). COV530x: the architecture or capability is not a tensor-core
/// mma; COV531x: the mapping cannot be lowered to an implicit-GEMM kernel. Ids are stable; never renumber, retire
/// instead. The runtime's warp simulator uses COV63xx (see Covenant.Runtime.TensorCore).
/// </summary>
public static class TensorCoreDiagnostics
{
    /// <summary>The graph's <c>target:</c> is not <c>tensorcore</c>.</summary>
    public static readonly DiagnosticDescriptor NotTensorCoreTarget = new("COV5301", "not a TensorCore architecture");

    /// <summary>The mapped capability is not one of the two mma shapes this target issues.</summary>
    public static readonly DiagnosticDescriptor UnsupportedCapability = new("COV5302", "unsupported mma capability");

    /// <summary>A storage level the kernel needs (shared memory, registers) is missing.</summary>
    public static readonly DiagnosticDescriptor MissingStorage = new("COV5303", "missing TensorCore storage level");

    /// <summary>An mma capability whose semantics do not compute the mma.sync it stands for (<c>TensorCoreArchitectureCheck</c>).</summary>
    public static readonly DiagnosticDescriptor CapabilitySemantics = new("COV5304", "capability semantics differ from mma.sync");

    /// <summary>The codelet has no accumulation the kernel can run, or its output is not written once per element.</summary>
    public static readonly DiagnosticDescriptor UnsupportedAccess = new("COV5310", "unsupported access pattern");

    /// <summary>An epilogue step: the tensor-core graphs have no element-wise unit to place one on.</summary>
    public static readonly DiagnosticDescriptor UnsupportedEpilogue = new("COV5311", "unsupported epilogue");

    /// <summary>A tensor or grid too large for the kernel's 32-bit offsets or CUDA's grid limits.</summary>
    public static readonly DiagnosticDescriptor TooLarge = new("COV5312", "problem too large");

    /// <summary>A plan option out of range (a tile that does not fit shared memory or the register file...).</summary>
    public static readonly DiagnosticDescriptor BadOption = new("COV5313", "invalid plan option");
}
