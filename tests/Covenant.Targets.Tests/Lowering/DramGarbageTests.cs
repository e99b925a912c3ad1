using System.Collections.Immutable;
using Covenant.Codelets.Semantics;
using Covenant.Runtime;
using Covenant.Mapping.Model;
using Covenant.Runtime.Vta;
using static Covenant.Targets.Tests.Lowering.TestMappings;

namespace Covenant.Targets.Tests.Lowering;

/// <summary>
/// The memory map's <c>mustBeZero</c> ranges (issue 16 item 9): a DRAM image that is garbage everywhere except the
/// tensors and those ranges still computes the exact result, on layer shapes like the shipped suites' (channel padding,
/// padded borders, groups, depthwise, epilogue operands); and the ranges are not vacuous: garbage in them is caught.
/// </summary>
public sealed class DramGarbageTests
{
    private static readonly MappingSpec Conv = new() { J = "k", K = "c" };

    private static readonly (EpilogueOp, long?, string?)[] Requant =
    [
        (EpilogueOp.Add, null, "bias"),
        (EpilogueOp.ShiftRight, 8, null),
        (EpilogueOp.Max, 0, null),
        (EpilogueOp.Max, -128, null),
        (EpilogueOp.Min, 127, null),
    ];

    /// <summary>Layer shapes by name: the architecture, the codelet, its bindings and the hand mapping.</summary>
    private static readonly Dictionary<string, (string Arch, string Codelet, string Bindings, MappingSpec Spec)> Layers = new()
    {
        ["gemm 7x13x29"] = (Vta16, "gemm", "M=7, N=13, K=29", new MappingSpec { J = "n", K = "k" }),
        ["gemm fc1000-like 1x1000x256 tiled"] = (Vta16, "gemm", "M=1, N=1000, K=256", new MappingSpec { J = "n", K = "k", Tiles = Tiles("n=256, k=128") }),
        ["gemm 17x70x100 on 1x32x32"] = (Vta32, "gemm", "M=17, N=70, K=100", new MappingSpec { J = "n", K = "k", Tiles = Tiles("m=5, n=32, k=32") }),
        ["conv2d conv1-like C=3 R=7 stride 2 pad 3"] = (Vta16, "conv2d", "N=1, H=16, W=16, C=3, K=16, R=7, S=7, stride=2, pad=3", Conv),
        ["conv2d C=3 3x3 pad 1"] = (Vta16, "conv2d", "N=1, H=8, W=8, C=3, K=16, R=3, S=3, pad=1", Conv),
        ["conv2d C=24 3x3 pad 1 tiled"] = (Vta16, "conv2d", "N=1, H=9, W=11, C=24, K=40, R=3, S=3, pad=1", Conv with { Tiles = Tiles("p=4, q=5, k=16, c=16") }),
        ["conv2d res-like C=64 3x3 pad 1"] = (Vta16, "conv2d", "N=1, H=8, W=8, C=64, K=64, R=3, S=3, pad=1", Conv with { Tiles = Tiles("k=32, c=32") }),
        ["conv2d stride 2 pad 1 N=2 C=8"] = (Vta16, "conv2d", "N=2, H=9, W=9, C=8, K=20, R=3, S=3, stride=2, pad=1", Conv),
        ["conv2d 1x1 C=40"] = (Vta16, "conv2d", "N=1, H=7, W=7, C=40, K=24, R=1, S=1", Conv),
        ["conv2d pad 4 5x5"] = (Vta16, "conv2d", "N=1, H=6, W=6, C=16, K=16, R=5, S=5, pad=4", Conv),
        ["conv2d C=3 on 1x32x32"] = (Vta32, "conv2d", "N=1, H=16, W=16, C=3, K=16, R=7, S=7, stride=2, pad=3", Conv),
        ["conv2d_grouped G=3 C=24"] = (Vta16, "conv2d_grouped", "N=1, H=6, W=6, C=24, K=36, G=3, R=3, S=3, pad=1", Conv with { Tiles = Tiles("g=1") }),
        ["conv2d_depthwise C=5 pad 1"] = (Vta16, "conv2d_depthwise", "N=1, H=8, W=8, C=5, R=3, S=3, pad=1", new MappingSpec { Inp = "x" }),
        ["conv2d_depthwise C=3 stride 2 on 1x32x32"] = (Vta32, "conv2d_depthwise", "N=1, H=9, W=9, C=3, R=3, S=3, stride=2, pad=1", new MappingSpec { Inp = "x", Tiles = Tiles("c=1") }),
        ["fc_requant 7x20x33"] = (Vta16, "fc_requant", "M=7, N=20, K=33, shift=8", new MappingSpec { J = "n", K = "k", Epilogue = Requant }),
        ["fc_requant 33x50x64 tiled"] = (Vta16, "fc_requant", "M=33, N=50, K=64, shift=8", new MappingSpec { J = "n", K = "k", Tiles = Tiles("m=8, n=32, k=32"), Epilogue = Requant }),
        ["conv2d_transposed stride 2"] = (Vta16, "conv2d_transposed", "N=1, H=3, W=5, C=8, K=20, R=4, S=2, stride=2, pad=1, out_pad=1", new MappingSpec { J = "k", K = "c", Inp = "x" }),
        ["conv2d speech-like C=1 R=5 S=20 stride 2x8 pad 8"] = (Vta16, "conv2d", "N=1, H=12, W=40, C=1, K=32, R=5, S=20, stride_h=2, stride_w=8, pad_h=8, pad_w=8", Conv with { Tiles = Tiles("p=2") }),
        ["conv3d pad 1 (padded depth planes from the zero region)"] = (Vta16, "conv3d", "N=1, D=5, H=6, W=6, C=16, K=16, T=3, R=3, S=3, pad=1", Conv with { Tiles = Tiles("o=2") }),
        ["conv3d C=8 stride 2 on 1x32x32"] = (Vta32, "conv3d", "N=1, D=4, H=5, W=5, C=8, K=8, T=2, R=3, S=3, stride=2, pad=1", Conv),
        ["conv1d C=24 pad 1 dilation 2"] = (Vta16, "conv1d", "N=2, W=20, C=24, K=20, S=3, stride=2, pad=1, dilation=2", Conv with { Tiles = Tiles("q=4") }),
        ["gemv 40x70"] = (Vta16, "gemv", "M=40, K=70", new MappingSpec { J = "m", K = "k" }),
    };

    public static IEnumerable<string> LayerNames => Layers.Keys;

    /// <summary>Layers whose image, left all garbage (nothing zeroed), computes a wrong result: their lists are what keeps them right.</summary>
    public static IEnumerable<string> LayersThatNeedTheirZeros => LayerNames.Where(l => !l.StartsWith("gemm fc1000", StringComparison.Ordinal)
        && l is not "conv2d res-like C=64 3x3 pad 1" and not "conv2d pad 4 5x5" and not "fc_requant 33x50x64 tiled");

    [TestCaseSource(nameof(LayerNames))]
    public void GarbageEverywhereButTheTensorsAndTheListedRangesStillMatches(string layer)
    {
        var (instance, program) = Lowered(layer);
        var map = program.MemoryMap;
        Assert.Multiple(() =>
        {
            Assert.That(VtaZeroRanges.FirstMalformed(map), Is.Null);
            foreach (var region in map.Regions)
            {
                var ranges = region.MustBeZero.SelectMany(r => r.Ranges()).ToList();
                Assert.That(ranges.Zip(ranges.Skip(1)).All(p => p.First.Offset + p.First.Length < p.Second.Offset), Is.True,
                    () => $"{region.Name}: sorted and coalesced: {string.Join("; ", region.MustBeZero)}");
                if (region.Kind is VtaRegionKind.Output or VtaRegionKind.Uops)
                {
                    Assert.That(region.MustBeZero, Is.Empty, () => $"{region.Name}: the host provides nothing in an output or writes all of uops.bin");
                }
            }

            Assert.That(ReadsOutsideEveryRegion(program), Is.Zero, "no LOAD reads the alignment gaps between regions");
        });

        foreach (var seed in new ulong[] { 11, 12 })
        {
            var report = VtaRunner.Run(program, instance, 7, dramGarbageSeed: seed);
            Assert.That(report.Match, Is.True, () => $"garbage seed {seed}: {report}");
            Assert.That(report.Issues, Is.Empty, () => report.ToString());
            Assert.That(VtaZeroRanges.FirstNonZero(map, VtaImage.Build(program, RandomTensors.Inputs(instance, 7), seed)), Is.Null);
        }
    }

    [TestCase(1)]
    [TestCase(2)]
    public void RandomShapesAndTilesMatchOnAGarbageImage(int seed)
    {
        var rng = new Random(seed);
        var failures = new List<string>();
        var ran = 0;
        for (var iteration = 0; iteration < 40; iteration++)
        {
            var arch = rng.Next(2) == 0 ? Vta16 : Vta32;
            var (codelet, bindings, spec) = RandomLayer(rng);
            var instance = Instance(codelet, bindings);
            var lowered = Covenant.Targets.Vta.Lowering.VtaLowering.Lower(Build(instance, arch, spec), Config(arch));
            if (!lowered.Succeeded)
            {
                continue;
            }

            var report = VtaRunner.Run(lowered.Value!, instance, (ulong)iteration, dramGarbageSeed: (ulong)iteration + 100);
            ran++;
            if (!report.Match || report.Issues.Length > 0 || ReadsOutsideEveryRegion(lowered.Value!) > 0)
            {
                failures.Add($"{arch} {codelet}<{bindings}> tiles [{string.Join(", ", spec.Tiles.Select(t => $"{t.Key}={t.Value}"))}]: {report.FirstMismatch} {string.Join("; ", report.Issues.Take(3))}");
            }
        }

        Assert.That(failures, Is.Empty, () => string.Join("\n", failures));
        Assert.That(ran, Is.GreaterThan(30));
    }

    [TestCaseSource(nameof(LayersThatNeedTheirZeros))]
    public void GarbageAlsoInTheListedRangesIsAMismatch(string layer)
    {
        var (instance, program) = Lowered(layer);
        var report = VtaRunner.Run(program, instance, 7, inputs => Dirty(program, inputs, 11, (_, _) => true));
        Assert.That(report.Match, Is.False, "the listed ranges are what keeps the result right");
    }

    [TestCase("conv3d pad 1 (padded depth planes from the zero region)")]
    [TestCase("conv2d speech-like C=1 R=5 S=20 stride 2x8 pad 8")]
    public void TheZeroRegionsOneRangeAloneMatters(string layer)
    {
        // Boxes LOAD's own padding cannot make (conv3d's padded depth planes; tiles wholly inside deepbench's speech conv's
        // 8-wide border) are loaded from the zero region: garbage in that one range meets real weights in the GEMM.
        var (instance, program) = Lowered(layer);
        var zeros = program.MemoryMap.Regions.Single(r => r.Kind == VtaRegionKind.Zeros);
        Assert.That(zeros.MustBeZero, Is.EqualTo(new[] { new VtaByteRange(0, zeros.SizeBytes, 1, zeros.SizeBytes) }));

        var report = VtaRunner.Run(program, instance, 7, inputs => Dirty(program, inputs, 11, (region, _) => region == zeros));

        Assert.That(report.Match, Is.False, () => report.ToString());
    }

    [Test]
    public void ChannelPaddingMattersOnBothSidesOfTheReductionTogether()
    {
        // C=3 on a 16-wide block: 13 padding lanes per pixel of x and per weight row. Their products are the only way the
        // padding reaches the result, so either side alone being zero hides the other's garbage; the map asks both
        // (each buffer is prepared by its own host, the weights offline, the activations by the layer before).
        var (instance, program) = Lowered("conv2d C=3 3x3 pad 1");
        var x = program.MemoryMap.Region("x");
        var w = program.MemoryMap.Region("w");
        Assert.That(x.MustBeZero, Is.EqualTo(new[] { new VtaByteRange(3, 13, 64, 16) }), "13 padding lanes in each of the 64 pixels");
        Assert.That(w.MustBeZero, Is.EqualTo(new[] { new VtaByteRange(3, 13, 144, 16) }), "13 padding columns in each of the 144 weight rows");

        bool Matches(Func<VtaDramRegion, VtaByteRange, bool> dirty) => VtaRunner.Run(program, instance, 7, inputs => Dirty(program, inputs, 11, dirty)).Match;

        Assert.Multiple(() =>
        {
            Assert.That(Matches((r, _) => r == x), Is.True);
            Assert.That(Matches((r, _) => r == w), Is.True);
            Assert.That(Matches((r, _) => r == x || r == w), Is.False);
        });
    }

    [TestCaseSource(nameof(LayerNames))]
    public void TheHostCheckRefusesGarbageInAnyOneListedRange(string layer)
    {
        var (instance, program) = Lowered(layer);
        var inputs = RandomTensors.Inputs(instance, 7);
        foreach (var region in program.MemoryMap.Regions)
        {
            foreach (var range in region.MustBeZero)
            {
                var dram = Dirty(program, inputs, 11, (g, r) => g == region && r == range);
                Assert.That(VtaZeroRanges.FirstNonZero(program.MemoryMap, dram), Does.Contain($"region '{region.Name}'").And.Contain("mustBeZero"));
            }
        }
    }

    [Test]
    public void TheListsSurviveTheFilesAndAMissingOneIsNamed()
    {
        var (_, program) = Lowered("conv2d C=3 3x3 pad 1");
        var directory = Directory.CreateTempSubdirectory("covenant-zero-ranges-");
        try
        {
            VtaProgramFiles.Save(program, directory.FullName);
            var loaded = VtaProgramFiles.Load(directory.FullName);
            Assert.That(loaded.MemoryMap.Regions.Select(r => r.MustBeZero), Is.EqualTo(program.MemoryMap.Regions.Select(r => r.MustBeZero)));
            Assert.That(VtaZeroRanges.FirstUnlisted(loaded.MemoryMap, loaded.Config, loaded.Instructions), Is.Null);

            var withoutW = loaded.MemoryMap with { Regions = [.. loaded.MemoryMap.Regions.Select(r => r.Name == "w" ? r with { MustBeZero = [] } : r)] };
            Assert.That(VtaZeroRanges.FirstUnlisted(withoutW, loaded.Config, loaded.Instructions), Does.StartWith("region 'w' does not list byte 3 as mustBeZero"));

            var negative = loaded.MemoryMap with { Regions = [.. loaded.MemoryMap.Regions.Select(r => r.Name == "w" ? r with { MustBeZero = [new VtaByteRange(-4, 13)] } : r)] };
            Assert.That(VtaZeroRanges.FirstMalformed(negative), Does.StartWith("$.regions[1].mustBeZero[0] (offset -4"));
            var past = loaded.MemoryMap with { Regions = [.. loaded.MemoryMap.Regions.Select(r => r.Name == "w" ? r with { MustBeZero = [new VtaByteRange(3, 13, long.MaxValue, 16)] } : r)] };
            Assert.That(VtaZeroRanges.FirstMalformed(past), Does.Contain("inside region 'w'"));
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    [TestCaseSource(nameof(LayerNames))]
    public void ElementBytesAreWhereTheLayoutPutsEveryElement(string layer)
    {
        var (_, program) = Lowered(layer);
        foreach (var region in program.MemoryMap.Regions.Where(r => r.Layout is not null))
        {
            var layout = region.Layout!;
            var expected = new bool[region.SizeBytes];
            var index = new int[layout.Shape.Length];
            for (var flat = 0L; flat < layout.Shape.Aggregate(1L, (p, e) => p * e); flat++)
            {
                for (var plane = 0; plane < layout.Planes; plane++)
                {
                    expected.AsSpan((int)(layout.Offset(index) + (plane * layout.PlaneBytes)), layout.StoredBytes).Fill(true);
                }

                for (var d = index.Length - 1; d >= 0 && ++index[d] == layout.Shape[d]; d--)
                {
                    index[d] = 0;
                }
            }

            Assert.That(VtaZeroRanges.ElementBytes(layout, region.SizeBytes), Is.EqualTo(expected), region.Name);
        }
    }

    [Test]
    public void RunsFoldEqualRangesAtEqualDistances()
    {
        bool[] mask = [false, true, true, false, true, true, false, true, true, false, false, true, true, true];
        Assert.That(VtaZeroRanges.Runs(mask), Is.EqualTo(new[] { new VtaByteRange(1, 2, 3, 3), new VtaByteRange(11, 3, 1, 3) }));
        Assert.That(VtaZeroRanges.Runs(new bool[5]), Is.Empty);
    }

    /// <summary>A random gemm, conv2d (any channel count, stride, padding, dilation), grouped or depthwise conv, or fc_requant, with random tiles.</summary>
    private static (string Codelet, string Bindings, MappingSpec Spec) RandomLayer(Random rng)
    {
        int Upto(int n) => rng.Next(1, n + 1);
        Dictionary<string, int> RandomTiles(params (string Loop, int Extent)[] loops) =>
            loops.Where(_ => rng.Next(3) > 0).ToDictionary(l => l.Loop, l => Upto(l.Extent));
        var c = System.Globalization.CultureInfo.InvariantCulture;
        switch (rng.Next(5))
        {
            case 0:
            {
                int m = Upto(40), n = Upto(80), k = Upto(100);
                return ("gemm", string.Create(c, $"M={m}, N={n}, K={k}"), new MappingSpec { J = "n", K = "k", Tiles = RandomTiles(("m", m), ("n", n), ("k", k)) });
            }

            case 1:
            {
                int h = rng.Next(3, 12), w = rng.Next(3, 12), ch = Upto(40), k = Upto(40), r = Upto(3), stride = Upto(2), pad = rng.Next(0, 3);
                var p = ((h + (2 * pad) - r) / stride) + 1;
                return ("conv2d", string.Create(c, $"N=1, H={h}, W={w}, C={ch}, K={k}, R={r}, S={r}, stride={stride}, pad={pad}"),
                    Conv with { DoubleBuffered = rng.Next(3) > 0, Tiles = RandomTiles(("p", p), ("k", k), ("c", ch), ("r", r)) });
            }

            case 2:
            {
                int g = Upto(3), cg = Upto(20), kg = Upto(20);
                return ("conv2d_grouped", string.Create(c, $"N=1, H={rng.Next(3, 8)}, W={rng.Next(3, 8)}, C={g * cg}, K={g * kg}, G={g}, R=3, S=3, pad=1, stride={Upto(2)}"),
                    Conv with { Tiles = RandomTiles(("g", g), ("p", 3)) });
            }

            case 3:
                return ("conv2d_depthwise", string.Create(c, $"N=1, H={rng.Next(3, 10)}, W={rng.Next(3, 10)}, C={Upto(20)}, R=3, S=3, pad={rng.Next(0, 2)}, stride={Upto(2)}"),
                    new MappingSpec { Inp = "x" });

            default:
            {
                int m = Upto(30), n = Upto(60), k = Upto(70);
                return ("fc_requant", string.Create(c, $"M={m}, N={n}, K={k}, shift=8"),
                    new MappingSpec { J = "n", K = "k", Epilogue = Requant, Tiles = RandomTiles(("m", m), ("n", n), ("k", k)) });
            }
        }
    }

    private static long ReadsOutsideEveryRegion(VtaProgram program)
    {
        var map = program.MemoryMap;
        var reads = VtaZeroRanges.Reads(map, program.Config, program.Instructions);
        foreach (var region in map.Regions)
        {
            reads.AsSpan((int)(region.Address - map.PhysicalBase), (int)region.SizeBytes).Clear();
        }

        return reads.Count(r => r);
    }

    /// <summary>The garbage image of <see cref="VtaImage.Build"/>, then garbage again in the listed ranges <paramref name="dirty"/> picks.</summary>
    private static VtaDram Dirty(VtaProgram program, IReadOnlyDictionary<string, TensorData> inputs, ulong seed, Func<VtaDramRegion, VtaByteRange, bool> dirty)
    {
        var dram = VtaImage.Build(program, inputs, seed);
        var garbage = new byte[dram.Length];
        VtaImage.FillWithGarbage(garbage, seed + 1);
        foreach (var region in program.MemoryMap.Regions)
        {
            foreach (var range in region.MustBeZero.Where(r => dirty(region, r)))
            {
                foreach (var (offset, length) in range.Ranges())
                {
                    var at = (int)(region.Address - program.MemoryMap.PhysicalBase + offset);
                    garbage.AsSpan(at, (int)length).CopyTo(dram.Bytes[at..]);
                }
            }
        }

        return dram;
    }

    private static (CodeletInstance Instance, VtaProgram Program) Lowered(string layer)
    {
        var (arch, codelet, bindings, spec) = Layers[layer];
        var instance = Instance(codelet, bindings);
        return (instance, Lower(Build(instance, arch, spec), arch));
    }

    private static Dictionary<string, int> Tiles(string text) => text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
        .Select(t => t.Split('='))
        .ToDictionary(t => t[0], t => int.Parse(t[1], System.Globalization.CultureInfo.InvariantCulture));
}
