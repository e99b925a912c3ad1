using System.Collections.Immutable;
using Covenant.Codelets.Semantics;
using Covenant.Mapping.Search;
using Covenant.Mapping.Space;
using Covenant.Mapping.Model;

namespace Covenant.Mapping.Tests;

/// <summary>Search constraints on a tile space: their text form, their translation into the solver, unsat cores, enumeration.</summary>
public class SearchConstraintTests
{
    internal static CodeletInstance Instance(string codelet, params (string Name, long Value)[] bindings) => MapperTests.Instance(codelet, bindings);

    internal static Acg.Model.ArchitectureGraph Arch(string name) => MapperTests.Arch(name);

    // A 16x32x32 GEMM on VTA: 7 x 2 x 2 tile sizes, 2 orders, 8 buffer flags — small enough to enumerate.
    internal static MappingCandidate SmallGemm() =>
        Mapper.Candidates(Instance("gemm", ("M", 16), ("N", 32), ("K", 32)), Arch("vta")).Value![0];

    [TestCase("blocks(p)=4")]
    [TestCase("blocks(k) in [2,8]")]
    [TestCase("position(q)=0")]
    [TestCase("order(p<q)")]
    [TestCase("double_buffer(inp_buf)=on")]
    [TestCase("double_buffer(acc_buf)=off")]
    [TestCase("level(l2,k)=4")]
    public void TextFormRoundTrips(string text)
    {
        var parsed = SearchConstraint.Parse(text);
        Assert.That(parsed, Is.Not.Null);
        Assert.That(parsed!.ToString(), Is.EqualTo(text));
        Assert.That(SearchConstraint.Parse(parsed.ToString()), Is.EqualTo(parsed));
    }

    [TestCase("blocks(p)=")]
    [TestCase("tiles(p)=4")]
    [TestCase("order(p,q)")]
    [TestCase("double_buffer(x)=maybe")]
    [TestCase("level(l2,k)=0")]
    [TestCase("level(l2)=2")]
    public void MalformedTextIsNotAConstraint(string text) => Assert.That(SearchConstraint.Parse(text), Is.Null);

    [Test]
    public void OrderConstraintsOnOnePairShareAVariable() =>
        Assert.That(new LoopBefore("p", "q").Variable, Is.EqualTo(new LoopBefore("q", "p").Variable));

    [Test]
    public void EverySampleSatisfiesTheConstraints()
    {
        var candidate = SmallGemm();
        using var space = candidate.CreateSpace(5_000, null, 1);
        SearchConstraint[] constraints = [new TileBlocks("m", 4, 8), new LoopBefore("n", "m"), new DoubleBuffer("inp_buf", false)];
        var sample = space.Sample(20, new Random(3), constraints);
        Assert.That(sample.Satisfiable, Is.True, sample.Describe());
        var m = space.LoopNames.IndexOf("m");
        var n = space.LoopNames.IndexOf("n");
        Assert.Multiple(() =>
        {
            Assert.That(sample.Choices.Length, Is.GreaterThan(1), "several distinct choices");
            Assert.That(sample.Choices.Select(c => c.Key).Distinct().Count(), Is.EqualTo(sample.Choices.Length));
            foreach (var choice in sample.Choices)
            {
                Assert.That(choice.Blocks[m], Is.InRange(4, 8));
                Assert.That(choice.Order.IndexOf(n), Is.LessThan(choice.Order.IndexOf(m)));
                Assert.That(choice.DoubleBuffered, Does.Not.Contain("inp_buf"));
                Assert.That(space.IsValid(choice), Is.True);
            }
        });

        // The constraints were scoped to the call: without them the solver again offers m before n.
        var free = space.Sample(40, new Random(3), []);
        Assert.That(free.Choices.Any(c => c.Order.IndexOf(m) < c.Order.IndexOf(n)), Is.True);
    }

    [Test]
    public void ConflictingConstraintsAreUnsatWithTheConflictNamed()
    {
        var candidate = SmallGemm();
        using var space = candidate.CreateSpace(5_000, null, 1);
        SearchConstraint fixedM = new TileBlocks("m", 2, 2), rangeM = new TileBlocks("m", 4, 16), harmless = new DoubleBuffer("acc_buf", true);
        var sample = space.Sample(4, new Random(1), [harmless, fixedM, rangeM]);
        Assert.Multiple(() =>
        {
            Assert.That(sample.Satisfiable, Is.False);
            Assert.That(sample.Inapplicable, Is.False);
            Assert.That(sample.Conflict, Is.EquivalentTo(new[] { fixedM, rangeM }), "the unsat core, without the harmless one");
        });

        var unknown = space.Sample(4, new Random(1), [new TileBlocks("zz", 1, 1), harmless]);
        Assert.Multiple(() =>
        {
            Assert.That(unknown.Satisfiable, Is.False);
            Assert.That(unknown.Inapplicable, Is.True);
            Assert.That(unknown.Conflict, Is.EqualTo(new[] { new TileBlocks("zz", 1, 1) }));
        });

        // A blocks value outside the balanced tile sizes is unsat by the domain.
        Assert.That(space.Sample(1, new Random(1), [new TileBlocks("m", 5, 5)]).Satisfiable, Is.False);
    }

    [Test]
    public void ConstraintsOfAChoiceRebuildExactlyThatChoice()
    {
        var candidate = SmallGemm();
        using var space = candidate.CreateSpace(5_000, null, 1);
        foreach (var choice in space.Sample(10, new Random(5)))
        {
            var again = space.Sample(3, new Random(9), space.ConstraintsOf(choice));
            Assert.That(again.Choices.Select(c => c.Key), Is.EqualTo(new[] { choice.Key }), "a full fix leaves one choice");
        }
    }

    [Test]
    public void EnumerationFindsExactlyTheValidChoices()
    {
        var candidate = SmallGemm();
        using var space = candidate.CreateSpace(5_000, null, 1);
        var (choices, complete) = space.Enumerate(10_000);
        Assert.That(complete, Is.True);

        // Brute force over the cartesian product, each point checked by the model.
        var valid = new HashSet<string>(StringComparer.Ordinal);
        var ordered = space.OrderedLoopNames.Select(n => space.LoopNames.IndexOf(n)).ToList();
        var reductions = Enumerable.Range(0, space.LoopNames.Length).Where(l => !ordered.Contains(l)).ToList();
        var orders = Permutations(ordered).Select(p => p.Concat(reductions).ToImmutableArray()).ToList();
        var storages = space.BufferedStorages;
        foreach (var blocks in Product(Enumerable.Range(0, space.LoopNames.Length).Select(space.BlockCandidates).ToList()))
        {
            foreach (var order in orders)
            {
                for (var mask = 0; mask < 1 << storages.Length; mask++)
                {
                    var buffered = storages.Where((_, i) => (mask & (1 << i)) != 0).ToImmutableHashSet();
                    var choice = new TileChoice([.. blocks], order, buffered);
                    if (space.IsValid(choice))
                    {
                        valid.Add(choice.Key);
                    }
                }
            }
        }

        Assert.That(choices.Select(c => c.Key).ToHashSet(), Is.EquivalentTo(valid));
        Assert.That(valid.Count, Is.GreaterThan(10));
    }

    private static IEnumerable<List<int>> Permutations(List<int> items) => items.Count <= 1
        ? [items]
        : items.SelectMany(item => Permutations([.. items.Where(i => i != item)]).Select(rest => new List<int> { item }.Concat(rest).ToList()));

    private static IEnumerable<List<int>> Product(List<ImmutableArray<int>> sets) => sets.Count == 0
        ? [[]]
        : Product(sets.Skip(1).ToList()).SelectMany(rest => sets[0].Select(v => new List<int> { v }.Concat(rest).ToList()));
}

/// <summary>The genetic search: validity of every candidate, determinism, records and resumption, the correction.</summary>
public class SearchTunerTests
{
    private static LayerIdentity Identity(string layer) => LayerIdentity.Of(layer, "conv2d", "text", [], "vta", "arch");

    private static LayerTuner Tuner(string layer, uint seed, params (string Name, long Value)[] bindings)
    {
        var created = LayerTuner.Create(Identity(layer), SearchConstraintTests.Instance("conv2d", bindings), SearchConstraintTests.Arch("vta"),
            new CostModelMeasurer(), SearchOptions.Default with { Seed = seed, Population = 12 });
        Assert.That(created.Succeeded, Is.True, string.Join("\n", created.Diagnostics));
        return created.Value!;
    }

    private static readonly (string, long)[] Conv14 = [("N", 1), ("H", 14), ("W", 14), ("C", 64), ("K", 64), ("R", 1), ("S", 1)];

    // A wall clock: its first reading is 50x slow (a cold process), later ones are the cost model's cycles.
    private sealed class ColdStartClock : IMappingMeasurer
    {
        public int Calls { get; private set; }

        public string Engine => "a noisy clock";

        public bool Deterministic => false;

        public Measurement Measure(LayerMapping mapping, CancellationToken cancellation) =>
            Measurement.Of(mapping.Cost.Cycles * (++Calls == 1 ? 50 : 1));
    }

    [Test]
    public void ANoisyMeasurersBaselineIsTheFasterOfTwoReadings()
    {
        var clock = new ColdStartClock();
        var created = LayerTuner.Create(Identity("c14"), SearchConstraintTests.Instance("conv2d", Conv14), SearchConstraintTests.Arch("vta"),
            clock, SearchOptions.Default with { Seed = 3, Population = 12 });
        using var tuner = created.Value!;
        var trials = tuner.Step(1, CancellationToken.None);
        Assert.Multiple(() =>
        {
            Assert.That(trials.Single().IsDefault, Is.True);
            Assert.That(clock.Calls, Is.EqualTo(2), "the default is read twice");
            Assert.That(tuner.DefaultCost, Is.EqualTo(trials.Single().Candidate.Mapping.Cost.Cycles), "and the cold reading is dropped");
        });
    }

    // A wall clock with lucky readings: every third reading is half the cost model's cycles.
    private sealed class LuckyClock : IMappingMeasurer
    {
        public int Calls { get; private set; }

        public string Engine => "a lucky clock";

        public bool Deterministic => false;

        public Measurement Measure(LayerMapping mapping, CancellationToken cancellation) =>
            Measurement.Of(mapping.Cost.Cycles * (++Calls % 3 == 0 ? 0.5 : 1));
    }

    [Test]
    public void ANoisyNewBestIsConfirmedByASecondReading()
    {
        var clock = new LuckyClock();
        var created = LayerTuner.Create(Identity("c14"), SearchConstraintTests.Instance("conv2d", Conv14), SearchConstraintTests.Arch("vta"),
            clock, SearchOptions.Default with { Seed = 3, Population = 12 });
        using var tuner = created.Value!;
        var trials = new List<Trial>();
        for (var step = 0; step < 5; step++)
        {
            trials.AddRange(tuner.Step(4, CancellationToken.None));
        }

        Assert.Multiple(() =>
        {
            Assert.That(clock.Calls, Is.GreaterThan(trials.Count + 1), "new bests were read again");
            Assert.That(trials.Any(t => t.Measured < t.Candidate.Mapping.Cost.Cycles), Is.True, "some lucky readings stand for trials that did not become the best");
            Assert.That(tuner.Best!.Measured, Is.EqualTo(tuner.Best.Candidate.Mapping.Cost.Cycles), "the best is never a lucky reading alone");
        });
    }

    [Test]
    public void EveryCandidateOfEveryGenerationIsValid()
    {
        using var tuner = Tuner("c14", 7, Conv14);
        var trials = new List<Trial>();
        for (var step = 0; step < 4; step++)
        {
            trials.AddRange(tuner.Step(4, CancellationToken.None));
        }

        Assert.That(trials, Has.Count.EqualTo(16));
        Assert.That(trials[0].IsDefault, Is.True, "the default is measured first");
        Assert.That(tuner.Counters.Offspring, Is.EqualTo(4 * 12));
        Assert.That(tuner.Counters.Sampled, Is.GreaterThan(0));
        foreach (var problem in tuner.Problems)
        {
            using var space = problem.CreateSpace(5_000, null, 1);
            foreach (var trial in trials.Where(t => t.Candidate.Individual.Problem == problem.Key))
            {
                Assert.That(space.IsValid(trial.Candidate.Choice), Is.True, trial.Candidate.DescribeTiles());
                // The candidate satisfies its individual's constraints too.
                Assert.That(space.Sample(1, new Random(1), [.. trial.Candidate.Individual.Constraints, .. space.ConstraintsOf(trial.Candidate.Choice)]).Satisfiable, Is.True);
            }
        }

        Assert.That(tuner.Best!.Measured, Is.LessThanOrEqualTo(tuner.DefaultCost!.Value));
    }

    [Test]
    public void TheSameSeedGivesTheSameSearch()
    {
        static List<string> Run(uint seed)
        {
            using var tuner = Tuner("c14", seed, Conv14);
            var keys = new List<string>();
            for (var step = 0; step < 3; step++)
            {
                keys.AddRange(tuner.Step(4, CancellationToken.None).Select(t => $"{t.Candidate.Key}={t.Measured}"));
            }

            return keys;
        }

        var first = Run(11);
        Assert.That(Run(11), Is.EqualTo(first));
        Assert.That(Run(12), Is.Not.EqualTo(first), "another seed searches differently");
    }

    [Test]
    public void RecordsRoundTripAndATornLastLineIsSkipped()
    {
        var path = Path.Combine(Path.GetTempPath(), $"covenant-records-{Guid.NewGuid():N}.jsonl");
        try
        {
            using var tuner = Tuner("c14", 3, Conv14);
            var trials = tuner.Step(3, CancellationToken.None);
            var records = trials.Select(t => tuner.ToRecord(t, 1.5)).ToList();
            using (var log = TuningLog.Open(path).Value!)
            {
                log.Append(records[0]);
                log.Append(records[1]);
            }

            File.AppendAllText(path, TuningLog.Serialize(records[2])[..40]);
            using (var log = TuningLog.Open(path).Value!)
            {
                log.Append(records[2]);
            }

            var read = TuningLog.Read(path).Value!;
            Assert.Multiple(() =>
            {
                Assert.That(read.Records, Has.Length.EqualTo(3));
                Assert.That(read.SkippedLines, Is.EqualTo(new[] { 3 }), "the torn line, and only it");
                Assert.That(read.Records.Select(TuningLog.Serialize), Is.EqualTo(records.Select(TuningLog.Serialize)));
                Assert.That(read.Best(tuner.Identity)!.Measured, Is.EqualTo(records.Min(r => r.Measured)));
                Assert.That(read.Best(Identity("other") with { ArchitectureHash = "x" }), Is.Null);
            });
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Test]
    public void ACancelledRunResumesFromItsRecordsWithoutRepeatingATrial()
    {
        var path = Path.Combine(Path.GetTempPath(), $"covenant-resume-{Guid.NewGuid():N}.jsonl");
        try
        {
            void RunNetwork(int budget, int? cancelAfter)
            {
                var previous = TuningLog.Read(path).Value!;
                using var tuner = Tuner("c14", 5, Conv14);
                tuner.Resume(previous.For(tuner.Identity));
                using var log = TuningLog.Open(path).Value!;
                using var stop = new CancellationTokenSource();
                var network = new NetworkTuner([tuner], new TuneBudget(budget, null), 4);
                var seen = 0;
                network.TrialFinished += trial =>
                {
                    log.Append(tuner.ToRecord(trial, 0));
                    if (++seen == cancelAfter)
                    {
                        stop.Cancel();
                    }
                };
                network.Run(stop.Token);
            }

            RunNetwork(budget: 14, cancelAfter: 6);
            var lines = File.ReadAllLines(path);
            Assert.That(lines, Has.Length.EqualTo(6), "stopped after the sixth trial, all of it recorded");

            RunNetwork(budget: 14, cancelAfter: null);
            var records = TuningLog.Read(path).Value!;
            Assert.Multiple(() =>
            {
                Assert.That(records.SkippedLines, Is.Empty, "no torn lines");
                Assert.That(records.Records, Has.Length.EqualTo(14), "the rerun spent only the rest of the budget");
                Assert.That(records.Records.Select(r => r.Problem + string.Join(",", r.Choice)).Distinct().Count(), Is.EqualTo(14), "no trial measured twice");
                Assert.That(records.Records.Select(r => r.Trial), Is.EqualTo(Enumerable.Range(1, 14)));
                Assert.That(records.Records.Count(r => r.IsDefault), Is.EqualTo(1));
            });
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Test]
    public void TheSchedulerGivesMoreTrialsToTheLayerWithMoreLatency()
    {
        using var big = Tuner("big", 1, [("N", 1), ("H", 28), ("W", 28), ("C", 128), ("K", 128), ("R", 3), ("S", 3), ("pad", 1)]);
        using var small = Tuner("small", 2, [("N", 1), ("H", 7), ("W", 7), ("C", 16), ("K", 16), ("R", 1), ("S", 1)]);
        var network = new NetworkTuner([small, big], new TuneBudget(40, null), 4);
        network.Run(CancellationToken.None);
        TestContext.Out.WriteLine($"big {big.Trials} trials ({big.DefaultCost:F0} -> {big.Best?.Measured:F0}), small {small.Trials} ({small.DefaultCost:F0} -> {small.Best?.Measured:F0})");
        Assert.That(network.Trials, Is.EqualTo(40));
        Assert.That(big.Trials, Is.GreaterThan(2 * small.Trials));
    }

    [Test]
    public void TheCorrectionLearnsAModelBiasThatDependsOnTheMapping()
    {
        using var tuner = Tuner("c14", 9, Conv14);
        var (all, _) = tuner.Enumerate(400);
        // A fake target that charges 3000 cycles per tile on top of the model: the raw model misranks small tiles.
        double Measured(Candidate c) => c.ModelCycles + (3000 * c.Mapping.Loops.Aggregate(1.0, (p, l) => p * l.TileCount));
        var random = new Random(1);
        var training = all.OrderBy(_ => random.Next()).Take(20).ToList();
        var test = all.Except(training).ToList();
        var correction = new CostCorrection();
        foreach (var c in training)
        {
            correction.Add(c.Mapping, Measured(c));
        }

        double Error(Func<Candidate, double> predict) => test.Average(c => Math.Abs(Math.Log(predict(c) / Measured(c))));
        var mean = training.Average(c => Math.Log(Measured(c) / c.ModelCycles));
        var raw = Error(c => c.ModelCycles * Math.Exp(mean));
        var corrected = Error(c => correction.Predict(c.Mapping));
        TestContext.Out.WriteLine($"mean |log error| on {test.Count} held-out: ratio-only {raw:F3}, corrected {corrected:F3}");
        Assert.That(corrected, Is.LessThan(raw * 0.7));
    }
}
