using System.Text;
using Covenant.Acg.Model;

namespace Covenant.Acg.Export;

/// <summary>A plain-text summary of an architecture for people (<c>covenantc arch show --format text</c>).</summary>
public static class TextExporter
{
    public static string ToText(ArchitectureGraph graph)
    {
        ArgumentNullException.ThrowIfNull(graph);
        var text = new StringBuilder();
        text.Append(graph.Name);
        if (graph.Description.Length > 0)
        {
            text.Append(": ").Append(OneLine(graph.Description));
        }

        text.AppendLine();
        text.Append("target ").Append(graph.Target);
        if (graph.ClockHz is { } hz)
        {
            text.Append(", clock ").Append(Format.Frequency(hz));
        }

        text.AppendLine();

        var storage = graph.Storage.ToList();
        text.AppendLine().AppendLine("storage:");
        var width = storage.Select(s => Counted(s).Length).DefaultIfEmpty(0).Max();
        foreach (var node in storage)
        {
            text.Append("  ").Append(Counted(node).PadRight(width)).Append("  ").AppendLine(Describe(node));
        }

        text.AppendLine().AppendLine("compute:");
        foreach (var node in graph.Compute)
        {
            text.Append("  ").AppendLine(Counted(node));
            foreach (var capability in node.Capabilities)
            {
                text.Append("    ").Append(capability.Name).Append(": ").AppendLine(capability.SemanticsText);
                text.Append("      shape ").Append(string.Join(" ", capability.Shape.Select(a => $"{a.Name}={a.Extent}")))
                    .Append(", ").Append(capability.OperationsPerIssue).Append(" ops per issue, latency ")
                    .Append(Format.Number(capability.LatencyCycles)).Append(", interval ")
                    .Append(Format.Number(capability.IntervalCycles)).AppendLine(" (cycles)");
                foreach (var operand in capability.Operands)
                {
                    text.Append("      ").Append(operand.Name).Append(": ").Append(Codelets.ElementTypes.Name(operand.Type))
                        .Append(" in ").Append(operand.Storage).Append(" (").Append(Role(operand.Role)).AppendLine(")");
                }

                foreach (var immediate in capability.Immediates)
                {
                    text.Append("      ").Append(immediate.Name).Append(": ").Append(Codelets.ElementTypes.Name(immediate.Type))
                        .Append(" immediate");
                    if (immediate.Min is not null || immediate.Max is not null)
                    {
                        text.Append(" in [").Append(immediate.Min?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "")
                            .Append(", ").Append(immediate.Max?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "").Append(']');
                    }

                    text.AppendLine();
                }
            }
        }

        text.AppendLine().AppendLine("edges:");
        var ends = graph.Edges.Select(e => $"{e.From} -> {e.To}").ToList();
        var endWidth = ends.Select(e => e.Length).DefaultIfEmpty(0).Max();
        var bandwidths = graph.Edges.Select(e => Format.Bandwidth(e.BandwidthBytesPerCycle)).ToList();
        var bandwidthWidth = bandwidths.Select(b => b.Length).DefaultIfEmpty(0).Max();
        var latencies = graph.Edges.Select(e => "latency " + Format.Number(e.LatencyCycles)).ToList();
        var latencyWidth = latencies.Select(l => l.Length).DefaultIfEmpty(0).Max();
        for (var i = 0; i < graph.Edges.Length; i++)
        {
            var line = $"  {ends[i].PadRight(endWidth)}  {bandwidths[i].PadRight(bandwidthWidth)}  {latencies[i].PadRight(latencyWidth)}  {graph.Edges[i].Transfer}";
            text.AppendLine(line.TrimEnd());
        }

        return text.ToString();
    }

    /// <summary>One line about a storage node: its size, layout and flags (shared with the DOT labels).</summary>
    public static string Describe(StorageNode node)
    {
        var parts = new List<string> { Format.Bytes(node.CapacityBytes) };
        if (node.Element is { } element)
        {
            parts.Add($"{node.Depth} x {element}");
        }
        else if (node.LineBytes is { } line)
        {
            parts.Add($"{node.Depth} x {Format.Bytes(line)}");
        }

        if (node.Offchip)
        {
            parts.Add("off-chip");
        }

        if (node.Cache)
        {
            parts.Add("cache");
        }

        if (node.RegisterFile)
        {
            parts.Add("register file");
        }

        if (node.Banks > 1)
        {
            parts.Add($"{node.Banks} banks");
        }

        if (node.DoubleBuffered)
        {
            parts.Add("double-buffered");
        }

        if (node.Holds != StorageContents.Data)
        {
            parts.Add("holds " + node.Holds.ToString().ToLowerInvariant());
        }

        return string.Join(", ", parts);
    }

    private static string Counted(AcgNode node) => node.Count > 1 ? $"{node.Name} x{node.Count}" : node.Name;

    private static string Role(OperandRole role) => role switch
    {
        OperandRole.Read => "read",
        OperandRole.Write => "written",
        _ => "read and written",
    };

    private static string OneLine(string text) => string.Join(' ', text.Split((char[])['\n', '\r'], StringSplitOptions.RemoveEmptyEntries).Select(l => l.Trim()));
}
