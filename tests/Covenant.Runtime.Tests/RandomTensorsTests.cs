using Covenant.Codelets;
using Covenant.Codelets.Semantics;

namespace Covenant.Runtime.Tests;

public sealed class RandomTensorsTests
{
    [Test]
    public void SplitMix64MatchesItsReferenceImplementation()
    {
        // The first output of Vigna's splitmix64.c from state 0.
        ulong state = 0;

        Assert.That(SeededRandom.SplitMix64(ref state), Is.EqualTo(0xe220a8397b1dcdafUL));
    }

    [Test]
    public void XoshiroMatchesAnIndependentImplementation()
    {
        // Golden values from a separate Python transcription of xoshiro256starstar.c, seeded by four splitmix64 outputs.
        var zero = new SeededRandom(0);
        var fortyTwo = new SeededRandom(42);

        Assert.Multiple(() =>
        {
            Assert.That(new[] { zero.Next(), zero.Next(), zero.Next() }, Is.EqualTo(new[] { 0x99ec5f36cb75f2b4UL, 0xbf6e1f784956452aUL, 0x1a5f849d4933e6e0UL }));
            Assert.That(new[] { fortyTwo.Next(), fortyTwo.Next(), fortyTwo.Next() }, Is.EqualTo(new[] { 0x15780b2e0c2ec716UL, 0x6104d9866d113a7eUL, 0xae17533239e499a1UL }));
        });
    }

    [Test]
    public void StreamsAreSeededByTheSeedXorTheNameHash() =>
        // FNV-1a 64 of "x" is 0xaf63f54c86021707; xor 7.
        Assert.That(SeededRandom.StreamSeed(7, "x"), Is.EqualTo(0xaf63f54c86021700UL));

    [Test]
    public void GoldenFirstValuesOfEachElementType()
    {
        // Independently computed: the top bits of the first four draws of stream (7, "x").
        Assert.Multiple(() =>
        {
            Assert.That(Generate(ElementType.I8).Integers.ToArray(), Is.EqualTo(new[] { 33, -104, -26, 27 }));
            Assert.That(Generate(ElementType.U8).Integers.ToArray(), Is.EqualTo(new[] { 33, 152, 230, 27 }));
            Assert.That(Generate(ElementType.I32).Integers.ToArray(), Is.EqualTo(new[] { -48459, 12447, 52314, -51359 }));
            Assert.That(Generate(ElementType.F32).Floats.ToArray(), Is.EqualTo(new[] { -0.7394137382507324f, 0.18992626667022705f, 0.7982543706893921f, -0.7836757898330688f }));
            Assert.That(Generate(ElementType.F16).Floats.ToArray(), Is.EqualTo(new[] { -0.740234375f, 0.189453125f, 0.7978515625f, -0.7841796875f }));
        });

        static TensorData Generate(ElementType type) => RandomTensors.Generate(type, [2, 2], seed: 7, "x");
    }

    [Test]
    public void TheSameSeedGivesTheSameDataAndAnotherSeedOther()
    {
        var a = RandomTensors.Generate(ElementType.I8, [64], seed: 1, "x");
        var again = RandomTensors.Generate(ElementType.I8, [64], seed: 1, "x");
        var otherSeed = RandomTensors.Generate(ElementType.I8, [64], seed: 2, "x");
        var otherName = RandomTensors.Generate(ElementType.I8, [64], seed: 1, "w");

        Assert.Multiple(() =>
        {
            Assert.That(again, Is.EqualTo(a));
            Assert.That(otherSeed, Is.Not.EqualTo(a));
            Assert.That(otherName, Is.Not.EqualTo(a));
        });
    }

    [TestCase(ElementType.I8, -128, 127)]
    [TestCase(ElementType.U8, 0, 255)]
    [TestCase(ElementType.I32, RandomTensors.I32Low, RandomTensors.I32High - 1)]
    public void IntegersCoverTheirDocumentedRange(ElementType type, int low, int high)
    {
        var values = RandomTensors.Generate(type, [200_000], seed: 3, "x").Integers.ToArray();

        Assert.Multiple(() =>
        {
            // Every value in range, and the extremes nearly reached (within 0.5% of the span).
            Assert.That(values.Min(), Is.GreaterThanOrEqualTo(low).And.LessThanOrEqualTo(low + ((high - (double)low) / 200)));
            Assert.That(values.Max(), Is.LessThanOrEqualTo(high).And.GreaterThanOrEqualTo(high - ((high - (double)low) / 200)));
            Assert.That(values.Average(), Is.EqualTo((low + (double)high) / 2).Within((high - (double)low) / 100));
        });
    }

    [TestCase(ElementType.F32, 23)]
    [TestCase(ElementType.F16, 10)]
    public void FloatsLieInMinusOneToOneOnTheirGrid(ElementType type, int bits)
    {
        var values = RandomTensors.Generate(type, [100_000], seed: 3, "x").Floats.ToArray();

        Assert.Multiple(() =>
        {
            Assert.That(values.Min(), Is.GreaterThanOrEqualTo(-1f).And.LessThan(-0.99f));
            Assert.That(values.Max(), Is.LessThan(1f).And.GreaterThan(0.99f));
            Assert.That(values.All(v => Math.ScaleB(v, bits) == Math.Round(Math.ScaleB(v, bits))), Is.True, "every value is a multiple of 2^-bits");
            Assert.That(values.All(v => v == ScalarSemantics.FloatToFloat(v, type)), Is.True, "every value is exact in its type");
        });
    }

    [Test]
    public void InputsDrawEachTensorFromItsOwnStream()
    {
        // Adding a tensor to a codelet does not change the data of the others.
        var small = new InstanceBuilder("a").Input("x", ElementType.I8, [4]).Output("y", ElementType.I32, [1]).Build();
        var large = new InstanceBuilder("b").Input("w", ElementType.I8, [8]).Input("x", ElementType.I8, [4]).Output("y", ElementType.I32, [1]).Build();

        var first = RandomTensors.Inputs(small, seed: 9);
        var second = RandomTensors.Inputs(large, seed: 9);

        Assert.Multiple(() =>
        {
            Assert.That(second["x"], Is.EqualTo(first["x"]));
            Assert.That(first.Keys, Is.EquivalentTo(new[] { "x" }));
            Assert.That(second.Keys, Is.EquivalentTo(new[] { "w", "x" }));
        });
    }
}
