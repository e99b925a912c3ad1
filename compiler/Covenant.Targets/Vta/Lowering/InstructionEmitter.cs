using Covenant.Runtime.Vta;

namespace Covenant.Targets.Vta.Lowering;

/// <summary>What the stream spends, for the program summary.</summary>
internal sealed record EmitCounts(int GemmInstructions, int AluInstructions, int UopLoads, long GemmUops);

/// <summary>
/// Emits GEMM and ALU instructions into groups: keeps each micro-op kernel resident in the micro-op buffer (LOAD UOP
/// when it is not), spaces an instruction from the previous one when their micro-ops would collide in the pipeline,
/// and counts what it emits. Micro-op slot 0 holds the spacer kernel (a reset of the two scratch ACC rows) for the run.
/// </summary>
internal sealed class InstructionEmitter
{
    /// <summary>The largest iter_out / iter_in (14-bit fields).</summary>
    public const int MaxIter = (1 << VtaLayout.IterBits) - 1;

    private readonly UopCache uopCache;
    private readonly HazardGuard guard;
    private readonly int scratch0;
    private int gemmInstructions;
    private int aluInstructions;
    private int uopLoads;
    private long gemmUops;

    public InstructionEmitter(VtaConfig config, StreamBuilder stream, int scratch0)
    {
        Stream = stream;
        this.scratch0 = scratch0;
        uopCache = new UopCache(config.UopDepth, 1);
        guard = new HazardGuard(scratch0, scratch0 + 1);
        var prologue = stream.NewGroup(VtaModule.Compute, "prologue: the spacer micro-op (reset of the scratch ACC rows) stays in micro-op slot 0");
        var spacerKernel = Kernels.Add([new VtaUop(scratch0, 0, 0)]);
        prologue.Items.Add(UopLoad(spacerKernel, 0, 1));
    }

    public StreamBuilder Stream { get; }

    public KernelTable Kernels { get; } = new();

    public EmitCounts Counts => new(gemmInstructions, aluInstructions, uopLoads, gemmUops);

    /// <summary>An ALU op with an immediate over a run of rows: one micro-op, the rows in iter_in (split at the 14-bit iteration limit).</summary>
    public void AluImmediate(Group group, int baseRow, int rows, VtaAluOpcode op, int imm)
    {
        for (var done = 0; done < rows; done += MaxIter)
        {
            var count = Math.Min(MaxIter, rows - done);
            var alu = new VtaAlu
            {
                AluOpcode = op,
                UseImm = true,
                Imm = imm,
                IterIn = count,
                DstFactorIn = count > 1 ? 1 : 0,
                SrcFactorIn = count > 1 ? 1 : 0,
            };
            Loop(group, alu, [new VtaUop(baseRow + done, baseRow + done, 0)]);
        }
    }

    /// <summary>Resets a run of accumulator rows (GEMM with reset), split at the iteration limit.</summary>
    public void Reset(Group group, int baseRow, int rows)
    {
        for (var done = 0; done < rows; done += MaxIter)
        {
            var count = Math.Min(MaxIter, rows - done);
            var reset = new VtaGemm { ResetReg = true, IterOut = count, DstFactorOut = count > 1 ? 1 : 0 };
            Loop(group, reset, [new VtaUop(baseRow + done, 0, 0)]);
        }
    }

    /// <summary>Emits the instructions of a plan: one per software point, each with its kernel.</summary>
    public void Plan(Group group, LoopPlan plan, int dst0, int src0, int wgt0, VtaLoopInstruction template)
    {
        var software = plan.Software;
        LoopPlanner.Enumerate(software, (in ReadOnlySpan<int> s) =>
        {
            long dOff = dst0, sOff = src0, wOff = wgt0;
            for (var v = 0; v < s.Length; v++)
            {
                dOff += (long)s[v] * software[v].Dst;
                sOff += (long)s[v] * software[v].Src;
                wOff += (long)s[v] * software[v].Wgt;
            }

            Loop(group, Instruction(plan, template), Kernel(plan, dOff, sOff, wOff));
        });
    }

    /// <summary>The micro-ops of one kernel of a plan at the given offsets, with the dummies the plan asks for.</summary>
    private List<VtaUop> Kernel(LoopPlan plan, long dOff, long sOff, long wOff)
    {
        var real = new List<VtaUop>(plan.RealUopsPerKernel);
        var uopVars = plan.Uop;
        LoopPlanner.Enumerate(uopVars, (in ReadOnlySpan<int> u) =>
        {
            long d = dOff, x = sOff, w = wOff;
            for (var v = 0; v < u.Length; v++)
            {
                d += (long)u[v] * uopVars[v].Dst;
                x += (long)u[v] * uopVars[v].Src;
                w += (long)u[v] * uopVars[v].Wgt;
            }

            real.Add(new VtaUop((int)d, (int)x, (int)w));
        });

        return plan.Dummies switch
        {
            DummyMode.Append => [.. real, .. new[] { scratch0, scratch0 + 1 }.Take(plan.AppendedDummies).Select(r => real[0] with { Dst = r })],
            DummyMode.Interleave => real.SelectMany(r => new[] { r, r with { Dst = scratch0 }, r with { Dst = scratch0 + 1 } }).ToList(),
            _ => real,
        };
    }

    private static VtaLoopInstruction Instruction(LoopPlan plan, VtaLoopInstruction template)
    {
        var instruction = template with
        {
            IterOut = plan.IterOut,
            IterIn = plan.IterIn,
            DstFactorOut = plan.Out?.Dst ?? 0,
            DstFactorIn = plan.In?.Dst ?? 0,
            SrcFactorOut = plan.Out?.Src ?? 0,
            SrcFactorIn = plan.In?.Src ?? 0,
        };
        return instruction is VtaGemm g ? g with { WgtFactorOut = plan.Out?.Wgt ?? 0, WgtFactorIn = plan.In?.Wgt ?? 0 } : instruction;
    }

    /// <summary>Makes the kernel resident (LOAD UOP when it is not), spaces it from the previous micro-ops if needed, and emits the instruction.</summary>
    private void Loop(Group group, VtaLoopInstruction instruction, List<VtaUop> uops)
    {
        var kernel = Kernels.Add([.. uops]);
        var slot = uopCache.Place(kernel, uops.Count, out var load);
        if (load)
        {
            group.Items.Add(UopLoad(kernel, slot, uops.Count));
        }

        var placed = instruction with { UopBegin = slot, UopEnd = slot + uops.Count };
        if (guard.NeedsSpacer(placed, uops))
        {
            var spacer = new VtaGemm { ResetReg = true, UopBegin = 0, UopEnd = 1, IterOut = 2, DstFactorOut = 1 };
            group.Items.Add(new Item(spacer));
            guard.Executed(spacer, [new VtaUop(scratch0, 0, 0)]);
        }

        group.Items.Add(new Item(placed));
        guard.Executed(placed, uops);
        switch (placed)
        {
            case VtaGemm { ResetReg: false } gemm:
                gemmInstructions++;
                gemmUops += gemm.UopCount;
                break;
            case VtaGemm:
                gemmInstructions++;
                break;
            default:
                aluInstructions++;
                break;
        }
    }

    private Item UopLoad(int kernel, int slot, int length)
    {
        uopLoads++;
        return new Item(new VtaLoad { MemoryType = VtaMemoryType.Uop, SramBase = slot, YSize = 1, XSize = length, XStride = length }, Fixup.Kernel, kernel);
    }
}
