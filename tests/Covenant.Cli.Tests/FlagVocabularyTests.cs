using System.CommandLine;

namespace Covenant.Cli.Tests;

/// <summary>
/// One flag name means one thing on every command: the README's flag table, held against the command tree itself so a new
/// command cannot quietly invent a second spelling for an idea that already has one.
/// </summary>
public sealed class FlagVocabularyTests
{
    private static readonly RootCommand Root = CovenantCli.BuildRoot(new CliContext(TextWriter.Null, TextWriter.Null, null));

    private static IEnumerable<(string Path, Command Command)> Commands()
    {
        var pending = new Stack<(string Path, Command Command)>([("covenantc", Root)]);
        while (pending.Count > 0)
        {
            var (path, command) = pending.Pop();
            yield return (path, command);
            foreach (var sub in command.Subcommands)
            {
                pending.Push(($"{path} {sub.Name}", sub));
            }
        }
    }

    private static IEnumerable<(string Command, Option Option)> Options()
    {
        var pending = new Stack<(string Path, Command Command)>([("covenantc", Root)]);
        while (pending.Count > 0)
        {
            var (path, command) = pending.Pop();
            foreach (var option in command.Options.Where(o => o.Name is not ("--help" or "--version") && !o.Name.StartsWith("-?", StringComparison.Ordinal)))
            {
                yield return (path, option);
            }

            foreach (var sub in command.Subcommands)
            {
                pending.Push(($"{path} {sub.Name}", sub));
            }
        }
    }

    [Test]
    public void TheTreeHasTheCommandsItShips() =>
        Assert.That(Options().Select(o => o.Command).Distinct(), Is.SupersetOf(new[] { "covenantc compile", "covenantc suite", "covenantc compare", "covenantc tune", "covenantc arch show" }));

    [Test]
    public void EveryOptionAndArgumentSaysWhatItIs()
    {
        var undescribed = Options().Where(o => string.IsNullOrWhiteSpace(o.Option.Description)).Select(o => $"{o.Command} {o.Option.Name}")
            .Concat(Commands().SelectMany(c => c.Command.Arguments.Where(a => string.IsNullOrWhiteSpace(a.Description)).Select(a => $"{c.Path} <{a.Name}>")));
        Assert.That(undescribed, Is.Empty);
    }

    [Test]
    public void AFlagNameHasOneValueTypeEverywhere()
    {
        var conflicting = Options()
            .GroupBy(o => o.Option.Name, StringComparer.Ordinal)
            // A repeatable flag (compare's several --arch) takes an array of what the single one takes.
            .Where(g => g.Select(o => o.Option.ValueType.IsArray ? o.Option.ValueType.GetElementType() : o.Option.ValueType).Distinct().Count() > 1)
            .Select(g => $"{g.Key}: " + string.Join(", ", g.Select(o => $"{o.Command} takes {o.Option.ValueType.Name}")));
        Assert.That(conflicting, Is.Empty);
    }

    [Test]
    public void DashOIsAlwaysTheOutputFlag()
    {
        Assert.Multiple(() =>
        {
            foreach (var (command, option) in Options())
            {
                if (option.Name == "--output" || option.Aliases.Contains("-o"))
                {
                    Assert.That(option.Name, Is.EqualTo("--output"), $"{command}: -o belongs to --output");
                    Assert.That(option.Aliases, Does.Contain("-o"), $"{command}: --output has the short form -o");
                }
            }
        });
    }

    [Test]
    public void ReportFilesAreNamedByTheirFormatAndJsonIsAlwaysASwitch()
    {
        Assert.Multiple(() =>
        {
            foreach (var (command, option) in Options())
            {
                Assert.That(option.Name, Is.Not.EqualTo("--out"), $"{command}: --out is only an old alias (of --html)");
                if (option.Aliases.Contains("--out"))
                {
                    Assert.That(option.Name, Is.EqualTo("--html"), $"{command}: --out is the old spelling of --html");
                }

                if (option.Name == "--json")
                {
                    Assert.That(option.ValueType, Is.EqualTo(typeof(bool)), $"{command}: --json prints JSON on stdout, it takes no file");
                }
            }
        });
    }

    [Test]
    public void TheOldSpellingOfTheHtmlReportStillWorks()
    {
        var parsed = Root.Parse(["compare", "suite.yaml", "--arch", "a.yaml", "--out", "report.html"]);
        Assert.That(parsed.Errors, Is.Empty);
        Assert.That(parsed.GetValue<string?>("--html"), Is.EqualTo("report.html"));
    }

    [Test]
    public void TuneRefusesASeedItsSearchCannotTake()
    {
        var run = CliRun.Of("tune", "suite.yaml", "--arch", "a.yaml", "--seed", "4294967296");
        Assert.That(run.ExitCode, Is.EqualTo(1), run.ToString());
        Assert.That(run.Error, Does.Contain("--seed must be at most 4294967295"));
    }
}
