using System.Globalization;
using System.Text;
using Covenant.Core.Diagnostics;
using Covenant.Runtime.Vta;

namespace Covenant.Targets.Vta.Lowering;

/// <summary>The instruction groups in stream order (tokens not yet assigned), the micro-op kernels, and what was spent.</summary>
internal sealed record GeneratedStream(StreamBuilder Stream, KernelTable Kernels, long ZeroBytes, EmitCounts Counts);

/// <summary>Everything the stream generator reads: the results of the steps before it.</summary>
internal sealed record GenerationInputs(
    LoweringContext Context,
    VtaTensors Tensors,
    LoopPlacement Placement,
    TensorLayouts Layouts,
    EpiloguePlan Epilogue,
    StepSchedule Schedule,
    BufferLayout Buffers,
    TileBoxes Boxes,
    DramImage Dram);

/// <summary>
/// Step: generates the instruction stream, step by step. A step loads the INP and WGT tiles it needs unless they are
/// resident (into the other half when double-buffered, and ahead of time as far as free halves allow), resets the ACC
/// tile on its first reduction step, runs GEMMs whose micro-op kernels and hardware loops <see cref="LoopPlanner"/>
/// chooses, and on the last reduction step drains the tile (<see cref="AccumulatorDrain"/>). Groups record which
/// groups they wait for; tokens follow later (<see cref="StreamBuilder"/>).
/// </summary>
internal static class GenerateStream
{
    public static Result<GeneratedStream> Run(GenerationInputs inputs) => Result<GeneratedStream>.Success(new StreamGenerator(inputs).Run());
}

/// <summary>The state of a tile slot while the stream is generated: which tile it holds, its last user, its loader and its last store.</summary>
internal sealed class SlotState(SlotRegion region)
{
    public int Base => region.Base;

    public int Rows => region.Rows;

    public string? Key { get; set; }

    public int LastUse { get; set; } = -1;

    public Group? Loader { get; set; }

    public Group? LastStore { get; set; }
}

/// <summary>The one mutable pass of the lowering: walks the steps and appends groups to the stream.</summary>
internal sealed class StreamGenerator
{
    private readonly GenerationInputs inputs;
    private readonly StepSchedule schedule;
    private readonly TileBoxes boxes;
    private readonly InstructionEmitter emitter;
    private readonly Transfers transfers;
    private readonly LoopPlanner gemmPlanner;
    private readonly AccumulatorDrain drain;
    private readonly SlotState[] inpSlots;
    private readonly SlotState[] wgtSlots;
    private readonly SlotState[] accSlots;
    private readonly Group?[] computeOfStep;
    private readonly Dictionary<int, (SlotState Inp, SlotState Wgt)> stepSlots = [];

    public StreamGenerator(GenerationInputs inputs)
    {
        this.inputs = inputs;
        schedule = inputs.Schedule;
        boxes = inputs.Boxes;
        var cfg = inputs.Context.Config;
        transfers = new Transfers(cfg);
        gemmPlanner = new LoopPlanner(cfg, gemm: true);
        emitter = new InstructionEmitter(cfg, new StreamBuilder(), inputs.Buffers.Scratch0);
        inpSlots = [.. inputs.Buffers.Inp.Select(r => new SlotState(r))];
        wgtSlots = [.. inputs.Buffers.Wgt.Select(r => new SlotState(r))];
        accSlots = [.. inputs.Buffers.Acc.Select(r => new SlotState(r))];
        computeOfStep = new Group?[schedule.Steps.Length];
        drain = new AccumulatorDrain(inputs, emitter, transfers, Describe, accSlots.Length > 1);
    }

    public GeneratedStream Run()
    {
        var steps = schedule.Steps;
        var planned = 0;
        for (var s = 0; s < steps.Length; s++)
        {
            // Loads for this step, and for the next ones as far as free buffer halves allow (prefetch).
            while (planned < steps.Length && planned <= s + 1 && CanPlanLoads(planned, s))
            {
                PlanLoads(planned);
                planned++;
            }

            if (planned <= s)
            {
                throw new InvalidOperationException($"the loads of step {s} could not be planned");
            }

            Compute(steps[s]);
        }

        drain.Flush();
        var stream = emitter.Stream;
        var finish = stream.NewGroup(VtaModule.Compute, "end: wait for the last load and the last store, then FINISH");
        finish.DependOn(stream.LastOf(VtaModule.Load));
        finish.DependOn(stream.LastOf(VtaModule.Store));
        finish.Items.Add(new Item(VtaLoad.Nop(VtaModule.Compute, default)));
        finish.Items.Add(new Item(new VtaFinish()));
        return new GeneratedStream(stream, emitter.Kernels, transfers.ZeroBytes, emitter.Counts);
    }

    private (SlotState Slot, bool Hit) Choose(SlotState[] slots, string key)
    {
        if (inputs.Context.Options.ReuseResidentTiles)
        {
            var hit = slots.FirstOrDefault(s => s.Key == key);
            if (hit is not null)
            {
                return (hit, true);
            }
        }

        return (slots.OrderBy(s => s.LastUse).First(), false);
    }

    /// <summary>Whether the loads of <paramref name="x"/> can be generated before the compute of step <paramref name="current"/>: the halves they overwrite must be free of later users.</summary>
    private bool CanPlanLoads(int x, int current)
    {
        var step = schedule.Steps[x];
        foreach (var (slots, deps) in new[] { (inpSlots, schedule.InpDeps), (wgtSlots, schedule.WgtDeps) })
        {
            var (slot, hit) = Choose(slots, StepSchedule.Key(step, deps));
            if (!hit && slot.LastUse >= current)
            {
                return false;
            }
        }

        return true;
    }

    private void PlanLoads(int x)
    {
        var step = schedule.Steps[x];
        Group? group = null;
        Group LoadGroup() => group ??= emitter.Stream.NewGroup(VtaModule.Load, Describe(step, "loads"));
        var chosen = new SlotState[2];
        var tensors = inputs.Tensors;
        var loads = new[]
        {
            (inpSlots, schedule.InpDeps, boxes.Inp(step), tensors.Inp.Name, VtaMemoryType.Inp),
            (wgtSlots, schedule.WgtDeps, boxes.Wgt(step), tensors.Wgt.Name, VtaMemoryType.Wgt),
        };
        for (var b = 0; b < 2; b++)
        {
            var (slots, deps, box, tensor, type) = loads[b];
            var key = StepSchedule.Key(step, deps);
            var (slot, hit) = Choose(slots, key);
            if (!hit)
            {
                var g = LoadGroup();
                if (slot.LastUse >= 0)
                {
                    g.DependOn(computeOfStep[slot.LastUse] ?? throw new InvalidOperationException($"step {slot.LastUse} has no compute group yet"));
                }

                transfers.Load(g.Items, type, inputs.Dram.ElementBase(inputs.Context.Config, tensor, type), box, slot.Base);
                slot.Key = key;
                slot.Loader = g;
            }

            slot.LastUse = x;
            chosen[b] = slot;
        }

        stepSlots[x] = (chosen[0], chosen[1]);
    }

    private void Compute(Step step)
    {
        var (inpSlot, wgtSlot) = stepSlots[step.Index];
        var accBox = boxes.Acc(step);
        var accSlot = accSlots[step.AccTile % accSlots.Length];
        if (step.FirstOfAccTile)
        {
            // The slot's previous tile must be stored before it is overwritten.
            drain.FlushSlot(accSlot);
        }

        var group = emitter.Stream.NewGroup(VtaModule.Compute, Describe(step, "GEMM"));
        if (step.FirstOfAccTile)
        {
            group.DependOn(accSlot.LastStore);
            emitter.Reset(group, accSlot.Base, TileBoxes.Rows(accBox));
        }

        group.DependOn(inpSlot.Loader);
        group.DependOn(wgtSlot.Loader);

        var (layouts, loops) = (inputs.Layouts, inputs.Placement.Loops);
        var inpBox = boxes.Inp(step);
        var wgtBox = boxes.Wgt(step);
        var vars = new List<PlanVar>();
        for (var l = 0; l < loops.Length; l++)
        {
            if (step.Units[l] > 1)
            {
                vars.Add(new PlanVar(loops[l].Name, step.Units[l],
                    (int)TileBoxes.Stride(layouts.Acc, accBox, l), (int)TileBoxes.Stride(layouts.Inp, inpBox, l), (int)TileBoxes.Stride(layouts.Wgt, wgtBox, l)));
            }
        }

        emitter.Plan(group, gemmPlanner.Plan(vars), accSlot.Base, inpSlot.Base, wgtSlot.Base, new VtaGemm());
        computeOfStep[step.Index] = group;

        if (step.LastOfAccTile)
        {
            drain.Drain(step, accSlot, accBox, group);
        }
        else
        {
            drain.FlushOneOtherThan(step.AccTile);
        }
    }

    private string Describe(Step step, string what)
    {
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"step {step.Index + 1}/{schedule.Steps.Length}, acc tile {step.AccTile}");
        if (step.ReductionSteps > 1)
        {
            text.Append(CultureInfo.InvariantCulture, $" (reduction {step.ReductionStep + 1}/{step.ReductionSteps})");
        }

        text.Append(" [");
        text.Append(string.Join(" ", inputs.Placement.Loops.Select(v =>
        {
            var from = step.Lo[v.Index] * v.Block;
            var to = Math.Min((step.Lo[v.Index] + step.Units[v.Index]) * v.Block, v.Map.PaddedExtent) - 1;
            return from == to ? $"{v.Name}={from}" : $"{v.Name}={from}..{to}";
        })));
        text.Append("]: ").Append(what);
        return text.ToString();
    }
}
