using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Covenant.Core.Diagnostics;
using Covenant.Onnx.Host;
using Covenant.Onnx.Import;
using Covenant.Onnx.Network;

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
        var command = new Command(
            "network",
            "Compile every layer of an ONNX model for an architecture and run the network in order on seeded inputs; " +
            "per-layer cycles, where each node ran, the share of MACs on the accelerator, and a checksum per graph output.")
        {
            model, arch, codelets, seed, simulate, json,
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

            var codeletDirectory = parse.GetValue(codelets)
                ?? Path.Combine(Path.GetDirectoryName(Path.GetDirectoryName(Path.GetFullPath(architecture))) ?? ".", "codelets");
            var executor = new ArchitectureLayerExecutor(architecture, codeletDirectory, context.Targets, parse.GetValue(simulate));
            var inputSeed = parse.GetValue(seed);
            clock.Restart();
            var run = NetworkRunner.Run(imported.Value, NetworkRunner.RandomInputs(imported.Value, inputSeed), executor);
            var runSeconds = clock.Elapsed.TotalSeconds;
            if (context.Report(run.Diagnostics) || !run.Succeeded)
            {
                return CovenantCli.UserError;
            }

            if (parse.GetValue(json))
            {
                context.WriteJson(ToJson(path, architecture, inputSeed, run.Value, importSeconds, runSeconds));
            }
            else
            {
                Print(context.Out, path, architecture, inputSeed, run.Value, importSeconds, runSeconds);
            }

            return run.Value.AllMatchReference ? CovenantCli.Success : 2;
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

    private static void Print(TextWriter output, string path, string architecture, ulong seed, NetworkRun run, double importSeconds, double runSeconds)
    {
        output.WriteLine($"{path} on {architecture}, seed {seed} (run: the executor's time, a simulator's own for simulated layers; host: host steps and nodes)");
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
            $"total: {run.AcceleratorCycles?.ToString("N0", CultureInfo.InvariantCulture) ?? "-"} accelerator cycles; {run.AcceleratorMacs:N0} of {run.LayerMacs:N0} layer MACs ({share:P1}) on the accelerator; import {importSeconds * 1e3:F1} ms, compile and run {runSeconds:F2} s"));
        foreach (var (name, tensor) in run.Outputs.OrderBy(o => o.Key, StringComparer.Ordinal))
        {
            output.WriteLine($"output {name}: {tensor.Type}  checksum {Checksum(tensor)}");
        }
    }

    private static object ToJson(string path, string architecture, ulong seed, NetworkRun run, double importSeconds, double runSeconds) => new
    {
        model = path,
        architecture,
        seed,
        nodes = run.Nodes.Select(n => new
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
        }).ToArray(),
        acceleratorCycles = run.AcceleratorCycles,
        acceleratorMacs = run.AcceleratorMacs,
        layerMacs = run.LayerMacs,
        outputs = run.Outputs.OrderBy(o => o.Key, StringComparer.Ordinal).Select(o => new { name = o.Key, type = o.Value.Type.ToString(), checksum = Checksum(o.Value) }).ToArray(),
        importSeconds,
        runSeconds,
    };
}
