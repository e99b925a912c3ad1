using System.Collections.Immutable;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace Covenant.Cli.Tests.Fuzz;

/// <summary>
/// Runs cases <c>first .. first+count-1</c> of a seeded campaign, each on its own task with a time limit (a case past it
/// is a hang), checks each step with <see cref="FuzzOracle"/>, deletes the inputs of the cases that held and keeps
/// the others, and counts what happened for <see cref="FuzzReport.Summary"/>.
/// </summary>
public sealed partial class FuzzCampaign(int seed, string root, TimeSpan hangLimit)
{
    private readonly Lazy<IReadOnlyList<string>> baseArtifacts = new(() => ArtifactFuzz.Compile(Path.Combine(root, "base")));

    /// <summary>Keep every case's inputs, not only the failing ones' (to look at what the generators make).</summary>
    public bool KeepAll { get; init; }

    public FuzzReport Run(int first, int count, TextWriter? progress = null)
    {
        var generator = new FuzzCaseGenerator(seed, root, () => baseArtifacts.Value);
        var report = new FuzzReport(seed, first);
        var clock = Stopwatch.StartNew();
        for (var index = first; index < first + count; index++)
        {
            FuzzCase fuzzCase;
            FuzzOutcome outcome;
            try
            {
                fuzzCase = generator.Generate(index);
                outcome = RunCase(fuzzCase);
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                // A bug of the campaign itself (a generator), reported like any failing case so the summary is still written.
                fuzzCase = new FuzzCase(index, FuzzKind.Architecture, Path.Combine(root, $"case{index}"), "the generator failed");
                outcome = new FuzzOutcome(fuzzCase, [], [$"fuzz generator threw {e.GetType().Name} :: {e.Message} {e.StackTrace?.Split('\n').FirstOrDefault()?.Trim()}"], TimeSpan.Zero);
            }

            report.Add(outcome);
            if (outcome.Passed && !KeepAll)
            {
                Directory.Delete(fuzzCase.Directory, recursive: true);
            }
            else if (Directory.Exists(fuzzCase.Directory))
            {
                File.WriteAllText(Path.Combine(fuzzCase.Directory, "case.txt"), report.Details(outcome));
            }

            if (progress is not null && ((index - first + 1) % 500 == 0 || !outcome.Passed))
            {
                var failed = outcome.Passed ? "" : $"; case {index} failed: {outcome.Violations[0]}";
                progress.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"[fuzz] {index - first + 1}/{count} cases, {report.Failures.Count} failing, {clock.Elapsed.TotalSeconds:F0} s{failed}"));
            }
        }

        report.Elapsed = clock.Elapsed;
        return report;
    }

    public FuzzOutcome RunCase(FuzzCase fuzzCase)
    {
        ArgumentNullException.ThrowIfNull(fuzzCase);
        var steps = new List<FuzzStep>();
        var clock = Stopwatch.StartNew();
        var work = Task.Run(() => Execute(fuzzCase, steps));
        bool finished;
        try
        {
            finished = work.Wait(hangLimit);
        }
        catch (AggregateException e)
        {
            // An exception escaping covenantc's own handler: worse than an internal error.
            return new FuzzOutcome(fuzzCase, [.. steps], [$"exception escaped covenantc: {e.InnerException?.GetType().Name}: {e.InnerException?.Message}"], clock.Elapsed);
        }

        if (!finished)
        {
            // The task cannot be stopped; it is left behind and the campaign goes on.
            lock (steps)
            {
                return new FuzzOutcome(fuzzCase, [.. steps], [$"hang: still running after {hangLimit.TotalSeconds:F0} s (step {steps.Count + 1})"], clock.Elapsed);
            }
        }

        var violations = steps.SelectMany(step => FuzzOracle.Violations(fuzzCase, step)).Distinct().ToImmutableArray();
        return new FuzzOutcome(fuzzCase, [.. steps], violations, clock.Elapsed);
    }

    private static void Execute(FuzzCase fuzzCase, List<FuzzStep> steps)
    {
        int Step(params string[] arguments)
        {
            var clock = Stopwatch.StartNew();
            var run = CliRun.Of(arguments);
            lock (steps)
            {
                steps.Add(new FuzzStep(arguments, run, clock.Elapsed));
            }

            return run.ExitCode;
        }

        switch (fuzzCase.Kind)
        {
            case FuzzKind.Architecture:
                Step("arch", "check", fuzzCase.Architecture!);
                break;
            case FuzzKind.Codelet:
                Step("codelet", "check", fuzzCase.Codelet!);
                break;
            case FuzzKind.Artifact:
                Step("run", fuzzCase.Artifact!, "--simulate");
                break;
            default:
                if (Step("arch", "check", fuzzCase.Architecture!) == 0 & Step("codelet", "check", fuzzCase.Codelet!) == 0
                    && Step(["compile", fuzzCase.Codelet!, "--arch", fuzzCase.Architecture!, .. fuzzCase.Bindings is { Length: > 0 } set ? new[] { "--set", set } : [],
                        .. fuzzCase.DramBase is { } dramBase ? new[] { "--dram-base", dramBase } : [], "-o", fuzzCase.Artifact!]) == 0
                    && fuzzCase.RunAfterCompile)
                {
                    Step("run", fuzzCase.Artifact!, "--simulate");
                }

                break;
        }
    }
}

/// <summary>The counts of a campaign: cases per kind, exits per command, diagnostic ids, the slowest case, and the failures.</summary>
public sealed partial class FuzzReport(int seed, int first)
{
    private readonly Dictionary<FuzzKind, int> kinds = [];
    private readonly SortedDictionary<string, int> exits = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> ids = new(StringComparer.Ordinal);
    private readonly SortedDictionary<string, (int Passed, int Total)> origins = new(StringComparer.Ordinal);
    private readonly Dictionary<string, List<FuzzOutcome>> causes = new(StringComparer.Ordinal);

    public List<FuzzOutcome> Failures { get; } = [];

    public int Cases { get; private set; }

    public int Hangs { get; private set; }

    /// <summary>Compiled pairs whose run did not match on an architecture that is not a shipped file (a semantics question, not a crash).</summary>
    public int MismatchesOnEditedGraphs { get; private set; }

    public FuzzOutcome? Slowest { get; private set; }

    public TimeSpan Elapsed { get; set; }

    public void Add(FuzzOutcome outcome)
    {
        ArgumentNullException.ThrowIfNull(outcome);
        Cases++;
        kinds[outcome.Case.Kind] = kinds.GetValueOrDefault(outcome.Case.Kind) + 1;
        foreach (var step in outcome.Steps)
        {
            var command = step.Arguments[0] is "arch" or "codelet" ? step.Arguments[0] + " check" : step.Arguments[0];
            var key = $"{command,-14} exit {step.Run.ExitCode}";
            exits[key] = exits.GetValueOrDefault(key) + 1;
            var origin = $"{command} of {Origin(outcome.Case, command)}";
            var (passed, total) = origins.GetValueOrDefault(origin);
            origins[origin] = (passed + (step.Run.ExitCode == 0 ? 1 : 0), total + 1);
            foreach (Match id in DiagnosticId().Matches(step.Run.Error))
            {
                ids[id.Groups[1].Value] = ids.GetValueOrDefault(id.Groups[1].Value) + 1;
            }

            if (outcome.Case.Kind == FuzzKind.Pair && command == "run" && step.Run.ExitCode != 0 && !outcome.Case.ArchitectureShipped)
            {
                MismatchesOnEditedGraphs++;
            }
        }

        if (Slowest is null || outcome.Elapsed > Slowest.Elapsed)
        {
            Slowest = outcome;
        }

        if (outcome.Passed)
        {
            return;
        }

        Failures.Add(outcome);
        Hangs += outcome.Violations.Count(v => v.StartsWith("hang", StringComparison.Ordinal));
        foreach (var violation in outcome.Violations)
        {
            var cause = DistinctCause(violation);
            if (!causes.TryGetValue(cause, out var list))
            {
                causes[cause] = list = [];
            }

            list.Add(outcome);
        }
    }

    /// <summary>How to run case <paramref name="index"/> again, alone.</summary>
    public string Replay(int index) => $"COVENANT_FUZZ_SEED={seed} COVENANT_FUZZ_FIRST={index} tools/fuzz.sh 1";

    public string Summary()
    {
        var s = new StringBuilder();
        s.AppendLine(CultureInfo.InvariantCulture, $"fuzz campaign: seed {seed}, cases {first}..{first + Cases - 1} ({Cases} cases) in {Elapsed.TotalSeconds:F0} s");
        s.AppendLine("  cases per kind: " + string.Join(", ", kinds.OrderBy(k => k.Key).Select(k => $"{k.Key} {k.Value}")));
        s.AppendLine("  exits per command:");
        foreach (var (key, value) in exits)
        {
            s.AppendLine(CultureInfo.InvariantCulture, $"    {key}: {value}");
        }

        var idCounts = string.Join(", ", ids.OrderByDescending(i => i.Value).ThenBy(i => i.Key, StringComparer.Ordinal).Select(i => $"{i.Key} x{i.Value}"));
        s.AppendLine("  exit 0 / runs, by where the input came from:");
        foreach (var (origin, (passed, total)) in origins)
        {
            s.AppendLine(CultureInfo.InvariantCulture, $"    {origin}: {passed}/{total}");
        }

        s.AppendLine(CultureInfo.InvariantCulture, $"  distinct diagnostic ids: {ids.Count}: {idCounts}");
        if (Slowest is not null)
        {
            s.AppendLine(CultureInfo.InvariantCulture, $"  slowest case: {Slowest.Case.Index} ({Slowest.Case.Kind}, {Slowest.Elapsed.TotalSeconds:F1} s): {Slowest.Case.How}");
        }

        s.AppendLine(CultureInfo.InvariantCulture, $"  compiled pairs not matching on an edited or generated graph (not failures): {MismatchesOnEditedGraphs}");
        s.AppendLine(CultureInfo.InvariantCulture, $"  failures: {Failures.Count} cases, {causes.Count} distinct causes, {Hangs} hangs");
        foreach (var (cause, outcomes) in causes.OrderByDescending(c => c.Value.Count))
        {
            var example = outcomes[0];
            s.AppendLine(CultureInfo.InvariantCulture, $"  - {outcomes.Count} x {cause}");
            s.AppendLine(CultureInfo.InvariantCulture, $"      {outcomes[0].Violations.First(v => DistinctCause(v) == cause)}");
            s.AppendLine(CultureInfo.InvariantCulture, $"      e.g. case {example.Case.Index} ({example.Case.Kind}: {example.Case.How}), kept at {example.Case.Directory}");
            s.AppendLine(CultureInfo.InvariantCulture, $"      replay: {Replay(example.Case.Index)}");
        }

        return s.ToString();
    }

    /// <summary>The full story of one failing case: what it was, where its files are, each command and what it printed.</summary>
    public string Details(FuzzOutcome outcome)
    {
        ArgumentNullException.ThrowIfNull(outcome);
        var s = new StringBuilder();
        s.AppendLine(CultureInfo.InvariantCulture, $"case {outcome.Case.Index} of seed {seed} ({outcome.Case.Kind}): {outcome.Case.How}");
        s.AppendLine("  inputs kept at " + outcome.Case.Directory);
        s.AppendLine("  replay: " + Replay(outcome.Case.Index));
        foreach (var violation in outcome.Violations)
        {
            s.AppendLine("  violation: " + violation);
        }

        foreach (var step in outcome.Steps)
        {
            var text = step.Run.ToString();
            s.AppendLine("  $ " + step.CommandLine);
            s.AppendLine("    " + (text.Length > 3000 ? text[..3000] + "..." : text).Replace("\n", "\n    ", StringComparison.Ordinal));
        }

        return s.ToString();
    }

    /// <summary>Where a step's input came from: shipped, mutated or generated (and which generator), and for a run whether a pair compiled it.</summary>
    private static string Origin(FuzzCase fuzzCase, string command)
    {
        if (fuzzCase.Kind == FuzzKind.Artifact)
        {
            return "mutated artifacts";
        }

        var parts = fuzzCase.How.Split(" | ");
        var how = fuzzCase.Kind switch
        {
            FuzzKind.Pair when command == "codelet check" => parts[1],
            FuzzKind.Pair => parts[0],
            _ => fuzzCase.How,
        };
        var source = how.StartsWith("generated", StringComparison.Ordinal) ? string.Join(' ', how.Split(' ', ',', ':').Take(2))
            : how.StartsWith("shipped", StringComparison.Ordinal) ? "shipped" : "mutated";
        var what = command == "codelet check" ? "codelets" : fuzzCase.Kind == FuzzKind.Pair && command != "arch check" ? "pairs on " + source + " graphs" : "graphs";
        return fuzzCase.Kind == FuzzKind.Pair && command != "arch check" && command != "codelet check" ? what : $"{source} {what}";
    }

    /// <summary>A violation without what varies between cases (paths, numbers), so cases of one bug group together.</summary>
    private static string DistinctCause(string violation)
    {
        var detail = violation.IndexOf(" :: ", StringComparison.Ordinal);
        return Variable().Replace(detail < 0 ? violation : violation[..detail], "#");
    }

    [GeneratedRegex(@"error (COV\d{4})")]
    private static partial Regex DiagnosticId();

    [GeneratedRegex(@"/tmp/\S*|(?<![V\d])\d+")]
    private static partial Regex Variable();
}
