using Covenant.Core.Diagnostics;
using Covenant.Runtime.Vta;
using Covenant.Targets.Vta;
using static Covenant.Targets.Tests.VtaTestSupport;

namespace Covenant.Targets.Tests;

/// <summary>Hand-written programs whose results are checked against values computed here by plain loops.</summary>
public sealed class VtaSimulatorTests
{
    [TestCase(4, 2, 2, 1)]
    [TestCase(3, 3, 5, 7)]
    public void BlockGemmMatchesPlainLoops(int rows, int kBlocks, int nBlocks, int seed)
    {
        var config = Config;
        var program = BlockGemm.Build(config, rows, kBlocks, nBlocks, seed, out var image, out var gemm);
        var simulator = new VtaSimulator(config);
        var result = simulator.Run(program, image.Dram);
        Assert.That(result.Succeeded, Is.True, Describe(result));

        var expected = gemm.Expected();
        var stored = image.Read(gemm.C, rows * nBlocks * 16);
        for (var m = 0; m < rows; m++)
        {
            for (var n = 0; n < nBlocks * 16; n++)
            {
                var accRow = simulator.AccRow((m * nBlocks) + (n / 16));
                Assert.That(accRow[n % 16], Is.EqualTo(expected[m, n]), $"ACC for C[{m}, {n}]");
                Assert.That(stored[(m * nBlocks * 16) + n], Is.EqualTo(unchecked((sbyte)expected[m, n])), $"stored C[{m}, {n}] (truncated to int8)");
            }
        }

        var stats = result.Statistics;
        using (Assert.EnterMultipleScope())
        {
            Assert.That(stats.GemmCounter, Is.EqualTo(rows * nBlocks * kBlocks));
            Assert.That(stats.GemmResetCounter, Is.EqualTo(rows * nBlocks));
            Assert.That(stats.Macs, Is.EqualTo((long)rows * nBlocks * kBlocks * 256));
            Assert.That(stats.InpLoadBytes, Is.EqualTo(rows * kBlocks * 16));
            Assert.That(stats.WgtLoadBytes, Is.EqualTo(nBlocks * kBlocks * 256));
            Assert.That(stats.UopLoadBytes, Is.EqualTo(rows * nBlocks * 4));
            Assert.That(stats.OutStoreBytes, Is.EqualTo(rows * nBlocks * 16));
            Assert.That(stats.InstructionsExecuted, Is.EqualTo(program.Count));
        }

        // The encoded stream does exactly the same.
        var encoded = BlockGemm.Build(config, rows, kBlocks, nBlocks, seed, out var image2, out _);
        var bytes = new VtaEncoder(config).EncodeProgram(encoded);
        Assert.That(new VtaSimulator(config).Run(bytes, image2.Dram).Succeeded, Is.True);
        Assert.That(image2.Read(gemm.C, rows * nBlocks * 16), Is.EqualTo(stored));
    }

    [Test]
    public void EveryGemmKernelComputesTheSame([Values] VtaGemmKernel kernel, [Values("vta.yaml", "vta-1x32x32.yaml")] string architecture)
    {
        var config = ConfigOf(architecture);
        var program = BlockGemm.Build(config, 5, 3, 2, 23, out var image, out var gemm);
        var simulator = new VtaSimulator(config, new VtaSimulatorOptions { GemmKernel = kernel });
        var result = simulator.Run(program, image.Dram);
        Assert.That(result.Succeeded, Is.True, Describe(result));
        var expected = gemm.Expected();
        for (var m = 0; m < 5; m++)
        {
            for (var n = 0; n < 2 * config.BlockOut; n++)
            {
                Assert.That(simulator.AccRow((m * 2) + (n / config.BlockOut))[n % config.BlockOut], Is.EqualTo(expected[m, n]), $"C[{m}, {n}]");
            }
        }
    }

    [Test]
    public void ExtremeOperandsDoNotSaturate([Values] VtaGemmKernel kernel)
    {
        // -128 · -128 summed over K = 64: 1,048,576 in every lane, stored as its low 8 bits (0).
        var program = BlockGemm.Build(Config, 3, 4, 1, 0, out var image, out var gemm, fill: sbyte.MinValue);
        var simulator = new VtaSimulator(Config, new VtaSimulatorOptions { GemmKernel = kernel });
        Assert.That(simulator.Run(program, image.Dram).Succeeded, Is.True);
        Assert.That(simulator.AccRow(2).ToArray(), Has.All.EqualTo(64 * 16384));
        Assert.That(gemm.Expected()[2, 15], Is.EqualTo(64 * 16384));
    }

    [Test]
    public void BlockGemmOnThe32x32Variant()
    {
        var config = ConfigOf("vta-1x32x32.yaml");
        var program = BlockGemm.Build(config, 3, 2, 2, 11, out var image, out var gemm);
        var simulator = new VtaSimulator(config);
        var result = simulator.Run(program, image.Dram);
        Assert.That(result.Succeeded, Is.True, Describe(result));
        var expected = gemm.Expected();
        for (var m = 0; m < 3; m++)
        {
            for (var n = 0; n < 64; n++)
            {
                Assert.That(simulator.AccRow((m * 2) + (n / 32))[n % 32], Is.EqualTo(expected[m, n]));
            }
        }

        Assert.That(result.Statistics.Macs, Is.EqualTo(3 * 2 * 2 * 1024));
    }

    [Test]
    public void PaddedLoadFillsADenseBlock()
    {
        var image = new DramImage(Config);
        var source = new sbyte[64 * 16];
        for (var i = 0; i < source.Length; i++)
        {
            source[i] = unchecked((sbyte)((i * 7) + 3));
        }

        var address = image.Put(source);
        const int sram = 5, first = 3, y = 3, x = 2, stride = 5, y0 = 1, y1 = 2, x0 = 1, x1 = 1;
        VtaInstruction[] program =
        [
            Load(VtaMemoryType.Inp, sram, (address / 16) + first, y, x, stride, PushNext) with { YPad0 = y0, YPad1 = y1, XPad0 = x0, XPad1 = x1 },
            new VtaFinish { Deps = PopPrev },
        ];
        var simulator = new VtaSimulator(Config);
        var result = simulator.Run(program, image.Dram);
        Assert.That(result.Succeeded, Is.True, Describe(result));

        const int xt = x0 + x + x1, yt = y0 + y + y1;
        for (var row = 0; row < 64; row++)
        {
            var expected = new sbyte[16];
            var offset = row - sram;
            if (offset >= 0 && offset < xt * yt)
            {
                int yy = offset / xt, xx = offset % xt;
                if (yy >= y0 && yy < y0 + y && xx >= x0 && xx < x0 + x)
                {
                    var element = first + ((yy - y0) * stride) + (xx - x0);
                    expected = source.AsSpan(element * 16, 16).ToArray();
                }
            }

            Assert.That(simulator.InpRow(row).ToArray(), Is.EqualTo(expected), $"INP row {row}");
        }

        Assert.That(result.Statistics.InpLoadBytes, Is.EqualTo(x * y * 16));
        Assert.That(result.Statistics.PaddedElements, Is.EqualTo((xt * yt) - (x * y)));
    }

    [Test]
    public void AluOpsWithAndWithoutImmediate()
    {
        var image = new DramImage(Config);
        var random = new Random(5);
        var acc = new int[12 * 16];
        for (var i = 0; i < 8 * 16; i++)
        {
            acc[i] = random.Next(-100_000, 100_000);
        }

        for (var i = 8 * 16; i < 12 * 16; i++)
        {
            acc[i] = random.Next(0, 32); // shift amounts
        }

        var accAddress = image.Put(acc);
        var uops = image.PutUops([new VtaUop(0, 4, 0), new VtaUop(0, 8, 0)]);
        var output = image.Alloc(4 * 16);
        VtaAlu Alu(VtaAluOpcode op, int? imm, int uop = 0, VtaDeps deps = default) => new()
        {
            AluOpcode = op, UseImm = imm is not null, Imm = imm ?? 0,
            UopBegin = uop, UopEnd = uop + 1, IterIn = 4, DstFactorIn = 1, SrcFactorIn = 1, Deps = deps,
        };
        VtaInstruction[] program =
        [
            Load(VtaMemoryType.Uop, 0, uops / 4, 1, 2, 2),
            Load(VtaMemoryType.Acc, 0, accAddress / 64, 1, 12, 12),
            Alu(VtaAluOpcode.Add, null),           // rows 0-3 += rows 4-7
            Alu(VtaAluOpcode.Max, null),           // max with rows 4-7
            Alu(VtaAluOpcode.Shr, null, uop: 1),   // >> rows 8-11
            Alu(VtaAluOpcode.Add, -1234),
            Alu(VtaAluOpcode.Shr, 3),
            Alu(VtaAluOpcode.Min, null),           // min with rows 4-7
            Alu(VtaAluOpcode.Min, 127),
            Alu(VtaAluOpcode.Max, -128, deps: PushNext),
            Store(0, output / 16, 1, 4, 4, new VtaDeps(PopPrev: true, PushPrev: true)),
            new VtaFinish { Deps = PopNext },
        ];
        var simulator = new VtaSimulator(Config);
        var result = simulator.Run(program, image.Dram);
        Assert.That(result.Succeeded, Is.True, Describe(result));

        for (var row = 0; row < 4; row++)
        {
            for (var lane = 0; lane < 16; lane++)
            {
                int At(int r) => acc[(r * 16) + lane];
                var v = At(row) + At(row + 4);
                v = Math.Max(v, At(row + 4));
                v >>= At(row + 8);
                v -= 1234;
                v >>= 3;
                v = Math.Min(v, At(row + 4));
                v = Math.Clamp(v, -128, 127);
                Assert.That(simulator.AccRow(row)[lane], Is.EqualTo(v), $"row {row} lane {lane}");
                Assert.That(image.Read(output + (row * 16) + lane, 1)[0], Is.EqualTo((sbyte)v));
            }
        }

        Assert.That(result.Statistics.AluCounter, Is.EqualTo(8 * 4));
        Assert.That(result.Statistics.AccLoadBytes, Is.EqualTo(12 * 64));
    }

    [Test]
    public void StoreTruncatesToInt8()
    {
        var image = new DramImage(Config);
        int[] values = [200, 300, -129, 127, -128, 256, 255, -1, int.MaxValue, int.MinValue, 1000, -1000, 128, -256, 0, 77];
        var accAddress = image.Put(values);
        var uops = image.PutUops([new VtaUop(0, 0, 0)]);
        var output = image.Alloc(16);
        VtaInstruction[] program =
        [
            Load(VtaMemoryType.Uop, 0, uops / 4, 1, 1, 1),
            Load(VtaMemoryType.Acc, 0, accAddress / 64, 1, 1, 1),
            new VtaAlu { AluOpcode = VtaAluOpcode.Add, UseImm = true, Imm = 0, UopEnd = 1, Deps = PushNext },
            Store(0, output / 16, 1, 1, 1, new VtaDeps(PopPrev: true, PushPrev: true)),
            new VtaFinish { Deps = PopNext },
        ];
        var result = Run(Config, program, image);
        Assert.That(result.Succeeded, Is.True, Describe(result));
        Assert.That(image.Read(output, 16), Is.EqualTo(values.Select(v => (sbyte)((((v % 256) + 256 + 128) % 256) - 128)).ToArray()));
    }

    [Test]
    public void FsimOnlyFeaturesRunWhenNotStrict()
    {
        var image = new DramImage(Config);
        var bytes = Enumerable.Range(0, 32).Select(i => (sbyte)(i * 9 - 100)).ToArray();
        var address = image.Put(bytes);
        var uops = image.PutUops([new VtaUop(0, 1, 0)]);
        VtaInstruction[] program =
        [
            Load(VtaMemoryType.Uop, 0, uops / 4, 1, 1, 1),
            Load(VtaMemoryType.Acc8Bit, 0, address / 16, 1, 2, 2),
            new VtaAlu { AluOpcode = VtaAluOpcode.Mul, UopEnd = 1 },                         // row 0 *= row 1
            new VtaAlu { AluOpcode = VtaAluOpcode.Shr, UseImm = true, Imm = -3, UopEnd = 1 }, // << 3
            new VtaFinish(),
        ];
        var simulator = new VtaSimulator(Config, new VtaSimulatorOptions { Strict = false });
        var result = simulator.Run(program, image.Dram);
        Assert.That(result.Succeeded, Is.True, Describe(result));
        Assert.That(result.Warnings.Select(w => w.Id), Is.EqualTo(Enumerable.Repeat(VtaSimulatorDiagnostics.NotPortable.Id, 3)));
        for (var lane = 0; lane < 16; lane++)
        {
            Assert.That(simulator.AccRow(1)[lane], Is.EqualTo((int)bytes[16 + lane]), "ACC_8BIT sign-extends");
            Assert.That(simulator.AccRow(0)[lane], Is.EqualTo(bytes[lane] * bytes[16 + lane] << 3));
        }

        Assert.That(result.Statistics.Acc8BitLoadBytes, Is.EqualTo(32));

        // The same stream in strict mode: the same three findings are errors.
        var strict = new VtaSimulator(Config).Run(program, image.Dram);
        Assert.That(strict.Errors.Select(w => w.Id), Is.EqualTo(Enumerable.Repeat(VtaSimulatorDiagnostics.NotPortable.Id, 3)));
        Assert.That(strict.Errors.Select(e => e.InstructionIndex), Is.EqualTo(new int?[] { 1, 2, 3 }));
    }

    [Test]
    public void ResultsConvertToDiagnostics()
    {
        var result = Run(Config, [new VtaGemm { Deps = PopPrev }, new VtaFinish()], new DramImage(Config, 4096));
        var diagnostic = result.Diagnostics.Single();
        Assert.That(diagnostic.Severity, Is.EqualTo(Severity.Error));
        Assert.That(diagnostic.ToString(), Does.StartWith("error COV6105: instruction #0 (GEMM uop=[0,0) iter=1x1 dst=(0,0) src=(0,0) wgt=(0,0) [pop_prev]): no module can progress"));
        var e = Assert.Throws<VtaSimulationException>(() => result.ThrowIfFailed())!;
        Assert.That(e.Issues, Has.Length.EqualTo(1));
    }
}

/// <summary>
/// C[M, N] = A[M, K] · W[N, K]ᵀ in VTA blocks: A as M×KB input elements, W as NB×KB weight blocks, one uop per
/// (m, nb) output element looping over the KB reduction blocks with iter_out. Serial token choreography.
/// </summary>
internal sealed class BlockGemm
{
    private BlockGemm(VtaConfig config, int rows, int kBlocks, int nBlocks, sbyte[] a, sbyte[] w)
    {
        Config = config;
        Rows = rows;
        KBlocks = kBlocks;
        NBlocks = nBlocks;
        A = a;
        W = w;
    }

    public VtaConfig Config { get; }

    public int Rows { get; }

    public int KBlocks { get; }

    public int NBlocks { get; }

    /// <summary>A[m, k], row-major.</summary>
    public sbyte[] A { get; }

    /// <summary>W[n, k], row-major.</summary>
    public sbyte[] W { get; }

    /// <summary>Physical address of the stored C (int8, M × N row-major).</summary>
    public long C { get; private set; }

    /// <summary>Random operands from <paramref name="seed"/>, or every element equal to <paramref name="fill"/>.</summary>
    public static List<VtaInstruction> Build(VtaConfig config, int rows, int kBlocks, int nBlocks, int seed, out DramImage image, out BlockGemm gemm, sbyte? fill = null)
    {
        var block = config.BlockIn;
        var random = new Random(seed);
        var a = new sbyte[rows * kBlocks * block];
        var w = new sbyte[nBlocks * block * kBlocks * block];
        random.NextBytes(System.Runtime.InteropServices.MemoryMarshal.AsBytes(a.AsSpan()));
        random.NextBytes(System.Runtime.InteropServices.MemoryMarshal.AsBytes(w.AsSpan()));
        if (fill is { } value)
        {
            a.AsSpan().Fill(value);
            w.AsSpan().Fill(value);
        }

        gemm = new BlockGemm(config, rows, kBlocks, nBlocks, a, w);
        image = new DramImage(config);

        // A[m, k] row-major is exactly the M x KB grid of input elements.
        var aAddress = image.Put(a);

        // Weight block (nb, kb) holds W[nb*16 + j, kb*16 + k] as [j][k].
        var blocks = new sbyte[nBlocks * kBlocks * block * block];
        for (var nb = 0; nb < nBlocks; nb++)
        {
            for (var kb = 0; kb < kBlocks; kb++)
            {
                for (var j = 0; j < block; j++)
                {
                    for (var k = 0; k < block; k++)
                    {
                        blocks[((((nb * kBlocks) + kb) * block) + j) * block + k] = w[(((nb * block) + j) * kBlocks * block) + (kb * block) + k];
                    }
                }
            }
        }

        var wAddress = image.Put(blocks);
        var uops = new List<VtaUop>();
        for (var m = 0; m < rows; m++)
        {
            for (var nb = 0; nb < nBlocks; nb++)
            {
                uops.Add(new VtaUop((m * nBlocks) + nb, m * kBlocks, nb * kBlocks));
            }
        }

        var uopAddress = image.PutUops(uops);
        gemm.C = image.Alloc(rows * nBlocks * block);
        return
        [
            Load(VtaMemoryType.Inp, 0, aAddress / config.InpElementBytes, rows, kBlocks, kBlocks),
            Load(VtaMemoryType.Wgt, 0, wAddress / config.WgtElementBytes, 1, nBlocks * kBlocks, nBlocks * kBlocks, PushNext),
            Load(VtaMemoryType.Uop, 0, uopAddress / 4, 1, uops.Count, uops.Count),
            new VtaGemm { ResetReg = true, UopEnd = uops.Count },
            new VtaGemm { UopEnd = uops.Count, IterOut = kBlocks, SrcFactorOut = 1, WgtFactorOut = 1, Deps = new VtaDeps(PopPrev: true, PushNext: true) },
            Store(0, gemm.C / config.OutElementBytes, rows, nBlocks, nBlocks, new VtaDeps(PopPrev: true, PushPrev: true)),
            ComputeNop(PopNext),
            new VtaFinish(),
        ];
    }

    /// <summary>C = A · Wᵀ by plain loops, wrapping in int32.</summary>
    public int[,] Expected()
    {
        var k = KBlocks * Config.BlockIn;
        var n = NBlocks * Config.BlockOut;
        var c = new int[Rows, n];
        for (var m = 0; m < Rows; m++)
        {
            for (var j = 0; j < n; j++)
            {
                var sum = 0;
                for (var r = 0; r < k; r++)
                {
                    sum = unchecked(sum + (A[(m * k) + r] * W[(j * k) + r]));
                }

                c[m, j] = sum;
            }
        }

        return c;
    }
}
