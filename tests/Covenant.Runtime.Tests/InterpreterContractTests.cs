using Covenant.Codelets;
using Covenant.Codelets.Semantics;
using Covenant.Codelets.Syntax;
using Covenant.Runtime.Reference;
using static Covenant.Runtime.Tests.Tensors;

namespace Covenant.Runtime.Tests;

/// <summary>Input checking, and the promises the fast paths (reordering, registers, threads) must keep.</summary>
public sealed class InterpreterContractTests
{
    private static CodeletInstance SmallGemm() => InterpreterBenchmark.Gemm(2, 3, 4, transposedB: false);

    [Test]
    public void AMissingInputIsNamed()
    {
        var error = Assert.Throws<ArgumentException>(() => Run(SmallGemm(), ("a", I8([2, 4], new int[8]))));

        Assert.That(error!.Message, Does.Contain("'b'").And.Contain("i8[4, 3]").And.Contain("missing"));
    }

    [Test]
    public void AnInputOfTheWrongShapeIsNamed()
    {
        var error = Assert.Throws<ArgumentException>(() =>
            Run(SmallGemm(), ("a", I8([2, 4], new int[8])), ("b", I8([3, 4], new int[12]))));

        Assert.That(error!.Message, Does.Contain("'b'").And.Contain("must be i8[4, 3]").And.Contain("got i8[3, 4]"));
    }

    [Test]
    public void AnInputOfTheWrongTypeIsNamed()
    {
        var error = Assert.Throws<ArgumentException>(() =>
            Run(SmallGemm(), ("a", U8([2, 4], new int[8])), ("b", I8([4, 3], new int[12]))));

        Assert.That(error!.Message, Does.Contain("'a'").And.Contain("got u8[2, 4]"));
    }

    [Test]
    public void AnUnknownInputIsNamed()
    {
        var error = Assert.Throws<ArgumentException>(() =>
            Run(SmallGemm(), ("a", I8([2, 4], new int[8])), ("b", I8([4, 3], new int[12])), ("bias", I32([3], new int[3]))));

        Assert.That(error!.Message, Does.Contain("no input 'bias'").And.Contain("a, b"));
    }

    [Test]
    public void InputsAreNotModified()
    {
        var instance = SmallGemm();
        var inputs = RandomTensors.Inputs(instance, seed: 4);
        var checksums = inputs.ToDictionary(i => i.Key, i => i.Value.Checksum());

        ReferenceInterpreter.Run(instance, inputs);

        Assert.That(inputs.ToDictionary(i => i.Key, i => i.Value.Checksum()), Is.EqualTo(checksums));
    }

    [Test]
    public void CompiledFormsAreReusedPerInstance()
    {
        var instance = SmallGemm();
        var first = ReferenceInterpreter.Compile(instance);

        Assert.That(ReferenceInterpreter.Compile(instance), Is.SameAs(first));
    }

    [TestCase(false)]
    [TestCase(true)]
    public void RandomGemmMatchesPlainLoops(bool transposedB)
    {
        // Odd sizes; b[k, n] is the layout the interpreter reorders to i, k, j.
        const int m = 7, n = 5, k = 13;
        var instance = InterpreterBenchmark.Gemm(m, n, k, transposedB);
        var inputs = RandomTensors.Inputs(instance, seed: 21);
        var a = inputs["a"].Integers.ToArray();
        var b = inputs["b"].Integers.ToArray();

        var expected = new int[m * n];
        for (var i = 0; i < m; i++)
        {
            for (var j = 0; j < n; j++)
            {
                for (var kk = 0; kk < k; kk++)
                {
                    expected[(i * n) + j] += a[(i * k) + kk] * b[transposedB ? (j * k) + kk : (kk * n) + j];
                }
            }
        }

        Assert.That(Values(ReferenceInterpreter.Run(instance, inputs)["c"]), Is.EqualTo(expected));
    }

    [Test]
    public void ReorderedEightBitAccumulationStillWraps()
    {
        // y_i8[j] += x[k, j] over k: the interpreter runs j innermost; the sum wraps to 8 bits the same way.
        var b = new InstanceBuilder("colsum").Input("x", ElementType.I8, [40, 3]).Output("y", ElementType.I8, [3]);
        var nest = b.Nest(("j", 3), ("k", 40));
        nest.Accumulate("y", ["j"], nest.Load("x", "k", "j"));
        var x = RandomTensors.Generate(ElementType.I8, [40, 3], seed: 8, "x");

        var y = Run(b.Build(), ("x", x))["y"];

        var expected = Enumerable.Range(0, 3)
            .Select(j => (int)unchecked((sbyte)Enumerable.Range(0, 40).Sum(kk => x.Integers[(kk * 3) + j])))
            .ToArray();
        Assert.That(Values(y), Is.EqualTo(expected));
    }

    [Test]
    public void AnInvariantPaddedReadIsLoadedOncePerOuterIterationAndStillPadded()
    {
        // y[i, j] = x[i - 1] * w[j]: x does not move with j, and reads 0 at i = 0.
        var b = new InstanceBuilder("outer").Input("x", ElementType.I32, [3], TensorModifiers.Padded).Input("w", ElementType.I32, [2])
            .Output("y", ElementType.I32, [3, 2]);
        var nest = b.Nest(("i", 3), ("j", 2));
        nest.Assign("y", ["i", "j"], V.Mul(nest.Load("x", "i - 1"), nest.Load("w", "j")));

        var y = Run(b.Build(), ("x", I32([3], 2, 3, 4)), ("w", I32([2], 1, 10)))["y"];

        Assert.That(Values(y), Is.EqualTo(new[] { 0, 0, 2, 20, 3, 30 }));
    }

    [Test]
    public void AReadOfATensorTheNestWritesIsNotHoisted()
    {
        // z[i, j] = y[0], then y[0] += 1: y[0] does not move with the loops but changes every iteration.
        var b = new InstanceBuilder("counter").Output("y", ElementType.I32, [1]).Output("z", ElementType.I32, [2, 3]);
        var nest = b.Nest(("i", 2), ("j", 3));
        nest.Assign("z", ["i", "j"], nest.Load("y", "0"));
        nest.Accumulate("y", ["0"], V.Int(1));

        var outputs = Run(b.Build());

        Assert.Multiple(() =>
        {
            Assert.That(Values(outputs["z"]), Is.EqualTo(new[] { 0, 1, 2, 3, 4, 5 }));
            Assert.That(Values(outputs["y"]), Is.EqualTo(new[] { 6 }));
        });
    }

    [Test]
    public void FloatSumsKeepTheWrittenOrder()
    {
        // y += x[b, a] over a, then b: walking b innermost strides through memory, but swapping the loops
        // would add in another order, and f32 addition is not associative: the written order must win.
        const int rows = 50, columns = 50;
        var b = new InstanceBuilder("sum").Input("x", ElementType.F32, [rows, columns]).Output("y", ElementType.F32, [1]);
        var nest = b.Nest(("a", columns), ("b", rows));
        nest.Accumulate("y", ["0"], nest.Load("x", "b", "a"));
        var x = RandomTensors.Generate(ElementType.F32, [rows, columns], seed: 6, "x");
        var writtenOrder = 0f;
        var swappedOrder = 0f;
        for (var a = 0; a < columns; a++)
        {
            for (var r = 0; r < rows; r++)
            {
                writtenOrder += x.Floats[(r * columns) + a];
            }
        }

        foreach (var value in x.Floats)
        {
            swappedOrder += value;
        }

        var y = Run(b.Build(), ("x", x))["y"];

        Assert.Multiple(() =>
        {
            Assert.That(swappedOrder, Is.Not.EqualTo(writtenOrder), "the data must make the order visible");
            Assert.That(FloatValues(y), Is.EqualTo(new[] { writtenOrder }));
        });
    }

    [Test]
    public void FloatResultsDoNotDependOnTheNumberOfThreads()
    {
        // Big enough to be split across threads; the expected values are the same f32 operations in the
        // same order (k innermost), so they must agree bit for bit.
        const int m = 64, n = 48, k = 40;
        var instance = InterpreterBenchmark.Gemm(m, n, k, transposedB: false, ElementType.F32, ElementType.F32);
        var inputs = RandomTensors.Inputs(instance, seed: 2);
        var a = inputs["a"].Floats.ToArray();
        var b = inputs["b"].Floats.ToArray();
        var expected = new float[m * n];
        for (var i = 0; i < m; i++)
        {
            for (var j = 0; j < n; j++)
            {
                var sum = 0f;
                for (var kk = 0; kk < k; kk++)
                {
                    sum += a[(i * k) + kk] * b[(kk * n) + j];
                }

                expected[(i * n) + j] = sum;
            }
        }

        var serial = ReferenceInterpreter.Run(instance, inputs, new InterpreterOptions { MaxDegreeOfParallelism = 1 })["c"];
        var parallel = ReferenceInterpreter.Run(instance, inputs, new InterpreterOptions { MaxDegreeOfParallelism = 7, ParallelThreshold = 0 })["c"];

        Assert.Multiple(() =>
        {
            Assert.That(FloatValues(serial), Is.EqualTo(expected));
            Assert.That(parallel, Is.EqualTo(serial));
        });
    }

    [Test]
    public void ANestThatReadsAcrossRowsIsNotSplitAcrossThreads()
    {
        // y[i] = y[i - 1] + 1 (a prefix chain, padded read): iteration i needs iteration i - 1's write, so
        // splitting i across threads would be wrong. The result must be 1, 2, 3, ... whatever the options.
        var b = new InstanceBuilder("chain").Output("y", ElementType.I32, [1000], TensorModifiers.Padded);
        var nest = b.Nest(("i", 1000));
        nest.Assign("y", ["i"], V.Add(nest.Load("y", "i - 1"), V.Int(1)));

        var y = ReferenceInterpreter.Run(b.Build(), new Dictionary<string, TensorData>(), new InterpreterOptions { MaxDegreeOfParallelism = 8, ParallelThreshold = 0 })["y"];

        Assert.That(Values(y), Is.EqualTo(Enumerable.Range(1, 1000).ToArray()));
    }

    [Test]
    public void IntegerResultsDoNotDependOnTheNumberOfThreads()
    {
        var instance = InterpreterBenchmark.Conv2d(9, 11, 5, 6, 3, 2, 1);
        var inputs = RandomTensors.Inputs(instance, seed: 3);

        var serial = ReferenceInterpreter.Run(instance, inputs, new InterpreterOptions { MaxDegreeOfParallelism = 1 })["y"];
        var parallel = ReferenceInterpreter.Run(instance, inputs, new InterpreterOptions { MaxDegreeOfParallelism = 3, ParallelThreshold = 0 })["y"];

        Assert.That(parallel, Is.EqualTo(serial));
    }
}
