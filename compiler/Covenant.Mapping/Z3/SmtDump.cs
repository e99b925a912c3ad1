using System.Globalization;
using System.Text;
using Microsoft.Z3;

namespace Covenant.Mapping.Z3;

/// <summary>
/// Writes solvers' assertions as SMT-LIB2 files into one directory (for <c>--dump-smt DIR</c>), numbered in the
/// order written: <c>0001-label.smt2</c>, <c>0002-label.smt2</c>, ... Each file ends with <c>(check-sat)</c>, so
/// <c>z3 FILE</c> replays the query. The numbering restarts with every instance; files with the same number are
/// overwritten. Thread-safe: each call gets its own number.
/// </summary>
public sealed class SmtDump
{
    private int count;

    public SmtDump(string directory)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(directory);
        DirectoryPath = Path.GetFullPath(directory);
    }

    public string DirectoryPath { get; }

    /// <summary>Files written so far.</summary>
    public int Count => Volatile.Read(ref count);

    /// <summary>
    /// Writes <paramref name="solver"/>'s assertions and returns the file's path. <paramref name="label"/> names the
    /// query in the file name (characters other than letters, digits, '-', '_' and '.' become '_').
    /// </summary>
    public string Write(Solver solver, string label)
    {
        ArgumentNullException.ThrowIfNull(solver);
        ArgumentNullException.ThrowIfNull(label);

        var number = Interlocked.Increment(ref count);
        var name = string.Create(CultureInfo.InvariantCulture, $"{number:D4}-{FileSafe(label)}.smt2");
        var path = Path.Combine(DirectoryPath, name);

        var text = new StringBuilder()
            .Append(CultureInfo.InvariantCulture, $"; Covenant SMT dump {number}: {label.ReplaceLineEndings(" ")}\n")
            .Append(solver.ToString().ReplaceLineEndings("\n").TrimEnd())
            .Append("\n(check-sat)\n")
            .ToString();

        Directory.CreateDirectory(DirectoryPath);
        File.WriteAllText(path, text);
        return path;
    }

    private static string FileSafe(string label)
    {
        var safe = new StringBuilder(label.Length);
        foreach (var c in label)
        {
            safe.Append(char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' ? c : '_');
        }

        return safe.Length == 0 ? "query" : safe.ToString();
    }
}
