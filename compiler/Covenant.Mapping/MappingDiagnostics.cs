using Covenant.Core.Diagnostics;

namespace Covenant.Mapping;

/// <summary>Diagnostics of the mapping stage (COV4xxx): why a codelet cannot be mapped onto an architecture.</summary>
public static class MappingDiagnostics
{
    public static readonly DiagnosticDescriptor NoAccumulation = new("COV4001", "no accumulation nest");
    public static readonly DiagnosticDescriptor NoCapability = new("COV4002", "no matching capability");
    public static readonly DiagnosticDescriptor UnsupportedNest = new("COV4003", "nest cannot be placed");
    public static readonly DiagnosticDescriptor UnsupportedEpilogue = new("COV4004", "epilogue cannot be placed");
    public static readonly DiagnosticDescriptor DoesNotFit = new("COV4005", "no tile fits the storage");
    public static readonly DiagnosticDescriptor SolverGaveUp = new("COV4006", "the solver gave up");

    // The GEMM view of a mapping (Model/GemmView.cs), read by every target pass.

    /// <summary>The mapping's nest or capability is not a multiply-accumulate <c>C[..] += A[..] * B[..]</c>.</summary>
    public static readonly DiagnosticDescriptor NotAGemm = new("COV4201", "mapping is not a GEMM");

    /// <summary>The mapping names a nest, loop, tensor, node, capability or operand its codelet instance or graph does not have.</summary>
    public static readonly DiagnosticDescriptor InconsistentMapping = new("COV4202", "mapping inconsistent with its codelet or architecture");

    /// <summary>An epilogue access cannot be rewritten in the main nest's loops.</summary>
    public static readonly DiagnosticDescriptor EpilogueNotComposable = new("COV4203", "epilogue access not expressible in the main nest");
}
