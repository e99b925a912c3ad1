using System.Buffers.Binary;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using static Covenant.Runtime.Vta.VtaExecution;
using static Covenant.Runtime.Vta.VtaSimulatorDiagnostics;

namespace Covenant.Runtime.Vta;

/// <summary>
/// The compute module's effect (vta-isa.md §4): GEMM (and its reset form) and the ALU over the micro-op loops, in
/// wrapping int32, with SIMD kernels where the CPU has them; checks index ranges and the ACC pipeline hazard.
/// </summary>
internal sealed class VtaComputeUnit
{
    private readonly VtaExecution exec;
    private readonly int batch;
    private readonly int blockIn;
    private readonly int blockOut;
    private readonly int lanes;
    private readonly bool vectorGemm;
    private readonly bool pairGemm;
    private readonly bool checkRaces;

    public VtaComputeUnit(VtaExecution exec)
    {
        this.exec = exec;
        var cfg = exec.Config;
        var options = exec.Options;
        batch = cfg.Batch;
        blockIn = cfg.BlockIn;
        blockOut = cfg.BlockOut;
        lanes = cfg.AccLanes;
        var kernel = options.GemmKernel;
        pairGemm = (kernel is VtaGemmKernel.Auto or VtaGemmKernel.Avx2) &&
                   Avx2.IsSupported && blockOut % Vector256<int>.Count == 0 && blockIn % 2 == 0;
        vectorGemm = !pairGemm && kernel != VtaGemmKernel.Scalar &&
                     Vector.IsHardwareAccelerated && blockOut % Vector<int>.Count == 0;
        checkRaces = options.CheckRaces;
    }

    public long GemmCounter { get; private set; }

    public long ResetCounter { get; private set; }

    public long AluCounter { get; private set; }

    public void ExecuteGemm(VtaGemm gemm, int seq)
    {
        var uops = gemm.UopCount;
        if (uops == 0)
        {
            return;
        }

        CheckUopRange(gemm);
        CheckIndexRange(gemm, exec.Simulator.UopDst, gemm.DstFactorOut, gemm.DstFactorIn, exec.Config.AccDepth, "dst", "ACC");
        if (!gemm.ResetReg)
        {
            CheckIndexRange(gemm, exec.Simulator.UopSrc, gemm.SrcFactorOut, gemm.SrcFactorIn, exec.Config.InpDepth, "src", "INP");
            CheckIndexRange(gemm, exec.Simulator.UopWgt, gemm.WgtFactorOut, gemm.WgtFactorIn, exec.Config.WgtDepth, "wgt", "WGT");
        }

        if (gemm.ResetReg)
        {
            ResetCounter += uops;
            ResetLoop(gemm, seq);
        }
        else
        {
            GemmCounter += uops;
            GemmLoop(gemm, seq);
        }
    }

    // Hot loops run once per instruction: compile them optimized at once rather than through tiering.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void ResetLoop(VtaGemm gemm, int seq)
    {
        var acc = exec.Simulator.Acc;
        var dst = exec.Simulator.UopDst;
        for (var i = 0; i < gemm.IterOut; i++)
        {
            for (var j = 0; j < gemm.IterIn; j++)
            {
                var dstBase = (i * gemm.DstFactorOut) + (j * gemm.DstFactorIn);
                for (var u = gemm.UopBegin; u < gemm.UopEnd; u++)
                {
                    var a = dst[u] + dstBase;
                    if (checkRaces)
                    {
                        exec.Races.CheckAccWrite(a, seq);
                    }

                    exec.Simulator.AccWriter[a] = VtaSimulator.WriterReset;
                    Array.Clear(acc, a * lanes, lanes);
                }
            }
        }
    }

    /// <summary>The hot loop: one 1×BLOCK_IN · BLOCK_IN×BLOCK_OUT product per micro-op, indices precomputed per iteration, no allocation.</summary>
    // Hot loops run once per instruction: compile them optimized at once rather than through tiering.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void GemmLoop(VtaGemm gemm, int seq)
    {
        var uopDst = exec.Simulator.UopDst;
        var uopSrc = exec.Simulator.UopSrc;
        var uopWgt = exec.Simulator.UopWgt;
        var writer = exec.Simulator.AccWriter;
        ref var accBase = ref MemoryMarshal.GetArrayDataReference(exec.Simulator.Acc);
        ref var inpBase = ref MemoryMarshal.GetArrayDataReference(exec.Simulator.Inp);
        ref var wgtBase = ref MemoryMarshal.GetArrayDataReference(exec.Simulator.WgtT);
        ref var pairBase = ref MemoryMarshal.GetArrayDataReference(exec.Simulator.WgtPairs);
        var inpRow = batch * blockIn;
        var wgtRow = blockIn * blockOut;
        var knownLoads = exec.VectorClocks[(3 * C) + L];
        var knownStores = exec.VectorClocks[(3 * C) + S];
        var (inpWrite, inpRead, wgtWrite, wgtRead) = (exec.Simulator.InpWriteSeq, exec.Simulator.InpReadSeq, exec.Simulator.WgtWriteSeq, exec.Simulator.WgtReadSeq);
        var (accWrite, accStoreRead) = (exec.Simulator.AccWriteSeq, exec.Simulator.AccStoreReadSeq);
        int previous1 = -1, previous2 = -1;
        var hazardReported = false;
        for (var i = 0; i < gemm.IterOut; i++)
        {
            for (var j = 0; j < gemm.IterIn; j++)
            {
                var dstBase = (i * gemm.DstFactorOut) + (j * gemm.DstFactorIn);
                var srcBase = (i * gemm.SrcFactorOut) + (j * gemm.SrcFactorIn);
                var wgtBaseIndex = (i * gemm.WgtFactorOut) + (j * gemm.WgtFactorIn);
                for (var u = gemm.UopBegin; u < gemm.UopEnd; u++)
                {
                    var a = uopDst[u] + dstBase;
                    var x = uopSrc[u] + srcBase;
                    var w = uopWgt[u] + wgtBaseIndex;
                    if ((a == previous1 || a == previous2) && !hazardReported)
                    {
                        hazardReported = true;
                        Hazard(u, i, j, a, a == previous1 ? 1 : 2);
                    }

                    previous2 = previous1;
                    previous1 = a;
                    if (checkRaces)
                    {
                        // Inlined by hand: this runs once per micro-op.
                        if (inpWrite[x] > knownLoads || wgtWrite[w] > knownLoads)
                        {
                            exec.Races.GemmReadRace(x, w, knownLoads);
                        }

                        inpRead[x] = seq;
                        wgtRead[w] = seq;
                        if (accStoreRead[a] > knownStores)
                        {
                            exec.Races.AccWriteRace(a, accStoreRead[a]);
                        }

                        accWrite[a] = seq;
                    }

                    writer[a] = VtaSimulator.WriterGemm;
                    if (pairGemm)
                    {
                        MacPairs(ref accBase, ref inpBase, ref pairBase, a * lanes, x * inpRow, w * wgtRow);
                    }
                    else if (vectorGemm)
                    {
                        MacVector(ref accBase, ref inpBase, ref wgtBase, a * lanes, x * inpRow, w * wgtRow);
                    }
                    else
                    {
                        MacScalar(ref accBase, ref inpBase, ref wgtBase, a * lanes, x * inpRow, w * wgtRow);
                    }
                }
            }
        }
    }

    /// <summary>ACC[a] += INP[x] · WGT[w]ᵀ for every batch row, BLOCK_OUT lanes at a time in SIMD registers (wrapping int32).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void MacVector(ref int accBase, ref sbyte inpBase, ref int wgtBase, int accOffset, int inpOffset, int wgtOffset)
    {
        var width = Vector<int>.Count;
        for (var b = 0; b < batch; b++)
        {
            ref var accRow = ref Unsafe.Add(ref accBase, accOffset + (b * blockOut));
            ref var inpRow = ref Unsafe.Add(ref inpBase, inpOffset + (b * blockIn));
            if (blockOut == 2 * width)
            {
                // The default BLOCK_OUT: both halves of the row stay in registers and share each broadcast.
                ref var weights = ref Unsafe.Add(ref wgtBase, wgtOffset);
                var low = Vector.LoadUnsafe(ref accRow);
                var high = Vector.LoadUnsafe(ref accRow, (nuint)width);
                for (var k = 0; k < blockIn; k++)
                {
                    var input = new Vector<int>(Unsafe.Add(ref inpRow, k));
                    ref var column = ref Unsafe.Add(ref weights, k * blockOut);
                    low += input * Vector.LoadUnsafe(ref column);
                    high += input * Vector.LoadUnsafe(ref column, (nuint)width);
                }

                low.StoreUnsafe(ref accRow);
                high.StoreUnsafe(ref accRow, (nuint)width);
                continue;
            }

            for (var c = 0; c < blockOut; c += width)
            {
                ref var column = ref Unsafe.Add(ref wgtBase, wgtOffset + c);
                var sum = Vector.LoadUnsafe(ref accRow, (nuint)c);
                for (var k = 0; k < blockIn; k++)
                {
                    sum += new Vector<int>(Unsafe.Add(ref inpRow, k)) * Vector.LoadUnsafe(ref column, (nuint)(k * blockOut));
                }

                sum.StoreUnsafe(ref accRow, (nuint)c);
            }
        }
    }

    /// <summary>
    /// The AVX2 kernel: <c>vpmaddwd</c> multiplies two consecutive inputs (broadcast as an int16 pair) with the
    /// matching weight pairs of 8 outputs and adds the two products into int32 lanes, exactly (|product| ≤ 2^14).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void MacPairs(ref int accBase, ref sbyte inpBase, ref short pairBase, int accOffset, int inpOffset, int wgtOffset)
    {
        const int width = 8; // Vector256<int>.Count
        for (var b = 0; b < batch; b++)
        {
            ref var accRow = ref Unsafe.Add(ref accBase, accOffset + (b * blockOut));
            ref var inpRow = ref Unsafe.Add(ref inpBase, inpOffset + (b * blockIn));
            ref var weights = ref Unsafe.Add(ref pairBase, wgtOffset);
            if (blockOut == 2 * width)
            {
                var low = Vector256.LoadUnsafe(ref accRow);
                var high = Vector256.LoadUnsafe(ref accRow, width);
                for (var k = 0; k < blockIn; k += 2)
                {
                    var input = Vector256.Create(Pair(Unsafe.Add(ref inpRow, k), Unsafe.Add(ref inpRow, k + 1))).AsInt16();
                    ref var column = ref Unsafe.Add(ref weights, k * blockOut);
                    low += Avx2.MultiplyAddAdjacent(input, Vector256.LoadUnsafe(ref column));
                    high += Avx2.MultiplyAddAdjacent(input, Vector256.LoadUnsafe(ref column, 2 * width));
                }

                low.StoreUnsafe(ref accRow);
                high.StoreUnsafe(ref accRow, width);
                continue;
            }

            for (var c = 0; c < blockOut; c += width)
            {
                var sum = Vector256.LoadUnsafe(ref accRow, (nuint)c);
                for (var k = 0; k < blockIn; k += 2)
                {
                    var input = Vector256.Create(Pair(Unsafe.Add(ref inpRow, k), Unsafe.Add(ref inpRow, k + 1))).AsInt16();
                    sum += Avx2.MultiplyAddAdjacent(input, Vector256.LoadUnsafe(ref Unsafe.Add(ref weights, (k * blockOut) + (2 * c))));
                }

                sum.StoreUnsafe(ref accRow, (nuint)c);
            }
        }
    }

    /// <summary>Two int8 inputs as the int16 pair (low, high) of one int32.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int Pair(sbyte low, sbyte high) => (low & 0xFFFF) + (high << 16);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void MacScalar(ref int accBase, ref sbyte inpBase, ref int wgtBase, int accOffset, int inpOffset, int wgtOffset)
    {
        for (var b = 0; b < batch; b++)
        {
            ref var accRow = ref Unsafe.Add(ref accBase, accOffset + (b * blockOut));
            ref var inpRow = ref Unsafe.Add(ref inpBase, inpOffset + (b * blockIn));
            for (var c = 0; c < blockOut; c++)
            {
                var sum = Unsafe.Add(ref accRow, c);
                for (var k = 0; k < blockIn; k++)
                {
                    sum = unchecked(sum + (Unsafe.Add(ref inpRow, k) * Unsafe.Add(ref wgtBase, wgtOffset + (k * blockOut) + c)));
                }

                Unsafe.Add(ref accRow, c) = sum;
            }
        }
    }

    // Hot loops run once per instruction: compile them optimized at once rather than through tiering.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void ExecuteAlu(VtaAlu alu, int seq)
    {
        var uops = alu.UopCount;
        if (uops == 0)
        {
            return;
        }

        CheckUopRange(alu);
        CheckIndexRange(alu, exec.Simulator.UopDst, alu.DstFactorOut, alu.DstFactorIn, exec.Config.AccDepth, "dst", "ACC");
        // The src index is range-checked even when the immediate replaces ACC[src]: the reference functional simulator
        // computes and checks it before it looks at use_imm, and aborts, so a program that passes here runs there.
        CheckIndexRange(alu, exec.Simulator.UopSrc, alu.SrcFactorOut, alu.SrcFactorIn, exec.Config.AccDepth, "src", "ACC");

        AluCounter += uops;
        var acc = exec.Simulator.Acc;
        var op = alu.AluOpcode;
        var imm = alu.Imm;
        int previous1 = -1, previous2 = -1;
        var hazardReported = false;
        for (var i = 0; i < alu.IterOut; i++)
        {
            for (var j = 0; j < alu.IterIn; j++)
            {
                var dstBase = (i * alu.DstFactorOut) + (j * alu.DstFactorIn);
                var srcBase = (i * alu.SrcFactorOut) + (j * alu.SrcFactorIn);
                for (var u = alu.UopBegin; u < alu.UopEnd; u++)
                {
                    var d = exec.Simulator.UopDst[u] + dstBase;
                    var s = exec.Simulator.UopSrc[u] + srcBase;
                    if ((d == previous1 || d == previous2) && !hazardReported)
                    {
                        hazardReported = true;
                        Hazard(u, i, j, d, d == previous1 ? 1 : 2);
                    }

                    previous2 = previous1;
                    previous1 = d;
                    if (checkRaces)
                    {
                        exec.Races.CheckAccWrite(d, seq);
                    }

                    exec.Simulator.AccWriter[d] = VtaSimulator.WriterAlu;
                    var dst = acc.AsSpan(d * lanes, lanes);
                    if (alu.UseImm)
                    {
                        AluImmediate(op, dst, imm);
                    }
                    else
                    {
                        AluVector(op, dst, acc.AsSpan(s * lanes, lanes), u, i, j);
                    }
                }
            }
        }
    }

    private static void AluImmediate(VtaAluOpcode op, Span<int> dst, int imm)
    {
        switch (op)
        {
            case VtaAluOpcode.Min:
                for (var l = 0; l < dst.Length; l++)
                {
                    dst[l] = Math.Min(dst[l], imm);
                }

                break;
            case VtaAluOpcode.Max:
                for (var l = 0; l < dst.Length; l++)
                {
                    dst[l] = Math.Max(dst[l], imm);
                }

                break;
            case VtaAluOpcode.Add:
                for (var l = 0; l < dst.Length; l++)
                {
                    dst[l] = unchecked(dst[l] + imm);
                }

                break;
            case VtaAluOpcode.Shr:
                // The immediate was checked to be within (-32, 32) before the run.
                for (var l = 0; l < dst.Length; l++)
                {
                    dst[l] = imm >= 0 ? dst[l] >> imm : dst[l] << -imm;
                }

                break;
            default: // MUL
                for (var l = 0; l < dst.Length; l++)
                {
                    dst[l] = unchecked(dst[l] * imm);
                }

                break;
        }
    }

    public void AluVector(VtaAluOpcode op, Span<int> dst, ReadOnlySpan<int> src, int u, int i, int j)
    {
        switch (op)
        {
            case VtaAluOpcode.Min:
                for (var l = 0; l < dst.Length; l++)
                {
                    dst[l] = Math.Min(dst[l], src[l]);
                }

                break;
            case VtaAluOpcode.Max:
                for (var l = 0; l < dst.Length; l++)
                {
                    dst[l] = Math.Max(dst[l], src[l]);
                }

                break;
            case VtaAluOpcode.Add:
                for (var l = 0; l < dst.Length; l++)
                {
                    dst[l] = unchecked(dst[l] + src[l]);
                }

                break;
            case VtaAluOpcode.Shr:
                for (var l = 0; l < dst.Length; l++)
                {
                    var amount = src[l];
                    if (amount is < 0 or > 31)
                    {
                        ShiftAmount(amount, u, i, j, l);
                    }

                    dst[l] = amount >= 0 ? dst[l] >> amount : dst[l] << -amount;
                }

                break;
            default: // MUL
                for (var l = 0; l < dst.Length; l++)
                {
                    dst[l] = unchecked(dst[l] * src[l]);
                }

                break;
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    public void ShiftAmount(int amount, int u, int i, int j, int lane)
    {
        if (amount is <= -32 or >= 32)
        {
            throw exec.Fail(ShiftOutOfRange, $"uop #{u} at i={i}, j={j} shifts lane {lane} by {amount}: shifts of 32 bits or more are undefined");
        }

        exec.Report(NotPortable, exec.Hardware, exec.Current,
            $"uop #{u} at i={i}, j={j} shifts lane {lane} by {amount}, which only the fsim and Chisel treat as a left shift (the Xilinx HLS design shifts right by {amount & 31}); keep SHR amounts in [0, 31]");
    }

    // ---------------------------------------------------------------- shared checks

    public void CheckUopRange(VtaLoopInstruction loop)
    {
        if (loop.UopEnd > exec.Config.UopDepth)
        {
            throw exec.Fail(SramOutOfRange, $"the micro-op range [{loop.UopBegin}, {loop.UopEnd}) reaches beyond the UOP buffer's {exec.Config.UopDepth} entries");
        }
    }

    /// <summary>
    /// Every index a loop computes is uop.field + i·out + j·in with non-negative factors, so the largest is reached
    /// at the last iteration by the uop with the largest field: one check per instruction instead of one per uop.
    /// </summary>
    public void CheckIndexRange(VtaLoopInstruction loop, int[] field, int factorOut, int factorIn, int depth, string name, string buffer)
    {
        var argMax = loop.UopBegin;
        for (var u = loop.UopBegin + 1; u < loop.UopEnd; u++)
        {
            if (field[u] > field[argMax])
            {
                argMax = u;
            }
        }

        var max = field[argMax] + ((long)(loop.IterOut - 1) * factorOut) + ((long)(loop.IterIn - 1) * factorIn);
        if (max >= depth)
        {
            throw exec.Fail(SramOutOfRange,
                $"uop #{argMax} ({VtaDisassembler.Format(exec.Simulator.Uop(argMax))}) at i={loop.IterOut - 1}, j={loop.IterIn - 1} addresses {buffer} row {max} through its {name} index, but the {buffer} buffer has {depth} rows");
        }
    }

    public void Hazard(int u, int i, int j, int row, int distance)
    {
        exec.Report(PipelineHazard, exec.Hardware, exec.Current,
            $"uop #{u} at i={i}, j={j} writes ACC row {row}, which the micro-op {distance} before it also wrote; the hardware pipeline reads the old value (no dependence check on ACC). Keep equal dst rows at least 3 micro-ops apart, across loop iterations too (vta-isa.md §6.6)");
    }
}
