using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using static Covenant.Runtime.Vta.VtaExecution;
using static Covenant.Runtime.Vta.VtaSimulatorDiagnostics;

namespace Covenant.Runtime.Vta;

/// <summary>
/// The load and store modules' effect (vta-isa.md §4): LOAD copies DRAM rows (with padding) into INP, WGT, UOP or ACC,
/// STORE narrows ACC rows to int8 into DRAM; both check their ranges and report stale or racing data.
/// </summary>
internal sealed class VtaLoadStoreUnit
{
    private readonly VtaExecution exec;
    private readonly int batch;
    private readonly int blockIn;
    private readonly int blockOut;
    private readonly int lanes;
    private readonly bool checkRaces;

    public VtaLoadStoreUnit(VtaExecution exec)
    {
        this.exec = exec;
        var cfg = exec.Config;
        (batch, blockIn, blockOut, lanes) = (cfg.Batch, cfg.BlockIn, cfg.BlockOut, cfg.AccLanes);
        checkRaces = exec.Options.CheckRaces;
    }

    /// <summary>Bytes loaded, per memory type.</summary>
    public long[] LoadBytes { get; } = new long[6];

    /// <summary>Padding elements the loads wrote.</summary>
    public long Padded { get; private set; }

    public long OutBytes { get; private set; }

    // Hot loops run once per instruction: compile them optimized at once rather than through tiering.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void ExecuteLoad(VtaLoad load, int m, int seq)
    {
        var type = load.MemoryType;
        var e = exec.Config.ElementBytes(type);
        var depth = exec.Config.Depth(type);
        long xt = load.XPad0 + load.XSize + load.XPad1;
        long yt = load.YPad0 + load.YSize + load.YPad1;
        var rows = xt * yt;
        if (load.SramBase + rows > depth)
        {
            throw exec.Fail(SramOutOfRange,
                $"writes {Buffer(type)} rows [{load.SramBase}, {load.SramBase + rows}) ({yt} rows of {xt} elements, padding included), but the {Buffer(type)} buffer has {depth} rows");
        }

        var first = load.DramBase * e;
        var pitch = (long)load.XStride * e;
        var rowBytes = (long)load.XSize * e;
        var last = first + ((load.YSize - 1) * pitch) + rowBytes;
        if (first < exec.Dram.PhysicalBase || last > exec.Dram.End)
        {
            throw exec.Fail(DramOutOfRange,
                $"reads DRAM bytes [0x{first:x}, 0x{last:x}) ({load.YSize} rows of {load.XSize} {e}-byte elements, pitch {pitch} bytes), outside the DRAM image [0x{exec.Dram.PhysicalBase:x}, 0x{exec.Dram.End:x})");
        }

        LoadBytes[(int)type] += rowBytes * load.YSize;
        Padded += rows - ((long)load.XSize * load.YSize);
        var offset = first - exec.Dram.PhysicalBase;
        if (exec.Races.TracksDram)
        {
            for (var y = 0; y < load.YSize; y++)
            {
                exec.Races.TrackDramRead(m, seq, offset + (y * pitch), rowBytes);
            }
        }

        var source = exec.Dram.Array;
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

                exec.Races.TrackSramWrite(type, row, seq);
            }
        }
    }

    /// <summary>Writes one SRAM element from its DRAM bytes, or zeros when <paramref name="data"/> is empty (padding).</summary>
    public void WriteElement(VtaMemoryType type, int row, ReadOnlySpan<byte> data)
    {
        var zero = data.IsEmpty;
        switch (type)
        {
            case VtaMemoryType.Inp:
            {
                var target = exec.Simulator.Inp.AsSpan(row * batch * blockIn, batch * blockIn);
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
                var target = exec.Simulator.Wgt.AsSpan(row * size, size);
                var transposed = exec.Simulator.WgtT.AsSpan(row * size, size);
                var pairs = exec.Simulator.WgtPairs.AsSpan(row * size, size);
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
                exec.Simulator.SetUop(row, zero ? 0u : BinaryPrimitives.ReadUInt32LittleEndian(data));
                break;

            case VtaMemoryType.Acc:
            {
                var target = exec.Simulator.Acc.AsSpan(row * lanes, lanes);
                for (var l = 0; l < lanes; l++)
                {
                    target[l] = zero ? 0 : BinaryPrimitives.ReadInt32LittleEndian(data[(4 * l)..]);
                }

                exec.Simulator.AccWriter[row] = VtaSimulator.WriterLoad;
                break;
            }

            default: // ACC_8BIT: one sign-extended int8 per lane
            {
                var target = exec.Simulator.Acc.AsSpan(row * lanes, lanes);
                for (var l = 0; l < lanes; l++)
                {
                    target[l] = zero ? 0 : unchecked((sbyte)data[l]);
                }

                exec.Simulator.AccWriter[row] = VtaSimulator.WriterLoad;
                break;
            }
        }
    }

    // Hot loops run once per instruction: compile them optimized at once rather than through tiering.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void ExecuteStore(VtaStore store, int seq)
    {
        var e = exec.Config.OutElementBytes;
        var rows = (long)store.XSize * store.YSize;
        if (store.SramBase + rows > exec.Config.OutDepth)
        {
            throw exec.Fail(SramOutOfRange,
                $"reads OUT rows [{store.SramBase}, {store.SramBase + rows}), but the OUT buffer has {exec.Config.OutDepth} rows");
        }

        var first = store.DramBase * e;
        var pitch = (long)store.XStride * e;
        var rowBytes = (long)store.XSize * e;
        var last = first + ((store.YSize - 1) * pitch) + rowBytes;
        if (first < exec.Dram.PhysicalBase || last > exec.Dram.End)
        {
            throw exec.Fail(DramOutOfRange,
                $"writes DRAM bytes [0x{first:x}, 0x{last:x}) ({store.YSize} rows of {store.XSize} {e}-byte elements, pitch {pitch} bytes), outside the DRAM image [0x{exec.Dram.PhysicalBase:x}, 0x{exec.Dram.End:x})");
        }

        OutBytes += rows * e;
        var offset = first - exec.Dram.PhysicalBase;
        if (exec.Races.TracksDram)
        {
            for (var y = 0; y < store.YSize; y++)
            {
                exec.Races.TrackDramWrite(seq, offset + (y * pitch), rowBytes);
            }
        }

        var target = exec.Dram.Array;
        var acc = exec.Simulator.Acc;
        var stale = 0;
        var firstStale = -1;
        for (var y = 0; y < store.YSize; y++)
        {
            for (var x = 0; x < store.XSize; x++)
            {
                var row = store.SramBase + (y * store.XSize) + x;
                var writer = exec.Simulator.AccWriter[row];
                if (writer is not (VtaSimulator.WriterGemm or VtaSimulator.WriterAlu))
                {
                    stale++;
                    firstStale = firstStale < 0 ? row : firstStale;
                }

                if (checkRaces)
                {
                    var writtenBy = exec.Simulator.AccWriteSeq[row];
                    if (writtenBy > exec.VectorClocks[(3 * S) + C])
                    {
                        var writerIndex = exec.IndexOf(C, writtenBy);
                        exec.Race($"stores ACC row {row}, which #{writerIndex} ({exec.Listing(writerIndex)}) writes, but no token orders that write before this store (a missing compute→store 'results ready' token, g2s)");
                    }

                    exec.Simulator.AccStoreReadSeq[row] = seq;
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
            var what = exec.Simulator.AccWriter[firstStale] switch
            {
                VtaSimulator.WriterReset => "a reset GEMM",
                VtaSimulator.WriterLoad => "a LOAD ACC",
                _ => "nothing in this run",
            };
            exec.Report(StaleOutRow, exec.Hardware, exec.Current,
                $"{stale} of the {rows} stored rows were not last written by a non-reset GEMM or an ALU op (first: ACC row {firstStale}, last written by {what}); on hardware STORE reads the OUT buffer, which only GEMM and ALU write, so it would store stale data (vta-isa.md §6.1)");
        }
    }

    private static string Buffer(VtaMemoryType type) => type == VtaMemoryType.Acc8Bit ? "ACC" : VtaDisassembler.Name(type);
}
