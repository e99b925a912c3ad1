using Covenant.Acg.Model;
using Covenant.Acg.Queries;
using Covenant.Testing;
using static Covenant.Acg.Tests.TestSupport;

namespace Covenant.Acg.Tests;

/// <summary>Graph queries on the shipped architectures, whose shapes are known, and on small hand-made graphs.</summary>
public sealed class QueryTests
{
    private static AcgQueries Queries(string name) => new(Shipped.Architecture(name));

    [Test]
    public void TheQuikGraphGraphMirrorsTheModel()
    {
        var vta = Queries("vta");
        Assert.That(vta.Graph.VertexCount, Is.EqualTo(vta.Architecture.Nodes.Length));
        Assert.That(vta.Graph.EdgeCount, Is.EqualTo(vta.Architecture.Edges.Length));
        Assert.That(vta.Graph.Edges.Select(e => e.Tag), Is.EquivalentTo(vta.Architecture.Edges));
    }

    [Test]
    public void NeighborsAndEdges()
    {
        var vta = Queries("vta");
        using (Assert.EnterMultipleScope())
        {
            Assert.That(vta.Successors("dram"), Is.EqualTo(new[] { "uop_buf", "inp_buf", "wgt_buf", "acc_buf" }));
            Assert.That(vta.Predecessors("gemm"), Is.EqualTo(new[] { "uop_buf", "inp_buf", "wgt_buf", "acc_buf" }));
            Assert.That(vta.Predecessors("out_buf"), Is.EqualTo(new[] { "gemm", "alu" }));
            Assert.That(vta.EdgesBetween("out_buf", "dram").Single().Transfer, Is.EqualTo("vta.store.out"));
            Assert.That(vta.InEdges("dram").Single().From, Is.EqualTo("out_buf"));
        }
    }

    [Test]
    public void ReachabilityStopsAtComputeNodesUnlessAskedNotTo()
    {
        var vta = Queries("vta");
        using (Assert.EnterMultipleScope())
        {
            Assert.That(vta.CanReach("dram", "gemm"), Is.True, "through inp_buf, ending at a compute node");
            Assert.That(vta.CanReach("acc_buf", "dram"), Is.False, "accumulators leave only through a compute unit");
            Assert.That(vta.CanReach("acc_buf", "dram", throughCompute: true), Is.True);
            Assert.That(vta.CanReach("inp_buf", "dram", throughCompute: true), Is.True, "inp_buf -> gemm -> out_buf -> dram");
            Assert.That(vta.CanReach("out_buf", "inp_buf"), Is.True, "out_buf -> dram -> inp_buf");
            Assert.That(vta.CanReach("uop_buf", "wgt_buf"), Is.False);
        }
    }

    [Test]
    public void ShortestPathAndItsEdges()
    {
        var vta = Queries("vta");
        var path = vta.ShortestPath("acc_buf", "dram", throughCompute: true)!;
        using (Assert.EnterMultipleScope())
        {
            Assert.That(path.ToString(), Is.EqualTo("acc_buf -> gemm -> out_buf -> dram"));
            Assert.That(path.Edges.Select(e => e.BandwidthBytesPerCycle), Is.EqualTo(new[] { 64.0, 16, 8 }));
            Assert.That(path.BottleneckBandwidth, Is.EqualTo(8));
            Assert.That(path.TotalLatency, Is.EqualTo(32));
            Assert.That(vta.ShortestPath("acc_buf", "dram"), Is.Null);
            Assert.That(vta.ShortestPath("dram", "dram")!.Edges, Is.Empty);
        }
    }

    [Test]
    public void AllSimplePathsShortestFirst()
    {
        var vta = Queries("vta");
        var paths = vta.Paths("acc_buf", "dram", throughCompute: true);
        // Equal lengths keep file order (acc_buf -> gemm is listed before acc_buf -> alu); no node twice.
        Assert.That(paths.Select(p => p.ToString()), Is.EqualTo(new[]
        {
            "acc_buf -> gemm -> out_buf -> dram",
            "acc_buf -> alu -> out_buf -> dram",
        }));
    }

    [Test]
    public void ParallelEdgesGiveDistinctPathsInFileOrder()
    {
        var vnni = Queries("vnni-avx512");
        var paths = vnni.Paths("l1d", "zmm");
        Assert.That(paths.Select(p => p.Edges.Single().Transfer), Is.EqualTo(new[] { "vmovdqu64", "vpbroadcastd" }));
        Assert.That(paths.Select(p => p.BottleneckBandwidth), Is.EqualTo(new[] { 64.0, 8 }));
    }

    [Test]
    public void VtaStorageLevels()
    {
        var levels = Queries("vta").StorageLevels("gemm").Where(l => l.Capability == "gemm").ToDictionary(l => l.Operand.Name);
        using (Assert.EnterMultipleScope())
        {
            Assert.That(levels.Keys, Is.EqualTo(new[] { "inp", "wgt", "acc" }));
            Assert.That(levels["inp"].Levels, Is.EqualTo(new[] { "dram", "inp_buf" }));
            Assert.That(levels["inp"].Fills.Single().Edges.Single().Transfer, Is.EqualTo("vta.load.inp"));
            Assert.That(levels["inp"].Drains, Is.Empty, "an input is never drained");
            Assert.That(levels["wgt"].Levels, Is.EqualTo(new[] { "dram", "wgt_buf" }));
            Assert.That(levels["acc"].Levels, Is.EqualTo(new[] { "dram", "acc_buf" }));
            Assert.That(levels["acc"].Drains.Select(p => p.ToString()), Is.EqualTo(new[]
            {
                "acc_buf -> gemm -> out_buf -> dram",
                "acc_buf -> alu -> out_buf -> dram",
            }));
        }
    }

    [Test]
    public void GpuStorageLevelsFollowTheDeepestHierarchy()
    {
        var a = Queries("tensorcore-sm80").StorageLevels("sm", "mma.sync.aligned.m16n8k16", "a");
        using (Assert.EnterMultipleScope())
        {
            Assert.That(a.Levels, Is.EqualTo(new[] { "hbm", "l2", "smem", "regs" }));
            Assert.That(a.Fills.Select(p => p.ToString()), Is.EqualTo(new[] { "hbm -> l2 -> regs", "hbm -> l2 -> smem -> regs" }));
            Assert.That(a.Fills[1].Edges.Select(e => e.Transfer), Is.EqualTo(new[] { "cache.fill", "cp.async", "ldmatrix" }));
            Assert.That(a.Fills[1].BottleneckBandwidth, Is.EqualTo(47));
            Assert.That(a.Fills[1].TotalLatency, Is.EqualTo(480 + 200 + 30));
        }

        var d = Queries("tensorcore-sm80").StorageLevels("sm", "mma.sync.aligned.m16n8k16", "d");
        Assert.That(d.Drains.First().ToString(), Is.EqualTo("regs -> l2 -> hbm"));
    }

    [Test]
    public void CpuStorageLevels()
    {
        var levels = Queries("vnni-avx512").StorageLevels("core", "vpdpbusd", "b");
        Assert.That(levels.Levels, Is.EqualTo(new[] { "dram", "l2", "l1d", "zmm" }));
        Assert.That(levels.Fills, Has.Length.EqualTo(2), "the last step by vmovdqu64 or vpbroadcastd");
    }

    [Test]
    public void WriteOnlyOperandLevelsComeFromItsDrains()
    {
        var graph = ParseOk(Replace(Replace(Tiny, "c[i, j] += a[i, k] * b[j, k]", "c[i, j] = a[i, k] * b[j, k]"),
            "  - {from: dram, to: acc, bandwidth: 8 B/cycle, transfer: load.acc}\n", ""));
        var c = new AcgQueries(graph).StorageLevels("core", "gemm", "c");
        using (Assert.EnterMultipleScope())
        {
            Assert.That(c.Operand.Role, Is.EqualTo(OperandRole.Write));
            Assert.That(c.Fills, Is.Empty);
            Assert.That(c.Levels, Is.EqualTo(new[] { "dram", "acc" }));
        }
    }

    [Test]
    public void PathEnumerationIsBounded()
    {
        // A ladder of 12 rungs has 2^12 simple paths from top to bottom.
        var nodes = string.Concat(Enumerable.Range(0, 13).Select(i => $"  l{i}: {{kind: storage, capacity: 1 KiB}}\n  r{i}: {{kind: storage, capacity: 1 KiB}}\n"));
        var edges = string.Concat(Enumerable.Range(0, 12).Select(i =>
            $"  - {{from: l{i}, to: l{i + 1}, bandwidth: 1, transfer: t}}\n  - {{from: l{i}, to: r{i + 1}, bandwidth: 1, transfer: t}}\n" +
            $"  - {{from: r{i}, to: l{i + 1}, bandwidth: 1, transfer: t}}\n  - {{from: r{i}, to: r{i + 1}, bandwidth: 1, transfer: t}}\n"));
        var yaml = $"name: ladder\ntarget: vta\nnodes:\n  dram: {{kind: storage, offchip: true, capacity: 1 GiB}}\n{nodes}edges:\n  - {{from: dram, to: l0, bandwidth: 1, transfer: t}}\n  - {{from: r12, to: dram, bandwidth: 1, transfer: t}}\n{edges}";
        var queries = new AcgQueries(ParseOk(yaml));
        Assert.That(queries.Paths("l0", "l12", limit: 5000), Has.Count.EqualTo(1 << 11));
        Assert.That(queries.Paths("l0", "l12"), Has.Count.EqualTo(AcgQueries.DefaultPathLimit));
        Assert.That(queries.Paths("l0", "l12", limit: 100), Has.Count.EqualTo(100));
        Assert.That(queries.ShortestPath("dram", "dram")!.Nodes, Is.EqualTo(new[] { "dram" }));
        Assert.That(queries.ShortestPath("l0", "r12")!.Edges, Has.Length.EqualTo(12));
    }

    [Test]
    public void UnknownNodesAreCallerBugs()
    {
        var vta = Queries("vta");
        Assert.That(() => vta.Paths("dram", "nowhere"), Throws.ArgumentException.With.Message.Contains("nowhere"));
        Assert.That(() => vta.StorageLevels("inp_buf"), Throws.ArgumentException.With.Message.Contains("not a compute node"));
        Assert.That(() => vta.StorageLevels("gemm", "gemm", "x"), Throws.ArgumentException);
    }
}
