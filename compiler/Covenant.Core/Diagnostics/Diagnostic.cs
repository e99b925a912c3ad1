namespace Covenant.Core.Diagnostics;

public enum Severity
{
    Error,
    Warning,
    Note,
}

/// <summary>
/// One message for the user. Ids are stable (tests and users match on them); see
/// <see cref="DiagnosticDescriptor"/> for where each range is defined.
/// Printed as <c>file(line,col): error COV1234: message</c>.
/// </summary>
public sealed record Diagnostic(DiagnosticDescriptor Descriptor, SourceLocation? Location, string Message)
{
    public string Id => Descriptor.Id;

    public Severity Severity => Descriptor.Severity;

    public bool IsError => Severity == Severity.Error;

    public override string ToString()
    {
        var severity = Severity switch
        {
            Severity.Error => "error",
            Severity.Warning => "warning",
            _ => "note",
        };
        return Location is null
            ? $"{severity} {Id}: {Message}"
            : $"{Location}: {severity} {Id}: {Message}";
    }
}
