using System.Text.RegularExpressions;

namespace Covenant.Testing;

/// <summary>One edit of a YAML: the first match of <see cref="Pattern"/> becomes <see cref="Replacement"/> (with <c>$1</c> groups).</summary>
public sealed record YamlEdit(string Pattern, string Replacement);

/// <summary>
/// A shipped architecture with one capability changed so that it no longer is the instruction its target emits (an
/// operator, swapped indices, a wrong accumulation, a type, an immediate range), and what the target's architecture
/// check must say: the id, the capability it names, and the YAML text its position must point at.
/// </summary>
/// <param name="PointsAt">Text of the mutated file where the diagnostic must be: its first occurrence's line and column.</param>
public sealed record CapabilityMutation(string Architecture, string Kind, string Capability, string ExpectedId, IReadOnlyList<YamlEdit> Edits, string PointsAt)
{
    /// <summary>Shipped files by family: every file of <c>architectures/</c> belongs to one (a test checks it).</summary>
    public static IReadOnlyDictionary<string, string[]> Families { get; } = new Dictionary<string, string[]>(StringComparer.Ordinal)
    {
        ["vta"] = ["vta.yaml", "vta-1x32x32.yaml", "vta-halved.yaml"],
        ["vnni"] = ["vnni-avx512.yaml", "vnni-avx256.yaml"],
        ["tensorcore"] = ["tensorcore-sm80.yaml", "tensorcore-sm90.yaml"],
    };

    public string Family => Families.First(f => f.Value.Contains(Architecture)).Key;

    /// <summary>The mutated YAML text; throws when an edit no longer matches the shipped file (the table needs updating).</summary>
    public string Apply()
    {
        var text = File.ReadAllText(Repo.PathOf("architectures", Architecture));
        foreach (var edit in Edits)
        {
            var pattern = new Regex(edit.Pattern, RegexOptions.CultureInvariant);
            if (!pattern.IsMatch(text))
            {
                throw new InvalidOperationException($"{this}: '{edit.Pattern}' does not occur in {Architecture}");
            }

            text = pattern.Replace(text, edit.Replacement, 1);
        }

        return text;
    }

    /// <summary>Writes the mutated YAML into <paramref name="folder"/> under a name saying what changed; returns its path.</summary>
    public string WriteTo(string folder)
    {
        var name = Path.GetFileNameWithoutExtension(Architecture) + "-" + Regex.Replace(Kind, "[^a-z0-9]+", "-") + ".yaml";
        var path = Path.Combine(folder, name);
        File.WriteAllText(path, Apply());
        return path;
    }

    /// <summary>The 1-based line and column of <see cref="PointsAt"/> in the mutated text.</summary>
    public (int Line, int Column) ExpectedPosition()
    {
        var lines = Apply().Split('\n');
        for (var n = 0; n < lines.Length; n++)
        {
            var column = lines[n].IndexOf(PointsAt, StringComparison.Ordinal);
            if (column >= 0)
            {
                return (n + 1, column + 1);
            }
        }

        throw new InvalidOperationException($"{this}: '{PointsAt}' is not in the mutated {Architecture}");
    }

    public override string ToString() => $"{Architecture}: {Kind}";

    /// <summary>Every mutation of every shipped architecture.</summary>
    public static IEnumerable<CapabilityMutation> All() =>
        Families.SelectMany(family => family.Value.SelectMany(file => Of(family.Key, file)));

    private static IEnumerable<CapabilityMutation> Of(string family, string file) => family switch
    {
        "vta" => Vta(file),
        "vnni" => Vnni(file),
        _ => TensorCore(file),
    };

    private static CapabilityMutation Semantics(string file, string kind, string capability, string id, string from, string to) =>
        new(file, kind, capability, id, [new YamlEdit(Regex.Escape($"\"{from}\""), $"\"{to}\"")], to);

    private static IEnumerable<CapabilityMutation> Vta(string file)
    {
        const string gemm = "acc[i, j] += inp[i, k] * wgt[j, k]";
        const string add = "dst[i, j] = dst[i, j] + src[i, j]";
        yield return Semantics(file, "+ for *", "gemm", "COV5110", gemm, "acc[i, j] += inp[i, k] + wgt[j, k]");
        yield return Semantics(file, "swapped weight indices", "gemm", "COV5110", gemm, "acc[i, j] += inp[i, k] * wgt[k, j]");
        yield return Semantics(file, "= for +=", "gemm", "COV5110", gemm, "acc[i, j] = inp[i, k] * wgt[j, k]");
        yield return new(file, "u8 input", "gemm", "COV5111",
            [new(@"inp: \{type: i8, storage: inp_buf\}", "inp: {type: u8, storage: inp_buf}"),
             new(@"element: \{type: i8(, shape: \[1, \d+\]\}\s+# BATCH x BLOCK_IN)", "element: {type: u8$1")],
            "inp: {type: u8");
        yield return Semantics(file, "swapped ALU indices", "add", "COV5110", add, "dst[i, j] = dst[i, j] + src[j, i]");
        yield return Semantics(file, "ALU * for +", "add", "COV5110", add, "dst[i, j] = dst[i, j] * src[i, j]");
        yield return Semantics(file, "reset to one", "gemm_reset", "COV5110", "acc[i, j] = 0", "acc[i, j] = 1");
        yield return new(file, "shift immediate beyond 31", "shr_imm", "COV5111",
            [new(@"imm: \{type: i32, min: 0, max: 31\}", "imm: {type: i32, min: 0, max: 255}")], "imm: {type: i32, min: 0, max: 255}");
    }

    private static IEnumerable<CapabilityMutation> Vnni(string file)
    {
        const string dot = "c[j] += a[k] * b[j, k]";
        yield return Semantics(file, "+ for *", "vpdpbusd", "COV5216", dot, "c[j] += a[k] + b[j, k]");
        yield return Semantics(file, "swapped indices", "vpdpbusd", "COV5216", dot, "c[j] += a[k] * b[k, j]");
        yield return Semantics(file, "= for +=", "vpdpbusd", "COV5216", dot, "c[j] = a[k] * b[j, k]");
        yield return new(file, "u8 for the signed operand", "vpdpbusd", "COV5217",
            [new(@"b: \{type: i8, storage: (\w+)\}", "b: {type: u8, storage: $1}")], "b: {type: u8");
        yield return Semantics(file, "* for + in vpaddd", "add", "COV5216", "dst[j] = dst[j] + src[j]", "dst[j] = dst[j] * src[j]");
        yield return new(file, "vpsrad count beyond 31", "shr_imm", "COV5216",
            [new(@"imm: \{type: i32, min: 0, max: 31\}", "imm: {type: i32, min: 0, max: 255}")], "dst[j] = dst[j] >> imm");
    }

    private static IEnumerable<CapabilityMutation> TensorCore(string file)
    {
        const string mma = "d[i, j] += a[i, k] * b[k, j]";
        const string f16 = "mma.sync.aligned.m16n8k16";
        yield return Semantics(file, "+ for *", f16, "COV5304", mma, "d[i, j] += a[i, k] + b[k, j]");
        yield return Semantics(file, "swapped indices", f16, "COV5304", mma, "d[i, j] += a[k, i] * b[k, j]");
        yield return Semantics(file, "= for +=", f16, "COV5304", mma, "d[i, j] = a[i, k] * b[k, j]");
        yield return new(file, "f16 accumulator", f16, "COV5302", [new(@"d: \{type: f32, storage: regs\}", "d: {type: f16, storage: regs}")], "d: {type: f16");
        yield return new(file, "non-affine index", "mma.sync.aligned.m16n8k32", "COV5304",
            [new(Regex.Escape($"\"{mma}\"") + @"(\s+shape: \{i: 16, j: 8, k: 32\})", "\"d[i, j] += a[i, k] * b[k * k, j]\"$1")],
            "d[i, j] += a[i, k] * b[k * k, j]");
    }
}
