using System.CommandLine;
using Covenant.Compiler;
using Covenant.Compiler.Compare;
using Covenant.Core.Diagnostics;
using Covenant.Runtime.Execution;

namespace Covenant.Cli.Commands;

/// <summary>
/// <c>covenantc compare</c>: one suite on several architectures. The work is <see cref="ComparisonDriver"/>'s and the
/// formatting the writers' in <c>Covenant.Compiler.Compare</c>; this shell parses the flags, supplies the runtime's
/// executors and decides the exit code.
/// </summary>
public static class CompareCommand
{
    public static Command Build(CliContext context)
    {
        var suite = CliArguments.File("suite", "The suite file (.yaml), e.g. codelets/suites/resnet50.yaml.");
        var arch = new Option<string[]>("--arch")
        {
            Description = "An architecture file (.yaml); repeat for each architecture. The first is the baseline of the ratios.",
            Required = true,
        };
        var only = new Option<string[]>("--only") { Description = "Compare only these layers (repeatable or comma-separated)." };
        var codelets = new Option<string?>("--codelets") { Description = "Where the codelets are (default: the suite folder's parent)." };
        // Report files are named by their format (--html, --csv); --out is the spelling of earlier releases.
        var html = new Option<string?>("--html", "--out") { Description = "Write the HTML report (self-contained, opens offline) to this file." };
        var csv = new Option<string?>("--csv") { Description = "Write one CSV row per layer and architecture to this file." };
        var json = new Option<bool>("--json") { Description = "Print the comparison as JSON on stdout instead of the tables." };
        var seed = new Option<ulong>("--seed") { Description = "Seed of the random inputs of the runs.", DefaultValueFactory = _ => 1 };
        var noRun = new Option<bool>("--no-run") { Description = "Compile only: compare predicted cycles, run and verify nothing." };
        var command = new Command("compare", "Compile every layer of a suite for several architectures, run (and verify) what can run here, " +
            "and compare: a table per layer with the winner, geomeans and their ratio to the first architecture; CSV, JSON and an HTML report " +
            $"with charts. A layer that does not map on an architecture is shown with the reason. Exit {CompileCommands.Mismatch} if an output " +
            "differs from the reference, 1 on a user error or a failed run.")
        {
            suite, arch, only, codelets, html, csv, json, seed, noRun,
        };
        command.SetAction(parse =>
        {
            var outputs = new[] { ("--html", parse.GetValue(html)), ("--csv", parse.GetValue(csv)) };
            var bad = false;
            foreach (var (flag, path) in outputs)
            {
                if (path is not null && Path.GetDirectoryName(Path.GetFullPath(path)) is { } folder && !Directory.Exists(folder))
                {
                    context.Report(CoreDiagnostics.OutputNotWritable.Create(SourceLocation.OfFile(path), $"{flag}: the folder '{folder}' does not exist"));
                    bad = true;
                }
            }

            var loaded = Suite.Load(parse.GetRequiredValue(suite));
            if (context.Report(loaded.Diagnostics) || !loaded.Succeeded || bad)
            {
                return CovenantCli.UserError;
            }

            var layers = CompileCommands.SelectLayers(context, loaded.Value, parse.GetValue(only));
            if (layers is null)
            {
                return CovenantCli.UserError;
            }

            var options = CompareOptions.Default with
            {
                CodeletDirectory = parse.GetValue(codelets),
                Run = !parse.GetValue(noRun),
                Seed = parse.GetValue(seed),
            };
            var compared = ComparisonDriver.Run(loaded.Value, layers, parse.GetRequiredValue(arch), context.Targets,
                new RegisteredExecutors(context.Targets), options, context.Error.WriteLine);
            if (context.Report(compared.Diagnostics) || !compared.Succeeded)
            {
                return CovenantCli.UserError;
            }

            var report = compared.Value;
            foreach (var (flag, path) in outputs)
            {
                if (path is null)
                {
                    continue;
                }

                try
                {
                    File.WriteAllText(path, flag == "--html" ? CompareHtmlWriter.Write(report) : CompareCsvWriter.Write(report));
                    context.Error.WriteLine($"wrote {path}");
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    context.Report(CoreDiagnostics.OutputNotWritable.Create(SourceLocation.OfFile(path), $"{flag}: {e.Message}"));
                    return CovenantCli.UserError;
                }
            }

            context.Out.Write(parse.GetValue(json) ? CompareJsonWriter.Write(report) + "\n" : CompareTextWriter.Write(report));
            return report.AnyMismatch ? CompileCommands.Mismatch : report.AnyRunFailure ? CovenantCli.UserError : CovenantCli.Success;
        });
        return command;
    }
}
