using System.Collections.Immutable;
using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Covenant.Compiler;
using Covenant.Core.Diagnostics;
using Covenant.Mapping;
using Covenant.Mapping.Search;
using Covenant.Runtime.Execution;
using Covenant.Targets;

namespace Covenant.Cli.Commands;

/// <summary><c>covenantc compile</c>, <c>run</c> and <c>suite</c>: from a codelet and an architecture to a verified run.</summary>
public static class CompileCommands
{
    /// <summary>Exit code of <c>run</c> and <c>suite</c> when an output differs from the reference.</summary>
    public const int Mismatch = 2;

    public static IEnumerable<Command> Build(CliContext context) => [BuildCompile(context), BuildRun(context), BuildSuite(context)];

    private static Option<string[]> SetOption() => new("--set")
    {
        Description = "Bind a shape parameter, NAME=VALUE (repeatable, or comma-separated: --set M=64,N=64,K=64).",
    };

    private static Command BuildCompile(CliContext context)
    {
        var codelet = CliArguments.File("codelet", "The codelet file (.cdlt).");
        var arch = new Option<string>("--arch") { Description = "The architecture file (.yaml).", Required = true };
        var set = SetOption();
        var output = new Option<string>("--output", "-o") { Description = "The artifact directory to write.", Required = true };
        var dumpSmt = new Option<string?>("--dump-smt") { Description = "Write every solver query to this directory as SMT-LIB2." };
        var dramBase = new Option<string>("--dram-base")
        {
            Description = "Physical address of the memory image (hex with 0x, or decimal).",
            DefaultValueFactory = _ => "0x10000000",
        };
        var json = new Option<bool>("--json") { Description = "Print the mapping summary as JSON on stdout." };
        var records = new Option<string?>("--records") { Description = "Use the best mapping of this layer and architecture in this tuning log ('covenantc tune --records')." };
        var command = new Command("compile", "Map a codelet instance onto an architecture and emit an artifact directory " +
            "(instruction stream, memory map, listing, mapping report).")
        {
            codelet, arch, set, output, dumpSmt, dramBase, json, records,
        };
        command.SetAction(parse =>
        {
            var diagnostics = new DiagnosticBag();
            var bindings = ShapeBindings.Parse(parse.GetValue(set) ?? [], diagnostics);
            var baseAddress = ParseAddress(parse.GetRequiredValue(dramBase), diagnostics);
            if (context.Report(diagnostics.ToImmutable()))
            {
                return CovenantCli.UserError;
            }

            PinnedMapping? pinned = null;
            if (parse.GetValue(records) is { } log
                && !TuneCommand.TryPinFromRecords(context, log, parse.GetRequiredValue(codelet), bindings, parse.GetRequiredValue(arch), out pinned))
            {
                return CovenantCli.UserError;
            }

            var request = new CompileRequest(parse.GetRequiredValue(codelet), parse.GetRequiredValue(arch), bindings,
                MapperOptions.Default with { DumpSmtDirectory = parse.GetValue(dumpSmt), Pinned = pinned },
                TargetOptions.Default with { DramBase = baseAddress });
            var clock = Stopwatch.StartNew();
            var compiled = CompilerPipeline.Compile(request, context.Targets.Passes);
            if (context.Report(compiled.Diagnostics) || !compiled.Succeeded)
            {
                return CovenantCli.UserError;
            }

            var directory = parse.GetRequiredValue(output);
            var written = CompilerPipeline.WriteArtifact(compiled.Value, directory);
            if (context.Report(written.Diagnostics) || !written.Succeeded)
            {
                return CovenantCli.UserError;
            }

            var mapping = compiled.Value.Mapping;
            var tuned = pinned is not null && !compiled.Diagnostics.Any(d => d.Descriptor == SearchDiagnostics.PinnedDoesNotApply) ? pinned.Source : null;
            if (parse.GetValue(json))
            {
                var report = Covenant.Mapping.Model.MappingReport.ToJson(mapping, compiled.Value.Output.PredictedCycles);
                report["tunedFrom"] = tuned;
                report["artifact"] = directory;
                report["compileSeconds"] = Math.Round(clock.Elapsed.TotalSeconds, 3);
                context.Out.WriteLine(report.ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true }));
                return CovenantCli.Success;
            }

            context.Out.WriteLine($"compiled {mapping.Instance.Name} for {mapping.Graph.Name} ({mapping.Graph.Target}) into {directory}");
            if (tuned is not null)
            {
                context.Out.WriteLine("  tuned:     " + tuned);
            }

            context.Out.WriteLine("  embedding: " + string.Join(", ", mapping.Embedding.Select(e => $"{e.Axis} <- {e.Loop ?? "(unused)"}")) +
                $" on {mapping.ComputeNode}.{mapping.Capability}");
            context.Out.WriteLine("  tiles:     " + string.Join(" ", mapping.Loops.Select(l => $"{l.Loop}={l.Tile}/{l.PaddedExtent}")) +
                "; order " + string.Join(",", mapping.TileOrder));
            foreach (var level in mapping.Levels)
            {
                context.Out.WriteLine($"  {level.Storage + ":",-10} " + string.Join(" ", mapping.Loops.Select((l, i) => $"{l.Loop}={level.Tiles[i]}")));
            }
            context.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  predicted: {compiled.Value.Output.PredictedCycles ?? mapping.Cost.Cycles:F0} cycles (cost model {mapping.Cost.Cycles:F0}, utilization {mapping.Cost.Utilization:P0}); compiled in {clock.Elapsed.TotalSeconds:F2} s"));
            return CovenantCli.Success;
        });
        return command;
    }

    private static Command BuildRun(CliContext context)
    {
        var directory = CliArguments.File("artifact", "The artifact directory written by 'covenantc compile'.");
        var seed = new Option<ulong>("--seed") { Description = "Seed of the random inputs.", DefaultValueFactory = _ => 1 };
        var simulate = new Option<bool>("--simulate") { Description = "Use the simulator even where the hardware could run it natively." };
        var json = new Option<bool>("--json") { Description = "Print the result as JSON on stdout." };
        var dramGarbage = new Option<bool>("--dram-garbage")
        {
            Description = "VTA: start the DRAM image from seeded garbage, write the tensors, zero only memory-map.json's mustBeZero ranges (what a host must do at least) and still expect a match.",
        };
        var command = new Command("run", "Run an artifact on seeded random inputs and compare every output with the reference " +
            $"interpreter; exit {Mismatch} on a mismatch.")
        {
            directory, seed, simulate, json, dramGarbage,
        };
        command.SetAction(parse =>
        {
            var options = RunOptions.Default with { Seed = parse.GetValue(seed), ForceSimulation = parse.GetValue(simulate), DramGarbage = parse.GetValue(dramGarbage) };
            var report = ArtifactRunner.Run(parse.GetRequiredValue(directory), options, context.Targets.Executors);
            if (context.Report(report.Diagnostics) || !report.Succeeded)
            {
                return CovenantCli.UserError;
            }

            if (parse.GetValue(json))
            {
                context.WriteJson(ToJson(report.Value));
            }
            else
            {
                PrintRun(context, report.Value);
            }

            return report.Value.Match ? CovenantCli.Success : Mismatch;
        });
        return command;
    }

    private static Command BuildSuite(CliContext context)
    {
        var suite = CliArguments.File("suite", "The suite file (.yaml), e.g. codelets/suites/resnet50.yaml.");
        var arch = new Option<string>("--arch") { Description = "The architecture file (.yaml).", Required = true };
        var only = new Option<string[]>("--only") { Description = "Run only these layers (repeatable or comma-separated)." };
        var codelets = new Option<string?>("--codelets") { Description = "Where the codelets are (default: the suite folder's parent)." };
        var output = new Option<string?>("--output", "-o") { Description = "Keep each layer's artifact under this directory." };
        var seed = new Option<ulong>("--seed") { Description = "Seed of the random inputs.", DefaultValueFactory = _ => 1 };
        var jsonOption = new Option<bool>("--json") { Description = "Print one JSON object per layer." };
        var noRun = new Option<bool>("--no-run") { Description = "Compile every layer (and keep its artifact with -o) but do not run it." };
        var command = new Command("suite", "Compile and run every layer of a suite on one architecture; one row per layer " +
            $"(match, cycles, utilization, compile time). Exit {Mismatch} if any layer mismatches, 1 if any fails to compile.")
        {
            suite, arch, only, codelets, output, seed, jsonOption, noRun,
        };
        command.SetAction(parse =>
        {
            var loaded = Suite.Load(parse.GetRequiredValue(suite));
            if (context.Report(loaded.Diagnostics) || !loaded.Succeeded)
            {
                return CovenantCli.UserError;
            }

            var layers = SelectLayers(context, loaded.Value, parse.GetValue(only));
            if (layers is null)
            {
                return CovenantCli.UserError;
            }

            var json = parse.GetValue(jsonOption);
            if (!json)
            {
                context.Out.WriteLine($"{"layer",-34} {"match",-6} {"cycles",14} {"util",7} {"of bound",9} {"compile s",10}");
            }

            var options = LayerDriverOptions.Default with
            {
                CodeletDirectory = parse.GetValue(codelets),
                ArtifactDirectory = parse.GetValue(output),
                Run = !parse.GetValue(noRun),
                Seed = parse.GetValue(seed),
            };
            // Progress on stderr as each layer starts (a large layer can take minutes), like compare's.
            var results = new LayerDriver(context.Targets).Run(loaded.Value, layers, parse.GetRequiredValue(arch), options,
                result => PrintSuiteRow(context, result, json),
                (layer, index, count) => context.Error.WriteLine($"[{index}/{count}] {layer.Name}: {(options.Run ? "compiling and running" : "compiling")}"));
            var rows = results.Select(SuiteRow).ToList();
            var failed = results.Any(r => r.CompileFailed || r.RunFailed);
            var mismatched = results.Any(r => r.Run is { Succeeded: true } run && !run.Value.Match);
            if (json)
            {
                context.WriteJson(rows);
            }

            return failed ? CovenantCli.UserError : mismatched ? Mismatch : CovenantCli.Success;
        });
        return command;
    }

    /// <summary>A layer's line of the table (its problems go to stderr first).</summary>
    private static void PrintSuiteRow(CliContext context, LayerResult result, bool json)
    {
        var name = result.Layer.Name;
        if (result.CompileFailed || result.RunFailed)
        {
            context.Error.WriteLine($"layer {name}:");
            context.Report(result.CompileFailed ? result.Diagnostics : result.Run!.Diagnostics);
            if (!json && result.CompileFailed)
            {
                context.Out.WriteLine($"{name,-34} {"error",-6}");
            }

            return;
        }

        if (json)
        {
            return;
        }

        var c = CultureInfo.InvariantCulture;
        if (result.Run is not { Value: { } report })
        {
            context.Out.WriteLine(string.Create(c, $"{name,-34} {"-",-6} {"",14} {"",7} {"",9} {result.CompileSeconds,10:F2}"));
            return;
        }

        var execution = report.Execution;
        context.Out.WriteLine(string.Create(c,
            $"{name,-34} {(report.Match ? "yes" : "NO"),-6} {execution.Cycles,14:F0} {execution.Utilization,7:P1} {OfBound(result),9:P1} {result.CompileSeconds,10:F2}"));
    }

    private static double? OfBound(LayerResult result) =>
        result.Run?.Value?.Execution.Cycles is { } c && c > 0 ? result.Compiled.Value!.Mapping.ComputeBoundCycles / c : null;

    /// <summary>A layer's JSON object.</summary>
    private static object SuiteRow(LayerResult result)
    {
        var name = result.Layer.Name;
        if (result.CompileFailed || result.RunFailed)
        {
            var diagnostics = result.CompileFailed ? result.Diagnostics : result.Run!.Diagnostics;
            return new
            {
                name,
                match = false,
                error = result.CompileFailed ? "compile failed" : "run failed",
                diagnostics = diagnostics.Where(d => d.IsError).Select(d => d.ToString()).ToArray(),
            };
        }

        if (result.Run is not { Value: { } report })
        {
            return new { name, compiled = true, compileSeconds = Math.Round(result.CompileSeconds, 3) };
        }

        var execution = report.Execution;
        return new
        {
            name,
            match = report.Match,
            cycles = execution.Cycles,
            seconds = execution.Seconds,
            utilization = execution.Utilization,
            computeBoundCycles = Math.Round(result.Compiled.Value!.Mapping.ComputeBoundCycles),
            ofComputeBound = OfBound(result),
            compileSeconds = Math.Round(result.CompileSeconds, 3),
            engine = execution.Engine,
        };
    }

    /// <summary>
    /// The layers <c>--only</c> names (repeatable or comma-separated), in the suite's order; all of them without it.
    /// Null, with an error reported, when it names a layer the suite lacks. Shared by <c>suite</c> and <c>compare</c>.
    /// </summary>
    internal static List<SuiteLayer>? SelectLayers(CliContext context, Suite suite, string[]? only)
    {
        var selected = (only ?? []).SelectMany(o => o.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            .ToHashSet(StringComparer.Ordinal);
        var unknown = selected.Where(s => suite.Layers.All(l => l.Name != s)).ToList();
        if (unknown.Count > 0)
        {
            context.Report(CoreDiagnostics.BadOption.Create(null, $"--only: no layer named {string.Join(", ", unknown)} in suite '{suite.Name}'"));
            return null;
        }

        return [.. suite.Layers.Where(l => selected.Count == 0 || selected.Contains(l.Name))];
    }

    private static void PrintRun(CliContext context, RunReport report)
    {
        var execution = report.Execution;
        context.Out.WriteLine($"{report.Artifact.Manifest.Codelet} on {report.Artifact.Graph.Name} ({execution.Engine}), seed {report.Seed}");
        foreach (var check in report.Checks)
        {
            context.Out.WriteLine($"  {check.Tensor}: {check.Comparison.Summary}");
        }

        if (execution.Cycles is { } cycles)
        {
            context.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  cycles: {cycles:F0}"));
        }

        if (execution.Utilization is { } utilization)
        {
            context.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  compute utilization: {utilization:P1}"));
        }

        if (execution.Seconds is { } seconds)
        {
            context.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  time: {seconds * 1e3:F3} ms"));
        }

        context.Out.WriteLine(report.Match ? "match" : "MISMATCH");
    }

    private static object ToJson(RunReport report) => new
    {
        codelet = report.Artifact.Manifest.Codelet,
        architecture = report.Artifact.Graph.Name,
        engine = report.Execution.Engine,
        seed = report.Seed,
        match = report.Match,
        cycles = report.Execution.Cycles,
        seconds = report.Execution.Seconds,
        utilization = report.Execution.Utilization,
        outputs = report.Checks.Select(c => new
        {
            tensor = c.Tensor,
            match = c.Comparison.Matches,
            summary = c.Comparison.Summary,
        }).ToArray(),
        metrics = report.Execution.Metrics,
    };

    private static ulong ParseAddress(string text, DiagnosticBag diagnostics)
    {
        var ok = text.StartsWith("0x", StringComparison.OrdinalIgnoreCase)
            ? ulong.TryParse(text.AsSpan(2), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var value)
            : ulong.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out value);
        if (!ok)
        {
            diagnostics.Report(CoreDiagnostics.BadOption, null, $"--dram-base '{text}' is not an address (e.g. 0x10000000)");
        }

        return value;
    }
}
