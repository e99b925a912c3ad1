using Covenant.Codelets;
using Covenant.Codelets.Syntax;
using Covenant.Runtime.Reference;
using static Covenant.Runtime.Tests.Tensors;

namespace Covenant.Runtime.Tests;

/// <summary>The interpreter on hand-built instances, against values worked out by hand.</summary>
public sealed class InterpreterTests
{
    private static readonly string[] I = ["i"];
    private static readonly string[] IJ = ["i", "j"];
    private static readonly string[] Zero = ["0"];

    [Test]
    public void TwoByTwoGemmIsWorkedOutByHand()
    {
        var b = new InstanceBuilder("gemm")
            .Input("a", ElementType.I8, [2, 2]).Input("b", ElementType.I8, [2, 2]).Output("c", ElementType.I32, [2, 2]);
        var nest = b.Nest(("i", 2), ("j", 2), ("k", 2));
        nest.Accumulate("c", IJ, V.Mul(nest.Load("a", "i", "k"), nest.Load("b", "k", "j")));

        // [1 2; 3 4] x [5 6; 7 8] = [19 22; 43 50]; and with the extremes of i8:
        // [-128 127; 1 -1] x [-128 -128; 127 1] = [16384+16129, 16384+127; -128-127, -128-1]
        var c = Run(b.Build(), ("a", I8([2, 2], 1, 2, 3, 4)), ("b", I8([2, 2], 5, 6, 7, 8)))["c"];
        var extreme = Run(b.Build(), ("a", I8([2, 2], -128, 127, 1, -1)), ("b", I8([2, 2], -128, -128, 127, 1)))["c"];

        Assert.Multiple(() =>
        {
            Assert.That(Values(c), Is.EqualTo(new[] { 19, 22, 43, 50 }));
            Assert.That(c.ElementType, Is.EqualTo(ElementType.I32));
            Assert.That(Values(extreme), Is.EqualTo(new[] { 32513, 16511, -255, -129 }));
        });
    }

    [Test]
    public void UnsignedTimesSignedWidensBoth()
    {
        // VNNI's u8 x s8: 255 * -128 = -32640 (not 255 read as -1).
        var b = new InstanceBuilder("dot").Input("a", ElementType.U8, [2]).Input("w", ElementType.I8, [2]).Output("y", ElementType.I32, [1]);
        var nest = b.Nest(("k", 2));
        nest.Accumulate("y", Zero, V.Mul(nest.Load("a", "k"), nest.Load("w", "k")));

        var y = Run(b.Build(), ("a", U8([2], 255, 200)), ("w", I8([2], -128, 1)))["y"];

        Assert.That(Values(y), Is.EqualTo(new[] { (255 * -128) + 200 }));
    }

    [Test]
    public void RequantizeEpilogueShiftsClipsAndCasts()
    {
        // y[i] = i8(clip((acc[i] + bias[i]) >> 4, -128, 127)), and a relu variant.
        var b = new InstanceBuilder("requant")
            .Input("acc", ElementType.I32, [5]).Input("bias", ElementType.I32, [5])
            .Output("y", ElementType.I8, [5]).Output("r", ElementType.I8, [5]);
        var nest = b.Nest(("i", 5));
        var shifted = V.Shr(V.Add(nest.Load("acc", "i"), nest.Load("bias", "i")), V.Int(4));
        nest.Assign("y", I, V.Cast(ElementType.I8, V.Clip(shifted, V.Int(-128), V.Int(127))));
        nest.Assign("r", I, V.Cast(ElementType.I8, V.Clip(V.Relu(shifted), V.Int(0), V.Int(127))));

        var outputs = Run(
            b.Build(),
            ("acc", I32([5], 100, -100, 5000, -5000, 31)),
            ("bias", I32([5], 4, 0, 0, 0, 1)));

        // (104 >> 4) = 6; (-100 >> 4) = -7 (arithmetic: floor); 5000 >> 4 = 312 -> 127; -5000 >> 4 = -313 -> -128; 32 >> 4 = 2.
        Assert.Multiple(() =>
        {
            Assert.That(Values(outputs["y"]), Is.EqualTo(new[] { 6, -7, 127, -128, 2 }));
            Assert.That(Values(outputs["r"]), Is.EqualTo(new[] { 6, 0, 127, 0, 2 }));
        });
    }

    [Test]
    public void CastsToEightBitsKeepTheLowBits()
    {
        var b = new InstanceBuilder("casts").Input("x", ElementType.I32, [6]).Output("s", ElementType.I8, [6]).Output("u", ElementType.U8, [6]);
        var nest = b.Nest(("i", 6));
        nest.Assign("s", I, V.Cast(ElementType.I8, nest.Load("x", "i")));
        nest.Assign("u", I, V.Cast(ElementType.U8, nest.Load("x", "i")));

        var outputs = Run(b.Build(), ("x", I32([6], 200, -129, 256, -1, 127, 0x12345678)));

        Assert.Multiple(() =>
        {
            Assert.That(Values(outputs["s"]), Is.EqualTo(new[] { -56, 127, 0, -1, 127, 0x78 }));
            Assert.That(Values(outputs["u"]), Is.EqualTo(new[] { 200, 127, 0, 255, 127, 0x78 }));
        });
    }

    [Test]
    public void StoringAnI32ValueIntoEightBitsWrapsWithAssignAndAccumulate()
    {
        // y = 300 wraps to 44; z += 100 three times is 300, which wraps to 44 as well; u += -1 gives 255.
        var b = new InstanceBuilder("store").Output("y", ElementType.I8, [1]).Output("z", ElementType.I8, [1]).Output("u", ElementType.U8, [1]);
        b.Nest(("i", 1)).Assign("y", Zero, V.Int(300));
        b.Nest(("i", 3)).Accumulate("z", Zero, V.Int(100));
        b.Nest(("i", 1)).Accumulate("u", Zero, V.Int(-1));

        var outputs = Run(b.Build());

        Assert.Multiple(() =>
        {
            Assert.That(Values(outputs["y"]), Is.EqualTo(new[] { 44 }));
            Assert.That(Values(outputs["z"]), Is.EqualTo(new[] { 44 }));
            Assert.That(Values(outputs["u"]), Is.EqualTo(new[] { 255 }));
        });
    }

    [Test]
    public void I32AccumulationWrapsAroundTwosComplement()
    {
        // 65536 * 65536 = 2^32 wraps to 0; three times 2^30 is 3 * 2^30, which wraps to -2^30.
        var b = new InstanceBuilder("wrap").Input("x", ElementType.I32, [3]).Output("y", ElementType.I32, [2]);
        var nest = b.Nest(("k", 3));
        nest.Accumulate("y", Zero, V.Mul(nest.Load("x", "k"), nest.Load("x", "k")));
        nest.Accumulate("y", ["1"], V.Int(1 << 30));

        var y = Run(b.Build(), ("x", I32([3], 65536, 3, 0)))["y"];

        Assert.That(Values(y), Is.EqualTo(new[] { 9, -(1 << 30) }));
    }

    [Test]
    public void ShiftAmountsAreTakenModulo32AndRightShiftIsArithmetic()
    {
        var b = new InstanceBuilder("shifts").Input("x", ElementType.I32, [1]).Input("s", ElementType.I32, [5]).Output("l", ElementType.I32, [5]).Output("r", ElementType.I32, [5]);
        var nest = b.Nest(("i", 5));
        nest.Assign("l", I, V.Shl(nest.Load("x", "0"), nest.Load("s", "i")));
        nest.Assign("r", I, V.Shr(nest.Load("x", "0"), nest.Load("s", "i")));

        var outputs = Run(b.Build(), ("x", I32([1], -8)), ("s", I32([5], 1, 32, 33, 29, -1)));

        // -8 << 29 = -2^32 wraps to 0; a shift by -1 is a shift by 31.
        Assert.Multiple(() =>
        {
            Assert.That(Values(outputs["l"]), Is.EqualTo(new[] { -16, -8, -16, 0, 0 }));
            Assert.That(Values(outputs["r"]), Is.EqualTo(new[] { -4, -8, -4, -1, -1 }));
        });
    }

    [Test]
    public void OneShiftedLeftBy31IsTheSmallestI32()
    {
        var b = new InstanceBuilder("shift31").Output("y", ElementType.I32, [1]);
        b.Nest(("i", 1)).Assign("y", Zero, V.Shl(V.Int(1), V.Int(31)));

        Assert.That(Values(Run(b.Build())["y"]), Is.EqualTo(new[] { int.MinValue }));
    }

    [Test]
    public void FloatToIntegerTruncatesTowardZeroAndSaturates()
    {
        var b = new InstanceBuilder("f2i").Input("x", ElementType.F32, [7])
            .Output("i", ElementType.I32, [7]).Output("s", ElementType.I8, [7]).Output("u", ElementType.U8, [7]);
        var nest = b.Nest(("k", 7));
        nest.Assign("i", ["k"], V.Cast(ElementType.I32, nest.Load("x", "k")));
        nest.Assign("s", ["k"], V.Cast(ElementType.I8, nest.Load("x", "k")));
        nest.Assign("u", ["k"], nest.Load("x", "k")); // a store converts like a cast

        var outputs = Run(b.Build(), ("x", F32([7], 2.9f, -2.9f, float.NaN, 3e9f, -3e9f, 300.5f, -5.5f)));

        Assert.Multiple(() =>
        {
            Assert.That(Values(outputs["i"]), Is.EqualTo(new[] { 2, -2, 0, int.MaxValue, int.MinValue, 300, -5 }));
            Assert.That(Values(outputs["s"]), Is.EqualTo(new[] { 2, -2, 0, 127, -128, 127, -5 }));
            Assert.That(Values(outputs["u"]), Is.EqualTo(new[] { 2, 0, 0, 255, 0, 255, 0 }));
        });
    }

    [Test]
    public void StoringToF16RoundsToNearestEven()
    {
        // Near 1 an f16 step is 2^-10: 1 + 2^-11 is a tie and goes to the even 1; 1 + 3 * 2^-11 goes up to 1 + 2^-9.
        var b = new InstanceBuilder("f16").Input("x", ElementType.F32, [3]).Output("y", ElementType.F16, [3]);
        var nest = b.Nest(("i", 3));
        nest.Assign("y", I, V.Add(nest.Load("x", "i"), V.Real(1)));

        var y = Run(b.Build(), ("x", F32([3], MathF.Pow(2, -11), 3 * MathF.Pow(2, -11), 70000f)))["y"];

        Assert.That(FloatValues(y), Is.EqualTo(new[] { 1f, 1f + MathF.Pow(2, -9), float.PositiveInfinity }));
    }

    [Test]
    public void F16AccumulationRoundsAtEveryStore()
    {
        // 1 + 2^-11 rounds back to 1 at each of the ten steps; in f32 the sum would be 1 + 10 * 2^-11.
        var b = new InstanceBuilder("f16acc").Output("h", ElementType.F16, [1]).Output("f", ElementType.F32, [1]);
        b.Nest(("i", 1)).Assign("h", Zero, V.Real(1)).Assign("f", Zero, V.Real(1));
        b.Nest(("k", 10)).Accumulate("h", Zero, V.Real(Math.Pow(2, -11)));
        b.Nest(("k", 10)).Accumulate("f", Zero, V.Real(Math.Pow(2, -11)));

        var outputs = Run(b.Build());

        Assert.Multiple(() =>
        {
            Assert.That(FloatValues(outputs["h"]), Is.EqualTo(new[] { 1f }));
            Assert.That(FloatValues(outputs["f"]), Is.EqualTo(new[] { 1f + (10 * MathF.Pow(2, -11)) }));
        });
    }

    [Test]
    public void F16OperandsAreMultipliedInF32()
    {
        // 2047 * 1.5 = 3070.5 is exact in f32 but not an f16 (f16 steps are 2 above 2048): the product is kept
        // in f32 and only rounded when stored to f16 (to 3070, the nearer neighbor).
        var b = new InstanceBuilder("f16mul").Input("a", ElementType.F16, [1]).Input("b", ElementType.F16, [1])
            .Output("y", ElementType.F16, [1]).Output("z", ElementType.F32, [1]);
        var nest = b.Nest(("i", 1));
        nest.Assign("y", Zero, V.Mul(nest.Load("a", "0"), nest.Load("b", "0")));
        nest.Assign("z", Zero, V.Mul(nest.Load("a", "0"), nest.Load("b", "0")));

        var outputs = Run(b.Build(), ("a", F16([1], 2047f)), ("b", F16([1], 1.5f)));

        Assert.Multiple(() =>
        {
            Assert.That(FloatValues(outputs["z"]), Is.EqualTo(new[] { 3070.5f }));
            Assert.That(FloatValues(outputs["y"]), Is.EqualTo(new[] { 3070f }));
        });
    }

    [Test]
    public void DivisionFloorsAndDivisionByZeroGivesZero()
    {
        var b = new InstanceBuilder("div").Input("a", ElementType.I32, [5]).Input("b", ElementType.I32, [5])
            .Output("q", ElementType.I32, [5]).Output("r", ElementType.I32, [5]);
        var nest = b.Nest(("i", 5));
        nest.Assign("q", I, V.Div(nest.Load("a", "i"), nest.Load("b", "i")));
        nest.Assign("r", I, V.Mod(nest.Load("a", "i"), nest.Load("b", "i")));

        var outputs = Run(b.Build(), ("a", I32([5], 7, -7, 7, -7, 5)), ("b", I32([5], 2, 2, -2, -2, 0)));

        Assert.Multiple(() =>
        {
            Assert.That(Values(outputs["q"]), Is.EqualTo(new[] { 3, -4, -4, 3, 0 }));
            Assert.That(Values(outputs["r"]), Is.EqualTo(new[] { 1, 1, -1, -1, 0 }));
        });
    }

    [Test]
    public void MinMaxAndNegationWork()
    {
        var b = new InstanceBuilder("minmax").Input("a", ElementType.I8, [3]).Input("b", ElementType.I8, [3])
            .Output("hi", ElementType.I32, [3]).Output("lo", ElementType.I32, [3]).Output("neg", ElementType.I8, [3]);
        var nest = b.Nest(("i", 3));
        nest.Assign("hi", I, V.Max(nest.Load("a", "i"), nest.Load("b", "i")));
        nest.Assign("lo", I, V.Min(nest.Load("a", "i"), nest.Load("b", "i")));
        nest.Assign("neg", I, V.Neg(nest.Load("a", "i")));

        var outputs = Run(b.Build(), ("a", I8([3], -128, 5, 0)), ("b", I8([3], 127, -5, 0)));

        Assert.Multiple(() =>
        {
            Assert.That(Values(outputs["hi"]), Is.EqualTo(new[] { 127, 5, 0 }));
            Assert.That(Values(outputs["lo"]), Is.EqualTo(new[] { -128, -5, 0 }));
            Assert.That(Values(outputs["neg"]), Is.EqualTo(new[] { -128, -5, 0 })); // -(-128) = 128 wraps to -128 in i8
        });
    }

    [Test]
    public void PaddedInputsReadZeroOutsideTheirBounds()
    {
        // y[p] += x[p + r - 1] * w[r] with x = [1 2 3], w = [1 10 100], pad 1:
        // y[0] = 0*1 + 1*10 + 2*100 = 210, y[1] = 1 + 20 + 300 = 321, y[2] = 2 + 30 + 0 = 32.
        var b = new InstanceBuilder("conv1d").Input("x", ElementType.I32, [3], TensorModifiers.Padded).Input("w", ElementType.I32, [3])
            .Output("y", ElementType.I32, [3]);
        var nest = b.Nest(("p", 3), ("r", 3));
        nest.Accumulate("y", ["p"], V.Mul(nest.Load("x", "p + r - 1"), nest.Load("w", "r")));

        var y = Run(b.Build(), ("x", I32([3], 1, 2, 3)), ("w", I32([3], 1, 10, 100)))["y"];

        Assert.That(Values(y), Is.EqualTo(new[] { 210, 321, 32 }));
    }

    [Test]
    public void PaddingIsCheckedPerDimensionNotOnTheFlatOffset()
    {
        // x[i, j - 1] at j = 0 has a flat offset inside the tensor (the previous row's end) but must read 0.
        var b = new InstanceBuilder("shift").Input("x", ElementType.I32, [2, 2], TensorModifiers.Padded).Output("y", ElementType.I32, [2, 2]);
        var nest = b.Nest(("i", 2), ("j", 2));
        nest.Assign("y", IJ, nest.Load("x", "i", "j - 1"));

        var y = Run(b.Build(), ("x", I32([2, 2], 1, 2, 3, 4)))["y"];

        Assert.That(Values(y), Is.EqualTo(new[] { 0, 1, 0, 3 }));
    }

    [Test]
    public void CroppedOutputsDropWritesOutsideTheirBounds()
    {
        // Scatter y[2*i + r - 1] += x[i] * w[r] with x = [1 2], w = [1 10 100]; the full result would be
        // index -1..4: [1, 10, 100+2, 20, 200], cropped to [0, 4): [10, 102, 20, 200].
        var b = new InstanceBuilder("scatter").Input("x", ElementType.I32, [2]).Input("w", ElementType.I32, [3])
            .Output("y", ElementType.I32, [4], TensorModifiers.Cropped);
        var nest = b.Nest(("i", 2), ("r", 3));
        nest.Accumulate("y", ["2*i + r - 1"], V.Mul(nest.Load("x", "i"), nest.Load("w", "r")));

        var y = Run(b.Build(), ("x", I32([2], 1, 2)), ("w", I32([3], 1, 10, 100)))["y"];

        Assert.That(Values(y), Is.EqualTo(new[] { 10, 102, 20, 200 }));
    }

    [Test]
    public void ACroppedReductionTargetOutsideTheBoundsIsSkippedWhole()
    {
        // y[i - 1] += x[i, k]: the row i = 0 falls outside and is dropped; the others are row sums.
        var b = new InstanceBuilder("rows").Input("x", ElementType.I32, [3, 2]).Output("y", ElementType.I32, [2], TensorModifiers.Cropped);
        var nest = b.Nest(("i", 3), ("k", 2));
        nest.Accumulate("y", ["i - 1"], nest.Load("x", "i", "k"));

        var y = Run(b.Build(), ("x", I32([3, 2], 1, 2, 3, 4, 5, 6)))["y"];

        Assert.That(Values(y), Is.EqualTo(new[] { 7, 11 }));
    }

    [Test]
    public void LoopVariablesAreValues()
    {
        var b = new InstanceBuilder("iota").Output("y", ElementType.I32, [2, 3]);
        var nest = b.Nest(("i", 2), ("j", 3));
        nest.Assign("y", IJ, V.Add(V.Mul(nest.Var("i"), V.Int(10)), nest.Var("j")));

        Assert.That(Values(Run(b.Build())["y"]), Is.EqualTo(new[] { 0, 1, 2, 10, 11, 12 }));
    }

    [Test]
    public void AssignInsideAReductionKeepsTheLastValue()
    {
        var b = new InstanceBuilder("last").Input("x", ElementType.I32, [2, 3]).Output("y", ElementType.I32, [2]);
        var nest = b.Nest(("i", 2), ("k", 3));
        nest.Assign("y", I, nest.Load("x", "i", "k"));

        Assert.That(Values(Run(b.Build(), ("x", I32([2, 3], 1, 2, 3, 4, 5, 6)))["y"]), Is.EqualTo(new[] { 3, 6 }));
    }

    [Test]
    public void NestsRunInOrderThroughALocal()
    {
        // acc = bias, then acc += x * w over k, then y = relu(acc): bias [-100, 1], x . w = [10, -10].
        var b = new InstanceBuilder("chain").Input("x", ElementType.I8, [2, 2]).Input("w", ElementType.I8, [2]).Input("bias", ElementType.I32, [2])
            .Local("acc", ElementType.I32, [2]).Output("y", ElementType.I32, [2]);
        var init = b.Nest(("i", 2));
        init.Assign("acc", I, init.Load("bias", "i"));
        var mac = b.Nest(("i", 2), ("k", 2));
        mac.Accumulate("acc", I, V.Mul(mac.Load("x", "i", "k"), mac.Load("w", "k")));
        var epilogue = b.Nest(("i", 2));
        epilogue.Assign("y", I, V.Relu(epilogue.Load("acc", "i")));

        var outputs = Run(b.Build(), ("x", I8([2, 2], 5, 0, -5, 0)), ("w", I8([2], 2, 7)), ("bias", I32([2], -100, 1)));

        Assert.Multiple(() =>
        {
            Assert.That(Values(outputs["y"]), Is.EqualTo(new[] { 0, 0 }));
            Assert.That(outputs.Keys, Is.EqualTo(new[] { "y" }), "locals are not outputs");
        });
    }

    [Test]
    public void StatementsOfANestRunInOrderForEachIteration()
    {
        // y[0] = y[0] * 2 + 1 after z[0] += y[0] each iteration: y goes 0,1,3,7; z sums the y before: 0+1+3 = 4.
        var b = new InstanceBuilder("order").Output("y", ElementType.I32, [1]).Output("z", ElementType.I32, [1]);
        var nest = b.Nest(("k", 3));
        nest.Accumulate("z", Zero, nest.Load("y", "0"));
        nest.Assign("y", Zero, V.Add(V.Mul(nest.Load("y", "0"), V.Int(2)), V.Int(1)));

        var outputs = Run(b.Build());

        Assert.Multiple(() =>
        {
            Assert.That(Values(outputs["y"]), Is.EqualTo(new[] { 7 }));
            Assert.That(Values(outputs["z"]), Is.EqualTo(new[] { 0 + 1 + 3 }));
        });
    }

    [Test]
    public void OutputsStartAtZeroOnEveryRun()
    {
        var b = new InstanceBuilder("acc").Input("x", ElementType.I32, [1]).Output("y", ElementType.I32, [1]);
        var nest = b.Nest(("k", 1));
        nest.Accumulate("y", Zero, nest.Load("x", "0"));
        var instance = b.Build();

        Run(instance, ("x", I32([1], 5)));
        var second = Run(instance, ("x", I32([1], 5)))["y"];

        Assert.That(Values(second), Is.EqualTo(new[] { 5 }));
    }

    [Test]
    public void AnEmptyLoopRunsNothing()
    {
        var b = new InstanceBuilder("empty").Output("y", ElementType.I32, [2]);
        b.Nest(("i", 2), ("k", 0)).Accumulate("y", I, V.Int(1));

        Assert.That(Values(Run(b.Build())["y"]), Is.EqualTo(new[] { 0, 0 }));
    }

    [Test]
    public void ReadingAnUnpaddedTensorOutOfBoundsIsRejected()
    {
        var b = new InstanceBuilder("oob").Input("x", ElementType.I32, [3]).Output("y", ElementType.I32, [3]);
        var nest = b.Nest(("p", 3));
        nest.Assign("y", ["p"], nest.Load("x", "p + 1"));

        var error = Assert.Throws<InvalidOperationException>(() => ReferenceInterpreter.Compile(b.Build()));
        Assert.That(error!.Message, Does.Contain("'x'").And.Contain("[1, 3]").And.Contain("padded"));
    }

    [Test]
    public void WritingAnUncroppedTensorOutOfBoundsIsRejected()
    {
        var b = new InstanceBuilder("oob").Output("y", ElementType.I32, [3]);
        b.Nest(("p", 3)).Assign("y", ["p - 1"], V.Int(1));

        var error = Assert.Throws<InvalidOperationException>(() => ReferenceInterpreter.Compile(b.Build()));
        Assert.That(error!.Message, Does.Contain("'y'").And.Contain("cropped"));
    }

    [Test]
    public void WritingAnInputIsRejected()
    {
        var b = new InstanceBuilder("bad").Input("x", ElementType.I32, [1]);
        b.Nest(("p", 1)).Assign("x", Zero, V.Int(1));

        Assert.Throws<InvalidOperationException>(() => ReferenceInterpreter.Compile(b.Build()));
    }
}
