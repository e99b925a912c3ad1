using System.ComponentModel;
using System.Diagnostics;
using System.Text;
using Covenant.Acg.Model;
using Covenant.Core.Diagnostics;

namespace Covenant.Acg.Export;

/// <summary>
/// Renders an architecture as a Graphviz graph: storage as boxes (off-chip storage as a cylinder, caches
/// dashed), compute nodes as filled rounded boxes listing their capabilities, edges labelled with their
/// transfer and bandwidth. Every id and label is a quoted, escaped DOT string, so any name is safe.
/// </summary>
public static class DotExporter
{
    private static readonly TimeSpan DotTimeout = TimeSpan.FromSeconds(30);

    public static string ToDot(ArchitectureGraph graph)
    {
        ArgumentNullException.ThrowIfNull(graph);
        var dot = new StringBuilder();
        var title = $"{graph.Name} (target {graph.Target}{(graph.ClockHz is { } hz ? ", " + Format.Frequency(hz) : "")})";
        dot.Append("digraph ").Append(Quote(graph.Name)).AppendLine(" {");
        dot.Append("  label=").Append(Quote(title)).AppendLine(";");
        dot.AppendLine("  labelloc=t;");
        dot.AppendLine("  rankdir=TB;");
        dot.AppendLine("  node [fontname=\"Helvetica\", fontsize=10];");
        dot.AppendLine("  edge [fontname=\"Helvetica\", fontsize=9];");
        foreach (var node in graph.Nodes)
        {
            dot.Append("  ").Append(Quote(node.Name)).Append(" [").Append(Attributes(node)).AppendLine("];");
        }

        foreach (var edge in graph.Edges)
        {
            var label = edge.Transfer is null
                ? Format.Bandwidth(edge.BandwidthBytesPerCycle)
                : edge.Transfer + "\n" + Format.Bandwidth(edge.BandwidthBytesPerCycle);
            dot.Append("  ").Append(Quote(edge.From)).Append(" -> ").Append(Quote(edge.To))
                .Append(" [label=").Append(Quote(label)).AppendLine("];");
        }

        dot.AppendLine("}");
        return dot.ToString();
    }

    /// <summary>
    /// Runs Graphviz (<c>dot -Tsvg</c>) on <see cref="ToDot"/>'s output. Fails with
    /// <see cref="AcgDiagnostics.GraphvizUnavailable"/>, saying what to do, when <paramref name="dotExecutable"/>
    /// is not installed or fails.
    /// </summary>
    public static Result<string> ToSvg(ArchitectureGraph graph, string dotExecutable = "dot")
    {
        ArgumentNullException.ThrowIfNull(graph);
        var start = new ProcessStartInfo(dotExecutable, "-Tsvg")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            StandardInputEncoding = new UTF8Encoding(false),
            StandardOutputEncoding = Encoding.UTF8,
        };
        try
        {
            using var process = Process.Start(start);
            if (process is null)
            {
                return Unavailable(graph, $"'{dotExecutable}' could not be started");
            }

            // Read both streams while writing, so a large graph cannot deadlock on a full pipe.
            var output = process.StandardOutput.ReadToEndAsync();
            var errors = process.StandardError.ReadToEndAsync();
            process.StandardInput.Write(ToDot(graph));
            process.StandardInput.Close();
            if (!process.WaitForExit(DotTimeout))
            {
                process.Kill(entireProcessTree: true);
                return Unavailable(graph, $"'{dotExecutable}' did not finish within {DotTimeout.TotalSeconds} s");
            }

            return process.ExitCode == 0
                ? Result<string>.Success(output.GetAwaiter().GetResult())
                : Unavailable(graph, $"'{dotExecutable}' failed (exit code {process.ExitCode}): {errors.GetAwaiter().GetResult().Trim()}");
        }
        catch (Win32Exception)
        {
            return Unavailable(graph,
                $"Graphviz's '{dotExecutable}' is not installed (on Debian: apt-get install graphviz); write DOT instead and render it elsewhere");
        }
        catch (IOException e)
        {
            return Unavailable(graph, $"talking to '{dotExecutable}' failed: {e.Message}");
        }
    }

    private static Result<string> Unavailable(ArchitectureGraph graph, string message) =>
        Result<string>.Failure(AcgDiagnostics.GraphvizUnavailable.Create(SourceLocation.OfFile(graph.Location.File), message));

    private static string Attributes(AcgNode node) => node switch
    {
        StorageNode s => $"shape={(s.Offchip ? "cylinder" : "box")}{(s.Cache ? ", style=dashed" : "")}, label={Quote(StorageLabel(s))}",
        ComputeNode c => $"shape=box, style=\"rounded,filled\", fillcolor=\"#dde8f8\", label={Quote(ComputeLabel(c))}",
        _ => $"label={Quote(node.Name)}",
    };

    private static string StorageLabel(StorageNode s)
    {
        var lines = new List<string> { Counted(s) };
        lines.Add(TextExporter.Describe(s));
        return string.Join("\n", lines);
    }

    private static string ComputeLabel(ComputeNode c)
    {
        var lines = new List<string> { Counted(c) };
        foreach (var capability in c.Capabilities)
        {
            var shape = string.Join(" ", capability.Shape.Select(a => $"{a.Name}={a.Extent}"));
            lines.Add($"{capability.Name}: {capability.SemanticsText}  [{shape}]");
        }

        return string.Join("\n", lines);
    }

    private static string Counted(AcgNode node) => node.Count > 1 ? $"{node.Name} x{node.Count}" : node.Name;

    /// <summary>A DOT double-quoted string: backslashes and quotes escaped, line breaks as <c>\n</c> (centered lines).</summary>
    public static string Quote(string text)
    {
        var quoted = new StringBuilder(text.Length + 2).Append('"');
        foreach (var c in text)
        {
            switch (c)
            {
                case '\\': quoted.Append(@"\\"); break;
                case '"': quoted.Append("\\\""); break;
                case '\n': quoted.Append(@"\n"); break;
                case '\r': break;
                default: quoted.Append(c); break;
            }
        }

        return quoted.Append('"').ToString();
    }
}
