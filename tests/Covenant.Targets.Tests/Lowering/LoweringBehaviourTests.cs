using System.Collections.Immutable;
using Covenant.Codelets;
using Covenant.Runtime;
using Covenant.Runtime.Artifacts;
using Covenant.Runtime.Vta;
using Covenant.Targets.Vta;
using Covenant.Targets.Vta.Lowering;
using static Covenant.Targets.Tests.Lowering.TestMappings;

namespace Covenant.Targets.Tests.Lowering;

/// <summary>Properties of lowered streams beyond the results: overlap, hazards, tokens, files, layouts, errors.</summary>
public sealed class LoweringBehaviorTests
{
    private static readonly MappingSpec Conv = new() { J = "k", K = "c" };

    /// <summary>Double buffering lets loads, GEMMs and stores overlap: fewer cycles than the serial variant of the same tiles.</summary>
    [TestCase(Vta16, "N=1, H=14, W=14, C=64, K=64, R=3, S=3, pad=1", "p=7, k=32, c=32")]
    [TestCase(Vta32, "N=1, H=14, W=14, C=64, K=64, R=3, S=3, pad=1", "p=7, k=32, c=32")]
    public void DoubleBufferingOverlaps(string arch, string bindings, string tiles)
    {
        var spec = Conv with { Tiles = OperatorLoweringTests.ParseTiles(tiles) };
        var overlapped = RunExact("conv2d", bindings, arch, spec);
        var serial = RunExact("conv2d", bindings, arch, spec with { DoubleBuffered = false });
        Assert.That(overlapped.Cycles, Is.LessThan(serial.Cycles * 0.9), $"double-buffered {overlapped.Cycles} cycles, serial {serial.Cycles}");

        // In the serial variant the load and compute modules never run at the same time, so their busy times add up.
        Assert.That(serial.Statistics.Load.BusyCycles + serial.Statistics.Compute.BusyCycles, Is.LessThanOrEqualTo(serial.Cycles + serial.Statistics.Store.BusyCycles));
    }

    /// <summary>Fewer than three distinct ACC rows per kernel: dummy micro-ops on scratch rows keep every row 3 uops apart (the strict simulator checks).</summary>
    [TestCase("gemm", "M=1, N=16, K=100", "n", "k")]
    [TestCase("gemm", "M=2, N=16, K=100", "n", "k")]
    [TestCase("gemm", "M=1, N=32, K=64", "n", "k")]
    [TestCase("gemv", "M=16, K=300", "m", "k")]
    public void FewOutputRowsAvoidTheAccHazard(string codelet, string bindings, string j, string k)
    {
        foreach (var arch in new[] { Vta16, Vta32 })
        {
            var report = RunExact(codelet, bindings, arch, new MappingSpec { J = j, K = k });
            Assert.That(report.Issues.Where(i => i.Id == VtaSimulatorDiagnostics.PipelineHazard.Id), Is.Empty);
        }
    }

    /// <summary>Token discipline: FINISH last and preceded by the pops that make it wait; pops only where queues exist; bounded queues.</summary>
    [Test]
    public void TokensAreBalancedAndBounded()
    {
        var instance = Instance("conv2d", "N=1, H=9, W=11, C=20, K=40, R=3, S=3, pad=1");
        var program = Lower(Build(instance, Vta16, Conv with { Tiles = OperatorLoweringTests.ParseTiles("p=4, q=5, k=16, c=16") }), Vta16);
        Assert.That(program.Instructions[^1], Is.TypeOf<VtaFinish>());
        Assert.That(program.Instructions[^1].Deps.Any, Is.False, "FINISH carries no flags");
        Assert.That(program.Instructions.Count(i => i is VtaFinish), Is.EqualTo(1));

        var pushes = new int[4];
        var pops = new int[4];
        foreach (var i in program.Instructions)
        {
            var m = i.Module;
            Count(i.Deps.PopPrev, VtaDependencyRules.PopPrevQueue(m), pops);
            Count(i.Deps.PopNext, VtaDependencyRules.PopNextQueue(m), pops);
            Count(i.Deps.PushPrev, VtaDependencyRules.PushPrevQueue(m), pushes);
            Count(i.Deps.PushNext, VtaDependencyRules.PushNextQueue(m), pushes);
        }

        Assert.That(pops, Is.EqualTo(pushes), "every token pushed is popped");

        var result = new VtaSimulator(program.Config).Run(program.Instructions, VtaImage.Build(program, RandomTensors.Inputs(instance, 1)));
        Assert.That(result.Succeeded, Is.True, () => string.Join("\n", result.Issues));
        Assert.That(result.Statistics.WorstCaseOutstandingTokens, Has.All.LessThanOrEqualTo(VtaDependencyRules.QueueDepth));

        static void Count(bool flag, VtaQueue? queue, int[] counts)
        {
            if (flag)
            {
                Assert.That(queue, Is.Not.Null, "a flag naming a queue the module does not have");
                counts[(int)queue!.Value]++;
            }
        }
    }

    /// <summary>The encoded stream, written and read back with the memory map, runs to the same result.</summary>
    [Test]
    public void SaveAndLoadRoundTrip()
    {
        var instance = Instance("fc_requant", "M=9, N=20, K=40, shift=7");
        var spec = new MappingSpec
        {
            J = "n",
            K = "k",
            Tiles = OperatorLoweringTests.ParseTiles("m=4"),
            Epilogue = [(Mapping.Model.EpilogueOp.Add, null, "bias"), (Mapping.Model.EpilogueOp.ShiftRight, 7, null), (Mapping.Model.EpilogueOp.Max, 0, null), (Mapping.Model.EpilogueOp.Min, 127, null)],
        };
        var program = Lower(Build(instance, Vta16, spec), Vta16, new VtaLoweringOptions { ListingHex = true });
        var directory = Path.Combine(Path.GetTempPath(), "covenant-vta-" + Guid.NewGuid().ToString("N"));
        try
        {
            VtaProgramFiles.Save(program, directory);
            Assert.That(new FileInfo(Path.Combine(directory, VtaProgramFiles.ProgramFile)).Length, Is.EqualTo(16 * program.Instructions.Length));
            Assert.That(new FileInfo(Path.Combine(directory, VtaProgramFiles.UopsFile)).Length, Is.EqualTo(4 * program.Uops.Length));
            var loaded = VtaProgramFiles.Load(directory);
            Assert.That(loaded.Instructions, Is.EqualTo(program.Instructions));
            Assert.That(loaded.Uops, Is.EqualTo(program.Uops));
            Assert.That(loaded.MemoryMap.Regions.Select(r => (r.Name, r.Address, r.SizeBytes)), Is.EqualTo(program.MemoryMap.Regions.Select(r => (r.Name, r.Address, r.SizeBytes))));
            Assert.That(loaded.MemoryMap.Region("x").Layout!.Levels, Is.EqualTo(program.MemoryMap.Region("x").Layout!.Levels));
            Assert.That(loaded.Config, Is.EqualTo(program.Config));
            var report = VtaRunner.Run(loaded, instance, 3);
            Assert.That(report.Match, Is.True, report.ToString());
            Assert.That(File.ReadAllText(Path.Combine(directory, VtaProgramFiles.MemoryMapFile)), Does.Contain("\"levels\""));
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    /// <summary>The image can be placed elsewhere; every dram_base follows.</summary>
    [Test]
    public void RelocatedImageRuns()
    {
        var instance = Instance("gemm", "M=9, N=20, K=40");
        var program = Lower(Build(instance, Vta32, new MappingSpec { J = "n", K = "k" }), Vta32, new VtaLoweringOptions { PhysicalBase = 0x4000_0400 });
        Assert.That(program.MemoryMap.PhysicalBase, Is.EqualTo(0x4000_0400));
        Assert.That(program.MemoryMap.Regions, Has.All.Matches<VtaDramRegion>(r => r.Address % program.MemoryMap.Alignment == 0));
        Assert.That(VtaRunner.Run(program, instance, 5).Match, Is.True);

        var unaligned = VtaLowering.Lower(Build(instance, Vta32, new MappingSpec { J = "n", K = "k" }), Config(Vta32), new VtaLoweringOptions { PhysicalBase = 0x100 });
        Assert.That(unaligned.Succeeded, Is.False);
        Assert.That(unaligned.Diagnostics.Single().Id, Is.EqualTo(VtaLoweringDiagnostics.BadPhysicalBase.Id));
    }

    /// <summary>Packing and unpacking through a layout is the identity, and padding bytes stay zero.</summary>
    [Test]
    public void LayoutPackUnpackRoundTrip()
    {
        var instance = Instance("conv2d_grouped", "N=1, H=5, W=5, C=24, K=36, G=3, R=3, S=3, pad=1");
        var program = Lower(Build(instance, Vta16, Conv), Vta16);
        var inputs = RandomTensors.Inputs(instance, 11);
        foreach (var region in program.MemoryMap.Inputs)
        {
            var layout = region.Layout!;
            var bytes = new byte[region.SizeBytes];
            VtaImage.Pack(bytes, layout, inputs[region.Name]);
            var back = VtaImage.Unpack(bytes, layout, inputs[region.Name].ElementType);
            Assert.That(back, Is.EqualTo(inputs[region.Name]), region.Name);
        }

        // x's channels split by group (CG = 8): the group index / 8 and the channel index mod 8, padded to one block of 16 lanes.
        var x = program.MemoryMap.Region("x").Layout!;
        Assert.That(x.Parts.Length, Is.EqualTo(4 + 1), x.Describe());
        Assert.That(x.SizeBytes, Is.EqualTo(1 * 5 * 5 * 3 * 16));
    }

    [Test]
    public void ScatterSplitAcrossTilesIsReported()
    {
        var instance = Instance("conv2d_transposed", "N=1, H=6, W=6, C=16, K=16, R=3, S=3, stride=2, pad=1");
        var mapping = Build(instance, Vta16, new MappingSpec { J = "k", K = "c", Inp = "x", Tiles = OperatorLoweringTests.ParseTiles("ih=3") });
        var result = VtaLowering.Lower(mapping, Config(Vta16));
        Assert.That(result.Succeeded, Is.False);
        var diagnostic = result.Diagnostics.Single();
        Assert.That(diagnostic.Id, Is.EqualTo(VtaLoweringDiagnostics.ScatterAcrossTiles.Id));
        Assert.That(diagnostic.Message, Does.Contain("'ih'"));
        Assert.That(diagnostic.Location?.File, Does.EndWith("conv2d_transposed.cdlt"), "positioned on the accumulator's access");
        Assert.That(diagnostic.Location?.HasPosition, Is.True);
    }

    [Test]
    public void ReductionOutsideAnAccumulatorTileLoopIsReported()
    {
        var instance = Instance("gemm", "M=20, N=40, K=64");
        var spec = new MappingSpec { J = "n", K = "k", Tiles = OperatorLoweringTests.ParseTiles("m=10, k=16"), TileOrder = ["k", "m", "n"] };
        var result = VtaLowering.Lower(Build(instance, Vta16, spec), Config(Vta16));
        Assert.That(result.Succeeded, Is.False);
        Assert.That(result.Diagnostics.Single().Id, Is.EqualTo(VtaLoweringDiagnostics.InvalidMapping.Id));
        Assert.That(result.Diagnostics.Single().Message, Does.Contain("innermost"));
    }

    [Test]
    public void TileTooLargeIsReported()
    {
        var instance = Instance("conv2d", "N=1, H=56, W=56, C=64, K=64, R=3, S=3, pad=1");
        var result = VtaLowering.Lower(Build(instance, Vta16, Conv), Config(Vta16));
        Assert.That(result.Succeeded, Is.False);
        Assert.That(result.Diagnostics.Single().Id, Is.EqualTo(VtaLoweringDiagnostics.TileTooLarge.Id));
        Assert.That(result.Diagnostics.Single().Message, Does.Contain("INP"));
        Assert.That(result.Diagnostics.Single().Location?.File, Does.EndWith(".yaml"), "positioned on the buffer's storage node");
    }

    [Test]
    public void AxisLoopWithAStrideIsReported()
    {
        // s on the reduction axis: x[.., q + s, ..] cannot pack consecutive s into one row.
        var instance = Instance("conv2d_depthwise", "N=1, H=6, W=6, C=4, R=3, S=3");
        var result = VtaLowering.Lower(Build(instance, Vta16, new MappingSpec { J = null, K = "s", Inp = "x" }), Config(Vta16));
        Assert.That(result.Succeeded, Is.False);
        Assert.That(result.Diagnostics.Single().Id, Is.EqualTo(VtaLoweringDiagnostics.UnsupportedIndex.Id));
        Assert.That(result.Diagnostics.Single().Location?.HasPosition, Is.True, "positioned on the access of x");
    }

    /// <summary>A ResNet-50 layer (res4 3x3) with hand-picked tiles: bit-exact, and the GEMM core busy most of the time.</summary>
    [Test]
    public void ResNet50Res4Conv3x3()
    {
        var report = RunExact("conv2d", "N=1, H=14, W=14, C=256, K=256, R=3, S=3, pad=1", Vta16, Conv with { Tiles = OperatorLoweringTests.ParseTiles("p=14, q=14, k=64, c=64") });
        var bound = 14L * 14 * 256 * 256 * 9 / 256;
        Assert.That(report.Statistics.GemmCounter, Is.EqualTo(bound), "no wasted GEMM micro-ops");
        Assert.That(report.GemmUtilization, Is.GreaterThan(0.85), report.ToString());
        TestContext.Out.WriteLine(report);
    }

    [Test]
    public void ListingNamesTilesAndInstructions()
    {
        var instance = Instance("gemm", "M=7, N=13, K=29");
        var program = Lower(Build(instance, Vta16, new MappingSpec { J = "n", K = "k" }), Vta16, new VtaLoweringOptions { ListingHex = true });
        Assert.That(program.Listing, Does.Contain("; step 1/1, acc tile 0 [m=0..6 n=0..15 k=0..31]: GEMM"));
        Assert.That(program.Listing, Does.Contain("FINISH"));
        Assert.That(program.Listing, Does.Contain("a  i8[7, 29] as [m][k/16][k%16]"));
        var encoded = new VtaEncoder(program.Config).EncodeProgram(program.Instructions);
        Assert.That(new VtaDecoder(program.Config).DecodeProgram(encoded), Is.EqualTo(program.Instructions));
        Assert.That(program.Summary.MacsUseful, Is.EqualTo(7 * 13 * 29));
    }

    /// <summary>Unpacking an i32 output reassembles the four byte planes: byte k of the value is at plane k.</summary>
    [Test]
    public void BytePlanesReassemble()
    {
        var layout = new VtaTensorLayout("y", "i32", [3], 1, 4, 16,
            [new VtaLayoutPart(0, 1, 0)],
            [new VtaLayoutLevel(0, 16, 0, 1, "y/16"), new VtaLayoutLevel(0, 1, 16, 16, "y%16")]);
        var values = TensorData.FromIntegers(ElementType.I32, [3], [unchecked((int)0x80ff0102), -1, 0x12345678]);
        var bytes = new byte[layout.SizeBytes];
        VtaImage.Pack(bytes, layout, values);
        Assert.That(bytes[0], Is.EqualTo(0x02));
        Assert.That(bytes[16], Is.EqualTo(0x01));
        Assert.That(bytes[32], Is.EqualTo(0xff));
        Assert.That(bytes[48], Is.EqualTo(0x80));
        Assert.That(bytes[3], Is.Zero, "padding lanes stay zero");
        Assert.That(VtaImage.Unpack(bytes, layout, ElementType.I32), Is.EqualTo(values));
        Assert.That(layout.SizeBytes, Is.EqualTo(64));
        _ = ImmutableArray<int>.Empty;
    }
}
