using System.Globalization;
using Covenant.Core.Diagnostics;

namespace Covenant.Codelets.Parsing;

/// <summary>
/// The state of one parse: the text, how offsets map to file locations, the farthest point any token
/// failed to match (with what was expected there), and diagnostics found along the way that do not stop
/// the parse (a literal too large).
/// </summary>
/// <remarks>
/// Why track the farthest failure ourselves: Sprache's <c>Or</c>/<c>XOr</c> report a failure at the
/// position of the first alternative, and <c>Many</c>/<c>Optional</c> drop the expectations of the item
/// they could not match. The farthest position any token was tried at is where the text stops making
/// sense, and the union of what every parser expected there is the honest "expected ..." list.
/// </remarks>
internal sealed class ParseSession
{
    private readonly int[] lineStarts;
    private readonly SourceLocation origin;
    private readonly List<string> expected = [];
    private readonly SortedDictionary<(int Position, string Id), Diagnostic> found = [];

    public ParseSession(string text, SourceLocation origin)
    {
        Text = text;
        this.origin = origin;
        var starts = new List<int> { 0 };
        for (var i = 0; i < text.Length; i++)
        {
            if (text[i] == '\n')
            {
                starts.Add(i + 1);
            }
        }

        lineStarts = [.. starts];
    }

    public string Text { get; }

    /// <summary>The farthest offset at which a token was expected and not found; -1 before any failure.</summary>
    public int FarthestFailure { get; private set; } = -1;

    public IReadOnlyList<string> Expected => expected;

    public IEnumerable<Diagnostic> Diagnostics => found.Values;

    public bool HasErrors => found.Values.Any(d => d.IsError);

    /// <summary>
    /// The file location of a character offset. The first line is shifted by the origin's column and
    /// later lines by its line, so a statement taken from a YAML value points into the YAML file.
    /// </summary>
    public SourceLocation LocationAt(int offset)
    {
        offset = Math.Clamp(offset, 0, Text.Length);
        var index = Array.BinarySearch(lineStarts, offset);
        var line = index >= 0 ? index : ~index - 1;
        var column = offset - lineStarts[line] + 1;
        return line == 0
            ? origin with { Column = origin.Column + column - 1 }
            : origin with { Line = origin.Line + line, Column = column };
    }

    /// <summary>Records that <paramref name="what"/> was expected at <paramref name="offset"/>.</summary>
    public void Expect(int offset, string what)
    {
        if (offset > FarthestFailure)
        {
            FarthestFailure = offset;
            expected.Clear();
        }

        if (offset == FarthestFailure && !expected.Contains(what))
        {
            expected.Add(what);
        }
    }

    public ExpectationMark Mark() => new(FarthestFailure, expected.Count);

    /// <summary>
    /// Replaces what was expected at <paramref name="offset"/> since <paramref name="mark"/> by one
    /// description ("expression" rather than "number, name, '(', '-', ...").
    /// </summary>
    public void Describe(int offset, ExpectationMark mark, string description)
    {
        if (FarthestFailure != offset)
        {
            return;
        }

        if (mark.Farthest == offset)
        {
            expected.RemoveRange(mark.Count, expected.Count - mark.Count);
        }
        else
        {
            expected.Clear();
        }

        Expect(offset, description);
    }

    /// <summary>A diagnostic that does not stop the parse; reported once per offset even when backtracking re-parses.</summary>
    public void Report(int offset, DiagnosticDescriptor descriptor, string message) =>
        found.TryAdd((offset, descriptor.Id), descriptor.Create(LocationAt(offset), message));

    /// <summary>The "expected X, Y or Z, found W" diagnostic for the farthest failure.</summary>
    public Diagnostic SyntaxError(int fallbackOffset)
    {
        var offset = FarthestFailure >= 0 ? FarthestFailure : fallbackOffset;
        var what = expected.Count == 0 ? "something else" : JoinAlternatives(expected);
        return CodeletDiagnostics.SyntaxError.Create(LocationAt(offset), $"expected {what}, found {DescribeTokenAt(offset)}");
    }

    public static string JoinAlternatives(IReadOnlyList<string> items) => items.Count switch
    {
        0 => "",
        1 => items[0],
        _ => string.Join(", ", items.Take(items.Count - 1)) + " or " + items[^1],
    };

    private string DescribeTokenAt(int offset)
    {
        if (offset >= Text.Length)
        {
            return "end of file";
        }

        var word = Lexer.WordLength(Text, offset);
        if (word > 0)
        {
            var text = Text.Substring(offset, Math.Min(word, 40));
            return Lexer.IsReserved(text) && expected.Any(e => e is Lexer.NameExpectation or "expression" or "statement")
                ? $"'{text}' (a reserved word, which cannot be a name)"
                : $"'{text}'";
        }

        var number = Lexer.NumberLength(Text, offset);
        if (number > 0)
        {
            return $"'{Text.Substring(offset, Math.Min(number, 40))}'";
        }

        var c = Text[offset];
        return char.IsControl(c) || char.IsWhiteSpace(c) || char.IsSurrogate(c)
            ? $"character U+{((int)c).ToString("X4", CultureInfo.InvariantCulture)}"
            : $"'{c}'";
    }

    internal readonly record struct ExpectationMark(int Farthest, int Count);
}
