using Covenant.Runtime.Vta;

namespace Covenant.Targets.Vta.Lowering;

/// <summary>
/// A byte plane of an int32 result not yet stored: shift the tile right by 8 in place, then store it.
/// <see cref="PreviousStore"/> is the store of plane 0 (later planes wait for the slot's latest store).
/// </summary>
internal sealed record PlaneTask(int AccTile, int Plane, SlotState Slot, Step Step, Group PreviousStore);

/// <summary>
/// Empties a completed accumulator tile: the epilogue on the ALU (loading its operands' rows when they changed), then
/// the store, an int32 result as four byte planes (shift by 8 between stores). With
/// <see cref="VtaLoweringOptions.DeferPlaneStores"/> and two ACC slots, the later planes wait in a queue and are
/// interleaved with the next tile's GEMMs.
/// </summary>
internal sealed class AccumulatorDrain
{
    private readonly GenerationInputs inputs;
    private readonly InstructionEmitter emitter;
    private readonly Transfers transfers;
    private readonly Func<Step, string, string> describe;
    private readonly bool defer;
    private readonly LoopPlanner aluPlanner;
    private readonly SlotState[] operandSlots;
    private readonly Queue<PlaneTask> deferred = new();
    private readonly Dictionary<string, bool> holes = new(StringComparer.Ordinal);

    public AccumulatorDrain(GenerationInputs inputs, InstructionEmitter emitter, Transfers transfers, Func<Step, string, string> describe, bool twoAccSlots)
    {
        this.inputs = inputs;
        this.emitter = emitter;
        this.transfers = transfers;
        this.describe = describe;
        defer = inputs.Context.Options.DeferPlaneStores && twoAccSlots;
        aluPlanner = new LoopPlanner(inputs.Context.Config, gemm: false);
        operandSlots = [.. inputs.Buffers.Operands.Select(r => new SlotState(r))];
    }

    /// <summary>The epilogue and the stores of an accumulator tile.</summary>
    public void Drain(Step step, SlotState accSlot, BoxDim[] accBox, Group gemmGroup)
    {
        var epilogue = inputs.Epilogue.Steps;
        var ready = epilogue.Length > 0 || HasHoles(step, accBox)
            ? Epilogue(step, accSlot, accBox)
            : gemmGroup;
        var planes = inputs.Tensors.Planes;
        var store = emitter.Stream.NewGroup(VtaModule.Store, describe(step, planes > 1 ? "store byte plane 0" : "store"));
        store.DependOn(ready);
        transfers.Store(store.Items, ElementBase(0), accBox, accSlot.Base);
        if (planes == 1)
        {
            accSlot.LastStore = store;
            return;
        }

        var previous = store;
        for (var plane = 1; plane < planes; plane++)
        {
            var task = new PlaneTask(step.AccTile, plane, accSlot, step, previous);
            if (defer)
            {
                deferred.Enqueue(task);
            }
            else
            {
                previous = PlaneStore(task);
            }
        }
    }

    /// <summary>Stores the deferred planes of the tile in <paramref name="slot"/> before the slot is reused.</summary>
    public void FlushSlot(SlotState slot)
    {
        while (deferred.Count > 0 && deferred.Peek().Slot == slot)
        {
            PlaneStore(deferred.Dequeue());
        }
    }

    /// <summary>Interleaves one deferred plane of an earlier tile with the GEMMs of tile <paramref name="accTile"/>.</summary>
    public void FlushOneOtherThan(int accTile)
    {
        if (deferred.Count > 0 && deferred.Peek().AccTile != accTile)
        {
            PlaneStore(deferred.Dequeue());
        }
    }

    public void Flush()
    {
        while (deferred.Count > 0)
        {
            PlaneStore(deferred.Dequeue());
        }
    }

    /// <summary>The epilogue group (or a no-op pass over rows no GEMM wrote): loads changed operand rows, then one ALU plan per step.</summary>
    private Group Epilogue(Step step, SlotState accSlot, BoxDim[] accBox)
    {
        var epilogue = inputs.Epilogue;
        var boxes = inputs.Boxes;
        var group = emitter.Stream.NewGroup(VtaModule.Compute,
            describe(step, epilogue.Steps.Length > 0 ? "epilogue " + string.Join(", ", epilogue.Steps.Select(e => e.Text)) : "touch rows no GEMM wrote"));
        for (var o = 0; o < epilogue.Operands.Length; o++)
        {
            var box = boxes.Operand(o, accBox);
            var key = string.Join(";", box.Select(d => $"{d.Lo}+{d.Count}"));
            if (operandSlots[o].Key != key)
            {
                var name = epilogue.Operands[o].Tensor.Name;
                transfers.Load(group.Items, VtaMemoryType.Acc, inputs.Dram.ElementBase(inputs.Context.Config, name, VtaMemoryType.Acc), box, operandSlots[o].Base);
                operandSlots[o].Key = key;
            }
        }

        var rows = TileBoxes.Rows(accBox);
        IEnumerable<AluStep> aluSteps = epilogue.Steps.Length > 0 ? epilogue.Steps : [new(VtaAluOpcode.Add, 0, -1, "ADD 0")];
        foreach (var e in aluSteps)
        {
            if (e.Immediate is { } imm)
            {
                emitter.AluImmediate(group, accSlot.Base, rows, e.Op, imm);
                continue;
            }

            var box = boxes.Operand(e.Operand, accBox);
            var coordOfAcc = epilogue.Operands[e.Operand].CoordOfAcc;
            var vars = new List<PlanVar>();
            for (var c = 0; c < accBox.Length; c++)
            {
                if (accBox[c].Count > 1)
                {
                    var src = coordOfAcc[c] >= 0 ? box[coordOfAcc[c]].SramStride : 0;
                    vars.Add(new PlanVar(inputs.Layouts.Acc.Coords[c].Name, (int)accBox[c].Count, (int)accBox[c].SramStride, (int)src, 0));
                }
            }

            emitter.Plan(group, aluPlanner.Plan(vars), accSlot.Base, operandSlots[e.Operand].Base, 0, new VtaAlu { AluOpcode = e.Op });
        }

        return group;
    }

    /// <summary>SHR 8 in place, then the store of the next byte plane (which waits for the shift; the shift waits for the previous plane's store).</summary>
    private Group PlaneStore(PlaneTask task)
    {
        var accBox = inputs.Boxes.Acc(task.Step);
        var shift = emitter.Stream.NewGroup(VtaModule.Compute, describe(task.Step, $"SHR 8 for byte plane {task.Plane}"));
        var previous = task.PreviousStore;
        if (task.Plane > 1)
        {
            // Deferred tasks were queued with the plane-0 store; the previous plane's store is the slot's latest.
            previous = task.Slot.LastStore ?? previous;
        }

        shift.DependOn(previous);
        emitter.AluImmediate(shift, task.Slot.Base, TileBoxes.Rows(accBox), VtaAluOpcode.Shr, 8);
        var store = emitter.Stream.NewGroup(VtaModule.Store, describe(task.Step, $"store byte plane {task.Plane}"));
        store.DependOn(shift);
        transfers.Store(store.Items, ElementBase(task.Plane), accBox, task.Slot.Base);
        task.Slot.LastStore = store;
        return store;
    }

    private long ElementBase(int plane) => inputs.Dram.ElementBase(inputs.Context.Config, inputs.Tensors.Out.Name, VtaMemoryType.Out, plane);

    /// <summary>
    /// Whether some row of the accumulator box receives no product (a strided or cropped scatter): such rows are
    /// still zero from the reset, and on hardware a stored row must last have been written by GEMM or ALU.
    /// </summary>
    private bool HasHoles(Step step, BoxDim[] accBox)
    {
        var (loops, acc) = (inputs.Placement.Loops, inputs.Layouts.Acc);
        if (acc.Coords.All(c => Enumerable.Range(0, loops.Length).Count(l => c.Coef[l] != 0 && step.Units[l] > 1) <= 1
                                && Enumerable.Range(0, loops.Length).All(l => c.Coef[l] <= 1 || step.Units[l] <= 1)))
        {
            return false;
        }

        var accDeps = inputs.Schedule.AccDeps;
        var key = StepSchedule.Key(step, accDeps);
        if (holes.TryGetValue(key, out var known))
        {
            return known;
        }

        var written = new bool[TileBoxes.Rows(accBox)];
        var vars = Enumerable.Range(0, loops.Length).Where(l => accDeps[l] && step.Units[l] > 1)
            .Select(l => new PlanVar(loops[l].Name, step.Units[l], (int)TileBoxes.Stride(acc, accBox, l), 0, 0)).ToList();
        LoopPlanner.Enumerate(vars, (in ReadOnlySpan<int> idx) =>
        {
            var row = 0;
            for (var v = 0; v < idx.Length; v++)
            {
                row += idx[v] * vars[v].Dst;
            }

            written[row] = true;
        });
        var result = written.Any(w => !w);
        holes[key] = result;
        return result;
    }
}
