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
}
