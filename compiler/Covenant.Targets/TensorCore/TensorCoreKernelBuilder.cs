using System.Collections.Immutable;
using Covenant.Codelets;
using static Covenant.Targets.TensorCore.TcExpr;

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

    public static TcKernel Build(TensorCorePlan plan)
    {
        ArgumentNullException.ThrowIfNull(plan);
        return new Builder(plan).Build();
    }

    private sealed class Builder(TensorCorePlan plan)
    {
        private readonly List<TcStmt> setup = [];
        private int unique;

        private static TcExpr Tid => Var("tid");

        private int ChunkElements => 16 / plan.ElementBytes;

        public TcKernel Build()
        {
            var body = new List<TcStmt>();
            var warpTilesM = plan.WarpM / 16;
            var warpTilesN = plan.WarpN / 8;
            setup.Add(new TcComment($"{plan.WarpsM} x {plan.WarpsN} warps, each a {plan.WarpM} x {plan.WarpN} tile of C"));
            setup.Add(new TcLet("warp", Tid / 32));
            setup.Add(new TcLet("lane", Tid % 32));
            setup.Add(new TcLet("wm0", Var("warp") / plan.WarpsN * plan.WarpM));
            setup.Add(new TcLet("wn0", Var("warp") % plan.WarpsN * plan.WarpN));
            for (var i = 0; i < plan.BatchLoops.Length; i++)
            {
                setup.Add(new TcLet("b_" + plan.Loops[plan.BatchLoops[i]].Name, Digit(Var("bz"), plan.BatchLoops, i)));
            }

            var loadA = OperandCopies(plan.A, isA: true, tileBase: 0);
            var loadB = OperandCopies(plan.B, isA: false, tileBase: plan.TileBytes(plan.A));
            var fragmentLoads = FragmentLoads();

            body.AddRange(setup);
            body.Add(new TcZero(Accumulators));
            body.Add(new TcComment($"prologue: fill stages 0..{plan.Stages - 2}"));
            for (var stage = 0; stage < plan.Stages - 1; stage++)
            {
                if (stage < plan.KTiles)
                {
                    body.AddRange(loadA(Of(stage), Of(stage * plan.StageBytes)));
                    body.AddRange(loadB(Of(stage), Of(stage * plan.StageBytes)));
                }

                body.Add(new TcCommitGroup());
            }

            var loop = new List<TcStmt>
            {
                new TcWaitGroup(plan.Stages - 2),
                new TcBarrier(),
                new TcLet("kn", Var("kt") + (plan.Stages - 1)),
                new TcLet("sn", Var("kn") % plan.Stages * plan.StageBytes),
            };
            var refill = new List<TcStmt>();
            refill.AddRange(loadA(Var("kn"), Var("sn")));
            refill.AddRange(loadB(Var("kn"), Var("sn")));
            loop.Add(new TcIf(Less(Var("kn"), Of(plan.KTiles)), [.. refill]));
            loop.Add(new TcCommitGroup());
            loop.Add(new TcLet("sb", Var("kt") % plan.Stages * plan.StageBytes));
            for (var kk = 0; kk < plan.BlockK / plan.MmaK; kk++)
            {
                loop.AddRange(fragmentLoads(kk));
                for (var mi = 0; mi < warpTilesM; mi++)
                {
                    for (var ni = 0; ni < warpTilesN; ni++)
                    {
                        loop.Add(new TcMma(plan.Shape, Accumulators, ((mi * warpTilesN) + ni) * 4, FragmentA, mi * 4, FragmentB, ni * 2));
                    }
                }
            }

            body.Add(new TcComment($"main loop over {plan.KTiles} k-tiles of {plan.BlockK}"));
            body.Add(new TcFor("kt", plan.KTiles, [.. loop]));
            body.AddRange(Epilogue());

            var accumulatorKind = plan.Shape == TcMmaShape.M16N8K16F16 ? TcRegisterKind.F32 : TcRegisterKind.S32;
            var tensors = plan.Instance.Tensors.Where(t => t.Role != Codelets.Semantics.TensorRole.Local)
                .OrderBy(t => t.Role == Codelets.Semantics.TensorRole.Output ? 1 : 0)
                .Select(t => new TcTensor(t.Name, t.ElementType.Name(), t.Shape, t.ElementCount, t.Role == Codelets.Semantics.TensorRole.Output));
            return new TcKernel(
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
                    new TcRegisterArray(FragmentA, warpTilesM * 4, TcRegisterKind.B32),
                    new TcRegisterArray(FragmentB, Math.Max(2, warpTilesN * 2), TcRegisterKind.B32),
                    new TcRegisterArray(Accumulators, warpTilesM * warpTilesN * 4, accumulatorKind),
                ],
                [.. body],
                new TcGemmShape(plan.M, plan.N, plan.K, plan.Batch),
                plan.Describe());
        }

        // Digit i of a fused index in the mixed radix of `loops` (the last loop fastest).
        private TcExpr Digit(TcExpr fused, ImmutableArray<int> loops, int i)
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
        private Dictionary<int, TcExpr> Decompose(List<TcStmt> into, TcExpr fused, ImmutableArray<int> loops, string stem)
        {
            var values = new Dictionary<int, TcExpr>();
            for (var i = 0; i < loops.Length; i++)
            {
                var name = $"{stem}_{plan.Loops[loops[i]].Name}";
                into.Add(new TcLet(name, Digit(fused, loops, i)));
                values[loops[i]] = Var(name);
            }

            return values;
        }

        private TcExpr BatchValue(int loop) => Var("b_" + plan.Loops[loop].Name);

        /// <summary>The index of every tensor dimension from the values of the loops it uses.</summary>
        private TcExpr[] Indices(TcOperandPlan operand, IReadOnlyDictionary<int, TcExpr> values)
        {
            var indices = new TcExpr[operand.Access.Indices.Length];
            for (var d = 0; d < indices.Length; d++)
            {
                var index = operand.Access.Indices[d];
                TcExpr sum = Of(index.Constant);
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
        private bool NeedsBoundsCheck(TcOperandPlan operand, int d)
        {
            var index = operand.Access.Indices[d];
            return index.Min(plan.Loops) < 0 || index.Max(plan.Loops) >= operand.Tensor.Shape[d];
        }

        /// <summary>
        /// The copy statements of one operand, as a function of the k-tile and the shared stage base; the loop-invariant
        /// part (per-slot row decomposition and shared offsets) goes to the setup.
        /// </summary>
        private Func<TcExpr, TcExpr, List<TcStmt>> OperandCopies(TcOperandPlan operand, bool isA, int tileBase)
        {
            var prefix = isA ? "a" : "b";
            var rows = isA ? plan.BlockM : plan.BlockN;
            var extent = isA ? plan.M : plan.N;
            var blockBase = isA ? Var("by") * plan.BlockM : Var("bx") * plan.BlockN;
            var threads = plan.Threads;
            var e = plan.ElementBytes;
            setup.Add(new TcComment($"{(isA ? "A" : "B")} = {operand.Name}: {operand.Layout}, {rows} x {plan.BlockK} per stage at +{tileBase}"));
            var batchValues = plan.BatchLoops.ToDictionary(l => l, BatchValue);

            if (operand.Layout == TcOperandLayout.KMajorByElement)
            {
                var elements = rows * plan.BlockK;
                var perThread = (elements + threads - 1) / threads;
                var rowChunks = plan.BlockK * e / 16;
                var outerLast = operand.OuterLoops.IsEmpty ? -1 : operand.OuterLoops[^1];
                var rowFastest = outerLast >= 0 && operand.Access.Indices[^1].Coefficients[outerLast] == 1
                    && operand.Access.Indices.Take(operand.Access.Indices.Length - 1).All(i => i.Coefficients[outerLast] == 0);
                return (kTile, stageBase) =>
                {
                    var slot = Name(prefix + "e");
                    var body = new List<TcStmt>();
                    var id = Name(prefix + "id");
                    body.Add(new TcLet(id, Tid + (Var(slot) * threads)));
                    var row = Name(prefix + "row");
                    var kElement = Name(prefix + "kel");
                    body.Add(new TcLet(row, rowFastest ? Var(id) % rows : Var(id) / plan.BlockK));
                    body.Add(new TcLet(kElement, rowFastest ? Var(id) / rows : Var(id) % plan.BlockK));
                    var m = Name(prefix + "m");
                    body.Add(new TcLet(m, blockBase + Var(row)));
                    var values = new Dictionary<int, TcExpr>(batchValues);
                    foreach (var (l, v) in Decompose(body, Var(m), operand.OuterLoops, Name(prefix + "o")))
                    {
                        values[l] = v;
                    }

                    var k = Name(prefix + "k");
                    body.Add(new TcLet(k, (kTile * plan.BlockK) + Var(kElement)));
                    foreach (var (l, v) in Decompose(body, Var(k), plan.ReductionLoops, Name(prefix + "r")))
                    {
                        values[l] = v;
                    }

                    var (offset, valid) = Address(operand, values, Var(m), extent, rows, Var(k));
                    var shared = stageBase + tileBase + TensorCoreSharedLayout.Offset(Var(row), Var(kElement) / ChunkElements, rowChunks)
                        + (Var(kElement) % ChunkElements * e);
                    var guard = elements % threads == 0 ? True : Less(Var(id), Of(elements));
                    body.Add(new TcCopyElement(shared, operand.Name, offset, valid, guard));
                    return [new TcFor(slot, perThread, [.. body])];
                };
            }

            // Vector layouts: each thread owns fixed chunk slots; their decomposition is hoisted.
            var kMajor = operand.Layout == TcOperandLayout.KMajor;
            var tileRows = kMajor ? rows : plan.BlockK;
            var chunksPerRow = (kMajor ? plan.BlockK * e : rows * e) / 16;
            var chunks = tileRows * chunksPerRow;
            var slots = (chunks + threads - 1) / threads;
            var slotSetup = new List<(TcExpr Guard, Dictionary<int, TcExpr> Values, TcExpr M, TcExpr SharedOffset, TcExpr KInTile)>();
            for (var s = 0; s < slots; s++)
            {
                var id = Tid + (s * threads);
                var guard = (long)(s + 1) * threads <= chunks ? True : Less(id, Of(chunks));
                var row = $"{prefix}r{s}";
                var chunk = $"{prefix}c{s}";
                setup.Add(new TcLet(row, id / chunksPerRow));
                setup.Add(new TcLet(chunk, id % chunksPerRow));
                var mName = $"{prefix}m{s}";
                setup.Add(new TcLet(mName, blockBase + (kMajor ? Var(row) : Var(chunk) * ChunkElements)));
                var values = new Dictionary<int, TcExpr>(batchValues);
                foreach (var (l, v) in Decompose(setup, Var(mName), operand.OuterLoops, $"{prefix}{s}"))
                {
                    values[l] = v;
                }

                var sharedName = $"{prefix}s{s}";
                setup.Add(new TcLet(sharedName, TensorCoreSharedLayout.Offset(Var(row), Var(chunk), chunksPerRow) + tileBase));
                slotSetup.Add((guard, values, Var(mName), Var(sharedName), kMajor ? Var(chunk) * ChunkElements : Var(row)));
            }

            return (kTile, stageBase) =>
            {
                var statements = new List<TcStmt>();
                foreach (var (guard, rowValues, m, sharedOffset, kInTile) in slotSetup)
                {
                    var k = Name(prefix + "k");
                    statements.Add(new TcLet(k, (kTile * plan.BlockK) + kInTile));
                    var values = new Dictionary<int, TcExpr>(rowValues);
                    foreach (var (l, v) in Decompose(statements, Var(k), plan.ReductionLoops, Name(prefix + "r")))
                    {
                        values[l] = v;
                    }

                    var (offset, valid) = Address(operand, values, m, extent, rows, Var(k));
                    statements.Add(new TcCpAsync(stageBase + sharedOffset, operand.Name, offset, valid, guard));
                }

                return statements;
            };
        }

        // Element offset and validity of an operand element: inside M (or N), inside K, and inside the tensor.
        private (TcExpr Offset, TcExpr Valid) Address(TcOperandPlan operand, Dictionary<int, TcExpr> values, TcExpr m, long extent, int rows, TcExpr k)
        {
            var indices = Indices(operand, values);
            var strides = operand.Tensor.Strides;
            TcExpr offset = Of(0);
            TcExpr valid = True;
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

        private Func<int, List<TcStmt>> FragmentLoads()
        {
            var warpTilesM = plan.WarpM / 16;
            var warpTilesN = plan.WarpN / 8;
            var lane = Var("lane");
            var matrix = lane / 8;
            var rowInMatrix = lane % 8;
            var chunksA = plan.A.Layout == TcOperandLayout.MnMajor ? plan.BlockM * plan.ElementBytes / 16 : plan.BlockK * plan.ElementBytes / 16;
            var chunksB = plan.B.Layout == TcOperandLayout.MnMajor ? plan.BlockN * plan.ElementBytes / 16 : plan.BlockK * plan.ElementBytes / 16;
            var tileB = plan.TileBytes(plan.A);
            var steps = plan.BlockK / plan.MmaK;
            setup.Add(new TcComment("ldmatrix lane addresses (lane 8j + i: row i of matrix j)"));
            var offsetsA = new TcExpr[warpTilesM, steps];
            var offsetsB = new TcExpr[Math.Max(1, warpTilesN / 2), steps];
            for (var kk = 0; kk < steps; kk++)
            {
                for (var mi = 0; mi < warpTilesM; mi++)
                {
                    // Matrices: (m 0-7, k 0-7), (m 8-15, k 0-7), (m 0-7, k 8-15), (m 8-15, k 8-15) — the A fragment's a0..a3.
                    var offset = plan.A.Layout == TcOperandLayout.MnMajor
                        ? TensorCoreSharedLayout.Offset(Of(kk * 16) + rowInMatrix + (matrix / 2 * 8), ((Var("wm0") + (mi * 16)) / 8) + (matrix % 2), chunksA)
                        : TensorCoreSharedLayout.Offset(Var("wm0") + (mi * 16) + rowInMatrix + (matrix % 2 * 8), Of(kk * 2) + (matrix / 2), chunksA);
                    var name = $"la{mi}_{kk}";
                    setup.Add(new TcLet(name, offset));
                    offsetsA[mi, kk] = Var(name);
                }

                for (var pair = 0; pair < Math.Max(1, warpTilesN / 2); pair++)
                {
                    // x4: matrices (n-tile 2p, k 0-7), (2p, k 8-15), (2p+1, k 0-7), (2p+1, k 8-15); x2 (one n-tile): the first two.
                    TcExpr tile = warpTilesN == 1 ? Of(0) : Of(pair * 2) + (matrix / 2);
                    var half = warpTilesN == 1 ? matrix % 2 : matrix % 2;
                    var offset = plan.B.Layout == TcOperandLayout.MnMajor
                        ? TensorCoreSharedLayout.Offset(Of(kk * 16) + rowInMatrix + (half * 8), (Var("wn0") / 8) + tile, chunksB)
                        : TensorCoreSharedLayout.Offset(Var("wn0") + (tile * 8) + rowInMatrix, Of(kk * 2) + half, chunksB);
                    var name = $"lb{pair}_{kk}";
                    setup.Add(new TcLet(name, offset + tileB));
                    offsetsB[pair, kk] = Var(name);
                }
            }

            return kk =>
            {
                var statements = new List<TcStmt>();
                for (var mi = 0; mi < warpTilesM; mi++)
                {
                    statements.Add(new TcLdMatrix(4, plan.A.Layout == TcOperandLayout.MnMajor, FragmentA, mi * 4, Var("sb") + offsetsA[mi, kk]));
                }

                for (var pair = 0; pair < Math.Max(1, warpTilesN / 2); pair++)
                {
                    statements.Add(new TcLdMatrix(warpTilesN == 1 ? 2 : 4, plan.B.Layout == TcOperandLayout.MnMajor, FragmentB, pair * 4, Var("sb") + offsetsB[pair, kk]));
                }

                return statements;
            };
        }

        // mma's C layout: register 2h + e of a 16 x 8 tile is row g + 8h, column 2t + e (g = lane / 4, t = lane % 4).
        private List<TcStmt> Epilogue()
        {
            var statements = new List<TcStmt> { new TcComment("epilogue: accumulators to global memory, inside M x N only") };
            var warpTilesM = plan.WarpM / 16;
            var warpTilesN = plan.WarpN / 8;
            statements.Add(new TcLet("g", Var("lane") / 4));
            statements.Add(new TcLet("t", Var("lane") % 4));
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

            TcExpr batchOffset = Of(constant);
            foreach (var l in plan.BatchLoops)
            {
                batchOffset += BatchValue(l) * loopStride[l];
            }

            statements.Add(new TcLet("ob", batchOffset));
            TcExpr Part(List<TcStmt> into, TcExpr fused, ImmutableArray<int> loops, string stem)
            {
                TcExpr sum = Of(0);
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
                    statements.Add(new TcLet(m, (Var("by") * plan.BlockM) + Var("wm0") + ((mi * 16) + (h * 8)) + Var("g")));
                    statements.Add(new TcLet($"or{mi}_{h}", Part(statements, Var(m), plan.RowLoops, m)));
                }
            }

            for (var ni = 0; ni < warpTilesN; ni++)
            {
                for (var e = 0; e < 2; e++)
                {
                    var n = $"en{ni}_{e}";
                    statements.Add(new TcLet(n, (Var("bx") * plan.BlockN) + Var("wn0") + ((ni * 8) + e) + (Var("t") * 2)));
                    statements.Add(new TcLet($"oc{ni}_{e}", Part(statements, Var(n), plan.ColumnLoops, n)));
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
                        statements.Add(new TcStore(Accumulators, ((mi * warpTilesN) + ni) * 4 + r, output.Name,
                            Var("ob") + Var($"or{mi}_{h}") + Var($"oc{ni}_{e}"), valid));
                    }
                }
            }

            return statements;
        }
    }
}
