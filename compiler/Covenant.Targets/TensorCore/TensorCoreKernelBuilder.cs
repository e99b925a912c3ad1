using System.Collections.Immutable;
using Covenant.Codelets;
using Covenant.Runtime.TensorCore;
using static Covenant.Runtime.TensorCore.TensorCoreExpr;

namespace Covenant.Targets.TensorCore;

/// <summary>
/// Builds a plan's thread-block program (see TensorCoreIr.cs):
/// <code>
///   per-thread setup: warp, lane, the warp tile's origin, each copy slot's row decomposition and swizzled shared
///                     offset, each ldmatrix lane's swizzled offset (all loop-invariant, so computed once)
///   zero the accumulators
///   prologue:  stages 0 .. S-2 <- k-tiles 0 .. S-2 by cp.async, one commit group each
///   for kt:    wait until k-tile kt has landed (wait_group S-2), barrier
///              refill the stage read in iteration kt-1 with k-tile kt+S-1 (safe: every warp passed the barrier), commit
///              for each mma-k step: ldmatrix the warp's A and B fragments, mma every (16 x 8) accumulator tile
///   epilogue:  each lane stores its accumulator elements (mma's C layout) where they fall inside M x N
/// </code>
/// An empty commit group keeps the wait count uniform at the end of the k loop.
/// </summary>
public static class TensorCoreKernelBuilder
{
    public const string FragmentA = "fa";
    public const string FragmentB = "fb";
    public const string Accumulators = "acc";

    public static TensorCoreKernel Build(TensorCorePlan plan)
    {
        ArgumentNullException.ThrowIfNull(plan);
        return new Builder(plan).Build();
    }

    private sealed class Builder(TensorCorePlan plan)
    {
        private readonly List<TensorCoreStmt> setup = [];
        private int unique;

        private static TensorCoreExpr Tid => Var("tid");

        private int ChunkElements => 16 / plan.ElementBytes;

        public TensorCoreKernel Build()
        {
            var body = new List<TensorCoreStmt>();
            var warpTilesM = plan.WarpM / 16;
            var warpTilesN = plan.WarpN / 8;
            setup.Add(new TensorCoreComment($"{plan.WarpsM} x {plan.WarpsN} warps, each a {plan.WarpM} x {plan.WarpN} tile of C"));
            setup.Add(new TensorCoreLet("warp", Tid / 32));
            setup.Add(new TensorCoreLet("lane", Tid % 32));
            setup.Add(new TensorCoreLet("wm0", Var("warp") / plan.WarpsN * plan.WarpM));
            setup.Add(new TensorCoreLet("wn0", Var("warp") % plan.WarpsN * plan.WarpN));
            for (var i = 0; i < plan.BatchLoops.Length; i++)
            {
                setup.Add(new TensorCoreLet("b_" + plan.Loops[plan.BatchLoops[i]].Name, Digit(Var("bz"), plan.BatchLoops, i)));
            }

            var loadA = OperandCopies(plan.A, isA: true, tileBase: 0);
            var loadB = OperandCopies(plan.B, isA: false, tileBase: plan.TileBytes(plan.A));
            var fragmentLoads = FragmentLoads();

            body.AddRange(setup);
            body.Add(new TensorCoreZero(Accumulators));
            body.Add(new TensorCoreComment($"prologue: fill stages 0..{plan.Stages - 2}"));
            for (var stage = 0; stage < plan.Stages - 1; stage++)
            {
                if (stage < plan.KTiles)
                {
                    body.AddRange(loadA(Of(stage), Of(stage * plan.StageBytes)));
                    body.AddRange(loadB(Of(stage), Of(stage * plan.StageBytes)));
                }

                body.Add(new TensorCoreCommitGroup());
            }

            var loop = new List<TensorCoreStmt>
            {
                new TensorCoreWaitGroup(plan.Stages - 2),
                new TensorCoreBarrier(),
                new TensorCoreLet("kn", Var("kt") + (plan.Stages - 1)),
                new TensorCoreLet("sn", Var("kn") % plan.Stages * plan.StageBytes),
            };
            var refill = new List<TensorCoreStmt>();
            refill.AddRange(loadA(Var("kn"), Var("sn")));
            refill.AddRange(loadB(Var("kn"), Var("sn")));
            loop.Add(new TensorCoreIf(Less(Var("kn"), Of(plan.KTiles)), [.. refill]));
            loop.Add(new TensorCoreCommitGroup());
            loop.Add(new TensorCoreLet("sb", Var("kt") % plan.Stages * plan.StageBytes));
            for (var kk = 0; kk < plan.BlockK / plan.MmaK; kk++)
            {
                loop.AddRange(fragmentLoads(kk));
                for (var mi = 0; mi < warpTilesM; mi++)
                {
                    for (var ni = 0; ni < warpTilesN; ni++)
                    {
                        loop.Add(new TensorCoreMma(plan.Shape, Accumulators, ((mi * warpTilesN) + ni) * 4, FragmentA, mi * 4, FragmentB, ni * 2));
                    }
                }
            }

            body.Add(new TensorCoreComment($"main loop over {plan.KTiles} k-tiles of {plan.BlockK}"));
            body.Add(new TensorCoreFor("kt", plan.KTiles, [.. loop]));
            body.AddRange(Epilogue());

            var accumulatorKind = plan.Shape == TensorCoreMmaShape.M16N8K16F16 ? TensorCoreRegisterKind.F32 : TensorCoreRegisterKind.S32;
            var tensors = plan.Instance.Tensors.Where(t => t.Role != Codelets.Semantics.TensorRole.Local)
                .OrderBy(t => t.Role == Codelets.Semantics.TensorRole.Output ? 1 : 0)
                .Select(t => new TensorCoreTensor(t.Name, t.ElementType.Name(), t.Shape, t.ElementCount, t.Role == Codelets.Semantics.TensorRole.Output));
            return new TensorCoreKernel(
                "covenant_" + plan.Instance.Name,
                plan.Architecture,
                plan.ComputeCapability,
                plan.Shape,
                [.. tensors],
                plan.GridX,
                plan.GridY,
                (int)plan.Batch,
                plan.Threads,
                plan.SharedBytes,
                [
                    new TensorCoreRegisterArray(FragmentA, warpTilesM * 4, TensorCoreRegisterKind.B32),
                    new TensorCoreRegisterArray(FragmentB, Math.Max(2, warpTilesN * 2), TensorCoreRegisterKind.B32),
                    new TensorCoreRegisterArray(Accumulators, warpTilesM * warpTilesN * 4, accumulatorKind),
                ],
                [.. body],
                new TensorCoreGemmShape(plan.M, plan.N, plan.K, plan.Batch),
                plan.Describe());
        }

        // Digit i of a fused index in the mixed radix of `loops` (the last loop fastest).
        private TensorCoreExpr Digit(TensorCoreExpr fused, ImmutableArray<int> loops, int i)
        {
            long radix = 1;
            for (var j = loops.Length - 1; j > i; j--)
            {
                radix *= plan.Loops[loops[j]].Extent;
            }

            var value = fused / radix;
            return i == 0 ? value : value % plan.Loops[loops[i]].Extent;
        }

        private string Name(string stem) => $"{stem}{unique++}";

        // Lets for the digits of a fused index; returns loop index -> variable.
        private Dictionary<int, TensorCoreExpr> Decompose(List<TensorCoreStmt> into, TensorCoreExpr fused, ImmutableArray<int> loops, string stem)
        {
            var values = new Dictionary<int, TensorCoreExpr>();
            for (var i = 0; i < loops.Length; i++)
            {
                var name = $"{stem}_{plan.Loops[loops[i]].Name}";
                into.Add(new TensorCoreLet(name, Digit(fused, loops, i)));
                values[loops[i]] = Var(name);
            }

            return values;
        }

        private TensorCoreExpr BatchValue(int loop) => Var("b_" + plan.Loops[loop].Name);

        /// <summary>The index of every tensor dimension from the values of the loops it uses.</summary>
        private TensorCoreExpr[] Indices(TensorCoreOperandPlan operand, IReadOnlyDictionary<int, TensorCoreExpr> values)
        {
            var indices = new TensorCoreExpr[operand.Access.Indices.Length];
            for (var d = 0; d < indices.Length; d++)
            {
                var index = operand.Access.Indices[d];
                TensorCoreExpr sum = Of(index.Constant);
                for (var l = 0; l < index.Coefficients.Length; l++)
                {
                    if (index.Coefficients[l] != 0 && values.TryGetValue(l, out var value))
                    {
                        sum += value * index.Coefficients[l];
                    }
                }

                indices[d] = sum;
            }

            return indices;
        }

        // Dimensions whose index can leave [0, size) for in-range loop values (a padded convolution's h and w).
        private bool NeedsBoundsCheck(TensorCoreOperandPlan operand, int d)
        {
            var index = operand.Access.Indices[d];
            return index.Min(plan.Loops) < 0 || index.Max(plan.Loops) >= operand.Tensor.Shape[d];
        }

        /// <summary>
        /// The copy statements of one operand, as a function of the k-tile and the shared stage base; the loop-invariant
        /// part (per-slot row decomposition and shared offsets) goes to the setup.
        /// </summary>
        private Func<TensorCoreExpr, TensorCoreExpr, List<TensorCoreStmt>> OperandCopies(TensorCoreOperandPlan operand, bool isA, int tileBase)
        {
            var copy = new OperandCopy(
                operand,
                isA ? "a" : "b",
                isA ? plan.BlockM : plan.BlockN,
                isA ? plan.M : plan.N,
                isA ? Var("by") * plan.BlockM : Var("bx") * plan.BlockN,
                tileBase);
            setup.Add(new TensorCoreComment($"{(isA ? "A" : "B")} = {operand.Name}: {operand.Layout}, {copy.Rows} x {plan.BlockK} per stage at +{tileBase}"));
            return operand.Layout == TensorCoreOperandLayout.KMajorByElement ? ElementCopies(copy) : ChunkCopies(copy);
        }

        /// <summary>One operand's copy into a stage: its GEMM side's rows (BlockM or BlockN of them, M or N in all) from BlockBase.</summary>
        private sealed record OperandCopy(TensorCoreOperandPlan Operand, string Prefix, int Rows, long Extent, TensorCoreExpr BlockBase, int TileBase);

        // Element by element: each thread copies elements id, id + threads, ... of the tile, decomposing each one.
        private Func<TensorCoreExpr, TensorCoreExpr, List<TensorCoreStmt>> ElementCopies(OperandCopy copy)
        {
            var (operand, prefix, rows, extent, blockBase, tileBase) = copy;
            var (threads, e) = (plan.Threads, plan.ElementBytes);
            var batchValues = plan.BatchLoops.ToDictionary(l => l, BatchValue);
            var elements = rows * plan.BlockK;
            var perThread = (elements + threads - 1) / threads;
            var rowChunks = plan.BlockK * e / 16;
            var outerLast = operand.OuterLoops.IsEmpty ? -1 : operand.OuterLoops[^1];
            var rowFastest = outerLast >= 0 && operand.Access.Indices[^1].Coefficients[outerLast] == 1
                && operand.Access.Indices.Take(operand.Access.Indices.Length - 1).All(i => i.Coefficients[outerLast] == 0);
            return (kTile, stageBase) =>
            {
                var slot = Name(prefix + "e");
                var body = new List<TensorCoreStmt>();
                var id = Name(prefix + "id");
                body.Add(new TensorCoreLet(id, Tid + (Var(slot) * threads)));
                var row = Name(prefix + "row");
                var kElement = Name(prefix + "kel");
                body.Add(new TensorCoreLet(row, rowFastest ? Var(id) % rows : Var(id) / plan.BlockK));
                body.Add(new TensorCoreLet(kElement, rowFastest ? Var(id) / rows : Var(id) % plan.BlockK));
                var m = Name(prefix + "m");
                body.Add(new TensorCoreLet(m, blockBase + Var(row)));
                var values = new Dictionary<int, TensorCoreExpr>(batchValues);
                foreach (var (l, v) in Decompose(body, Var(m), operand.OuterLoops, Name(prefix + "o")))
                {
                    values[l] = v;
                }

                var k = Name(prefix + "k");
                body.Add(new TensorCoreLet(k, (kTile * plan.BlockK) + Var(kElement)));
                foreach (var (l, v) in Decompose(body, Var(k), plan.ReductionLoops, Name(prefix + "r")))
                {
                    values[l] = v;
                }

                var (offset, valid) = Address(operand, values, Var(m), extent, rows, Var(k));
                var shared = stageBase + tileBase + TensorCoreSharedLayout.Offset(Var(row), Var(kElement) / ChunkElements, rowChunks)
                    + (Var(kElement) % ChunkElements * e);
                var guard = elements % threads == 0 ? True : Less(Var(id), Of(elements));
                body.Add(new TensorCoreCopyElement(shared, operand.Name, offset, valid, guard));
                return [new TensorCoreFor(slot, perThread, [.. body])];
            };
        }

        // Vector layouts: each thread owns fixed 16-byte chunk slots; their decomposition is hoisted to the setup.
        private Func<TensorCoreExpr, TensorCoreExpr, List<TensorCoreStmt>> ChunkCopies(OperandCopy copy)
        {
            var (operand, prefix, rows, extent, blockBase, tileBase) = copy;
            var (threads, e) = (plan.Threads, plan.ElementBytes);
            var batchValues = plan.BatchLoops.ToDictionary(l => l, BatchValue);
            var kMajor = operand.Layout == TensorCoreOperandLayout.KMajor;
            var tileRows = kMajor ? rows : plan.BlockK;
            var chunksPerRow = (kMajor ? plan.BlockK * e : rows * e) / 16;
            var chunks = tileRows * chunksPerRow;
            var slots = (chunks + threads - 1) / threads;
            var slotSetup = new List<(TensorCoreExpr Guard, Dictionary<int, TensorCoreExpr> Values, TensorCoreExpr M, TensorCoreExpr SharedOffset, TensorCoreExpr KInTile)>();
            for (var s = 0; s < slots; s++)
            {
                var id = Tid + (s * threads);
                var guard = (long)(s + 1) * threads <= chunks ? True : Less(id, Of(chunks));
                var row = $"{prefix}r{s}";
                var chunk = $"{prefix}c{s}";
                setup.Add(new TensorCoreLet(row, id / chunksPerRow));
                setup.Add(new TensorCoreLet(chunk, id % chunksPerRow));
                var mName = $"{prefix}m{s}";
                setup.Add(new TensorCoreLet(mName, blockBase + (kMajor ? Var(row) : Var(chunk) * ChunkElements)));
                var values = new Dictionary<int, TensorCoreExpr>(batchValues);
                foreach (var (l, v) in Decompose(setup, Var(mName), operand.OuterLoops, $"{prefix}{s}"))
                {
                    values[l] = v;
                }

                var sharedName = $"{prefix}s{s}";
                setup.Add(new TensorCoreLet(sharedName, TensorCoreSharedLayout.Offset(Var(row), Var(chunk), chunksPerRow) + tileBase));
                slotSetup.Add((guard, values, Var(mName), Var(sharedName), kMajor ? Var(chunk) * ChunkElements : Var(row)));
            }

            return (kTile, stageBase) =>
            {
                var statements = new List<TensorCoreStmt>();
                foreach (var (guard, rowValues, m, sharedOffset, kInTile) in slotSetup)
                {
                    var k = Name(prefix + "k");
                    statements.Add(new TensorCoreLet(k, (kTile * plan.BlockK) + kInTile));
                    var values = new Dictionary<int, TensorCoreExpr>(rowValues);
                    foreach (var (l, v) in Decompose(statements, Var(k), plan.ReductionLoops, Name(prefix + "r")))
                    {
                        values[l] = v;
                    }

                    var (offset, valid) = Address(operand, values, m, extent, rows, Var(k));
                    statements.Add(new TensorCoreCpAsync(stageBase + sharedOffset, operand.Name, offset, valid, guard));
                }

                return statements;
            };
        }

        // Element offset and validity of an operand element: inside M (or N), inside K, and inside the tensor.
        private (TensorCoreExpr Offset, TensorCoreExpr Valid) Address(TensorCoreOperandPlan operand, Dictionary<int, TensorCoreExpr> values, TensorCoreExpr m, long extent, int rows, TensorCoreExpr k)
        {
            var indices = Indices(operand, values);
            var strides = operand.Tensor.Strides;
            TensorCoreExpr offset = Of(0);
            TensorCoreExpr valid = True;
            // Rows past M exist only in the last block; k past K only in the last k-tile.
            if (extent % rows != 0)
            {
                valid = And(valid, Less(m, Of(extent)));
            }

            if (plan.K % plan.BlockK != 0)
            {
                valid = And(valid, Less(k, Of(plan.K)));
            }

            for (var d = 0; d < indices.Length; d++)
            {
                offset += indices[d] * strides[d];
                if (NeedsBoundsCheck(operand, d))
                {
                    valid = And(valid, And(Less(Of(-1), indices[d]), Less(indices[d], Of(operand.Tensor.Shape[d]))));
                }
            }

            return (offset, valid);
        }

        private Func<int, List<TensorCoreStmt>> FragmentLoads()
        {
            var warpTilesM = plan.WarpM / 16;
            var warpTilesN = plan.WarpN / 8;
            var lane = Var("lane");
            var matrix = lane / 8;
            var rowInMatrix = lane % 8;
            var chunksA = plan.A.Layout == TensorCoreOperandLayout.MnMajor ? plan.BlockM * plan.ElementBytes / 16 : plan.BlockK * plan.ElementBytes / 16;
            var chunksB = plan.B.Layout == TensorCoreOperandLayout.MnMajor ? plan.BlockN * plan.ElementBytes / 16 : plan.BlockK * plan.ElementBytes / 16;
            var tileB = plan.TileBytes(plan.A);
            var steps = plan.BlockK / plan.MmaK;
            setup.Add(new TensorCoreComment("ldmatrix lane addresses (lane 8j + i: row i of matrix j)"));
            var offsetsA = new TensorCoreExpr[warpTilesM, steps];
            var offsetsB = new TensorCoreExpr[Math.Max(1, warpTilesN / 2), steps];
            for (var kk = 0; kk < steps; kk++)
            {
                for (var mi = 0; mi < warpTilesM; mi++)
                {
                    // Matrices: (m 0-7, k 0-7), (m 8-15, k 0-7), (m 0-7, k 8-15), (m 8-15, k 8-15) — the A fragment's a0..a3.
                    var offset = plan.A.Layout == TensorCoreOperandLayout.MnMajor
                        ? TensorCoreSharedLayout.Offset(Of(kk * 16) + rowInMatrix + (matrix / 2 * 8), ((Var("wm0") + (mi * 16)) / 8) + (matrix % 2), chunksA)
                        : TensorCoreSharedLayout.Offset(Var("wm0") + (mi * 16) + rowInMatrix + (matrix % 2 * 8), Of(kk * 2) + (matrix / 2), chunksA);
                    var name = $"la{mi}_{kk}";
                    setup.Add(new TensorCoreLet(name, offset));
                    offsetsA[mi, kk] = Var(name);
                }

                for (var pair = 0; pair < Math.Max(1, warpTilesN / 2); pair++)
                {
                    // x4: matrices (n-tile 2p, k 0-7), (2p, k 8-15), (2p+1, k 0-7), (2p+1, k 8-15); x2 (one n-tile): the first two.
                    TensorCoreExpr tile = warpTilesN == 1 ? Of(0) : Of(pair * 2) + (matrix / 2);
                    var half = warpTilesN == 1 ? matrix % 2 : matrix % 2;
                    var offset = plan.B.Layout == TensorCoreOperandLayout.MnMajor
                        ? TensorCoreSharedLayout.Offset(Of(kk * 16) + rowInMatrix + (half * 8), (Var("wn0") / 8) + tile, chunksB)
                        : TensorCoreSharedLayout.Offset(Var("wn0") + (tile * 8) + rowInMatrix, Of(kk * 2) + half, chunksB);
                    var name = $"lb{pair}_{kk}";
                    setup.Add(new TensorCoreLet(name, offset + tileB));
                    offsetsB[pair, kk] = Var(name);
                }
            }

            return kk =>
            {
                var statements = new List<TensorCoreStmt>();
                for (var mi = 0; mi < warpTilesM; mi++)
                {
                    statements.Add(new TensorCoreLdMatrix(4, plan.A.Layout == TensorCoreOperandLayout.MnMajor, FragmentA, mi * 4, Var("sb") + offsetsA[mi, kk]));
                }

                for (var pair = 0; pair < Math.Max(1, warpTilesN / 2); pair++)
                {
                    statements.Add(new TensorCoreLdMatrix(warpTilesN == 1 ? 2 : 4, plan.B.Layout == TensorCoreOperandLayout.MnMajor, FragmentB, pair * 4, Var("sb") + offsetsB[pair, kk]));
                }

                return statements;
            };
        }

        // mma's C layout: register 2h + e of a 16 x 8 tile is row g + 8h, column 2t + e (g = lane / 4, t = lane % 4).
        private List<TensorCoreStmt> Epilogue()
        {
            var statements = new List<TensorCoreStmt> { new TensorCoreComment("epilogue: accumulators to global memory, inside M x N only") };
            var warpTilesM = plan.WarpM / 16;
            var warpTilesN = plan.WarpN / 8;
            statements.Add(new TensorCoreLet("g", Var("lane") / 4));
            statements.Add(new TensorCoreLet("t", Var("lane") % 4));
            var output = plan.Output;
            var strides = output.Strides;
            var loopStride = new long[plan.Loops.Length];
            long constant = 0;
            for (var d = 0; d < plan.OutputAccess.Indices.Length; d++)
            {
                constant += plan.OutputAccess.Indices[d].Constant * strides[d];
                for (var l = 0; l < plan.Loops.Length; l++)
                {
                    loopStride[l] += plan.OutputAccess.Indices[d].Coefficients[l] * strides[d];
                }
            }

            TensorCoreExpr batchOffset = Of(constant);
            foreach (var l in plan.BatchLoops)
            {
                batchOffset += BatchValue(l) * loopStride[l];
            }

            statements.Add(new TensorCoreLet("ob", batchOffset));
            TensorCoreExpr Part(List<TensorCoreStmt> into, TensorCoreExpr fused, ImmutableArray<int> loops, string stem)
            {
                TensorCoreExpr sum = Of(0);
                foreach (var (l, v) in Decompose(into, fused, loops, stem))
                {
                    sum += v * loopStride[l];
                }

                return sum;
            }

            for (var mi = 0; mi < warpTilesM; mi++)
            {
                for (var h = 0; h < 2; h++)
                {
                    var m = $"em{mi}_{h}";
                    statements.Add(new TensorCoreLet(m, (Var("by") * plan.BlockM) + Var("wm0") + ((mi * 16) + (h * 8)) + Var("g")));
                    statements.Add(new TensorCoreLet($"or{mi}_{h}", Part(statements, Var(m), plan.RowLoops, m)));
                }
            }

            for (var ni = 0; ni < warpTilesN; ni++)
            {
                for (var e = 0; e < 2; e++)
                {
                    var n = $"en{ni}_{e}";
                    statements.Add(new TensorCoreLet(n, (Var("bx") * plan.BlockN) + Var("wn0") + ((ni * 8) + e) + (Var("t") * 2)));
                    statements.Add(new TensorCoreLet($"oc{ni}_{e}", Part(statements, Var(n), plan.ColumnLoops, n)));
                }
            }

            for (var mi = 0; mi < warpTilesM; mi++)
            {
                for (var ni = 0; ni < warpTilesN; ni++)
                {
                    for (var r = 0; r < 4; r++)
                    {
                        var (h, e) = (r / 2, r % 2);
                        var valid = And(
                            plan.M % plan.BlockM == 0 ? True : Less(Var($"em{mi}_{h}"), Of(plan.M)),
                            plan.N % plan.BlockN == 0 ? True : Less(Var($"en{ni}_{e}"), Of(plan.N)));
                        statements.Add(new TensorCoreStore(Accumulators, ((mi * warpTilesN) + ni) * 4 + r, output.Name,
                            Var("ob") + Var($"or{mi}_{h}") + Var($"oc{ni}_{e}"), valid));
                    }
                }
            }

            return statements;
        }
    }
}
