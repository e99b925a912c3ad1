using System.Diagnostics;
using System.Globalization;
using Covenant.Runtime.Vta;
using Covenant.Targets.Vta;
using static Covenant.Targets.Tests.VtaTestSupport;

namespace Covenant.Targets.Tests;

public sealed class VtaTimingTests
{
    private const int Tiles = 6;

    [Test]
    public void SerialProgramTakesTheSumOfItsParts()
    {
        var program = TiledPipeline.Build(Config, Tiles, doubleBuffered: false, out var image, out _);
        var simulator = new VtaSimulator(Config, new VtaSimulatorOptions { RecordTrace = true });
        var result = simulator.Run(program, image.Dram);
        Assert.That(result.Succeeded, Is.True, Describe(result));

        // The formulas of VtaTimingModel with vta.yaml's numbers (8 B/cycle, latency 32; GEMM II 1, latency 5; reset 1 + 1/uop):
        const int wgt = 32 + (256 / 8), uop = 32 + (16 * 4 / 8), inp = 32 + (8 * 16 / 8), reset = 1 + 8, gemm = 5 + (8 * 6), store = 32 + (8 * 16 / 8);
        const int expected = wgt + uop + (Tiles * (inp + reset + gemm + store)) + (Tiles - 1) /* compute NOPs */ + 1 /* FINISH */;
        Assert.That(result.Statistics.TotalCycles, Is.EqualTo(expected));
        Assert.That(program.Sum(i => simulator.Timing.Cycles(i)), Is.EqualTo(expected), "every instruction waits for the previous one");

        // The trace agrees: each instruction starts where the previous one ended.
        var trace = result.Trace.OrderBy(t => t.StartCycle).ThenBy(t => t.Index).ToList();
        Assert.That(trace, Has.Count.EqualTo(program.Count));
        for (var n = 1; n < trace.Count; n++)
        {
            Assert.That(trace[n].StartCycle, Is.EqualTo(trace[n - 1].EndCycle), $"#{trace[n].Index} starts when #{trace[n - 1].Index} ends");
        }

        var stats = result.Statistics;
        Assert.That(stats.Load.BusyCycles + stats.Compute.BusyCycles + stats.Store.BusyCycles, Is.EqualTo(expected));
        Assert.That(stats.GemmUopCycles, Is.EqualTo(Tiles * 48));
        Assert.That(stats.GemmCoreBusyCycles, Is.EqualTo(Tiles * (reset + gemm)));
        Assert.That(stats.GemmUtilization, Is.EqualTo((double)(Tiles * 48) / expected).Within(1e-12));
        Assert.That(stats.Seconds, Is.EqualTo(expected / 100e6).Within(1e-15));
    }

    [Test]
    public void OverlappedProgramIsFasterButNotFasterThanItsBusiestModule()
    {
        var serialProgram = TiledPipeline.Build(Config, Tiles, doubleBuffered: false, out var serialImage, out var serialOutput);
        var serial = new VtaSimulator(Config).Run(serialProgram, serialImage.Dram);
        var overlappedProgram = TiledPipeline.Build(Config, Tiles, doubleBuffered: true, out var image, out var output);
        var overlapped = new VtaSimulator(Config).Run(overlappedProgram, image.Dram);
        Assert.That(serial.Succeeded, Is.True, Describe(serial));
        Assert.That(overlapped.Succeeded, Is.True, Describe(overlapped));

        var stats = overlapped.Statistics;
        var busiest = new[] { stats.Load, stats.Compute, stats.Store }.Max(m => m.BusyCycles);
        TestContext.Out.WriteLine($"serial {serial.Statistics.TotalCycles} cycles, overlapped {stats.TotalCycles}, busiest module {busiest}");
        TestContext.Out.WriteLine(stats.ToString());
        Assert.That(stats.TotalCycles, Is.LessThan(serial.Statistics.TotalCycles));
        Assert.That(stats.TotalCycles, Is.GreaterThanOrEqualTo(busiest));
        Assert.That(stats.GemmUtilization, Is.GreaterThan(serial.Statistics.GemmUtilization));
        Assert.That(stats.Load.StallCycles + stats.Compute.StallCycles + stats.Store.StallCycles, Is.LessThan(
            serial.Statistics.Load.StallCycles + serial.Statistics.Compute.StallCycles + serial.Statistics.Store.StallCycles));

        // Same results either way, and double buffering keeps at most 2 tokens in flight per queue.
        Assert.That(image.Read(output, Tiles * 8 * 16), Is.EqualTo(serialImage.Read(serialOutput, Tiles * 8 * 16)));
        Assert.That(stats.WorstCaseOutstandingTokens, Has.All.LessThanOrEqualTo(2));
    }

    [Test]
    public void CostsComeFromTheArchitecture()
    {
        var wide = ConfigOf("vta-1x32x32.yaml");
        var timing = new VtaTimingModel(wide);
        using (Assert.EnterMultipleScope())
        {
            // 16 B/cycle; a weight block is 1 KiB.
            Assert.That(timing.LoadCycles(Load(VtaMemoryType.Wgt, 0, 0, 1, 2, 2)), Is.EqualTo(32 + (2048 / 16)));
            Assert.That(timing.LoadCycles(Load(VtaMemoryType.Inp, 0, 0, 2, 3, 3) with { XPad0 = 1, YPad1 = 1 }), Is.EqualTo(32 + (6 * 32 / 16) + ((4 * 3) - 6)));
            Assert.That(timing.StoreCycles(Store(0, 0, 1, 4, 4)), Is.EqualTo(32 + (4 * 32 / 16)));
            Assert.That(timing.GemmCycles(new VtaGemm { UopEnd = 3, IterOut = 4, IterIn = 5 }), Is.EqualTo(6 + 60));
            Assert.That(timing.AluCycles(new VtaAlu { UopEnd = 3, IterIn = 5 }), Is.EqualTo(4 + (15 * 2)));
            Assert.That(timing.Cycles(new VtaFinish()), Is.EqualTo(1));
            Assert.That(timing.Cycles(ComputeNop(PopPrev)), Is.EqualTo(1));
        }
    }

    [Test]
    public void LargeLayerSimulatesQuickly()
    {
        // A ResNet-50-sized convolution layer's worth of work: 409,600 GEMM micro-ops = 1.05e8 MACs.
        var config = Config;
        var image = new DramImage(config, 1 << 20);
        var random = new Random(3);
        var inp = new sbyte[1600 * 16];
        var wgt = new sbyte[830 * 256];
        random.NextBytes(System.Runtime.InteropServices.MemoryMarshal.AsBytes(inp.AsSpan()));
        random.NextBytes(System.Runtime.InteropServices.MemoryMarshal.AsBytes(wgt.AsSpan()));
        var inpAddress = image.Put(inp);
        var wgtAddress = image.Put(wgt);
        var uops = image.PutUops([.. Enumerable.Range(0, 64).Select(u => new VtaUop(u, u, u / 4))]);
        var output = image.Alloc(1024 * 16);
        VtaInstruction[] program =
        [
            Load(VtaMemoryType.Inp, 0, inpAddress / 16, 1, 1600, 1600),
            Load(VtaMemoryType.Wgt, 0, wgtAddress / 256, 1, 830, 830, PushNext),
            Load(VtaMemoryType.Uop, 0, uops / 4, 1, 64, 64),
            new VtaGemm { ResetReg = true, UopEnd = 64, IterOut = 16, DstFactorOut = 64 },
            new VtaGemm
            {
                UopEnd = 64, IterOut = 16, IterIn = 400,
                DstFactorOut = 64, SrcFactorOut = 64, SrcFactorIn = 1, WgtFactorOut = 1, WgtFactorIn = 2,
                Deps = new VtaDeps(PopPrev: true, PushNext: true),
            },
            Store(0, output / 16, 1, 1024, 1024, new VtaDeps(PopPrev: true, PushPrev: true)),
            new VtaFinish { Deps = PopNext },
        ];
        var simulator = new VtaSimulator(config);
        simulator.Run(program, image.Dram).ThrowIfFailed(); // warm up the JIT
        var watch = Stopwatch.StartNew();
        var result = simulator.Run(program, image.Dram);
        watch.Stop();
        Assert.That(result.Succeeded, Is.True, Describe(result));
        var stats = result.Statistics;
        Assert.That(stats.GemmCounter, Is.EqualTo(409_600));
        TestContext.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{stats.GemmCounter} uops, {stats.Macs:N0} MACs in {watch.Elapsed.TotalMilliseconds:F1} ms: {stats.SimulatedMacsPerSecond / 1e9:F2} GMAC/s simulated, {stats.TotalCycles} cycles, utilization {stats.GemmUtilization:P1}"));

        // Spot-check one output lane against a plain loop: ACC row r = Σ_j INP[src] · WGT[wgt]ᵀ.
        const int row = 700, lane = 9;
        int i = row / 64, u = row % 64;
        var sum = 0;
        for (var j = 0; j < 400; j++)
        {
            var x = u + (i * 64) + j;
            var w = (u / 4) + i + (2 * j);
            for (var k = 0; k < 16; k++)
            {
                sum += inp[(x * 16) + k] * wgt[(w * 256) + (lane * 16) + k];
            }
        }

        Assert.That(simulator.AccRow(row)[lane], Is.EqualTo(sum));
        Assert.That(watch.Elapsed.TotalSeconds, Is.LessThan(10), "the GEMM loop must stay tight");
    }
}

/// <summary>
/// Tiles of work through all three modules: each tile loads 8 input rows, resets and accumulates 8 ACC rows
/// (6 passes of an 8-uop kernel against one weight block) and stores them. Serial: every instruction waits
/// (through tokens) for the previous one. Double-buffered: two INP and two ACC buffers, so tile t+1 loads
/// while tile t computes and tile t−1 stores.
/// </summary>
internal static class TiledPipeline
{
    private const int Rows = 8;
    private const int Passes = 6;

    public static List<VtaInstruction> Build(VtaConfig config, int tiles, bool doubleBuffered, out DramImage image, out long output)
    {
        image = new DramImage(config);
        var random = new Random(17);
        var inputs = new sbyte[tiles * Rows * 16];
        var weights = new sbyte[256];
        random.NextBytes(System.Runtime.InteropServices.MemoryMarshal.AsBytes(inputs.AsSpan()));
        random.NextBytes(System.Runtime.InteropServices.MemoryMarshal.AsBytes(weights.AsSpan()));
        var inputAddress = image.Put(inputs) / 16;
        var weightAddress = image.Put(weights) / 256;
        var kernels = Enumerable.Range(0, 2 * Rows).Select(r => new VtaUop(r, r, 0)).ToList();
        var uopAddress = image.PutUops(kernels) / 4;
        output = image.Alloc(tiles * Rows * 16);

        var program = new List<VtaInstruction>
        {
            Load(VtaMemoryType.Wgt, 0, weightAddress, 1, 1, 1, new VtaDeps(PushNext: !doubleBuffered)),
            Load(VtaMemoryType.Uop, 0, uopAddress, 1, 2 * Rows, 2 * Rows, new VtaDeps(PopPrev: !doubleBuffered, PushPrev: !doubleBuffered)),
        };
        for (var t = 0; t < tiles; t++)
        {
            var b = doubleBuffered ? t % 2 : 0;
            var last = t == tiles - 1;
            var (bgn, end) = (b * Rows, (b + 1) * Rows);
            if (doubleBuffered)
            {
                program.Add(Load(VtaMemoryType.Inp, b * Rows, inputAddress + (t * Rows), 1, Rows, Rows, new VtaDeps(PopNext: t >= 2, PushNext: true)));
                program.Add(new VtaGemm { ResetReg = true, UopBegin = bgn, UopEnd = end, Deps = new VtaDeps(PopNext: t >= 2) });
                program.Add(new VtaGemm { UopBegin = bgn, UopEnd = end, IterOut = Passes, Deps = new VtaDeps(PopPrev: true, PushPrev: t + 2 < tiles, PushNext: true) });
                program.Add(Store(b * Rows, (output / 16) + (t * Rows), 1, Rows, Rows, new VtaDeps(PopPrev: true, PushPrev: t + 2 < tiles || last)));
            }
            else
            {
                program.Add(Load(VtaMemoryType.Inp, 0, inputAddress + (t * Rows), 1, Rows, Rows, new VtaDeps(PopNext: true, PushNext: true)));
                program.Add(new VtaGemm { ResetReg = true, UopBegin = bgn, UopEnd = end, Deps = PopPrev });
                program.Add(new VtaGemm { UopBegin = bgn, UopEnd = end, IterOut = Passes, Deps = PushNext });
                program.Add(Store(0, (output / 16) + (t * Rows), 1, Rows, Rows, new VtaDeps(PopPrev: true, PushPrev: true)));
                if (!last)
                {
                    program.Add(ComputeNop(new VtaDeps(PopNext: true, PushPrev: true)));
                }
            }
        }

        program.Add(new VtaFinish { Deps = PopNext });
        return program;
    }
}
