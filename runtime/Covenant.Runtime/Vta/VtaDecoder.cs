using System.Buffers.Binary;
using System.Collections.Immutable;
using System.Globalization;

namespace Covenant.Runtime.Vta;

/// <summary>Bytes that are not a VTA instruction (an invalid opcode, a truncated stream).</summary>
public sealed class VtaDecodingException : FormatException
{
    public VtaDecodingException()
    {
    }

    public VtaDecodingException(string message)
        : base(message)
    {
    }

    public VtaDecodingException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>The position in the stream, when a whole program was being decoded.</summary>
    public int? InstructionIndex { get; init; }
}

/// <summary>
/// The inverse of <see cref="VtaEncoder"/>: 16 bytes → an instruction record, 32 bits → a micro-op. Unused bits
/// are ignored (TVM's runtime leaves them uninitialized, so streams are compared by decoded fields); ALU's
/// reset bit is ignored too. Memory types and ALU opcodes outside the known values are kept as numbers for
/// the simulator to report.
/// </summary>
public sealed class VtaDecoder
{
    public VtaDecoder(VtaConfig config)
    {
        Layout = new VtaEncoder(config).Layout;
        Config = config;
    }

    public VtaConfig Config { get; }

    public VtaLayout Layout { get; }

    public VtaInstruction Decode(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length < VtaEncoder.InstructionBytes)
        {
            throw new VtaDecodingException($"an instruction is {VtaEncoder.InstructionBytes} bytes, only {bytes.Length} given");
        }

        return Decode(BinaryPrimitives.ReadUInt64LittleEndian(bytes), BinaryPrimitives.ReadUInt64LittleEndian(bytes[8..]));
    }

    public VtaInstruction Decode(ulong lo, ulong hi) => Decode(((UInt128)hi << 64) | lo);

    public VtaInstruction Decode(UInt128 bits)
    {
        var opcode = (int)(bits & 7);
        switch ((VtaOpcode)opcode)
        {
            case VtaOpcode.Load:
            case VtaOpcode.Store:
            {
                var f = Layout.MemoryFields;
                VtaMemoryInstruction m = opcode == (int)VtaOpcode.Load ? new VtaLoad() : new VtaStore();
                return m with
                {
                    Deps = Deps(bits, f),
                    MemoryType = (VtaMemoryType)Get(bits, f[VtaEncoder.FMemType]),
                    SramBase = (int)Get(bits, f[VtaEncoder.FSram]),
                    DramBase = Get(bits, f[VtaEncoder.FDram]),
                    YSize = (int)Get(bits, f[VtaEncoder.FYSize]),
                    XSize = (int)Get(bits, f[VtaEncoder.FXSize]),
                    XStride = (int)Get(bits, f[VtaEncoder.FXStride]),
                    YPad0 = (int)Get(bits, f[VtaEncoder.FYPad0]),
                    YPad1 = (int)Get(bits, f[VtaEncoder.FYPad1]),
                    XPad0 = (int)Get(bits, f[VtaEncoder.FXPad0]),
                    XPad1 = (int)Get(bits, f[VtaEncoder.FXPad1]),
                };
            }

            case VtaOpcode.Gemm:
            {
                var f = Layout.GemmFields;
                return Loop(new VtaGemm
                {
                    ResetReg = Get(bits, f[VtaEncoder.FReset]) != 0,
                    WgtFactorOut = (int)Get(bits, f[VtaEncoder.FWgtOut]),
                    WgtFactorIn = (int)Get(bits, f[VtaEncoder.FWgtIn]),
                }, bits, f);
            }

            case VtaOpcode.Alu:
            {
                var f = Layout.AluFields;
                var immField = f[VtaEncoder.FImm];
                var raw = Get(bits, immField);
                var shift = 64 - immField.Width;
                return Loop(new VtaAlu
                {
                    AluOpcode = (VtaAluOpcode)Get(bits, f[VtaEncoder.FAluOp]),
                    UseImm = Get(bits, f[VtaEncoder.FUseImm]) != 0,
                    Imm = (int)((raw << shift) >> shift), // sign-extend
                }, bits, f);
            }

            case VtaOpcode.Finish:
                return new VtaFinish { Deps = Deps(bits, Layout.FinishFields) };

            default:
                throw new VtaDecodingException(
                    $"invalid opcode {opcode} (LOAD 0, STORE 1, GEMM 2, FINISH 3, ALU 4) in instruction {Hex(bits)}");
        }
    }

    /// <summary>A whole stream (a multiple of 16 bytes); an undecodable instruction is reported with its index.</summary>
    public ImmutableArray<VtaInstruction> DecodeProgram(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length % VtaEncoder.InstructionBytes != 0)
        {
            throw new VtaDecodingException(
                $"an instruction stream is a multiple of {VtaEncoder.InstructionBytes} bytes; this one has {bytes.Length}");
        }

        var count = bytes.Length / VtaEncoder.InstructionBytes;
        var result = ImmutableArray.CreateBuilder<VtaInstruction>(count);
        for (var i = 0; i < count; i++)
        {
            try
            {
                result.Add(Decode(bytes.Slice(i * VtaEncoder.InstructionBytes, VtaEncoder.InstructionBytes)));
            }
            catch (VtaDecodingException e)
            {
                throw new VtaDecodingException($"instruction #{i}: {e.Message}", e) { InstructionIndex = i };
            }
        }

        return result.MoveToImmutable();
    }

    public VtaUop DecodeUop(uint word)
    {
        var f = Layout.UopFields;
        return new VtaUop((int)Get(word, f[VtaEncoder.FUopDst]), (int)Get(word, f[VtaEncoder.FUopSrc]), (int)Get(word, f[VtaEncoder.FUopWgt]));
    }

    /// <summary>Micro-ops from their DRAM form (4 bytes each, little-endian).</summary>
    public ImmutableArray<VtaUop> DecodeUops(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length % VtaEncoder.UopBytes != 0)
        {
            throw new VtaDecodingException($"micro-ops are {VtaEncoder.UopBytes} bytes each; {bytes.Length} bytes given");
        }

        var result = ImmutableArray.CreateBuilder<VtaUop>(bytes.Length / VtaEncoder.UopBytes);
        for (var i = 0; i < bytes.Length; i += VtaEncoder.UopBytes)
        {
            result.Add(DecodeUop(BinaryPrimitives.ReadUInt32LittleEndian(bytes[i..])));
        }

        return result.MoveToImmutable();
    }

    /// <summary>The hi and lo words as 16 hex digits each: <c>0000000500050001 0000001000000000</c>.</summary>
    public static string Hex(UInt128 bits) =>
        ((ulong)(bits >> 64)).ToString("x16", CultureInfo.InvariantCulture) + " " + ((ulong)bits).ToString("x16", CultureInfo.InvariantCulture);

    // The header and loop fields GEMM and ALU share, as VtaEncoder.Loop writes them.
    private static VtaLoopInstruction Loop(VtaLoopInstruction instruction, UInt128 bits, ImmutableArray<VtaField> f) => instruction with
    {
        Deps = Deps(bits, f),
        UopBegin = (int)Get(bits, f[VtaEncoder.FUopBgn]),
        UopEnd = (int)Get(bits, f[VtaEncoder.FUopEnd]),
        IterOut = (int)Get(bits, f[VtaEncoder.FIterOut]),
        IterIn = (int)Get(bits, f[VtaEncoder.FIterIn]),
        DstFactorOut = (int)Get(bits, f[VtaEncoder.FDstOut]),
        DstFactorIn = (int)Get(bits, f[VtaEncoder.FDstIn]),
        SrcFactorOut = (int)Get(bits, f[VtaEncoder.FSrcOut]),
        SrcFactorIn = (int)Get(bits, f[VtaEncoder.FSrcIn]),
    };

    private static long Get(UInt128 bits, VtaField field) => (long)(ulong)((bits >> field.Offset) & (ulong)field.MaxValue);

    private static VtaDeps Deps(UInt128 bits, ImmutableArray<VtaField> f) => new(
        Get(bits, f[VtaEncoder.FPopPrev]) != 0,
        Get(bits, f[VtaEncoder.FPopNext]) != 0,
        Get(bits, f[VtaEncoder.FPushPrev]) != 0,
        Get(bits, f[VtaEncoder.FPushNext]) != 0);
}
