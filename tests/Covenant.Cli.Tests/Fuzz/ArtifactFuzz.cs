using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Covenant.Testing;

namespace Covenant.Cli.Tests.Fuzz;

/// <summary>
/// Artifacts for the fuzz campaign: a few small layers compiled once per campaign for VTA, VNNI and TensorCore
/// (<see cref="Compile"/>), then per case a copy with one or two of its files mutated: a JSON value made negative,
/// zero, huge, of the wrong type, deleted or duplicated; <c>program.bin</c>/<c>uops.bin</c> truncated, bit-flipped,
/// padded or with a record scrambled; the kernel sources, the listing, the codelet and the architecture edited as
/// text; a file deleted, emptied or replaced by a folder.
/// </summary>
public static class ArtifactFuzz
{
    /// <summary>The layers compiled once: codelet, architecture, bindings.</summary>
    public static readonly (string Codelet, string Architecture, string Bindings)[] Layers =
    [
        ("gemm", "vta", "M=16,N=16,K=32"),
        ("conv2d", "vta", "N=1,H=5,W=5,C=16,K=16,R=3,S=3,pad=1"),
        ("fc_requant", "vta", "M=4,N=32,K=32"),
        ("gemm", "vnni-avx512", "M=8,N=32,K=16"),
        ("fc_requant", "vnni-avx512", "M=4,N=16,K=8"),
        ("gemm", "tensorcore-sm80", "M=16,N=16,K=32"),
        ("gemm_f16", "tensorcore-sm80", "M=16,N=8,K=16"),
    ];

    /// <summary>Compiles every layer of <see cref="Layers"/> under <paramref name="root"/>; returns their folders.</summary>
    public static IReadOnlyList<string> Compile(string root)
    {
        var folders = new List<string>();
        foreach (var (codelet, architecture, bindings) in Layers)
        {
            var folder = Path.Combine(root, $"{codelet}-{architecture}");
            var compile = CliRun.Of("compile", Shipped.CodeletPath(codelet), "--arch", Shipped.ArchitecturePath(architecture), "--set", bindings, "-o", folder);
            if (compile.ExitCode != 0)
            {
                throw new InvalidOperationException($"the fuzz campaign's base artifact {codelet} on {architecture} does not compile:\n{compile}");
            }

            folders.Add(folder);
        }

        return folders;
    }

    /// <summary>Copies <paramref name="source"/> to <paramref name="target"/> and mutates one or two of its files.</summary>
    public static string Mutate(string source, string target, Random random)
    {
        ArgumentNullException.ThrowIfNull(random);
        Directory.CreateDirectory(target);
        foreach (var file in Directory.GetFiles(source))
        {
            File.Copy(file, Path.Combine(target, Path.GetFileName(file)));
        }

        var hows = new List<string>();
        var count = random.Next(1, 3);
        for (var i = 0; i < count; i++)
        {
            var files = Directory.GetFiles(target).Order(StringComparer.Ordinal).ToArray();
            if (files.Length == 0)
            {
                break;
            }

            // The manifest and the target's own files are what a hand edit is most likely to touch.
            var file = random.Next(3) == 0 ? Path.Combine(target, "artifact.json") : files[random.Next(files.Length)];
            if (!File.Exists(file))
            {
                continue;
            }

            hows.Add(Path.GetFileName(file) + ": " + MutateFile(file, random));
        }

        return $"{Path.GetFileName(source)}: " + string.Join("; ", hows);
    }

    private static string MutateFile(string file, Random random)
    {
        switch (random.Next(20))
        {
            case 0:
                File.Delete(file);
                return "deleted";
            case 1:
                File.WriteAllBytes(file, []);
                return "emptied";
            case 2:
                File.Delete(file);
                Directory.CreateDirectory(file);
                return "replaced by a folder";
        }

        var name = Path.GetFileName(file);
        var text = name.EndsWith(".bin", StringComparison.Ordinal) ? null : File.ReadAllText(file);
        string how;
        switch (Path.GetExtension(name))
        {
            case ".json":
                (text, how) = random.Next(5) == 0 ? TextMutations.Any(text!, random) : MutateJson(text!, random);
                break;
            case ".bin":
                var bytes = File.ReadAllBytes(file);
                (bytes, how) = MutateBinary(bytes, name == "uops.bin" ? 4 : 16, random);
                File.WriteAllBytes(file, bytes);
                return how;
            case ".yaml":
                (text, how) = ArchitectureMutations.Mutate(text!, random);
                break;
            case ".cdlt":
                (text, how) = CodeletFuzz.Mutate(text!, random);
                break;
            default:
                (text, how) = TextMutations.Any(text!, random);
                break;
        }

        File.WriteAllText(file, text, new UTF8Encoding(false));
        return how;
    }

    private static (string Text, string How) MutateJson(string text, Random random)
    {
        JsonNode? root;
        var values = new List<(JsonNode? Parent, string? Key, int Index, string Path)>();
        try
        {
            root = JsonNode.Parse(text);
            Collect(root, null, null, -1, "$", values);
        }
        catch (Exception e) when (e is JsonException or ArgumentException)
        {
            // Not JSON any more (an earlier mutation of this file), or JSON with a key twice, which JsonObject refuses
            // only when its members are first read: mutate it as text.
            return TextMutations.Any(text, random);
        }

        if (values.Count == 0 || root is null)
        {
            return TextMutations.Any(text, random);
        }

        var (parent, key, index, path) = values[random.Next(values.Count)];
        string how;
        JsonNode? replacement = null;
        var remove = false;
        switch (random.Next(12))
        {
            case 0:
                remove = true;
                how = "removed";
                break;
            case 1:
                replacement = JsonValue.Create("seven");
                how = "set to a string";
                break;
            case 2:
                how = "set to null";
                break;
            case 3:
                replacement = new JsonArray(1, 2);
                how = "set to an array";
                break;
            case 4:
                replacement = new JsonObject { ["x"] = 1 };
                how = "set to an object";
                break;
            case 5:
                replacement = JsonValue.Create(true);
                how = "set to true";
                break;
            case 6 when parent is JsonArray:
                replacement = null;
                how = "duplicated";
                break;
            default:
                var number = TextMutations.ExtremeNumber(random);
                replacement = JsonNode.Parse(number);
                how = "set to " + number;
                break;
        }

        switch (parent)
        {
            case JsonObject o when remove:
                o.Remove(key!);
                break;
            case JsonObject o:
                o[key!] = replacement;
                break;
            case JsonArray a when remove:
                a.RemoveAt(index);
                break;
            case JsonArray a when how == "duplicated":
                a.Insert(index, a[index]?.DeepClone());
                break;
            case JsonArray a:
                a[index] = replacement;
                break;
            default:
                return TextMutations.Any(text, random);
        }

        return (root.ToJsonString(new JsonSerializerOptions { WriteIndented = true }), $"{path} {how}");
    }

    private static void Collect(JsonNode? node, JsonNode? parent, string? key, int index, string path, List<(JsonNode?, string?, int, string)> values)
    {
        if (parent is not null)
        {
            values.Add((parent, key, index, path));
        }

        switch (node)
        {
            case JsonObject o:
                foreach (var (name, child) in o.ToList())
                {
                    Collect(child, o, name, -1, path + "." + name, values);
                }

                break;
            case JsonArray a:
                // Long arrays (instruction lists) are sampled, not walked whole.
                for (var i = 0; i < a.Count; i += Math.Max(1, a.Count / 16))
                {
                    Collect(a[i], a, null, i, $"{path}[{i}]", values);
                }

                break;
        }
    }

    private static (byte[] Bytes, string How) MutateBinary(byte[] bytes, int record, Random random)
    {
        if (bytes.Length == 0)
        {
            return (new byte[record], "a zero record written into the empty file");
        }

        switch (random.Next(6))
        {
            case 0:
                var length = random.Next(bytes.Length);
                return (bytes[..length], $"truncated to {length} bytes");
            case 1:
                var flips = random.Next(1, 5);
                for (var i = 0; i < flips; i++)
                {
                    bytes[random.Next(bytes.Length)] ^= (byte)(1 << random.Next(8));
                }

                return (bytes, $"{flips} bits flipped");
            case 2:
                var junk = new byte[random.Next(1, 2 * record)];
                random.NextBytes(junk);
                return ([.. bytes, .. junk], $"{junk.Length} random bytes appended");
            case 3:
                var at = random.Next(bytes.Length / record) * record;
                var scrambled = new byte[record];
                random.NextBytes(scrambled);
                scrambled.CopyTo(bytes, at);
                return (bytes, $"record at byte {at} replaced by random bytes");
            case 4:
                var copied = random.Next(bytes.Length / record) * record;
                return ([.. bytes[..copied], .. bytes[copied..Math.Min(bytes.Length, copied + record)], .. bytes[copied..]], $"record at byte {copied} duplicated");
            default:
                var a = random.Next(bytes.Length / record) * record;
                var b = random.Next(bytes.Length / record) * record;
                for (var i = 0; i < record && a + i < bytes.Length && b + i < bytes.Length; i++)
                {
                    (bytes[a + i], bytes[b + i]) = (bytes[b + i], bytes[a + i]);
                }

                return (bytes, $"records at bytes {a} and {b} swapped");
        }
    }
}
