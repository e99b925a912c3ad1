using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;
using Covenant.Core.Diagnostics;
using Covenant.Onnx.Host;
using Covenant.Onnx.Import;
using Covenant.Onnx.Network;
using Covenant.Onnx.Oracle;

namespace Covenant.Cli.Commands;

/// <summary>
/// <c>covenantc network model.onnx --arch X.yaml</c>: every layer of an imported model compiled for the architecture and
/// run in graph order on seeded inputs, each layer's output feeding the next, the other nodes on the host.
/// </summary>
public static class NetworkCommand
{
    public static Command Build(CliContext context)
    {
        var model = CliArguments.File("model", "The ONNX model (.onnx) with static shapes.");
        var arch = new Option<string>("--arch") { Description = "The architecture file (.yaml).", Required = true };
        var codelets = new Option<string?>("--codelets") { Description = "Where the codelets are (default: codelets/ beside the architecture's folder)." };
        var seed = new Option<ulong>("--seed") { Description = "Seed of the random graph inputs.", DefaultValueFactory = _ => 1 };
        var simulate = new Option<bool>("--simulate") { Description = "Use the target's simulator even where the hardware could run a layer natively." };
        var json = new Option<bool>("--json") { Description = "Print every node's run as JSON on stdout." };
        var check = new Option<bool>("--check")
        {
            Description = "Also run the model in ONNX Runtime on the same inputs and compare every graph output (integers exactly, " +
                $"floats within {OnnxRuntimeOracle.DefaultFloatTolerance:G} of the output's largest |value|); exit 2 on a mismatch.",
        };
        var output = new Option<string?>("--output", "-o")
        {
            Description = "Keep each compiled layer's artifact in DIR/LAYER (covenantc run reruns it) and the per-node results in DIR/network.json.",
        };
        var command = new Command(
            "network",
            "Compile every layer of an ONNX model for an architecture and run the network in order on seeded inputs; " +
            "per-layer cycles, where each node ran, the share of MACs on the accelerator, and a checksum per graph output.")
        {
            model, arch, codelets, seed, simulate, json, check, output,
        };
        command.SetAction(parse =>
        {
            var path = parse.GetRequiredValue(model);
            var architecture = parse.GetRequiredValue(arch);
            if (!File.Exists(architecture))
            {
                context.Report(CoreDiagnostics.FileNotFound.Create(SourceLocation.OfFile(architecture), "architecture file not found"));
                return CovenantCli.UserError;
            }

            var clock = Stopwatch.StartNew();
            var imported = OnnxImporter.Import(path);
            var importSeconds = clock.Elapsed.TotalSeconds;
            if (context.Report(imported.Diagnostics) || !imported.Succeeded)
            {
                return CovenantCli.UserError;
            }

            // --check needs ONNX Runtime's native library: say so before a long run rather than after it.
            if (parse.GetValue(check) && context.Report(OnnxRuntimeOracle.Version(path).Diagnostics))
            {
                return CovenantCli.UserError;
            }

            var codeletDirectory = parse.GetValue(codelets)
                ?? Path.Combine(Path.GetDirectoryName(Path.GetDirectoryName(Path.GetFullPath(architecture))) ?? ".", "codelets");
            var outputDirectory = parse.GetValue(output);
            var executor = new ArchitectureLayerExecutor(architecture, codeletDirectory, context.Targets, parse.GetValue(simulate))
            {
                ArtifactDirectory = outputDirectory,
            };
            var inputSeed = parse.GetValue(seed);
            var inputs = NetworkRunner.RandomInputs(imported.Value, inputSeed);
            clock.Restart();
            var run = NetworkRunner.Run(imported.Value, inputs, executor);
            var runSeconds = clock.Elapsed.TotalSeconds;
            if (context.Report(run.Diagnostics) || !run.Succeeded || context.Report(executor.ArtifactDiagnostics))
            {
                return CovenantCli.UserError;
            }

            NetworkCheck? oracle = null;
            if (parse.GetValue(check))
            {
                var checkedRun = OnnxRuntimeOracle.Check(imported.Value, File.ReadAllBytes(path), inputs, run.Value);
                if (context.Report(checkedRun.Diagnostics) || !checkedRun.Succeeded)
                {
                    return CovenantCli.UserError;
                }

                oracle = checkedRun.Value;
            }

            var report = new NetworkReport(path, architecture, inputSeed, run.Value, oracle, importSeconds, runSeconds);
            if (outputDirectory is not null && !WriteReport(context, outputDirectory, report))
            {
                return CovenantCli.UserError;
            }

            if (parse.GetValue(json))
            {
                context.WriteJson(ToJson(report));
            }
            else
            {
                Print(context.Out, report);
            }

            return run.Value.AllMatchReference && oracle?.Matches != false ? CovenantCli.Success : 2;
        });
        return command;
    }

    private static string Checksum(HostTensor tensor)
    {
        // FNV-1a over the values as 64-bit integers (floats by their bits), in ONNX's row-major order.
        var hash = 14695981039346656037UL;
        var values = tensor.IsFloat ? tensor.Floats.Select(f => (long)BitConverter.SingleToInt32Bits(f)) : tensor.Integers.Select(i => (long)i);
        foreach (var value in values)
        {
            foreach (var b in BitConverter.GetBytes(value))
            {
                hash = (hash ^ b) * 1099511628211UL;
            }
        }

        return hash.ToString("x16", CultureInfo.InvariantCulture);
    }

    private static string Milliseconds(double seconds) => string.Create(CultureInfo.InvariantCulture, $"{seconds * 1e3:F1} ms");

    /// <summary>What one network command found: the run, the ONNX Runtime check when asked, and the times.</summary>
    private sealed record NetworkReport(string Model, string Architecture, ulong Seed, NetworkRun Run, NetworkCheck? Check, double ImportSeconds, double RunSeconds);

    private static readonly JsonSerializerOptions FileJson = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    /// <summary>DIR/network.json: the same per-node results as --json, beside the kept layer artifacts.</summary>
    private static bool WriteReport(CliContext context, string directory, NetworkReport report)
    {
        var file = Path.Combine(directory, "network.json");
        try
        {
            Directory.CreateDirectory(directory);
            File.WriteAllText(file, JsonSerializer.Serialize(ToJson(report), FileJson) + "\n");
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            context.Report(CoreDiagnostics.OutputNotWritable.Create(SourceLocation.OfFile(file), e.Message));
            return false;
        }
    }

    private static void Print(TextWriter output, NetworkReport report)
    {
        var run = report.Run;
        output.WriteLine($"{report.Model} on {report.Architecture}, seed {report.Seed} (run: the executor's time, a simulator's own for simulated layers; host: host steps and nodes)");
        string[] header = ["#", "node", "op", "ran on", "cycles", "utilization", "MACs", "compile", "run", "host", "check"];
        var rows = run.Nodes.Select(n => new[]
        {
            n.Node.Index.ToString(CultureInfo.InvariantCulture), n.Node.Name, n.Node.OpType, n.RanOn,
            n.Layer?.Cycles is { } c ? $"{c.ToString("N0", CultureInfo.InvariantCulture)} {n.Layer.Timing}" : "-",
            n.Layer?.Utilization is { } u ? u.ToString("P1", CultureInfo.InvariantCulture) : "-",
            n.Node.Layer is { } l ? l.Macs.ToString("N0", CultureInfo.InvariantCulture) : "-",
            n.Layer is { } compiled ? Milliseconds(compiled.CompileSeconds) : "-",
            n.Layer?.Seconds is { } seconds ? Milliseconds(seconds) : "-",
            Milliseconds(n.HostSeconds),
            n.Layer?.MatchesReference switch { true => "= reference", false => "DIFFERS from reference", null => "-" },
        }).ToList();
        var widths = header.Select((h, i) => rows.Select(r => r[i].Length).Append(h.Length).Max()).ToArray();
        foreach (var row in rows.Prepend(header))
        {
            output.WriteLine(string.Join("  ", row.Select((cell, i) => cell.PadRight(widths[i]))).TrimEnd());
        }

        var share = run.LayerMacs == 0 ? 0 : (double)run.AcceleratorMacs / run.LayerMacs;
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"total: {run.AcceleratorCycles?.ToString("N0", CultureInfo.InvariantCulture) ?? "-"} accelerator cycles; {run.AcceleratorMacs:N0} of {run.LayerMacs:N0} layer MACs ({share:P1}) on the accelerator; import {report.ImportSeconds * 1e3:F1} ms, compile and run {report.RunSeconds:F2} s"));
        foreach (var (name, tensor) in run.Outputs.OrderBy(o => o.Key, StringComparer.Ordinal))
        {
            output.WriteLine($"output {name}: {tensor.Type}  checksum {Checksum(tensor)}");
        }

        if (report.Check is { } check)
        {
            PrintCheck(output, check);
        }
    }

    private static void PrintCheck(TextWriter output, NetworkCheck check)
    {
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"check against ONNX Runtime {check.OrtVersion} (CPU, graph optimizations off) on the same inputs, {Milliseconds(check.Seconds)}:"));
        foreach (var o in check.Outputs)
        {
            var rule = o.Exact ? "exact" : string.Create(CultureInfo.InvariantCulture,
                $"within {check.FloatTolerance:G} x max|ort| = {o.Bound:G3}, worst |diff| {o.WorstError:G3}");
            var verdict = o.Matches ? "matches" : $"DIFFERS in {o.Mismatches} of {o.Elements}; first {o.First}";
            output.WriteLine($"  {o.Name}: {o.Type}, {o.Elements} values, {rule}: {verdict}");
        }

        output.WriteLine(check.Matches ? "check: every graph output matches ONNX Runtime" : "check: MISMATCH against ONNX Runtime");
    }

    private static object ToJson(NetworkReport report) => new
    {
        model = report.Model,
        architecture = report.Architecture,
        seed = report.Seed,
        nodes = report.Run.Nodes.Select(n => new
        {
            index = n.Node.Index,
            name = n.Node.Name,
            op = n.Node.OpType,
            ranOn = n.RanOn,
            onAccelerator = n.Layer?.OnAccelerator ?? false,
            cycles = n.Layer?.Cycles,
            timing = n.Layer?.Timing,
            runSeconds = n.Layer?.Seconds,
            hostSeconds = n.HostSeconds,
            utilization = n.Layer?.Utilization,
            compileSeconds = n.Layer?.CompileSeconds,
            macs = n.Node.Layer?.Macs,
            matchesReference = n.Layer?.MatchesReference,
            artifact = n.Layer?.Artifact,
        }).ToArray(),
        acceleratorCycles = report.Run.AcceleratorCycles,
        acceleratorMacs = report.Run.AcceleratorMacs,
        layerMacs = report.Run.LayerMacs,
        outputs = report.Run.Outputs.OrderBy(o => o.Key, StringComparer.Ordinal).Select(o => new { name = o.Key, type = o.Value.Type.ToString(), checksum = Checksum(o.Value) }).ToArray(),
        check = report.Check is { } check ? new
        {
            oracle = $"ONNX Runtime {check.OrtVersion}",
            floatTolerance = check.FloatTolerance,
            matches = check.Matches,
            seconds = check.Seconds,
            outputs = check.Outputs.Select(o => new
            {
                name = o.Name,
                type = o.Type,
                exact = o.Exact,
                elements = o.Elements,
                mismatches = o.Mismatches,
                worstError = o.WorstError,
                bound = o.Bound,
                matches = o.Matches,
                first = o.First.Length == 0 ? null : o.First,
            }).ToArray(),
        } : null,
        importSeconds = report.ImportSeconds,
        runSeconds = report.RunSeconds,
    };
}
