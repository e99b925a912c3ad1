using System.Text.Encodings.Web;
using System.Text.Json;
using Covenant.Compiler;
using Covenant.Core.Diagnostics;
using Covenant.Targets;

namespace Covenant.Cli;

/// <summary>
/// Where a command writes (data to <see cref="Out"/>, diagnostics to <see cref="Error"/>) and which targets it knows
/// (<see cref="Targets"/>: <see cref="BuiltinTargets"/> unless a test registers more).
/// </summary>
public sealed class CliContext(TextWriter stdout, TextWriter stderr, RegisteredTargets? targets = null)
{
    public RegisteredTargets Targets { get; } = targets ?? BuiltinTargets.All;

    private static readonly JsonSerializerOptions JsonOptions = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    public TextWriter Out { get; } = stdout;

    public TextWriter Error { get; } = stderr;

    public void Report(Diagnostic diagnostic) => Error.WriteLine(diagnostic.ToString());

    /// <summary>Prints every diagnostic; returns true when any of them is an error.</summary>
    public bool Report(IEnumerable<Diagnostic> diagnostics)
    {
        var failed = false;
        foreach (var diagnostic in diagnostics)
        {
            Report(diagnostic);
            failed |= diagnostic.IsError;
        }

        return failed;
    }

    public void WriteJson<T>(T value) => Out.WriteLine(JsonSerializer.Serialize(value, JsonOptions));

    public static object ToJson(Diagnostic d) => new
    {
        id = d.Id,
        severity = d.Severity.ToString().ToUpperInvariant() switch { "ERROR" => "error", "WARNING" => "warning", _ => "note" },
        file = d.Location?.File,
        line = d.Location is { HasPosition: true } l ? l.Line : (int?)null,
        column = d.Location is { HasPosition: true } c ? c.Column : (int?)null,
        message = d.Message,
    };
}
