using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Covenant.Cli.Tests;

/// <summary>One hand edit of one JSON file of an artifact: where (a JSON path), what was done, and the edited text.</summary>
public sealed record Tampering(string File, string Path, string Edit, string Text)
{
    public override string ToString() => $"{File} {Path}: {Edit}";
}

/// <summary>
/// Every single-field edit of a JSON document a person (or a bad tool) could make: each number turned negative, zero,
/// huge or fractional; each value replaced by text, null, an empty array or object, or a boolean; each member deleted;
/// each array emptied, shortened by one or with an element duplicated. Enumerated in document order, so a seed picks
/// the same sample every run.
/// </summary>
public static class JsonTampering
{
    /// <summary>The numbers a number is replaced with: negative, zero, an unaligned negative address, 2^62, 10^12, 10^6, 2^31, a fraction.</summary>
    public static readonly IReadOnlyList<string> Numbers = ["-1", "0", "-4096", "4611686018427387904", "1000000000000", "1000000", "2147483648", "1.5"];

    /// <summary>What any value is replaced with (a different JSON kind).</summary>
    public static readonly IReadOnlyList<string> Values = ["\"text\"", "null", "[]", "{}", "true"];

    /// <summary>Every node of <paramref name="json"/> below its root, with its JSON path.</summary>
    public static IEnumerable<(string Path, JsonNode? Node)> Nodes(string json)
    {
        var root = JsonNode.Parse(json) ?? throw new ArgumentException("the document is null", nameof(json));
        return Walk("$", root).Skip(1);
    }

    /// <summary>Every tampering of <paramref name="json"/> (the text of <paramref name="file"/>).</summary>
    public static IEnumerable<Tampering> Of(string file, string json)
    {
        foreach (var (path, node) in Nodes(json))
        {
            if (node is JsonValue value && value.GetValueKind() == JsonValueKind.Number)
            {
                foreach (var number in Numbers)
                {
                    yield return Replace(file, json, path, $"number -> {number}", number);
                }
            }

            foreach (var other in Values)
            {
                yield return Replace(file, json, path, $"value -> {other}", other);
            }

            // An element of an array is dropped as its array's "element dropped" below.
            if (!path.EndsWith(']'))
            {
                yield return Edit(file, json, path, "member deleted", (parent, key) => ((JsonObject)parent).Remove((string)key));
            }

            if (node is JsonArray { Count: > 0 } array)
            {
                yield return Edit(file, json, path, "array emptied", (parent, key) => Set(parent, key, new JsonArray()));
                yield return Edit(file, json, path, "first element dropped", (parent, key) => ((JsonArray)Get(parent, key)!).RemoveAt(0));
                if (array.Count > 1)
                {
                    yield return Edit(file, json, path, "last element dropped", (parent, key) => ((JsonArray)Get(parent, key)!).RemoveAt(array.Count - 1));
                }

                yield return Edit(file, json, path, "first element duplicated", (parent, key) =>
                {
                    var items = (JsonArray)Get(parent, key)!;
                    items.Insert(1, items[0]?.DeepClone());
                });
            }
        }
    }

    private static Tampering Replace(string file, string json, string path, string edit, string replacement) =>
        Edit(file, json, path, edit, (parent, key) => Set(parent, key, JsonNode.Parse(replacement)));

    /// <summary>Applies <paramref name="change"/> to a fresh copy of the document at <paramref name="path"/>'s parent and key.</summary>
    private static Tampering Edit(string file, string json, string path, string edit, Action<JsonNode, object> change)
    {
        var root = JsonNode.Parse(json)!;
        var (parent, key) = Locate(root, path);
        change(parent, key);
        return new Tampering(file, path, edit, root.ToJsonString(Indented));
    }

    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    private static IEnumerable<(string Path, JsonNode? Node)> Walk(string path, JsonNode? node)
    {
        yield return (path, node);
        var children = node switch
        {
            JsonObject o => o.Select(m => (Path: $"{path}.{m.Key}", Node: m.Value)),
            JsonArray a => a.Select((item, i) => (Path: $"{path}[{i}]", Node: item)),
            _ => [],
        };
        foreach (var (childPath, child) in children.ToList())
        {
            foreach (var inner in Walk(childPath, child))
            {
                yield return inner;
            }
        }
    }

    /// <summary>The parent of the node at <paramref name="path"/> and the node's key there (a member name or an index).</summary>
    private static (JsonNode Parent, object Key) Locate(JsonNode root, string path)
    {
        var steps = Steps(path);
        var node = root;
        foreach (var step in steps.SkipLast(1))
        {
            node = Get(node, step) ?? throw new InvalidOperationException($"{path} passes through null");
        }

        return (node, steps[^1]);
    }

    /// <summary>"$.a.b[3].c" as ["a", "b", 3, "c"] (member names here have no dots or brackets).</summary>
    private static List<object> Steps(string path)
    {
        var steps = new List<object>();
        foreach (var part in path[1..].Split('.', StringSplitOptions.RemoveEmptyEntries))
        {
            var bracket = part.IndexOf('[', StringComparison.Ordinal);
            if (bracket != 0)
            {
                steps.Add(bracket < 0 ? part : part[..bracket]);
            }

            for (var at = bracket; at >= 0; at = part.IndexOf('[', at + 1))
            {
                var close = part.IndexOf(']', at);
                steps.Add(int.Parse(part[(at + 1)..close], CultureInfo.InvariantCulture));
            }
        }

        return steps;
    }

    private static JsonNode? Get(JsonNode parent, object key) => key is int index ? parent.AsArray()[index] : parent.AsObject()[(string)key];

    private static void Set(JsonNode parent, object key, JsonNode? value)
    {
        if (key is int index)
        {
            parent.AsArray()[index] = value;
        }
        else
        {
            parent.AsObject()[(string)key] = value;
        }
    }
}
