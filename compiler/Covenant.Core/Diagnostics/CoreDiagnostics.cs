namespace Covenant.Core.Diagnostics;

/// <summary>Diagnostics about files and the command line (COV0xxx), and internal errors (COV9xxx).</summary>
public static class CoreDiagnostics
{
    public static readonly DiagnosticDescriptor FileNotFound = new("COV0001", "file not found");
    public static readonly DiagnosticDescriptor FileUnreadable = new("COV0002", "file cannot be read");
    public static readonly DiagnosticDescriptor BadOption = new("COV0003", "bad command-line value");
    public static readonly DiagnosticDescriptor OutputNotWritable = new("COV0004", "output cannot be written");

    /// <summary>An exception escaped a stage: always a bug in Covenant, never the user's fault.</summary>
    public static readonly DiagnosticDescriptor InternalError = new("COV9001", "internal compiler error");
}
