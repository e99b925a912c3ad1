using Covenant.Core.Diagnostics;

namespace Covenant.Runtime.Vta;

/// <summary>
/// Diagnostics of the VTA target (COV5xxx). COV50xx: the architecture graph does not describe a VTA the
/// target pass can emit for. Ids are stable; never renumber, retire instead.
/// </summary>
public static class VtaDiagnostics
{
    /// <summary>The graph's <c>target:</c> is not <c>vta</c>.</summary>
    public static readonly DiagnosticDescriptor NotVtaTarget = new("COV5001", "not a VTA architecture");

    /// <summary>No capability of the form <c>acc[i, j] += inp[i, k] * wgt[j, k]</c>.</summary>
    public static readonly DiagnosticDescriptor NoGemmCapability = new("COV5002", "no VTA GEMM capability");

    /// <summary>A GEMM-like capability whose operands are not arranged as VTA's (weights not [out][in]...).</summary>
    public static readonly DiagnosticDescriptor GemmForm = new("COV5003", "GEMM capability not in VTA form");

    /// <summary>A buffer VTA needs is missing, or has no element layout / row size.</summary>
    public static readonly DiagnosticDescriptor MissingBuffer = new("COV5004", "missing VTA buffer");

    /// <summary>A buffer's element (row) disagrees with the GEMM shape or operand type.</summary>
    public static readonly DiagnosticDescriptor BufferElement = new("COV5005", "buffer element does not match the GEMM");

    /// <summary>A buffer whose capacity is not a power-of-two number of rows.</summary>
    public static readonly DiagnosticDescriptor BufferDepth = new("COV5006", "buffer depth not supported");

    /// <summary>One of the DRAM transfers (<c>vta.load.inp</c>...) is missing.</summary>
    public static readonly DiagnosticDescriptor MissingTransfer = new("COV5007", "missing VTA transfer");

    /// <summary>A transfer connects the wrong nodes, or has no usable bandwidth.</summary>
    public static readonly DiagnosticDescriptor TransferEndpoints = new("COV5008", "VTA transfer connects the wrong nodes");

    /// <summary>Element types the VTA target cannot emit for (it supports int8 inputs and weights, int32 accumulators).</summary>
    public static readonly DiagnosticDescriptor UnsupportedType = new("COV5009", "unsupported VTA element type");

    /// <summary>The derived bit fields do not fit a 128-bit instruction or a 32-bit micro-op.</summary>
    public static readonly DiagnosticDescriptor FieldsDoNotFit = new("COV5010", "VTA instruction fields do not fit");

    /// <summary>No ALU capability on the accumulator buffer, or one whose lanes differ from the accumulator row.</summary>
    public static readonly DiagnosticDescriptor AluForm = new("COV5011", "missing or mismatched VTA ALU");

    /// <summary>A cost (interval, bandwidth) that the timing model cannot use.</summary>
    public static readonly DiagnosticDescriptor BadCost = new("COV5012", "unusable VTA cost");
}
