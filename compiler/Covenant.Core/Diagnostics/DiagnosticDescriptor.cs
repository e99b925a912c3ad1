namespace Covenant.Core.Diagnostics;

/// <summary>
/// The identity of a kind of diagnostic. Id ranges, one per stage, so ids stay stable as stages grow:
/// COV0xxx command line and files, COV1xxx architecture graphs (YAML), COV2xxx codelet syntax,
/// COV3xxx codelet checking and instantiation, COV4xxx mapping, COV5xxx targets, COV6xxx runtime,
/// COV9xxx internal errors (bugs in Covenant, never the user's fault).
/// </summary>
public sealed record DiagnosticDescriptor(string Id, string Title, Severity Severity = Severity.Error)
{
    public Diagnostic Create(SourceLocation? location, string message) => new(this, location, message);
}
