using System.Diagnostics;
using System.Globalization;
using Covenant.Core.Diagnostics;
using static Covenant.Runtime.Vta.VtaSimulatorDiagnostics;

namespace Covenant.Runtime.Vta;

/// <summary>
/// One run of a stream on a <see cref="VtaSimulator"/>: the static checks, the three-module schedule with
/// token queues and vector clocks, and the bookkeeping of statistics and issues. The functional kernels are
/// in the other part of this class (VtaExecution.Kernels.cs).
/// </summary>
internal sealed partial class VtaExecution
{
    private const int L = (int)VtaModule.Load;
    private const int C = (int)VtaModule.Compute;
    private const int S = (int)VtaModule.Store;

    private readonly VtaSimulator sim;
    private readonly VtaConfig cfg;
    private readonly VtaSimulatorOptions options;
    private readonly IReadOnlyList<VtaInstruction> program;
    private readonly VtaDram dram;

    /// <summary>The severity of hardware-portability findings: errors in strict mode, warnings otherwise.</summary>
    private readonly Severity hardware;

    /// <summary>Stream indices of each module's instructions, in order.</summary>
    private readonly int[][] queues = [[], [], []];
    private readonly int[] next = new int[3];
    private readonly long[] free = new long[3];
    private readonly long[] busy = new long[3];
    private readonly long[] stall = new long[3];

    /// <summary>Vector clocks: vc[3·m + k] = how many of module k's instructions are known (through tokens) to have completed before module m's current point.</summary>
    private readonly int[] vc = new int[9];
    private readonly Queue<Token>[] tokens = [new(), new(), new(), new()];

    /// <summary>popPrefix[q][n] = pops of queue q among the consumer's first n instructions.</summary>
    private readonly int[][] popPrefix = new int[4][];
    private readonly int[] pushes = new int[4];
    private readonly int[] maxTokens = new int[4];
    private readonly int[] worstTokens = new int[4];
    private readonly bool[] overflowReported = new bool[4];

    private readonly List<VtaIssue> issues = [];
    private readonly Dictionary<string, (DiagnosticDescriptor Descriptor, int Count)> issueCounts = new(StringComparer.Ordinal);
    private readonly List<VtaTraceEntry>? trace;

    private readonly long[] loadBytes = new long[6];
    private long outBytes;
    private long gemmCore;
    private long gemmUopCycles;
    private long aluBusy;
    private long gemmCounter;
    private long resetCounter;
    private long aluCounter;
    private long padded;
    private int executed;
    private bool finishExecuted;

    /// <summary>The stream index of the instruction being executed (for messages).</summary>
    private int current = -1;
    private int raceReportedFor = -1;

    public VtaExecution(VtaSimulator sim, IReadOnlyList<VtaInstruction> program, VtaDram dram)
    {
        this.sim = sim;
        cfg = sim.Config;
        options = sim.Options;
        this.program = program;
        this.dram = dram;
        hardware = options.Strict ? Severity.Error : Severity.Warning;
        trace = options.RecordTrace ? [] : null;
        InitKernels();
    }

    public VtaRunResult Execute()
    {
        var watch = Stopwatch.StartNew();
        sim.Clear();
        var completed = false;
        if (CheckProgram())
        {
            try
            {
                completed = Schedule();
            }
            catch (AbortException abort)
            {
                issues.Add(abort.Issue);
            }
#pragma warning disable CA1031 // A bug in the simulator must come back as an internal-error issue, never crash the caller.
            catch (Exception e)
#pragma warning restore CA1031
            {
                issues.Add(new VtaIssue(CoreDiagnostics.InternalError, Severity.Error,
                    $"the VTA simulator failed ({e.GetType().Name}: {e.Message}); please report it", current >= 0 ? current : null,
                    current >= 0 ? Listing(current) : null));
            }
        }

        watch.Stop();
        foreach (var (id, (descriptor, count)) in issueCounts.OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            if (count > options.MaxIssuesPerKind)
            {
                issues.Add(new VtaIssue(IssuesSuppressed, Severity.Note,
                    $"{count - options.MaxIssuesPerKind} more {id} ({descriptor.Title}) issues not shown"));
            }
        }

        return new VtaRunResult([.. issues], Statistics(watch.Elapsed), trace is null ? [] : [.. trace], completed);
    }

    // ---------------------------------------------------------------- static checks

    /// <summary>Routes the instructions to the modules and checks what does not depend on execution. False when the stream cannot run.</summary>
    private bool CheckProgram()
    {
        var routed = new List<int>[] { [], [], [] };
        var runnable = true;
        var firstFinish = -1;
        for (var i = 0; i < program.Count; i++)
        {
            current = i;
            var instruction = program[i];
            if (instruction is null)
            {
                Report(InvalidInstruction, Severity.Error, i, "the stream holds a null instruction");
                runnable = false;
                continue;
            }

            try
            {
                sim.Encoder.Validate(instruction);
            }
            catch (VtaEncodingException e)
            {
                Report(InvalidInstruction, Severity.Error, i, $"field {e.Field} = {e.Value} does not fit its {e.Width} bits");
                runnable = false;
            }

            var module = instruction.Module;
            routed[(int)module].Add(i);
            runnable &= CheckFlag(instruction.Deps.PopPrev, VtaDependencyRules.PopPrevQueue(module), "pop_prev_dep", module, "previous");
            runnable &= CheckFlag(instruction.Deps.PopNext, VtaDependencyRules.PopNextQueue(module), "pop_next_dep", module, "next");
            runnable &= CheckFlag(instruction.Deps.PushPrev, VtaDependencyRules.PushPrevQueue(module), "push_prev_dep", module, "previous");
            runnable &= CheckFlag(instruction.Deps.PushNext, VtaDependencyRules.PushNextQueue(module), "push_next_dep", module, "next");
            runnable &= CheckInstruction(instruction);
            if (instruction is VtaFinish && firstFinish < 0)
            {
                firstFinish = i;
            }
        }

        current = -1;
        if (firstFinish < 0)
        {
            Report(FinishPlacement, Severity.Error, null,
                "the stream has no FINISH: hardware never signals completion (and the fsim spins forever); end the stream with FINISH");
        }
        else if (firstFinish < program.Count - 1)
        {
            var compute = Enumerable.Range(firstFinish + 1, program.Count - firstFinish - 1)
                .FirstOrDefault(k => program[k] is { Module: VtaModule.Compute }, -1);
            var detail = compute >= 0
                ? $"; #{compute} ({Listing(compute)}) is a compute instruction after it, so FINISH is not the last compute instruction"
                : "";
            Report(FinishPlacement, Severity.Error, firstFinish + 1,
                $"this and {program.Count - firstFinish - 2} more instructions follow FINISH (#{firstFinish}): anything after FINISH hangs the fsim or is silently dropped; FINISH must be the last instruction{detail}");
        }

        for (var m = 0; m < 3; m++)
        {
            queues[m] = [.. routed[m]];
        }

        for (var q = 0; q < 4; q++)
        {
            var consumer = VtaDependencyRules.Consumer((VtaQueue)q);
            var list = queues[(int)consumer];
            var prefix = new int[list.Length + 1];
            for (var n = 0; n < list.Length; n++)
            {
                var deps = program[list[n]]?.Deps ?? default;
                var pops = (deps.PopPrev && (int?)VtaDependencyRules.PopPrevQueue(consumer) == q) ||
                           (deps.PopNext && (int?)VtaDependencyRules.PopNextQueue(consumer) == q);
                prefix[n + 1] = prefix[n] + (pops ? 1 : 0);
            }

            popPrefix[q] = prefix;
        }

        if (options.CheckRaces)
        {
            EnableDramTracking();
        }

        return runnable;
    }

    private bool CheckFlag(bool set, VtaQueue? queue, string flag, VtaModule module, string neighbor)
    {
        if (!set || queue is not null)
        {
            return true;
        }

        Report(IllegalDependencyFlag, Severity.Error, current,
            $"{flag} is set, but the {VtaDependencyRules.Name(module)} module has no {neighbor} module, so it names no token queue (the fsim dereferences a null queue); clear it");
        return false;
    }

    /// <summary>Per-instruction rules that need no execution. False when the instruction cannot be executed at all.</summary>
    private bool CheckInstruction(VtaInstruction instruction)
    {
        switch (instruction)
        {
            case VtaLoad { IsNop: false } load:
                if (load.MemoryType is not (VtaMemoryType.Uop or VtaMemoryType.Wgt or VtaMemoryType.Inp or VtaMemoryType.Acc or VtaMemoryType.Acc8Bit))
                {
                    Report(InvalidInstruction, Severity.Error, current,
                        $"LOAD of memory type {VtaDisassembler.Name(load.MemoryType)} is not supported (UOP, WGT, INP, ACC and ACC_8BIT are)");
                    return false;
                }

                if (load.YSize == 0)
                {
                    Report(BadTransfer, Severity.Error, current, $"y_size is 0 while x_size is {load.XSize}; a NOP has x_size 0");
                    return false;
                }

                if (load.MemoryType == VtaMemoryType.Acc8Bit)
                {
                    Report(NotPortable, hardware, current, "ACC_8BIT loads exist only in the functional simulator; load int32 ACC rows instead");
                }

                if (load.MemoryType is VtaMemoryType.Wgt or VtaMemoryType.Uop && load.HasPadding)
                {
                    Report(NotPortable, hardware, current,
                        $"the HLS design ignores pads on {VtaDisassembler.Name(load.MemoryType)} loads (it pads INP and ACC only); pad the data in DRAM instead");
                }

                if (load.MemoryType == VtaMemoryType.Uop && load.YSize != 1)
                {
                    Report(NotPortable, hardware, current,
                        $"a UOP load is a 1-D copy of x_size micro-ops on hardware (y_size and x_stride are ignored), but y_size is {load.YSize}; use y_size 1");
                }

                return true;

            case VtaStore { IsNop: false } store:
                if (store.MemoryType != VtaMemoryType.Out)
                {
                    Report(BadTransfer, Severity.Error, current,
                        $"STORE must use memory type OUT, not {VtaDisassembler.Name(store.MemoryType)} (the fsim stops with a fatal error)");
                    return false;
                }

                if (store.HasPadding)
                {
                    Report(BadTransfer, Severity.Error, current, "STORE cannot pad (the fsim stops with a fatal error); clear the pads");
                    return false;
                }

                if (store.YSize == 0)
                {
                    Report(BadTransfer, Severity.Error, current, $"y_size is 0 while x_size is {store.XSize}; a NOP has x_size 0");
                    return false;
                }

                return true;

            case VtaAlu alu:
                if (!Enum.IsDefined(alu.AluOpcode))
                {
                    Report(InvalidInstruction, Severity.Error, current,
                        $"ALU opcode {(int)alu.AluOpcode} does not exist (MIN 0, MAX 1, ADD 2, SHR 3, MUL 4)");
                    return false;
                }

                if (alu.AluOpcode == VtaAluOpcode.Mul)
                {
                    Report(NotPortable, hardware, current,
                        "MUL exists only in the functional simulator and the Intel OpenCL design; the Xilinx HLS and Chisel ALUs have no MUL");
                }

                if (alu is { AluOpcode: VtaAluOpcode.Shr, UseImm: true })
                {
                    if (alu.Imm <= -32 || alu.Imm >= 32)
                    {
                        Report(ShiftOutOfRange, Severity.Error, current, $"SHR by {alu.Imm}: shifts of 32 bits or more are undefined");
                        return false;
                    }

                    if (alu.Imm < 0)
                    {
                        Report(NotPortable, hardware, current,
                            $"SHR imm {alu.Imm} shifts left in the fsim and Chisel, but right by {alu.Imm & 31} in the Xilinx HLS design; keep SHR amounts in [0, 31]");
                    }
                }

                return true;

            default:
                return true;
        }
    }

    // ---------------------------------------------------------------- schedule

    private readonly record struct Token(long Time, int ClockLoad, int ClockCompute, int ClockStore, int PushedBy);

    /// <summary>Runs every module to its end. True when everything ran and FINISH was reached.</summary>
    private bool Schedule()
    {
        while (true)
        {
            var best = -1;
            var bestStart = long.MaxValue;
            for (var m = 0; m < 3; m++)
            {
                if (next[m] < queues[m].Length && TryStart(m, out var start) && start < bestStart)
                {
                    best = m;
                    bestStart = start;
                }
            }

            if (best < 0)
            {
                break;
            }

            Step(best, bestStart);
        }

        current = -1;
        if (Enumerable.Range(0, 3).Any(m => next[m] < queues[m].Length))
        {
            ReportDeadlock();
            return false;
        }

        for (var q = 0; q < 4; q++)
        {
            if (tokens[q].Count > 0)
            {
                var queue = (VtaQueue)q;
                var pushers = tokens[q].Select(t => "#" + t.PushedBy.ToString(CultureInfo.InvariantCulture)).ToList();
                Report(LeftoverToken, Severity.Error, tokens[q].Peek().PushedBy,
                    $"{tokens[q].Count} token(s) left in {Describe(queue)} at the end of the run (pushed by {string.Join(", ", pushers)}) and never popped; leftover tokens carry over into the next run, and the HLS design requires empty queues");
            }
        }

        return finishExecuted;
    }

    private bool TryStart(int m, out long start)
    {
        var deps = program[queues[m][next[m]]].Deps;
        var module = (VtaModule)m;
        start = free[m];
        if (deps.PopPrev && !TokenTime((int)VtaDependencyRules.PopPrevQueue(module)!.Value, ref start))
        {
            return false;
        }

        return !deps.PopNext || TokenTime((int)VtaDependencyRules.PopNextQueue(module)!.Value, ref start);
    }

    private bool TokenTime(int q, ref long start)
    {
        if (tokens[q].Count == 0)
        {
            return false;
        }

        start = Math.Max(start, tokens[q].Peek().Time);
        return true;
    }

    private void Step(int m, long start)
    {
        var index = queues[m][next[m]];
        var instruction = program[index];
        var module = (VtaModule)m;
        current = index;
        if (instruction.Deps.PopPrev)
        {
            Pop(m, (int)VtaDependencyRules.PopPrevQueue(module)!.Value);
        }

        if (instruction.Deps.PopNext)
        {
            Pop(m, (int)VtaDependencyRules.PopNextQueue(module)!.Value);
        }

        var seq = next[m] + 1;
        var cost = Execute(m, instruction, seq);
        var end = start + cost;
        stall[m] += start - free[m];
        busy[m] += cost;
        free[m] = end;
        vc[(3 * m) + m] = seq;

        if (instruction.Deps.PushPrev)
        {
            Push(m, (int)VtaDependencyRules.PushPrevQueue(module)!.Value, end, index);
        }

        if (instruction.Deps.PushNext)
        {
            Push(m, (int)VtaDependencyRules.PushNextQueue(module)!.Value, end, index);
        }

        if (instruction is VtaFinish)
        {
            CheckFinish(index);
            finishExecuted = true;
        }

        trace?.Add(new VtaTraceEntry(index, module, start, end));
        executed++;
        next[m]++;
    }

    private void Pop(int m, int q)
    {
        var token = tokens[q].Dequeue();
        var row = 3 * m;
        vc[row + L] = Math.Max(vc[row + L], token.ClockLoad);
        vc[row + C] = Math.Max(vc[row + C], token.ClockCompute);
        vc[row + S] = Math.Max(vc[row + S], token.ClockStore);
    }

    private void Push(int m, int q, long time, int index)
    {
        var row = 3 * m;
        pushes[q]++;
        tokens[q].Enqueue(new Token(time, vc[row + L], vc[row + C], vc[row + S], index));
        maxTokens[q] = Math.Max(maxTokens[q], tokens[q].Count);

        // In the worst schedule the consumer has popped only what is known to have happened before this push.
        var queue = (VtaQueue)q;
        var consumer = (int)VtaDependencyRules.Consumer(queue);
        var known = popPrefix[q][vc[row + consumer]];
        var worst = pushes[q] - known;
        worstTokens[q] = Math.Max(worstTokens[q], worst);
        if (worst > options.TokenQueueDepth && !overflowReported[q])
        {
            overflowReported[q] = true;
            Report(TokenOverflow, hardware, index,
                $"after this push up to {worst} tokens can be outstanding in {Describe(queue)}, but the hardware FIFO holds {options.TokenQueueDepth}: " +
                $"only {known} of the {pushes[q]} tokens pushed so far are known (through tokens) to have been popped; make the {VtaDependencyRules.Name((VtaModule)m)} module wait for the {VtaDependencyRules.Name((VtaModule)consumer)} module before pushing more");
        }
    }

    private void CheckFinish(int index)
    {
        foreach (var (module, word) in new[] { (L, "load"), (S, "store") })
        {
            var known = vc[(3 * C) + module];
            var total = queues[module].Length;
            if (known < total)
            {
                var first = queues[module][known];
                var fix = module == L
                    ? "end the load stream with a push_next (l2g) that the compute module pops before FINISH"
                    : "end the store stream with a push_prev (s2g) that FINISH or a compute NOP before it pops";
                Report(FinishDependency, Severity.Error, index,
                    $"FINISH does not wait for {word} #{first} ({Listing(first)}){(total - known > 1 ? $" and the {total - known - 1} {word}s after it" : "")}: no chain of tokens orders them before FINISH, so the run can end before they do; {fix}");
            }
        }
    }

    private void ReportDeadlock()
    {
        var parts = new List<string>();
        int? firstBlocked = null;
        for (var m = 0; m < 3; m++)
        {
            var name = VtaDependencyRules.Name((VtaModule)m);
            if (next[m] >= queues[m].Length)
            {
                parts.Add($"the {name} module has finished its {queues[m].Length} instructions");
                continue;
            }

            var index = queues[m][next[m]];
            firstBlocked ??= index;
            var deps = program[index].Deps;
            var waits = new List<string>();
            foreach (var (flag, queue) in new[] { (deps.PopPrev, VtaDependencyRules.PopPrevQueue((VtaModule)m)), (deps.PopNext, VtaDependencyRules.PopNextQueue((VtaModule)m)) })
            {
                if (flag && queue is { } q && tokens[(int)q].Count == 0)
                {
                    waits.Add($"a token in {Describe(q)}, which is empty");
                }
            }

            parts.Add($"the {name} module waits at #{index} ({Listing(index)}) for {string.Join(" and ", waits)}");
        }

        Report(Deadlock, Severity.Error, firstBlocked, "no module can progress and the stream has not finished: " + string.Join("; ", parts));
    }

    // ---------------------------------------------------------------- reporting

    private void Report(DiagnosticDescriptor descriptor, Severity severity, int? index, string message)
    {
        var count = issueCounts.TryGetValue(descriptor.Id, out var seen) ? seen.Count + 1 : 1;
        issueCounts[descriptor.Id] = (descriptor, count);
        if (count <= options.MaxIssuesPerKind)
        {
            issues.Add(new VtaIssue(descriptor, severity, message, index, index is { } i && i >= 0 && i < program.Count ? Listing(i) : null));
        }
    }

    /// <summary>A data race, reported once per instruction (the first row or byte range it concerns).</summary>
    private void Race(string message)
    {
        if (raceReportedFor == current)
        {
            return;
        }

        raceReportedFor = current;
        Report(DataRace, Severity.Error, current, message);
    }

    /// <summary>An error that makes continuing meaningless (an index out of range): ends the run.</summary>
    private AbortException Fail(DiagnosticDescriptor descriptor, string message) =>
        new(new VtaIssue(descriptor, Severity.Error, message, current, current >= 0 ? Listing(current) : null));

    private string Listing(int index) => program[index] is { } instruction ? VtaDisassembler.Format(instruction) : "null";

    /// <summary>The stream index of module <paramref name="module"/>'s <paramref name="seq"/>-th instruction (1-based).</summary>
    private int IndexOf(int module, int seq) => seq >= 1 && seq <= queues[module].Length ? queues[module][seq - 1] : -1;

    private static string Describe(VtaQueue queue) =>
        $"{VtaDependencyRules.ShortName(queue)} ({VtaDependencyRules.Name(VtaDependencyRules.Producer(queue))} → {VtaDependencyRules.Name(VtaDependencyRules.Consumer(queue))})";

    private VtaStatistics Statistics(TimeSpan wall)
    {
        VtaModuleStatistics Module(int m) => new(next[m], busy[m], stall[m], free[m]);
        return new VtaStatistics
        {
            TotalCycles = free.Max(),
            Load = Module(L),
            Compute = Module(C),
            Store = Module(S),
            GemmCoreBusyCycles = gemmCore,
            GemmUopCycles = gemmUopCycles,
            AluBusyCycles = aluBusy,
            GemmCounter = gemmCounter,
            GemmResetCounter = resetCounter,
            AluCounter = aluCounter,
            Macs = gemmCounter * cfg.MacsPerUop,
            UopLoadBytes = loadBytes[(int)VtaMemoryType.Uop],
            InpLoadBytes = loadBytes[(int)VtaMemoryType.Inp],
            WgtLoadBytes = loadBytes[(int)VtaMemoryType.Wgt],
            AccLoadBytes = loadBytes[(int)VtaMemoryType.Acc],
            Acc8BitLoadBytes = loadBytes[(int)VtaMemoryType.Acc8Bit],
            OutStoreBytes = outBytes,
            PaddedElements = padded,
            InstructionsExecuted = executed,
            MaxOutstandingTokens = [.. maxTokens],
            WorstCaseOutstandingTokens = [.. worstTokens],
            ClockHz = cfg.ClockHz,
            WallTime = wall,
        };
    }

    /// <summary>Ends a run from deep inside a kernel; never escapes <see cref="Execute()"/>.</summary>
    private sealed class AbortException(VtaIssue issue) : Exception(issue.Text)
    {
        public VtaIssue Issue { get; } = issue;
    }
}
