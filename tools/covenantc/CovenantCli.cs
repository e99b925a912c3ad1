using System.CommandLine;
using Covenant.Cli.Commands;
using Covenant.Compiler;
using Covenant.Core.Diagnostics;
using Covenant.Targets;

namespace Covenant.Cli;

/// <summary>
/// Builds the command tree and runs one command line. Exit codes: 0 success, 1 user error (bad input,
/// bad flags, a failed check), 2 a run whose output differs from the reference, 3 internal error (a bug in Covenant).
/// Data goes to stdout; diagnostics and progress go to stderr.
/// </summary>
public static class CovenantCli
{
    public const int Success = 0;
    public const int UserError = 1;
    public const int InternalError = 3;

    public static RootCommand BuildRoot(CliContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var root = new RootCommand(
            "covenantc: the Covenant compiler. Describe an accelerator once as an Architecture Covenant Graph (YAML), " +
            "write operators once as codelets, and compile, run and compare them.\n\nTargets (an architecture's 'target:'):\n" +
            string.Join("\n", context.Targets.All.Select(t => $"  {t.Name,-12} {t.Description}")));
        root.Add(ArchCommands.Build(context));
        root.Add(CodeletCommands.Build(context));
        foreach (var command in CompileCommands.Build(context))
        {
            root.Add(command);
        }

        root.Add(CompareCommand.Build(context));
        root.Add(TuneCommand.Build(context));
        root.Add(ImportCommand.Build(context));
        root.Add(NetworkCommand.Build(context));

        return root;
    }

    /// <summary>Runs one command line with the built-in targets, or with <paramref name="targets"/> (tests add fakes).</summary>
    public static int Run(string[] args, TextWriter stdout, TextWriter stderr, RegisteredTargets? targets = null)
    {
        var context = new CliContext(stdout, stderr, targets);
        try
        {
            var root = BuildRoot(context);
            var parseResult = root.Parse(args);
            if (parseResult.Errors.Count > 0 && parseResult.Action is not System.CommandLine.Help.HelpAction)
            {
                foreach (var error in parseResult.Errors)
                {
                    context.Report(CoreDiagnostics.BadOption.Create(null, error.Message));
                }

                var command = string.Join(' ', parseResult.CommandResult.Command is RootCommand
                    ? ["covenantc"]
                    : new[] { "covenantc" }.Concat(CommandPath(parseResult.CommandResult)));
                stderr.WriteLine($"Run '{command} --help' for usage.");
                return UserError;
            }

            return parseResult.Invoke(new InvocationConfiguration
            {
                Output = stdout,
                Error = stderr,
                // Exceptions are ours to report (as internal errors), not System.CommandLine's.
                EnableDefaultExceptionHandler = false,
            });
        }
        catch (Exception e)
        {
            stderr.WriteLine(CoreDiagnostics.InternalError.Create(null,
                $"internal error, this is a bug in Covenant (please report it with the command line): {e.GetType().Name}: {e.Message}"));
            stderr.WriteLine(e.StackTrace);
            return InternalError;
        }
    }

    private static IEnumerable<string> CommandPath(System.CommandLine.Parsing.CommandResult result)
    {
        var names = new Stack<string>();
        for (var r = result; r is not null && r.Command is not RootCommand; r = r.Parent as System.CommandLine.Parsing.CommandResult)
        {
            names.Push(r.Command.Name);
        }

        return names;
    }
}
