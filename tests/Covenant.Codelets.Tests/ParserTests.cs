using Covenant.Codelets.Parsing;
using Covenant.Codelets.Syntax;
using Covenant.Core.Diagnostics;
using static Covenant.Codelets.Tests.TestSupport;

namespace Covenant.Codelets.Tests;

public sealed class ParserTests
{
    private const string Conv =
        """
        // a comment before the codelet
        codelet conv<N, H, C, K, R, stride = 1, pad = stride - 1>   // trailing comment
            (x: i8[N, H, C] padded, w: i8[K, R, C]) -> y: i32[N, P, K] cropped
            where P = (H + 2*pad - R) / stride + 1, Z = P
        {
            let acc: i32[N, P, K];
            for n, p, k, r, c:
                acc[n, p, k] += x[n, p*stride + r - pad, c] * w[k, r, c];
            for n, p in P, k {
                y[n, p, k] = acc[n, p, k]
                y[n, p, k] += 1
            }
        }
        """;

    [Test]
    public void HeaderParts()
    {
        var codelet = ParseOk(Conv);
        using (Assert.EnterMultipleScope())
        {
            Assert.That(codelet.Name, Is.EqualTo("conv"));
            Assert.That(codelet.ShapeParams.Select(p => p.Name), Is.EqualTo(new[] { "N", "H", "C", "K", "R", "stride", "pad" }));
            Assert.That(codelet.ShapeParams[0].Default, Is.Null);
            Assert.That(codelet.ShapeParams[5].Default, Is.EqualTo(new IntLiteralSyntax(1, new(TestFile, 2, 38))));
            Assert.That(SyntaxPrinter.Print(codelet.ShapeParams[6].Default!), Is.EqualTo("stride - 1"));
            Assert.That(codelet.Inputs.Select(t => t.Name), Is.EqualTo(new[] { "x", "w" }));
            Assert.That(codelet.Inputs[0].Modifiers, Is.EqualTo(TensorModifiers.Padded));
            Assert.That(codelet.Inputs[1].Modifiers, Is.EqualTo(TensorModifiers.None));
            Assert.That(codelet.Inputs[0].ElementType, Is.EqualTo(ElementType.I8));
            Assert.That(codelet.Inputs[0].Dims.Select(SyntaxPrinter.Print), Is.EqualTo(new[] { "N", "H", "C" }));
            Assert.That(codelet.Outputs.Single().Name, Is.EqualTo("y"));
            Assert.That(codelet.Outputs[0].ElementType, Is.EqualTo(ElementType.I32));
            Assert.That(codelet.Outputs[0].Modifiers, Is.EqualTo(TensorModifiers.Cropped));
            Assert.That(codelet.DerivedSizes.Select(d => d.Name), Is.EqualTo(new[] { "P", "Z" }));
            Assert.That(SyntaxPrinter.Print(codelet.DerivedSizes[0].Value), Is.EqualTo("(H + 2*pad - R)/stride + 1"));
        }
    }

    [Test]
    public void BodyParts()
    {
        var codelet = ParseOk(Conv);
        using (Assert.EnterMultipleScope())
        {
            Assert.That(codelet.Locals.Single().Name, Is.EqualTo("acc"));
            Assert.That(codelet.Nests, Has.Length.EqualTo(2));
            Assert.That(codelet.Nests[0].Vars.Select(v => v.Name), Is.EqualTo(new[] { "n", "p", "k", "r", "c" }));
            Assert.That(codelet.Nests[0].Vars.All(v => v.Extent is null), Is.True);
            Assert.That(codelet.Nests[0].Statements.Single().Kind, Is.EqualTo(AssignKind.Accumulate));
            Assert.That(SyntaxPrinter.Print(codelet.Nests[0].Statements[0]), Is.EqualTo("acc[n, p, k] += x[n, p*stride + r - pad, c]*w[k, r, c]"));
            Assert.That(codelet.Nests[1].Vars[1].Extent, Is.EqualTo(new NameSyntax("P", new(TestFile, 9, 17))));
            Assert.That(codelet.Nests[1].Statements.Select(s => s.Kind), Is.EqualTo(new[] { AssignKind.Assign, AssignKind.Accumulate }));
        }
    }

    [Test]
    public void SeveralOutputsAreParenthesised()
    {
        var codelet = ParseOk("codelet two<N>(a: f32[N]) -> (b: f32[N], c: f16[N] padded cropped) { for i: b[i] = a[i] }");
        Assert.That(codelet.Outputs.Select(o => (o.Name, o.ElementType, o.Modifiers)), Is.EqualTo(new[]
        {
            ("b", ElementType.F32, TensorModifiers.None),
            ("c", ElementType.F16, TensorModifiers.Padded | TensorModifiers.Cropped),
        }));
    }

    [Test]
    public void ShapeParametersAndInputsMayBeEmpty()
    {
        var codelet = ParseOk("codelet fill() -> y: u8[4] { for i: y[i] = 7 }");
        Assert.That((codelet.ShapeParams.Length, codelet.Inputs.Length), Is.EqualTo((0, 0)));
    }

    [Test]
    public void NodesCarryTheLocationOfTheirFirstCharacter()
    {
        var codelet = ParseOk(Conv);
        var statement = codelet.Nests[0].Statements[0];
        var value = (BinarySyntax)statement.Value;
        var read = (AccessSyntax)value.Left;
        var index = (BinarySyntax)read.Indices[1];
        using (Assert.EnterMultipleScope())
        {
            Assert.That(codelet.Location, Is.EqualTo(new SourceLocation(TestFile, 2, 1)));
            Assert.That(codelet.ShapeParams[5].Location, Is.EqualTo(new SourceLocation(TestFile, 2, 29)));
            Assert.That(codelet.Inputs[1].Location, Is.EqualTo(new SourceLocation(TestFile, 3, 29)));
            Assert.That(codelet.Outputs[0].Location, Is.EqualTo(new SourceLocation(TestFile, 3, 48)));
            Assert.That(codelet.DerivedSizes[1].Location, Is.EqualTo(new SourceLocation(TestFile, 4, 45)));
            Assert.That(codelet.Locals[0].Location, Is.EqualTo(new SourceLocation(TestFile, 6, 9)));
            Assert.That(codelet.Nests[0].Location, Is.EqualTo(new SourceLocation(TestFile, 7, 5)));
            Assert.That(codelet.Nests[0].Vars[2].Location, Is.EqualTo(new SourceLocation(TestFile, 7, 15)));
            Assert.That(statement.Location, Is.EqualTo(new SourceLocation(TestFile, 8, 9)));
            Assert.That(statement.Target.Location, Is.EqualTo(new SourceLocation(TestFile, 8, 9)));
            Assert.That(value.Location, Is.EqualTo(new SourceLocation(TestFile, 8, 25)), "a binary node starts with its left operand");
            Assert.That(read.Location, Is.EqualTo(new SourceLocation(TestFile, 8, 25)));
            Assert.That(index.Location, Is.EqualTo(new SourceLocation(TestFile, 8, 30)));
            Assert.That(((BinarySyntax)((BinarySyntax)index.Left).Left).Right.Location, Is.EqualTo(new SourceLocation(TestFile, 8, 32)));
            Assert.That(value.Right.Location, Is.EqualTo(new SourceLocation(TestFile, 8, 55)));
        }
    }

    [Test]
    public void ExpressionNodeLocations()
    {
        var e = Expression("-i8(x) + relu(2.5)");
        var sum = (BinarySyntax)e;
        var negation = (UnarySyntax)sum.Left;
        var call = (CallSyntax)sum.Right;
        using (Assert.EnterMultipleScope())
        {
            Assert.That(negation.Location.Column, Is.EqualTo(1));
            Assert.That(((CastSyntax)negation.Operand).Location.Column, Is.EqualTo(2));
            Assert.That(((CastSyntax)negation.Operand).Target, Is.EqualTo(ElementType.I8));
            Assert.That(call.Location.Column, Is.EqualTo(10));
            Assert.That(call.Arguments.Single(), Is.EqualTo(new FloatLiteralSyntax(2.5, new(TestFile, 1, 15))));
        }
    }

    [TestCase("a + b * c", "(a + (b * c))")]
    [TestCase("a * b + c", "((a * b) + c)")]
    [TestCase("a - b - c", "((a - b) - c)")]
    [TestCase("a / b * c % d", "(((a / b) * c) % d)")]
    [TestCase("a + b << c - d", "((a + b) << (c - d))")]
    [TestCase("a >> b >> c", "((a >> b) >> c)")]
    [TestCase("a << b + c * d", "(a << (b + (c * d)))")]
    [TestCase("-a * b", "((-a) * b)")]
    [TestCase("- -a", "(-(-a))")]
    [TestCase("-(a + b)", "(-(a + b))")]
    [TestCase("(a + b) * c", "((a + b) * c)")]
    [TestCase("x[i + 1, j * 2] * w[k]", "(x[(i + 1), (j * 2)] * w[k])")]
    [TestCase("clip(a + b, -128, 127)", "clip((a + b), (-128), 127)")]
    [TestCase("max(a, b) + min(c, d)", "(max(a, b) + min(c, d))")]
    [TestCase("f32(a) * 0.5", "(f32(a) * 0.5)")]
    [TestCase("u8(relu(a >> 4))", "u8(relu((a >> 4)))")]
    [TestCase("1.5e3 + 2E-2 + 7", "((1500.0 + 0.02) + 7)")]
    [TestCase("sqrt(a)", "sqrt(a)")]
    public void PrecedenceAndAssociativity(string text, string parenthesised) =>
        Assert.That(SyntaxPrinter.PrintFullyParenthesised(Expression(text)), Is.EqualTo(parenthesised));

    [Test]
    public void LiteralsAndNames()
    {
        using (Assert.EnterMultipleScope())
        {
            Assert.That(Expression("42"), Is.TypeOf<IntLiteralSyntax>().With.Property("Value").EqualTo(42L));
            Assert.That(Expression("9223372036854775807"), Is.TypeOf<IntLiteralSyntax>().With.Property("Value").EqualTo(long.MaxValue));
            Assert.That(Expression("0.25"), Is.TypeOf<FloatLiteralSyntax>().With.Property("Value").EqualTo(0.25));
            Assert.That(Expression("3e2"), Is.TypeOf<FloatLiteralSyntax>().With.Property("Value").EqualTo(300.0));
            Assert.That(Expression("_tmp2"), Is.TypeOf<NameSyntax>().With.Property("Name").EqualTo("_tmp2"));
            Assert.That(Expression("sqrt(a, b)"), Is.TypeOf<CallSyntax>().With.Property("Function").EqualTo("sqrt"));
            Assert.That(Expression("relu()"), Is.TypeOf<CallSyntax>().With.Property("Arguments").Empty);
        }
    }

    [Test]
    public void PrintingReadsBackAsTheSameTree()
    {
        foreach (var path in Directory.GetFiles(Covenant.Testing.Repo.Codelets, "*.cdlt"))
        {
            var codelet = CodeletParser.Parse(SourceFile.Read(path).Value!).Value!;
            foreach (var expression in codelet.Expressions())
            {
                var printed = SyntaxPrinter.Print(expression);
                var reparsed = Expression(printed);
                Assert.That(SyntaxPrinter.PrintFullyParenthesised(reparsed), Is.EqualTo(SyntaxPrinter.PrintFullyParenthesised(expression)), printed);
            }
        }
    }

    [Test]
    public void StatementLocationsAreRelativeToTheOrigin()
    {
        // As in an architecture YAML: the statement starts at line 12, column 20 of arch.yaml.
        var result = CodeletParser.ParseStatement("c[i, j] += a[i, k] *\n  b[j, k]", new SourceLocation("arch.yaml", 12, 20));
        var statement = result.Value!;
        using (Assert.EnterMultipleScope())
        {
            Assert.That(result.Diagnostics, Is.Empty);
            Assert.That(statement.Location, Is.EqualTo(new SourceLocation("arch.yaml", 12, 20)));
            Assert.That(((BinarySyntax)statement.Value).Left.Location, Is.EqualTo(new SourceLocation("arch.yaml", 12, 31)));
            Assert.That(((BinarySyntax)statement.Value).Right.Location, Is.EqualTo(new SourceLocation("arch.yaml", 13, 3)));
            Assert.That(SyntaxPrinter.Print(statement), Is.EqualTo("c[i, j] += a[i, k]*b[j, k]"));
        }
    }

    [Test]
    public void StatementErrorsPointIntoTheOriginFile()
    {
        var first = CodeletParser.ParseStatement("c[i, j] += a[i, k] * ", new SourceLocation("arch.yaml", 12, 20));
        var second = CodeletParser.ParseStatement("c[i, j] +=\n a[i, k] * b[j k]", new SourceLocation("arch.yaml", 12, 20));
        using (Assert.EnterMultipleScope())
        {
            Assert.That(first.Diagnostics.Select(d => d.ToString()), Is.EqualTo(new[]
            {
                "arch.yaml(12,41): error COV2001: expected expression, found end of file",
            }));
            Assert.That(second.Diagnostics.Select(d => d.ToString()), Is.EqualTo(new[]
            {
                "arch.yaml(13,16): error COV2001: expected '[', '(', operator, ',' or ']', found 'k'",
            }));
        }
    }

    [Test]
    public void ExpressionsAcceptTrailingTriviaOnly()
    {
        var ok = CodeletParser.ParseExpression("  a + 1  // note", new SourceLocation(TestFile, 1, 1));
        var bad = CodeletParser.ParseExpression("a + 1 )", new SourceLocation(TestFile, 1, 1));
        using (Assert.EnterMultipleScope())
        {
            Assert.That(ok.Succeeded, Is.True);
            Assert.That(IdsAt(bad.Diagnostics), Is.EqualTo(new[] { "COV2001@1,7" }));
            Assert.That(bad.Diagnostics[0].Message, Is.EqualTo("expected operator or end of file, found ')'"));
        }
    }

    [TestCase("codelet g<M>(a: i8[M]) y: i32[M] { for m: y[m] = a[m] }", "COV2001@1,24", "expected '->', found 'y'")]
    [TestCase("codelet g<M>(a: i8[M) -> y: i32[M] { for m: y[m] = a[m] }", "COV2001@1,21", "expected '[', '(', operator, ',' or ']', found ')'")]
    [TestCase("codelet g<M>(a: int8[M]) -> y: i32[M] { for m: y[m] = a[m] }", "COV2001@1,17", "expected element type (i8, u8, i32, f16 or f32), found 'int8'")]
    [TestCase("codelet g<M>(max: i8[M]) -> y: i32[M] { for m: y[m] = a[m] }", "COV2001@1,14", "expected name or ')', found 'max' (a reserved word, which cannot be a name)")]
    [TestCase("codelet g<M>(a: i8[M]) -> y: i32[M] { for m y[m] = a[m] }", "COV2001@1,45", "expected 'in', ',', ':' or '{', found 'y'")]
    [TestCase("codelet g<M>(a: i8[M]) -> y: i32[M] { y[0] = a[0] }", "COV2001@1,39", "expected 'let', 'for' or '}', found 'y'")]
    [TestCase("codelet g<M>(a: i8[M]) -> y: i32[M] { for m: y[m] = a[m] @ 2 }", "COV2001@1,58", "expected operator, ';', 'let', 'for' or '}', found '@'")]
    [TestCase("codelet g<M>(a: i8[M]) -> y: i32[M] { for m: y[m] = }", "COV2001@1,53", "expected expression, found '}'")]
    [TestCase("codelet g<M>(a: i8[M]) -> y: i32[M] { for m: y[m] = a[m] } extra", "COV2001@1,60", "expected end of file, found 'extra'")]
    [TestCase("codelet g<M>(a: i8[M]) -> y: i32[M] { for m: y[m] = a[m]", "COV2001@1,57", "expected operator, ';', 'let', 'for' or '}', found end of file")]
    [TestCase("// nothing here\n", "COV2001@2,1", "expected 'codelet', found end of file")]
    [TestCase("", "COV2001@1,1", "expected 'codelet', found end of file")]
    [TestCase("codelet g<M>(a: i8[M]) -> y: i32[M] { for m in : y[m] = a[m] }", "COV2001@1,48", "expected expression, found ':'")]
    [TestCase("codelet g<M>(a: i8[M]) -> y: i32[M] { for m: y[m] == a[m] }", "COV2001@1,52", "expected expression, found '='")]
    [TestCase("codelet g<M>(a: i8[M]) -> y: i32[M] { for m: y[m] = a[m] \u0001 }", "COV2001@1,58", "expected operator, ';', 'let', 'for' or '}', found character U+0001")]
    public void SyntaxErrorsSayWhatWasExpectedWhere(string text, string idAt, string message)
    {
        var diagnostics = Parse(text).Diagnostics;
        using (Assert.EnterMultipleScope())
        {
            Assert.That(IdsAt(diagnostics), Is.EqualTo(new[] { idAt }));
            Assert.That(diagnostics[0].Message, Is.EqualTo(message));
        }
    }

    [Test]
    public void LiteralsTooLargeAreReportedWhereTheyStand()
    {
        var diagnostics = Parse("codelet g<M = 99999999999999999999>() -> y: i32[M] { for m: y[m] = 1.0e999 }").Diagnostics;
        using (Assert.EnterMultipleScope())
        {
            Assert.That(IdsAt(diagnostics), Is.EqualTo(new[] { "COV2002@1,15", "COV2002@1,68" }));
            Assert.That(diagnostics[0].Message, Is.EqualTo("integer literal 99999999999999999999 does not fit in 64 bits"));
            Assert.That(diagnostics[1].Message, Is.EqualTo("float literal 1.0e999 is too large"));
        }
    }

    [Test]
    public void NestingIsLimited()
    {
        string Nested(int depth) => new string('(', depth) + "a" + new string(')', depth);
        var atLimit = CodeletParser.ParseExpression(Nested(CodeletParser.MaxNesting), new SourceLocation(TestFile, 1, 1));
        var beyond = CodeletParser.ParseExpression("b + " + Nested(CodeletParser.MaxNesting + 1), new SourceLocation(TestFile, 1, 1));
        var brackets = CodeletParser.ParseExpression(string.Concat(Enumerable.Repeat("x[", 300)) + "0" + new string(']', 300), new SourceLocation(TestFile, 1, 1));
        using (Assert.EnterMultipleScope())
        {
            Assert.That(atLimit.Succeeded, Is.True);
            Assert.That(IdsAt(beyond.Diagnostics), Is.EqualTo(new[] { $"COV2003@1,{4 + CodeletParser.MaxNesting + 1}" }));
            Assert.That(IdsAt(brackets.Diagnostics), Is.EqualTo(new[] { $"COV2003@1,{(2 * CodeletParser.MaxNesting) + 2}" }));
        }
    }

    [Test]
    public void DeeplyNestedTextParsesOnASmallStack()
    {
        // The parser moves deep texts to a thread of its own, so the caller's stack size does not matter.
        Result<ExprSyntax>? result = null;
        var thread = new Thread(() => result = CodeletParser.ParseExpression(new string('(', 200) + "a" + new string(')', 200), new SourceLocation(TestFile, 1, 1)), 256 * 1024);
        thread.Start();
        thread.Join();
        Assert.That(result!.Succeeded, Is.True);
    }

    [Test]
    public void VeryLongOperatorChainsAreRefusedNotOverflowed()
    {
        string Chain(int terms) => string.Join(" + ", Enumerable.Repeat("a", terms));
        var fine = CodeletParser.ParseExpression(Chain(CodeletParser.MaxExpressionDepth - 10), new SourceLocation(TestFile, 1, 1));
        var tooLong = CodeletParser.ParseExpression(Chain(50_000), new SourceLocation(TestFile, 1, 1));
        var minuses = CodeletParser.ParseExpression(new string('-', 50_000) + "a", new SourceLocation(TestFile, 1, 1));
        using (Assert.EnterMultipleScope())
        {
            Assert.That(fine.Succeeded, Is.True);
            Assert.That(IdsAt(tooLong.Diagnostics), Is.EqualTo(new[] { "COV2004@1,1" }));
            Assert.That(IdsAt(minuses.Diagnostics), Is.EqualTo(new[] { "COV2004@1,1" }));
        }
    }

    [Test]
    public void CommentsAndLineEndings()
    {
        var codelet = ParseOk("// head\r\ncodelet c<N>(a: f32[N]) // one\r\n -> y: f32[N] {\r\n for i: // two\r\n y[i] = a[i] } // end");
        Assert.That(codelet.Nests[0].Statements[0].Location, Is.EqualTo(new SourceLocation(TestFile, 5, 2)));
    }
}
