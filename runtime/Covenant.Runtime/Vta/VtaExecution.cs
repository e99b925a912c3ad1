using System.Diagnostics;
using System.Globalization;
using Covenant.Core.Diagnostics;
using static Covenant.Runtime.Vta.VtaSimulatorDiagnostics;

namespace Covenant.Runtime.Vta;

/// <summary>
/// One run of a stream on a <see cref="VtaSimulator"/>: the static checks, the three-module schedule with
/// token queues and vector clocks, and the bookkeeping of statistics and issues. What each instruction does is
/// the units' (<see cref="VtaLoadStoreUnit"/>, <see cref="VtaComputeUnit"/>), checked by <see cref="VtaInstructionChecks"/>
/// before the run and <see cref="VtaRaceChecker"/> during it; they read the run's state (configuration, SRAMs,
/// vector clocks, the instruction being executed) through the internal members here.
/// </summary>
internal sealed class VtaExecution
{
    internal const int L = (int)VtaModule.Load;
    internal const int C = (int)VtaModule.Compute;
    internal const int S = (int)VtaModule.Store;

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

    private long gemmCore;
    private long gemmUopCycles;
    private long aluBusy;
    private int executed;
    private bool finishExecuted;

    /// <summary>The stream index of the instruction being executed (for messages).</summary>
    private int current = -1;
    private int raceReportedFor = -1;

    internal VtaSimulator Simulator => sim;

    internal VtaConfig Config => cfg;

    internal VtaSimulatorOptions Options => options;

    internal IReadOnlyList<VtaInstruction> Program => program;

    internal VtaDram Dram => dram;

    /// <summary>The severity of hardware-portability findings.</summary>
    internal Severity Hardware => hardware;

    /// <summary>The vector clocks (see <see cref="vc"/>), which the race checks read.</summary>
    internal int[] VectorClocks => vc;

    /// <summary>The stream index of the instruction being executed.</summary>
    internal int Current => current;

    /// <summary>What LOAD and STORE do.</summary>
    internal VtaLoadStoreUnit LoadStore { get; }

    /// <summary>What GEMM and ALU do.</summary>
    internal VtaComputeUnit Compute { get; }

    internal VtaRaceChecker Races { get; }

    /// <summary>The rules one instruction must follow before anything runs.</summary>
    internal VtaInstructionChecks InstructionChecks { get; }

    public VtaExecution(VtaSimulator sim, IReadOnlyList<VtaInstruction> program, VtaDram dram)
    {
        this.sim = sim;
        cfg = sim.Config;
        options = sim.Options;
        this.program = program;
        this.dram = dram;
        hardware = options.Strict ? Severity.Error : Severity.Warning;
        trace = options.RecordTrace ? [] : null;
        Races = new VtaRaceChecker(this);
        InstructionChecks = new VtaInstructionChecks(this);
        LoadStore = new VtaLoadStoreUnit(this);
        Compute = new VtaComputeUnit(this);
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
            runnable &= InstructionChecks.Check(instruction);
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
            Races.EnableDramTracking();
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

    internal void Report(DiagnosticDescriptor descriptor, Severity severity, int? index, string message)
    {
        var count = issueCounts.TryGetValue(descriptor.Id, out var seen) ? seen.Count + 1 : 1;
        issueCounts[descriptor.Id] = (descriptor, count);
        if (count <= options.MaxIssuesPerKind)
        {
            issues.Add(new VtaIssue(descriptor, severity, message, index, index is { } i && i >= 0 && i < program.Count ? Listing(i) : null));
        }
    }

    /// <summary>A data race, reported once per instruction (the first row or byte range it concerns).</summary>
    internal void Race(string message)
    {
        if (raceReportedFor == current)
        {
            return;
        }

        raceReportedFor = current;
        Report(DataRace, Severity.Error, current, message);
    }

    /// <summary>An error that makes continuing meaningless (an index out of range): ends the run.</summary>
    internal AbortException Fail(DiagnosticDescriptor descriptor, string message) =>
        new(new VtaIssue(descriptor, Severity.Error, message, current, current >= 0 ? Listing(current) : null));

    internal string Listing(int index) => program[index] is { } instruction ? VtaDisassembler.Format(instruction) : "null";

    /// <summary>The stream index of module <paramref name="module"/>'s <paramref name="seq"/>-th instruction (1-based).</summary>
    internal int IndexOf(int module, int seq) => seq >= 1 && seq <= queues[module].Length ? queues[module][seq - 1] : -1;

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
            GemmCounter = Compute.GemmCounter,
            GemmResetCounter = Compute.ResetCounter,
            AluCounter = Compute.AluCounter,
            Macs = Compute.GemmCounter * cfg.MacsPerUop,
            UopLoadBytes = LoadStore.LoadBytes[(int)VtaMemoryType.Uop],
            InpLoadBytes = LoadStore.LoadBytes[(int)VtaMemoryType.Inp],
            WgtLoadBytes = LoadStore.LoadBytes[(int)VtaMemoryType.Wgt],
            AccLoadBytes = LoadStore.LoadBytes[(int)VtaMemoryType.Acc],
            Acc8BitLoadBytes = LoadStore.LoadBytes[(int)VtaMemoryType.Acc8Bit],
            OutStoreBytes = LoadStore.OutBytes,
            PaddedElements = LoadStore.Padded,
            InstructionsExecuted = executed,
            MaxOutstandingTokens = [.. maxTokens],
            WorstCaseOutstandingTokens = [.. worstTokens],
            ClockHz = cfg.ClockHz,
            WallTime = wall,
        };
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

                LoadStore.ExecuteLoad(load, m, seq);
                return sim.Timing.LoadCycles(load);

            case VtaStore store:
                if (store.IsNop)
                {
                    return VtaTimingModel.NopCycles;
                }

                LoadStore.ExecuteStore(store, seq);
                return sim.Timing.StoreCycles(store);

            case VtaGemm gemm:
            {
                Compute.ExecuteGemm(gemm, seq);
                var cycles = sim.Timing.GemmCycles(gemm);
                gemmCore += cycles;
                gemmUopCycles += sim.Timing.GemmUopCycles(gemm);
                return cycles;
            }

            case VtaAlu alu:
            {
                Compute.ExecuteAlu(alu, seq);
                var cycles = sim.Timing.AluCycles(alu);
                aluBusy += cycles;
                return cycles;
            }

            default:
                return VtaTimingModel.FinishCycles;
        }
    }

    /// <summary>Ends a run from deep inside a kernel; never escapes <see cref="Execute()"/>.</summary>
    internal sealed class AbortException(VtaIssue issue) : Exception(issue.Text)
    {
        public VtaIssue Issue { get; } = issue;
    }
}
