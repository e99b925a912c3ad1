using System.Collections.Immutable;

namespace Covenant.Runtime.Vta;

/// <summary>One bit field of an instruction or micro-op: bits [<see cref="Offset"/>, <see cref="End"/>).</summary>
public sealed record VtaField(string Name, int Offset, int Width)
{
    public int End => Offset + Width;

    /// <summary>The largest value the field holds (unsigned).</summary>
    public long MaxValue => (1L << Width) - 1;

    public override string ToString() => Width == 1 ? $"{Offset} {Name}" : $"{Offset}-{End - 1} {Name}";
}

/// <summary>
/// Where every field of the VTA instructions and micro-op sits for one <see cref="VtaConfig"/>. The fields are
/// those of TVM's <c>hw_spec.h</c> structs, in order, packed the way GCC packs <c>uint64_t</c> bit-fields
/// (and <c>uint32_t</c> for the micro-op): a field that would straddle a word boundary starts the next word.
/// That rule gives the unused gaps of vta-isa.md §2 (bits 58–63 of memory instructions, bit 63 of GEMM/ALU)
/// and derives the layout of any other configuration without code changes.
/// </summary>
public sealed class VtaLayout
{
    // Widths the ISA fixes (vta-isa.md §2); the others derive from the buffer depths.
    public const int OpcodeBits = 3;
    public const int MemoryTypeBits = 3;
    public const int SramBaseBits = 16;
    public const int DramBaseBits = 32;
    public const int SizeBits = 16;
    public const int StrideBits = 16;
    public const int PadBits = 4;
    public const int IterBits = 14;
    public const int AluOpcodeBits = 3;
    public const int ImmBits = 16;

    public VtaLayout(VtaConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        (string, int)[] header = [("opcode", OpcodeBits), ("pop_prev_dep", 1), ("pop_next_dep", 1), ("push_prev_dep", 1), ("push_next_dep", 1)];
        (string, int)[] loop =
        [
            ("reset_reg", 1), ("uop_bgn", config.UopBeginBits), ("uop_end", config.UopEndBits),
            ("iter_out", IterBits), ("iter_in", IterBits),
            ("dst_factor_out", config.DstFactorBits), ("dst_factor_in", config.DstFactorBits),
        ];
        MemoryFields = Pack(64,
        [
            .. header, ("memory_type", MemoryTypeBits), ("sram_base", SramBaseBits), ("dram_base", DramBaseBits),
            ("y_size", SizeBits), ("x_size", SizeBits), ("x_stride", StrideBits),
            ("y_pad_0", PadBits), ("y_pad_1", PadBits), ("x_pad_0", PadBits), ("x_pad_1", PadBits),
        ]);
        GemmFields = Pack(64,
        [
            .. header, .. loop,
            ("src_factor_out", config.GemmSrcFactorBits), ("src_factor_in", config.GemmSrcFactorBits),
            ("wgt_factor_out", config.WgtFactorBits), ("wgt_factor_in", config.WgtFactorBits),
        ]);
        AluFields = Pack(64,
        [
            .. header, .. loop,
            ("src_factor_out", config.AluSrcFactorBits), ("src_factor_in", config.AluSrcFactorBits),
            ("alu_opcode", AluOpcodeBits), ("use_imm", 1), ("imm", ImmBits),
        ]);
        FinishFields = Pack(64, header);
        UopFields = Pack(32, [("dst_idx", config.UopDstBits), ("src_idx", config.UopSrcBits), ("wgt_idx", config.UopWgtBits)]);
    }

    /// <summary>LOAD and STORE.</summary>
    public ImmutableArray<VtaField> MemoryFields { get; }

    public ImmutableArray<VtaField> GemmFields { get; }

    public ImmutableArray<VtaField> AluFields { get; }

    /// <summary>FINISH: the common header only; every other bit is zero.</summary>
    public ImmutableArray<VtaField> FinishFields { get; }

    public ImmutableArray<VtaField> UopFields { get; }

    /// <summary>Bits the memory instruction's fields reach (at most 128 for a usable configuration).</summary>
    public int MemoryBits => MemoryFields[^1].End;

    public int GemmBits => GemmFields[^1].End;

    public int AluBits => AluFields[^1].End;

    /// <summary>Bits the micro-op's fields reach (at most 32 for a usable configuration).</summary>
    public int UopBits => UopFields[^1].End;

    /// <summary>The fields of an instruction with this opcode.</summary>
    public ImmutableArray<VtaField> FieldsOf(VtaOpcode opcode) => opcode switch
    {
        VtaOpcode.Load or VtaOpcode.Store => MemoryFields,
        VtaOpcode.Gemm => GemmFields,
        VtaOpcode.Alu => AluFields,
        VtaOpcode.Finish => FinishFields,
        _ => throw new ArgumentOutOfRangeException(nameof(opcode), opcode, "not a VTA opcode"),
    };

    /// <summary>The field called <paramref name="name"/> in <paramref name="fields"/>.</summary>
    public static VtaField Find(ImmutableArray<VtaField> fields, string name) =>
        fields.FirstOrDefault(f => f.Name == name) ?? throw new ArgumentException($"no field '{name}'", nameof(name));

    private static ImmutableArray<VtaField> Pack(int wordBits, (string Name, int Width)[] fields)
    {
        var result = ImmutableArray.CreateBuilder<VtaField>(fields.Length);
        var offset = 0;
        foreach (var (name, width) in fields)
        {
            // A bit-field never straddles its storage unit: move to the next word when it would.
            if ((offset % wordBits) + width > wordBits)
            {
                offset = ((offset / wordBits) + 1) * wordBits;
            }

            result.Add(new VtaField(name, offset, width));
            offset += width;
        }

        return result.MoveToImmutable();
    }
}
