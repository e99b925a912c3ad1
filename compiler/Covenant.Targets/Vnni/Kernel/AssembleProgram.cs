using System.Collections.Immutable;
using Covenant.Runtime.Vnni;

namespace Covenant.Targets.Vnni.Kernel;

/// <summary>
/// Step 7: the three entry points. The run is one parallel region: the preparation of A' and of the start values,
/// a barrier, then the tiles (one thread wake-up, not three).
/// </summary>
internal static class AssembleProgram
{
    public static VnniProgram Run(
        VnniKernelContext context, VnniKernelBuffers buffers, VnniBlock init, VnniStmt? copyA, VnniStmt? startValues, VnniStmt tiles, VnniBlock pack)
    {
        var run = new List<VnniStmt>();
        if (copyA is not null)
        {
            run.Add(copyA);
        }

        if (startValues is not null)
        {
            run.Add(startValues);
        }

        if (context.Threaded)
        {
            run.Add(new VnniBarrier());
        }

        run.Add(tiles);
        if (context.Threaded)
        {
            run = [new VnniParallelRegion(new VnniBlock([.. run]))];
        }

        var plan = context.Plan;
        var functions = ImmutableArray.Create(
            new VnniFunction(VnniProgram.InitFunction, init),
            new VnniFunction(VnniProgram.PackFunction, pack),
            new VnniFunction(VnniProgram.RunFunction, new VnniBlock([.. run])));
        return new VnniProgram(plan.Instance.Name, context.Lanes, buffers.All, functions, context.Variables, context.Registers, plan.Threads);
    }
}
