using Covenant.Core.Diagnostics;

namespace Covenant.Runtime.Vnni;

/// <summary>
/// Diagnostics of reading a VNNI ISA from an architecture graph (COV520x: the graph does not describe a VNNI
/// machine). The rest of the COV52xx range is the VNNI target's, in <c>Covenant.Targets.Vnni.VnniDiagnostics</c>.
/// Ids are stable; never renumber, retire instead.
/// </summary>
public static class VnniIsaDiagnostics
{
    /// <summary>The graph's <c>target:</c> is not <c>vnni</c>.</summary>
    public static readonly DiagnosticDescriptor NotVnniTarget = new("COV5201", "not a VNNI architecture");

    /// <summary>No capability <c>c[j] += a[k] * b[j, k]</c> with u8 a, i8 b, i32 c and k = 4.</summary>
    public static readonly DiagnosticDescriptor NoDotProduct = new("COV5202", "no vpdpbusd capability");

    /// <summary>The register file, L1 or L2 the plan needs is missing or has no usable capacity.</summary>
    public static readonly DiagnosticDescriptor MissingStorage = new("COV5203", "missing VNNI storage level");

    /// <summary>The lane count is neither 16 (zmm) nor 8 (ymm).</summary>
    public static readonly DiagnosticDescriptor UnsupportedWidth = new("COV5204", "unsupported vector width");
}
