namespace Covenant.Runtime.Vta;

// The VTA instruction set as immutable records (shared/reference/vta-isa.md §2). Field values are plain
// integers; whether they fit their bit fields is checked by VtaEncoder (for the widths of one VtaConfig),
// never here, so a record can also hold what a buggy emitter produced and be reported precisely.

/// <summary>Bits 0–2 of every instruction.</summary>
public enum VtaOpcode
{
    Load = 0,
    Store = 1,
    Gemm = 2,
    Finish = 3,
    Alu = 4,
}

/// <summary>The <c>memory_type</c> field of LOAD and STORE: which SRAM the transfer reads or writes.</summary>
public enum VtaMemoryType
{
    Uop = 0,
    Wgt = 1,
    Inp = 2,
    Acc = 3,
    Out = 4,

    /// <summary>Fills ACC rows from sign-extended int8 values; the functional simulator only.</summary>
    Acc8Bit = 5,
}

/// <summary>The <c>alu_opcode</c> field. <see cref="Mul"/> exists only in the functional simulator and the Intel OpenCL design.</summary>
public enum VtaAluOpcode
{
    Min = 0,
    Max = 1,
    Add = 2,

    /// <summary><c>y ≥ 0 ? x &gt;&gt; y : x &lt;&lt; −y</c>; portable only for y in [0, 31].</summary>
    Shr = 3,
    Mul = 4,
}

/// <summary>The three in-order modules that execute an instruction stream (vta-isa.md §3).</summary>
public enum VtaModule
{
    Load,
    Compute,
    Store,
}

/// <summary>The four dependency-token queues between the modules (vta-isa.md §5).</summary>
public enum VtaQueue
{
    /// <summary>l2g: load → compute, "inp/wgt ready" (RAW).</summary>
    LoadToCompute,

    /// <summary>g2l: compute → load, "inp/wgt free" (WAR).</summary>
    ComputeToLoad,

    /// <summary>s2g: store → compute, "out buffer free" (WAR).</summary>
    StoreToCompute,

    /// <summary>g2s: compute → store, "results ready" (RAW).</summary>
    ComputeToStore,
}

/// <summary>
/// The four dependency flags of an instruction (bits 3–6). "prev" and "next" are relative to the module that
/// runs the instruction: load → compute → store. <see cref="VtaDependencyRules"/> maps them to queues.
/// </summary>
public readonly record struct VtaDeps(bool PopPrev = false, bool PopNext = false, bool PushPrev = false, bool PushNext = false)
{
    public static VtaDeps None => default;

    public bool Any => PopPrev || PopNext || PushPrev || PushNext;

    /// <summary><c>[pop_prev push_next]</c>, or the empty string when no flag is set.</summary>
    public override string ToString()
    {
        if (!Any)
        {
            return "";
        }

        var parts = new List<string>(4);
        if (PopPrev)
        {
            parts.Add("pop_prev");
        }

        if (PopNext)
        {
            parts.Add("pop_next");
        }

        if (PushPrev)
        {
            parts.Add("push_prev");
        }

        if (PushNext)
        {
            parts.Add("push_next");
        }

        return "[" + string.Join(' ', parts) + "]";
    }
}

/// <summary>One 128-bit VTA instruction. <see cref="object.ToString"/> gives its listing line.</summary>
public abstract record VtaInstruction
{
    private protected VtaInstruction()
    {
    }

    public VtaDeps Deps { get; init; }

    public abstract VtaOpcode Opcode { get; }

    /// <summary>The module that executes this instruction (the fetch routing of vta-isa.md §3).</summary>
    public abstract VtaModule Module { get; }

    public sealed override string ToString() => VtaDisassembler.Format(this);
}

/// <summary>
/// LOAD and STORE (<c>VTAMemInsn</c>). <see cref="DramBase"/> counts elements of the memory type
/// (physical byte address / element bytes). <see cref="XSize"/> = 0 makes the instruction a NOP whose
/// dependency flags still act.
/// </summary>
public abstract record VtaMemoryInstruction : VtaInstruction
{
    private protected VtaMemoryInstruction()
    {
    }

    public VtaMemoryType MemoryType { get; init; }

    /// <summary>First SRAM element (row) written (LOAD) or read (STORE).</summary>
    public int SramBase { get; init; }

    /// <summary>First DRAM element, in units of this memory type's element size.</summary>
    public long DramBase { get; init; }

    public int YSize { get; init; }

    public int XSize { get; init; }

    /// <summary>DRAM row pitch in elements.</summary>
    public int XStride { get; init; }

    public int YPad0 { get; init; }

    public int YPad1 { get; init; }

    public int XPad0 { get; init; }

    public int XPad1 { get; init; }

    /// <summary>x_size = 0: only the dependency flags act.</summary>
    public bool IsNop => XSize == 0;

    public bool HasPadding => YPad0 != 0 || YPad1 != 0 || XPad0 != 0 || XPad1 != 0;
}

/// <summary>LOAD: DRAM → SRAM, with optional zero padding around a 2-D block.</summary>
public sealed record VtaLoad : VtaMemoryInstruction
{
    public override VtaOpcode Opcode => VtaOpcode.Load;

    /// <summary>INP and WGT loads run on the load module; UOP, ACC (and anything else) on the compute module.</summary>
    public override VtaModule Module => MemoryType is VtaMemoryType.Inp or VtaMemoryType.Wgt ? VtaModule.Load : VtaModule.Compute;

    /// <summary>
    /// A NOP on <paramref name="module"/> that only carries dependency flags, encoded the way TVM's runtime does:
    /// LOAD INP with x_size 0 on the load module, LOAD UOP with x_size 0 on the compute module.
    /// </summary>
    public static VtaInstruction Nop(VtaModule module, VtaDeps deps) => module switch
    {
        VtaModule.Load => new VtaLoad { MemoryType = VtaMemoryType.Inp, Deps = deps },
        VtaModule.Compute => new VtaLoad { MemoryType = VtaMemoryType.Uop, Deps = deps },
        _ => new VtaStore { MemoryType = VtaMemoryType.Uop, Deps = deps },
    };
}

/// <summary>STORE: the OUT buffer (on hardware; ACC narrowed to int8 in the functional simulator) → DRAM.</summary>
public sealed record VtaStore : VtaMemoryInstruction
{
    public override VtaOpcode Opcode => VtaOpcode.Store;

    public override VtaModule Module => VtaModule.Store;
}

/// <summary>
/// The loop nest GEMM and ALU share: <c>for i &lt; IterOut, j &lt; IterIn, u in [UopBegin, UopEnd)</c>, with
/// row indices <c>uop.field + i·factor_out + j·factor_in</c>.
/// </summary>
public abstract record VtaLoopInstruction : VtaInstruction
{
    private protected VtaLoopInstruction()
    {
    }

    public int UopBegin { get; init; }

    /// <summary>Exclusive.</summary>
    public int UopEnd { get; init; }

    public int IterOut { get; init; } = 1;

    public int IterIn { get; init; } = 1;

    public int DstFactorOut { get; init; }

    public int DstFactorIn { get; init; }

    public int SrcFactorOut { get; init; }

    public int SrcFactorIn { get; init; }

    public override VtaModule Module => VtaModule.Compute;

    /// <summary>Micro-ops executed: (uop_end − uop_bgn) · iter_out · iter_in (0 for an empty range).</summary>
    public long UopCount => UopEnd <= UopBegin || IterOut <= 0 || IterIn <= 0
        ? 0
        : (long)(UopEnd - UopBegin) * IterOut * IterIn;
}

/// <summary>GEMM: <c>ACC[dst] += INP[src] · WGT[wgt]ᵀ</c> per uop, or zero ACC[dst] with <see cref="ResetReg"/>.</summary>
public sealed record VtaGemm : VtaLoopInstruction
{
    public bool ResetReg { get; init; }

    public int WgtFactorOut { get; init; }

    public int WgtFactorIn { get; init; }

    public override VtaOpcode Opcode => VtaOpcode.Gemm;
}

/// <summary>ALU: <c>ACC[dst] = op(ACC[dst], UseImm ? Imm : ACC[src])</c> lane by lane.</summary>
public sealed record VtaAlu : VtaLoopInstruction
{
    public VtaAluOpcode AluOpcode { get; init; }

    public bool UseImm { get; init; }

    /// <summary>16-bit signed immediate, sign-extended to int32.</summary>
    public int Imm { get; init; }

    public override VtaOpcode Opcode => VtaOpcode.Alu;
}

/// <summary>FINISH: marks the end of the stream; must be the last compute instruction.</summary>
public sealed record VtaFinish : VtaInstruction
{
    public override VtaOpcode Opcode => VtaOpcode.Finish;

    public override VtaModule Module => VtaModule.Compute;
}

/// <summary>
/// One 32-bit micro-op: <see cref="Dst"/> indexes ACC, <see cref="Src"/> INP (GEMM) or ACC (ALU),
/// <see cref="Wgt"/> WGT (ignored by ALU).
/// </summary>
public readonly record struct VtaUop(int Dst, int Src, int Wgt)
{
    public override string ToString() => VtaDisassembler.Format(this);
}

/// <summary>Which queue each dependency flag of each module uses (vta-isa.md §5), and the queue rules.</summary>
public static class VtaDependencyRules
{
    /// <summary>The hardware token FIFOs are this deep (HLS <c>STREAM_IN_DEPTH</c>); streams keep at most this many tokens outstanding.</summary>
    public const int QueueDepth = 8;

    public static VtaQueue? PopPrevQueue(VtaModule module) => module switch
    {
        VtaModule.Compute => VtaQueue.LoadToCompute,
        VtaModule.Store => VtaQueue.ComputeToStore,
        _ => null,
    };

    public static VtaQueue? PopNextQueue(VtaModule module) => module switch
    {
        VtaModule.Load => VtaQueue.ComputeToLoad,
        VtaModule.Compute => VtaQueue.StoreToCompute,
        _ => null,
    };

    public static VtaQueue? PushPrevQueue(VtaModule module) => module switch
    {
        VtaModule.Compute => VtaQueue.ComputeToLoad,
        VtaModule.Store => VtaQueue.StoreToCompute,
        _ => null,
    };

    public static VtaQueue? PushNextQueue(VtaModule module) => module switch
    {
        VtaModule.Load => VtaQueue.LoadToCompute,
        VtaModule.Compute => VtaQueue.ComputeToStore,
        _ => null,
    };

    public static VtaModule Producer(VtaQueue queue) => queue switch
    {
        VtaQueue.LoadToCompute => VtaModule.Load,
        VtaQueue.StoreToCompute => VtaModule.Store,
        _ => VtaModule.Compute,
    };

    public static VtaModule Consumer(VtaQueue queue) => queue switch
    {
        VtaQueue.ComputeToLoad => VtaModule.Load,
        VtaQueue.ComputeToStore => VtaModule.Store,
        _ => VtaModule.Compute,
    };

    /// <summary>The short names of the HLS design: l2g, g2l, s2g, g2s.</summary>
    public static string ShortName(VtaQueue queue) => queue switch
    {
        VtaQueue.LoadToCompute => "l2g",
        VtaQueue.ComputeToLoad => "g2l",
        VtaQueue.StoreToCompute => "s2g",
        _ => "g2s",
    };

    public static string Name(VtaModule module) => module switch
    {
        VtaModule.Load => "load",
        VtaModule.Compute => "compute",
        _ => "store",
    };
}
