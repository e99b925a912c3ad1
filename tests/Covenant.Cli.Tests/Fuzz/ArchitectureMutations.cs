using System.Text.RegularExpressions;

namespace Covenant.Cli.Tests.Fuzz;

/// <summary>
/// Mutations of an architecture YAML that know its structure: a node, capability, operand, edge or field deleted or
/// duplicated, numbers made zero, negative or huge, references renamed to unknown or wrong names, units changed, flags
/// flipped, capability semantics rewritten. One call applies one; <see cref="Mutate"/> applies one to three, mixed
/// with the format-blind <see cref="TextMutations"/>.
/// </summary>
public static partial class ArchitectureMutations
{
    private static readonly (string Name, Regex Path)[] Parts =
    [
        ("node", new Regex(@"^nodes\.[^.]+$")),
        ("capability", new Regex(@"^nodes\.[^.]+\.capabilities\.[^.]+$")),
        ("operand", new Regex(@"\.operands\.[^.]+$")),
        ("immediate", new Regex(@"\.immediates\.[^.]+$")),
        ("edge", new Regex(@"^edges\[\]$")),
        ("field", new Regex(@"^(name|target|clock|description|nodes|edges)$|^nodes\.[^.]+\.[^.]+$|\.capabilities\.[^.]+\.[^.]+$")),
    ];

    private static readonly string[] SemanticsRewrites =
    [
        "c[i, j] += a[i, k] * b[k, j]", "c[i, j] += a[i, k] * b[j, k]", "acc[i, j] = 0", "dst[i, j] = dst[i, j] + src[i, j]",
        "dst[j] = max(dst[j], imm)", "c[j] += a[k] * b[j, k]", "d[i, j] += a[i, k] * b[k, j] + c[i, j]", "acc[i, j] += inp[i, k]",
        "acc[i] += inp[i, k] * wgt[i, k]", "acc[i, j] += inp[i, k] * wgt[j, k] * 2", "acc[i + 1, j] += inp[i, k] * wgt[j, k]",
        "acc[i, j] += inp[2 * i, k] * wgt[j, k]", "acc[i, j] += inp[i, k] * wgt[j, i]", "acc[i, j] += inp[i, k] / wgt[j, k]",
        "dst[i, j] = dst[i, j] >> 40", "dst[i, j] = dst[i, j] << imm", "dst[i, j] = relu(dst[i, j])", "y[i] = x[y[i]]", "",
        "acc[i, j] += inp[i, k] * wgt[j, k];; x", "acc[i, j] += inp[i, k] * wgt[j, k] + 0.5", "acc[i, j] = i8(inp[i, k])",
        "c[i, j] += a[i, k * 2 + 1] * b[k, j]", "c[i, i] += a[i, k] * b[k, i]", "c[] += a[] * b[]", "c[i, j] += a[i, j, k, l, m] * b[k, j]",
    ];

    private static readonly string[] ReferenceKinds = ["storage", "from", "to", "holds", "kind", "type", "target", "accepts", "transfer"];

    public static (string Text, string How) Mutate(string text, Random random)
    {
        ArgumentNullException.ThrowIfNull(random);
        var hows = new List<string>();
        var count = random.Next(1, 4);
        for (var i = 0; i < count; i++)
        {
            var (mutated, how) = random.Next(10) < 8 ? Structural(text, random) : TextMutations.Any(text, random);
            text = mutated;
            hows.Add(how);
        }

        return (text, string.Join("; ", hows));
    }

    public static (string Text, string How) Structural(string text, Random random)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(random);
        for (var attempt = 0; attempt < 8; attempt++)
        {
            var result = random.Next(9) switch
            {
                0 => DeleteBlock(text, random),
                1 => DuplicateBlock(text, random),
                2 or 3 => ChangeNumber(text, random),
                4 => RenameReference(text, random),
                5 => RewriteSemantics(text, random),
                6 => ChangeUnit(text, random),
                7 => FlipFlag(text, random),
                _ => ChangeShape(text, random),
            };
            if (result is { } done)
            {
                return done;
            }
        }

        return TextMutations.Any(text, random);
    }

    private static (string, string)? DeleteBlock(string text, Random random)
    {
        var lines = text.Split('\n').ToList();
        var (name, pattern) = Parts[random.Next(Parts.Length)];
        var candidates = YamlBlocks.Of(lines).Where(b => pattern.IsMatch(b.Path)).ToList();
        if (candidates.Count == 0)
        {
            return null;
        }

        var block = candidates[random.Next(candidates.Count)];
        lines.RemoveRange(block.First, block.End - block.First);
        return (string.Join('\n', lines), $"{name} {block.Path} (line {block.First + 1}) deleted");
    }

    private static (string, string)? DuplicateBlock(string text, Random random)
    {
        var lines = text.Split('\n').ToList();
        var (name, pattern) = Parts[random.Next(Parts.Length - 1)];
        var candidates = YamlBlocks.Of(lines).Where(b => pattern.IsMatch(b.Path)).ToList();
        if (candidates.Count == 0)
        {
            return null;
        }

        var block = candidates[random.Next(candidates.Count)];
        var copy = lines.GetRange(block.First, block.End - block.First);
        var renamed = block.Key != "[]" && random.Next(2) == 0;
        if (renamed)
        {
            // A second, differently named copy: a new node or capability nothing else mentions.
            var at = copy[0].IndexOf(block.Key, StringComparison.Ordinal);
            copy[0] = copy[0][..at] + block.Key + "_copy" + copy[0][(at + block.Key.Length)..];
        }

        lines.InsertRange(block.End, copy);
        return (string.Join('\n', lines), $"{name} {block.Path} (line {block.First + 1}) duplicated{(renamed ? " as " + block.Key + "_copy" : "")}");
    }

    private static (string, string)? ChangeNumber(string text, Random random)
    {
        var lines = text.Split('\n');
        var candidates = Enumerable.Range(0, lines.Length).Where(i => NumberInValue().IsMatch(WithoutComment(lines[i]))).ToList();
        if (candidates.Count == 0)
        {
            return null;
        }

        var line = candidates[random.Next(candidates.Count)];
        var code = WithoutComment(lines[line]);
        var number = TextMutations.ExtremeNumber(random);
        var changed = TextMutations.ReplaceOne(code, NumberInValue(), random, _ => number)!;
        lines[line] = changed + lines[line][code.Length..];
        return (string.Join('\n', lines), $"a number on line {line + 1} set to {number}");
    }

    private static (string, string)? RenameReference(string text, Random random)
    {
        var nodes = YamlBlocks.Of(text.Split('\n')).Where(b => b.Path.StartsWith("nodes.", StringComparison.Ordinal) && b.Path.Count(c => c == '.') == 1)
            .Select(b => b.Key).ToList();
        var kind = ReferenceKinds[random.Next(ReferenceKinds.Length)];
        var pattern = new Regex($@"\b{kind}: *([A-Za-z0-9_.\-]+)");
        string[] names = ["nowhere", "i8", "u8", "f32", "storage", "compute", "microcode", "data", "vta", "vnni", "tensorcore", "x.y", "_", "Dram", "true"];
        var name = random.Next(3) switch
        {
            0 when nodes.Count > 0 => nodes[random.Next(nodes.Count)],
            1 => names[random.Next(names.Length)],
            _ => null,
        };
        var changed = TextMutations.ReplaceOne(text, pattern, random, m =>
        {
            var old = m.Groups[1].Value;
            var value = name ?? (old.Length > 1 && random.Next(2) == 0 ? old[..^1] : old + "x");
            return m.Value[..(m.Groups[1].Index - m.Index)] + value;
        });
        return changed is null ? null : (changed, $"a '{kind}:' reference renamed{(name is null ? " (misspelled)" : " to " + name)}");
    }

    private static (string, string)? RewriteSemantics(string text, Random random)
    {
        var rewrite = random.Next(2) == 0
            ? SemanticsRewrites[random.Next(SemanticsRewrites.Length)]
            : null;
        var changed = TextMutations.ReplaceOne(text, Semantics(), random, m =>
        {
            var value = rewrite ?? TweakStatement(m.Groups[1].Value, random);
            return $"semantics: \"{value}\"";
        });
        return changed is null ? null : (changed, rewrite is null ? "semantics tweaked" : $"semantics rewritten to \"{rewrite}\"");
    }

    /// <summary>A small edit of a statement in the codelet language: an operator, an index, a name or an assignment changed.</summary>
    public static string TweakStatement(string statement, Random random)
    {
        ArgumentNullException.ThrowIfNull(statement);
        ArgumentNullException.ThrowIfNull(random);
        string[] operators = ["+", "-", "*", "/", "%", ">>", "<<"];
        return random.Next(7) switch
        {
            0 => statement.Contains("+=", StringComparison.Ordinal) ? statement.Replace("+=", "=", StringComparison.Ordinal) : statement.Replace(" = ", " += ", StringComparison.Ordinal),
            1 => TextMutations.ReplaceOne(statement, Operator(), random, _ => operators[random.Next(operators.Length)]) ?? statement + " * 2",
            2 => TextMutations.ReplaceOne(statement, Index(), random, m => random.Next(4) switch
            {
                0 => m.Value + " + 1",
                1 => "2 * " + m.Value,
                2 => "0",
                _ => m.Value == "k" ? "j" : "k",
            }) ?? statement,
            3 => TextMutations.ReplaceOne(statement, TensorName(), random, _ => random.Next(2) == 0 ? "zz" : "imm") ?? statement,
            4 => TextMutations.ReplaceOne(statement, IndexList(), random, m => m.Value.Contains(',', StringComparison.Ordinal)
                ? m.Value[..m.Value.LastIndexOf(',')] + "]"
                : m.Value[..^1] + ", k]") ?? statement,
            5 => $"max({statement}, 0)",
            _ => statement.Replace("]", ", i]", StringComparison.Ordinal),
        };
    }

    private static (string, string)? ChangeUnit(string text, Random random)
    {
        string[] units = ["B", "KiB", "KB", "MiB", "GiB", "TiB", "bytes", "B/cycle", "GB/s", "KiB/cycle", "MHz", "GHz", "Hz", "cycles", ""];
        var unit = units[random.Next(units.Length)];
        var changed = TextMutations.ReplaceOne(text, Unit(), random, m => m.Groups[1].Value + (unit.Length == 0 ? "" : " " + unit));
        return changed is null ? null : (changed, $"a unit changed to '{unit}'");
    }

    private static (string, string)? FlipFlag(string text, Random random)
    {
        var lines = text.Split('\n').ToList();
        string[] flags = ["offchip", "cache", "register_file", "double_buffered"];
        var flag = flags[random.Next(flags.Length)];
        var existing = TextMutations.ReplaceOne(text, new Regex($@"\b{flag}: *(true|false)"), random,
            m => $"{flag}: {(m.Groups[1].Value == "true" ? (random.Next(3) == 0 ? "maybe" : "false") : "true")}");
        if (existing is not null && random.Next(2) == 0)
        {
            return (existing, $"'{flag}' flipped");
        }

        var storage = YamlBlocks.Of(lines).Where(b => b.Path.StartsWith("nodes.", StringComparison.Ordinal) && b.Path.Count(c => c == '.') == 1).ToList();
        if (storage.Count == 0)
        {
            return null;
        }

        var node = storage[random.Next(storage.Count)];
        lines.Insert(node.First + 1, new string(' ', node.Indent + 2) + $"{flag}: true");
        return (string.Join('\n', lines), $"'{flag}: true' added to {node.Path}");
    }

    private static (string, string)? ChangeShape(string text, Random random)
    {
        var changed = TextMutations.ReplaceOne(text, Shape(), random, m =>
        {
            var axes = m.Groups[1].Value.Split(',').Select(a => a.Trim()).Where(a => a.Length > 0).ToList();
            switch (random.Next(3))
            {
                case 0 when axes.Count > 0:
                    axes.RemoveAt(random.Next(axes.Count));
                    break;
                case 1:
                    axes.Add($"{(random.Next(2) == 0 ? "l" : "k")}: {1 << random.Next(7)}");
                    break;
                default:
                    axes.Reverse();
                    break;
            }

            return "shape: {" + string.Join(", ", axes) + "}";
        });
        return changed is null ? null : (changed, "a capability shape changed");
    }

    private static string WithoutComment(string line)
    {
        var hash = line.IndexOf('#', StringComparison.Ordinal);
        return hash < 0 ? line : line[..hash];
    }

    [GeneratedRegex(@"(?<![A-Za-z_\d.])\d+(\.\d+)?(?![A-Za-z_\d.])")]
    private static partial Regex NumberInValue();

    [GeneratedRegex("semantics: *\"([^\"]*)\"")]
    private static partial Regex Semantics();

    [GeneratedRegex(@"\+=|(?<![<>])[+\-*/%](?!=)|>>|<<")]
    private static partial Regex Operator();

    [GeneratedRegex(@"(?<=[\[,] *)[a-z](?= *[\],])")]
    private static partial Regex Index();

    [GeneratedRegex(@"\b[a-z_]+(?=\[)")]
    private static partial Regex TensorName();

    [GeneratedRegex(@"\[[^\[\]]*\]")]
    private static partial Regex IndexList();

    [GeneratedRegex(@"(\d+(?:\.\d+)?) *(B/cycle|GB/s|KiB|MiB|GiB|B|MHz|GHz)\b")]
    private static partial Regex Unit();

    [GeneratedRegex(@"shape: *\{([^}]*)\}")]
    private static partial Regex Shape();
}
