using Covenant.Codelets;

namespace Covenant.Runtime.Tests;

public sealed class ScalarSemanticsTests
{
    [TestCase(7, 2, 3, 1)]
    [TestCase(-7, 2, -4, 1)]
    [TestCase(7, -2, -4, -1)]
    [TestCase(-7, -2, 3, -1)]
    [TestCase(6, 3, 2, 0)]
    [TestCase(-6, 3, -2, 0)]
    [TestCase(5, 0, 0, 0)]
    [TestCase(int.MinValue, -1, int.MinValue, 0)]
    public void IntegerDivisionFloors(int a, int b, int quotient, int remainder)
    {
        Assert.Multiple(() =>
        {
            Assert.That(ScalarSemantics.FloorDivide(a, b), Is.EqualTo(quotient));
            Assert.That(ScalarSemantics.FloorModulo(a, b), Is.EqualTo(remainder));
        });
    }

    [TestCase(7f, 2f, 3f, 1f)]
    [TestCase(-7f, 2f, -4f, 1f)]
    [TestCase(7.5f, -2f, -4f, -0.5f)]
    [TestCase(1f, 0f, 0f, 0f)]
    public void FloatDivisionFloors(float a, float b, float quotient, float remainder)
    {
        Assert.Multiple(() =>
        {
            Assert.That(ScalarSemantics.FloorDivide(a, b), Is.EqualTo(quotient));
            Assert.That(ScalarSemantics.FloorModulo(a, b), Is.EqualTo(remainder));
        });
    }

    [TestCase(2147483520f, ElementType.I32, 2147483520)] // the largest float below 2^31
    [TestCase(2147483648f, ElementType.I32, int.MaxValue)]
    [TestCase(-2147483648f, ElementType.I32, int.MinValue)]
    [TestCase(-1e20f, ElementType.I32, int.MinValue)]
    [TestCase(127.99f, ElementType.I8, 127)]
    [TestCase(128f, ElementType.I8, 127)]
    [TestCase(-128.99f, ElementType.I8, -128)]
    [TestCase(-0.99f, ElementType.U8, 0)]
    [TestCase(255.5f, ElementType.U8, 255)]
    [TestCase(float.PositiveInfinity, ElementType.U8, 255)]
    [TestCase(float.NegativeInfinity, ElementType.I8, -128)]
    [TestCase(float.NaN, ElementType.I32, 0)]
    public void FloatToIntegerTruncatesAndSaturates(float value, ElementType type, int expected) =>
        Assert.That(ScalarSemantics.FloatToInteger(value, type), Is.EqualTo(expected));

    [Test]
    public void IntegerToFloatRoundsToNearest()
    {
        Assert.Multiple(() =>
        {
            Assert.That(ScalarSemantics.IntegerToFloat(16777217, ElementType.F32), Is.EqualTo(16777216f)); // 2^24 + 1 ties to even
            Assert.That(ScalarSemantics.IntegerToFloat(2049, ElementType.F16), Is.EqualTo(2048f)); // f16 steps are 2 above 2048
            Assert.That(ScalarSemantics.IntegerToFloat(2051, ElementType.F16), Is.EqualTo(2052f));
            Assert.That(ScalarSemantics.IntegerToFloat(70000, ElementType.F16), Is.EqualTo(float.PositiveInfinity));
        });
    }
}
