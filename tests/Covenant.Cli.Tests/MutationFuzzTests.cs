using System.Text;
using System.Text.RegularExpressions;
using Covenant.Testing;

namespace Covenant.Cli.Tests;

/// <summary>
/// Robustness of the whole command line: the shipped YAML and codelet files, mutated at random, must each
/// give either success or positioned user errors (exit 1, every line <c>file(line,col): error COVnnnn</c>),
/// never an internal error or an escaped exception (exit 3).
/// </summary>
public partial class MutationFuzzTests
{
    private const int MutantsPerKind = 600;

    [GeneratedRegex(@"^.+\(\d+,\d+\): (error|warning|note) COV\d{4}: .+$")]
    private static partial Regex PositionedDiagnostic();

    [Test]
    public void MutatedArchitecturesNeverCrash() =>
        Fuzz(Directory.GetFiles(Repo.Architectures, "*.yaml"), ".yaml", "arch", seed: 2024);

    [Test]
    public void MutatedCodeletsNeverCrash() =>
        Fuzz(Directory.GetFiles(Repo.Codelets, "*.cdlt"), ".cdlt", "codelet", seed: 7);

    private static void Fuzz(string[] sources, string extension, string command, int seed)
    {
        Assert.That(sources, Is.Not.Empty);
        var random = new Random(seed);
        var directory = Directory.CreateTempSubdirectory("covenant-fuzz-");
        var outcomes = new Dictionary<int, int>();
        try
        {
            for (var i = 0; i < MutantsPerKind; i++)
            {
                var source = sources[random.Next(sources.Length)];
                var (mutant, how) = Mutate(File.ReadAllText(source), random);
                var path = Path.Combine(directory.FullName, $"m{i}{extension}");
                File.WriteAllText(path, mutant, new UTF8Encoding(false));

                var run = CliRun.Of(command, "check", path);
                outcomes[run.ExitCode] = outcomes.GetValueOrDefault(run.ExitCode) + 1;
                var context = $"mutant {i} of {Path.GetFileName(source)} ({how}), kept at {path}\n{run}";
                Assert.That(run.ExitCode, Is.EqualTo(0).Or.EqualTo(1), context);
                if (run.ExitCode == 1)
                {
                    Assert.That(run.ErrorLines, Is.Not.Empty, context);
                    Assert.That(run.ErrorLines, Has.All.Match(PositionedDiagnostic()), context);
                }

                File.Delete(path);
            }
        }
        finally
        {
            if (TestContext.CurrentContext.Result.Outcome.Status != NUnit.Framework.Interfaces.TestStatus.Failed)
            {
                directory.Delete(recursive: true);
            }
        }

        TestContext.Out.WriteLine($"{MutantsPerKind} mutants: " + string.Join(", ", outcomes.Select(o => $"exit {o.Key}: {o.Value}")));
        Assert.That(outcomes.GetValueOrDefault(1), Is.GreaterThan(MutantsPerKind / 4), "most mutants should be rejected");
    }

    private static (string Text, string How) Mutate(string text, Random random)
    {
        var lines = text.Split('\n').ToList();
        switch (random.Next(7))
        {
            case 0:
                return (text[..random.Next(text.Length)], "truncated");
            case 1:
            {
                var bytes = Encoding.UTF8.GetBytes(text);
                for (var flips = random.Next(1, 4); flips > 0; flips--)
                {
                    bytes[random.Next(bytes.Length)] ^= (byte)(1 << random.Next(8));
                }

                return (Encoding.UTF8.GetString(bytes), "bytes flipped");
            }

            case 2:
                lines.RemoveAt(random.Next(lines.Count));
                return (string.Join('\n', lines), "line deleted");
            case 3:
            {
                var line = random.Next(lines.Count);
                lines.Insert(line, lines[random.Next(lines.Count)]);
                return (string.Join('\n', lines), "line duplicated");
            }

            case 4:
            {
                // Replace a value after a colon (YAML) or a number (codelets) with something of the wrong type.
                string[] replacements = ["[1, 2]", "{a: 1}", "-5", "99999999999999999999", "\"text\"", "", "~", "1.5", "0"];
                var line = random.Next(lines.Count);
                var colon = lines[line].IndexOf(':', StringComparison.Ordinal);
                lines[line] = colon >= 0
                    ? lines[line][..(colon + 1)] + " " + replacements[random.Next(replacements.Length)]
                    : Regex.Replace(lines[line], @"\d+", replacements[random.Next(replacements.Length)]);
                return (string.Join('\n', lines), "value replaced");
            }

            case 5:
            {
                var a = random.Next(lines.Count);
                var b = random.Next(lines.Count);
                (lines[a], lines[b]) = (lines[b], lines[a]);
                return (string.Join('\n', lines), "lines swapped");
            }

            default:
            {
                const string junk = "[]{}(),:;=+-*/<>#&!|\"'\t 0123456789abcXYZ";
                var position = random.Next(text.Length);
                return (text[..position] + junk[random.Next(junk.Length)] + text[position..], "character inserted");
            }
        }
    }
}
