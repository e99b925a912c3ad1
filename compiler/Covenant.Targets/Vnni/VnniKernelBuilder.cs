using Covenant.Targets.Vnni.Kernel;
using Covenant.Runtime.Vnni;

namespace Covenant.Targets.Vnni;

/// <summary>
/// Builds the kernel program (<see cref="VnniProgram"/>) for a plan, as an ordered list of steps over one
/// <see cref="VnniKernelContext"/> (the plan and its implicit GEMM). Each step is a file in Kernel/ named for what it
/// does; each returns an immutable result that later steps read. The program has three entry points:
/// <list type="bullet">
/// <item><c>init</c>: the offset tables (A' and output offset of every row, A' offset of every reduction group).</item>
/// <item><c>pack</c>: B into the vpdpbusd layout, and the compensation for signed A.</item>
/// <item><c>run</c>: A into A' (skipped where A' would be A itself, which the kernel then reads in place, flipping sign
/// bits in the register), the accumulators' start values, then the tiled GEMM over the threads.</item>
/// </list>
/// </summary>
public static class VnniKernelBuilder
{
    public static VnniProgram Build(VnniKernelPlan plan)
    {
        ArgumentNullException.ThrowIfNull(plan);
        var context = new VnniKernelContext(plan);

        // The order is the order of the C: buffers are declared by index and variables and registers are named by the
        // number handed out when a step asks for one, so a step moved in this list renames the C (not its meaning).

        // 1. Every buffer first: each later step addresses buffers by index, and which tables exist decides what
        //    the others emit (a row table or not, folded epilogue additions or not).
        var buffers = LayOutBuffers.Run(context);

        // 2. The offset tables, before anything that reads them; they depend only on the shape, so they are filled
        //    once (init), not per run.
        var init = TabulateOffsets.Run(context, buffers);

        // 3. The run prepares A' before any tile broadcasts from it.
        var copyA = CopyAToAPrime.Run(context, buffers);

        // 4. Then each column's start value (compensation and folded additions), which every register block loads.
        var startValues = ComputeStartValues.Run(context, buffers);

        // 5. The tiled GEMM itself, reading all of the above.
        var tiles = TileTheGemm.Run(context, buffers);

        // 6. Packing B is its own entry point (run once per set of weights); it comes after the run's steps only so
        //    that its variables keep the numbers they have always had.
        var pack = PackB.Run(context, buffers);

        // 7. The three functions, with the run as one parallel region when threaded.
        return AssembleProgram.Run(context, buffers, init, copyA, startValues, tiles, pack);
    }
}
