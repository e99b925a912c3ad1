using Covenant.Core.Diagnostics;

namespace Covenant.Acg.Loading;

/// <summary>One mapping checked against the keys its context allows: unknown and repeated keys are reported once, here.</summary>
internal sealed class YamlFields
{
    private readonly YamlValueReader reader;
    private readonly string owner;
    private readonly SourceLocation ownerLocation;
    private readonly Dictionary<string, YamlEntry> entries = new(StringComparer.Ordinal);

    /// <summary>Known keys that some unknown key was probably meant to be: their absence is that typo, already reported.</summary>
    private readonly HashSet<string> misspelt = new(StringComparer.Ordinal);

    public YamlFields(YamlValueReader reader, YamlMapping map, string owner, SourceLocation ownerLocation, IReadOnlyList<string> allowed)
    {
        this.reader = reader;
        this.owner = owner;
        this.ownerLocation = ownerLocation;
        foreach (var entry in map.Entries)
        {
            var key = entry.Key.Value;
            if (entries.TryGetValue(key, out var first))
            {
                reader.Report(AcgDiagnostics.DuplicateKey, entry.Key.Location,
                    $"key '{key}' appears twice in {owner} (first at line {first.Key.Location.Line})");
            }
            else if (!allowed.Contains(key))
            {
                if (Spelling.Suggest(key, allowed) is { } meant)
                {
                    misspelt.Add(meant);
                }

                var message = key == "<<"
                    ? $"merge keys ('<<') are not supported in {owner}; write the keys out"
                    : $"unknown key '{Shorten(key)}' in {owner}{Spelling.DidYouMean(key, allowed)}; the keys are {string.Join(", ", allowed)}";
                reader.Report(AcgDiagnostics.UnknownKey, entry.Key.Location, message);
            }
            else
            {
                entries.Add(key, entry);
            }
        }
    }

    public YamlEntry? Get(string key) => entries.GetValueOrDefault(key);

    public YamlEntry? Require(string key, string hint)
    {
        if (entries.TryGetValue(key, out var entry))
        {
            return entry;
        }

        if (misspelt.Contains(key))
        {
            return null;
        }

        reader.Report(AcgDiagnostics.MissingKey, ownerLocation, $"{owner} has no '{key}' ({hint})");
        return null;
    }

    private static string Shorten(string text) => text.Length > 40 ? text[..40] + "..." : text;
}
