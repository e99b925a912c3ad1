using System.Text.RegularExpressions;
using Covenant.Acg.Export;
using Covenant.Acg.Model;
using Covenant.Codelets;
using Covenant.Testing;

namespace Covenant.Acg.Tests;

/// <summary>Every file in <c>architectures/</c> loads without a single diagnostic, and carries the numbers its comments cite.</summary>
public sealed class ShippedArchitectureTests
{
    public static IEnumerable<string> Files => GoldenFile.Inputs(Repo.Architectures, "*.yaml");

    private static ArchitectureGraph Load(string name) => Shipped.Architecture(name);

    [Test]
    public void TheExpectedArchitecturesAreShipped()
    {
        Assert.That(Files.Select(Path.GetFileNameWithoutExtension), Is.EquivalentTo(new[]
        {
            "vta", "vta-1x32x32", "vta-halved", "vnni-avx512", "vnni-avx256", "tensorcore-sm80", "tensorcore-sm90",
        }));
    }

    [TestCaseSource(nameof(Files))]
    public void LoadsWithoutDiagnosticsAndIsNamedAfterItsFile(string path)
    {
        var result = AcgLoader.Load(path);
        Assert.That(result.Diagnostics.Select(d => d.ToString()), Is.Empty);
        Assert.That(result.Value!.Name, Is.EqualTo(Path.GetFileNameWithoutExtension(path)));
        Assert.That(result.Value.Target, Is.EqualTo(new[] { "vta", "vnni", "tensorcore" }.Single(t => result.Value.Name.StartsWith(t, StringComparison.Ordinal))));
    }

    [TestCaseSource(nameof(Files))]
    public void DotOutputIsWellFormedAndComplete(string path)
    {
        var graph = AcgLoader.Load(path).Value!;
        var dot = DotExporter.ToDot(graph);
        Assert.That(dot, Does.StartWith($"digraph \"{graph.Name}\" {{"));

        // Outside quoted strings the braces balance (and never go negative); inside, quotes are escaped.
        var outside = Regex.Replace(dot, "\"(?:[^\"\\\\]|\\\\.)*\"", "\"\"");
        Assert.That(outside.Count(c => c == '"') % 2, Is.Zero, "unbalanced quotes");
        var depth = 0;
        foreach (var c in outside)
        {
            depth += c switch { '{' => 1, '}' => -1, _ => 0 };
            Assert.That(depth, Is.GreaterThanOrEqualTo(0), "a '}' closes nothing");
        }

        Assert.That(depth, Is.Zero, "unbalanced braces");
        Assert.That(outside.TrimEnd(), Does.EndWith("}"));

        using (Assert.EnterMultipleScope())
        {
            foreach (var node in graph.Nodes)
            {
                Assert.That(dot, Does.Contain($"\n  \"{node.Name}\" [shape="), node.Name);
            }

            foreach (var group in graph.Edges.GroupBy(e => (e.From, e.To)))
            {
                var line = $"\n  \"{group.Key.From}\" -> \"{group.Key.To}\" [label=";
                Assert.That(Regex.Count(dot, Regex.Escape(line)), Is.EqualTo(group.Count()), line);
            }

            Assert.That(Regex.Count(dot, " -> "), Is.EqualTo(graph.Edges.Length));
            foreach (var transfer in graph.Edges.Select(e => e.Transfer).OfType<string>())
            {
                Assert.That(dot, Does.Contain(transfer));
            }

            foreach (var capability in graph.Compute.SelectMany(c => c.Capabilities))
            {
                Assert.That(dot, Does.Contain(capability.Name + ": " + capability.SemanticsText));
            }
        }
    }

    [TestCaseSource(nameof(Files))]
    public void TextSummaryNamesEveryNodeCapabilityAndEdge(string path)
    {
        var graph = AcgLoader.Load(path).Value!;
        var text = TextExporter.ToText(graph);
        using (Assert.EnterMultipleScope())
        {
            Assert.That(text, Does.StartWith(graph.Name + ": " + graph.Description));
            foreach (var node in graph.Nodes)
            {
                Assert.That(text, Does.Contain("\n  " + node.Name));
            }

            foreach (var capability in graph.Compute.SelectMany(c => c.Capabilities))
            {
                Assert.That(text, Does.Contain($"    {capability.Name}: {capability.SemanticsText}\n"));
            }

            foreach (var edge in graph.Edges)
            {
                Assert.That(text, Does.Match($@"\n  {Regex.Escape(edge.From)} -> {Regex.Escape(edge.To)} +{Regex.Escape(Format.Bandwidth(edge.BandwidthBytesPerCycle))} "));
            }
        }
    }

    [Test]
    public void SvgNeedsGraphvizAndSaysSoWhenItIsMissing()
    {
        var graph = Load("vta");
        var missing = DotExporter.ToSvg(graph, "covenant-no-such-dot-executable");
        Assert.That(missing.Succeeded, Is.False);
        Assert.That(missing.Diagnostics.Single().Id, Is.EqualTo(AcgDiagnostics.GraphvizUnavailable.Id));
        Assert.That(missing.Diagnostics.Single().Message, Does.Contain("not installed"));

        // Where Graphviz is installed the real thing must work.
        var svg = DotExporter.ToSvg(graph);
        if (svg.Succeeded)
        {
            Assert.That(svg.Value, Does.Contain("<svg").And.Contain("inp_buf"));
        }
        else
        {
            Assert.That(svg.Diagnostics.Single().Id, Is.EqualTo(AcgDiagnostics.GraphvizUnavailable.Id));
        }
    }

    [Test]
    public void VtaDefaultConfiguration()
    {
        var vta = Load("vta");
        var gemm = vta.ComputeNode("gemm").FindCapability("gemm")!;
        using (Assert.EnterMultipleScope())
        {
            Assert.That(vta.ClockHz, Is.EqualTo(100e6));
            Assert.That(vta.StorageNode("uop_buf").CapacityBytes, Is.EqualTo(32 << 10));
            Assert.That(vta.StorageNode("uop_buf").Holds, Is.EqualTo(StorageContents.Microcode));
            Assert.That(vta.StorageNode("inp_buf").CapacityBytes, Is.EqualTo(32 << 10));
            Assert.That(vta.StorageNode("inp_buf").Depth, Is.EqualTo(2048));
            Assert.That(vta.StorageNode("wgt_buf").CapacityBytes, Is.EqualTo(256 << 10));
            Assert.That(vta.StorageNode("wgt_buf").Element!.ToString(), Is.EqualTo("i8[16, 16]"));
            Assert.That(vta.StorageNode("wgt_buf").Depth, Is.EqualTo(1024));
            Assert.That(vta.StorageNode("acc_buf").CapacityBytes, Is.EqualTo(128 << 10));
            Assert.That(vta.StorageNode("acc_buf").Element!.Bytes, Is.EqualTo(64));
            Assert.That(vta.StorageNode("out_buf").CapacityBytes, Is.EqualTo(32 << 10));
            Assert.That(gemm.SemanticsText, Is.EqualTo("acc[i, j] += inp[i, k] * wgt[j, k]"));
            Assert.That(gemm.Shape.Select(a => (a.Name, a.Extent)), Is.EqualTo(new[] { ("i", 1), ("j", 16), ("k", 16) }));
            Assert.That(gemm.IntervalCycles, Is.EqualTo(1));
            Assert.That(gemm.FindOperand("acc")!.Type, Is.EqualTo(ElementType.I32));
            Assert.That(vta.ComputeNode("alu").Capabilities.Select(c => c.Name),
                Is.SupersetOf(new[] { "min", "max", "add", "shr", "shr_imm" }));
            Assert.That(vta.ComputeNode("alu").Capabilities.Select(c => c.IntervalCycles), Is.All.EqualTo(2));
            Assert.That(vta.ComputeNode("alu").FindCapability("shr_imm")!.Immediates.Single().Max, Is.EqualTo(31));
            Assert.That(vta.Edges.Where(e => e.Transfer?.StartsWith("vta.", StringComparison.Ordinal) == true)
                .Select(e => e.BandwidthBytesPerCycle), Is.All.EqualTo(8));
        }
    }

    [Test]
    public void Vta1x32x32Variant()
    {
        var vta = Load("vta-1x32x32");
        using (Assert.EnterMultipleScope())
        {
            Assert.That(vta.ComputeNode("gemm").FindCapability("gemm")!.Shape.Select(a => a.Extent), Is.EqualTo(new[] { 1, 32, 32 }));
            Assert.That(vta.StorageNode("inp_buf").CapacityBytes, Is.EqualTo(64 << 10));
            Assert.That(vta.StorageNode("wgt_buf").CapacityBytes, Is.EqualTo(1 << 20));
            Assert.That(vta.StorageNode("acc_buf").CapacityBytes, Is.EqualTo(256 << 10));

            // The same depths as the default, so the ISA's index fields keep their widths.
            Assert.That(new[] { "inp_buf", "wgt_buf", "acc_buf" }.Select(n => vta.StorageNode(n).Depth), Is.EqualTo(new long?[] { 2048, 1024, 2048 }));
            Assert.That(vta.EdgesBetween("dram", "inp_buf").Single().BandwidthBytesPerCycle, Is.EqualTo(16));
            Assert.That(vta.ComputeNode("alu").Capabilities.Select(c => c.FindAxis("j")!.Extent), Is.All.EqualTo(32));
        }
    }

    [Test]
    public void VnniOnThisMachine()
    {
        var wide = Load("vnni-avx512");
        var narrow = Load("vnni-avx256");
        var vpdpbusd = wide.ComputeNode("core").FindCapability("vpdpbusd")!;
        using (Assert.EnterMultipleScope())
        {
            Assert.That(wide.ComputeNode("core").Count, Is.EqualTo(2));
            Assert.That(wide.StorageNode("l1d").CapacityBytes, Is.EqualTo(32 << 10));
            Assert.That(wide.StorageNode("l2").CapacityBytes, Is.EqualTo(1 << 20));
            Assert.That(wide.StorageNode("zmm").CapacityBytes, Is.EqualTo(32 * 64));
            Assert.That(vpdpbusd.SemanticsText, Is.EqualTo("c[j] += a[k] * b[j, k]"));
            Assert.That(vpdpbusd.Shape.Select(a => (a.Name, a.Extent)), Is.EqualTo(new[] { ("j", 16), ("k", 4) }));
            Assert.That(vpdpbusd.Operands.Select(o => o.Type), Is.EqualTo(new[] { ElementType.U8, ElementType.I8, ElementType.I32 }));
            Assert.That(narrow.ComputeNode("core").FindCapability("vpdpbusd")!.Shape[0].Extent, Is.EqualTo(8));
            Assert.That(narrow.StorageNode("ymm").CapacityBytes, Is.EqualTo(16 * 32));

            // Per-second bandwidths were converted with the clock: 26 GB/s at 3.65 GHz.
            Assert.That(wide.EdgesBetween("dram", "l2").Single().BandwidthBytesPerCycle, Is.EqualTo(26e9 / 3.65e9).Within(1e-9));
        }
    }

    [Test]
    public void TensorCores()
    {
        var a100 = Load("tensorcore-sm80");
        var h100 = Load("tensorcore-sm90");
        using (Assert.EnterMultipleScope())
        {
            Assert.That(a100.ComputeNode("sm").Count, Is.EqualTo(108));
            Assert.That(a100.StorageNode("smem").CapacityBytes, Is.EqualTo(164 << 10));
            Assert.That(a100.StorageNode("regs").CapacityBytes, Is.EqualTo(256 << 10));
            Assert.That(a100.StorageNode("l2").CapacityBytes, Is.EqualTo(40 << 20));
            Assert.That(a100.EdgesBetween("hbm", "l2").Single().BandwidthBytesPerCycle, Is.EqualTo(2039e9 / 1.41e9).Within(1e-6));
            Assert.That(h100.ComputeNode("sm").Count, Is.EqualTo(132));
            Assert.That(h100.StorageNode("smem").CapacityBytes, Is.EqualTo(228 << 10));
            Assert.That(h100.StorageNode("l2").CapacityBytes, Is.EqualTo(50 << 20));
            Assert.That(h100.EdgesBetween("hbm", "l2").Single().BandwidthBytesPerCycle * h100.ClockHz, Is.EqualTo(3.35e12).Within(1));
            foreach (var graph in new[] { a100, h100 })
            {
                var fp16 = graph.ComputeNode("sm").FindCapability("mma.sync.aligned.m16n8k16")!;
                var int8 = graph.ComputeNode("sm").FindCapability("mma.sync.aligned.m16n8k32")!;
                Assert.That(fp16.Shape.Select(a => a.Extent), Is.EqualTo(new[] { 16, 8, 16 }));
                Assert.That(fp16.Operands.Select(o => o.Type), Is.EqualTo(new[] { ElementType.F16, ElementType.F16, ElementType.F32 }));
                Assert.That(int8.Shape.Select(a => a.Extent), Is.EqualTo(new[] { 16, 8, 32 }));
                Assert.That(int8.Operands.Select(o => o.Type), Is.EqualTo(new[] { ElementType.I8, ElementType.I8, ElementType.I32 }));
                Assert.That(graph.Edges.Select(e => e.Transfer), Is.SupersetOf(new[] { "cp.async", "ldmatrix", "st.global" }));
            }
        }
    }
}
