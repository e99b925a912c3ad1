using System.Collections.Immutable;
using System.Numerics;
using Covenant.Acg;
using Covenant.Acg.Model;
using Covenant.Codelets;
using Covenant.Codelets.Syntax;
using Covenant.Core.Diagnostics;

namespace Covenant.Runtime.Vta;

/// <summary>One DRAM transfer edge of the graph (<c>vta.load.inp</c>...): its bandwidth and latency.</summary>
public sealed record VtaTransfer(string Name, double BytesPerCycle, double LatencyCycles);

/// <summary>
/// The parameters of one VTA configuration, as the architecture graph gives them (the counterpart of TVM's
/// <c>vta_config.json</c> plus the costs the timing model needs). Build it with <see cref="FromGraph"/>;
/// <see cref="Default"/> is what <c>architectures/vta.yaml</c> describes (a test checks they agree).
/// <para>
/// Field widths: the ISA fixes the opcode (3 bits), the memory fields (sram_base 16, dram_base 32, sizes and
/// stride 16, pads 4), the loop iterations (14), the ALU opcode (3) and immediate (16); the widths marked †
/// in vta-isa.md derive from the buffer depths here (<see cref="UopBeginBits"/>, <see cref="DstFactorBits"/>...).
/// <see cref="VtaLayout"/> places the fields.
/// </para>
/// </summary>
public sealed record VtaConfig
{
    /// <summary>The transfer names the graph's DRAM edges must carry.</summary>
    public const string LoadUop = "vta.load.uop";

    public const string LoadInp = "vta.load.inp";

    public const string LoadWgt = "vta.load.wgt";

    public const string LoadAcc = "vta.load.acc";

    public const string StoreOut = "vta.store.out";

    /// <summary>Bits of one micro-op (the runtime static_asserts 32).</summary>
    public const int UopBits = 32;

    /// <summary>Bits of one instruction.</summary>
    public const int InstructionBits = 128;

    /// <summary>The architecture the configuration was read from.</summary>
    public required string Name { get; init; }

    /// <summary>BATCH: rows of the GEMM intrinsic's input (the <c>i</c> axis).</summary>
    public required int Batch { get; init; }

    /// <summary>BLOCK_IN: the reduction axis <c>k</c>.</summary>
    public required int BlockIn { get; init; }

    /// <summary>BLOCK_OUT: the output axis <c>j</c>.</summary>
    public required int BlockOut { get; init; }

    public int InpBits { get; init; } = 8;

    public int WgtBits { get; init; } = 8;

    public int AccBits { get; init; } = 32;

    public int OutBits { get; init; } = 8;

    /// <summary>Rows (elements) of each buffer.</summary>
    public required int UopDepth { get; init; }

    public required int InpDepth { get; init; }

    public required int WgtDepth { get; init; }

    public required int AccDepth { get; init; }

    /// <summary>The OUT buffer is indexed like ACC, so its depth equals <see cref="AccDepth"/>.</summary>
    public required int OutDepth { get; init; }

    /// <summary>The clock, when the graph states one (cycles convert to seconds only with it).</summary>
    public double? ClockHz { get; init; }

    public required VtaTransfer UopLoad { get; init; }

    public required VtaTransfer InpLoad { get; init; }

    public required VtaTransfer WgtLoad { get; init; }

    public required VtaTransfer AccLoad { get; init; }

    public required VtaTransfer OutStore { get; init; }

    /// <summary>Cycles per GEMM micro-op (the gemm capability's interval; HLS II = 1).</summary>
    public double GemmIntervalCycles { get; init; } = 1;

    /// <summary>The GEMM pipeline's latency: paid once per GEMM instruction (fill and drain).</summary>
    public double GemmLatencyCycles { get; init; }

    public double GemmResetIntervalCycles { get; init; } = 1;

    public double GemmResetLatencyCycles { get; init; }

    /// <summary>Cycles per ALU micro-op (the slowest ALU capability's interval; HLS II = 2).</summary>
    public double AluIntervalCycles { get; init; } = 2;

    public double AluLatencyCycles { get; init; }

    // ---- derived sizes ----

    public int InpElementBytes => Batch * BlockIn * InpBits / 8;

    public int WgtElementBytes => BlockOut * BlockIn * WgtBits / 8;

    public int AccElementBytes => Batch * BlockOut * AccBits / 8;

    public int OutElementBytes => Batch * BlockOut * OutBits / 8;

    public int UopElementBytes => UopBits / 8;

    /// <summary>An ACC_8BIT element: one int8 per accumulator lane.</summary>
    public int Acc8BitElementBytes => Batch * BlockOut;

    /// <summary>Lanes of one accumulator row (BATCH × BLOCK_OUT).</summary>
    public int AccLanes => Batch * BlockOut;

    /// <summary>Multiply-accumulates of one GEMM micro-op.</summary>
    public long MacsPerUop => (long)Batch * BlockIn * BlockOut;

    /// <summary>The narrowest DRAM transfer's bandwidth (bytes per cycle).</summary>
    public double BusBytesPerCycle =>
        new[] { UopLoad, InpLoad, WgtLoad, AccLoad, OutStore }.Min(t => t.BytesPerCycle);

    // ---- derived field widths (vta-isa.md §2, marked †) ----

    public int LogUopDepth => Log2(UopDepth);

    public int LogInpDepth => Log2(InpDepth);

    public int LogWgtDepth => Log2(WgtDepth);

    public int LogAccDepth => Log2(AccDepth);

    public int UopBeginBits => LogUopDepth;

    /// <summary>One bit more than uop_bgn: the exclusive end may equal the depth.</summary>
    public int UopEndBits => LogUopDepth + 1;

    public int DstFactorBits => LogAccDepth;

    /// <summary>GEMM's src factors index INP.</summary>
    public int GemmSrcFactorBits => LogInpDepth;

    /// <summary>ALU's src factors index ACC.</summary>
    public int AluSrcFactorBits => LogAccDepth;

    public int WgtFactorBits => LogWgtDepth;

    public int UopDstBits => LogAccDepth;

    /// <summary>A uop's src indexes INP (GEMM) or ACC (ALU): the wider of the two.</summary>
    public int UopSrcBits => Math.Max(LogAccDepth, LogInpDepth);

    public int UopWgtBits => LogWgtDepth;

    /// <summary>The default configuration (vta-isa.md §1; <c>architectures/vta.yaml</c>, PYNQ-Z1 at 100 MHz).</summary>
    public static VtaConfig Default { get; } = new()
    {
        Name = "vta",
        Batch = 1,
        BlockIn = 16,
        BlockOut = 16,
        UopDepth = 8192,
        InpDepth = 2048,
        WgtDepth = 1024,
        AccDepth = 2048,
        OutDepth = 2048,
        ClockHz = 100e6,
        UopLoad = new(LoadUop, 8, 32),
        InpLoad = new(LoadInp, 8, 32),
        WgtLoad = new(LoadWgt, 8, 32),
        AccLoad = new(LoadAcc, 8, 32),
        OutStore = new(StoreOut, 8, 32),
        GemmIntervalCycles = 1,
        GemmLatencyCycles = 5,
        GemmResetIntervalCycles = 1,
        GemmResetLatencyCycles = 1,
        AluIntervalCycles = 2,
        AluLatencyCycles = 4,
    };

    /// <summary>Bytes of one element (SRAM row, DRAM unit of dram_base) of a memory type.</summary>
    public int ElementBytes(VtaMemoryType type) => type switch
    {
        VtaMemoryType.Uop => UopElementBytes,
        VtaMemoryType.Wgt => WgtElementBytes,
        VtaMemoryType.Inp => InpElementBytes,
        VtaMemoryType.Acc => AccElementBytes,
        VtaMemoryType.Out => OutElementBytes,
        VtaMemoryType.Acc8Bit => Acc8BitElementBytes,
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, "not a VTA memory type"),
    };

    /// <summary>Rows of the SRAM a memory type addresses (ACC_8BIT fills ACC).</summary>
    public int Depth(VtaMemoryType type) => type switch
    {
        VtaMemoryType.Uop => UopDepth,
        VtaMemoryType.Wgt => WgtDepth,
        VtaMemoryType.Inp => InpDepth,
        VtaMemoryType.Acc or VtaMemoryType.Acc8Bit => AccDepth,
        VtaMemoryType.Out => OutDepth,
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, "not a VTA memory type"),
    };

    /// <summary>The DRAM edge a memory type's LOAD (or, for OUT, STORE) uses.</summary>
    public VtaTransfer Transfer(VtaMemoryType type) => type switch
    {
        VtaMemoryType.Uop => UopLoad,
        VtaMemoryType.Wgt => WgtLoad,
        VtaMemoryType.Inp => InpLoad,
        VtaMemoryType.Acc or VtaMemoryType.Acc8Bit => AccLoad,
        VtaMemoryType.Out => OutStore,
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, "not a VTA memory type"),
    };

    /// <summary>
    /// Everything wrong with this configuration (unsupported types, depths that are not powers of two,
    /// fields that do not fit 128 bits...). Empty for a usable configuration.
    /// </summary>
    public ImmutableArray<Diagnostic> Validate() => Validate(null);

    /// <summary>Reads the VTA configuration an architecture graph describes (see the class comment for what it looks for).</summary>
    /// <remarks>
    /// Things are located by what they are, not by name: the GEMM is the capability of the form
    /// <c>acc[i, j] += inp[i, k] * wgt[j, k]</c> (any operand and axis names); its operands' storage nodes are
    /// the INP, WGT and ACC buffers; the UOP and OUT buffers are the ends of the <c>vta.load.uop</c> and
    /// <c>vta.store.out</c> edges; the ALU is the set of element-wise capabilities that write the ACC buffer.
    /// Every problem is reported (COV50xx) at the YAML element it concerns.
    /// </remarks>
    public static Result<VtaConfig> FromGraph(ArchitectureGraph graph)
    {
        ArgumentNullException.ThrowIfNull(graph);
        return new VtaGraphReader(graph).Read();
    }

    internal ImmutableArray<Diagnostic> Validate(IReadOnlyDictionary<string, SourceLocation>? where)
    {
        var bag = new DiagnosticBag();
        SourceLocation? At(string role) => where is not null && where.TryGetValue(role, out var l) ? l : null;

        if (Batch < 1 || BlockIn < 1 || BlockOut < 1)
        {
            bag.Report(VtaDiagnostics.GemmForm, At("gemm"), $"the GEMM shape {Batch}x{BlockIn}x{BlockOut} (BATCH x BLOCK_IN x BLOCK_OUT) must be positive");
        }

        if (InpBits != 8 || WgtBits != 8 || OutBits != 8 || AccBits != 32)
        {
            bag.Report(VtaDiagnostics.UnsupportedType, At("gemm"),
                $"the VTA target supports int8 inputs, weights and outputs with int32 accumulators, not {InpBits}/{WgtBits}/{OutBits}/{AccBits}-bit");
        }

        var depthsOk = true;
        foreach (var (role, label, depth) in new[] { ("uop", "UOP", UopDepth), ("inp", "INP", InpDepth), ("wgt", "WGT", WgtDepth), ("acc", "ACC", AccDepth), ("out", "OUT", OutDepth) })
        {
            if (depth < 2 || !BitOperations.IsPow2(depth) || depth > 1 << 16)
            {
                depthsOk = false;
                bag.Report(VtaDiagnostics.BufferDepth, At(role),
                    $"the {label} buffer has {depth} rows; VTA needs a power of two between 2 and 65536 (its index fields are log2(depth) bits and sram_base is 16 bits)");
            }
        }

        if (OutDepth != AccDepth)
        {
            bag.Report(VtaDiagnostics.BufferDepth, At("out"),
                $"the OUT buffer has {OutDepth} rows but the ACC buffer {AccDepth}; OUT is indexed like ACC, so they need the same number of rows");
        }

        if (depthsOk)
        {
            var layout = new VtaLayout(this);
            foreach (var (kind, bits) in new[] { ("memory", layout.MemoryBits), ("GEMM", layout.GemmBits), ("ALU", layout.AluBits) })
            {
                if (bits > InstructionBits)
                {
                    bag.Report(VtaDiagnostics.FieldsDoNotFit, At("acc"),
                        $"with buffer depths UOP {UopDepth}, INP {InpDepth}, WGT {WgtDepth}, ACC {AccDepth}, the {kind} instruction needs {bits} bits (fields cannot straddle a 64-bit word), more than {InstructionBits}");
                }
            }

            if (layout.UopBits > UopBits)
            {
                bag.Report(VtaDiagnostics.FieldsDoNotFit, At("acc"),
                    $"a micro-op needs {UopDstBits} + {UopSrcBits} + {UopWgtBits} = {UopDstBits + UopSrcBits + UopWgtBits} bits (log2 of the ACC, max(ACC, INP) and WGT depths), more than {UopBits}");
            }
        }

        foreach (var t in new[] { UopLoad, InpLoad, WgtLoad, AccLoad, OutStore })
        {
            if (!(t.BytesPerCycle > 0) || double.IsInfinity(t.BytesPerCycle) || !(t.LatencyCycles >= 0) || double.IsInfinity(t.LatencyCycles))
            {
                bag.Report(VtaDiagnostics.BadCost, At(t.Name), $"transfer '{t.Name}' needs a positive finite bandwidth and a finite latency ≥ 0 (has {t.BytesPerCycle} B/cycle, latency {t.LatencyCycles})");
            }
        }

        foreach (var (role, what, interval, latency) in new[]
                 {
                     ("gemm", "GEMM", GemmIntervalCycles, GemmLatencyCycles),
                     ("gemm", "GEMM reset", GemmResetIntervalCycles, GemmResetLatencyCycles),
                     ("alu", "ALU", AluIntervalCycles, AluLatencyCycles),
                 })
        {
            if (!(interval > 0) || double.IsInfinity(interval) || !(latency >= 0) || double.IsInfinity(latency))
            {
                bag.Report(VtaDiagnostics.BadCost, At(role), $"the {what} needs a positive finite interval and a finite latency ≥ 0 (has {interval}, {latency})");
            }
        }

        return bag.ToImmutable();
    }

    private static int Log2(int depth) => depth <= 0 ? 0 : BitOperations.Log2((uint)depth);
}
