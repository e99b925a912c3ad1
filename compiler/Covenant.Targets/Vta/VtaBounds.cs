using Covenant.Codelets;
using Covenant.Core.Numerics;
using Covenant.Mapping.Model;
using Covenant.Runtime.Vta;

namespace Covenant.Targets.Vta;

/// <summary>
/// The fewest cycles any tiling of a mapping's problem (its capability and embedding) can take on a VTA configuration,
/// by the timing model the simulator runs (<see cref="VtaTimingModel"/>): the busiest module working without a stall.
/// <list type="bullet">
/// <item><see cref="ComputeCycles"/>: every multiply-accumulate passes the GEMM core, a uop at a time over loops padded to
/// the intrinsic's blocks; and every accumulator row of an i32 result is shifted three times on the ALU (it leaves
/// as four byte planes). Both run on the compute module, one after the other.</item>
/// <item><see cref="LoadCycles"/>: every input byte crosses the load module's DRAM edge once, at the faster of its
/// input and weight bandwidths.</item>
/// <item><see cref="StoreCycles"/>: every result byte plane crosses the store edge once.</item>
/// </list>
/// Instruction latencies, padding cycles, reloads and dependency waits only add to these, so a simulated run can
/// reach the bound but never beat it; how close the tuner gets is the headroom a better mapping could still take.
/// </summary>
public sealed record VtaBounds(long ComputeCycles, long LoadCycles, long StoreCycles)
{
    public long Cycles => Math.Max(ComputeCycles, Math.Max(LoadCycles, StoreCycles));

    public static VtaBounds Of(LayerMapping mapping, VtaConfig config)
    {
        ArgumentNullException.ThrowIfNull(mapping);
        ArgumentNullException.ThrowIfNull(config);
        var instance = mapping.Instance;

        // Loops embedded in an intrinsic axis run in whole blocks; the others one iteration at a time.
        var paddedMacs = mapping.Loops.Aggregate(1L, (product, loop) => product * (loop.Axis is null ? loop.Extent : loop.PaddedExtent));
        var gemm = (long)Math.Ceiling(Math.Ceiling((double)paddedMacs / config.MacsPerUop) * config.GemmIntervalCycles);

        var output = instance.Tensors[instance.IndexOf(mapping.Accumulator)];
        var outputs = output.Shape.Aggregate(1L, (product, extent) => product * extent);
        var planes = Math.Max(1, output.ElementType.Bytes() * 8 / config.OutBits);
        var rows = IntegerMath.CeilDiv(outputs, config.AccLanes);
        var alu = (long)Math.Ceiling(rows * (planes - 1) * config.AluIntervalCycles);

        var inputBytes = mapping.Operands.Where(o => o.Tensor != mapping.Accumulator).Select(o => o.Tensor).Distinct(StringComparer.Ordinal)
            .Sum(name =>
            {
                var tensor = instance.Tensors[instance.IndexOf(name)];
                return tensor.Shape.Aggregate(1L, (product, extent) => product * extent) * tensor.ElementType.Bytes();
            });
        var loadBandwidth = Math.Max(config.InpLoad.BytesPerCycle, config.WgtLoad.BytesPerCycle);
        var load = (long)Math.Ceiling(inputBytes / loadBandwidth);
        var store = (long)Math.Ceiling(outputs * planes * (config.OutBits / 8.0) / config.OutStore.BytesPerCycle);
        return new VtaBounds(gemm + alu, load, store);
    }
}
