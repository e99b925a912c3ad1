using System.Buffers.Binary;
using System.Collections.Immutable;

namespace Covenant.Runtime.Vta;

/// <summary>
/// A field value that does not fit its bit field. The emitter must never produce one, so this is a
/// compiler bug, not a user error: it names the instruction, the field, the value and the width.
/// </summary>
public sealed class VtaEncodingException : Exception
{
    public VtaEncodingException()
    {
    }

    public VtaEncodingException(string message)
        : base(message)
    {
    }

    public VtaEncodingException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>The offending field (<c>uop_end</c>, <c>dst_factor_in</c>...).</summary>
    public string? Field { get; init; }

    public long Value { get; init; }

    /// <summary>The field's width in bits.</summary>
    public int Width { get; init; }

    /// <summary>The position in the stream, when a whole program was being encoded.</summary>
    public int? InstructionIndex { get; init; }
}

/// <summary>
/// Encodes instructions to their 128-bit form (16 bytes, little-endian: bit 0 is the least significant bit
/// of the first 64-bit word) and micro-ops to 32 bits, with the field widths of one <see cref="VtaConfig"/>.
/// Every value is checked against its field; unused bits are always zero. Thread-safe (immutable).
/// </summary>
public sealed class VtaEncoder
{
    public const int InstructionBytes = 16;
    public const int UopBytes = 4;

    // Field positions in the layout's lists (VtaLayout declares them in this order).
    internal const int FOpcode = 0, FPopPrev = 1, FPopNext = 2, FPushPrev = 3, FPushNext = 4;
    internal const int FMemType = 5, FSram = 6, FDram = 7, FYSize = 8, FXSize = 9, FXStride = 10, FYPad0 = 11, FYPad1 = 12, FXPad0 = 13, FXPad1 = 14;
    internal const int FReset = 5, FUopBgn = 6, FUopEnd = 7, FIterOut = 8, FIterIn = 9, FDstOut = 10, FDstIn = 11, FSrcOut = 12, FSrcIn = 13;
    internal const int FWgtOut = 14, FWgtIn = 15, FAluOp = 14, FUseImm = 15, FImm = 16;
    internal const int FUopDst = 0, FUopSrc = 1, FUopWgt = 2;

    public VtaEncoder(VtaConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        var errors = config.Validate().Where(d => d.IsError).ToList();
        if (errors.Count > 0)
        {
            throw new ArgumentException(
                $"VTA configuration '{config.Name}' is not usable: {string.Join("; ", errors.Select(e => e.Message))}", nameof(config));
        }

        Config = config;
        Layout = new VtaLayout(config);
    }

    public VtaConfig Config { get; }

    public VtaLayout Layout { get; }

    /// <summary>The instruction as a 128-bit number; throws <see cref="VtaEncodingException"/> when a field does not fit.</summary>
    public UInt128 EncodeBits(VtaInstruction instruction)
    {
        ArgumentNullException.ThrowIfNull(instruction);
        var w = new Writer(instruction);
        switch (instruction)
        {
            case VtaMemoryInstruction m:
            {
                var f = Layout.MemoryFields;
                Header(ref w, f, instruction);
                w.Put(f[FMemType], (long)m.MemoryType);
                w.Put(f[FSram], m.SramBase);
                w.Put(f[FDram], m.DramBase);
                w.Put(f[FYSize], m.YSize);
                w.Put(f[FXSize], m.XSize);
                w.Put(f[FXStride], m.XStride);
                w.Put(f[FYPad0], m.YPad0);
                w.Put(f[FYPad1], m.YPad1);
                w.Put(f[FXPad0], m.XPad0);
                w.Put(f[FXPad1], m.XPad1);
                break;
            }

            case VtaGemm g:
            {
                var f = Layout.GemmFields;
                Header(ref w, f, instruction);
                w.Put(f[FReset], g.ResetReg ? 1 : 0);
                Loop(ref w, f, g);
                w.Put(f[FWgtOut], g.WgtFactorOut);
                w.Put(f[FWgtIn], g.WgtFactorIn);
                break;
            }

            case VtaAlu a:
            {
                // reset_reg is ignored by the ALU and written as 0.
                var f = Layout.AluFields;
                Header(ref w, f, instruction);
                Loop(ref w, f, a);
                w.Put(f[FAluOp], (long)a.AluOpcode);
                w.Put(f[FUseImm], a.UseImm ? 1 : 0);
                w.PutSigned(f[FImm], a.Imm);
                break;
            }

            case VtaFinish:
                Header(ref w, Layout.FinishFields, instruction);
                break;

            default:
                throw new ArgumentException($"unknown VTA instruction type {instruction.GetType().Name}", nameof(instruction));
        }

        return w.Bits;
    }

    /// <summary>The two little-endian 64-bit words: <c>Lo</c> holds bits 0–63, <c>Hi</c> bits 64–127.</summary>
    public (ulong Lo, ulong Hi) EncodeWords(VtaInstruction instruction)
    {
        var bits = EncodeBits(instruction);
        return ((ulong)bits, (ulong)(bits >> 64));
    }

    /// <summary>Writes the 16 bytes of <paramref name="instruction"/> into <paramref name="destination"/>.</summary>
    public void Encode(VtaInstruction instruction, Span<byte> destination)
    {
        if (destination.Length < InstructionBytes)
        {
            throw new ArgumentException($"an instruction needs {InstructionBytes} bytes, the destination has {destination.Length}", nameof(destination));
        }

        var (lo, hi) = EncodeWords(instruction);
        BinaryPrimitives.WriteUInt64LittleEndian(destination, lo);
        BinaryPrimitives.WriteUInt64LittleEndian(destination[8..], hi);
    }

    public byte[] Encode(VtaInstruction instruction)
    {
        var bytes = new byte[InstructionBytes];
        Encode(instruction, bytes);
        return bytes;
    }

    /// <summary>A whole stream, 16 bytes per instruction; an unencodable instruction is reported with its index.</summary>
    public byte[] EncodeProgram(IReadOnlyList<VtaInstruction> program)
    {
        ArgumentNullException.ThrowIfNull(program);
        var bytes = new byte[program.Count * InstructionBytes];
        for (var i = 0; i < program.Count; i++)
        {
            try
            {
                Encode(program[i], bytes.AsSpan(i * InstructionBytes));
            }
            catch (VtaEncodingException e)
            {
                throw new VtaEncodingException($"instruction #{i}: {e.Message}", e)
                {
                    Field = e.Field,
                    Value = e.Value,
                    Width = e.Width,
                    InstructionIndex = i,
                };
            }
        }

        return bytes;
    }

    /// <summary>Checks that every field of <paramref name="instruction"/> fits; throws <see cref="VtaEncodingException"/> otherwise.</summary>
    public void Validate(VtaInstruction instruction) => EncodeBits(instruction);

    /// <summary>A micro-op as the little-endian uint32 the UOP buffer holds.</summary>
    public uint EncodeUop(VtaUop uop)
    {
        var f = Layout.UopFields;
        var w = new Writer(null);
        w.Put(f[FUopDst], uop.Dst, "uop");
        w.Put(f[FUopSrc], uop.Src, "uop");
        w.Put(f[FUopWgt], uop.Wgt, "uop");
        return (uint)w.Bits;
    }

    /// <summary>Micro-ops laid out as DRAM holds them for a LOAD UOP (4 bytes each, little-endian).</summary>
    public byte[] EncodeUops(IReadOnlyList<VtaUop> uops)
    {
        ArgumentNullException.ThrowIfNull(uops);
        var bytes = new byte[uops.Count * UopBytes];
        for (var i = 0; i < uops.Count; i++)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(i * UopBytes), EncodeUop(uops[i]));
        }

        return bytes;
    }

    private static void Header(ref Writer w, ImmutableArray<VtaField> f, VtaInstruction instruction)
    {
        w.Put(f[FOpcode], (long)instruction.Opcode);
        w.Put(f[FPopPrev], instruction.Deps.PopPrev ? 1 : 0);
        w.Put(f[FPopNext], instruction.Deps.PopNext ? 1 : 0);
        w.Put(f[FPushPrev], instruction.Deps.PushPrev ? 1 : 0);
        w.Put(f[FPushNext], instruction.Deps.PushNext ? 1 : 0);
    }

    private static void Loop(ref Writer w, ImmutableArray<VtaField> f, VtaLoopInstruction l)
    {
        w.Put(f[FUopBgn], l.UopBegin);
        w.Put(f[FUopEnd], l.UopEnd);
        w.Put(f[FIterOut], l.IterOut);
        w.Put(f[FIterIn], l.IterIn);
        w.Put(f[FDstOut], l.DstFactorOut);
        w.Put(f[FDstIn], l.DstFactorIn);
        w.Put(f[FSrcOut], l.SrcFactorOut);
        w.Put(f[FSrcIn], l.SrcFactorIn);
    }

    /// <summary>Accumulates fields into 128 bits, rejecting values that do not fit.</summary>
    private struct Writer(VtaInstruction? instruction)
    {
        public UInt128 Bits;

        public void Put(VtaField field, long value, string? what = null)
        {
            if (value < 0 || value > field.MaxValue)
            {
                throw Reject(field, value, $"[0, {field.MaxValue}]", what);
            }

            Bits |= (UInt128)(ulong)value << field.Offset;
        }

        public void PutSigned(VtaField field, long value)
        {
            var min = -(1L << (field.Width - 1));
            var max = (1L << (field.Width - 1)) - 1;
            if (value < min || value > max)
            {
                throw Reject(field, value, $"[{min}, {max}]", null);
            }

            Bits |= (UInt128)((ulong)value & (ulong)field.MaxValue) << field.Offset;
        }

        private readonly VtaEncodingException Reject(VtaField field, long value, string range, string? what)
        {
            var subject = what ?? (instruction is null ? "value" : VtaDisassembler.Format(instruction));
            return new VtaEncodingException(
                $"{subject}: field {field.Name} = {value} does not fit its {field.Width} bits {range}; the emitter must not produce this")
            {
                Field = field.Name,
                Value = value,
                Width = field.Width,
            };
        }
    }
}
