using System.Text.Json;
using System.Text.Json.Nodes;
using Covenant.Testing;

namespace Covenant.Cli.Tests;

/// <summary>
/// The emitted code of each target, as text: every <c>Golden/emitted/*.compile</c> names a codelet, an architecture,
/// shape bindings and the artifact files to show; <c>covenantc compile</c> builds the artifact and its
/// <c>.expected</c> file holds those files one after another. They document what each target emits for a tiny
/// shape, and they guard refactorings that must not change output. After an intended change rewrite them with
/// <c>COVENANT_UPDATE_GOLDEN=1</c> and read the diff.
/// </summary>
public sealed class EmittedCodeGoldenTests
{
    private const string InputPattern = "*.compile";

    private static readonly string Folder = Repo.PathOf("tests", "Covenant.Cli.Tests", "Golden", "emitted");

    public static IEnumerable<TestCaseData> Cases() =>
        GoldenFile.Inputs(Folder, InputPattern).Select(path => new TestCaseData(path).SetArgDisplayNames(Path.GetFileName(path)));

    [TestCaseSource(nameof(Cases))]
    public void EmittedFilesMatchTheExpectedFile(string path)
    {
        var request = GoldenCompile.Parse(path);
        var directory = Directory.CreateTempSubdirectory("covenant-golden-");
        try
        {
            var run = CliRun.Of("compile", Repo.PathOf("codelets", request.Codelet + ".cdlt"),
                "--arch", Repo.PathOf("architectures", request.Architecture + ".yaml"), "--set", request.Bindings, "-o", directory.FullName);
            Assert.That(run.ExitCode, Is.Zero, run.ToString());
            var shown = request.Files.Select(file => Show(directory.FullName, file));
            var difference = GoldenFile.Compare(path, string.Join("\n", shown));
            Assert.That(difference, Is.Null, difference);
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    [Test]
    public void EveryTargetHasGoldens()
    {
        var architectures = GoldenFile.Inputs(Folder, InputPattern).Select(p => GoldenCompile.Parse(p).Architecture).ToList();
        Assert.That(architectures.Where(a => a.StartsWith("vta", StringComparison.Ordinal)).Count(), Is.GreaterThanOrEqualTo(2));
        Assert.That(architectures.Where(a => a.StartsWith("vnni", StringComparison.Ordinal)).Count(), Is.GreaterThanOrEqualTo(2));
        Assert.That(architectures.Where(a => a.StartsWith("tensorcore", StringComparison.Ordinal)).Count(), Is.GreaterThanOrEqualTo(2));
    }

    [Test]
    public void EveryExpectedFileHasAnInput() => Assert.That(GoldenFile.Orphans(Folder, InputPattern), Is.Empty);

    /// <summary>
    /// One emitted file under a header line. mapping.json loses its wall-clock seconds and has its keys sorted
    /// (its cost dictionaries are not written in a stable order); the other files are shown as written.
    /// </summary>
    private static string Show(string directory, string file)
    {
        var text = File.ReadAllText(Path.Combine(directory, file));
        if (file.EndsWith(".json", StringComparison.Ordinal))
        {
            text = Canonical(JsonNode.Parse(text))!.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n";
        }

        return $"==== {file}\n{text.TrimEnd('\n')}\n";
    }

    private static JsonNode? Canonical(JsonNode? node) => node switch
    {
        JsonObject o => new JsonObject(o
            .Where(p => !p.Key.EndsWith("Seconds", StringComparison.Ordinal))
            .OrderBy(p => p.Key, StringComparer.Ordinal)
            .Select(p => KeyValuePair.Create(p.Key, Canonical(p.Value)))),
        JsonArray a => new JsonArray([.. a.Select(Canonical)]),
        null => null,
        _ => node.DeepClone(),
    };

    /// <summary>
    /// A golden input: <c>codelet:</c>, <c>arch:</c>, <c>set:</c> (the bindings as <c>--set</c> takes them) and
    /// <c>files:</c> (the artifact files to show, in order); lines starting with <c>#</c> say what the case shows.
    /// </summary>
    private sealed record GoldenCompile(string Codelet, string Architecture, string Bindings, IReadOnlyList<string> Files)
    {
        public static GoldenCompile Parse(string path)
        {
            var fields = File.ReadLines(path)
                .Where(line => line.Length > 0 && !line.StartsWith('#'))
                .Select(line => line.Split(':', 2, StringSplitOptions.TrimEntries))
                .ToDictionary(pair => pair[0], pair => pair[1], StringComparer.Ordinal);
            return new GoldenCompile(fields["codelet"], fields["arch"], fields["set"],
                fields["files"].Split(' ', StringSplitOptions.RemoveEmptyEntries));
        }
    }
}
