using Covenant.Codelets.Semantics;
using Covenant.Codelets.Syntax;
using Covenant.Core.Diagnostics;
using static Covenant.Codelets.Tests.TestSupport;

namespace Covenant.Codelets.Tests;

public sealed class InstantiationTests
{
    private const string Gemm = "codelet g<M, N, K>(a: i8[M, K], b: i8[K, N]) -> c: i32[M, N] { for m, n, k: c[m, n] += a[m, k] * b[k, n] }";

    private static readonly SourceLocation Suite = new("suite.yaml", 4, 5);

    /// <summary>"constant + [coefficients]": AffineIndex holds an ImmutableArray, whose equality is by reference.</summary>
    private static string Text(AffineIndex index) => $"{index.Constant} + [{string.Join(", ", index.Coefficients)}]";

    [Test]
    public void LoopExtentsComeFromTheDimensionsTheyIndex()
    {
        var instance = InstantiateOk(Gemm, "M=2, N=3, K=4");
        var nest = instance.Nests.Single();
        var statement = nest.Statements.Single();
        var read = ((LoadValue)((BinaryValue)statement.Value).Left).Access;
        using (Assert.EnterMultipleScope())
        {
            Assert.That(nest.Loops, Is.EqualTo(new[] { new LoopInstance("m", 2), new LoopInstance("n", 3), new LoopInstance("k", 4) }));
            Assert.That(instance.Tensors.Select(t => (t.Name, t.Shape.ToArray())), Is.EqualTo(new[]
            {
                ("a", new[] { 2, 4 }),
                ("b", new[] { 4, 3 }),
                ("c", new[] { 2, 3 }),
            }));
            Assert.That(statement.Target.Tensor, Is.EqualTo(instance.IndexOf("c")));
            Assert.That(statement.Kind, Is.EqualTo(AssignKind.Accumulate));
            Assert.That(read.Tensor, Is.EqualTo(instance.IndexOf("a")));
            Assert.That(read.Indices[0].Coefficients, Is.EqualTo(new long[] { 1, 0, 0 }));
            Assert.That(read.Indices[1].Coefficients, Is.EqualTo(new long[] { 0, 0, 1 }));
            Assert.That(read.Indices.Select(i => i.Constant), Is.All.EqualTo(0));
            Assert.That(instance.Sizes, Is.EquivalentTo(new Dictionary<string, long> { ["M"] = 2, ["N"] = 3, ["K"] = 4 }));
        }
    }

    [Test]
    public void InferredExtentsMustAgree()
    {
        var diagnostics = InstantiateErrors(
            "codelet f<M, K, L>(a: i8[M, K], b: i8[L]) -> y: i32[M] { for m, k: y[m] += a[m, k] * b[k] }", "M=2, K=4, L=5", Suite);
        Assert.That(diagnostics.Select(d => d.ToString()), Is.EqualTo(new[]
        {
            "test.cdlt(1,65): error COV3107: the extent of loop 'k' is inferred from dimensions that disagree: " +
            "dimension 2 of 'a' (K) is 4 at test.cdlt(1,76); dimension 1 of 'b' (L) is 5 at test.cdlt(1,86); " +
            "fix the shapes or write 'k in EXTENT' (shapes bound at suite.yaml(4,5))",
        }));
        Assert.That(InstantiateOk("codelet f<M, K, L>(a: i8[M, K], b: i8[L]) -> y: i32[M] { for m, k: y[m] += a[m, k] * b[k] }", "M=2, K=4, L=4")
            .Nests[0].Loops[1], Is.EqualTo(new LoopInstance("k", 4)));
    }

    // P = (H + 2*pad_h - dilation_h*(R - 1) - 1) / stride_h + 1, worked by hand.
    [TestCase("H=56, W=56, R=3, S=3, stride=2, pad=1", 28, 28)] // (56 + 2 - 2 - 1)/2 + 1 = 27 + 1
    [TestCase("H=7, W=7, R=3, S=3, stride=2, pad=1", 4, 4)] // (7 + 2 - 2 - 1)/2 + 1 = 3 + 1
    [TestCase("H=224, W=224, R=7, S=7, stride=2, pad=3", 112, 112)] // (224 + 6 - 6 - 1)/2 + 1 = 111 + 1
    [TestCase("H=10, W=10, R=3, S=3, dilation=2", 6, 6)] // (10 - 4 - 1)/1 + 1
    [TestCase("H=40, W=151, R=5, S=20, stride_h=2, stride_w=8, pad_h=8, pad_w=8", 26, 19)] // (40+16-4-1)/2+1 = 25+1; (151+16-19-1)/8+1 = 18+1
    [TestCase("H=9, W=9, R=3, S=1, stride=2, stride_w=3, dilation_h=3", 2, 3)] // (9 - 6 - 1)/2 + 1 = 1 + 1; (9 - 0 - 1)/3 + 1 = 2 + 1
    public void Conv2dOutputSizes(string spatial, long p, long q)
    {
        var conv = LoadShipped("conv2d");
        var result = conv.Instantiate(Bindings("N=1, C=2, K=2, " + spatial));
        Assert.That(result.Diagnostics, Is.Empty);
        var instance = result.Value!;
        using (Assert.EnterMultipleScope())
        {
            Assert.That((instance.Sizes["P"], instance.Sizes["Q"]), Is.EqualTo((p, q)));
            Assert.That(instance.Outputs.Single().Shape, Is.EqualTo(new[] { 1, (int)p, (int)q, 2 }));
            Assert.That(instance.Nests[0].Loops.Select(l => l.Extent), Is.EqualTo(new[]
            {
                1, (int)p, (int)q, 2, (int)instance.Sizes["R"], (int)instance.Sizes["S"], 2,
            }));
        }
    }

    [Test]
    public void DefaultsReferToEarlierParameters()
    {
        var conv = LoadShipped("conv2d");
        var shared = conv.Instantiate(Bindings("N=1, H=8, W=8, C=1, K=1, R=3, S=3, stride=2, pad=1")).Value!.Sizes;
        var perAxis = conv.Instantiate(Bindings("N=1, H=8, W=8, C=1, K=1, R=3, S=3, stride=2, stride_w=3, pad_h=2")).Value!.Sizes;
        var none = conv.Instantiate(Bindings("N=1, H=8, W=8, C=1, K=1, R=3, S=3")).Value!.Sizes;
        using (Assert.EnterMultipleScope())
        {
            Assert.That((shared["stride_h"], shared["stride_w"], shared["pad_h"], shared["pad_w"]), Is.EqualTo((2L, 2L, 1L, 1L)));
            Assert.That((perAxis["stride_h"], perAxis["stride_w"], perAxis["pad_h"], perAxis["pad_w"]), Is.EqualTo((2L, 3L, 2L, 0L)));
            Assert.That((none["stride"], none["pad"], none["dilation_h"], none["P"]), Is.EqualTo((1L, 0L, 1L, 6L)));
        }
    }

    [Test]
    public void AffineIndicesHaveConcreteCoefficients()
    {
        // ResNet-50 conv1: stride 2, pad 3. Loops n, p, q, k, r, s, c.
        var instance = LoadShipped("conv2d").Instantiate(Bindings("N=1, H=224, W=224, C=3, K=64, R=7, S=7, stride=2, pad=3")).Value!;
        var nest = instance.Nests.Single();
        var statement = nest.Statements.Single();
        var x = ((LoadValue)((BinaryValue)statement.Value).Left).Access;
        using (Assert.EnterMultipleScope())
        {
            Assert.That(Text(x.Indices[0]), Is.EqualTo("0 + [1, 0, 0, 0, 0, 0, 0]"));
            Assert.That(Text(x.Indices[1]), Is.EqualTo("-3 + [0, 2, 0, 0, 1, 0, 0]"));
            Assert.That(Text(x.Indices[2]), Is.EqualTo("-3 + [0, 0, 2, 0, 0, 1, 0]"));
            Assert.That(Text(x.Indices[3]), Is.EqualTo("0 + [0, 0, 0, 0, 0, 0, 1]"));
            Assert.That((x.Indices[1].Min(nest.Loops), x.Indices[1].Max(nest.Loops)), Is.EqualTo((-3L, 225L)));
            Assert.That(Text(statement.Target.Indices[3]), Is.EqualTo("0 + [0, 0, 0, 1, 0, 0, 0]"));
        }
    }

    [Test]
    public void CoefficientsMayBeShapeExpressions()
    {
        // Grouped convolution: y's channel index g*KG + k and x's g*CG + c, with KG = K/G and CG = C/G.
        var instance = LoadShipped("conv2d_grouped").Instantiate(Bindings("N=1, H=4, W=4, C=8, K=4, G=2, R=1, S=1")).Value!;
        var nest = instance.Nests.Single();
        var x = ((LoadValue)((BinaryValue)nest.Statements[0].Value).Left).Access;
        using (Assert.EnterMultipleScope())
        {
            Assert.That(nest.Loops.Select(l => (l.Name, l.Extent)), Is.EqualTo(new[]
            {
                ("n", 1), ("p", 4), ("q", 4), ("g", 2), ("k", 2), ("r", 1), ("s", 1), ("c", 4),
            }));
            Assert.That(Text(nest.Statements[0].Target.Indices[3]), Is.EqualTo("0 + [0, 0, 0, 2, 1, 0, 0, 0]"));
            Assert.That(Text(x.Indices[3]), Is.EqualTo("0 + [0, 0, 0, 4, 0, 0, 0, 1]"));
        }

        var divided = InstantiateOk("codelet f<N, S>(x: i8[N]) -> y: i8[N] { for i in N/S: y[i*(N/S) - -(S % 3)] = x[i] }", "N=12, S=4").Nests[0];
        Assert.That((divided.Loops[0].Extent, Text(divided.Statements[0].Target.Indices[0])), Is.EqualTo((3, "1 + [3]")));
    }

    [Test]
    public void ShapeDivisionFloorsAndRemainderFollowsIt()
    {
        const string text = "codelet f<H>() -> y: i32[D, E] where D = (H - 10) / 4 + 3, E = (H - 10) % 4 + 1 { for i, j: y[i, j] = 0 }";
        var negative = InstantiateOk(text, "H=3").Sizes; // floor(-7 / 4) = -2, -7 mod 4 = 1
        var positive = InstantiateOk(text, "H=19").Sizes; // 9 / 4 = 2, 9 mod 4 = 1
        Assert.That((negative["D"], negative["E"], positive["D"], positive["E"]), Is.EqualTo((1L, 2L, 5L, 2L)));
    }

    [Test]
    public void MissingAndUnknownBindings()
    {
        var atParameters = InstantiateErrors(Gemm, "M=2, KK=3, Z=1");
        var atSuite = InstantiateErrors(Gemm, "M=2, N=3", Suite);
        using (Assert.EnterMultipleScope())
        {
            Assert.That(atParameters.Select(d => d.ToString()), Is.EqualTo(new[]
            {
                "test.cdlt(1,1): error COV3102: 'KK' is not a shape parameter of codelet 'g' (did you mean 'K'?); its parameters are M, N, K",
                "test.cdlt(1,1): error COV3102: 'Z' is not a shape parameter of codelet 'g'; its parameters are M, N, K",
                "test.cdlt(1,14): error COV3101: missing shape binding for 'N': codelet 'g' needs M, N, K",
                "test.cdlt(1,17): error COV3101: missing shape binding for 'K': codelet 'g' needs M, N, K",
            }));
            Assert.That(atSuite.Select(d => d.ToString()), Is.EqualTo(new[]
            {
                "suite.yaml(4,5): error COV3101: missing shape binding for 'K': codelet 'g' needs M, N, K",
            }));
        }
    }

    [Test]
    public void DerivedSizesCannotBeBound()
    {
        var diagnostics = LoadShipped("conv2d").Instantiate(Bindings("N=1, H=8, W=8, C=1, K=1, R=3, S=3, P=6"), Suite).Diagnostics;
        Assert.That(diagnostics.Select(d => d.ToString()), Is.EqualTo(new[]
        {
            "suite.yaml(4,5): error COV3102: 'P' is a derived size of codelet 'conv2d' (P = (H + 2*pad_h - dilation_h*(R - 1) - 1)/stride_h + 1); " +
            "it is computed from the parameters and cannot be bound",
        }));
    }

    [Test]
    public void SizesMustBePositive()
    {
        var derived = InstantiateErrors("codelet f<H, R>(x: i8[H]) -> y: i8[P] where P = H - R + 1 { for p: y[p] = x[p] }", "H=2, R=5", Suite);
        var dimension = InstantiateErrors(Gemm, "M=0, N=3, K=4");
        var extent = InstantiateErrors("codelet f<N, T>(x: i8[N]) -> y: i32[N] { for i, t in T - 1: y[i] += x[i] }", "N=2, T=1");
        using (Assert.EnterMultipleScope())
        {
            Assert.That(derived.Select(d => d.ToString()), Is.EqualTo(new[]
            {
                "test.cdlt(1,45): error COV3103: derived size 'P' = H - R + 1 is -2 with H = 2, R = 5; it must be at least 1 (shapes bound at suite.yaml(4,5))",
            }));
            Assert.That(dimension.Select(d => d.ToString()), Is.EqualTo(new[]
            {
                "test.cdlt(1,26): error COV3103: dimension 1 of 'a' = M is 0 with M = 0; it must be at least 1",
                "test.cdlt(1,56): error COV3103: dimension 1 of 'c' = M is 0 with M = 0; it must be at least 1",
            }));
            Assert.That(IdsAt(extent), Is.EqualTo(new[] { "COV3103@1,54" }));
        }
    }

    [Test]
    public void DivisionByZeroPointsAtTheDivisor()
    {
        var diagnostics = LoadShipped("conv1d").Instantiate(Bindings("N=1, W=8, C=1, K=1, S=3, stride=0"), Suite).Diagnostics;
        Assert.That(diagnostics.Select(d => d.ToString()), Is.EqualTo(new[]
        {
            $"{Covenant.Testing.Repo.PathOf("codelets", "conv1d.cdlt")}(5,52): error COV3104: division by zero in derived size 'Q': 'stride' is 0 in " +
            "'(W + 2*pad - dilation*(S - 1) - 1)/stride' with W = 8, pad = 0, dilation = 1, S = 3, stride = 0 (shapes bound at suite.yaml(4,5))",
        }));
    }

    [Test]
    public void AbsurdShapesAreRefused()
    {
        var tooLarge = InstantiateErrors(Gemm, "M=65536, N=1, K=65536");
        var beyondInt = InstantiateErrors(Gemm, "M=1099511627776, N=1, K=1");
        var overflow = InstantiateErrors("codelet f<M>() -> y: i8[P] where P = M * M { for i: y[i] = 0 }", "M=4294967296");
        using (Assert.EnterMultipleScope())
        {
            Assert.That(tooLarge.Select(d => d.ToString()), Is.EqualTo(new[]
            {
                "test.cdlt(1,20): error COV3106: tensor 'a' of shape [65536, 65536] has more than 2^31 elements, the most a tensor may have",
            }));
            Assert.That(beyondInt.Select(d => d.Message), Is.EqualTo(new[]
            {
                "dimension 1 of 'a' = M is 1099511627776 with M = 1099511627776, more than 2^31 - 1",
                "dimension 1 of 'c' = M is 1099511627776 with M = 1099511627776, more than 2^31 - 1",
            }));
            Assert.That(overflow.Select(d => d.ToString()), Is.EqualTo(new[]
            {
                "test.cdlt(1,38): error COV3105: derived size 'P' overflows 64-bit arithmetic in 'M*M' with M = 4294967296",
            }));
        }
    }

    [Test]
    public void ReadsOutsideNeedPadded()
    {
        const string text = "codelet s<N>(x: i8[N]) -> y: i32[N] { for i: y[i] = x[i + 1] }";
        var diagnostics = InstantiateErrors(text, "N=4", Suite);
        using (Assert.EnterMultipleScope())
        {
            Assert.That(diagnostics.Select(d => d.ToString()), Is.EqualTo(new[]
            {
                "test.cdlt(1,55): error COV3108: read index 'i + 1' of 'x' ranges over [1, 4], outside dimension 1 (N = 4, valid 0..3); " +
                "declare 'x' padded if reads outside it should give zero (shapes bound at suite.yaml(4,5))",
            }));
            Assert.That(InstantiateOk(text.Replace("i8[N])", "i8[N] padded)", StringComparison.Ordinal), "N=4").Tensors[0].Padded, Is.True);
            Assert.That(InstantiateOk(text.Replace("x[i + 1]", "x[i + 1 - 1]", StringComparison.Ordinal), "N=4").Nests, Has.Length.EqualTo(1));
        }
    }

    [Test]
    public void WritesOutsideNeedCropped()
    {
        const string text = "codelet s<N>(x: i8[N]) -> y: i32[N] { for i: y[2*i - 1] = x[i] }";
        var diagnostics = InstantiateErrors(text, "N=4");
        using (Assert.EnterMultipleScope())
        {
            Assert.That(diagnostics.Select(d => d.ToString()), Is.EqualTo(new[]
            {
                "test.cdlt(1,48): error COV3108: write index '2*i - 1' of 'y' ranges over [-1, 5], outside dimension 1 (N = 4, valid 0..3); " +
                "declare 'y' cropped if writes outside it should be discarded",
            }));
            Assert.That(InstantiateOk(text.Replace("i32[N]", "i32[N] cropped", StringComparison.Ordinal), "N=4").Outputs.Single().Cropped, Is.True);
            Assert.That(InstantiateErrors(text.Replace("i32[N]", "i32[N] padded", StringComparison.Ordinal), "N=4").Single().Id, Is.EqualTo("COV3108"),
                "padded allows reads, not writes");
        }
    }

    [Test]
    public void ConvolutionPaddingNeedsThePaddedInput()
    {
        var unpadded = File.ReadAllText(Path.Combine(Covenant.Testing.Repo.Codelets, "conv2d.cdlt")).Replace(" padded", "", StringComparison.Ordinal);
        var bindings = "N=1, H=224, W=224, C=3, K=64, R=7, S=7, stride=2, pad=3";
        var diagnostics = InstantiateErrors(unpadded, bindings);
        using (Assert.EnterMultipleScope())
        {
            Assert.That(diagnostics.Select(d => d.Message), Is.EqualTo(new[]
            {
                "read index 'p*stride_h + r*dilation_h - pad_h' of 'x' ranges over [-3, 225], outside dimension 2 (H = 224, valid 0..223); declare 'x' padded if reads outside it should give zero",
                "read index 'q*stride_w + s*dilation_w - pad_w' of 'x' ranges over [-3, 225], outside dimension 3 (W = 224, valid 0..223); declare 'x' padded if reads outside it should give zero",
            }));
            Assert.That(InstantiateOk(unpadded, "N=1, H=8, W=8, C=3, K=4, R=3, S=3").Sizes["P"], Is.EqualTo(6), "no padding, no reads outside");
        }
    }

    [Test]
    public void TransposedConvolutionNeedsTheCroppedOutput()
    {
        var uncropped = File.ReadAllText(Path.Combine(Covenant.Testing.Repo.Codelets, "conv2d_transposed.cdlt")).Replace(" cropped", "", StringComparison.Ordinal);
        const string bindings = "N=1, H=4, W=4, C=2, K=3, R=3, S=3, stride=2, pad=1";
        var cropped = LoadShipped("conv2d_transposed").Instantiate(Bindings(bindings));
        using (Assert.EnterMultipleScope())
        {
            Assert.That(cropped.Succeeded, Is.True);
            Assert.That(cropped.Value!.Outputs.Single().Shape, Is.EqualTo(new[] { 1, 7, 7, 3 })); // (4 - 1)*2 - 2 + 2 + 1
            var messages = InstantiateErrors(uncropped, bindings).Select(d => d.Message).ToList();
            Assert.That(messages, Has.Count.EqualTo(2).And.All.StartWith("write index"));
        }
    }

    [Test]
    public void ValuesAndIndicesMustFitThirtyTwoBits()
    {
        var value = InstantiateErrors("codelet f<N>(x: i8[N]) -> y: i32[N] { for i: y[i] = x[i] + N*N }", "N=100000");
        var index = InstantiateErrors("codelet f<N, S>(x: i8[N] padded) -> y: i32[N] { for i: y[i] = x[i*S] }", "N=4, S=1099511627776");
        using (Assert.EnterMultipleScope())
        {
            Assert.That(value.Select(d => d.ToString()), Is.EqualTo(new[]
            {
                "test.cdlt(1,60): error COV3105: value 'N*N' is 10000000000 with N = 100000, which does not fit i32",
            }));
            Assert.That(index.Select(d => d.ToString()), Is.EqualTo(new[]
            {
                "test.cdlt(1,65): error COV3105: index 'i*S' of 'x' ranges over [0, 3298534883328], beyond 32 bits",
            }));
        }
    }

    [Test]
    public void TheDeepestAcceptedExpressionGoesThroughEveryStage()
    {
        // Later stages recurse over expression trees; the parser's depth limit keeps them within the stack.
        var terms = string.Join(" + ", Enumerable.Repeat("x[i]", Parsing.CodeletParser.MaxExpressionDepth - 1));
        var instance = InstantiateOk($"codelet f<N>(x: i32[N]) -> y: i32[N] {{ for i: y[i] = {terms} }}", "N=2");
        var depth = 0;
        for (var value = instance.Nests[0].Statements[0].Value; value is BinaryValue sum; value = sum.Left)
        {
            depth++;
        }

        Assert.That(depth, Is.EqualTo(Parsing.CodeletParser.MaxExpressionDepth - 2));
    }

    [Test]
    public void InstancesKeepTheirSyntax()
    {
        var checkedCodelet = CheckOk(Gemm);
        var instance = checkedCodelet.Instantiate(Bindings("M=1, N=1, K=1")).Value!;
        using (Assert.EnterMultipleScope())
        {
            Assert.That(instance.Syntax, Is.SameAs(checkedCodelet.Syntax));
            Assert.That(instance.Nests[0].Statements[0].Syntax, Is.SameAs(checkedCodelet.Syntax.Nests[0].Statements[0]));
            Assert.That(instance.Name, Is.EqualTo("g"));
        }
    }
}

public class AffineIndexEqualityTests
{
    [Test]
    public void IndicesWithTheSameNumbersAreEqual()
    {
        var a = new Covenant.Codelets.Semantics.AffineIndex(3, [1, 0, 2]);
        var b = new Covenant.Codelets.Semantics.AffineIndex(3, [1, 0, 2]);
        Assert.Multiple(() =>
        {
            Assert.That(a, Is.EqualTo(b));
            Assert.That(a.GetHashCode(), Is.EqualTo(b.GetHashCode()));
            Assert.That(a, Is.Not.EqualTo(new Covenant.Codelets.Semantics.AffineIndex(3, [1, 0, 3])));
            Assert.That(new Covenant.Codelets.Semantics.AccessInstance(0, [a]), Is.EqualTo(new Covenant.Codelets.Semantics.AccessInstance(0, [b])));
            Assert.That(new Covenant.Codelets.Semantics.AccessInstance(1, [a]), Is.Not.EqualTo(new Covenant.Codelets.Semantics.AccessInstance(0, [b])));
        });
    }
}
