using System.Diagnostics;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Covenant.Testing;

namespace Covenant.Cli.Tests;

/// <summary>
/// Issue 16 item 2: an artifact whose JSON files were edited by hand is refused with a user error (an id, the file,
/// where in it) or runs and is compared (exit 2 on a mismatch), never an internal error, a .NET exception's text or a
/// hang. Small gemm and conv2d artifacts for VTA, VNNI and TensorCore are compiled once; every field of every JSON
/// file <c>run</c> reads is tampered with (<see cref="JsonTampering"/>), one edit per run.
/// </summary>
[NonParallelizable]
public sealed partial class ArtifactTamperingTests
{
    /// <summary>The JSON files <c>run</c> reads (mapping.json is a report for people; <c>run</c> never reads it).</summary>
    private static readonly string[] RunFiles = ["artifact.json", "memory-map.json", "program.json", "vnni_plan.json", "tensorcore_program.json"];

    private static readonly (string Codelet, string Bindings)[] Codelets =
    [
        ("gemm", "M=16,N=32,K=64"),
        ("conv2d", "N=1,H=8,W=8,C=16,K=16,R=3,S=3,pad=1"),
    ];

    private static readonly string[] Architectures = ["vta", "vnni-avx512", "tensorcore-sm80"];

    /// <summary>Tampered runs per artifact file in the default run; the Fuzz category runs them all.</summary>
    private const int SamplePerFile = 40;

    private const int Seed = 16;

    private static readonly TimeSpan Hang = TimeSpan.FromSeconds(60);

    private DirectoryInfo root = null!;

    /// <summary>"gemm-vta" and so on: the compiled artifact directories.</summary>
    private readonly Dictionary<string, string> artifacts = new(StringComparer.Ordinal);

    [OneTimeSetUp]
    public void CompileArtifacts()
    {
        root = Directory.CreateTempSubdirectory("covenant-tampering-");
        foreach (var (codelet, bindings) in Codelets)
        {
            foreach (var arch in Architectures)
            {
                var directory = Path.Combine(root.FullName, $"{codelet}-{arch}");
                var compile = CliRun.Of("compile", Repo.PathOf("codelets", codelet + ".cdlt"), "--arch", Repo.PathOf("architectures", arch + ".yaml"),
                    "--set", bindings, "-o", directory);
                Assert.That(compile.ExitCode, Is.Zero, compile.ToString());
                artifacts[$"{codelet}-{arch}"] = directory;
            }
        }
    }

    [OneTimeTearDown]
    public void DeleteArtifacts() => root.Delete(recursive: true);

    [Test]
    public void UntamperedArtifactsRunAndMatch()
    {
        foreach (var (name, directory) in artifacts)
        {
            var run = CliRun.Of("run", directory, "--simulate");
            Assert.That(run.ExitCode, Is.Zero, $"{name}: {run}");
        }
    }

    // The cases issue 16 found, one test each: a user error naming the file and the JSON path, exit 1.

    [TestCase("vta", "memory-map.json", "COV6041")]
    [TestCase("tensorcore-sm80", "tensorcore_program.json", "COV6041")]
    [TestCase("vnni-avx512", "vnni_plan.json", "COV6002")]
    public void BindingsEditedSoATensorNoLongerMatchesItsLayout(string arch, string blamed, string id)
    {
        var run = RunEdited($"gemm-{arch}", "artifact.json", json => json["bindings"]!["M"] = 32);
        ExpectUserError(run, id, blamed);
        Assert.That(run.Error, Does.Contain("bindings"), run.ToString());
    }

    [TestCase(-4096L)]
    [TestCase(1L << 62)]
    public void AMemoryMapAddressOutsideTheImageIsRefused(long address)
    {
        var run = RunEdited("gemm-vta", "memory-map.json", json => json["regions"]![1]!["address"] = address);
        ExpectUserError(run, "COV6040", "memory-map.json at $.regions[1].address");
    }

    [Test]
    public void ARegionOfATerabyteIsRefusedNotAllocated()
    {
        var run = RunEdited("gemm-vta", "memory-map.json", json => json["regions"]![0]!["sizeBytes"] = 1_000_000_000_000L);
        ExpectUserError(run, "COV6040", "memory-map.json at $.regions[0].sizeBytes");
    }

    [Test]
    public void AnImageOfATerabyteIsRefusedNotAllocated()
    {
        var run = RunEdited("gemm-vta", "memory-map.json", json => json["sizeBytes"] = 1_000_000_000_000L);
        ExpectUserError(run, "COV6040", "memory-map.json at $.sizeBytes");
    }

    [Test]
    public void ALayoutOfAMillionByAMillionIsRefusedNotAllocated()
    {
        var run = RunEdited("gemm-vta", "memory-map.json", json => json["regions"]![0]!["layout"]!["shape"] = new JsonArray(1_000_000, 1_000_000));
        ExpectUserError(run, "COV6041", "memory-map.json at $.regions[0].layout");
    }

    [Test]
    public void ALayoutLevelThatPlacesElementsOutsideItsRegionIsRefused()
    {
        var run = RunEdited("gemm-vta", "memory-map.json", json => json["regions"]![0]!["layout"]!["levels"]![0]!["extent"] = 1);
        ExpectUserError(run, "COV6040", "memory-map.json at $.regions[0].layout.levels[0].extent");
    }

    [Test]
    public void AProgramConfigurationThatIsNotTheArchitecturesIsRefused()
    {
        var run = RunEdited("gemm-vta", "program.json", json => json["config"]!["blockIn"] = 0);
        ExpectUserError(run, "COV6041", "program.json at $.config.blockIn");
    }

    [Test]
    public void ATensorCoreExpressionWithoutItsKindIsRefusedInTheArtifactsWords()
    {
        var run = RunEdited("gemm-tensorcore-sm80", "tensorcore_program.json", json => json["body"]![1]!["value"] = new JsonObject());
        ExpectUserError(run, "COV6002", "tensorcore_program.json is not what the compiler wrote (at $.body[1].value");
    }

    [Test]
    public void ASampleOfEveryFilesTamperingsGivesUserErrorsOnly() => Sweep(SamplePerFile);

    [Test]
    [Explicit("every single-field edit of every JSON file of six artifacts: minutes; run with --filter TestCategory=Fuzz")]
    [Category("Fuzz")]
    public void EveryTamperingGivesUserErrorsOnly() => Sweep(int.MaxValue);

    private void Sweep(int perFile)
    {
        var problems = new List<string>();
        var counts = new List<string>();
        var exits = new SortedDictionary<int, int>();
        var watch = Stopwatch.StartNew();
        var cpu = Process.GetCurrentProcess().TotalProcessorTime;
        foreach (var (name, directory) in artifacts)
        {
            foreach (var file in RunFiles.Where(f => File.Exists(Path.Combine(directory, f))))
            {
                var all = JsonTampering.Of(file, File.ReadAllText(Path.Combine(directory, file))).ToList();
                var chosen = perFile >= all.Count ? all : Sample(all, perFile);
                counts.Add($"{name}/{file}: {chosen.Count} of {all.Count}");
                foreach (var tampering in chosen)
                {
                    var (exit, found) = Problems(directory, tampering);
                    exits[exit] = exits.GetValueOrDefault(exit) + 1;
                    problems.AddRange(found.Select(p => $"{name}: {tampering}: {p}"));
                }
            }
        }

        TestContext.Out.WriteLine($"{string.Join("\n", counts)}\n{counts.Count} files, exits {string.Join(", ", exits.Select(e => $"{e.Key}: {e.Value}"))}, {watch.Elapsed.TotalSeconds:F1} s, {(Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalSeconds:F1} s CPU");
        if (Environment.GetEnvironmentVariable("COVENANT_TAMPER_REPORT") is { Length: > 0 } report)
        {
            // Every problem, one a line, for a sweep that finds more than the assertion message shows.
            File.WriteAllLines(report, [.. counts, $"exits {string.Join(", ", exits.Select(e => $"{e.Key}: {e.Value}"))}", .. problems]);
        }

        Assert.That(problems, Is.Empty, string.Join("\n", problems.Take(40)) + $"\n({problems.Count} problems)");
    }

    /// <summary>Runs a copy of artifact <paramref name="name"/> with <paramref name="file"/> edited by <paramref name="edit"/>.</summary>
    private CliRun RunEdited(string name, string file, Action<JsonNode> edit)
    {
        var copy = Directory.CreateDirectory(Path.Combine(root.FullName, $"{name}-edited-{Guid.NewGuid():N}"));
        foreach (var source in Directory.EnumerateFiles(artifacts[name]))
        {
            File.Copy(source, Path.Combine(copy.FullName, Path.GetFileName(source)));
        }

        var path = Path.Combine(copy.FullName, file);
        var json = JsonNode.Parse(File.ReadAllText(path))!;
        edit(json);
        File.WriteAllText(path, json.ToJsonString());
        return CliRun.Of("run", copy.FullName, "--simulate");
    }

    private static void ExpectUserError(CliRun run, string id, string text) => Assert.Multiple(() =>
    {
        Assert.That(run.ExitCode, Is.EqualTo(1), run.ToString());
        Assert.That(run.Error, Does.Contain($"error {id}: ").And.Contain(text).And.Contain("recompile"), run.ToString());
        Assert.That(run.Error, Does.Not.Contain("COV9001").And.Not.Contain("System."), run.ToString());
    });

    /// <summary>The same <paramref name="count"/> cases every run, spread over the whole file.</summary>
    private static List<Tampering> Sample(List<Tampering> all, int count)
    {
        var random = new Random(Seed);
        return [.. Enumerable.Range(0, all.Count).OrderBy(_ => random.Next()).Take(count).Order().Select(i => all[i])];
    }

    /// <summary>What is wrong with running the artifact in <paramref name="directory"/> with one file tampered; empty when nothing is.</summary>
    private static (int Exit, List<string> Problems) Problems(string directory, Tampering tampering)
    {
        var path = Path.Combine(directory, tampering.File);
        var original = File.ReadAllText(path);
        File.WriteAllText(path, tampering.Text);
        try
        {
            var task = Task.Run(() => CliRun.Of("run", directory, "--simulate"));
            if (!task.Wait(Hang))
            {
                return (-1, [$"no answer in {Hang.TotalSeconds} s"]);
            }

            return (task.Result.ExitCode, Judge(task.Result, tampering));
        }
        finally
        {
            File.WriteAllText(path, original);
        }
    }

    /// <summary>
    /// Exit 0, 1 or 2 (2 only for a mismatch, with no error); no internal error or .NET text; each error with an id, naming
    /// the file and where in it (a position or a JSON path; a VNNI plan the kernel builder refuses is named with the values it
    /// refuses, as the builder's reasons do not map to one member).
    /// </summary>
    internal static List<string> Judge(CliRun run, Tampering tampering)
    {
        var problems = new List<string>();
        if (run.ExitCode is not (0 or 1 or 2))
        {
            problems.Add($"exit {run.ExitCode}: {FirstLines(run.Error)}");
        }

        if (run.Error.Contains("COV9001", StringComparison.Ordinal) || run.Error.Contains("System.", StringComparison.Ordinal) || StackFrame().IsMatch(run.Error))
        {
            problems.Add($"internal error or .NET text: {FirstLines(run.Error)}");
        }

        var errors = run.ErrorLines.Where(l => l.Contains(": error ", StringComparison.Ordinal)).ToList();
        if (run.ExitCode == 2 && errors.Count > 0)
        {
            problems.Add($"exit 2 with errors: {FirstLines(run.Error)}");
        }

        if (run.ExitCode == 1 && errors.Count == 0)
        {
            problems.Add($"exit 1 without an error: {FirstLines(run.Error)}");
        }

        foreach (var line in errors)
        {
            if (!ErrorId().IsMatch(line))
            {
                problems.Add($"an error without an id: {line}");
            }
            else if (!line.Contains(tampering.File, StringComparison.Ordinal))
            {
                problems.Add($"an error that does not name {tampering.File}: {line}");
            }
            else if (!Positioned().IsMatch(line) && !JsonPath().IsMatch(line) && !line.Contains("plan does not apply", StringComparison.Ordinal))
            {
                problems.Add($"an error with no position or JSON path in {tampering.File}: {line}");
            }
        }

        return problems;
    }

    private static string FirstLines(string text) => string.Join(" | ", text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Take(3));

    [GeneratedRegex(@"^\s+at \S+\(", RegexOptions.Multiline)]
    private static partial Regex StackFrame();

    [GeneratedRegex(@": error COV\d{4}: ")]
    private static partial Regex ErrorId();

    [GeneratedRegex(@"\(\d+,\d+\): ")]
    private static partial Regex Positioned();

    [GeneratedRegex(@"\$[.\[ )]|\$$")]
    private static partial Regex JsonPath();
}
