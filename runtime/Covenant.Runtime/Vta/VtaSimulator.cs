using System.Collections.Immutable;
using Covenant.Core.Diagnostics;

namespace Covenant.Runtime.Vta;

/// <summary>
/// Executes VTA instruction streams bit-exactly (the functional simulator's semantics, vta-isa.md §4) and
/// counts cycles, with the load, compute and store modules running concurrently and synchronized by the four
/// dependency-token queues (§5). It also checks everything a stream needs to be valid on hardware (§6): see
/// <see cref="VtaSimulatorOptions"/> and <see cref="VtaSimulatorDiagnostics"/>.
/// <para>
/// <b>Scheduling.</b> Each module runs its instructions in order. An instruction starts when its module is free
/// and the tokens it pops are there (a token exists from the cycle its producer's instruction completes);
/// among the modules that can start, the earliest start runs next (ties: load, compute, store). Its functional
/// effect is applied at that point, its pushes at its end cycle. Costs come from <see cref="VtaTimingModel"/>.
/// If no module can start and the stream is not done, that is a deadlock. Happens-before through tokens is
/// tracked with vector clocks, so the checks that depend on ordering (data races between modules, FINISH
/// depending on the last load/store, the worst-case number of outstanding tokens) hold for every schedule
/// the tokens allow, not just the simulated one.
/// </para>
/// <para>
/// <b>State.</b> SRAMs (and the race-tracking state) are zero-filled at the start of every <c>Run</c>, so runs
/// are deterministic and independent; they stay readable afterwards (<see cref="AccRow"/>...). The DRAM image
/// is read and written in place. Not thread-safe: use one simulator per thread.
/// </para>
/// </summary>
public sealed class VtaSimulator
{
    internal const byte WriterNone = 0;
    internal const byte WriterReset = 1;
    internal const byte WriterGemm = 2;
    internal const byte WriterAlu = 3;
    internal const byte WriterLoad = 4;

    private readonly (int Shift, uint Mask) uopDstField;
    private readonly (int Shift, uint Mask) uopSrcField;
    private readonly (int Shift, uint Mask) uopWgtField;

    public VtaSimulator(VtaConfig config, VtaSimulatorOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(config);
        Encoder = new VtaEncoder(config); // rejects an unusable configuration
        Decoder = new VtaDecoder(config);
        Timing = new VtaTimingModel(config);
        Config = config;
        Options = options ?? VtaSimulatorOptions.Default;

        UopRaw = new uint[config.UopDepth];
        UopDst = new int[config.UopDepth];
        UopSrc = new int[config.UopDepth];
        UopWgt = new int[config.UopDepth];
        Inp = new sbyte[config.InpDepth * config.Batch * config.BlockIn];
        Wgt = new sbyte[config.WgtDepth * config.BlockOut * config.BlockIn];
        WgtT = new int[config.WgtDepth * config.BlockIn * config.BlockOut];
        WgtPairs = new short[config.WgtDepth * config.BlockIn * config.BlockOut];
        Acc = new int[config.AccDepth * config.AccLanes];
        AccWriter = new byte[config.AccDepth];
        InpWriteSeq = new int[config.InpDepth];
        InpReadSeq = new int[config.InpDepth];
        WgtWriteSeq = new int[config.WgtDepth];
        WgtReadSeq = new int[config.WgtDepth];
        AccWriteSeq = new int[config.AccDepth];
        AccStoreReadSeq = new int[config.AccDepth];

        var f = Encoder.Layout.UopFields;
        uopDstField = (f[0].Offset, (uint)f[0].MaxValue);
        uopSrcField = (f[1].Offset, (uint)f[1].MaxValue);
        uopWgtField = (f[2].Offset, (uint)f[2].MaxValue);
    }

    public VtaConfig Config { get; }

    public VtaSimulatorOptions Options { get; }

    public VtaEncoder Encoder { get; }

    public VtaDecoder Decoder { get; }

    public VtaTimingModel Timing { get; }

    // ---- SRAM state (internal so the execution engine reads it without copies) ----

    internal uint[] UopRaw { get; }

    internal int[] UopDst { get; }

    internal int[] UopSrc { get; }

    internal int[] UopWgt { get; }

    /// <summary>INP rows, [row][batch][in].</summary>
    internal sbyte[] Inp { get; }

    /// <summary>WGT rows as loaded, [row][out][in].</summary>
    internal sbyte[] Wgt { get; }

    /// <summary>WGT rows transposed and widened, [row][in][out]: the GEMM kernel's operand.</summary>
    internal int[] WgtT { get; }

    /// <summary>WGT rows as int16 pairs of consecutive inputs, [row][in / 2][out][2]: the operand of the AVX2 multiply-add kernel.</summary>
    internal short[] WgtPairs { get; }

    /// <summary>ACC rows, [row][batch][out].</summary>
    internal int[] Acc { get; }

    /// <summary>What last wrote each ACC row (WriterNone...): the check of vta-isa.md §6.1.</summary>
    internal byte[] AccWriter { get; }

    // Race tracking: the module sequence number (1-based) of the last write / read of each row.
    internal int[] InpWriteSeq { get; }

    internal int[] InpReadSeq { get; }

    internal int[] WgtWriteSeq { get; }

    internal int[] WgtReadSeq { get; }

    internal int[] AccWriteSeq { get; }

    internal int[] AccStoreReadSeq { get; }

    /// <summary>Runs a stream of instruction records against <paramref name="dram"/>.</summary>
    public VtaRunResult Run(IReadOnlyList<VtaInstruction> program, VtaDram dram)
    {
        ArgumentNullException.ThrowIfNull(program);
        ArgumentNullException.ThrowIfNull(dram);
        return new VtaExecution(this, program, dram).Execute();
    }

    /// <summary>Runs an encoded stream (16 bytes per instruction); undecodable bytes are an error, not an exception.</summary>
    public VtaRunResult Run(ReadOnlySpan<byte> program, VtaDram dram)
    {
        ArgumentNullException.ThrowIfNull(dram);
        ImmutableArray<VtaInstruction> decoded;
        try
        {
            decoded = Decoder.DecodeProgram(program);
        }
        catch (VtaDecodingException e)
        {
            Clear();
            var issue = new VtaIssue(VtaSimulatorDiagnostics.InvalidInstruction, Severity.Error, e.Message, e.InstructionIndex);
            var empty = new VtaModuleStatistics(0, 0, 0, 0);
            return new VtaRunResult([issue], new VtaStatistics { Load = empty, Compute = empty, Store = empty, ClockHz = Config.ClockHz }, [], false);
        }

        return Run(decoded, dram);
    }

    /// <summary>One ACC row after the last run (BATCH × BLOCK_OUT int32 lanes).</summary>
    public ReadOnlySpan<int> AccRow(int row)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(row);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(row, Config.AccDepth);
        return Acc.AsSpan(row * Config.AccLanes, Config.AccLanes);
    }

    /// <summary>One INP row after the last run (BATCH × BLOCK_IN int8).</summary>
    public ReadOnlySpan<sbyte> InpRow(int row)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(row);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(row, Config.InpDepth);
        var size = Config.Batch * Config.BlockIn;
        return Inp.AsSpan(row * size, size);
    }

    /// <summary>One WGT block after the last run, [out][in] (BLOCK_OUT × BLOCK_IN int8).</summary>
    public ReadOnlySpan<sbyte> WgtRow(int row)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(row);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(row, Config.WgtDepth);
        var size = Config.BlockOut * Config.BlockIn;
        return Wgt.AsSpan(row * size, size);
    }

    /// <summary>One micro-op of the UOP buffer after the last run.</summary>
    public VtaUop Uop(int index)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, Config.UopDepth);
        return new VtaUop(UopDst[index], UopSrc[index], UopWgt[index]);
    }

    /// <summary>Stores a micro-op word into the UOP buffer, decoding its fields once for the GEMM/ALU loops.</summary>
    internal void SetUop(int index, uint word)
    {
        UopRaw[index] = word;
        UopDst[index] = (int)((word >> uopDstField.Shift) & uopDstField.Mask);
        UopSrc[index] = (int)((word >> uopSrcField.Shift) & uopSrcField.Mask);
        UopWgt[index] = (int)((word >> uopWgtField.Shift) & uopWgtField.Mask);
    }

    /// <summary>Zero-fills every SRAM and the tracking state (the start of a run).</summary>
    internal void Clear()
    {
        Array.Clear(UopRaw);
        Array.Clear(UopDst);
        Array.Clear(UopSrc);
        Array.Clear(UopWgt);
        Array.Clear(Inp);
        Array.Clear(Wgt);
        Array.Clear(WgtT);
        Array.Clear(WgtPairs);
        Array.Clear(Acc);
        Array.Clear(AccWriter);
        Array.Clear(InpWriteSeq);
        Array.Clear(InpReadSeq);
        Array.Clear(WgtWriteSeq);
        Array.Clear(WgtReadSeq);
        Array.Clear(AccWriteSeq);
        Array.Clear(AccStoreReadSeq);
    }
}
