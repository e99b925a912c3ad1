using System.Globalization;
using System.Text;

namespace Covenant.Runtime.Vta;

/// <summary>
/// Readable listings of VTA streams, one line per instruction, e.g.
/// <c>LOAD INP sram=0 dram=0x200 y=4 x=2 stride=2 pad=(1,1,1,1) [push_next]</c>.
/// Loop factors print as <c>(out,in)</c>; pads as <c>(y0,y1,x0,x1)</c> and only when one is set; dram is in
/// elements of the memory type, in hex.
/// </summary>
public static class VtaDisassembler
{
    public static string Format(VtaInstruction instruction)
    {
        ArgumentNullException.ThrowIfNull(instruction);
        var text = new StringBuilder();
        switch (instruction)
        {
            case VtaMemoryInstruction m:
                text.Append(m is VtaLoad ? "LOAD " : "STORE ").Append(Name(m.MemoryType));
                if (m.IsNop)
                {
                    text.Append(" nop");
                }
                else
                {
                    text.Append(Inv($" sram={m.SramBase} dram=0x{m.DramBase:x} y={m.YSize} x={m.XSize} stride={m.XStride}"));
                    if (m.HasPadding)
                    {
                        text.Append(Inv($" pad=({m.YPad0},{m.YPad1},{m.XPad0},{m.XPad1})"));
                    }
                }

                break;
            case VtaGemm g:
                text.Append(g.ResetReg ? "GEMM reset" : "GEMM");
                Loop(text, g);
                text.Append(Inv($" wgt=({g.WgtFactorOut},{g.WgtFactorIn})"));
                break;
            case VtaAlu a:
                text.Append("ALU ").Append(Name(a.AluOpcode));
                if (a.UseImm)
                {
                    text.Append(Inv($" imm={a.Imm}"));
                }

                Loop(text, a);
                break;
            case VtaFinish:
                text.Append("FINISH");
                break;
            default:
                text.Append(instruction.GetType().Name);
                break;
        }

        if (instruction.Deps.Any)
        {
            text.Append(' ').Append(instruction.Deps.ToString());
        }

        return text.ToString();
    }

    public static string Format(VtaUop uop) => Inv($"uop(dst={uop.Dst} src={uop.Src} wgt={uop.Wgt})");

    /// <summary>
    /// One line per instruction: index, module, text, and (with an encoder) the hi and lo words.
    /// <c>    3  compute  GEMM uop=[0,4) iter=2x2 dst=(0,1) src=(1,0) wgt=(1,2) [pop_prev]</c>
    /// </summary>
    public static string Listing(IReadOnlyList<VtaInstruction> program, VtaEncoder? encoder = null)
    {
        ArgumentNullException.ThrowIfNull(program);
        var text = new StringBuilder();
        for (var i = 0; i < program.Count; i++)
        {
            text.Append(Inv($"{i,6}  {VtaDependencyRules.Name(program[i].Module),-7}  "));
            if (encoder is not null)
            {
                text.Append(VtaDecoder.Hex(encoder.EncodeBits(program[i]))).Append("  ");
            }

            text.Append(Format(program[i])).Append('\n');
        }

        return text.ToString();
    }

    public static string Name(VtaMemoryType type) => type switch
    {
        VtaMemoryType.Uop => "UOP",
        VtaMemoryType.Wgt => "WGT",
        VtaMemoryType.Inp => "INP",
        VtaMemoryType.Acc => "ACC",
        VtaMemoryType.Out => "OUT",
        VtaMemoryType.Acc8Bit => "ACC8",
        _ => Inv($"MEM{(int)type}"),
    };

    public static string Name(VtaAluOpcode op) => op switch
    {
        VtaAluOpcode.Min => "MIN",
        VtaAluOpcode.Max => "MAX",
        VtaAluOpcode.Add => "ADD",
        VtaAluOpcode.Shr => "SHR",
        VtaAluOpcode.Mul => "MUL",
        _ => Inv($"OP{(int)op}"),
    };

    private static void Loop(StringBuilder text, VtaLoopInstruction l) =>
        text.Append(Inv($" uop=[{l.UopBegin},{l.UopEnd}) iter={l.IterOut}x{l.IterIn} dst=({l.DstFactorOut},{l.DstFactorIn}) src=({l.SrcFactorOut},{l.SrcFactorIn})"));

    private static string Inv(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}
