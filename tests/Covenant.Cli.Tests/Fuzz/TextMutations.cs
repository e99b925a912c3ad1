using System.Text;
using System.Text.RegularExpressions;

namespace Covenant.Cli.Tests.Fuzz;

/// <summary>
/// Mutations that know nothing of the format: truncation, bit flips, deleted, duplicated and swapped lines, a value of
/// the wrong type, a stray character. Each returns the new text and a few words saying what it did.
/// </summary>
public static partial class TextMutations
{
    private static readonly string[] WrongValues = ["[1, 2]", "{a: 1}", "-5", "99999999999999999999", "\"text\"", "", "~", "1.5", "0"];

    public static (string Text, string How) Any(string text, Random random)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(random);
        if (text.Length == 0)
        {
            return ("x", "character written into an empty file");
        }

        var lines = text.Split('\n').ToList();
        switch (random.Next(7))
        {
            case 0:
                return (text[..random.Next(text.Length)], "truncated");
            case 1:
            {
                var bytes = Encoding.UTF8.GetBytes(text);
                var flips = random.Next(1, 4);
                for (var i = 0; i < flips; i++)
                {
                    bytes[random.Next(bytes.Length)] ^= (byte)(1 << random.Next(8));
                }

                return (Encoding.UTF8.GetString(bytes), $"{flips} bits flipped");
            }

            case 2:
            {
                var line = random.Next(lines.Count);
                lines.RemoveAt(line);
                return (string.Join('\n', lines), $"line {line + 1} deleted");
            }

            case 3:
            {
                var line = random.Next(lines.Count);
                var copied = random.Next(lines.Count);
                lines.Insert(line, lines[copied]);
                return (string.Join('\n', lines), $"line {copied + 1} copied before line {line + 1}");
            }

            case 4:
            {
                // A value after a colon (YAML, JSON) or a number anywhere else replaced by something of the wrong type.
                var line = random.Next(lines.Count);
                var value = WrongValues[random.Next(WrongValues.Length)];
                var colon = lines[line].IndexOf(':', StringComparison.Ordinal);
                lines[line] = colon >= 0 ? lines[line][..(colon + 1)] + " " + value : Number().Replace(lines[line], value);
                return (string.Join('\n', lines), $"value on line {line + 1} replaced by '{value}'");
            }

            case 5:
            {
                var a = random.Next(lines.Count);
                var b = random.Next(lines.Count);
                (lines[a], lines[b]) = (lines[b], lines[a]);
                return (string.Join('\n', lines), $"lines {a + 1} and {b + 1} swapped");
            }

            default:
            {
                const string junk = "[]{}(),:;=+-*/<>#&!|\"'\t 0123456789abcXYZ";
                var position = random.Next(text.Length);
                var inserted = junk[random.Next(junk.Length)];
                return (text[..position] + inserted + text[position..], $"'{inserted}' inserted at offset {position}");
            }
        }
    }

    /// <summary>A number that breaks assumptions: zero, negative, beyond 32 or 64 bits, fractional, tiny.</summary>
    public static string ExtremeNumber(Random random)
    {
        ArgumentNullException.ThrowIfNull(random);
        string[] numbers =
        [
            "0", "-1", "-4096", "1", "3", "7", "65536", "2147483647", "2147483648", "4294967296", "4611686018427387904",
            "9223372036854775807", "99999999999999999999", "1e300", "0.5", "0.001", "1000000", "-2147483648", "17", "1e-9",
        ];
        return numbers[random.Next(numbers.Length)];
    }

    /// <summary>Replaces the <paramref name="random"/> pick among the matches of <paramref name="pattern"/> in <paramref name="text"/>.</summary>
    public static string? ReplaceOne(string text, Regex pattern, Random random, Func<Match, string> replacement)
    {
        ArgumentNullException.ThrowIfNull(pattern);
        ArgumentNullException.ThrowIfNull(random);
        ArgumentNullException.ThrowIfNull(replacement);
        var matches = pattern.Matches(text);
        if (matches.Count == 0)
        {
            return null;
        }

        var match = matches[random.Next(matches.Count)];
        return text[..match.Index] + replacement(match) + text[(match.Index + match.Length)..];
    }

    [GeneratedRegex(@"\d+")]
    private static partial Regex Number();
}
