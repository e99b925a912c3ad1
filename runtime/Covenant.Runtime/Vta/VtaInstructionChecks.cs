using Covenant.Core.Diagnostics;
using static Covenant.Runtime.Vta.VtaSimulatorDiagnostics;

namespace Covenant.Runtime.Vta;

/// <summary>
/// The rules each instruction must follow whatever the run does (memory types, sizes, pads, opcodes, shift amounts):
/// broken ones make the stream unrunnable; ones only the functional simulator accepts are portability findings.
/// </summary>
internal sealed class VtaInstructionChecks(VtaExecution exec)
{
    /// <summary>Per-instruction rules that need no execution. False when the instruction cannot be executed at all.</summary>
    public bool Check(VtaInstruction instruction)
    {
        switch (instruction)
        {
            case VtaLoad { IsNop: false } load:
                if (load.MemoryType is not (VtaMemoryType.Uop or VtaMemoryType.Wgt or VtaMemoryType.Inp or VtaMemoryType.Acc or VtaMemoryType.Acc8Bit))
                {
                    exec.Report(InvalidInstruction, Severity.Error, exec.Current,
                        $"LOAD of memory type {VtaDisassembler.Name(load.MemoryType)} is not supported (UOP, WGT, INP, ACC and ACC_8BIT are)");
                    return false;
                }

                if (load.YSize == 0)
                {
                    exec.Report(BadTransfer, Severity.Error, exec.Current, $"y_size is 0 while x_size is {load.XSize}; a NOP has x_size 0");
                    return false;
                }

                if (load.MemoryType == VtaMemoryType.Acc8Bit)
                {
                    exec.Report(NotPortable, exec.Hardware, exec.Current, "ACC_8BIT loads exist only in the functional simulator; load int32 ACC rows instead");
                }

                if (load.MemoryType is VtaMemoryType.Wgt or VtaMemoryType.Uop && load.HasPadding)
                {
                    exec.Report(NotPortable, exec.Hardware, exec.Current,
                        $"the HLS design ignores pads on {VtaDisassembler.Name(load.MemoryType)} loads (it pads INP and ACC only); pad the data in DRAM instead");
                }

                if (load.MemoryType == VtaMemoryType.Uop && load.YSize != 1)
                {
                    exec.Report(NotPortable, exec.Hardware, exec.Current,
                        $"a UOP load is a 1-D copy of x_size micro-ops on hardware (y_size and x_stride are ignored), but y_size is {load.YSize}; use y_size 1");
                }

                return true;

            case VtaStore { IsNop: false } store:
                if (store.MemoryType != VtaMemoryType.Out)
                {
                    exec.Report(BadTransfer, Severity.Error, exec.Current,
                        $"STORE must use memory type OUT, not {VtaDisassembler.Name(store.MemoryType)} (the fsim stops with a fatal error)");
                    return false;
                }

                if (store.HasPadding)
                {
                    exec.Report(BadTransfer, Severity.Error, exec.Current, "STORE cannot pad (the fsim stops with a fatal error); clear the pads");
                    return false;
                }

                if (store.YSize == 0)
                {
                    exec.Report(BadTransfer, Severity.Error, exec.Current, $"y_size is 0 while x_size is {store.XSize}; a NOP has x_size 0");
                    return false;
                }

                return true;

            case VtaAlu alu:
                if (!Enum.IsDefined(alu.AluOpcode))
                {
                    exec.Report(InvalidInstruction, Severity.Error, exec.Current,
                        $"ALU opcode {(int)alu.AluOpcode} does not exist (MIN 0, MAX 1, ADD 2, SHR 3, MUL 4)");
                    return false;
                }

                if (alu.AluOpcode == VtaAluOpcode.Mul)
                {
                    exec.Report(NotPortable, exec.Hardware, exec.Current,
                        "MUL exists only in the functional simulator and the Intel OpenCL design; the Xilinx HLS and Chisel ALUs have no MUL");
                }

                if (alu is { AluOpcode: VtaAluOpcode.Shr, UseImm: true })
                {
                    if (alu.Imm <= -32 || alu.Imm >= 32)
                    {
                        exec.Report(ShiftOutOfRange, Severity.Error, exec.Current, $"SHR by {alu.Imm}: shifts of 32 bits or more are undefined");
                        return false;
                    }

                    if (alu.Imm < 0)
                    {
                        exec.Report(NotPortable, exec.Hardware, exec.Current,
                            $"SHR imm {alu.Imm} shifts left in the fsim and Chisel, but right by {alu.Imm & 31} in the Xilinx HLS design; keep SHR amounts in [0, 31]");
                    }
                }

                return true;

            default:
                return true;
        }
    }
}
