using System.Text.RegularExpressions;

namespace Covenant.Cli.Tests.Fuzz;

/// <summary>
/// What every fuzz case must hold: covenantc exits 0, 1 or (for <c>run</c>) 2; never an internal error (COV9001, exit 3),
/// never .NET text ("System.", a stack trace); a failure prints at least one error, and every error says where:
/// <c>file(line,col): error COVnnnn: ...</c> in the architecture or codelet it checked, and for <c>run</c> the
/// artifact's folder or a file in it (a JSON file's errors name the file, and the line and column where the reader
/// stopped when it got that far). A freshly compiled artifact of a shipped architecture must run and match.
/// </summary>
public static partial class FuzzOracle
{
    public static IEnumerable<string> Violations(FuzzCase fuzzCase, FuzzStep step)
    {
        ArgumentNullException.ThrowIfNull(fuzzCase);
        ArgumentNullException.ThrowIfNull(step);
        var run = step.Run;
        var command = step.Arguments[0] == "arch" || step.Arguments[0] == "codelet" ? step.Arguments[0] + " check" : step.Arguments[0];
        var all = run.Out + "\n" + run.Error;
        if (run.ExitCode == CovenantCli.InternalError || all.Contains("COV9001", StringComparison.Ordinal))
        {
            yield return $"internal error in {command} {InternalErrorSignature(run.Error)}";
            yield break;
        }

        var allowed = command == "run" ? new[] { 0, 1, 2 } : [0, 1];
        if (!allowed.Contains(run.ExitCode))
        {
            yield return $"{command} exited {run.ExitCode} :: {FirstLine(run.Error, _ => true)}";
        }

        if (all.Contains("System.", StringComparison.Ordinal) || StackFrame().IsMatch(all))
        {
            yield return $".NET text in the output of {command} :: {FirstLine(all, l => l.Contains("System.", StringComparison.Ordinal) || StackFrame().IsMatch(l))}";
        }

        var errors = run.ErrorLines.Where(l => l.Contains("error COV", StringComparison.Ordinal)).ToList();
        if (run.ExitCode == 1 && errors.Count == 0)
        {
            yield return $"{command} failed without an error diagnostic :: {FirstLine(run.Error, _ => true)}";
        }

        foreach (var line in errors)
        {
            if (Unplaced(fuzzCase, command, line) is { } reason)
            {
                yield return $"{command}: {reason} ({IdOf(line)}) :: {line}";
            }
        }

        if (fuzzCase.Kind == FuzzKind.Pair && command == "run" && run.ExitCode != 0 && fuzzCase.ArchitectureShipped)
        {
            yield return run.ExitCode == 2
                ? "a shipped architecture's fresh artifact does not match the reference (a miscompile)"
                : "a shipped architecture's fresh artifact does not run";
        }
    }

    /// <summary>Why an error line does not say where the problem is, or null when it does.</summary>
    private static string? Unplaced(FuzzCase fuzzCase, string command, string line)
    {
        if (command == "compile" && line.StartsWith("error COV0003: ", StringComparison.Ordinal))
        {
            // A bad command-line value (--set, --dram-base) is about no file.
            return null;
        }

        var match = Diagnostic().Match(line);
        if (!match.Success)
        {
            return "not a 'file(line,col): error COVnnnn: message' line";
        }

        var file = match.Groups["file"].Value;
        var positioned = match.Groups["line"].Success;
        switch (command)
        {
            case "arch check":
            case "codelet check":
                var input = command == "arch check" ? fuzzCase.Architecture : fuzzCase.Codelet;
                return file != input ? "the error does not name the checked file" : positioned ? null : "the error has no line and column";
            case "compile":
                return file != fuzzCase.Architecture && file != fuzzCase.Codelet ? "the error names neither the codelet nor the architecture"
                    : positioned ? null : "the error has no line and column";
            default:
                var folder = fuzzCase.Artifact!;
                return file == folder || file.StartsWith(folder + Path.DirectorySeparatorChar, StringComparison.Ordinal)
                    ? null
                    : "the error names neither the artifact folder nor a file in it";
        }
    }

    /// <summary>
    /// The exception's type and the first Covenant frame of its stack, then " :: " and its message: cases with the same
    /// part before " :: " share a cause.
    /// </summary>
    public static string InternalErrorSignature(string error)
    {
        ArgumentNullException.ThrowIfNull(error);
        var message = FirstLine(error, l => l.Contains("COV9001", StringComparison.Ordinal));
        var cut = message.IndexOf("report it with the command line): ", StringComparison.Ordinal);
        message = cut < 0 ? message : message[(cut + "report it with the command line): ".Length)..];
        var type = message.IndexOf(':', StringComparison.Ordinal) is var colon and > 0 ? message[..colon] : "?";
        var frame = FirstLine(error, l => StackFrame().IsMatch(l) && l.Contains("Covenant.", StringComparison.Ordinal)).Trim();
        var inFile = frame.IndexOf(" in /", StringComparison.Ordinal);
        return $"[{type} {(inFile < 0 ? frame : frame[..inFile])}] :: {Shorten(message, 300)}";
    }

    private static string IdOf(string line) => DiagnosticId().Match(line) is { Success: true } m ? m.Value : "no id";

    private static string FirstLine(string text, Func<string, bool> predicate) =>
        text.Split('\n').FirstOrDefault(predicate)?.TrimEnd() ?? "";

    private static string Shorten(string text, int length) => text.Length <= length ? text : text[..length] + "...";

    [GeneratedRegex(@"^(?<file>.+?)(\((?<line>\d+),(?<column>\d+)\))?: error COV\d{4}: \S.*$")]
    private static partial Regex Diagnostic();

    [GeneratedRegex(@"COV\d{4}")]
    private static partial Regex DiagnosticId();

    [GeneratedRegex(@"^\s+at [\w.<>`|$\[\], ]+\(", RegexOptions.Multiline)]
    private static partial Regex StackFrame();
}
