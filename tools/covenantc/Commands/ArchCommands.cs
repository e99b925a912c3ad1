using System.CommandLine;
using Covenant.Acg;
using Covenant.Acg.Export;
using Covenant.Acg.Model;
using Covenant.Core.Diagnostics;

namespace Covenant.Cli.Commands;

/// <summary><c>covenantc arch check|show</c>.</summary>
public static class ArchCommands
{
    public static Command Build(CliContext context)
    {
        var arch = new Command("arch", "Validate and render Architecture Covenant Graphs (YAML).");
        arch.Add(BuildCheck(context));
        arch.Add(BuildShow(context));
        return arch;
    }

    private static Command BuildCheck(CliContext context)
    {
        var files = CliArguments.Files("file", "Architecture files (.yaml).");
        var json = new Option<bool>("--json") { Description = "Print the result of each file as JSON on stdout." };
        var command = new Command("check", "Validate architecture graphs; report every problem with its position. The targets are " +
            string.Join(", ", context.Targets.Names) + ".") { files, json };
        command.SetAction(parse =>
        {
            var results = parse.GetRequiredValue(files).Select(path => (Path: path, Result: LoadWithTarget(context, path))).ToList();
            var failed = false;
            foreach (var (path, result) in results)
            {
                failed |= context.Report(result.Diagnostics);
                if (result.Succeeded && !parse.GetValue(json))
                {
                    var graph = result.Value;
                    context.Out.WriteLine(
                        $"ok: {path}: {graph.Name} (target {graph.Target}), {graph.Storage.Count()} storage and " +
                        $"{graph.Compute.Count()} compute node(s), {graph.Edges.Length} edge(s)");
                }
            }

            if (parse.GetValue(json))
            {
                context.WriteJson(results.Select(r => new
                {
                    file = r.Path,
                    ok = r.Result.Succeeded,
                    name = r.Result.Value?.Name,
                    target = r.Result.Value?.Target,
                    diagnostics = r.Result.Diagnostics.Select(CliContext.ToJson).ToArray(),
                }));
            }

            return failed ? CovenantCli.UserError : CovenantCli.Success;
        });
        return command;
    }

    private static Command BuildShow(CliContext context)
    {
        var file = CliArguments.File("file", "The architecture file (.yaml).");
        var format = new Option<string>("--format")
        {
            Description = "text (a summary), dot (Graphviz source) or svg (rendered with Graphviz's dot).",
            DefaultValueFactory = _ => "text",
        };
        format.AcceptOnlyFromAmong("text", "dot", "svg");
        var output = new Option<string?>("--output", "-o") { Description = "Write to this file instead of stdout." };
        var command = new Command("show", "Render an architecture graph as text, DOT or SVG.") { file, format, output };
        command.SetAction(parse =>
        {
            var loaded = AcgLoader.Load(parse.GetRequiredValue(file));
            if (context.Report(loaded.Diagnostics) || !loaded.Succeeded)
            {
                return CovenantCli.UserError;
            }

            var rendered = Render(loaded.Value, parse.GetRequiredValue(format));
            if (context.Report(rendered.Diagnostics) || !rendered.Succeeded)
            {
                return CovenantCli.UserError;
            }

            var target = parse.GetValue(output);
            if (target is null)
            {
                context.Out.Write(rendered.Value);
                return CovenantCli.Success;
            }

            try
            {
                File.WriteAllText(target, rendered.Value);
                context.Error.WriteLine($"wrote {target}");
                return CovenantCli.Success;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                context.Report(CoreDiagnostics.OutputNotWritable.Create(SourceLocation.OfFile(target), e.Message));
                return CovenantCli.UserError;
            }
        });
        return command;
    }

    /// <summary>
    /// Loads a graph and checks it against its target: its <c>target:</c> is registered in this build (the loader accepts
    /// any name) and that target can compile for it, so "ok" means <c>compile</c> will not refuse the graph itself.
    /// </summary>
    private static Result<ArchitectureGraph> LoadWithTarget(CliContext context, string path)
    {
        var loaded = AcgLoader.Load(path);
        if (!loaded.Succeeded)
        {
            return loaded;
        }

        var found = context.Targets.CheckArchitecture(loaded.Value);
        return found.IsEmpty ? loaded : new Result<ArchitectureGraph>(loaded.Value, loaded.Diagnostics.AddRange(found));
    }

    private static Result<string> Render(ArchitectureGraph graph, string format) => format switch
    {
        "dot" => Result<string>.Success(DotExporter.ToDot(graph)),
        "svg" => DotExporter.ToSvg(graph),
        _ => Result<string>.Success(TextExporter.ToText(graph)),
    };
}
