using System.Buffers.Binary;
using System.Globalization;
using Covenant.Runtime.Vta;
using Covenant.Targets.Vta;
using static Covenant.Targets.Tests.VtaTestSupport;

namespace Covenant.Targets.Tests;

public sealed class VtaEncodingTests
{
    private static readonly VtaEncoder Encoder = new(VtaConfig.Default);
    private static readonly VtaDecoder Decoder = new(VtaConfig.Default);

    /// <summary>vta-isa.md §2, "Golden encodings": the instruction and its hi and lo words, typed from the document.</summary>
    private static IEnumerable<TestCaseData> Goldens()
    {
        yield return Case("LOAD UOP sram 0, dram 0x1000/4, 1x5", "0000000500050001", "0000001000000000",
            Load(VtaMemoryType.Uop, 0, 0x1000 / 4, 1, 5, 5));
        yield return Case("LOAD INP sram 0, dram 0x2000/16, y4 x2 stride 2, all pads 1", "1111000200020004", "0000000800000100",
            Load(VtaMemoryType.Inp, 0, 0x2000 / 16, 4, 2, 2) with { YPad0 = 1, YPad1 = 1, XPad0 = 1, XPad1 = 1 });
        yield return Case("LOAD WGT sram 0, dram 0x3000/256, 1x4, push_next", "0000000400040001", "00000000c00000c0",
            Load(VtaMemoryType.Wgt, 0, 0x3000 / 256, 1, 4, 4, PushNext));
        yield return Case("GEMM uop[0,4) iter 2x2, dst f 0/1, src f 1/0, wgt f 1/2, pop_prev", "0080100000400800", "000400100080000a",
            new VtaGemm
            {
                UopBegin = 0, UopEnd = 4, IterOut = 2, IterIn = 2,
                DstFactorOut = 0, DstFactorIn = 1, SrcFactorOut = 1, SrcFactorIn = 0, WgtFactorOut = 1, WgtFactorIn = 2,
                Deps = PopPrev,
            });
        yield return Case("GEMM reset_reg uop[0,4) 1x1", "0000000000000000", "0002000800800082",
            new VtaGemm { ResetReg = true, UopBegin = 0, UopEnd = 4, IterOut = 1, IterIn = 1 });
        yield return Case("ALU SHR imm -3, uop[4,5), iter_in 8, dst/src f_in 1", "fffdb00200000800", "0010000800a00404",
            new VtaAlu
            {
                AluOpcode = VtaAluOpcode.Shr, UseImm = true, Imm = -3,
                UopBegin = 4, UopEnd = 5, IterOut = 1, IterIn = 8, DstFactorIn = 1, SrcFactorIn = 1,
            });
        yield return Case("ALU MAX imm -128, uop[4,5), push_next", "ff80900000000000", "0002000800a00444",
            new VtaAlu { AluOpcode = VtaAluOpcode.Max, UseImm = true, Imm = -128, UopBegin = 4, UopEnd = 5, Deps = PushNext });
        yield return Case("STORE sram 0, dram 0x5000/16, y4 x2 stride 2, pop_prev+push_prev", "0000000200020004", "0000001400000229",
            Store(0, 0x5000 / 16, 4, 2, 2, new VtaDeps(PopPrev: true, PushPrev: true)));
        yield return Case("compute NOP (LOAD UOP x_size 0) pop_prev+pop_next", "0000000000000000", "0000000000000018",
            ComputeNop(new VtaDeps(PopPrev: true, PopNext: true)));
        yield return Case("FINISH", "0000000000000000", "0000000000000003", new VtaFinish());
    }

    [TestCaseSource(nameof(Goldens))]
    public void GoldenEncoding(VtaInstruction instruction, string hi, string lo)
    {
        var (actualLo, actualHi) = Encoder.EncodeWords(instruction);
        using (Assert.EnterMultipleScope())
        {
            Assert.That(actualHi.ToString("x16", CultureInfo.InvariantCulture), Is.EqualTo(hi), "hi word");
            Assert.That(actualLo.ToString("x16", CultureInfo.InvariantCulture), Is.EqualTo(lo), "lo word");

            // Bytes are little-endian, lo word first.
            var bytes = Encoder.Encode(instruction);
            Assert.That(BinaryPrimitives.ReadUInt64LittleEndian(bytes), Is.EqualTo(ulong.Parse(lo, NumberStyles.HexNumber, CultureInfo.InvariantCulture)));
            Assert.That(BinaryPrimitives.ReadUInt64LittleEndian(bytes.AsSpan(8)), Is.EqualTo(ulong.Parse(hi, NumberStyles.HexNumber, CultureInfo.InvariantCulture)));

            Assert.That(Decoder.Decode(bytes), Is.EqualTo(instruction), "decodes back");
        }
    }

    [Test]
    public void GoldenUop()
    {
        Assert.That(Encoder.EncodeUop(new VtaUop(3, 5, 7)).ToString("x8", CultureInfo.InvariantCulture), Is.EqualTo("01c02803"));
        Assert.That(Decoder.DecodeUop(0x01c02803), Is.EqualTo(new VtaUop(3, 5, 7)));
        Assert.That(Encoder.EncodeUops([new VtaUop(3, 5, 7)]), Is.EqualTo(new byte[] { 0x03, 0x28, 0xc0, 0x01 }));
    }

    [Test]
    public void RandomInstructionsRoundTrip([Values(0, 1)] int variant)
    {
        var config = variant == 0 ? VtaConfig.Default : ConfigOf("vta-1x32x32.yaml");
        var encoder = new VtaEncoder(config);
        var decoder = new VtaDecoder(config);
        var random = new Random(1234 + variant);
        for (var n = 0; n < 2000; n++)
        {
            var instruction = RandomInstruction(random, encoder.Layout);
            var bytes = encoder.Encode(instruction);
            Assert.That(decoder.Decode(bytes), Is.EqualTo(instruction), instruction.ToString());
            Assert.That(encoder.Encode(decoder.Decode(bytes)), Is.EqualTo(bytes));
        }

        for (var n = 0; n < 2000; n++)
        {
            var uop = new VtaUop(random.Next(config.AccDepth), random.Next(1 << config.UopSrcBits), random.Next(config.WgtDepth));
            Assert.That(decoder.DecodeUop(encoder.EncodeUop(uop)), Is.EqualTo(uop));
        }
    }

    [Test]
    public void ProgramsRoundTripAndListingsMatch()
    {
        var program = Goldens().Select(c => (VtaInstruction)c.Arguments[0]!).ToList();
        var bytes = Encoder.EncodeProgram(program);
        Assert.That(bytes, Has.Length.EqualTo(16 * program.Count));
        Assert.That(Decoder.DecodeProgram(bytes), Is.EqualTo(program));
    }

    [Test]
    public void UnusedBitsAreZeroAndIgnored()
    {
        // Every field at its maximum: the bits outside the fields must still be zero.
        var memory = Load(VtaMemoryType.Acc8Bit, 0xffff, 0xffffffffL, 0xffff, 0xffff, 0xffff) with { YPad0 = 15, YPad1 = 15, XPad0 = 15, XPad1 = 15, Deps = new VtaDeps(true, true, true, true) };
        var (lo, _) = Encoder.EncodeWords(memory);
        Assert.That(lo >> 58, Is.Zero, "bits 58-63 of a memory instruction");
        var gemm = new VtaGemm { ResetReg = true, UopBegin = 8191, UopEnd = 16383, IterOut = 16383, IterIn = 16383, DstFactorOut = 2047, DstFactorIn = 2047, SrcFactorOut = 2047, SrcFactorIn = 2047, WgtFactorOut = 1023, WgtFactorIn = 1023, Deps = new VtaDeps(true, true, true, true) };
        (lo, var hi) = Encoder.EncodeWords(gemm);
        Assert.That(lo >> 63, Is.Zero, "bit 63 of a GEMM");
        Assert.That(hi, Is.EqualTo(ulong.MaxValue), "the second word is all fields");
        var (finishLo, finishHi) = Encoder.EncodeWords(new VtaFinish());
        Assert.That((finishLo, finishHi), Is.EqualTo((3UL, 0UL)));

        // TVM leaves padding bits uninitialized: the decoder ignores them (and ALU's reset bit).
        var garbage = Encoder.EncodeBits(Load(VtaMemoryType.Inp, 1, 2, 3, 4, 5)) | ((UInt128)0x3f << 58);
        Assert.That(Decoder.Decode(garbage), Is.EqualTo(Load(VtaMemoryType.Inp, 1, 2, 3, 4, 5)));
        var alu = new VtaAlu { AluOpcode = VtaAluOpcode.Add, UopEnd = 1 };
        Assert.That(Decoder.Decode(Encoder.EncodeBits(alu) | ((UInt128)1 << 7) | ((UInt128)1 << 63)), Is.EqualTo(alu));
    }

    private static IEnumerable<TestCaseData> OutOfRange()
    {
        yield return new TestCaseData(Load(VtaMemoryType.Inp, 1 << 16, 0, 1, 1, 1), "sram_base", 65536L).SetName("sram_base 65536");
        yield return new TestCaseData(Load(VtaMemoryType.Inp, 0, 1L << 32, 1, 1, 1), "dram_base", 1L << 32).SetName("dram_base 2^32");
        yield return new TestCaseData(Load(VtaMemoryType.Inp, 0, -1, 1, 1, 1), "dram_base", -1L).SetName("dram_base negative");
        yield return new TestCaseData(Load(VtaMemoryType.Inp, 0, 0, 1 << 16, 1, 1), "y_size", 65536L).SetName("y_size 65536");
        yield return new TestCaseData(Load(VtaMemoryType.Inp, 0, 0, 1, 1, 1) with { XPad1 = 16 }, "x_pad_1", 16L).SetName("x_pad_1 16");
        yield return new TestCaseData(Load((VtaMemoryType)8, 0, 0, 1, 1, 1), "memory_type", 8L).SetName("memory_type 8");
        yield return new TestCaseData(new VtaGemm { UopBegin = 8192, UopEnd = 8193 }, "uop_bgn", 8192L).SetName("uop_bgn 8192 (13 bits)");
        yield return new TestCaseData(new VtaGemm { UopEnd = 16384 }, "uop_end", 16384L).SetName("uop_end 16384 (14 bits)");
        yield return new TestCaseData(new VtaGemm { IterOut = 16384 }, "iter_out", 16384L).SetName("iter_out 16384");
        yield return new TestCaseData(new VtaGemm { IterIn = -1 }, "iter_in", -1L).SetName("iter_in negative");
        yield return new TestCaseData(new VtaGemm { DstFactorIn = 2048 }, "dst_factor_in", 2048L).SetName("dst_factor_in 2048 (11 bits)");
        yield return new TestCaseData(new VtaGemm { SrcFactorOut = 2048 }, "src_factor_out", 2048L).SetName("src_factor_out 2048");
        yield return new TestCaseData(new VtaGemm { WgtFactorOut = 1024 }, "wgt_factor_out", 1024L).SetName("wgt_factor_out 1024 (10 bits)");
        yield return new TestCaseData(new VtaAlu { Imm = 32768 }, "imm", 32768L).SetName("imm 32768");
        yield return new TestCaseData(new VtaAlu { Imm = -32769 }, "imm", -32769L).SetName("imm -32769");
        yield return new TestCaseData(new VtaAlu { AluOpcode = (VtaAluOpcode)8 }, "alu_opcode", 8L).SetName("alu_opcode 8");
        yield return new TestCaseData(new VtaAlu { SrcFactorIn = 2048 }, "src_factor_in", 2048L).SetName("ALU src_factor_in 2048");
    }

    [TestCaseSource(nameof(OutOfRange))]
    public void FieldsThatDoNotFitAreRejected(VtaInstruction instruction, string field, long value)
    {
        var e = Assert.Throws<VtaEncodingException>(() => Encoder.Encode(instruction))!;
        Assert.That((e.Field, e.Value), Is.EqualTo((field, value)));
        Assert.That(e.Message, Does.Contain($"field {field} = {value} does not fit"));
    }

    [Test]
    public void UopFieldsThatDoNotFitAreRejected()
    {
        Assert.That(() => Encoder.EncodeUop(new VtaUop(2048, 0, 0)), Throws.TypeOf<VtaEncodingException>().With.Property("Field").EqualTo("dst_idx"));
        Assert.That(() => Encoder.EncodeUop(new VtaUop(0, -1, 0)), Throws.TypeOf<VtaEncodingException>().With.Property("Field").EqualTo("src_idx"));
        Assert.That(() => Encoder.EncodeUop(new VtaUop(0, 0, 1024)), Throws.TypeOf<VtaEncodingException>().With.Property("Field").EqualTo("wgt_idx"));
    }

    [Test]
    public void ProgramEncodingNamesTheInstruction()
    {
        VtaInstruction[] program = [new VtaFinish(), new VtaGemm { UopEnd = 20000 }];
        var e = Assert.Throws<VtaEncodingException>(() => Encoder.EncodeProgram(program))!;
        Assert.That(e.InstructionIndex, Is.EqualTo(1));
        Assert.That(e.Message, Does.StartWith("instruction #1: GEMM uop=[0,20000)"));
    }

    [Test]
    public void InvalidOpcodesDoNotDecode()
    {
        var bytes = new byte[32];
        bytes[0] = 3; // FINISH
        bytes[16] = 5; // "OP_X"
        var e = Assert.Throws<VtaDecodingException>(() => Decoder.DecodeProgram(bytes))!;
        Assert.That(e.InstructionIndex, Is.EqualTo(1));
        Assert.That(e.Message, Does.Contain("invalid opcode 5"));
        Assert.That(() => Decoder.DecodeProgram(new byte[17]), Throws.TypeOf<VtaDecodingException>().With.Message.Contains("multiple of 16"));
    }

    [Test]
    public void ListingLines()
    {
        var inp = Load(VtaMemoryType.Inp, 0, 0x200, 4, 2, 2, PushNext) with { YPad0 = 1, YPad1 = 1, XPad0 = 1, XPad1 = 1 };
        using (Assert.EnterMultipleScope())
        {
            Assert.That(inp.ToString(), Is.EqualTo("LOAD INP sram=0 dram=0x200 y=4 x=2 stride=2 pad=(1,1,1,1) [push_next]"));
            Assert.That(ComputeNop(new VtaDeps(PopPrev: true, PopNext: true)).ToString(), Is.EqualTo("LOAD UOP nop [pop_prev pop_next]"));
            Assert.That(Store(0, 0x500, 4, 2, 2, new VtaDeps(PopPrev: true, PushPrev: true)).ToString(), Is.EqualTo("STORE OUT sram=0 dram=0x500 y=4 x=2 stride=2 [pop_prev push_prev]"));
            Assert.That(new VtaGemm { UopEnd = 4, IterOut = 2, IterIn = 2, DstFactorIn = 1, SrcFactorOut = 1, WgtFactorOut = 1, WgtFactorIn = 2, Deps = PopPrev }.ToString(),
                Is.EqualTo("GEMM uop=[0,4) iter=2x2 dst=(0,1) src=(1,0) wgt=(1,2) [pop_prev]"));
            Assert.That(new VtaGemm { ResetReg = true, UopEnd = 4 }.ToString(), Is.EqualTo("GEMM reset uop=[0,4) iter=1x1 dst=(0,0) src=(0,0) wgt=(0,0)"));
            Assert.That(new VtaAlu { AluOpcode = VtaAluOpcode.Shr, UseImm = true, Imm = -3, UopBegin = 4, UopEnd = 5, IterIn = 8, DstFactorIn = 1, SrcFactorIn = 1 }.ToString(),
                Is.EqualTo("ALU SHR imm=-3 uop=[4,5) iter=1x8 dst=(0,1) src=(0,1)"));
            Assert.That(new VtaAlu { AluOpcode = VtaAluOpcode.Add, UopEnd = 1 }.ToString(), Is.EqualTo("ALU ADD uop=[0,1) iter=1x1 dst=(0,0) src=(0,0)"));
            Assert.That(new VtaFinish().ToString(), Is.EqualTo("FINISH"));
            Assert.That(new VtaUop(3, 5, 7).ToString(), Is.EqualTo("uop(dst=3 src=5 wgt=7)"));
        }

        var listing = VtaDisassembler.Listing([inp, new VtaFinish()], Encoder);
        Assert.That(listing, Is.EqualTo(
            "     0  load     1111000200020004 0000000800000140  LOAD INP sram=0 dram=0x200 y=4 x=2 stride=2 pad=(1,1,1,1) [push_next]\n" +
            "     1  compute  0000000000000000 0000000000000003  FINISH\n"));
    }

    private static TestCaseData Case(string name, string hi, string lo, VtaInstruction instruction) =>
        new TestCaseData(instruction, hi, lo).SetName("Golden: " + name);

    private static VtaInstruction RandomInstruction(Random random, VtaLayout layout)
    {
        long R(VtaField f) => random.NextInt64(f.MaxValue + 1);
        var deps = new VtaDeps(random.Next(2) == 1, random.Next(2) == 1, random.Next(2) == 1, random.Next(2) == 1);
        switch (random.Next(5))
        {
            case 0:
            case 1:
            {
                var f = layout.MemoryFields;
                VtaMemoryInstruction m = random.Next(2) == 0 ? new VtaLoad() : new VtaStore();
                return m with
                {
                    Deps = deps,
                    MemoryType = (VtaMemoryType)R(f[5]),
                    SramBase = (int)R(f[6]),
                    DramBase = R(f[7]),
                    YSize = (int)R(f[8]),
                    XSize = (int)R(f[9]),
                    XStride = (int)R(f[10]),
                    YPad0 = (int)R(f[11]),
                    YPad1 = (int)R(f[12]),
                    XPad0 = (int)R(f[13]),
                    XPad1 = (int)R(f[14]),
                };
            }

            case 2:
            {
                var f = layout.GemmFields;
                return new VtaGemm
                {
                    Deps = deps,
                    ResetReg = random.Next(2) == 1,
                    UopBegin = (int)R(f[6]),
                    UopEnd = (int)R(f[7]),
                    IterOut = (int)R(f[8]),
                    IterIn = (int)R(f[9]),
                    DstFactorOut = (int)R(f[10]),
                    DstFactorIn = (int)R(f[11]),
                    SrcFactorOut = (int)R(f[12]),
                    SrcFactorIn = (int)R(f[13]),
                    WgtFactorOut = (int)R(f[14]),
                    WgtFactorIn = (int)R(f[15]),
                };
            }

            case 3:
            {
                var f = layout.AluFields;
                return new VtaAlu
                {
                    Deps = deps,
                    UopBegin = (int)R(f[6]),
                    UopEnd = (int)R(f[7]),
                    IterOut = (int)R(f[8]),
                    IterIn = (int)R(f[9]),
                    DstFactorOut = (int)R(f[10]),
                    DstFactorIn = (int)R(f[11]),
                    SrcFactorOut = (int)R(f[12]),
                    SrcFactorIn = (int)R(f[13]),
                    AluOpcode = (VtaAluOpcode)R(f[14]),
                    UseImm = random.Next(2) == 1,
                    Imm = random.Next(-32768, 32768),
                };
            }

            default:
                return new VtaFinish { Deps = deps };
        }
    }
}
