using System.Diagnostics;
using Covenant.Acg;
using Covenant.Codelets.Semantics;
using Covenant.Mapping.Model;
using Covenant.Testing;

namespace Covenant.Mapping.Tests;

public class MapperTests
{
    internal static CodeletInstance Instance(string codelet, params (string Name, long Value)[] bindings) =>
        Shipped.Instance(codelet, bindings.ToDictionary(b => b.Name, b => b.Value));

    internal static Acg.Model.ArchitectureGraph Arch(string name) => Shipped.Architecture(name);

    [Test]
    public void MapsAResNetConvolutionOntoVtaWithChannelsOnTheBlockAxes()
    {
        var instance = Instance("conv2d", ("N", 1), ("H", 14), ("W", 14), ("C", 256), ("K", 256), ("R", 3), ("S", 3), ("pad", 1));
        var clock = Stopwatch.StartNew();
        var result = Mapper.Map(instance, Arch("vta"));
        var seconds = clock.Elapsed.TotalSeconds;
        Assert.That(result.Succeeded, Is.True, string.Join("\n", result.Diagnostics));
        var mapping = result.Value!;
        TestContext.Out.WriteLine($"{seconds:F2} s, {Describe(mapping)}");
        Assert.Multiple(() =>
        {
            Assert.That(mapping.Embedding.Single(e => e.Axis == "j").Loop, Is.EqualTo("k"), "output channels feed the column axis");
            Assert.That(mapping.Embedding.Single(e => e.Axis == "k").Loop, Is.EqualTo("c"), "input channels feed the reduction axis");
            Assert.That(mapping.OperandOf("x").Operand, Is.EqualTo("inp"));
            Assert.That(mapping.OperandOf("w").Operand, Is.EqualTo("wgt"));
            Assert.That(mapping.TileOrder.TakeLast(3), Is.EquivalentTo(new[] { "r", "s", "c" }), "reductions innermost");
        });
    }

    internal static string Describe(LayerMapping m) =>
        $"{m.Capability}: " + string.Join(", ", m.Embedding.Select(e => $"{e.Axis}<-{e.Loop}")) + "; tiles " +
        string.Join(" ", m.Loops.Select(l => $"{l.Loop}={l.Tile}/{l.PaddedExtent}")) + "; order " + string.Join(",", m.TileOrder) +
        "; db " + string.Join(",", m.DoubleBuffered) + $"; cycles {m.Cost.Cycles:F0} util {m.Cost.Utilization:P0}; " +
        string.Join(" ", m.Cost.FootprintBytes.Select(f => $"{f.Key}:{f.Value}B"));
}

public class MapperEpilogueAndFailureTests
{
    private static CodeletInstance Instance(string codelet, params (string Name, long Value)[] bindings) => MapperTests.Instance(codelet, bindings);

    private static Acg.Model.ArchitectureGraph ArchFromText(string text)
    {
        var loaded = AcgLoader.Parse(new Core.Diagnostics.SourceFile("variant.yaml", text));
        Assert.That(loaded.Succeeded, Is.True, string.Join("\n", loaded.Diagnostics));
        return loaded.Value!;
    }

    private static string VtaText => File.ReadAllText(Repo.PathOf("architectures", "vta.yaml"));

    [Test]
    public void PlacesTheRequantizeEpilogueOnTheAluInOrder()
    {
        var instance = Instance("fc_requant", ("M", 4), ("N", 32), ("K", 48), ("shift", 6));
        var result = Mapper.Map(instance, ArchFromText(VtaText));
        Assert.That(result.Succeeded, Is.True, string.Join("\n", result.Diagnostics));
        var mapping = result.Value!;
        Assert.That(mapping.Accumulator, Is.EqualTo("acc"));
        Assert.That(mapping.Output, Is.EqualTo("y"));

        // y = i8(clip(relu((acc + bias) >> shift), -128, 127)): add the bias, shift, relu, then clip; relu's max 0
        // and the clip's max -128 fold into one max 0.
        var steps = mapping.Epilogue.Select(s => (s.Op, s.Immediate, s.Tensor, s.Capability)).ToList();
        Assert.That(steps, Is.EqualTo(new (EpilogueOp, long?, string?, string)[]
        {
            (EpilogueOp.Add, null, "bias", "add"),
            (EpilogueOp.ShiftRight, 6, null, "shr_imm"),
            (EpilogueOp.Max, 0, null, "max_imm"),
            (EpilogueOp.Min, 127, null, "min_imm"),
        }));
    }

    [Test]
    public void AnEpilogueTheAluCannotDoIsExplained()
    {
        // Without the immediate max, relu has nowhere to run.
        var text = VtaText.Replace("      max_imm:", "      max_imm_removed:").Replace("dst[i, j] = max(dst[i, j], imm)", "dst[i, j] = min(dst[i, j], imm)");
        var result = Mapper.Map(Instance("fc_requant", ("M", 4), ("N", 16), ("K", 16)), ArchFromText(text));
        Assert.That(result.Succeeded, Is.False);
        var diagnostic = result.Diagnostics.Single();
        Assert.That(diagnostic.Id, Is.EqualTo("COV4004"));
        Assert.That(diagnostic.Message, Does.Contain("Max").And.Contain("acc_buf"));
    }

    [Test]
    public void WhenNoTileFitsTheMessageNamesTheStorage()
    {
        // Tiles shrink to one intrinsic block, so make the accumulator buffer one row: the accumulator tile and
        // the bias that the epilogue adds cannot both be there.
        var text = VtaText.Replace("capacity: 128 KiB               # LOG_ACC_BUFF_SIZE 17", "capacity: 64 B");
        var result = Mapper.Map(Instance("fc_requant", ("M", 4), ("N", 16), ("K", 16)), ArchFromText(text));
        Assert.That(result.Succeeded, Is.False, () => MapperTests.Describe(result.Value!));
        var diagnostic = result.Diagnostics.Single();
        Assert.That(diagnostic.Id, Is.EqualTo("COV4005"));
        Assert.That(diagnostic.Message, Does.Contain("acc_buf holds 1 rows, but the smallest tile of acc and bias needs 2"));
    }

    [Test]
    public void ACodeletWithoutAMultiplyAccumulateIsExplained()
    {
        var loaded = CodeletLoader.Load(new Core.Diagnostics.SourceFile("copy.cdlt",
            "codelet copy<N>(x: i8[N]) -> y: i8[N] { for n: y[n] = x[n] }"));
        Assert.That(loaded.Succeeded, Is.True, string.Join("\n", loaded.Diagnostics));
        var instance = loaded.Value!.Instantiate(new Dictionary<string, long> { ["N"] = 4 }).Value!;
        var result = Mapper.Map(instance, ArchFromText(VtaText));
        Assert.That(result.Diagnostics.Single().Id, Is.EqualTo("COV4001"));
    }

    [TestCase("gemm", "vta-1x32x32")]
    [TestCase("gemm", "vta")]
    [TestCase("bmm", "vta")]
    [TestCase("gemv", "vta")]
    [TestCase("conv2d_depthwise", "vta")]
    [TestCase("conv2d_grouped", "vta")]
    public void SmallOperatorsMap(string codelet, string arch)
    {
        var bindings = codelet switch
        {
            "gemm" => new[] { ("M", 7L), ("N", 13L), ("K", 29L) },
            "bmm" => [("B", 2L), ("M", 7L), ("N", 13L), ("K", 29L)],
            "gemv" => [("M", 33L), ("K", 17L)],
            "conv2d_grouped" => [("N", 1L), ("H", 6L), ("W", 6L), ("C", 32L), ("K", 32L), ("G", 2L), ("R", 3L), ("S", 3L), ("pad", 1L)],
            _ => [("N", 1L), ("H", 6L), ("W", 6L), ("C", 8L), ("R", 3L), ("S", 3L), ("pad", 1L)],
        };
        var result = Mapper.Map(Instance(codelet, bindings), ArchFromText(File.ReadAllText(Repo.PathOf("architectures", arch + ".yaml"))));
        Assert.That(result.Succeeded, Is.True, string.Join("\n", result.Diagnostics));
        var mapping = result.Value!;
        TestContext.Out.WriteLine(MapperTests.Describe(mapping));

        // Whatever was chosen covers every loop and keeps the reductions innermost.
        Assert.That(mapping.Loops.Select(l => l.Loop), Is.EquivalentTo(mapping.TileOrder));
        var firstReduction = mapping.TileOrder.ToList().FindIndex(l => mapping.Loop(l).Role == LoopRole.Reduction);
        Assert.That(mapping.TileOrder.Skip(Math.Max(0, firstReduction)).All(l => mapping.Loop(l).Role == LoopRole.Reduction), Is.True);
        Assert.That(mapping.Loops.All(l => l.Tile % l.Intrinsic == 0 && l.Tile <= l.PaddedExtent), Is.True);
    }
}

public class ComputeBoundTests
{
    [Test]
    public void TheBoundIsUsefulMacsOverTheIntrinsicsRate()
    {
        var mapping = Shipped.Mapping("gemm", "M=5, N=20, K=40", "vta");

        // 5 x 20 x 40 MACs on a 1x16x16 GEMM issuing one per cycle: 4000 / 256 cycles, padding not counted.
        Assert.That(mapping.UsefulOperations, Is.EqualTo(4000));
        Assert.That(mapping.ComputeBoundCycles, Is.EqualTo(4000.0 / 256).Within(1e-9));
    }
}

public class MapperDeterminismTests
{
    [Test]
    public void TheSameInputsGiveTheSameMapping()
    {
        var instance = Shipped.Instance("conv2d", "N=1, H=28, W=28, C=128, K=128, R=3, S=3, pad=1");
        var graph = Shipped.Architecture("vta");
        var first = MapperTests.Describe(Mapper.Map(instance, graph).Value!);
        var second = MapperTests.Describe(Mapper.Map(instance, graph).Value!);
        Assert.That(second, Is.EqualTo(first));
    }
}

/// <summary>Mappings onto a CPU's register file and caches: operand offsets, register blocks and per-level tiles.</summary>
public class MapperLevelTests
{
    private static LayerMapping Map(string codelet, string arch, params (string Name, long Value)[] bindings)
    {
        var result = Mapper.Map(MapperTests.Instance(codelet, bindings), Shipped.Architecture(arch));
        Assert.That(result.Succeeded, Is.True, string.Join("\n", result.Diagnostics));
        TestContext.Out.WriteLine(MapperTests.Describe(result.Value!) + " | " +
            string.Join(" | ", result.Value!.Levels.Select(l => l.Storage + " " + string.Join(",", l.Tiles))));
        return result.Value!;
    }

    [Test]
    public void SignedDataForTheUnsignedOperandIsOffsetBy128()
    {
        var mapping = Map("gemm", "vnni-avx512", ("M", 64), ("N", 64), ("K", 64));
        var broadcast = mapping.Operands.Single(o => o.Operand == "a");
        Assert.Multiple(() =>
        {
            Assert.That(broadcast.Offset, Is.EqualTo(128), "an i8 tensor played by vpdpbusd's u8 operand");
            Assert.That(mapping.Operands.Where(o => o.Operand != "a").Select(o => o.Offset), Is.All.Zero);
        });
    }

    [Test]
    public void VtaMappingsHaveNoOuterLevels()
    {
        var mapping = Map("gemm", "vta", ("M", 64), ("N", 64), ("K", 64));
        Assert.That(mapping.Levels, Is.Empty, "VTA's buffers are filled straight from DRAM");
    }

    [TestCase(384, 1024, 1024)]
    [TestCase(33, 70, 129)]
    public void VnniLevelsNestAndFitTheirCaches(int m, int n, int k)
    {
        var mapping = Map("gemm", "vnni-avx512", ("M", m), ("N", n), ("K", k));
        Assert.That(mapping.Levels.Select(l => l.Storage), Is.EqualTo(new[] { "l2", "l1d" }), "outermost first");
        // The inputs stream through the zmm registers one k step (4) at a time: L1 builds on that step for k, on the register block for m and n.
        var register = mapping.Loops.Select(l => l.Role == Model.LoopRole.Reduction ? l.Intrinsic : Math.Min(l.Tile, l.PaddedExtent)).ToArray();
        var inner = register;
        foreach (var level in mapping.Levels.Reverse())
        {
            var tiles = level.Tiles.ToArray();
            for (var l = 0; l < tiles.Length; l++)
            {
                Assert.That(tiles[l] % inner[l] == 0 || tiles[l] == mapping.Loops[l].PaddedExtent, Is.True,
                    $"{level.Storage}: {mapping.Loops[l].Loop}={tiles[l]} is a multiple of the inner {inner[l]} or the whole loop");
            }

            // gemm: a[m, k] i8 + b[k, n] i8 + c[m, n] i32, counted by hand; a cache tile may fill half the cache.
            var (tm, tn, tk) = (tiles[mapping.Loops.IndexOf(mapping.Loop("m"))], tiles[mapping.Loops.IndexOf(mapping.Loop("n"))], tiles[mapping.Loops.IndexOf(mapping.Loop("k"))]);
            long bytes = ((long)tm * tk) + ((long)tk * tn) + (4L * tm * tn);
            Assert.That(level.FootprintBytes, Is.EqualTo(bytes));
            Assert.That(bytes, Is.LessThanOrEqualTo(mapping.Graph.StorageNode(level.Storage).CapacityBytes / 2));
            inner = tiles;
        }

        // The register block: accumulators plus one step of each streamed input within the 32 zmm registers.
        var vectors = (mapping.Loop("n").Tile + 15) / 16;
        var rows = mapping.Loop("m").Tile;
        Assert.That((rows * vectors) + rows + vectors, Is.LessThanOrEqualTo(32));
        Assert.That(rows * vectors, Is.GreaterThanOrEqualTo(4), "enough accumulator chains to cover vpdpbusd's latency of 4");
    }

    [Test]
    public void MmaFragmentsCountTheirRealSizeInTheRegisterFile()
    {
        // d is f32 16 x 8 per mma (512 B, four of the register file's 128 B lines): the accumulator tile, counted by hand,
        // must fit the SM's 256 KiB of registers.
        var mapping = Map("gemm_f16", "tensorcore-sm80", ("M", 512), ("N", 1024), ("K", 1024));
        var accumulatorBytes = 4L * mapping.Loop("m").Tile * mapping.Loop("n").Tile;
        Assert.That(mapping.Cost.FootprintBytes["c"], Is.EqualTo(accumulatorBytes));
        Assert.That(accumulatorBytes, Is.LessThanOrEqualTo(256 * 1024));
    }

    [Test]
    public void VectorLanesRunAlongTheOutputsContiguousDimension()
    {
        // gemm's c[m, n]: the 16 lanes of a zmm store must be 16 consecutive n, never 16 rows m.
        var mapping = Map("gemm", "vnni-avx512", ("M", 512), ("N", 48), ("K", 64));
        Assert.That(mapping.Embedding.Single(e => e.Axis == "j").Loop, Is.EqualTo("n"));
    }
}
