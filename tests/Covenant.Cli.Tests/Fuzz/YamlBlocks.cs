namespace Covenant.Cli.Tests.Fuzz;

/// <summary>
/// Just enough of a YAML file's structure to cut and copy its parts as text (so the result keeps real line numbers):
/// each line that starts a mapping key or a list item, its dotted path (<c>nodes.gemm.capabilities.gemm</c>,
/// <c>edges[]</c>) and the lines its block spans.
/// </summary>
public sealed record YamlBlock(int First, int End, int Indent, string Key, string Path);

public static class YamlBlocks
{
    public static IReadOnlyList<YamlBlock> Of(IReadOnlyList<string> lines)
    {
        ArgumentNullException.ThrowIfNull(lines);
        var blocks = new List<YamlBlock>();
        var parents = new List<(int Indent, string Path)>();
        for (var i = 0; i < lines.Count; i++)
        {
            var content = lines[i].TrimStart(' ');
            if (content.Length == 0 || content.StartsWith('#'))
            {
                continue;
            }

            var indent = lines[i].Length - content.Length;
            var listItem = content.StartsWith("- ", StringComparison.Ordinal) || content == "-";
            var colon = content.IndexOf(':', StringComparison.Ordinal);
            var key = listItem ? "[]" : colon > 0 && !content.StartsWith('{') ? content[..colon].Trim() : null;
            if (key is null)
            {
                continue;
            }

            while (parents.Count > 0 && parents[^1].Indent >= indent)
            {
                parents.RemoveAt(parents.Count - 1);
            }

            var parent = parents.Count > 0 ? parents[^1].Path : "";
            var path = listItem ? parent + "[]" : parent.Length == 0 ? key : parent + "." + key;
            blocks.Add(new YamlBlock(i, EndOf(lines, i, indent), indent, key, path));
            parents.Add((indent, path));
        }

        return blocks;
    }

    private static int EndOf(IReadOnlyList<string> lines, int first, int indent)
    {
        var end = first + 1;
        for (var j = first + 1; j < lines.Count; j++)
        {
            var content = lines[j].TrimStart(' ');
            if (content.Length == 0 || content.StartsWith('#'))
            {
                continue;
            }

            if (lines[j].Length - content.Length <= indent)
            {
                break;
            }

            end = j + 1;
        }

        return end;
    }
}
