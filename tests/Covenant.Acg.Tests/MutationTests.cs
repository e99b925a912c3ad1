using System.Text;
using Covenant.Core.Diagnostics;
using Covenant.Testing;

namespace Covenant.Acg.Tests;

/// <summary>
/// The loader must never throw on user input. Each shipped file is mutated at random (fixed seed, so a
/// failure reproduces) and every mutant must load, or fail with errors that all carry a position; no
/// exception may escape and no internal error may be reported.
/// </summary>
public sealed class MutationTests
{
    private const int Seed = 20240617;
    private const int MutantsPerFile = 250;

    /// <summary>Values of the wrong type or size, written where a correct value was.</summary>
    private static readonly string[] WrongValues =
    [
        "[1, 2]", "{a: 1}", "-5", "0", "abc", "\"\"", "~", "", "99999999999999999999999", "1e400", "-1e400",
        "NaN", "1.5", "*nope", "&x", "!!binary aGVsbG8=", "[", "{", "'", "\"x", "32 kib", "8 B/s", "true", "| \n  x",
        "\"acc[i, j] += \"", "\"c[q] = z[w]\"", "4 GHz", "1 TiB", "-1 KiB", "0.0001 B/cycle",
    ];

    /// <summary>Characters that mean something to YAML, plus controls and non-ASCII.</summary>
    private const string Noise = ":-[]{},#&*!|>'\"%@` \t\n\r\0\u00e9\u2028\uffff?";

    public static IEnumerable<string> Files => ShippedArchitectureTests.Files;

    [TestCaseSource(nameof(Files))]
    public void RandomMutantsNeverThrow(string path)
    {
        var original = File.ReadAllText(path);
        // string.GetHashCode is randomized per process; a fixed mix of the name keeps every run identical.
        var random = new Random(Path.GetFileName(path).Aggregate(Seed, (hash, c) => unchecked((hash * 31) + c)));
        var accepted = 0;
        for (var i = 0; i < MutantsPerFile; i++)
        {
            var (kind, mutant) = Mutate(original, random);
            Result<Model.ArchitectureGraph> result;
            try
            {
                result = AcgLoader.Parse(new SourceFile(path, mutant));
            }
#pragma warning disable CA1031 // The point of the test: report any exception with the mutant that caused it.
            catch (Exception e)
#pragma warning restore CA1031
            {
                Assert.Fail($"mutant {i} ({kind}) threw {e}\n--- mutant ---\n{mutant}");
                return;
            }

            var context = $"mutant {i} ({kind}):\n{string.Join("\n", result.Diagnostics)}\n--- mutant ---\n{mutant}";
            Assert.That(result.Diagnostics.Select(d => d.Id), Has.None.EqualTo(CoreDiagnostics.InternalError.Id), context);
            Assert.That(result.Diagnostics.All(d => d.Location is { HasPosition: true }), Is.True, "every diagnostic has a line: " + context);
            if (result.Succeeded)
            {
                accepted++;
            }
            else
            {
                Assert.That(result.Diagnostics.Any(d => d.IsError), Is.True, context);
            }
        }

        // Guards the test itself: mutants are neither all harmless nor all rejected.
        Assert.That(accepted, Is.InRange(1, MutantsPerFile - 1), "accepted mutants");
    }

    [Test]
    public void EveryMutationKindIsExercised()
    {
        var random = new Random(Seed);
        var text = File.ReadAllText(Path.Combine(Repo.Architectures, "vta.yaml"));
        var kinds = Enumerable.Range(0, 500).Select(_ => Mutate(text, random).Kind).ToHashSet();
        Assert.That(kinds, Is.EquivalentTo(new[] { "truncate", "flip", "delete line", "delete key", "wrong value", "duplicate line", "swap lines" }));
    }

    private static (string Kind, string Text) Mutate(string text, Random random)
    {
        var lines = text.Split('\n').ToList();
        switch (random.Next(7))
        {
            case 0:
                return ("truncate", text[..random.Next(text.Length)]);
            case 1:
                var chars = new StringBuilder(text);
                for (var n = random.Next(1, 4); n > 0; n--)
                {
                    chars[random.Next(chars.Length)] = Noise[random.Next(Noise.Length)];
                }

                return ("flip", chars.ToString());
            case 2:
                lines.RemoveAt(random.Next(lines.Count));
                return ("delete line", string.Join('\n', lines));
            case 3:
                return ("delete key", DeleteKey(lines, random));
            case 4:
                return ("wrong value", ReplaceValue(lines, random));
            case 5:
                var copy = random.Next(lines.Count);
                lines.Insert(copy, lines[copy]);
                return ("duplicate line", string.Join('\n', lines));
            default:
                var a = random.Next(lines.Count);
                var b = random.Next(lines.Count);
                (lines[a], lines[b]) = (lines[b], lines[a]);
                return ("swap lines", string.Join('\n', lines));
        }
    }

    /// <summary>Removes a <c>key:</c> line and every more-indented line below it (the key's whole value).</summary>
    private static string DeleteKey(List<string> lines, Random random)
    {
        var keys = Enumerable.Range(0, lines.Count).Where(i => IsKeyLine(lines[i])).ToList();
        var start = keys[random.Next(keys.Count)];
        var indent = Indent(lines[start]);
        var end = start + 1;
        while (end < lines.Count && (lines[end].Trim().Length == 0 || Indent(lines[end]) > indent))
        {
            end++;
        }

        lines.RemoveRange(start, end - start);
        return string.Join('\n', lines);
    }

    /// <summary>Replaces the value of a <c>key: value</c> line, or of a flow-mapping entry, with a wrong one.</summary>
    private static string ReplaceValue(List<string> lines, Random random)
    {
        var candidates = Enumerable.Range(0, lines.Count).Where(i => lines[i].Contains(": ", StringComparison.Ordinal) && !lines[i].TrimStart().StartsWith('#')).ToList();
        var index = candidates[random.Next(candidates.Count)];
        var line = lines[index];
        var colons = Enumerable.Range(0, line.Length - 1).Where(i => line[i] == ':' && line[i + 1] == ' ').ToList();
        var colon = colons[random.Next(colons.Count)];
        var valueEnd = line.IndexOfAny([',', '}', '#'], colon + 2);
        valueEnd = valueEnd < 0 ? line.Length : valueEnd;
        lines[index] = line[..(colon + 2)] + WrongValues[random.Next(WrongValues.Length)] + line[valueEnd..];
        return string.Join('\n', lines);
    }

    private static bool IsKeyLine(string line)
    {
        var trimmed = line.TrimStart();
        return trimmed.Length > 0 && !trimmed.StartsWith('#') && !trimmed.StartsWith('-') && trimmed.Contains(':', StringComparison.Ordinal);
    }

    private static int Indent(string line) => line.Length - line.TrimStart(' ').Length;
}
