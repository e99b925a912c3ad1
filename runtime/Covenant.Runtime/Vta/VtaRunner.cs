using System.Collections.Immutable;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using Covenant.Codelets.Semantics;
using Covenant.Runtime.Reference;

namespace Covenant.Runtime.Vta;

/// <summary>One output of a run, compared with the reference interpreter's.</summary>
public sealed record VtaOutputComparison(string Tensor, ComparisonResult Comparison);

/// <summary>
/// What running a lowered program on the simulator gave: whether every output matches the reference exactly, the
/// first mismatch, the simulator's issues and counters (cycles, GEMM utilization, per-module busy cycles).
/// </summary>
public sealed record VtaRunReport(
    string Codelet,
    string Architecture,
    ulong Seed,
    bool Completed,
    ImmutableArray<VtaOutputComparison> Outputs,
    ImmutableArray<VtaIssue> Issues,
    VtaStatistics Statistics,
    TimeSpan SimulationTime,
    TimeSpan ReferenceTime)
{
    /// <summary>The simulation finished without errors and every output equals the reference.</summary>
    public bool Match => Completed && !Issues.Any(i => i.IsError) && Outputs.Length > 0 && Outputs.All(o => o.Comparison.Matches);

    public long Cycles => Statistics.TotalCycles;

    public double GemmUtilization => Statistics.GemmUtilization;

    public long LoadBusyCycles => Statistics.Load.BusyCycles;

    public long ComputeBusyCycles => Statistics.Compute.BusyCycles;

    public long StoreBusyCycles => Statistics.Store.BusyCycles;

    /// <summary><c>y: 5 of 64 elements differ; first at [0, 3]: expected 7, got 9</c>, or null when everything matches.</summary>
    public string? FirstMismatch => Outputs.FirstOrDefault(o => !o.Comparison.Matches) is { } o ? $"{o.Tensor}: {o.Comparison.Summary}" : null;

    public override string ToString()
    {
        var c = CultureInfo.InvariantCulture;
        var text = new StringBuilder();
        text.AppendLine(c, $"{Codelet} on {Architecture} (seed {Seed}): {(Match ? "MATCH" : "MISMATCH")}");
        foreach (var o in Outputs)
        {
            text.AppendLine(c, $"  {o.Tensor}: {o.Comparison.Summary}");
        }

        foreach (var issue in Issues)
        {
            text.AppendLine(c, $"  {issue}");
        }

        text.Append(Statistics);
        return text.ToString();
    }
}

/// <summary>
/// Runs a lowered VTA program end to end: seeded random inputs (<see cref="RandomTensors.Inputs"/>), packed into the
/// DRAM image per the memory map, executed on the <see cref="VtaSimulator"/>, outputs unpacked per the memory map and
/// compared exactly with the <see cref="ReferenceInterpreter"/> on the same inputs.
/// </summary>
public static class VtaRunner
{
    /// <param name="dramGarbageSeed">Start the image from this seed's garbage and zero only the memory map's <c>mustBeZero</c> ranges (<see cref="VtaImage.Build"/>); null: a zero-filled image.</param>
    public static VtaRunReport Run(VtaProgram program, CodeletInstance instance, ulong seed, VtaSimulatorOptions? options = null, ulong? dramGarbageSeed = null) =>
        Run(program, instance, seed, inputs => VtaImage.Build(program, inputs, dramGarbageSeed), options);

    /// <summary>Runs on the image <paramref name="image"/> builds from the seeded inputs (a test's own image: garbage where it wants it).</summary>
    public static VtaRunReport Run(VtaProgram program, CodeletInstance instance, ulong seed, Func<IReadOnlyDictionary<string, TensorData>, VtaDram> image, VtaSimulatorOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(program);
        ArgumentNullException.ThrowIfNull(instance);
        ArgumentNullException.ThrowIfNull(image);
        var inputs = RandomTensors.Inputs(instance, seed);
        var dram = image(inputs);

        var watch = Stopwatch.StartNew();
        var result = new VtaSimulator(program.Config, options).Run(program.Instructions, dram);
        var simulation = watch.Elapsed;

        watch.Restart();
        var expected = ReferenceInterpreter.Run(instance, inputs);
        var reference = watch.Elapsed;

        var outputs = ImmutableArray.CreateBuilder<VtaOutputComparison>();
        foreach (var region in program.MemoryMap.Outputs)
        {
            if (!expected.TryGetValue(region.Name, out var want))
            {
                throw new ArgumentException($"the program stores '{region.Name}', which is not an output of '{instance.Name}'", nameof(instance));
            }

            var got = VtaImage.Unpack(dram.At(region.Address, checked((int)region.SizeBytes)), region.Layout!, want.ElementType);
            outputs.Add(new VtaOutputComparison(region.Name, ResultComparer.Compare(want, got)));
        }

        return new VtaRunReport(instance.Name, program.Config.Name, seed, result.Completed, outputs.ToImmutable(), result.Issues, result.Statistics, simulation, reference);
    }
}
