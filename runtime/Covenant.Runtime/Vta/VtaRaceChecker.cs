using System.Runtime.CompilerServices;
using static Covenant.Runtime.Vta.VtaExecution;
using static Covenant.Runtime.Vta.VtaSimulatorDiagnostics;

namespace Covenant.Runtime.Vta;

/// <summary>
/// The data-race checks of a run (<see cref="VtaSimulatorOptions.CheckRaces"/>): every SRAM row and tracked DRAM chunk
/// remembers the sequence numbers of its last writer and readers, and an access races when <see cref="VtaExecution"/>'s
/// vector clocks do not show the other side complete — no chain of tokens orders the two.
/// </summary>
internal sealed class VtaRaceChecker(VtaExecution exec)
{
    /// <summary>DRAM race tracking works on 16-byte chunks (the size of an INP/OUT element in the default configuration).</summary>
    private const int DramChunkShift = 4;

    private readonly VtaExecution exec = exec;
    private readonly bool checkRaces = exec.Options.CheckRaces;

    // Per DRAM chunk of the window STOREs can write: the store-module sequence number of the last write, and the
    // load/compute sequence numbers of the last reads. Bytes outside the window are never written, so never race.
    private long dramWindow;
    private int[]? dramStore;
    private int[]? dramLoadRead;
    private int[]? dramComputeRead;

    /// <summary>Whether any DRAM bytes are tracked (STOREs write some).</summary>
    public bool TracksDram => dramStore is not null;

    /// <summary>Sizes the DRAM race tracking to the bytes the stream's STOREs can write (known before the run).</summary>
    public void EnableDramTracking()
    {
        long low = long.MaxValue, high = long.MinValue;
        foreach (var store in exec.Program.OfType<VtaStore>().Where(s => !s.IsNop && s.YSize > 0))
        {
            var e = exec.Config.OutElementBytes;
            var first = (store.DramBase * e) - exec.Dram.PhysicalBase;
            low = Math.Min(low, first);
            high = Math.Max(high, first + ((store.YSize - 1L) * store.XStride * e) + ((long)store.XSize * e));
        }

        low = Math.Max(low, 0);
        high = Math.Min(high, exec.Dram.Length);
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

    public void TrackSramWrite(VtaMemoryType type, int row, int seq)
    {
        if (!checkRaces)
        {
            return;
        }

        switch (type)
        {
            case VtaMemoryType.Inp:
                CheckLoadOverwrite(exec.Simulator.InpReadSeq[row], "INP", row);
                exec.Simulator.InpWriteSeq[row] = seq;
                break;
            case VtaMemoryType.Wgt:
                CheckLoadOverwrite(exec.Simulator.WgtReadSeq[row], "WGT", row);
                exec.Simulator.WgtWriteSeq[row] = seq;
                break;
            case VtaMemoryType.Acc:
            case VtaMemoryType.Acc8Bit:
                CheckAccWrite(row, seq);
                break;
        }
    }

    public void CheckLoadOverwrite(int readBy, string buffer, int row)
    {
        if (readBy > exec.VectorClocks[(3 * L) + C])
        {
            var reader = exec.IndexOf(C, readBy);
            exec.Race($"overwrites {buffer} row {row}, which #{reader} ({exec.Listing(reader)}) reads, but no token orders that read before this load (a missing compute→load 'buffer free' token, g2l)");
        }
    }

    /// <summary>A compute-module write of ACC row <paramref name="row"/>: the store module must be known to have read it already.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void CheckAccWrite(int row, int seq)
    {
        var readBy = exec.Simulator.AccStoreReadSeq[row];
        if (readBy > exec.VectorClocks[(3 * C) + S])
        {
            AccWriteRace(row, readBy);
        }

        exec.Simulator.AccWriteSeq[row] = seq;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    public void AccWriteRace(int row, int readBy)
    {
        var reader = exec.IndexOf(S, readBy);
        exec.Race($"writes ACC row {row}, which #{reader} ({exec.Listing(reader)}) stores, but no token orders that store before this write (a missing store→compute 'buffer free' token, s2g)");
    }

    public void TrackDramRead(int m, int seq, long offset, long length)
    {
        var known = exec.VectorClocks[(3 * m) + S];
        var reads = m == L ? dramLoadRead! : dramComputeRead!;
        var (firstChunk, lastChunk) = Chunks(offset, length);
        for (var chunk = firstChunk; chunk <= lastChunk; chunk++)
        {
            var writtenBy = dramStore![chunk];
            if (writtenBy > known)
            {
                var writer = exec.IndexOf(S, writtenBy);
                exec.Race($"reads DRAM bytes near 0x{exec.Dram.PhysicalBase + ((chunk + dramWindow) << DramChunkShift):x}, which #{writer} ({exec.Listing(writer)}) stores, but no token orders that store before this load");
            }

            reads[chunk] = seq;
        }
    }

    public void TrackDramWrite(int seq, long offset, long length)
    {
        var knownLoad = exec.VectorClocks[(3 * S) + L];
        var knownCompute = exec.VectorClocks[(3 * S) + C];
        var (firstChunk, lastChunk) = Chunks(offset, length);
        for (var chunk = firstChunk; chunk <= lastChunk; chunk++)
        {
            var (module, readBy) = dramLoadRead![chunk] > knownLoad ? (L, dramLoadRead[chunk])
                : dramComputeRead![chunk] > knownCompute ? (C, dramComputeRead[chunk])
                : (-1, 0);
            if (module >= 0)
            {
                var reader = exec.IndexOf(module, readBy);
                exec.Race($"overwrites DRAM bytes near 0x{exec.Dram.PhysicalBase + ((chunk + dramWindow) << DramChunkShift):x}, which #{reader} ({exec.Listing(reader)}) reads, but no token orders that read before this store");
            }

            dramStore![chunk] = seq;
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    public void GemmReadRace(int x, int w, int knownLoads)
    {
        var (buffer, row, writtenBy) = exec.Simulator.InpWriteSeq[x] > knownLoads ? ("INP", x, exec.Simulator.InpWriteSeq[x]) : ("WGT", w, exec.Simulator.WgtWriteSeq[w]);
        var writer = exec.IndexOf(L, writtenBy);
        exec.Race($"reads {buffer} row {row}, which #{writer} ({exec.Listing(writer)}) loads, but no token orders that load before this GEMM (a missing load→compute 'data ready' token, l2g)");
    }
}
