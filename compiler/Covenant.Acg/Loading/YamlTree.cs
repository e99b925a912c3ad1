using Covenant.Core.Diagnostics;

namespace Covenant.Acg.Loading;

// A minimal YAML tree with a location on every node, built from YamlDotNet's parser events by
// YamlTreeReader. Why not YamlDotNet's RepresentationModel: it throws on the first duplicate key (losing
// every other error in the file) and gives no control over alias expansion.

internal abstract class YamlNode(SourceLocation location)
{
    public SourceLocation Location { get; } = location;

    /// <summary>The number of values in this subtree, counting what aliases expand to (for the YAML-bomb guard).</summary>
    public abstract long Size { get; }

    /// <summary>What this node is, for "expected a number, found a list" messages.</summary>
    public abstract string Describe();
}

internal sealed class YamlScalar(string value, bool isPlain, SourceLocation location, SourceLocation contentLocation)
    : YamlNode(location)
{
    public string Value { get; } = value;

    /// <summary>Written without quotes: only plain scalars can be null (<c>~</c>, <c>null</c>, nothing at all).</summary>
    public bool IsPlain { get; } = isPlain;

    /// <summary>Where the first character of <see cref="Value"/> is in the file (after an opening quote).</summary>
    public SourceLocation ContentLocation { get; } = contentLocation;

    public bool IsNull => IsPlain && Value is "" or "~" or "null" or "Null" or "NULL";

    public override long Size => 1;

    public override string Describe() => IsNull ? "nothing" : $"'{Shorten(Value)}'";

    private static string Shorten(string text) =>
        (text.Length > 40 ? text[..40] + "..." : text).ReplaceLineEndings(" ");
}

internal sealed class YamlMapping(SourceLocation location) : YamlNode(location)
{
    private long size = 1;

    public List<YamlEntry> Entries { get; } = [];

    public override long Size => size;

    public void Add(YamlScalar key, YamlNode value)
    {
        Entries.Add(new YamlEntry(key, value));
        size += 1 + value.Size;
    }

    public override string Describe() => "a mapping";
}

internal sealed record YamlEntry(YamlScalar Key, YamlNode Value);

internal sealed class YamlSequence(SourceLocation location) : YamlNode(location)
{
    private long size = 1;

    public List<YamlNode> Items { get; } = [];

    public override long Size => size;

    public void Add(YamlNode item)
    {
        Items.Add(item);
        size += item.Size;
    }

    public override string Describe() => "a list";
}
