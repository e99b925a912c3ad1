using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Covenant.Core.Diagnostics;
using Covenant.Onnx.Import;

namespace Covenant.Cli.Commands;

/// <summary><c>covenantc import model.onnx [-o suite.yaml] [--json]</c>: an ONNX model's layers as codelet instances.</summary>
public static class ImportCommand
{
    public static Command Build(CliContext context)
    {
        var model = CliArguments.File("model", "The ONNX model (.onnx) with static shapes.");
        var output = new Option<string?>("--output", "-o")
        {
            Description = "Write the layer suite (for 'covenantc suite') with the network description as comments to this file.",
        };
        var json = new Option<bool>("--json") { Description = "Print every node (placement, codelet, bindings, MACs, why) as JSON on stdout." };
        var command = new Command(
            "import",
            "Read an ONNX model, infer its shapes and list every node: the codelet instance it compiles to, or why it runs on the host.")
        {
            model, output, json,
        };
        command.SetAction(parse =>
        {
            var path = parse.GetRequiredValue(model);
            var clock = Stopwatch.StartNew();
            var imported = OnnxImporter.Import(path);
            var seconds = clock.Elapsed.TotalSeconds;
            if (context.Report(imported.Diagnostics) || !imported.Succeeded)
            {
                return CovenantCli.UserError;
            }

            if (parse.GetValue(output) is { } suitePath && !WriteSuite(context, suitePath, imported.Value))
            {
                return CovenantCli.UserError;
            }

            if (parse.GetValue(json))
            {
                context.WriteJson(ToJson(imported.Value, seconds));
            }
            else
            {
                PrintTable(context.Out, imported.Value, seconds);
            }

            return CovenantCli.Success;
        });
        return command;
    }

    private static bool WriteSuite(CliContext context, string path, ImportedModel model)
    {
        try
        {
            var folder = Path.GetDirectoryName(Path.GetFullPath(path));
            if (folder is not null)
            {
                Directory.CreateDirectory(folder);
            }

            File.WriteAllText(path, ImportWriter.SuiteYaml(model));
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            context.Report(CoreDiagnostics.OutputNotWritable.Create(SourceLocation.OfFile(path), e.Message));
            return false;
        }
    }

    private static string Shape(ImportedModel model, ImportedNode node) => node.Layer is { } layer
        ? string.Join(",", ImportWriter.OrderedBindings(layer).Select(b => $"{b.Key}={b.Value}"))
        : model.Values[node.Outputs[0]].ToString();

    private static void PrintTable(TextWriter output, ImportedModel model, double seconds)
    {
        var rows = model.Nodes.Select(n => new[]
        {
            n.Index.ToString(CultureInfo.InvariantCulture), n.Name, n.OpType, n.Layer?.Codelet ?? "-", Shape(model, n),
            n.Layer is { } l ? l.Macs.ToString("N0", CultureInfo.InvariantCulture) : "-",
            n.Placement switch { NodePlacement.Accelerator => "accelerator", NodePlacement.AcceleratorAndHost => "accelerator+host", _ => "host" },
            n.Note,
        }).ToList();
        string[] header = ["#", "node", "op", "codelet", "shape", "MACs", "runs on", "why / host steps"];
        var widths = header.Select((h, i) => rows.Select(r => r[i].Length).Append(h.Length).Max()).ToArray();
        output.WriteLine($"{model.Path}: graph '{model.GraphName}', ai.onnx opset {model.Opset}, {model.Nodes.Length} nodes");
        foreach (var row in rows.Prepend(header))
        {
            output.WriteLine(string.Join("  ", row.Select((cell, i) => i == row.Length - 1 ? cell : cell.PadRight(widths[i]))).TrimEnd());
        }

        var total = model.AcceleratorMacs;
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{model.Layers.Count()} layers on the accelerator ({total:N0} MACs), {model.Nodes.Count(n => n.Layer is null)} nodes on the host; import {seconds * 1000:F1} ms"));
        if (model.Layers.Any(l => l.Codelet.StartsWith("conv", StringComparison.Ordinal)))
        {
            output.WriteLine("Layout: ONNX activations are NCHW and weights OIHW; the conv codelets take NHWC and KRSC (RSC depthwise), " +
                "so the host transposes activations at each layer's boundary and weights once.");
        }
    }

    private static object ToJson(ImportedModel model, double seconds) => new
    {
        model = model.Path,
        graph = model.GraphName,
        opset = model.Opset,
        inputs = model.GraphInputs.Select(i => new { name = i, type = model.Values[i].ToString() }).ToArray(),
        outputs = model.GraphOutputs.ToArray(),
        nodes = model.Nodes.Select(n => new
        {
            index = n.Index,
            name = n.Name,
            op = n.OpType,
            inputs = n.Inputs.ToArray(),
            outputs = n.Outputs.ToArray(),
            outputType = model.Values[n.Outputs[0]].ToString(),
            runsOn = n.Placement switch { NodePlacement.Accelerator => "accelerator", NodePlacement.AcceleratorAndHost => "accelerator+host", _ => "host" },
            layer = n.Layer?.LayerName,
            codelet = n.Layer?.Codelet,
            bindings = n.Layer is { } l ? ImportWriter.OrderedBindings(l).ToDictionary(b => b.Key, b => b.Value) : null,
            macs = n.Layer?.Macs,
            note = n.Note,
        }).ToArray(),
        acceleratorMacs = model.AcceleratorMacs,
        seconds,
    };
}
