using System.Text.RegularExpressions;
using Covenant.Acg;
using Covenant.Compiler;
using Covenant.Testing;

namespace Covenant.Targets.Tests;

/// <summary>
/// Every capability of every shipped architecture, mutated every way that changes what it computes (each operator
/// swapped for another, the accumulation changed, each access's indices reversed, one added): each mutant must be
/// refused, by the loader or by its target's check. (max for min is left out: a capability called 'max' that computes
/// min is an honest vpminsd or VTA MIN.) Most are refused at the mutated semantics; a few that still compute the
/// instruction with its operands exchanged are refused by the configuration the target reads from the buffers.
/// </summary>
public partial class SemanticsMutationCampaignTests
{
    [GeneratedRegex("semantics: \"([^\"]+)\"")]
    private static partial Regex SemanticsLine();

    [GeneratedRegex(@"(?<=\s)(\*|\+|-|>>)(?=\s)")]
    private static partial Regex BinaryOperator();

    [GeneratedRegex(@"\w+\[([^\[\]]+)\]")]
    private static partial Regex Access();

    /// <summary>Mutants of one statement that compute something else on the shipped operand types and extents.</summary>
    private static IEnumerable<(string Kind, string Text)> Mutants(string semantics)
    {
        foreach (Match op in BinaryOperator().Matches(semantics))
        {
            string[] replacements = op.Value switch { "*" => ["+", "-"], "+" => ["*", "-"], "-" => ["+"], _ => ["<<"] };
            foreach (var to in replacements)
            {
                yield return ($"'{op.Value}' -> '{to}'", semantics[..op.Index] + to + semantics[(op.Index + op.Length)..]);
            }
        }

        yield return semantics.Contains(" += ", StringComparison.Ordinal)
            ? ("'+=' -> '='", semantics.Replace(" += ", " = ", StringComparison.Ordinal))
            : ("'=' -> '+='", ReplaceFirst(semantics, " = ", " += "));
        // Reversing the indices of a statement's only access just relabels its elements (acc[j, i] = 0 zeroes the same
        // row); with two or more accesses it changes which elements meet.
        var accesses = Access().Matches(semantics);
        foreach (var access in accesses.Count > 1 ? accesses.ToList() : [])
        {
            var indices = access.Groups[1].Value.Split(", ");
            if (indices.Length >= 2 && indices.Distinct().Count() > 1)
            {
                var group = access.Groups[1];
                yield return ($"{access.Value} reversed", semantics[..group.Index] + string.Join(", ", indices.Reverse()) + semantics[(group.Index + group.Length)..]);
            }
        }

        yield return ("+ 1", semantics + " + 1");
    }

    private static string ReplaceFirst(string text, string from, string to)
    {
        var at = text.IndexOf(from, StringComparison.Ordinal);
        return text[..at] + to + text[(at + from.Length)..];
    }

    [Test]
    public void EveryMutantOfEveryShippedCapabilityIsRefused()
    {
        var folder = Directory.CreateTempSubdirectory("covenant-semantics-campaign-").FullName;
        var outcomes = new SortedDictionary<string, int>(StringComparer.Ordinal);
        var passed = new List<string>();
        try
        {
            foreach (var file in Directory.GetFiles(Repo.Architectures, "*.yaml").Order(StringComparer.Ordinal))
            {
                var lines = File.ReadAllLines(file);
                for (var n = 0; n < lines.Length; n++)
                {
                    if (SemanticsLine().Match(lines[n]) is not { Success: true } found)
                    {
                        continue;
                    }

                    foreach (var (kind, text) in Mutants(found.Groups[1].Value))
                    {
                        var mutated = (string[])lines.Clone();
                        mutated[n] = lines[n].Replace($"\"{found.Groups[1].Value}\"", $"\"{text}\"", StringComparison.Ordinal);
                        var path = Path.Combine(folder, Path.GetFileName(file));
                        File.WriteAllLines(path, mutated);
                        var what = $"{Path.GetFileName(file)}:{n + 1} '{text}' ({kind})";

                        var loaded = AcgLoader.Load(path);
                        if (!loaded.Succeeded)
                        {
                            outcomes["refused by the loader"] = outcomes.GetValueOrDefault("refused by the loader") + 1;
                            continue;
                        }

                        var errors = BuiltinTargets.All.CheckArchitecture(loaded.Value!).Where(d => d.IsError).ToList();
                        if (errors.Count == 0)
                        {
                            passed.Add(what);
                            continue;
                        }

                        var onTheLine = errors.FirstOrDefault(d => d.Location?.Line == n + 1);
                        var outcome = $"{loaded.Value!.Target}: {onTheLine?.Id ?? errors[0].Id}{(onTheLine is null ? " elsewhere" : " at the semantics")}";
                        outcomes[outcome] = outcomes.GetValueOrDefault(outcome) + 1;
                    }
                }
            }
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }

        TestContext.Out.WriteLine(string.Join("\n", outcomes.Select(o => $"{o.Value,5} {o.Key}")));
        Assert.That(passed, Is.Empty, "mutants accepted");
        Assert.That(outcomes.Where(o => o.Key.EndsWith("at the semantics", StringComparison.Ordinal)).Sum(o => o.Value), Is.GreaterThan(200));
        Assert.That(outcomes.Keys, Has.Some.StartsWith("vta:").And.Some.StartsWith("vnni:").And.Some.StartsWith("tensorcore:"));
    }
}
