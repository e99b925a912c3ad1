using System.Collections.Immutable;
using Covenant.Codelets;
using Covenant.Mapping.Model;
using Covenant.Runtime.Vnni;

namespace Covenant.Targets.Vnni;

/// <summary>
/// Builds the kernel program (<see cref="VnniProgram"/>) for a plan. Three entry points:
/// <list type="bullet">
/// <item><c>init</c>: the offset tables (A' and output offset of every row, A' offset of every reduction group).</item>
/// <item><c>pack</c>: B into the vpdpbusd layout [outer][panel][group][NR][lanes][4] (zero-padded), and, for signed A,
/// the compensation -128 x the column sums of B.</item>
/// <item><c>run</c>: A into A' (u8, padded; skipped where A' would be A itself, which the kernel then reads in place,
/// flipping sign bits in the register), then the tiled GEMM over the threads: per tile (outer, row block, column
/// block), per KC block, per register block: MR x NR accumulators, a loop over the groups (NR vector loads of B,
/// MR broadcasts of A, MR x NR vpdpbusd), then the rest of the fused epilogue and the (narrowing, masked) store.
/// The accumulators start from a per-column vector holding the compensation and the epilogue's leading additions
/// (a bias), which commute with the sum modulo 2^32: no register is live across the loop's exit but the accumulators.</item>
/// </list>
/// </summary>
public static class VnniKernelBuilder
{
    public static VnniProgram Build(VnniKernelPlan plan)
    {
        ArgumentNullException.ThrowIfNull(plan);
        return new Builder(plan).Build();
    }

    private sealed class Builder(VnniKernelPlan plan)
    {
        private readonly VnniGemm gemm = plan.Analysis();
        private readonly List<VnniBufferInfo> buffers = [];
        private readonly Dictionary<string, int> tensorBuffers = new(StringComparer.Ordinal);
        private readonly Dictionary<string, int> rowTables = new(StringComparer.Ordinal);
        private int variables;
        private int registers;
        private int aPrime;
        private bool readsA;
        private int bPacked;
        private int compensation = -1;
        private int initial = -1;
        private int leading;
        private int groupTable = -1;
        private long groupStep;
        private int partial = -1;

        private int Lanes => plan.Isa.Lanes;

        private bool Threaded => plan.Threads > 1;

        // Inside the run's parallel region, work outside a work-shared loop is done by one thread.
        private VnniStmt OneThread(VnniStmt statement) => Threaded ? new VnniSingle(Wrap(statement)) : statement;

        private long PanelBytes => plan.PanelWidth * 4L;

        public VnniProgram Build()
        {
            foreach (var tensor in plan.Instance.Tensors.Where(t => t.Role == Codelets.Semantics.TensorRole.Input))
            {
                tensorBuffers[tensor.Name] = AddBuffer(tensor.Name, TypeOf(tensor.ElementType), tensor.ElementCount, VnniBufferKind.Input, tensor.Name);
            }

            var output = plan.Instance.Tensors.First(t => t.Name == plan.Output);
            tensorBuffers[output.Name] = AddBuffer(output.Name, TypeOf(output.ElementType), output.ElementCount, VnniBufferKind.Output, output.Name);
            readsA = ReadsADirectly();
            aPrime = readsA ? tensorBuffers[gemm.A.Name] : AddBuffer("a_prime", VnniScalarType.U8, gemm.APrimeLength, VnniBufferKind.Scratch, null);
            bPacked = AddBuffer("b_packed", VnniScalarType.I8, gemm.OuterCount * plan.PaddedN * gemm.Groups * 4, VnniBufferKind.Persistent, null);
            if (gemm.Compensate)
            {
                compensation = AddBuffer("compensation", VnniScalarType.I32, gemm.OuterCount * plan.PaddedN, VnniBufferKind.Persistent, null);
            }

            var init = new List<VnniStmt>();
            if (gemm.AMode == VnniAMode.Direct)
            {
                RowTable("a", gemm.StrideAPrime, init);
                var offsets = gemm.GroupOffsetsAPrime();
                groupStep = offsets.Length > 1 ? offsets[1] : 4;
                if (offsets.Select((o, g) => o == g * groupStep).Any(same => !same))
                {
                    groupTable = AddBuffer("groups_a", VnniScalarType.I32, gemm.Groups, VnniBufferKind.Persistent, null);
                    init.Add(GroupTableInit());
                }
            }
            else
            {
                groupStep = 4;
            }

            RowTable("c", gemm.StrideC, init);
            foreach (var tensor in gemm.EpilogueTensors)
            {
                RowTable(tensor.Name, tensor.Strides, init);
            }

            if (plan.KC < gemm.Groups)
            {
                partial = AddBuffer("partial", VnniScalarType.I32, (long)plan.Threads * plan.MC * plan.NC, VnniBufferKind.Scratch, null);
            }

            // Leading additions of the epilogue that do not depend on the row fold into the accumulators' start.
            leading = gemm.Epilogue.TakeWhile(step => step.Op == EpilogueOp.Add && (step.Tensor is null
                || gemm.EpilogueTensors.First(t => t.Name == step.Tensor) is var t && !rowTables.ContainsKey(t.Name))).Count();
            // One parallel region per run: the preparation, a barrier, then the tiles (one thread wake-up, not three).
            var run = readsA ? [] : new List<VnniStmt> { PrepareA() };
            if (gemm.Compensate || leading > 0)
            {
                initial = AddBuffer("initial", VnniScalarType.I32, gemm.OuterCount * plan.PaddedN, VnniBufferKind.Scratch, null);
                run.Add(PrepareInitial());
            }

            if (Threaded)
            {
                run.Add(new VnniBarrier());
            }

            run.Add(Compute());
            if (Threaded)
            {
                run = [new VnniParallelRegion(new VnniBlock([.. run]))];
            }

            var functions = ImmutableArray.Create(
                new VnniFunction(VnniProgram.InitFunction, new VnniBlock([.. init])),
                new VnniFunction(VnniProgram.PackFunction, PackB()),
                new VnniFunction(VnniProgram.RunFunction, new VnniBlock([.. run])));
            return new VnniProgram(plan.Instance.Name, Lanes, [.. buffers], functions, variables, registers, plan.Threads);
        }

        private int AddBuffer(string name, VnniScalarType type, long length, VnniBufferKind kind, string? tensor)
        {
            buffers.Add(new VnniBufferInfo(buffers.Count, name, type, Math.Max(1, length), kind, tensor));
            return buffers.Count - 1;
        }

        private static VnniScalarType TypeOf(ElementType type) => type switch
        {
            ElementType.I8 => VnniScalarType.I8,
            ElementType.U8 => VnniScalarType.U8,
            ElementType.I32 => VnniScalarType.I32,
            _ => throw new InvalidOperationException($"no VNNI buffer type for {type.Name()}"),
        };

        private VnniVar Var(string name) => new(variables++, name);

        private VnniVReg Reg(string name) => new(registers++, name);

        // ---- init -------------------------------------------------------------------------------------------

        // rows_NAME[m] = Σ stride · (row loop values of flattened row m), when the tensor depends on the rows.
        private void RowTable(string name, long[] strides, List<VnniStmt> init)
        {
            if (!gemm.DependsOnRows(strides) && !(name == "a" && gemm.AMode == VnniAMode.Direct))
            {
                return;
            }

            var table = AddBuffer("rows_" + name, VnniScalarType.I32, gemm.M, VnniBufferKind.Persistent, null);
            rowTables[name] = table;
            var vars = gemm.Rows.ToDictionary(l => l, l => Var(gemm.Loops[l].Name));
            init.Add(Nest(gemm.Rows, vars, () => [new VnniStore(table, Flat(gemm.Rows, vars), Dot(0, strides, vars))]));
        }

        // groups_a[g] = A' offset of reduction group g: the outer reduction loops' offset plus 4 per inner group.
        private VnniStmt GroupTableInit()
        {
            var vars = gemm.ReductionOuter.ToDictionary(l => l, l => Var(gemm.Loops[l].Name));
            var q = Var("q");
            return Nest(gemm.ReductionOuter, vars, () =>
            [
                new VnniFor(q, 0, gemm.InnerGroups, 1, new VnniBlock(
                [
                    new VnniStore(groupTable, (Flat(gemm.ReductionOuter, vars) * gemm.InnerGroups) + q, Dot(0, gemm.StrideAPrime, vars) + (new VnniVarRef(q) * 4)),
                ])),
            ]);
        }

        // ---- pack -------------------------------------------------------------------------------------------

        private VnniBlock PackB()
        {
            var body = new List<VnniStmt>
            {
                new VnniFill(bPacked, 0, buffers[bPacked].Length, 0),
            };
            if (compensation >= 0)
            {
                body.Add(new VnniFill(compensation, 0, buffers[compensation].Length, 0));
            }

            var outerVars = gemm.Outers.ToDictionary(l => l, l => Var(gemm.Loops[l].Name));
            var n = gemm.Vector >= 0 ? Var(gemm.Loops[gemm.Vector].Name) : Var("n");
            var sum = Var("column_sum");
            var value = Var("value");
            var panelBytes = PanelBytes;
            var groups = gemm.Groups;
            body.Add(Nest(gemm.Outers, outerVars, () =>
            {
                var outer = Flat(gemm.Outers, outerVars);
                var reductionVars = gemm.ReductionOuter.ToDictionary(l => l, l => Var(gemm.Loops[l].Name));
                var inner = gemm.Packed >= 0 ? Var(gemm.Loops[gemm.Packed].Name) : Var("k_inner");
                VnniExpr group, within;
                if (gemm.AMode == VnniAMode.Direct)
                {
                    group = (Flat(gemm.ReductionOuter, reductionVars) * gemm.InnerGroups) + (new VnniVarRef(inner) / 4);
                    within = new VnniVarRef(inner) % 4;
                }
                else
                {
                    var k = Flat(gemm.ReductionOuter, reductionVars);
                    group = k / 4;
                    within = k % 4;
                }

                var all = new Dictionary<int, VnniVar>(outerVars);
                foreach (var (l, v) in reductionVars)
                {
                    all[l] = v;
                }

                if (gemm.Vector >= 0)
                {
                    all[gemm.Vector] = n;
                }

                if (gemm.Packed >= 0)
                {
                    all[gemm.Packed] = inner;
                }

                var source = Dot(gemm.BaseB, gemm.StrideB, all);
                var load = new VnniLoad(tensorBuffers[gemm.B.Name], source);
                VnniExpr loaded = gemm.B.Padded ? new VnniSelect(InBounds(gemm.BAccess, gemm.B.Shape, all), load, 0) : load;
                var destination = (outer * (plan.PaddedN * groups * 4)) + (new VnniVarRef(n) / plan.PanelWidth * (groups * panelBytes))
                    + (group * panelBytes) + (new VnniVarRef(n) % plan.PanelWidth * 4) + within;
                VnniStmt innermost = new VnniBlock(
                [
                    new VnniSet(value, loaded),
                    new VnniStore(bPacked, destination, value),
                    new VnniSet(sum, new VnniVarRef(sum) + value),
                ]);
                var reduction = Nest(gemm.ReductionOuter, reductionVars, () =>
                    gemm.AMode == VnniAMode.Direct
                        ? [new VnniFor(inner, 0, gemm.PackedExtent, 1, new VnniBlock([innermost]))]
                        : [innermost]);
                var columnBody = new List<VnniStmt> { new VnniSet(sum, 0), reduction };
                if (compensation >= 0)
                {
                    columnBody.Add(new VnniStore(compensation, (outer * plan.PaddedN) + n, new VnniVarRef(sum) * -128));
                }

                return [new VnniFor(n, 0, gemm.N, 1, new VnniBlock([.. columnBody]))];
            }));
            return new VnniBlock([.. body]);
        }

        // ---- run: A -> A' -------------------------------------------------------------------------------------

        // When A' would be A itself (no padding, the same layout: a GEMM's or a 1x1 stride-1 convolution's activations,
        // K a multiple of 4), the kernel broadcasts from A and flips each byte's sign bit in the register (i8 x + 128 =
        // u8 x ^ 0x80), instead of a pass over all of A on every run.
        private bool ReadsADirectly()
        {
            if (gemm.AMode != VnniAMode.Direct || gemm.APrimeLength != gemm.A.ElementCount)
            {
                return false;
            }

            var strides = APrimeStrides();
            return gemm.APrimeDims.Select((dim, i) => dim.ValidFrom == 0 && dim.ValidTo == dim.Extent && dim.SourceFirst == 0 && dim.SourceStride == strides[i])
                .All(same => same);
        }

        // A' is dense, row-major over its dimensions.
        private long[] APrimeStrides()
        {
            var dims = gemm.APrimeDims;
            var strides = new long[dims.Length];
            long stride = 1;
            for (var i = dims.Length - 1; i >= 0; i--)
            {
                strides[i] = stride;
                stride *= dims[i].Extent;
            }

            return strides;
        }

        private VnniStmt PrepareA() => gemm.AMode == VnniAMode.Direct ? PrepareDirect() : PrepareIm2col();

        // Walks A' dimension by dimension: padding runs are filled with the zero byte, the valid range recurses, and
        // the innermost dimension is one strided copy with the XOR that shifts i8 to u8.
        private VnniStmt PrepareDirect()
        {
            var dims = gemm.APrimeDims;
            var strides = APrimeStrides();
            var source = tensorBuffers[gemm.A.Name];
            var zero = gemm.ZeroByte;
            var xor = gemm.Compensate ? 0x80 : 0;
            var statements = new List<VnniStmt>();

            // The threads share the first dimension with enough coordinates (batch 1 leaves the first one at 1).
            var parallelDim = plan.Threads > 1
                ? Enumerable.Range(0, dims.Length - 1).FirstOrDefault(i => dims[i].ValidTo - dims[i].ValidFrom >= plan.Threads, -1)
                : -1;

            VnniStmt Level(int i, VnniExpr destination, VnniExpr sourceOffset)
            {
                var dim = dims[i];
                var list = new List<VnniStmt>();

                // Above the parallel dimension every thread walks the loops; memory is written by one of them.
                VnniStmt Write(VnniStmt statement) => parallelDim < 0 || i <= parallelDim ? OneThread(statement) : statement;
                if (dim.ValidFrom > 0)
                {
                    list.Add(Write(new VnniFill(aPrime, destination, dim.ValidFrom * strides[i], zero)));
                }

                if (dim.ValidTo < dim.Extent)
                {
                    list.Add(Write(new VnniFill(aPrime, destination + (Math.Max(dim.ValidTo, dim.ValidFrom) * strides[i]),
                        (dim.Extent - Math.Max(dim.ValidTo, dim.ValidFrom)) * strides[i], zero)));
                }

                if (dim.ValidTo > dim.ValidFrom)
                {
                    if (i == dims.Length - 1)
                    {
                        list.Add(Write(new VnniCopyBytes(aPrime, destination + dim.ValidFrom, source,
                            sourceOffset + dim.SourceFirst + (dim.ValidFrom * dim.SourceStride), dim.SourceStride, dim.ValidTo - dim.ValidFrom, xor)));
                    }
                    else
                    {
                        var coordinate = Var($"a{i}");
                        var body = Level(i + 1, destination + (new VnniVarRef(coordinate) * strides[i]),
                            sourceOffset + dim.SourceFirst + (new VnniVarRef(coordinate) * dim.SourceStride));
                        list.Add(new VnniFor(coordinate, dim.ValidFrom, dim.ValidTo, 1, new VnniBlock([body]), Parallel: i == parallelDim, NoWait: true));
                    }
                }

                return new VnniBlock([.. list]);
            }

            statements.Add(Level(0, 0, 0));
            return new VnniBlock([.. statements]);
        }

        // A'[o][m][k] = A at (outer o, row m, reduction k) + 128 (signed A), the zero byte where A is padded, and the
        // zero byte in the rounding of each row up to a multiple of 4.
        private VnniStmt PrepareIm2col()
        {
            var row = gemm.Im2colRow;
            var zero = gemm.ZeroByte;
            var shift = gemm.Compensate ? 128 : 0;
            var outerVars = gemm.Outers.ToDictionary(l => l, l => Var(gemm.Loops[l].Name));
            var rowVars = gemm.Rows.ToDictionary(l => l, l => Var(gemm.Loops[l].Name));
            var reductionVars = gemm.ReductionOuter.ToDictionary(l => l, l => Var(gemm.Loops[l].Name));
            var all = new Dictionary<int, VnniVar>(outerVars);
            foreach (var (l, v) in rowVars.Concat(reductionVars))
            {
                all[l] = v;
            }

            var (aBase, aStrides) = VnniGemm.Flatten(gemm.AAccess, gemm.A, gemm.Loops.Length);
            var load = new VnniLoad(tensorBuffers[gemm.A.Name], Dot(aBase, aStrides, all)) + shift;
            VnniExpr value = gemm.A.Padded ? new VnniSelect(InBounds(gemm.AAccess, gemm.A.Shape, all), load, zero) : load;
            var destination = (((Flat(gemm.Outers, outerVars) * gemm.M) + Flat(gemm.Rows, rowVars)) * row) + Flat(gemm.ReductionOuter, reductionVars);
            var list = new List<VnniStmt>();
            var loops = gemm.Outers.Concat(gemm.Rows).ToList();
            var vars = new Dictionary<int, VnniVar>(outerVars);
            foreach (var (l, v) in rowVars)
            {
                vars[l] = v;
            }

            // The threads share the first outer or row loop with enough iterations.
            var parallelLoop = Threaded ? loops.FirstOrDefault(l => gemm.Loops[l].Extent >= plan.Threads, -1) : -1;
            var copy = Nest(loops, vars, () => [Nest(gemm.ReductionOuter, reductionVars, () => [new VnniStore(aPrime, destination, value)])],
                parallelLoop: parallelLoop);
            list.Add(parallelLoop >= 0 ? copy : OneThread(copy));
            if (row > gemm.K)
            {
                var r = Var("r");
                var rows = gemm.OuterCount * gemm.M;
                list.Add(new VnniFor(r, 0, rows, 1, new VnniBlock(
                [
                    new VnniFill(aPrime, (new VnniVarRef(r) * row) + gemm.K, row - gemm.K, zero),
                ]), Parallel: Threaded, NoWait: true));
            }

            return new VnniBlock([.. list]);
        }

        // ---- run: the accumulators' starting values ------------------------------------------------------------

        // initial[o][n] = -128 x column sum of B (signed A) + the leading epilogue additions; 0 in the padding columns.
        private VnniStmt PrepareInitial()
        {
            var outerVars = gemm.Outers.ToDictionary(l => l, l => Var(gemm.Loops[l].Name));
            var n = gemm.Vector >= 0 ? Var(gemm.Loops[gemm.Vector].Name) : Var("n");
            var body = new List<VnniStmt>();
            body.Add(Nest(gemm.Outers, outerVars, () =>
            {
                var index = (Flat(gemm.Outers, outerVars) * plan.PaddedN) + n;
                VnniExpr value = compensation >= 0 ? new VnniLoad(compensation, index) : 0;
                var vars = new Dictionary<int, VnniVar>(outerVars);
                if (gemm.Vector >= 0)
                {
                    vars[gemm.Vector] = n;
                }

                foreach (var step in gemm.Epilogue.Take(leading))
                {
                    value += step.Tensor is null
                        ? (long)unchecked((int)step.Immediate!.Value)
                        : gemm.EpilogueTensors.First(t => t.Name == step.Tensor) is var t
                            ? new VnniLoad(tensorBuffers[t.Name], Dot(t.Base, t.Strides, vars))
                            : 0;
                }

                // The padding columns start at 0 (their operand loads are never evaluated: the select is lazy).
                var columns = plan.PaddedN;
                var loop = new VnniFor(n, 0, columns, 1, new VnniBlock([new VnniStore(initial, index, new VnniSelect(VnniExpr.Less(n, gemm.N), value, 0))]),
                    Parallel: Threaded, NoWait: true);
                return [loop.Parallel ? loop : OneThread(loop)];
            }));
            return new VnniBlock([.. body]);
        }

        // ---- run: the tiled GEMM ------------------------------------------------------------------------------

        private VnniStmt Compute()
        {
            var rowBlocks = plan.RowBlocks;
            var columnBlocks = plan.ColumnBlocks;
            var tiles = plan.Tiles;
            var t = Var("tile");
            var body = new List<VnniStmt>();
            var tm = Var("tm");
            var tn = Var("tn");
            var outer = Var("outer");
            if (plan.Split == VnniParallelSplit.Columns)
            {
                body.Add(new VnniSet(tm, new VnniVarRef(t) % rowBlocks));
                body.Add(new VnniSet(tn, new VnniVarRef(t) / rowBlocks % columnBlocks));
            }
            else
            {
                body.Add(new VnniSet(tn, new VnniVarRef(t) % columnBlocks));
                body.Add(new VnniSet(tm, new VnniVarRef(t) / columnBlocks % rowBlocks));
            }

            body.Add(new VnniSet(outer, new VnniVarRef(t) / (rowBlocks * (long)columnBlocks)));
            var ic0 = Var("ic0");
            var ic1 = Var("ic1");
            var jc0 = Var("jc0");
            var jc1 = Var("jc1");
            body.Add(new VnniSet(ic0, new VnniVarRef(tm) * plan.MC));
            body.Add(new VnniSet(ic1, VnniExpr.Min(new VnniVarRef(ic0) + plan.MC, gemm.M)));
            body.Add(new VnniSet(jc0, new VnniVarRef(tn) * plan.NC));
            body.Add(new VnniSet(jc1, VnniExpr.Min(new VnniVarRef(jc0) + plan.NC, gemm.N)));

            // The outer loops' values, and each operand's offset for this outer index.
            var outerVars = new Dictionary<int, VnniVar>();
            long radix = 1;
            for (var i = gemm.Outers.Length - 1; i >= 0; i--)
            {
                var l = gemm.Outers[i];
                var v = Var(gemm.Loops[l].Name);
                outerVars[l] = v;
                body.Add(new VnniSet(v, new VnniVarRef(outer) / radix % gemm.Loops[l].Extent));
                radix *= gemm.Loops[l].Extent;
            }

            var offsets = new TileOffsets(
                AddSet(body, "off_a", gemm.AMode == VnniAMode.Direct
                    ? Dot(gemm.BaseAPrime, gemm.StrideAPrime, outerVars)
                    : new VnniVarRef(outer) * (gemm.M * gemm.Im2colRow)),
                AddSet(body, "off_b", new VnniVarRef(outer) * (plan.PaddedN * gemm.Groups * 4)),
                initial >= 0 ? AddSet(body, "off_init", new VnniVarRef(outer) * plan.PaddedN) : null,
                AddSet(body, "off_c", Dot(0, gemm.StrideC, outerVars)),
                gemm.EpilogueTensors.ToDictionary(e => e.Name, e => AddSet(body, "off_" + e.Name, Dot(e.Base, e.Strides, outerVars)), StringComparer.Ordinal),
                partial >= 0 ? AddSet(body, "off_partial", new VnniThreadId() * ((long)plan.MC * plan.NC)) : null,
                ic0, jc0);

            var pc = Var("pc");
            var pcEnd = Var("pc_end");
            var jr = Var("jr");
            var ir = Var("ir");
            var panel = Var("b_panel");
            var micro = Dispatch(offsets, ir, jr, pc, pcEnd, panel);
            var rowLoop = new VnniFor(ir, ic0, ic1, plan.MR, new VnniBlock([micro]));
            var columnLoop = new VnniFor(jr, jc0, jc1, plan.PanelWidth, new VnniBlock(
            [
                new VnniSet(panel, offsets.B + (new VnniVarRef(jr) / plan.PanelWidth * (gemm.Groups * PanelBytes))),
                rowLoop,
            ]));
            if (partial >= 0)
            {
                body.Add(new VnniFor(pc, 0, gemm.Groups, plan.KC, new VnniBlock(
                [
                    new VnniSet(pcEnd, VnniExpr.Min(new VnniVarRef(pc) + plan.KC, gemm.Groups)),
                    columnLoop,
                ])));
            }
            else
            {
                body.Add(new VnniSet(pc, 0));
                body.Add(new VnniSet(pcEnd, gemm.Groups));
                body.Add(columnLoop);
            }

            return new VnniFor(t, 0, tiles, 1, new VnniBlock([.. body]), Parallel: Threaded, NoWait: true);
        }

        private VnniVar AddSet(List<VnniStmt> body, string name, VnniExpr value)
        {
            var v = Var(name);
            body.Add(new VnniSet(v, value));
            return v;
        }

        private sealed record TileOffsets(
            VnniVar A, VnniVar B, VnniVar? Initial, VnniVar C, Dictionary<string, VnniVar> Epilogue, VnniVar? Partial, VnniVar RowStart, VnniVar ColumnStart);

        // Full register blocks, and the remainder row block / column panel where the shape leaves one.
        private VnniStmt Dispatch(TileOffsets offsets, VnniVar ir, VnniVar jr, VnniVar pc, VnniVar pcEnd, VnniVar panel)
        {
            var mrRem = (int)(gemm.M % plan.MR);
            var nRem = gemm.N % plan.PanelWidth;
            var nrRem = (int)((nRem + Lanes - 1) / Lanes);
            var lastLanes = (int)(gemm.N % Lanes == 0 ? Lanes : gemm.N % Lanes);

            VnniStmt Columns(int mr)
            {
                var full = Micro(mr, plan.NR, Lanes, offsets, ir, jr, pc, pcEnd, panel);
                if (nRem == 0)
                {
                    return full;
                }

                var partialPanel = Micro(mr, nrRem, lastLanes, offsets, ir, jr, pc, pcEnd, panel);
                if (gemm.N < plan.PanelWidth)
                {
                    return partialPanel;
                }

                return new VnniIf(VnniExpr.Less(new VnniVarRef(jr) + (plan.PanelWidth - 1), gemm.N), Wrap(full), Wrap(partialPanel));
            }

            if (mrRem == 0)
            {
                return Columns(plan.MR);
            }

            if (gemm.M < plan.MR)
            {
                return Columns(mrRem);
            }

            return new VnniIf(VnniExpr.Less(new VnniVarRef(ir) + (plan.MR - 1), gemm.M), Wrap(Columns(plan.MR)), Wrap(Columns(mrRem)));
        }

        private static VnniBlock Wrap(VnniStmt statement) => statement as VnniBlock ?? new VnniBlock([statement]);

        // One register block of mr rows x nr vectors; the last vector stores lastLanes lanes.
        private VnniBlock Micro(int mr, int nr, int lastLanes, TileOffsets offsets, VnniVar ir, VnniVar jr, VnniVar pc, VnniVar pcEnd, VnniVar panel)
        {
            var tag = $"{mr}x{nr}";
            var body = new List<VnniStmt>();
            var rowA = new VnniVar[mr];
            for (var i = 0; i < mr; i++)
            {
                rowA[i] = Var($"a_row{i}");
                VnniExpr row = new VnniVarRef(ir) + i;
                body.Add(new VnniSet(rowA[i], gemm.AMode == VnniAMode.Direct
                    ? new VnniVarRef(offsets.A) + new VnniLoad(rowTables["a"], row)
                    : new VnniVarRef(offsets.A) + (row * gemm.Im2colRow)));
            }

            var accumulators = new VnniVReg[mr, nr];
            for (var i = 0; i < mr; i++)
            {
                for (var v = 0; v < nr; v++)
                {
                    accumulators[i, v] = Reg($"acc{tag}_{i}_{v}");
                }
            }

            // Partial sums of earlier KC blocks come back from the thread's scratch tile.
            VnniExpr PartialIndex(int i, int v) => new VnniVarRef(offsets.Partial!) + ((new VnniVarRef(ir) - offsets.RowStart + i) * plan.NC)
                + (new VnniVarRef(jr) - offsets.ColumnStart) + (v * Lanes);
            var zero = new List<VnniStmt>();
            var reload = new List<VnniStmt>();
            for (var i = 0; i < mr; i++)
            {
                for (var v = 0; v < nr; v++)
                {
                    zero.Add(initial >= 0
                        ? new VnniVector(VnniVectorOp.Load, accumulators[i, v], Buffer: initial,
                            Index: new VnniVarRef(offsets.Initial!) + jr + (v * Lanes), Count: Lanes)
                        : new VnniVector(VnniVectorOp.Zero, accumulators[i, v]));
                    if (partial >= 0)
                    {
                        reload.Add(new VnniVector(VnniVectorOp.Load, accumulators[i, v], Buffer: partial, Index: PartialIndex(i, v), Count: Lanes));
                    }
                }
            }

            body.Add(partial >= 0
                ? new VnniIf(VnniExpr.Less(new VnniVarRef(pc), 1), new VnniBlock([.. zero]), new VnniBlock([.. reload]))
                : new VnniBlock([.. zero]));

            // The dot-product loop.
            var g = Var("g");
            var ko = Var("k_off");
            var bg = Var("b_group");
            var loop = new List<VnniStmt>
            {
                new VnniSet(ko, groupTable >= 0 ? new VnniLoad(groupTable, g) : new VnniVarRef(g) * groupStep),
                new VnniSet(bg, new VnniVarRef(panel) + (new VnniVarRef(g) * PanelBytes)),
            };
            var bVectors = new VnniVReg[nr];
            for (var v = 0; v < nr; v++)
            {
                bVectors[v] = Reg($"b{tag}_{v}");
                loop.Add(new VnniVector(VnniVectorOp.Load, bVectors[v], Buffer: bPacked, Index: new VnniVarRef(bg) + (v * Lanes * 4L), Count: Lanes));
            }

            var broadcast = Reg($"a{tag}");
            VnniVReg? signs = null;
            if (readsA && gemm.Compensate)
            {
                signs = Reg($"signs{tag}");
                body.Add(new VnniVector(VnniVectorOp.Set1, signs, Scalar: unchecked((int)0x80808080u)));
            }

            for (var i = 0; i < mr; i++)
            {
                loop.Add(new VnniVector(VnniVectorOp.Broadcast, broadcast, Buffer: aPrime, Index: new VnniVarRef(rowA[i]) + ko));
                if (signs is not null)
                {
                    loop.Add(new VnniVector(VnniVectorOp.Xor, broadcast, broadcast, signs));
                }

                for (var v = 0; v < nr; v++)
                {
                    loop.Add(new VnniVector(VnniVectorOp.Dpbusd, accumulators[i, v], broadcast, bVectors[v]));
                }
            }

            body.Add(new VnniFor(g, pc, pcEnd, 1, new VnniBlock([.. loop])));

            var finish = Finish(mr, nr, lastLanes, tag, accumulators, offsets, ir, jr);
            if (partial >= 0)
            {
                var save = new List<VnniStmt>();
                for (var i = 0; i < mr; i++)
                {
                    for (var v = 0; v < nr; v++)
                    {
                        save.Add(new VnniVector(VnniVectorOp.Store32, null, accumulators[i, v], Buffer: partial, Index: PartialIndex(i, v), Count: Lanes));
                    }
                }

                body.Add(new VnniIf(VnniExpr.Less(new VnniVarRef(pcEnd), gemm.Groups), new VnniBlock([.. save]), finish));
            }
            else
            {
                body.Add(finish);
            }

            return new VnniBlock([.. body], Outline: $"block{++outlined}_{tag}");
        }

        private int outlined;

        // The epilogue steps not folded into the start, in order, and the store (int32, or the low byte for i8/u8 outputs).
        private VnniBlock Finish(int mr, int nr, int lastLanes, string tag, VnniVReg[,] accumulators, TileOffsets offsets, VnniVar ir, VnniVar jr)
        {
            var body = new List<VnniStmt>();
            int LanesOf(int v) => v == nr - 1 ? lastLanes : Lanes;
            void ForAll(Func<int, int, VnniStmt> make)
            {
                for (var i = 0; i < mr; i++)
                {
                    for (var v = 0; v < nr; v++)
                    {
                        body.Add(make(i, v));
                    }
                }
            }

            var stepIndex = 0;
            foreach (var step in gemm.Epilogue.Skip(leading))
            {
                stepIndex++;
                var op = step.Op switch
                {
                    EpilogueOp.Add => VnniVectorOp.Add,
                    EpilogueOp.Max => VnniVectorOp.Max,
                    EpilogueOp.Min => VnniVectorOp.Min,
                    _ => VnniVectorOp.ShiftRight,
                };
                if (step.Op == EpilogueOp.ShiftRight)
                {
                    // The reference shifts by the amount modulo 32, as vpsrad's immediate does for 0..31.
                    var amount = (int)(step.Immediate!.Value & 31);
                    if (amount == 0)
                    {
                        continue;
                    }

                    ForAll((i, v) => new VnniVector(VnniVectorOp.ShiftRight, accumulators[i, v], accumulators[i, v], Immediate: amount));
                }
                else if (step.Tensor is null)
                {
                    var constant = Reg($"k{tag}_{stepIndex}");
                    body.Add(new VnniVector(VnniVectorOp.Set1, constant, Scalar: (long)unchecked((int)step.Immediate!.Value)));
                    ForAll((i, v) => new VnniVector(op, accumulators[i, v], accumulators[i, v], constant));
                }
                else
                {
                    var tensor = gemm.EpilogueTensors.First(t => t.Name == step.Tensor);
                    var buffer = tensorBuffers[tensor.Name];
                    var byRow = rowTables.TryGetValue(tensor.Name, out var table);
                    var vectorStride = gemm.Vector >= 0 ? tensor.Strides[gemm.Vector] : 0;
                    for (var i = 0; i < mr; i++)
                    {
                        if (i > 0 && !byRow && vectorStride == 1)
                        {
                            continue;
                        }

                        VnniExpr rowOffset = byRow ? new VnniVarRef(offsets.Epilogue[tensor.Name]) + new VnniLoad(table, new VnniVarRef(ir) + i) : offsets.Epilogue[tensor.Name];
                        var operand = new VnniVReg[nr];
                        for (var v = 0; v < nr; v++)
                        {
                            operand[v] = Reg($"e{tag}_{stepIndex}_{i}_{v}");
                            body.Add(vectorStride == 1
                                ? new VnniVector(VnniVectorOp.Load, operand[v], Buffer: buffer, Index: rowOffset + jr + (v * Lanes), Count: LanesOf(v))
                                : new VnniVector(VnniVectorOp.Broadcast, operand[v], Buffer: buffer, Index: rowOffset));
                        }

                        var rows = !byRow && vectorStride == 1 ? Enumerable.Range(0, mr) : [i];
                        foreach (var row in rows)
                        {
                            for (var v = 0; v < nr; v++)
                            {
                                body.Add(new VnniVector(op, accumulators[row, v], accumulators[row, v], operand[v]));
                            }
                        }
                    }
                }
            }

            var narrow = plan.OutputType != ElementType.I32;
            var output = tensorBuffers[plan.Output];
            var byRowC = rowTables.TryGetValue("c", out var rowsC);
            for (var i = 0; i < mr; i++)
            {
                VnniExpr row = byRowC ? new VnniVarRef(offsets.C) + new VnniLoad(rowsC, new VnniVarRef(ir) + i) : offsets.C;
                var rowVar = Var($"c_row{i}");
                body.Add(new VnniSet(rowVar, row));
                for (var v = 0; v < nr; v++)
                {
                    body.Add(new VnniVector(narrow ? VnniVectorOp.Store8 : VnniVectorOp.Store32, null, accumulators[i, v], Buffer: output,
                        Index: new VnniVarRef(rowVar) + jr + (v * Lanes), Count: LanesOf(v)));
                }
            }

            return new VnniBlock([.. body]);
        }

        // ---- helpers ------------------------------------------------------------------------------------------

        private VnniBlock Nest(IReadOnlyList<int> loops, IReadOnlyDictionary<int, VnniVar> vars, Func<IReadOnlyList<VnniStmt>> body, int parallelLoop = -1)
        {
            var inner = new VnniBlock([.. body()]);
            for (var i = loops.Count - 1; i >= 0; i--)
            {
                inner = new VnniBlock([new VnniFor(vars[loops[i]], 0, gemm.Loops[loops[i]].Extent, 1, inner, loops[i] == parallelLoop, NoWait: true)]);
            }

            return inner;
        }

        private VnniExpr Flat(IReadOnlyList<int> loops, IReadOnlyDictionary<int, VnniVar> vars)
        {
            VnniExpr result = 0;
            long radix = 1;
            for (var i = loops.Count - 1; i >= 0; i--)
            {
                result = (new VnniVarRef(vars[loops[i]]) * radix) + result;
                radix *= gemm.Loops[loops[i]].Extent;
            }

            return result;
        }

        private static VnniExpr Dot(long constant, long[] strides, IReadOnlyDictionary<int, VnniVar> vars)
        {
            VnniExpr result = constant;
            foreach (var (l, v) in vars.OrderBy(p => p.Key))
            {
                if (strides[l] != 0)
                {
                    result += new VnniVarRef(v) * strides[l];
                }
            }

            return result;
        }

        // 1 when every dimension of a (padded) access is inside the tensor.
        private static VnniExpr InBounds(Codelets.Semantics.AccessInstance access, ImmutableArray<int> shape, IReadOnlyDictionary<int, VnniVar> vars)
        {
            VnniExpr result = 1;
            for (var d = 0; d < access.Indices.Length; d++)
            {
                var index = access.Indices[d];
                VnniExpr value = index.Constant;
                for (var l = 0; l < index.Coefficients.Length; l++)
                {
                    if (index.Coefficients[l] != 0 && vars.TryGetValue(l, out var v))
                    {
                        value += new VnniVarRef(v) * index.Coefficients[l];
                    }
                }

                if (value is VnniConst)
                {
                    continue;
                }

                result = VnniExpr.And(result, VnniExpr.And(VnniExpr.Less(-1, value), VnniExpr.Less(value, shape[d])));
            }

            return result;
        }
    }
}
