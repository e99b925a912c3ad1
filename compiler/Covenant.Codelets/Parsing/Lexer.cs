using System.Collections.Frozen;

namespace Covenant.Codelets.Parsing;

/// <summary>The lexical rules shared by the grammar and its error messages: words, numbers, trivia, reserved words.</summary>
internal static class Lexer
{
    /// <summary>What an error says was expected where a name was.</summary>
    public const string NameExpectation = "name";

    public static readonly IReadOnlyList<string> Keywords = ["codelet", "for", "in", "let", "where", "padded", "cropped"];

    public static readonly IReadOnlyList<string> Functions = ["max", "min", "clip", "relu"];

    /// <summary>Words that cannot name a codelet, parameter, tensor or loop variable.</summary>
    public static readonly FrozenSet<string> Reserved =
        Keywords.Concat(ElementTypes.Names).Concat(Functions).ToFrozenSet(StringComparer.Ordinal);

    public static bool IsReserved(string word) => Reserved.Contains(word);

    public static bool IsWordStart(char c) => c is (>= 'a' and <= 'z') or (>= 'A' and <= 'Z') or '_';

    public static bool IsWordPart(char c) => IsWordStart(c) || char.IsAsciiDigit(c);

    /// <summary>Length of the identifier starting at <paramref name="offset"/>: ASCII letters, digits, '_'; 0 if none.</summary>
    public static int WordLength(string text, int offset)
    {
        if (offset >= text.Length || !IsWordStart(text[offset]))
        {
            return 0;
        }

        var end = offset + 1;
        while (end < text.Length && IsWordPart(text[end]))
        {
            end++;
        }

        return end - offset;
    }

    /// <summary>
    /// Length of the number starting at <paramref name="offset"/>: <c>digits ('.' digits)? ([eE] [+-]? digits)?</c>;
    /// 0 if none. <paramref name="isFloat"/> says whether it has a fraction or an exponent.
    /// </summary>
    public static int NumberLength(string text, int offset, out bool isFloat)
    {
        isFloat = false;
        var end = SkipDigits(text, offset);
        if (end == offset)
        {
            return 0;
        }

        if (end + 1 < text.Length && text[end] == '.' && char.IsAsciiDigit(text[end + 1]))
        {
            end = SkipDigits(text, end + 1);
            isFloat = true;
        }

        if (end < text.Length && text[end] is 'e' or 'E')
        {
            var exponent = end + 1;
            if (exponent < text.Length && text[exponent] is '+' or '-')
            {
                exponent++;
            }

            if (exponent < text.Length && char.IsAsciiDigit(text[exponent]))
            {
                end = SkipDigits(text, exponent);
                isFloat = true;
            }
        }

        return end - offset;
    }

    public static int NumberLength(string text, int offset) => NumberLength(text, offset, out _);

    /// <summary>The offset after any whitespace and <c>//</c> line comments starting at <paramref name="offset"/>.</summary>
    public static int SkipTrivia(string text, int offset)
    {
        while (offset < text.Length)
        {
            if (char.IsWhiteSpace(text[offset]))
            {
                offset++;
            }
            else if (text[offset] == '/' && offset + 1 < text.Length && text[offset + 1] == '/')
            {
                var newline = text.IndexOf('\n', offset);
                offset = newline < 0 ? text.Length : newline + 1;
            }
            else
            {
                break;
            }
        }

        return offset;
    }

    private static int SkipDigits(string text, int offset)
    {
        while (offset < text.Length && char.IsAsciiDigit(text[offset]))
        {
            offset++;
        }

        return offset;
    }
}
