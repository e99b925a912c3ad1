using System.Collections.Immutable;
using Covenant.Compiler.Compare;
using Covenant.Runtime.Execution;

namespace Covenant.Cli.Tests;

/// <summary>The arithmetic of <c>covenantc compare</c> against numbers worked out by hand in the comments.</summary>
public class CompareMathTests
{
    internal static CompareCell Cell(string layer, string arch, double? cycles, double clockHz = 100e6, CellStatus status = CellStatus.Ok,
        CycleSource source = CycleSource.Simulated, long macs = 1000, long dram = 500) =>
        new(layer, arch, status, status == CellStatus.Ok ? null : "because", cycles, cycles / clockHz, cycles is null ? null : source,
            "test engine", status == CellStatus.Mismatch ? false : null, null, macs, cycles is null ? null : dram, null,
            cycles is null ? null : 256, cycles is null ? null : macs / 256.0, cycles, [], null, null, 0.1);

    internal static ArchitectureProfile Arch(string name, double? clockHz = 100e6) =>
        new(name, name + ".yaml", "vta", "test", clockHz, 256, 8);

    [Test]
    public void GeomeanIsTheCubeRootOfTheProduct()
    {
        // 3 * 12 * 48 = 1728 = 12^3.
        Assert.That(ComparisonMath.Geomean([3, 12, 48]), Is.EqualTo(12).Within(1e-9));

        // Large cycle counts do not overflow: (1e200 * 1e200)^(1/2) = 1e200.
        Assert.That(ComparisonMath.Geomean([1e200, 1e200]), Is.EqualTo(1e200).Within(1e188));
        Assert.That(ComparisonMath.Geomean([]), Is.Null);
        Assert.That(() => ComparisonMath.Geomean([4, 0]), Throws.TypeOf<ArgumentOutOfRangeException>());
    }

    [Test]
    public void TheSmallestRankedValueWinsAndTiesShareTheWin()
    {
        ImmutableArray<CompareCell> cells =
        [
            Cell("l", "a", 100),
            Cell("l", "b", 50),
            Cell("l", "c", 50),
            Cell("l", "d", 10, status: CellStatus.Mismatch), // fastest, but wrong: never a winner
            Cell("l", "e", null, status: CellStatus.CompileFailed),
        ];
        var winners = ComparisonMath.Winners(cells, CompareMetric.Cycles);
        Assert.That(winners, Is.EqualTo(new[] { "b", "c" }));

        // The runner-up among the others is a at 100: 100 / 50 = 2.
        Assert.That(ComparisonMath.Margin(cells, winners, CompareMetric.Cycles), Is.EqualTo(2).Within(1e-12));
        Assert.That(ComparisonMath.Winners([Cell("l", "e", null, status: CellStatus.CompileFailed)], CompareMetric.Cycles), Is.Empty);
    }

    [Test]
    public void TimeDecidesWhenTheClocksDiffer()
    {
        // a: 1000 cycles at 100 MHz = 10 us; b: 2000 cycles at 1 GHz = 2 us. More cycles, but b is faster.
        ImmutableArray<ArchitectureProfile> archs = [Arch("a", 100e6), Arch("b", 1e9)];
        Assert.That(ComparisonMath.ChooseMetric(archs), Is.EqualTo(CompareMetric.Seconds));
        var report = ComparisonMath.Assemble("s", "s.yaml", archs,
            [("l", "gemm", "M=1", [Cell("l", "a", 1000, 100e6), Cell("l", "b", 2000, 1e9)])], true, 1, []);
        Assert.That(report.Layers[0].Winners, Is.EqualTo(new[] { "b" }));
        Assert.That(report.Layers[0].Margin, Is.EqualTo(5).Within(1e-9));
        Assert.That(report.Totals[1].RatioToFirst, Is.EqualTo(0.2).Within(1e-9));

        // One clock for all, or a missing clock: cycles.
        Assert.That(ComparisonMath.ChooseMetric([Arch("a"), Arch("b")]), Is.EqualTo(CompareMetric.Cycles));
        Assert.That(ComparisonMath.ChooseMetric([Arch("a"), Arch("b", null)]), Is.EqualTo(CompareMetric.Cycles));
    }

    [Test]
    public void GeomeansAreOverTheLayersEveryArchitectureRan()
    {
        ImmutableArray<ArchitectureProfile> archs = [Arch("a"), Arch("b")];
        var report = ComparisonMath.Assemble("s", "s.yaml", archs,
        [
            ("l1", "gemm", "", [Cell("l1", "a", 100), Cell("l1", "b", 25)]),
            ("l2", "gemm", "", [Cell("l2", "a", 400), Cell("l2", "b", 100)]),
            ("l3", "gemm", "", [Cell("l3", "a", 7), Cell("l3", "b", null, status: CellStatus.CompileFailed)]),
        ], true, 1, []);

        // l3 failed on b, so both geomeans are over l1 and l2: a = sqrt(100 * 400) = 200, b = sqrt(25 * 100) = 50.
        Assert.That(report.GeomeanLayers, Is.EqualTo(new[] { "l1", "l2" }));
        Assert.That(report.Totals[0].Geomean, Is.EqualTo(200).Within(1e-9));
        Assert.That(report.Totals[1].Geomean, Is.EqualTo(50).Within(1e-9));
        Assert.That(report.Totals[0].RatioToFirst, Is.EqualTo(1).Within(1e-12));
        Assert.That(report.Totals[1].RatioToFirst, Is.EqualTo(0.25).Within(1e-12));

        // b wins l1 and l2; a wins l3, where b has no value.
        Assert.That(report.Layers.Select(l => string.Join("=", l.Winners)), Is.EqualTo(new[] { "b", "b", "a" }));
        Assert.That(report.Totals.Select(t => (t.Wins, t.Failed)), Is.EqualTo(new[] { (1, 0), (2, 1) }));
        Assert.That(report.Layers[2].Margin, Is.Null);
    }

    [Test]
    public void ARunReplacesThePredictionWithWhatTheEngineCanVouchFor()
    {
        var predicted = Cell("l", "a", 1000, source: CycleSource.Predicted) with { ComputeBoundCycles = 250 };

        // A simulator's cycles are taken as they are.
        var simulated = CellFactory.WithRun(predicted, new RunOutcome("VTA simulator", TimingSource.Simulated, true, 800, 8e-6, 4096, "exact"), 100e6);
        Assert.That((simulated.Source, simulated.Cycles, simulated.Seconds, simulated.Status), Is.EqualTo((CycleSource.Simulated, 800.0, 8e-6, CellStatus.Ok)));
        Assert.That(simulated.Utilization, Is.EqualTo(250.0 / 800).Within(1e-12));
        Assert.That(simulated.MeasuredDramBytes, Is.EqualTo(4096));

        // Native time is the measurement, converted at the clock: 2 us at 3.5 GHz = 7000 cycles.
        var native = CellFactory.WithRun(predicted, new RunOutcome("native vnni-avx512 kernel", TimingSource.Measured, true, null, 2e-6, null, "exact"), 3.5e9);
        Assert.That(native.Source, Is.EqualTo(CycleSource.Measured));
        Assert.That(native.Cycles, Is.EqualTo(7000).Within(1e-6));

        // A simulator that counts no cycles reports its own run time, which says nothing of the hardware: keep the prediction.
        var functional = CellFactory.WithRun(predicted, new RunOutcome("VNNI instruction simulator (no VNNI)", TimingSource.Simulated, true, null, 0.5, null, "exact"), 3.5e9);
        Assert.That((functional.Source, functional.Cycles, functional.Match), Is.EqualTo((CycleSource.Predicted, 1000.0, (bool?)true)));
        Assert.That(functional.Engine, Does.Contain("verified on VNNI instruction simulator"));

        var wrong = CellFactory.WithRun(predicted, new RunOutcome("VTA simulator", TimingSource.Simulated, false, 800, null, null, "y: 3 of 256 differ"), 100e6);
        Assert.That((wrong.Status, wrong.Ranked, wrong.Reason), Is.EqualTo((CellStatus.Mismatch, false, "y: 3 of 256 differ")));
    }
}
