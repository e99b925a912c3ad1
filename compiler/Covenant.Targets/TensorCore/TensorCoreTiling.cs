using Covenant.Core.Diagnostics;
using Covenant.Mapping.Model;
using Covenant.Runtime.TensorCore;

namespace Covenant.Targets.TensorCore;

/// <summary>
/// The last step of <see cref="TensorCorePlanning"/>: the block tile from the mapping's tiles, the warps, the pipeline
/// stages, each checked against the register file, shared memory and CUDA's grid (see <see cref="TensorCorePlan.Choose"/>).
/// </summary>
internal static class TensorCoreTiling
{
    public static Result<TensorCorePlan> Choose(
        GemmView view, TensorCoreMmaShape shape, TensorCoreMemory memory, TensorCoreImplicitGemm gemm, TensorCorePlanOptions options)
    {
        var (instance, graph, loops) = (view.Instance, view.Mapping.Graph, view.Nest.Loops);
        var codelet = instance.Syntax.Location;
        var (m, n, k, batch) = (gemm.M, gemm.N, gemm.K, gemm.Batch);
        var elementBytes = shape == TensorCoreMmaShape.M16N8K16F16 ? 2 : 1;

        long TileOf(IEnumerable<int> set) => set.Aggregate(1L, (p, l) => p * Math.Min(view.Loops[l].Mapping.Tile, loops[l].Extent));
        var blockM = options.BlockM ?? (int)Math.Min(Math.Clamp(FloorPow2(TileOf(gemm.Rows)), 16, 128), Math.Max(16, CeilPow2(m)));
        var blockN = options.BlockN ?? (int)Math.Min(Math.Clamp(FloorPow2(TileOf(gemm.Columns)), 8, 128), Math.Max(8, CeilPow2(n)));
        var mmaK = 32 / elementBytes;
        var blockK = options.BlockK ?? (int)Math.Min(128 / elementBytes, Math.Max(mmaK, CeilPow2(k)));
        if (!IsPow2(blockM) || blockM < 16 || blockM > 256 || !IsPow2(blockN) || blockN < 8 || blockN > 256 || !IsPow2(blockK) || blockK < mmaK || blockK * elementBytes > 256)
        {
            return Fail(TensorCoreDiagnostics.BadOption, codelet, $"block tile {blockM} x {blockN} x {blockK}: M and N must be powers of two in [16, 256] and [8, 256], K a power of two from {mmaK} to {256 / elementBytes}");
        }

        var (warpsM, warpsN) = ChooseWarps(blockM, blockN, memory.Registers.CapacityBytes);
        warpsM = options.WarpsM ?? warpsM;
        warpsN = options.WarpsN ?? warpsN;
        if (warpsM < 1 || warpsN < 1 || blockM % warpsM != 0 || blockN % warpsN != 0 || blockM / warpsM < 16 || blockN / warpsN < 8
            || !IsPow2(warpsM) || !IsPow2(warpsN) || warpsM * warpsN > 32)
        {
            return Fail(TensorCoreDiagnostics.BadOption, codelet, $"{warpsM} x {warpsN} warps cannot split a {blockM} x {blockN} tile into warp tiles of at least 16 x 8");
        }

        if (TensorCorePlan.RegistersPerThread(blockM / warpsM, blockN / warpsN) > 255)
        {
            return Fail(TensorCoreDiagnostics.BadOption, memory.Registers.Location, $"a {blockM / warpsM} x {blockN / warpsN} warp tile needs more than 255 registers per thread");
        }

        var sharedLimit = (int)Math.Min(memory.Shared.CapacityBytes - 1024, int.MaxValue);
        var stageBytes = (blockM + blockN) * blockK * elementBytes;
        var kTiles = (k + blockK - 1) / blockK;
        var stages = options.Stages ?? (int)Math.Clamp(Math.Min(sharedLimit / stageBytes, Math.Max(2, kTiles)), 2, 4);
        if (stages < 2 || stageBytes * stages > sharedLimit)
        {
            return Fail(TensorCoreDiagnostics.BadOption, memory.Shared.Location, $"{stages} stages of {stageBytes} B exceed the {sharedLimit} B of shared memory a block may use on '{graph.Name}' (or fewer than 2 stages)");
        }

        var gridY = (m + blockM - 1) / blockM;
        if (gridY > 65535 || batch > 65535)
        {
            return Fail(TensorCoreDiagnostics.TooLarge, codelet, $"a grid of {gridY} x {batch} blocks in y and z exceeds CUDA's 65535");
        }

        var computeCapability = graph.Name.Contains("sm90", StringComparison.Ordinal) ? 90 : 80;
        return Result<TensorCorePlan>.Success(new TensorCorePlan(
            instance, graph.Name, computeCapability, shape, loops, gemm.Rows, gemm.Columns, gemm.Reductions, gemm.Batches, gemm.A, gemm.B,
            view.C.Tensor.Tensor, view.C.Access, m, n, k, batch, blockM, blockN, blockK, warpsM, warpsN, stages, sharedLimit,
            Math.Max(1, view.ComputeNode.Count), view.Capability.IntervalCycles, memory.Feed?.BandwidthBytesPerCycle ?? 32));
    }

    private static Result<TensorCorePlan> Fail(DiagnosticDescriptor descriptor, SourceLocation location, string message) =>
        Result<TensorCorePlan>.Failure(descriptor.Create(location, message));

    // Most warps (up to 4), then the squarest warp tile, then more warps along M; warp tiles 16x8 .. 64x64.
    private static (int WarpsM, int WarpsN) ChooseWarps(int blockM, int blockN, long registerBytes)
    {
        var best = (WarpsM: 1, WarpsN: 1);
        var bestScore = double.MinValue;
        for (var wm = 1; wm <= 4; wm *= 2)
        {
            for (var wn = 1; wn * wm <= 4; wn *= 2)
            {
                var (tileM, tileN) = (blockM / wm, blockN / wn);
                if (blockM % wm != 0 || blockN % wn != 0 || tileM < 16 || tileN < 8 || tileM > 64 || tileN > 64)
                {
                    continue;
                }

                var threads = wm * wn * 32;
                if ((long)threads * TensorCorePlan.RegistersPerThread(tileM, tileN) * 4 > registerBytes)
                {
                    continue;
                }

                var score = (wm * wn * 100.0) - (10 * Math.Abs(Math.Log2((double)tileM / tileN))) + wm;
                if (score > bestScore)
                {
                    (best, bestScore) = ((wm, wn), score);
                }
            }
        }

        return best;
    }

    private static bool IsPow2(long value) => value > 0 && (value & (value - 1)) == 0;

    private static long FloorPow2(long value) => value <= 1 ? 1 : 1L << (int)(63 - long.LeadingZeroCount(value));

    private static long CeilPow2(long value) => value <= 1 ? 1 : FloorPow2(value - 1) * 2;
}
