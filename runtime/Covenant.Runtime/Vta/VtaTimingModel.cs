namespace Covenant.Runtime.Vta;

/// <summary>
/// First-order cycle cost of one VTA instruction on the module that runs it, from the configuration's numbers
/// (which come from the architecture YAML). The simulator runs the three modules concurrently with these
/// costs; a mapper's cost model can use the same numbers.
/// <list type="bullet">
/// <item>LOAD (x_size &gt; 0): ⌈latency⌉ + ⌈x_size·y_size·E / bandwidth⌉ + padded elements, where E is the memory
/// type's element bytes and latency/bandwidth are those of its DRAM edge (<c>vta.load.*</c>). Padding is not read
/// from DRAM: each padded element costs one cycle, the SRAM write port writing one zero element per cycle (as
/// the HLS design's pad loops do).</item>
/// <item>STORE (x_size &gt; 0): ⌈latency⌉ + ⌈x_size·y_size·E_out / bandwidth⌉ on the <c>vta.store.out</c> edge.</item>
/// <item>LOAD/STORE with x_size = 0 (a NOP that only moves tokens): 1.</item>
/// <item>GEMM: ⌈latency⌉ + ⌈uops · interval⌉ with uops = (uop_end − uop_bgn)·iter_out·iter_in, using the gemm
/// capability's interval and latency (the latency is the fixed per-instruction overhead: the pipeline fills and
/// drains once per instruction); a reset GEMM uses the reset capability's numbers.</item>
/// <item>ALU: ⌈latency⌉ + ⌈uops · interval⌉ with the ALU capabilities' (slowest) interval and latency.</item>
/// <item>FINISH: 1. Every instruction costs at least 1 cycle.</item>
/// </list>
/// Edges are independent (no contention between the modules' DMA ports), and a token pushed at cycle t can be
/// popped at cycle t.
/// </summary>
public sealed class VtaTimingModel
{
    public const long NopCycles = 1;
    public const long FinishCycles = 1;

    public VtaTimingModel(VtaConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        Config = config;
    }

    public VtaConfig Config { get; }

    /// <summary>The cycles <paramref name="instruction"/> occupies its module.</summary>
    public long Cycles(VtaInstruction instruction) => instruction switch
    {
        VtaLoad l => LoadCycles(l),
        VtaStore s => StoreCycles(s),
        VtaGemm g => GemmCycles(g),
        VtaAlu a => AluCycles(a),
        _ => FinishCycles,
    };

    public long LoadCycles(VtaLoad load)
    {
        ArgumentNullException.ThrowIfNull(load);
        if (load.IsNop || !Enum.IsDefined(load.MemoryType) || load.MemoryType == VtaMemoryType.Out)
        {
            return NopCycles;
        }

        var transfer = Config.Transfer(load.MemoryType);
        var bytes = (long)load.XSize * load.YSize * Config.ElementBytes(load.MemoryType);
        var total = (long)(load.XPad0 + load.XSize + load.XPad1) * (load.YPad0 + load.YSize + load.YPad1);
        var padded = total - ((long)load.XSize * load.YSize);
        return Math.Max(1, Ceiling(transfer.LatencyCycles) + Ceiling(bytes / transfer.BytesPerCycle) + padded);
    }

    public long StoreCycles(VtaStore store)
    {
        ArgumentNullException.ThrowIfNull(store);
        if (store.IsNop)
        {
            return NopCycles;
        }

        var bytes = (long)store.XSize * store.YSize * Config.OutElementBytes;
        return Math.Max(1, Ceiling(Config.OutStore.LatencyCycles) + Ceiling(bytes / Config.OutStore.BytesPerCycle));
    }

    public long GemmCycles(VtaGemm gemm)
    {
        ArgumentNullException.ThrowIfNull(gemm);
        return gemm.ResetReg
            ? Math.Max(1, Ceiling(Config.GemmResetLatencyCycles) + Ceiling(gemm.UopCount * Config.GemmResetIntervalCycles))
            : Math.Max(1, Ceiling(Config.GemmLatencyCycles) + GemmUopCycles(gemm));
    }

    /// <summary>The cycles the GEMM core spends on multiply-accumulate micro-ops (0 for a reset): what utilization counts.</summary>
    public long GemmUopCycles(VtaGemm gemm)
    {
        ArgumentNullException.ThrowIfNull(gemm);
        return gemm.ResetReg ? 0 : Ceiling(gemm.UopCount * Config.GemmIntervalCycles);
    }

    public long AluCycles(VtaAlu alu)
    {
        ArgumentNullException.ThrowIfNull(alu);
        return Math.Max(1, Ceiling(Config.AluLatencyCycles) + Ceiling(alu.UopCount * Config.AluIntervalCycles));
    }

    private static long Ceiling(double cycles) => (long)Math.Ceiling(cycles - 1e-9);
}
