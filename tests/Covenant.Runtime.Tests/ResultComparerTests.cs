using static Covenant.Runtime.Tests.Tensors;

namespace Covenant.Runtime.Tests;

public sealed class ResultComparerTests
{
    [Test]
    public void IdenticalIntegersMatchExactly()
    {
        var result = ResultComparer.Compare(I32([2, 2], 1, 2, 3, 4), I32([2, 2], 1, 2, 3, 4), tolerance: null);

        Assert.Multiple(() =>
        {
            Assert.That(result.Matches, Is.True);
            Assert.That(result.MismatchCount, Is.Zero);
            Assert.That(result.FirstMismatch, Is.Empty);
            Assert.That(result.Summary, Does.StartWith("exact match (4 elements"));
        });
    }

    [Test]
    public void DifferencesAreCountedAndTheFirstIsLocated()
    {
        var result = ResultComparer.Compare(I32([2, 3], 0, 1, 2, 3, 4, 5), I32([2, 3], 0, 1, 2, 3, 9, -5), tolerance: null);

        Assert.Multiple(() =>
        {
            Assert.That(result.Matches, Is.False);
            Assert.That(result.MismatchCount, Is.EqualTo(2));
            Assert.That(result.FirstMismatch, Is.EqualTo(new[] { 1, 1 }));
            Assert.That(result.FirstExpected, Is.EqualTo(4));
            Assert.That(result.FirstActual, Is.EqualTo(9));
            Assert.That(result.MaxAbsoluteError, Is.EqualTo(10));
            Assert.That(result.Summary, Does.Contain("2 of 6 elements differ").And.Contain("[1, 1]").And.Contain("expected 4, got 9"));
        });
    }

    [Test]
    public void FloatsCompareWithinATolerance()
    {
        var expected = F32([3], 1f, 2f, 3f);
        var actual = F32([3], 1.0005f, 2f, 2.99f);

        var loose = ResultComparer.Compare(expected, actual, tolerance: 0.02);
        var tight = ResultComparer.Compare(expected, actual, tolerance: 0.001);
        var exact = ResultComparer.Compare(expected, actual, tolerance: null);

        Assert.Multiple(() =>
        {
            Assert.That(loose.Matches, Is.True);
            Assert.That(loose.MaxAbsoluteError, Is.EqualTo(0.01).Within(1e-6));
            Assert.That(tight.MismatchCount, Is.EqualTo(1));
            Assert.That(tight.FirstMismatch, Is.EqualTo(new[] { 2 }));
            Assert.That(exact.MismatchCount, Is.EqualTo(2));
            Assert.That(exact.FirstMismatch, Is.EqualTo(new[] { 0 }));
        });
    }

    [Test]
    public void NaNsAndInfinities()
    {
        var expected = F32([4], float.NaN, float.PositiveInfinity, float.NaN, 1f);
        var sameSpecials = ResultComparer.Compare(expected, F32([4], float.NaN, float.PositiveInfinity, float.NaN, 1f), tolerance: 0.1);
        var wrongSpecials = ResultComparer.Compare(expected, F32([4], 0f, float.NegativeInfinity, float.NaN, float.NaN), tolerance: 0.1);

        Assert.Multiple(() =>
        {
            Assert.That(sameSpecials.Matches, Is.True);
            Assert.That(wrongSpecials.MismatchCount, Is.EqualTo(3));
            Assert.That(wrongSpecials.MaxAbsoluteError, Is.EqualTo(double.PositiveInfinity));
        });
    }

    [Test]
    public void ExactFloatComparisonIsBitwise() =>
        Assert.That(ResultComparer.Compare(F32([1], 0f), F32([1], -0f), tolerance: null).Matches, Is.False);

    [Test]
    public void TypeOrShapeMismatchesAreCallerErrors()
    {
        Assert.Multiple(() =>
        {
            Assert.Throws<ArgumentException>(() => ResultComparer.Compare(I32([2], 1, 2), I8([2], 1, 2)));
            Assert.Throws<ArgumentException>(() => ResultComparer.Compare(I32([2], 1, 2), I32([1, 2], 1, 2)));
            Assert.Throws<ArgumentOutOfRangeException>(() => ResultComparer.Compare(F32([1], 1), F32([1], 1), tolerance: -1));
        });
    }
}
