using System.Text;
using System.Text.RegularExpressions;
using Covenant.Codelets.Semantics;
using Covenant.Core.Diagnostics;
using Covenant.Testing;

namespace Covenant.Codelets.Tests;

/// <summary>
/// Mutates the shipped codelets at random (fixed seed) and requires every mutant either to load or to fail
/// with positioned errors: no exception, no internal error, no error without a line number. Mutants that
/// still load are instantiated with random small shapes under the same rule.
/// </summary>
public sealed partial class MutationTests
{
    private const int Seed = 20261123;
    private const int MutantsPerCodelet = 120;

    /// <summary>Fragments worth inserting: the language's own tokens make mutants that get further than noise.</summary>
    private static readonly string[] Vocabulary =
    [
        "codelet", "for", "in", "let", "where", "padded", "cropped", "i8", "u8", "i32", "f16", "f32", "max", "min", "clip", "relu",
        "(", ")", "[", "]", "{", "}", "<", ">", ",", ":", ";", "=", "+=", "->", "+", "-", "*", "/", "%", "<<", ">>", "//",
        "x", "N", "k", "0", "1", "2.5", "99999999999999999999", "\n", " ", "\t", "\0", "é",
    ];

    private static readonly long[] ShapeValues = [0, 1, 1, 2, 3, 4, 7];

    [Test]
    public void MutantsLoadOrFailWithPositionedErrors()
    {
        var random = new Random(Seed);
        var problems = new List<string>();
        int failedToLoad = 0, loaded = 0, instantiated = 0, mutants = 0;
        foreach (var path in Directory.GetFiles(Repo.Codelets, "*.cdlt").Order(StringComparer.Ordinal))
        {
            var original = File.ReadAllText(path);
            for (var i = 0; i < MutantsPerCodelet; i++, mutants++)
            {
                var (text, how) = Mutate(original, random);
                var name = $"{Path.GetFileName(path)} mutant {i} ({how})";
                var result = CodeletLoader.Load(new SourceFile(path, text));
                Inspect(name, result.Succeeded, result.Diagnostics, problems);
                if (!result.Succeeded)
                {
                    failedToLoad++;
                    continue;
                }

                loaded++;
                var bindings = result.Value.ShapeParams
                    .Where(p => p.Default is null || random.Next(4) == 0)
                    .ToDictionary(p => p.Name, _ => ShapeValues[random.Next(ShapeValues.Length)], StringComparer.Ordinal);
                var instance = result.Value.Instantiate(bindings, new SourceLocation("suite.yaml", 1, 1));
                Inspect(name + " instantiated", instance.Succeeded, instance.Diagnostics, problems);
                instantiated += instance.Succeeded ? 1 : 0;
            }
        }

        TestContext.Out.WriteLine($"{mutants} mutants: {failedToLoad} rejected, {loaded} loaded, {instantiated} also instantiated");
        using (Assert.EnterMultipleScope())
        {
            Assert.That(mutants, Is.GreaterThanOrEqualTo(1000));
            Assert.That(problems, Is.Empty);

            // The mutations are neither all fatal nor all harmless, so both paths were exercised.
            Assert.That(failedToLoad, Is.GreaterThan(mutants / 2), "mutants rejected");
            Assert.That(loaded, Is.GreaterThan(20), "mutants that still load");
            Assert.That(instantiated, Is.GreaterThan(5), "mutants that also instantiate");
        }
    }

    [Test]
    public void TokenSoupFailsWithPositionedErrors()
    {
        var random = new Random(Seed + 1);
        var problems = new List<string>();
        for (var i = 0; i < 300; i++)
        {
            var text = string.Join(random.Next(2) == 0 ? " " : "", Enumerable.Range(0, random.Next(1, 80)).Select(_ => Vocabulary[random.Next(Vocabulary.Length)]));
            var result = CodeletLoader.Load(new SourceFile("soup.cdlt", text));
            Inspect($"soup {i}: {text}", result.Succeeded, result.Diagnostics, problems);
        }

        Assert.That(problems, Is.Empty);
    }

    private static void Inspect(string name, bool succeeded, IEnumerable<Diagnostic> diagnostics, List<string> problems)
    {
        var list = diagnostics.ToList();
        if (list.Any(d => d.Id == CoreDiagnostics.InternalError.Id))
        {
            problems.Add($"{name}: internal error: {list.First(d => d.Id == CoreDiagnostics.InternalError.Id)}");
        }

        if (!succeeded && !list.Any(d => d.IsError))
        {
            problems.Add($"{name}: failed without an error");
        }

        problems.AddRange(list.Where(d => d.Location is not { HasPosition: true }).Select(d => $"{name}: no position: {d}"));
    }

    /// <summary>One to three random edits of the kinds a fuzzer (or a careless editor) makes.</summary>
    private static (string Text, string How) Mutate(string text, Random random)
    {
        var how = new List<string>();
        for (var edits = random.Next(1, 4); edits > 0; edits--)
        {
            var lines = text.Split('\n').ToList();
            var offset = text.Length == 0 ? 0 : random.Next(text.Length);
            switch (random.Next(8))
            {
                case 0:
                    text = text[..offset];
                    how.Add($"truncate at {offset}");
                    break;
                case 1:
                    var bytes = Encoding.UTF8.GetBytes(text);
                    if (bytes.Length > 0)
                    {
                        var at = random.Next(bytes.Length);
                        bytes[at] ^= (byte)(1 << random.Next(8));
                        text = Encoding.UTF8.GetString(bytes);
                        how.Add($"flip a bit of byte {at}");
                    }

                    break;
                case 2:
                    var deleted = random.Next(lines.Count);
                    lines.RemoveAt(deleted);
                    text = string.Join('\n', lines);
                    how.Add($"delete line {deleted + 1}");
                    break;
                case 3:
                    var duplicated = random.Next(lines.Count);
                    lines.Insert(duplicated, lines[duplicated]);
                    text = string.Join('\n', lines);
                    how.Add($"duplicate line {duplicated + 1}");
                    break;
                case 4:
                    var tokens = Token().Matches(text);
                    if (tokens.Count > 1)
                    {
                        var first = tokens[random.Next(tokens.Count - 1)];
                        var second = first.NextMatch();
                        var between = text[(first.Index + first.Length)..second.Index];
                        text = text[..first.Index] + second.Value + between + first.Value + text[(second.Index + second.Length)..];
                        how.Add($"swap '{first.Value}' and '{second.Value}'");
                    }

                    break;
                case 5:
                    if (text.Length > 0)
                    {
                        text = text.Remove(offset, 1);
                        how.Add($"delete character {offset}");
                    }

                    break;
                case 6:
                    var inserted = Vocabulary[random.Next(Vocabulary.Length)];
                    text = text.Insert(offset, inserted);
                    how.Add($"insert '{inserted}' at {offset}");
                    break;
                default:
                    var (a, b) = (random.Next(lines.Count), random.Next(lines.Count));
                    (lines[a], lines[b]) = (lines[b], lines[a]);
                    text = string.Join('\n', lines);
                    how.Add($"swap lines {a + 1} and {b + 1}");
                    break;
            }
        }

        return (text, string.Join(", ", how));
    }

    [GeneratedRegex(@"\w+|[^\w\s]")]
    private static partial Regex Token();
}
