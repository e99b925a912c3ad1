using System.Buffers.Binary;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using static Covenant.Runtime.Vta.VtaSimulatorDiagnostics;

namespace Covenant.Runtime.Vta;

/// <summary>The functional side of a run: what each instruction does to the SRAMs and DRAM (vta-isa.md §4).</summary>
internal sealed partial class VtaExecution
{
    /// <summary>DRAM race tracking works on 16-byte chunks (the size of an INP/OUT element in the default configuration).</summary>
    private const int DramChunkShift = 4;

    private int batch;
    private int blockIn;
    private int blockOut;
    private int lanes;
    private bool vectorGemm;
    private bool pairGemm;
    private bool checkRaces;

    // Per DRAM chunk of the window STOREs can write: the store-module sequence number of the last write, and the
    // load/compute sequence numbers of the last reads. Bytes outside the window are never written, so never race.
    private long dramWindow;
    private int[]? dramStore;
    private int[]? dramLoadRead;
    private int[]? dramComputeRead;

    private void InitKernels()
    {
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

    /// <summary>Sizes the DRAM race tracking to the bytes the stream's STOREs can write (known before the run).</summary>
    private void EnableDramTracking()
    {
        long low = long.MaxValue, high = long.MinValue;
        foreach (var store in program.OfType<VtaStore>().Where(s => !s.IsNop && s.YSize > 0))
        {
            var e = cfg.OutElementBytes;
            var first = (store.DramBase * e) - dram.PhysicalBase;
            low = Math.Min(low, first);
            high = Math.Max(high, first + ((store.YSize - 1L) * store.XStride * e) + ((long)store.XSize * e));
        }

        low = Math.Max(low, 0);
        high = Math.Min(high, dram.Length);
        if (high <= low)
        {
            return;
        }

        dramWindow = low >> DramChunkShift;
        var chunks = (int)(((high - 1) >> DramChunkShift) - dramWindow + 1);
        dramStore = new int[chunks];
        dramLoadRead = new int[chunks];
        dramComputeRead = new int[chunks];
    }

    /// <summary>The tracked chunks [first, last] that bytes [offset, offset + length) of the image touch; empty when none is tracked.</summary>
    private (int First, int Last) Chunks(long offset, long length)
    {
        var first = Math.Max((offset >> DramChunkShift) - dramWindow, 0);
        var last = Math.Min(((offset + length - 1) >> DramChunkShift) - dramWindow, dramStore!.Length - 1);
        return length <= 0 || first > last ? (0, -1) : ((int)first, (int)last);
    }

    /// <summary>Applies one instruction's effect and returns its cost in cycles.</summary>
    private long Execute(int m, VtaInstruction instruction, int seq)
    {
        switch (instruction)
        {
            case VtaLoad load:
                if (load.IsNop)
                {
                    return VtaTimingModel.NopCycles;
                }

                ExecuteLoad(load, m, seq);
                return sim.Timing.LoadCycles(load);

            case VtaStore store:
                if (store.IsNop)
                {
                    return VtaTimingModel.NopCycles;
                }

                ExecuteStore(store, seq);
                return sim.Timing.StoreCycles(store);

            case VtaGemm gemm:
            {
                ExecuteGemm(gemm, seq);
                var cycles = sim.Timing.GemmCycles(gemm);
                gemmCore += cycles;
                gemmUopCycles += sim.Timing.GemmUopCycles(gemm);
                return cycles;
            }

            case VtaAlu alu:
            {
                ExecuteAlu(alu, seq);
                var cycles = sim.Timing.AluCycles(alu);
                aluBusy += cycles;
                return cycles;
            }

            default:
                return VtaTimingModel.FinishCycles;
        }
    }

    // ---------------------------------------------------------------- LOAD

    // Hot loops run once per instruction: compile them optimized at once rather than through tiering.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void ExecuteLoad(VtaLoad load, int m, int seq)
    {
        var type = load.MemoryType;
        var e = cfg.ElementBytes(type);
        var depth = cfg.Depth(type);
        long xt = load.XPad0 + load.XSize + load.XPad1;
        long yt = load.YPad0 + load.YSize + load.YPad1;
        var rows = xt * yt;
        if (load.SramBase + rows > depth)
        {
            throw Fail(SramOutOfRange,
                $"writes {Buffer(type)} rows [{load.SramBase}, {load.SramBase + rows}) ({yt} rows of {xt} elements, padding included), but the {Buffer(type)} buffer has {depth} rows");
        }

        var first = load.DramBase * e;
        var pitch = (long)load.XStride * e;
        var rowBytes = (long)load.XSize * e;
        var last = first + ((load.YSize - 1) * pitch) + rowBytes;
        if (first < dram.PhysicalBase || last > dram.End)
        {
            throw Fail(DramOutOfRange,
                $"reads DRAM bytes [0x{first:x}, 0x{last:x}) ({load.YSize} rows of {load.XSize} {e}-byte elements, pitch {pitch} bytes), outside the DRAM image [0x{dram.PhysicalBase:x}, 0x{dram.End:x})");
        }

        loadBytes[(int)type] += rowBytes * load.YSize;
        padded += rows - ((long)load.XSize * load.YSize);
        var offset = first - dram.PhysicalBase;
        if (dramStore is not null)
        {
            for (var y = 0; y < load.YSize; y++)
            {
                TrackDramRead(m, seq, offset + (y * pitch), rowBytes);
            }
        }

        var source = dram.Array;
        var row = load.SramBase;
        for (var yy = 0; yy < yt; yy++)
        {
            var dataRow = yy - load.YPad0;
            var padRow = dataRow < 0 || dataRow >= load.YSize;
            for (var xx = 0; xx < xt; xx++, row++)
            {
                var dataColumn = xx - load.XPad0;
                if (padRow || dataColumn < 0 || dataColumn >= load.XSize)
                {
                    WriteElement(type, row, default);
                }
                else
                {
                    WriteElement(type, row, source.AsSpan((int)(offset + (dataRow * pitch) + ((long)dataColumn * e)), e));
                }

                TrackSramWrite(type, row, seq);
            }
        }
    }

    /// <summary>Writes one SRAM element from its DRAM bytes, or zeros when <paramref name="data"/> is empty (padding).</summary>
    private void WriteElement(VtaMemoryType type, int row, ReadOnlySpan<byte> data)
    {
        var zero = data.IsEmpty;
        switch (type)
        {
            case VtaMemoryType.Inp:
            {
                var target = sim.Inp.AsSpan(row * batch * blockIn, batch * blockIn);
                if (zero)
                {
                    target.Clear();
                }
                else
                {
                    MemoryMarshal.Cast<byte, sbyte>(data).CopyTo(target);
                }

                break;
            }

            case VtaMemoryType.Wgt:
            {
                var size = blockOut * blockIn;
                var target = sim.Wgt.AsSpan(row * size, size);
                var transposed = sim.WgtT.AsSpan(row * size, size);
                var pairs = sim.WgtPairs.AsSpan(row * size, size);
                if (zero)
                {
                    target.Clear();
                    transposed.Clear();
                    pairs.Clear();
                    break;
                }

                MemoryMarshal.Cast<byte, sbyte>(data).CopyTo(target);
                for (var c = 0; c < blockOut; c++)
                {
                    for (var k = 0; k < blockIn; k++)
                    {
                        transposed[(k * blockOut) + c] = target[(c * blockIn) + k];
                        pairs[((k / 2) * blockOut * 2) + (c * 2) + (k % 2)] = target[(c * blockIn) + k];
                    }
                }

                break;
            }

            case VtaMemoryType.Uop:
                sim.SetUop(row, zero ? 0u : BinaryPrimitives.ReadUInt32LittleEndian(data));
                break;

            case VtaMemoryType.Acc:
            {
                var target = sim.Acc.AsSpan(row * lanes, lanes);
                for (var l = 0; l < lanes; l++)
                {
                    target[l] = zero ? 0 : BinaryPrimitives.ReadInt32LittleEndian(data[(4 * l)..]);
                }

                sim.AccWriter[row] = VtaSimulator.WriterLoad;
                break;
            }

            default: // ACC_8BIT: one sign-extended int8 per lane
            {
                var target = sim.Acc.AsSpan(row * lanes, lanes);
                for (var l = 0; l < lanes; l++)
                {
                    target[l] = zero ? 0 : unchecked((sbyte)data[l]);
                }

                sim.AccWriter[row] = VtaSimulator.WriterLoad;
                break;
            }
        }
    }

    private void TrackSramWrite(VtaMemoryType type, int row, int seq)
    {
        if (!checkRaces)
        {
            return;
        }

        switch (type)
        {
            case VtaMemoryType.Inp:
                CheckLoadOverwrite(sim.InpReadSeq[row], "INP", row);
                sim.InpWriteSeq[row] = seq;
                break;
            case VtaMemoryType.Wgt:
                CheckLoadOverwrite(sim.WgtReadSeq[row], "WGT", row);
                sim.WgtWriteSeq[row] = seq;
                break;
            case VtaMemoryType.Acc:
            case VtaMemoryType.Acc8Bit:
                CheckAccWrite(row, seq);
                break;
        }
    }

    private void CheckLoadOverwrite(int readBy, string buffer, int row)
    {
        if (readBy > vc[(3 * L) + C])
        {
            var reader = IndexOf(C, readBy);
            Race($"overwrites {buffer} row {row}, which #{reader} ({Listing(reader)}) reads, but no token orders that read before this load (a missing compute→load 'buffer free' token, g2l)");
        }
    }

    /// <summary>A compute-module write of ACC row <paramref name="row"/>: the store module must be known to have read it already.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void CheckAccWrite(int row, int seq)
    {
        var readBy = sim.AccStoreReadSeq[row];
        if (readBy > vc[(3 * C) + S])
        {
            AccWriteRace(row, readBy);
        }

        sim.AccWriteSeq[row] = seq;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void AccWriteRace(int row, int readBy)
    {
        var reader = IndexOf(S, readBy);
        Race($"writes ACC row {row}, which #{reader} ({Listing(reader)}) stores, but no token orders that store before this write (a missing store→compute 'buffer free' token, s2g)");
    }

    // ---------------------------------------------------------------- STORE

    // Hot loops run once per instruction: compile them optimized at once rather than through tiering.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void ExecuteStore(VtaStore store, int seq)
    {
        var e = cfg.OutElementBytes;
        var rows = (long)store.XSize * store.YSize;
        if (store.SramBase + rows > cfg.OutDepth)
        {
            throw Fail(SramOutOfRange,
                $"reads OUT rows [{store.SramBase}, {store.SramBase + rows}), but the OUT buffer has {cfg.OutDepth} rows");
        }

        var first = store.DramBase * e;
        var pitch = (long)store.XStride * e;
        var rowBytes = (long)store.XSize * e;
        var last = first + ((store.YSize - 1) * pitch) + rowBytes;
        if (first < dram.PhysicalBase || last > dram.End)
        {
            throw Fail(DramOutOfRange,
                $"writes DRAM bytes [0x{first:x}, 0x{last:x}) ({store.YSize} rows of {store.XSize} {e}-byte elements, pitch {pitch} bytes), outside the DRAM image [0x{dram.PhysicalBase:x}, 0x{dram.End:x})");
        }

        outBytes += rows * e;
        var offset = first - dram.PhysicalBase;
        if (dramStore is not null)
        {
            for (var y = 0; y < store.YSize; y++)
            {
                TrackDramWrite(seq, offset + (y * pitch), rowBytes);
            }
        }

        var target = dram.Array;
        var acc = sim.Acc;
        var stale = 0;
        var firstStale = -1;
        for (var y = 0; y < store.YSize; y++)
        {
            for (var x = 0; x < store.XSize; x++)
            {
                var row = store.SramBase + (y * store.XSize) + x;
                var writer = sim.AccWriter[row];
                if (writer is not (VtaSimulator.WriterGemm or VtaSimulator.WriterAlu))
                {
                    stale++;
                    firstStale = firstStale < 0 ? row : firstStale;
                }

                if (checkRaces)
                {
                    var writtenBy = sim.AccWriteSeq[row];
                    if (writtenBy > vc[(3 * S) + C])
                    {
                        var writerIndex = IndexOf(C, writtenBy);
                        Race($"stores ACC row {row}, which #{writerIndex} ({Listing(writerIndex)}) writes, but no token orders that write before this store (a missing compute→store 'results ready' token, g2s)");
                    }

                    sim.AccStoreReadSeq[row] = seq;
                }

                var o = (int)(offset + (y * pitch) + ((long)x * e));
                var a = row * lanes;
                for (var l = 0; l < lanes; l++)
                {
                    // Narrowing to int8 truncates (wraps), as the fsim's store does.
                    target[o + l] = unchecked((byte)ScalarSemantics.WrapToI8(acc[a + l]));
                }
            }
        }

        if (stale > 0)
        {
            var what = sim.AccWriter[firstStale] switch
            {
                VtaSimulator.WriterReset => "a reset GEMM",
                VtaSimulator.WriterLoad => "a LOAD ACC",
                _ => "nothing in this run",
            };
            Report(StaleOutRow, hardware, current,
                $"{stale} of the {rows} stored rows were not last written by a non-reset GEMM or an ALU op (first: ACC row {firstStale}, last written by {what}); on hardware STORE reads the OUT buffer, which only GEMM and ALU write, so it would store stale data (vta-isa.md §6.1)");
        }
    }

    // ---------------------------------------------------------------- DRAM races

    private void TrackDramRead(int m, int seq, long offset, long length)
    {
        var known = vc[(3 * m) + S];
        var reads = m == L ? dramLoadRead! : dramComputeRead!;
        var (firstChunk, lastChunk) = Chunks(offset, length);
        for (var chunk = firstChunk; chunk <= lastChunk; chunk++)
        {
            var writtenBy = dramStore![chunk];
            if (writtenBy > known)
            {
                var writer = IndexOf(S, writtenBy);
                Race($"reads DRAM bytes near 0x{dram.PhysicalBase + ((chunk + dramWindow) << DramChunkShift):x}, which #{writer} ({Listing(writer)}) stores, but no token orders that store before this load");
            }

            reads[chunk] = seq;
        }
    }

    private void TrackDramWrite(int seq, long offset, long length)
    {
        var knownLoad = vc[(3 * S) + L];
        var knownCompute = vc[(3 * S) + C];
        var (firstChunk, lastChunk) = Chunks(offset, length);
        for (var chunk = firstChunk; chunk <= lastChunk; chunk++)
        {
            var (module, readBy) = dramLoadRead![chunk] > knownLoad ? (L, dramLoadRead[chunk])
                : dramComputeRead![chunk] > knownCompute ? (C, dramComputeRead[chunk])
                : (-1, 0);
            if (module >= 0)
            {
                var reader = IndexOf(module, readBy);
                Race($"overwrites DRAM bytes near 0x{dram.PhysicalBase + ((chunk + dramWindow) << DramChunkShift):x}, which #{reader} ({Listing(reader)}) reads, but no token orders that read before this store");
            }

            dramStore![chunk] = seq;
        }
    }

    // ---------------------------------------------------------------- GEMM

    private void ExecuteGemm(VtaGemm gemm, int seq)
    {
        var uops = gemm.UopCount;
        if (uops == 0)
        {
            return;
        }

        CheckUopRange(gemm);
        CheckIndexRange(gemm, sim.UopDst, gemm.DstFactorOut, gemm.DstFactorIn, cfg.AccDepth, "dst", "ACC");
        if (!gemm.ResetReg)
        {
            CheckIndexRange(gemm, sim.UopSrc, gemm.SrcFactorOut, gemm.SrcFactorIn, cfg.InpDepth, "src", "INP");
            CheckIndexRange(gemm, sim.UopWgt, gemm.WgtFactorOut, gemm.WgtFactorIn, cfg.WgtDepth, "wgt", "WGT");
        }

        if (gemm.ResetReg)
        {
            resetCounter += uops;
            ResetLoop(gemm, seq);
        }
        else
        {
            gemmCounter += uops;
            GemmLoop(gemm, seq);
        }
    }

    // Hot loops run once per instruction: compile them optimized at once rather than through tiering.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void ResetLoop(VtaGemm gemm, int seq)
    {
        var acc = sim.Acc;
        var dst = sim.UopDst;
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
                        CheckAccWrite(a, seq);
                    }

                    sim.AccWriter[a] = VtaSimulator.WriterReset;
                    Array.Clear(acc, a * lanes, lanes);
                }
            }
        }
    }

    /// <summary>The hot loop: one 1×BLOCK_IN · BLOCK_IN×BLOCK_OUT product per micro-op, indices precomputed per iteration, no allocation.</summary>
    // Hot loops run once per instruction: compile them optimized at once rather than through tiering.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void GemmLoop(VtaGemm gemm, int seq)
    {
        var uopDst = sim.UopDst;
        var uopSrc = sim.UopSrc;
        var uopWgt = sim.UopWgt;
        var writer = sim.AccWriter;
        ref var accBase = ref MemoryMarshal.GetArrayDataReference(sim.Acc);
        ref var inpBase = ref MemoryMarshal.GetArrayDataReference(sim.Inp);
        ref var wgtBase = ref MemoryMarshal.GetArrayDataReference(sim.WgtT);
        ref var pairBase = ref MemoryMarshal.GetArrayDataReference(sim.WgtPairs);
        var inpRow = batch * blockIn;
        var wgtRow = blockIn * blockOut;
        var knownLoads = vc[(3 * C) + L];
        var knownStores = vc[(3 * C) + S];
        var (inpWrite, inpRead, wgtWrite, wgtRead) = (sim.InpWriteSeq, sim.InpReadSeq, sim.WgtWriteSeq, sim.WgtReadSeq);
        var (accWrite, accStoreRead) = (sim.AccWriteSeq, sim.AccStoreReadSeq);
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
                            GemmReadRace(x, w, knownLoads);
                        }

                        inpRead[x] = seq;
                        wgtRead[w] = seq;
                        if (accStoreRead[a] > knownStores)
                        {
                            AccWriteRace(a, accStoreRead[a]);
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

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void GemmReadRace(int x, int w, int knownLoads)
    {
        var (buffer, row, writtenBy) = sim.InpWriteSeq[x] > knownLoads ? ("INP", x, sim.InpWriteSeq[x]) : ("WGT", w, sim.WgtWriteSeq[w]);
        var writer = IndexOf(L, writtenBy);
        Race($"reads {buffer} row {row}, which #{writer} ({Listing(writer)}) loads, but no token orders that load before this GEMM (a missing load→compute 'data ready' token, l2g)");
    }

    /// <summary>ACC[a] += INP[x] · WGT[w]ᵀ for every batch row, BLOCK_OUT lanes at a time in SIMD registers (wrapping int32).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void MacVector(ref int accBase, ref sbyte inpBase, ref int wgtBase, int accOffset, int inpOffset, int wgtOffset)
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
    private void MacPairs(ref int accBase, ref sbyte inpBase, ref short pairBase, int accOffset, int inpOffset, int wgtOffset)
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
    private void MacScalar(ref int accBase, ref sbyte inpBase, ref int wgtBase, int accOffset, int inpOffset, int wgtOffset)
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

    // ---------------------------------------------------------------- ALU

    // Hot loops run once per instruction: compile them optimized at once rather than through tiering.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void ExecuteAlu(VtaAlu alu, int seq)
    {
        var uops = alu.UopCount;
        if (uops == 0)
        {
            return;
        }

        CheckUopRange(alu);
        CheckIndexRange(alu, sim.UopDst, alu.DstFactorOut, alu.DstFactorIn, cfg.AccDepth, "dst", "ACC");
        if (!alu.UseImm)
        {
            CheckIndexRange(alu, sim.UopSrc, alu.SrcFactorOut, alu.SrcFactorIn, cfg.AccDepth, "src", "ACC");
        }

        aluCounter += uops;
        var acc = sim.Acc;
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
                    var d = sim.UopDst[u] + dstBase;
                    var s = sim.UopSrc[u] + srcBase;
                    if ((d == previous1 || d == previous2) && !hazardReported)
                    {
                        hazardReported = true;
                        Hazard(u, i, j, d, d == previous1 ? 1 : 2);
                    }

                    previous2 = previous1;
                    previous1 = d;
                    if (checkRaces)
                    {
                        CheckAccWrite(d, seq);
                    }

                    sim.AccWriter[d] = VtaSimulator.WriterAlu;
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

    private void AluVector(VtaAluOpcode op, Span<int> dst, ReadOnlySpan<int> src, int u, int i, int j)
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
    private void ShiftAmount(int amount, int u, int i, int j, int lane)
    {
        if (amount is <= -32 or >= 32)
        {
            throw Fail(ShiftOutOfRange, $"uop #{u} at i={i}, j={j} shifts lane {lane} by {amount}: shifts of 32 bits or more are undefined");
        }

        Report(NotPortable, hardware, current,
            $"uop #{u} at i={i}, j={j} shifts lane {lane} by {amount}, which only the fsim and Chisel treat as a left shift (the Xilinx HLS design shifts right by {amount & 31}); keep SHR amounts in [0, 31]");
    }

    // ---------------------------------------------------------------- shared checks

    private void CheckUopRange(VtaLoopInstruction loop)
    {
        if (loop.UopEnd > cfg.UopDepth)
        {
            throw Fail(SramOutOfRange, $"the micro-op range [{loop.UopBegin}, {loop.UopEnd}) reaches beyond the UOP buffer's {cfg.UopDepth} entries");
        }
    }

    /// <summary>
    /// Every index a loop computes is uop.field + i·out + j·in with non-negative factors, so the largest is reached
    /// at the last iteration by the uop with the largest field: one check per instruction instead of one per uop.
    /// </summary>
    private void CheckIndexRange(VtaLoopInstruction loop, int[] field, int factorOut, int factorIn, int depth, string name, string buffer)
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
            throw Fail(SramOutOfRange,
                $"uop #{argMax} ({VtaDisassembler.Format(sim.Uop(argMax))}) at i={loop.IterOut - 1}, j={loop.IterIn - 1} addresses {buffer} row {max} through its {name} index, but the {buffer} buffer has {depth} rows");
        }
    }

    private void Hazard(int u, int i, int j, int row, int distance)
    {
        Report(PipelineHazard, hardware, current,
            $"uop #{u} at i={i}, j={j} writes ACC row {row}, which the micro-op {distance} before it also wrote; the hardware pipeline reads the old value (no dependence check on ACC). Keep equal dst rows at least 3 micro-ops apart, across loop iterations too (vta-isa.md §6.6)");
    }

    private static string Buffer(VtaMemoryType type) => type == VtaMemoryType.Acc8Bit ? "ACC" : VtaDisassembler.Name(type);
}
