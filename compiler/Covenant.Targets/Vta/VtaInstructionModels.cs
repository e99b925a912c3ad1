using System.Collections.Immutable;
using Covenant.Codelets;
using Covenant.Codelets.Syntax;
using Covenant.Targets.Conformance;

namespace Covenant.Targets.Vta;

/// <summary>
/// The instructions the VTA target emits, as the VTA ISA defines them (shared/reference/vta-isa.md §4; the HLS design):
/// the GEMM <c>ACC[b][o] += sum_i INP[b][i] * WGT[o][i]</c> wrapping in int32, the GEMM with <c>reset_reg</c> that zeroes
/// accumulator rows, and the ALU's MIN, MAX, ADD and SHR of an accumulator row with another row or a 16-bit immediate.
/// Layouts are VTA's: an input row is BATCH x BLOCK_IN, a weight block BLOCK_OUT x BLOCK_IN ([out][in]), an accumulator
/// row BATCH x BLOCK_OUT.
/// </summary>
internal static class VtaInstructionModels
{
    private const string B = "B";
    private const string O = "O";
    private const string I = "I";

    private static readonly ImmutableArray<ModelAxis> GemmAxes =
        [ModelAxis.Any(B, "BATCH"), ModelAxis.Any(O, "BLOCK_OUT"), ModelAxis.Any(I, "BLOCK_IN")];

    private static readonly ImmutableArray<ModelAxis> RowAxes = [ModelAxis.Any(B, "BATCH"), ModelAxis.Any(O, "BLOCK_OUT")];

    public static InstructionModel Gemm { get; } = new(
        "VTA's GEMM", "i8 x i8 -> i32, wrapping", "{acc}[{B}, {O}] += {inp}[{B}, {I}] * {wgt}[{O}, {I}]",
        GemmAxes,
        [ModelOperand.Of("inp", ElementType.I8, B, I), ModelOperand.Of("wgt", ElementType.I8, O, I)],
        ModelOperand.Of("acc", ElementType.I32, B, O),
        [],
        state =>
        {
            var (batch, blockOut, blockIn) = (state.Extent(B), state.Extent(O), state.Extent(I));
            var (inp, wgt, acc) = (state.Ints("inp"), state.Ints("wgt"), state.Ints("acc"));
            for (var b = 0; b < batch; b++)
            {
                for (var o = 0; o < blockOut; o++)
                {
                    var sum = acc[(b * blockOut) + o];
                    for (var i = 0; i < blockIn; i++)
                    {
                        sum = unchecked(sum + (inp[(b * blockIn) + i] * wgt[(o * blockIn) + i]));
                    }

                    acc[(b * blockOut) + o] = sum;
                }
            }
        });

    public static InstructionModel Reset { get; } = new(
        "VTA's GEMM with reset_reg", "i32", "{acc}[{B}, {O}] = 0", RowAxes, [], ModelOperand.Of("acc", ElementType.I32, B, O), [],
        state => Array.Clear(state.Ints("acc")));

    /// <summary>The ALU ops on two accumulator rows (<c>use_imm</c> clear).</summary>
    public static ImmutableArray<InstructionModel> AluWithRow { get; } =
    [
        Alu("MIN", "min({dst}[{B}, {O}], {src}[{B}, {O}])", (x, y) => Math.Min(x, y), StatementForms.AssignsCall("min")),
        Alu("MAX", "max({dst}[{B}, {O}], {src}[{B}, {O}])", (x, y) => Math.Max(x, y), StatementForms.AssignsCall("max")),
        Alu("ADD", "{dst}[{B}, {O}] + {src}[{B}, {O}]", (x, y) => unchecked(x + y), StatementForms.AssignsBinary(BinaryOp.Add)),
        Alu("SHR", "{dst}[{B}, {O}] >> {src}[{B}, {O}]", (x, y) => x >> y, StatementForms.AssignsBinary(BinaryOp.ShiftRight)),
    ];

    /// <summary>The ALU ops with an immediate (<c>use_imm</c> set): a signed 16-bit field; shifts by 0 to 31 only.</summary>
    public static ImmutableArray<InstructionModel> AluWithImmediate { get; } =
    [
        Alu("MIN", "min({dst}[{B}, {O}], {imm})", (x, y) => Math.Min(x, y), StatementForms.AssignsCall("min"), immediate: true),
        Alu("MAX", "max({dst}[{B}, {O}], {imm})", (x, y) => Math.Max(x, y), StatementForms.AssignsCall("max"), immediate: true),
        Alu("ADD", "{dst}[{B}, {O}] + {imm}", (x, y) => unchecked(x + y), StatementForms.AssignsBinary(BinaryOp.Add), immediate: true),
        Alu("SHR", "{dst}[{B}, {O}] >> {imm}", (x, y) => x >> y, StatementForms.AssignsBinary(BinaryOp.ShiftRight), immediate: true),
    ];

    private static InstructionModel Alu(string op, string value, Func<int, int, int> apply, Func<StatementSyntax, bool> claims, bool immediate = false)
    {
        // A register shift amount is portable only in [0, 31] (negative amounts shift left in some implementations).
        var shift = op == "SHR";
        var src = new ModelOperand("src", ElementType.I32, [B, O], shift ? new ValueDomain(0, 31) : ValueDomain.Of(ElementType.I32));
        ImmutableArray<ModelImmediate> immediates = immediate ? [new ModelImmediate("imm", ElementType.I32, shift ? 0 : short.MinValue, shift ? 31 : short.MaxValue)] : [];
        return new InstructionModel(
            $"VTA's ALU {op}{(immediate ? " with an immediate" : "")}",
            op == "ADD" ? "i32, wrapping" : "i32",
            "{dst}[{B}, {O}] = " + value,
            RowAxes,
            immediate ? [] : [src],
            ModelOperand.Of("dst", ElementType.I32, B, O),
            immediates,
            state =>
            {
                var dst = state.Ints("dst");
                var row = immediate ? null : state.Ints("src");
                var imm = immediate ? (int)state.Immediate("imm") : 0;
                for (var l = 0; l < dst.Length; l++)
                {
                    dst[l] = apply(dst[l], row is null ? imm : row[l]);
                }
            })
        {
            Claims = claims,
        };
    }
}
