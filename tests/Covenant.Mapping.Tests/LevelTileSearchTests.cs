using Covenant.Mapping.Search;
using Covenant.Mapping.Space;
using Covenant.Mapping.Model;

namespace Covenant.Mapping.Tests;

/// <summary>
/// Cache tiles as search variables: a <see cref="LevelTile"/> pins one loop's multiple at a storage level above the
/// operand storage, the level tiler honours it where it fits, and the tuner breeds, repairs and records such genes.
/// </summary>
public class LevelTileSearchTests
{
    private static MappingCandidate Gemm(int m, int n, int k) =>
        Mapper.Candidates(MapperTests.Instance("gemm", ("M", m), ("N", n), ("K", k)), MapperTests.Arch("vnni-avx512")).Value![0];

    private static int Index(LayerMapping mapping, string loop) => mapping.Loops.IndexOf(mapping.Loop(loop));

    [Test]
    public void APinnedLevelTileIsThatMultipleOfTheTileInside()
    {
        var candidate = Gemm(384, 1024, 1024);
        using var space = candidate.CreateSpace(5_000, null, 1);
        Assert.That(space.LevelStorages, Is.EqualTo(new[] { "l1d", "l2" }), "innermost first");
        var choice = space.Sample(1, new Random(2))[0];
        var free = Mapper.Complete(candidate, choice);
        var inner = free.TileAt("l1d", "k");
        var greedy = free.TileAt("l2", "k") / inner;
        var units = (free.Loop("k").PaddedExtent + inner - 1) / inner;
        var multiple = candidate.LevelTiler.Multiples(Index(free, "k"), inner).First(v => v != greedy && v < units);

        var sample = space.Sample(1, new Random(2), [.. space.ConstraintsOf(choice), new LevelTile("l2", "k", multiple)]);
        Assert.That(sample.Satisfiable, Is.True, sample.Describe());
        var pinned = Mapper.Complete(candidate, sample.Choices[0]);
        Assert.Multiple(() =>
        {
            Assert.That(pinned.TileAt("l2", "k"), Is.EqualTo(multiple * inner), "the pinned multiple of the L1 tile");
            Assert.That(pinned.TileAt("l1d", "k"), Is.EqualTo(inner), "the level inside is not disturbed");
            Assert.That(pinned.Loops.Select(l => l.Tile), Is.EqualTo(free.Loops.Select(l => l.Tile)), "nor the register tile");
            Assert.That(sample.Choices[0].Key, Is.Not.EqualTo(choice.Key), "a pinned choice is another candidate");
            Assert.That(space.ConstraintsOf(sample.Choices[0]), Does.Contain(new LevelTile("l2", "k", multiple)), "and records its pin");
        });

        // Counted by hand (a[m,k] i8, b[k,n] i8, c[m,n] i32): the pinned tile still fits half of L2.
        var l2 = pinned.Levels.Single(l => l.Storage == "l2");
        var (tm, tn, tk) = (l2.Tiles[Index(pinned, "m")], l2.Tiles[Index(pinned, "n")], l2.Tiles[Index(pinned, "k")]);
        Assert.That(l2.FootprintBytes, Is.EqualTo(((long)tm * tk) + ((long)tk * tn) + (4L * tm * tn)));
        Assert.That(l2.FootprintBytes, Is.LessThanOrEqualTo(pinned.Graph.StorageNode("l2").CapacityBytes / 2));
    }

    [Test]
    public void APinThatOverflowsItsLevelIsRejectedAndTheLevelTiledAsIfUnpinned()
    {
        var candidate = Gemm(384, 1024, 1024);
        using var space = candidate.CreateSpace(5_000, null, 1);
        var choice = space.Sample(1, new Random(4))[0];
        // The whole of m, n and k at L1 (48 KiB): over a megabyte.
        var overflowing = choice.WithLevelPins([new LevelPin("l1d", "m", 1000), new LevelPin("l1d", "n", 1000), new LevelPin("l1d", "k", 1000)]);
        Assert.That(candidate.LevelTiler.Normalize(overflowing), Is.Null);
        static string Describe(IEnumerable<Model.TileLevel> levels) => string.Join("; ", levels.Select(l => l.Storage + " " + string.Join(",", l.Tiles)));
        Assert.That(Describe(candidate.LevelTiler.Choose(overflowing)), Is.EqualTo(Describe(candidate.LevelTiler.Choose(choice))), "a stale record still compiles");

        // An oversized multiple that fits once clamped to the loop is spelled as the clamped one.
        var whole = choice.WithLevelPins([new LevelPin("l2", "k", 100_000)]);
        var normal = candidate.LevelTiler.Normalize(whole);
        var units = (1024 + Mapper.Complete(candidate, choice).TileAt("l1d", "k") - 1) / Mapper.Complete(candidate, choice).TileAt("l1d", "k");
        Assert.That(normal?.LevelPins.Single(), Is.EqualTo(new LevelPin("l2", "k", units)));
    }

    [Test]
    public void ARecordWhosePinnedCacheTileNoLongerFitsIsStale()
    {
        var instance = MapperTests.Instance("gemm", ("M", 384), ("N", 1024), ("K", 1024));
        var arch = MapperTests.Arch("vnni-avx512");
        var candidate = Mapper.Candidates(instance, arch).Value![0];
        using var space = candidate.CreateSpace(5_000, null, 1);
        var choice = space.Sample(1, new Random(4))[0];
        var fixedChoice = space.ConstraintsOf(choice);

        LayerMapping Pinned(LevelTile[] pins, out string warnings)
        {
            var result = Mapper.Map(instance, arch, MapperOptions.Default with { Pinned = new PinnedMapping(candidate.Key, [.. fixedChoice, .. pins], "test.jsonl") });
            warnings = string.Join("\n", result.Diagnostics.Select(d => d.ToString()));
            return result.Value!;
        }

        var fits = Pinned([new LevelTile("l2", "k", 2)], out var none);
        Assert.That(none, Is.Empty);
        Assert.That(fits.TileAt("l2", "k"), Is.EqualTo(2 * fits.TileAt("l1d", "k")), "a pin that fits is honoured");

        var stale = Pinned([new LevelTile("l1d", "m", 1000), new LevelTile("l1d", "n", 1000), new LevelTile("l1d", "k", 1000)], out var warning);
        Assert.Multiple(() =>
        {
            Assert.That(warning, Does.Contain(SearchDiagnostics.PinnedDoesNotApply.Id).And.Contain("no longer fits"));
            Assert.That(stale.Loops.Select(l => l.Tile), Is.EqualTo(Mapper.Map(instance, arch).Value!.Loops.Select(l => l.Tile)), "and the default mapping is used");
        });
    }

    [Test]
    public void ALevelTheSpaceDoesNotTileIsInapplicable()
    {
        var candidate = Gemm(64, 64, 64);
        using var space = candidate.CreateSpace(5_000, null, 1);
        var sample = space.Sample(1, new Random(1), [new LevelTile("l3", "k", 2), new TileBlocks("m", 1, 1)]);
        Assert.Multiple(() =>
        {
            Assert.That(sample.Satisfiable, Is.False);
            Assert.That(sample.Inapplicable, Is.True);
            Assert.That(sample.Conflict, Is.EqualTo(new SearchConstraint[] { new LevelTile("l3", "k", 2) }));
        });

        // VTA fills its buffers straight from DRAM: nothing to pin.
        using var vta = SearchConstraintTests.SmallGemm().CreateSpace(5_000, null, 1);
        Assert.That(vta.LevelStorages, Is.Empty);
    }

    [Test]
    public void TheTunerBreedsCacheTilesThatNestFitAndResume()
    {
        var instance = MapperTests.Instance("gemm", ("M", 384), ("N", 1024), ("K", 1024));
        var identity = LayerIdentity.Of("g", "gemm", "text", [], "vnni-avx512", "arch");
        var options = SearchOptions.Default with { Seed = 5, Population = 12 };
        var created = LayerTuner.Create(identity, instance, MapperTests.Arch("vnni-avx512"), new CostModelMeasurer(), options);
        Assert.That(created.Succeeded, Is.True, string.Join("\n", created.Diagnostics));
        var records = new List<TuningRecord>();
        using (var tuner = created.Value!)
        {
            for (var step = 0; step < 8; step++)
            {
                records.AddRange(tuner.Step(6, CancellationToken.None).Select(t => tuner.ToRecord(t, 0)));
            }

            var pinned = records.Where(r => r.Choice.Any(c => c.StartsWith("level(", StringComparison.Ordinal))).ToList();
            Assert.That(pinned, Is.Not.Empty, "some measured candidates pin a cache tile");
        }

        // Every measured mapping's levels nest and fit, pinned or not; the records rebuild the same mappings.
        using var again = LayerTuner.Create(identity, instance, MapperTests.Arch("vnni-avx512"), new CostModelMeasurer(), options).Value!;
        var (resumed, skipped) = again.Resume(records);
        Assert.Multiple(() =>
        {
            Assert.That(resumed, Is.EqualTo(records.Count));
            Assert.That(skipped, Is.Zero);
            Assert.That(again.Best!.Measured, Is.EqualTo(records.Min(r => r.Measured)));
        });

        var candidate = Mapper.Candidates(instance, MapperTests.Arch("vnni-avx512")).Value!.Single(c => c.Key == records[0].Problem);
        using var space = candidate.CreateSpace(5_000, null, 1);
        foreach (var record in records.Where(r => r.Problem == candidate.Key))
        {
            var choice = space.Sample(1, new Random(1), SearchConstraint.ParseAll(record.Choice, null).Value!).Choices[0];
            var mapping = Mapper.Complete(candidate, choice);
            Assert.That(record.ModelCycles, Is.EqualTo(mapping.Cost.Cycles), record.Tiles);
            var inner = mapping.Loops.Select(l => l.Role == Model.LoopRole.Reduction ? l.Intrinsic : l.Tile).ToArray();
            foreach (var level in mapping.Levels.Reverse())
            {
                for (var l = 0; l < inner.Length; l++)
                {
                    Assert.That(level.Tiles[l] % inner[l] == 0 || level.Tiles[l] == mapping.Loops[l].PaddedExtent, Is.True, record.Tiles);
                }

                Assert.That(level.FootprintBytes, Is.LessThanOrEqualTo(mapping.Graph.StorageNode(level.Storage).CapacityBytes / 2), record.Tiles);
                inner = [.. level.Tiles];
            }
        }
    }
}
