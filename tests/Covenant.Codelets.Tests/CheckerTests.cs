using Covenant.Codelets.Semantics;
using Covenant.Codelets.Syntax;
using static Covenant.Codelets.Tests.TestSupport;

namespace Covenant.Codelets.Tests;

public sealed class CheckerTests
{
    [Test]
    public void CheckedCodeletExposesParametersSizesAndTensors()
    {
        var codelet = CheckOk(
            """
            codelet f<M, K, shift = 2, half = K / 2>(a: i8[M, K], b: i32[K]) -> (y: i8[M], z: i32[M])
                where H = half + 1
            {
                let acc: i32[M]
                for m, k: acc[m] += a[m, k] * b[k]
                for m {
                    y[m] = i8(acc[m] >> shift)
                    z[m] = acc[m]
                }
            }
            """);
        using (Assert.EnterMultipleScope())
        {
            Assert.That(codelet.Name, Is.EqualTo("f"));
            Assert.That(codelet.ShapeParamNames, Is.EqualTo(new[] { "M", "K", "shift", "half" }));
            Assert.That(codelet.RequiredShapeParams, Is.EqualTo(new[] { "M", "K" }));
            Assert.That(SyntaxPrinter.Print(codelet.ShapeParams[3].Default!), Is.EqualTo("K/2"));
            Assert.That(codelet.DerivedSizes.Single().Name, Is.EqualTo("H"));
            Assert.That(codelet.Tensors.Select(t => (t.Name, t.Role, t.ElementType)), Is.EqualTo(new[]
            {
                ("a", TensorRole.Input, ElementType.I8),
                ("b", TensorRole.Input, ElementType.I32),
                ("y", TensorRole.Output, ElementType.I8),
                ("z", TensorRole.Output, ElementType.I32),
                ("acc", TensorRole.Local, ElementType.I32),
            }));
            Assert.That(codelet.Inputs.Count(), Is.EqualTo(2));
            Assert.That(codelet.Outputs.Select(t => t.Name), Is.EqualTo(new[] { "y", "z" }));
        }
    }

    [Test]
    public void UnknownNamesSuggestTheClosestDeclaredOne()
    {
        var diagnostics = CheckErrors("codelet f<M, stride>(a: i8[M]) -> y: i32[M] { for m: y[m] = a[m*strid] + Mx }");
        using (Assert.EnterMultipleScope())
        {
            Assert.That(IdsAt(diagnostics), Is.EqualTo(new[] { "COV3001@1,65", "COV3001@1,74" }));
            Assert.That(diagnostics[0].Message, Is.EqualTo("unknown name 'strid' (did you mean 'stride'?)"));
            Assert.That(diagnostics[1].Message, Is.EqualTo("unknown name 'Mx' (did you mean 'M'?)"));
        }
    }

    [Test]
    public void OneLetterNamesOnlySuggestTheOtherCase()
    {
        var diagnostics = CheckErrors("codelet f<M, K>(a: i8[M, K]) -> y: i32[M] { for m, k: y[m] += a[m, k] + a[m, j] + a[m, x] }");
        Assert.That(diagnostics.Select(d => d.Message), Is.EqualTo(new[] { "unknown name 'j'", "unknown name 'x'" }));
        var typo = CheckErrors("codelet f<M, K>(a: i8[M, k]) -> y: i32[M] { for m: y[m] = a[m, 0] }");
        Assert.That(typo.Single().Message, Is.EqualTo("unknown name 'k' (did you mean 'K'?)"));
    }

    [Test]
    public void DuplicateNamesPointAtTheSecondDeclaration()
    {
        var diagnostics = CheckErrors("codelet f<M, a>(a: i8[M], b: i8[M]) -> y: i32[M] where M = 2 { for M, i, i: y[i] = b[i] }");
        using (Assert.EnterMultipleScope())
        {
            Assert.That(IdsAt(diagnostics), Is.EqualTo(new[] { "COV3002@1,17", "COV3002@1,56", "COV3002@1,68", "COV3002@1,74" }));
            Assert.That(diagnostics[0].Message, Is.EqualTo("'a' is already declared as a shape parameter at test.cdlt(1,14)"));
            Assert.That(diagnostics[1].Message, Is.EqualTo("'M' is already declared as a shape parameter at test.cdlt(1,11)"));
            Assert.That(diagnostics[2].Message, Is.EqualTo("'M' is already declared as a shape parameter at test.cdlt(1,11)"));
            Assert.That(diagnostics[3].Message, Is.EqualTo("'i' is already declared as a loop variable at test.cdlt(1,71)"));
        }
    }

    [Test]
    public void DefaultsMayUseOnlyEarlierParameters()
    {
        var diagnostics = CheckErrors("codelet f<A = B, B, C = C, D = P>(x: i8[B]) -> y: i8[B] where P = Q, Q = 1 { for i: y[i] = x[i] }");
        using (Assert.EnterMultipleScope())
        {
            Assert.That(IdsAt(diagnostics), Is.EqualTo(new[] { "COV3015@1,15", "COV3015@1,25", "COV3015@1,32", "COV3015@1,67" }));
            Assert.That(diagnostics[0].Message, Is.EqualTo("the default of 'A' refers to 'B', which is declared at or after it; a default may use only earlier parameters"));
            Assert.That(diagnostics[2].Message, Is.EqualTo("the default of 'D' refers to derived size 'P'; a default may use only earlier parameters"));
            Assert.That(diagnostics[3].Message, Does.StartWith("derived size 'P' refers to 'Q', which is declared at or after it"));
        }
    }

    [Test]
    public void ShapeExpressionsAreIntegersOverShapeNames()
    {
        var diagnostics = CheckErrors("codelet f<N>(x: i8[N, 1.5], w: i8[x[0]], v: i8[i8(N)]) -> y: i8[N] { for i, j in i: y[i] = x[i, 0] }");
        using (Assert.EnterMultipleScope())
        {
            Assert.That(diagnostics.Select(d => d.Id), Is.All.EqualTo("COV3010"));
            Assert.That(diagnostics.Select(d => d.Message), Is.EqualTo(new[]
            {
                "dimension 2 of 'x' must be an integer expression, but 1.5 is a float",
                "dimension 1 of 'w' cannot read tensor 'x'; shape expressions use only shape parameters and derived sizes",
                "dimension 1 of 'v' cannot contain a cast; shape expressions are always integers",
                "the extent of loop 'j' cannot depend on loop variable 'i'",
            }));
        }
    }

    [Test]
    public void LoopExtentsAreInferredFromLoneIndices()
    {
        var codelet = CheckOk("codelet f<M, K>(a: i8[M, K], b: i8[K]) -> y: i32[M] { for m, k, t in 3: y[m] += a[m, k] * b[k] + a[m, k + t] }");
        var loops = codelet.Nests.Single().Loops;
        using (Assert.EnterMultipleScope())
        {
            Assert.That(loops[0].InferredFrom.Select(s => (s.Tensor, s.Dimension)), Is.EqualTo(new[] { (2, 0), (0, 0), (0, 0) }));
            Assert.That(loops[1].InferredFrom.Select(s => (s.Tensor, s.Dimension)), Is.EqualTo(new[] { (0, 1), (1, 0) }));
            Assert.That(loops[2].InferredFrom, Is.Empty);
            Assert.That(SyntaxPrinter.Print(loops[2].Extent!), Is.EqualTo("3"));
        }
    }

    [Test]
    public void ALoopThatNeverIndexesAloneNeedsAnExtent()
    {
        var diagnostics = CheckErrors("codelet f<N>(x: i8[N]) -> y: i32[N] { for i, r, unused: y[i] += x[i + r] }");
        using (Assert.EnterMultipleScope())
        {
            Assert.That(IdsAt(diagnostics), Is.EqualTo(new[] { "COV3011@1,46", "COV3011@1,49" }));
            Assert.That(diagnostics[0].Message, Is.EqualTo("cannot infer the extent of loop 'r': it never appears alone as an index of a tensor dimension; write 'r in EXTENT'"));
        }
    }

    [TestCase("x[i*j]", "COV3009", "index 'i*j' multiplies loop variables; an index must be affine (a loop variable times a loop-free factor)")]
    [TestCase("x[i / 2]", "COV3009", "'/' in index 'i/2' applies to loop variable 'i'; in an index, '/', '%' and shifts are allowed only on loop-free expressions")]
    [TestCase("x[(i + j) % N]", "COV3009", "'%' in index '(i + j)%N' applies to loop variable 'i', 'j'; in an index, '/', '%' and shifts are allowed only on loop-free expressions")]
    [TestCase("x[i << 1]", "COV3009", "'<<' in index 'i << 1' applies to loop variable 'i'; in an index, '/', '%' and shifts are allowed only on loop-free expressions")]
    [TestCase("x[max(i, 1)]", "COV3009", "max(...) in an index applies to loop variable 'i'; it is allowed only on loop-free expressions")]
    [TestCase("x[ix[i]]", "COV3009", "an index cannot read tensor 'ix' (indirect indexing is not affine)")]
    [TestCase("x[i32(i)]", "COV3009", "an index cannot contain a cast; indices are integer expressions")]
    [TestCase("x[0.5]", "COV3006", "an index must be an integer, but 0.5 is a float")]
    [TestCase("x[ix]", "COV3004", "'ix' is a tensor; an index cannot read tensors")]
    public void IndicesMustBeAffine(string read, string id, string message)
    {
        var diagnostics = CheckErrors($"codelet f<N>(x: i8[N], ix: i32[N]) -> y: i32[N] {{ for i, j in 2: y[i] += i32({read}) }}");
        Assert.That(diagnostics.Select(d => (d.Id, d.Message)), Is.EqualTo(new[] { (id, message) }));
    }

    [Test]
    public void LoopFreeSubexpressionsOfIndicesMayDivide()
    {
        var codelet = CheckOk("codelet f<N, S>(x: i8[N]) -> y: i8[N] { for i in N / S: y[i*(S % 4 + N / S) + max(S, 1) - (S >> 1)] = x[i] }");
        Assert.That(codelet.Nests, Has.Length.EqualTo(1));
    }

    [TestCase("x[i] + 1.0", "COV3006", "'+' mixes i8 and f32 in 'x[i] + 1.0'; integers and floats never convert implicitly: cast one side, e.g. f32(...), or write a float literal such as 2.0")]
    [TestCase("f[i] * 2", "COV3006", "'*' mixes f32 and i32 in 'f[i]*2'; integers and floats never convert implicitly: cast one side, e.g. f32(...), or write a float literal such as 2.0")]
    [TestCase("x[i] >> 1.5", "COV3006", "'>>' shifts integers, but 'x[i] >> 1.5' shifts i8 by f32")]
    [TestCase("max(x[i], f[i])", "COV3006", "the arguments of max(...) mix i8, f32; they must be all integers or all floats (cast one, or write a float literal such as 0.0)")]
    [TestCase("x[i] / 2", "COV3013", "'/' applies only to loop-free integer (shape) expressions, not to 'x[i]/2'; scale values with '>>' or '*'")]
    [TestCase("x[i] % N", "COV3013", "'%' applies only to loop-free integer (shape) expressions, not to 'x[i]%N'; scale values with '>>' or '*'")]
    [TestCase("x[i] + 3000000000", "COV3014", "integer literal 3000000000 does not fit i32, the type of integer values")]
    [TestCase("sqrt(x[i])", "COV3001", "unknown function 'sqrt'; the functions are max, min, clip, relu and the casts i8, u8, i32, f16, f32")]
    [TestCase("rleu(x[i])", "COV3001", "unknown function 'rleu' (did you mean 'relu'?); the functions are max, min, clip, relu and the casts i8, u8, i32, f16, f32")]
    [TestCase("clip(x[i], 0)", "COV3012", "clip takes 3 arguments, not 2")]
    [TestCase("relu(x[i], 0)", "COV3012", "relu takes 1 argument, not 2")]
    [TestCase("x", "COV3004", "'x' is a tensor; read an element with x[...]")]
    [TestCase("N[i]", "COV3003", "'N' is a shape parameter, not a tensor, so it cannot be indexed")]
    [TestCase("i[0]", "COV3003", "'i' is a loop variable, not a tensor, so it cannot be indexed")]
    [TestCase("x[i, 0]", "COV3005", "'x' has 1 dimension but is indexed with 2")]
    public void ValueTypingErrors(string value, string id, string message)
    {
        var diagnostics = CheckErrors($"codelet f<N>(x: i8[N], f: f32[N]) -> y: i32[N] {{ for i: y[i] = i32({value}) }}");
        Assert.That(diagnostics.Select(d => (d.Id, d.Message)), Is.EqualTo(new[] { (id, message) }));
    }

    [TestCase("i8", "=", "x[i]", true)]
    [TestCase("i32", "=", "x[i]", true)]
    [TestCase("i32", "=", "u[i]", true)]
    [TestCase("i8", "=", "u[i]", false)]
    [TestCase("u8", "=", "x[i]", false)]
    [TestCase("i8", "=", "x[i] + x[i]", false)]
    [TestCase("i8", "=", "i8(x[i] + x[i])", true)]
    [TestCase("i8", "=", "-128", true)]
    [TestCase("i8", "=", "128", false)]
    [TestCase("u8", "=", "255", true)]
    [TestCase("u8", "=", "-1", false)]
    [TestCase("i32", "=", "-2147483648", true)]
    [TestCase("i32", "=", "f[i]", false)]
    [TestCase("f32", "=", "x[i]", false)]
    [TestCase("f32", "=", "h[i]", true)]
    [TestCase("f16", "=", "h[i] * h[i]", false)]
    [TestCase("f16", "=", "f16(h[i] * h[i])", true)]
    [TestCase("f16", "=", "0.5", true)]
    [TestCase("f32", "=", "1", false)]
    [TestCase("i32", "+=", "x[i] * x[i]", true)]
    [TestCase("i8", "+=", "x[i]", true)]
    [TestCase("i8", "+=", "x[i] * x[i]", false)]
    [TestCase("f32", "+=", "h[i] * h[i]", true)]
    [TestCase("f16", "+=", "h[i] * h[i]", false)]
    [TestCase("f32", "+=", "x[i]", false)]
    public void AssignmentsConvertOnlyWithoutLoss(string target, string op, string value, bool accepted)
    {
        var result = Check($"codelet f<N>(x: i8[N], u: u8[N], f: f32[N], h: f16[N]) -> y: {target}[N] {{ for i: y[i] {op} {value} }}");
        Assert.That(result.Succeeded, Is.EqualTo(accepted), string.Join("\n", result.Diagnostics));
        if (!accepted)
        {
            Assert.That(result.Diagnostics.Select(d => d.Id), Is.EqualTo(new[] { "COV3007" }));
        }
    }

    [Test]
    public void ConversionMessagesSayWhatToWrite()
    {
        var narrowing = CheckErrors("codelet f<N>(x: i32[N]) -> y: i8[N] { for i: y[i] = x[i] >> 4 }").Single();
        var accumulate = CheckErrors("codelet f<N>(x: i8[N]) -> y: i8[N] { for i, k in 4: y[i] += x[i] * x[i] }").Single();
        var floats = CheckErrors("codelet f<N>(x: i8[N]) -> y: f32[N] { for i: y[i] = x[i] }").Single();
        using (Assert.EnterMultipleScope())
        {
            Assert.That(narrowing.ToString(), Is.EqualTo(
                "test.cdlt(1,53): error COV3007: storing i32 into i8 tensor 'y' needs an explicit cast: write i8(...) (it keeps the low 8 bits; saturate first with clip(...))"));
            Assert.That(accumulate.ToString(), Is.EqualTo(
                "test.cdlt(1,61): error COV3007: '+=' needs a target at least as wide as the value: 'y' is i8 but the value is i32; accumulate into a wider tensor (e.g. a 'let' local) and cast when storing"));
            Assert.That(floats.Message, Is.EqualTo("storing i8 into f32 tensor 'y' needs an explicit cast: write f32(...)"));
        }
    }

    [Test]
    public void StatementsWriteOnlyOutputsAndLocals()
    {
        var diagnostics = CheckErrors("codelet f<N>(x: i8[N]) -> y: i8[N] { for i { x[i] = 0 y[i] = x[i] } }");
        Assert.That(diagnostics.Select(d => d.ToString()), Is.EqualTo(new[]
        {
            "test.cdlt(1,46): error COV3008: 'x' is an input; statements assign only to outputs and 'let' locals",
        }));
    }

    [Test]
    public void ModifiersAndUnwrittenOutputs()
    {
        var diagnostics = CheckErrors("codelet f<N>(x: i8[N] cropped) -> (y: i8[N], z: i8[N]) { for i: y[i] = x[i] }");
        Assert.That(diagnostics.Select(d => d.ToString()), Is.EqualTo(new[]
        {
            "test.cdlt(1,14): error COV3016: 'cropped' has no effect on input 'x', which is never written; did you mean 'padded' (reads outside give zero)?",
            "test.cdlt(1,46): error COV3017: output 'z' is never assigned; every output needs a statement that writes it",
        }));
    }

    [Test]
    public void EveryErrorIsReportedInOneRun()
    {
        var diagnostics = CheckErrors(
            """
            codelet f<M, K>(a: i8[M, K]) -> y: i8[M]
            {
                for m, k: y[m] += a[m, k] + a[m, kk]
                for m: y[m] = a[m, 0] + 0.5
                for m, j: y[m*j] = a[m]
            }
            """);
        Assert.That(IdsAt(diagnostics), Is.EqualTo(new[] { "COV3001@3,38", "COV3006@4,19", "COV3009@5,17", "COV3005@5,24", "COV3011@5,12" }));
    }

    [Test]
    public void ValuesAreTypedByThePromotionRules()
    {
        var instance = InstantiateOk(
            "codelet f<N, s = 3>(a: i8[N], h: f16[N], w: f16[N]) -> (y: i32[N], z: f32[N], q: i8[N]) " +
            "{ for i { y[i] += a[i] * a[i] z[i] += h[i] * w[i] q[i] = i8(clip(y[i] >> s, -128, 127)) } }",
            "N=4");
        var statements = instance.Nests.Single().Statements;
        var product = (BinaryValue)statements[0].Value;
        var floatProduct = (BinaryValue)statements[1].Value;
        var cast = (CastValue)statements[2].Value;
        var clip = (CallValue)cast.Operand;
        var shift = (BinaryValue)clip.Arguments[0];
        using (Assert.EnterMultipleScope())
        {
            Assert.That(product.Type, Is.EqualTo(ElementType.I32));
            Assert.That(product.Left, Is.EqualTo(new LoadValue(ElementType.I8, ((LoadValue)product.Left).Access)));
            Assert.That(floatProduct.Type, Is.EqualTo(ElementType.F32));
            Assert.That(((LoadValue)floatProduct.Left).Type, Is.EqualTo(ElementType.F16));
            Assert.That(cast.Type, Is.EqualTo(ElementType.I8));
            Assert.That((clip.Type, clip.Function), Is.EqualTo((ElementType.I32, BuiltinFunction.Clip)));
            Assert.That((shift.Type, shift.Op), Is.EqualTo((ElementType.I32, BinaryOp.ShiftRight)));
            Assert.That(shift.Right, Is.EqualTo(new ConstantValue(ElementType.I32, 3, 0)), "a shape parameter in a value is an i32 constant");
            Assert.That(clip.Arguments[1], Is.EqualTo(new ConstantValue(ElementType.I32, -128, 0)));
            Assert.That(clip.Arguments[2], Is.EqualTo(new ConstantValue(ElementType.I32, 127, 0)));
        }
    }

    [Test]
    public void LoopVariablesAndFloatLiteralsInValues()
    {
        var instance = InstantiateOk("codelet f<N>() -> (y: i32[N], z: f32[N]) { for i { y[i] = i * 2 + N z[i] = -0.5 } }", "N=4");
        var statements = instance.Nests.Single().Statements;
        using (Assert.EnterMultipleScope())
        {
            Assert.That(statements[0].Value, Is.EqualTo(new BinaryValue(
                ElementType.I32,
                BinaryOp.Add,
                new BinaryValue(ElementType.I32, BinaryOp.Multiply, new LoopVarValue(0), new ConstantValue(ElementType.I32, 2, 0)),
                new ConstantValue(ElementType.I32, 4, 0))));
            Assert.That(statements[1].Value, Is.EqualTo(new ConstantValue(ElementType.F32, 0, -0.5)));
        }
    }
}
