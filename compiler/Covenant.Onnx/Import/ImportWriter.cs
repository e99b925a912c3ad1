using System.Globalization;
using System.Text;

namespace Covenant.Onnx.Import;

/// <summary>
/// Writes an import as a layer suite (<c>codelets/suites</c>' format, which <c>covenantc suite</c> reads: one layer
/// per accelerator node) followed by the network description (every node in graph order: which tensors feed it,
/// what it produces, where it runs) as comments, so the suite stays a plain suite and the network is readable beside it.
/// </summary>
public static class ImportWriter
{
    public static string SuiteYaml(ImportedModel model)
    {
        ArgumentNullException.ThrowIfNull(model);
        var text = new StringBuilder();
        var name = Path.GetFileNameWithoutExtension(model.Path);
        text.AppendLine(CultureInfo.InvariantCulture, $"# Imported from {Path.GetFileName(model.Path)} by covenantc import (ai.onnx opset {model.Opset}).");
        text.AppendLine("# One layer per node that runs on the accelerator; the network description below lists every node.");
        text.AppendLine(CultureInfo.InvariantCulture, $"suite: {Quote(name)}");
        text.AppendLine(CultureInfo.InvariantCulture, $"source: {Quote($"ONNX model {Path.GetFileName(model.Path)}, graph '{model.GraphName}'")}");
        text.AppendLine(model.Layers.Any() ? "layers:" : "layers: []");
        foreach (var layer in model.Layers)
        {
            var bindings = string.Join(", ", OrderedBindings(layer).Select(b => $"{b.Key}: {b.Value.ToString(CultureInfo.InvariantCulture)}"));
            text.AppendLine(CultureInfo.InvariantCulture, $"  - {{name: {layer.LayerName}, codelet: {layer.Codelet}, {bindings}}}");
        }

        text.AppendLine();
        text.AppendLine("# network (graph order): node [op] inputs -> output : where it runs");
        text.AppendLine("#   graph inputs: " + string.Join(", ", model.GraphInputs.Select(i => $"{i} {model.Values[i]}")));
        foreach (var node in model.Nodes)
        {
            var inputs = string.Join(", ", node.Inputs.Where(i => i.Length > 0 && !model.Constants.ContainsKey(i)));
            var output = node.Outputs[0];
            var where = node.Layer is { } l ? $"layer {l.LayerName} ({l.Codelet})" : "host";
            text.AppendLine(CultureInfo.InvariantCulture, $"#   {node.Name} [{node.OpType}] {inputs} -> {output} {model.Values[output]} : {where}");
        }

        text.AppendLine("#   graph outputs: " + string.Join(", ", model.GraphOutputs));
        return text.ToString();
    }

    /// <summary>A layer's bindings in its codelet's parameter order: shapes first, then strides, pads and dilations.</summary>
    public static IEnumerable<KeyValuePair<string, long>> OrderedBindings(CodeletLayer layer)
    {
        ArgumentNullException.ThrowIfNull(layer);
        string[] order = layer.Bindings.ContainsKey("M") ? ["B", "M", "N", "K"] : ["N", "H", "W", "C", "K", "G", "R", "S"];
        return layer.Bindings.OrderBy(b => Array.IndexOf(order, b.Key) is var i and >= 0 ? i : order.Length)
            .ThenBy(b => b.Key, StringComparer.Ordinal);
    }

    private static string Quote(string value) => "'" + value.Replace("'", "''", StringComparison.Ordinal) + "'";
}
