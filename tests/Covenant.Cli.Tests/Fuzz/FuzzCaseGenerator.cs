using System.Text;
using Covenant.Testing;

namespace Covenant.Cli.Tests.Fuzz;

/// <summary>
/// Writes case <c>index</c> of a campaign seeded with <c>seed</c> into its own folder: the same seed and index give the
/// same files on every run (each case has its own random stream), so any case can be replayed alone.
/// Kinds are drawn 30 % architectures, 25 % codelets, 15 % artifacts and 30 % architecture and codelet pairs (pairs
/// mostly of shipped, generated or once-mutated graphs, so that many pass the checks and reach the mapper and the targets).
/// </summary>
public sealed class FuzzCaseGenerator(int seed, string root, Func<IReadOnlyList<string>> baseArtifacts)
{
    private static readonly string[] ShippedArchitectures = Directory.GetFiles(Repo.Architectures, "*.yaml").Order(StringComparer.Ordinal).ToArray();
    private static readonly string[] ShippedCodelets = Directory.GetFiles(Repo.Codelets, "*.cdlt").Order(StringComparer.Ordinal).ToArray();

    public int Seed { get; } = seed;

    /// <summary>The random stream of one case: a SplitMix64 step of the seed and the index, so neighbours are unrelated.</summary>
    public static Random StreamOf(int seed, int index)
    {
        var z = ((ulong)(uint)seed << 32 | (uint)index) + 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return new Random((int)((z ^ (z >> 31)) & 0x7FFFFFFF));
    }

    public FuzzCase Generate(int index)
    {
        var random = StreamOf(Seed, index);
        var directory = Path.Combine(root, $"case{index}");
        Directory.CreateDirectory(directory);
        var draw = random.Next(100);
        return draw switch
        {
            < 30 => ArchitectureCase(index, directory, random),
            < 55 => CodeletCase(index, directory, random),
            < 70 => ArtifactCase(index, directory, random),
            _ => PairCase(index, directory, random),
        };
    }

    private FuzzCase ArchitectureCase(int index, string directory, Random random)
    {
        var (text, how) = Architecture(random, shippedShare: 5, generatedShare: 30, mildShare: 0);
        var path = Write(directory, "arch.yaml", text);
        return new FuzzCase(index, FuzzKind.Architecture, directory, how) { Architecture = path };
    }

    private FuzzCase CodeletCase(int index, string directory, Random random)
    {
        var (name, text, how) = Codelet(random, mutatedShare: 80);
        var path = Write(directory, name + ".cdlt", text);
        return new FuzzCase(index, FuzzKind.Codelet, directory, how) { Codelet = path };
    }

    private FuzzCase ArtifactCase(int index, string directory, Random random)
    {
        var bases = baseArtifacts();
        var source = bases[random.Next(bases.Count)];
        var artifact = Path.Combine(directory, "artifact");
        var how = ArtifactFuzz.Mutate(source, artifact, random);
        return new FuzzCase(index, FuzzKind.Artifact, directory, how) { Artifact = artifact };
    }

    private static FuzzCase PairCase(int index, string directory, Random random)
    {
        var (archText, archHow) = Architecture(random, shippedShare: 25, generatedShare: 35, mildShare: 40);
        var (name, codeletText, codeletHow) = Codelet(random, mutatedShare: 10);
        var architecture = Write(directory, "arch.yaml", archText);
        var codelet = Write(directory, name + ".cdlt", codeletText);
        // Now and then shapes far from small (zero, negative, beyond 32 bits, primes): compiled but not run.
        var extreme = random.Next(6) == 0;
        var bindings = extreme ? ExtremeBindings(codeletText, random) : Bindings(codeletText, random);
        // Now and then the image at an unusual physical address: zero, unaligned, at the top of 32 or 64 bits, not a number.
        var dramBase = random.Next(10) == 0 ? Pick(random, "0", "0x0", "0x10000001", "0x7FFFFFFF", "0xFFFFFFFF", "0xFFFFFFFFFFFFF000", "0xFFFFFFFFFFFFFFFF", "4096", "-5", "0xZZ") : null;
        return new FuzzCase(index, FuzzKind.Pair, directory, $"{archHow} | {codeletHow} | --set {bindings}{(dramBase is null ? "" : " --dram-base " + dramBase)}")
        {
            DramBase = dramBase,
            RunAfterCompile = !extreme,
            Architecture = architecture,
            Codelet = codelet,
            Bindings = bindings,
            ArchitectureShipped = archHow.StartsWith("shipped ", StringComparison.Ordinal),
            Artifact = Path.Combine(directory, "artifact"),
        };
    }

    /// <summary>
    /// A shipped architecture unchanged, one written from scratch, a shipped one with one structural mutation (mild), or
    /// (the rest) one with one to three mutations of any kind; the shares are percentages.
    /// </summary>
    private static (string Text, string How) Architecture(Random random, int shippedShare, int generatedShare, int mildShare)
    {
        var draw = random.Next(100);
        if (draw < generatedShare)
        {
            return ArchitectureGenerator.Generate(random);
        }

        var source = ShippedArchitectures[random.Next(ShippedArchitectures.Length)];
        var text = File.ReadAllText(source);
        if (draw < generatedShare + shippedShare)
        {
            return (text, "shipped " + Path.GetFileName(source));
        }

        var (mutated, how) = draw < generatedShare + shippedShare + mildShare
            ? ArchitectureMutations.Structural(text, random)
            : ArchitectureMutations.Mutate(text, random);
        return (mutated, $"{Path.GetFileName(source)}: {how}");
    }

    /// <summary>A shipped codelet (unchanged or mutated) or one written from scratch; the name is the file's.</summary>
    private static (string Name, string Text, string How) Codelet(Random random, int mutatedShare)
    {
        var draw = random.Next(100);
        if (draw < 35)
        {
            var (generated, how) = CodeletFuzz.Generate("fuzzed", random);
            return ("fuzzed", generated, how);
        }

        var source = ShippedCodelets[random.Next(ShippedCodelets.Length)];
        var name = Path.GetFileNameWithoutExtension(source);
        var text = File.ReadAllText(source);
        if (draw < 35 + mutatedShare * 65 / 100)
        {
            var (mutated, how) = CodeletFuzz.Mutate(text, random);
            return (name, mutated, $"{name}.cdlt: {how}");
        }

        return (name, text, $"shipped {name}.cdlt");
    }

    /// <summary>
    /// Small shapes for every parameter without a default (and now and then one with a default), shrunk until the
    /// product stays under 2^17 so a compile and a simulated run take a second or two.
    /// </summary>
    public static string Bindings(string codelet, Random random)
    {
        ArgumentNullException.ThrowIfNull(random);
        var values = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var parameter in CodeletFuzz.Parameters(codelet))
        {
            values[parameter] = parameter switch
            {
                "R" or "S" or "T" => random.Next(1, 4),
                "G" => Pick(random, 1, 2, 4),
                _ => Pick(random, 1, 2, 3, 4, 7, 8, 16, 16, 17, 32, 32, 48, 64),
            };
        }

        while (values.Count > 0 && values.Values.Aggregate(1L, (a, b) => a * b) > 1 << 17)
        {
            var largest = values.MaxBy(v => v.Value).Key;
            values[largest] = Math.Max(1, values[largest] / 2);
        }

        if (random.Next(5) == 0 && codelet.Contains("pad = 0", StringComparison.Ordinal))
        {
            values["pad"] = random.Next(0, 3);
        }

        if (random.Next(5) == 0 && codelet.Contains("stride = 1", StringComparison.Ordinal))
        {
            values["stride"] = random.Next(1, 4);
        }

        return string.Join(",", values.Select(v => $"{v.Key}={v.Value}"));
    }

    /// <summary>
    /// Shapes that test the arithmetic of the mapper and the targets: one parameter 0, negative, large or beyond 32 bits,
    /// the others small and odd; a valid large layer is kept under 2^28 multiply-accumulates so a compile stays quick.
    /// </summary>
    public static string ExtremeBindings(string codelet, Random random)
    {
        ArgumentNullException.ThrowIfNull(random);
        var parameters = CodeletFuzz.Parameters(codelet);
        if (parameters.Count == 0)
        {
            return "";
        }

        var values = parameters.ToDictionary(p => p, _ => (long)Pick(random, 1, 3, 13, 17, 127, 255), StringComparer.Ordinal);
        var big = parameters[random.Next(parameters.Count)];
        values[big] = Pick(random, 0L, -1L, 1000L, 4097L, 65536L, 1000000L, 2147483647L, 4294967296L);
        if (values[big] is > 0 and < int.MaxValue)
        {
            foreach (var other in parameters.Where(p => p != big && values.Values.Aggregate(1L, (a, b) => a * b) > 1L << 28))
            {
                values[other] = 1;
            }
        }

        return string.Join(",", values.Select(v => $"{v.Key}={v.Value}"));
    }

    private static T Pick<T>(Random random, params T[] choices) => choices[random.Next(choices.Length)];

    private static string Write(string directory, string name, string text)
    {
        var path = Path.Combine(directory, name);
        File.WriteAllText(path, text, new UTF8Encoding(false));
        return path;
    }
}
