using System.Collections.Immutable;
using System.Globalization;
using System.Runtime.CompilerServices;
using Covenant.Codelets.Syntax;
using Covenant.Core.Diagnostics;
using Sprache;

namespace Covenant.Codelets.Parsing;

/// <summary>
/// The codelet grammar as Sprache parsers, built once per parse around a <see cref="ParseSession"/> (which
/// maps offsets to file locations and collects what was expected where).
/// </summary>
/// <remarks>
/// Conventions that make errors land in the right place:
/// <list type="bullet">
/// <item>Every token parser skips the trivia (whitespace, <c>//</c> comments) after it, never before, so a
/// parser always starts at the first character of a token and <see cref="Here"/> is that token's location.</item>
/// <item>A token that does not match fails at its own input, unconsumed, and tells the session what it
/// expected there.</item>
/// <item>Alternatives are chosen by their first token (<c>XOr</c>) and repetitions use <c>XMany</c>/
/// <c>XOptional</c>: once an item has consumed input, its failure is the parse's failure instead of being
/// silently backtracked over.</item>
/// <item>There is no left recursion and only parentheses, brackets and calls recurse; operator chains and
/// unary minus are loops, so a long expression cannot exhaust the stack.</item>
/// </list>
/// </remarks>
internal sealed class CodeletGrammar
{
    private readonly ParseSession session;

    public CodeletGrammar(ParseSession session)
    {
        this.session = session;
        Here = i => Result.Success(session.LocationAt(i.Position), i);
        Nested = i =>
        {
            // The nesting pre-scan caps bracket depth; this is the last line of defence on a small stack.
            if (!RuntimeHelpers.TryEnsureSufficientExecutionStack())
            {
                session.Report(i.Position, CodeletDiagnostics.NestingTooDeep, "expression nested too deeply for the parser's stack");
                return Result.Failure<ExprSyntax>(i, "nested too deeply", []);
            }

            return Expression!(i);
        };

        // In this order: statements are built from expressions.
        Expression = ExpressionParser();
        Statement = StatementParser();
        Codelet = CodeletParser();
    }

    /// <summary>The location of the next token, consuming nothing.</summary>
    public Parser<SourceLocation> Here { get; }

    public Parser<ExprSyntax> Expression { get; }

    public Parser<StatementSyntax> Statement { get; }

    public Parser<CodeletSyntax> Codelet { get; }

    /// <summary>A parenthesised or bracketed expression: <see cref="Expression"/> behind a check of the stack.</summary>
    private Parser<ExprSyntax> Nested { get; }

    /// <summary>Expressions: C precedence, loosest first: &lt;&lt; &gt;&gt;, then + -, then * / %, then unary minus.</summary>
    private Parser<ExprSyntax> ExpressionParser()
    {
        var nested = Nested;
        var indexList = IndexList();

        var argumentList =
            from open in Symbol("(")
            from items in SeparatedBy(nested, ",").XOptional()
            from close in Symbol(")")
            select items.IsDefined ? items.Get() : [];

        var number = Number();

        var parenthesised =
            from open in Symbol("(")
            from inner in nested
            from close in Symbol(")")
            select inner;

        var cast =
            from at in Here
            from type in ElementTypeName()
            from open in Symbol("(")
            from operand in nested
            from close in Symbol(")")
            select (ExprSyntax)new CastSyntax(type, operand, at);

        var builtinCall =
            from at in Here
            from function in Word(w => Lexer.Functions.Contains(w) ? w : null, "function")
            from arguments in argumentList
            select (ExprSyntax)new CallSyntax(function, arguments, at);

        // A name, an access name[...] or a call name(...) of an unknown function (the checker names the real ones).
        var nameOrAccessOrCall =
            from at in Here
            from name in Name()
            from suffix in indexList.Select(ix => (Kind: '[', Items: ix))
                .XOr(argumentList.Select(args => (Kind: '(', Items: args)))
                .XOptional()
            select suffix.IsEmpty
                ? new NameSyntax(name, at)
                : suffix.Get().Kind == '['
                    ? (ExprSyntax)new AccessSyntax(name, suffix.Get().Items, at)
                    : new CallSyntax(name, suffix.Get().Items, at);

        var primary = number.XOr(parenthesised).XOr(cast).XOr(builtinCall).XOr(nameOrAccessOrCall);

        var unary = Describe(
            from signs in (from at in Here from minus in Symbol("-") select at).XMany()
            from operand in primary
            select signs.Reverse().Aggregate(operand, (inner, at) => new UnarySyntax(UnaryOp.Negate, inner, at)),
            "expression");

        var multiplicative = Chain(unary, Operator("*", BinaryOp.Multiply), Operator("/", BinaryOp.Divide), Operator("%", BinaryOp.Modulo));
        var additive = Chain(multiplicative, Operator("+", BinaryOp.Add), Operator("-", BinaryOp.Subtract));
        return Chain(additive, Operator("<<", BinaryOp.ShiftLeft), Operator(">>", BinaryOp.ShiftRight));
    }

    /// <summary>A statement: an access, <c>=</c> or <c>+=</c>, a value.</summary>
    private Parser<StatementSyntax> StatementParser()
    {
        var access =
            from at in Here
            from target in Name()
            from indices in IndexList()
            select new AccessSyntax(target, indices, at);

        return Describe(
            from target in access
            from kind in Symbol("+=").Return(AssignKind.Accumulate).XOr(Symbol("=").Return(AssignKind.Assign))
            from value in Expression
            from semicolon in Symbol(";").XOptional()
            select new StatementSyntax(target, kind, value, target.Location),
            "statement");
    }

    /// <summary>The codelet: its header (shape parameters, tensors, derived sizes) and its body (locals and loop nests).</summary>
    private Parser<CodeletSyntax> CodeletParser()
    {
        var loopVar =
            from at in Here
            from name in Name()
            from extent in Keyword("in").Then(_ => Expression).XOptional()
            select new LoopVarSyntax(name, extent.GetOrDefault(), at);

        var nestBody =
            Symbol(":").Then(_ => Statement.Once())
                .XOr(from open in Symbol("{")
                     from statements in Statement.XAtLeastOnce()
                     from close in Symbol("}")
                     select statements);

        var nest =
            from at in Here
            from keyword in Keyword("for")
            from vars in SeparatedBy(loopVar, ",")
            from statements in nestBody
            select (SyntaxNode)new LoopNestSyntax(vars, [.. statements], at);

        var modifier = Keyword("padded").Return(TensorModifiers.Padded).XOr(Keyword("cropped").Return(TensorModifiers.Cropped));

        var tensor =
            from at in Here
            from name in Name()
            from colon in Symbol(":")
            from type in ElementTypeName()
            from dims in IndexList()
            from modifiers in modifier.XMany()
            select new TensorSyntax(name, type, dims, modifiers.Aggregate(TensorModifiers.None, (all, m) => all | m), at);

        var local =
            from keyword in Keyword("let")
            from declared in tensor
            from semicolon in Symbol(";").XOptional()
            select (SyntaxNode)declared;

        var shapeParam =
            from at in Here
            from name in Name()
            from value in Symbol("=").Then(_ => Expression).XOptional()
            select new ShapeParamSyntax(name, value.GetOrDefault(), at);

        var shapeParams =
            from open in Symbol("<")
            from parameters in SeparatedBy(shapeParam, ",")
            from close in Symbol(">")
            select parameters;

        var inputs =
            from open in Symbol("(")
            from tensors in SeparatedBy(tensor, ",").XOptional()
            from close in Symbol(")")
            select tensors.IsDefined ? tensors.Get() : [];

        var outputs =
            (from open in Symbol("(")
             from tensors in SeparatedBy(tensor, ",")
             from close in Symbol(")")
             select tensors)
            .XOr(tensor.Select(t => ImmutableArray.Create(t)));

        var derivedSize =
            from at in Here
            from name in Name()
            from assign in Symbol("=")
            from value in Expression
            select new DerivedSizeSyntax(name, value, at);

        var whereClause = Keyword("where").Then(_ => SeparatedBy(derivedSize, ","));

        var body =
            from open in Symbol("{")
            from items in local.XOr(nest).XMany()
            from close in Symbol("}")
            select items.ToImmutableArray();

        return
            from at in Here
            from keyword in Keyword("codelet")
            from name in Name()
            from parameters in shapeParams.XOptional()
            from ins in inputs
            from arrow in Symbol("->")
            from outs in outputs
            from derived in whereClause.XOptional()
            from items in body
            select new CodeletSyntax(
                name,
                parameters.GetOrElse([]),
                ins,
                outs,
                derived.GetOrElse([]),
                [.. items.OfType<TensorSyntax>()],
                [.. items.OfType<LoopNestSyntax>()],
                at);
    }

    /// <summary><c>[expression, ...]</c>: the indices of an access or the dimensions of a tensor.</summary>
    private Parser<ImmutableArray<ExprSyntax>> IndexList() =>
        from open in Symbol("[")
        from items in SeparatedBy(Nested, ",")
        from close in Symbol("]")
        select items;

    /// <summary>Skips the trivia before the first token, runs <paramref name="parser"/>, then requires the end of the text.</summary>
    public Parser<T> Whole<T>(Parser<T> parser) =>
        from leading in Trivia()
        from value in parser
        from end in EndOfText()
        select value;

    // ---- Tokens ----

    private static IInput Advance(IInput input, int count)
    {
        for (var i = 0; i < count; i++)
        {
            input = input.Advance();
        }

        return input;
    }

    /// <summary>Consumes <paramref name="length"/> characters and the trivia after them.</summary>
    private static IInput Consume(IInput input, int length) =>
        Advance(input, Lexer.SkipTrivia(input.Source, input.Position + length) - input.Position);

    private IResult<T> Fail<T>(IInput input, string expectation)
    {
        session.Expect(input.Position, expectation);
        return Result.Failure<T>(input, "expected " + expectation, [expectation]);
    }

    private static Parser<object?> Trivia() =>
        i => Result.Success<object?>(null, Advance(i, Lexer.SkipTrivia(i.Source, i.Position) - i.Position));

    private Parser<object?> EndOfText() =>
        i => i.AtEnd ? Result.Success<object?>(null, i) : Fail<object?>(i, "end of file");

    /// <summary>Punctuation, matched exactly (longer symbols such as <c>+=</c> are tried before their prefixes).</summary>
    private Parser<string> Symbol(string symbol)
    {
        var expectation = $"'{symbol}'";
        return i => string.CompareOrdinal(i.Source, i.Position, symbol, 0, symbol.Length) == 0
            ? Result.Success(symbol, Consume(i, symbol.Length))
            : Fail<string>(i, expectation);
    }

    /// <summary>A binary operator; every operator is described to the user simply as "operator".</summary>
    private Parser<BinaryOp> Operator(string symbol, BinaryOp op) =>
        i => string.CompareOrdinal(i.Source, i.Position, symbol, 0, symbol.Length) == 0
            ? Result.Success(op, Consume(i, symbol.Length))
            : Fail<BinaryOp>(i, "operator");

    /// <summary>A whole word accepted by <paramref name="accept"/> (null rejects it).</summary>
    private Parser<T> Word<T>(Func<string, T?> accept, string expectation)
        where T : class
    {
        return i =>
        {
            var length = Lexer.WordLength(i.Source, i.Position);
            if (length > 0 && accept(i.Source.Substring(i.Position, length)) is { } value)
            {
                return Result.Success(value, Consume(i, length));
            }

            return Fail<T>(i, expectation);
        };
    }

    private Parser<string> Keyword(string keyword) => Word(w => w == keyword ? w : null, $"'{keyword}'");

    /// <summary>An identifier that is not a reserved word.</summary>
    private Parser<string> Name() => Word(w => Lexer.IsReserved(w) ? null : w, Lexer.NameExpectation);

    private Parser<ElementType> ElementTypeName()
    {
        var words = Word(w => ElementTypes.TryParse(w, out _) ? w : null, "element type (i8, u8, i32, f16 or f32)");
        return words.Select(w => ElementTypes.TryParse(w, out var type) ? type : default);
    }

    /// <summary>An integer or float literal. Out-of-range literals are reported and parsing goes on.</summary>
    private Parser<ExprSyntax> Number()
    {
        return i =>
        {
            var length = Lexer.NumberLength(i.Source, i.Position, out var isFloat);
            if (length == 0)
            {
                return Fail<ExprSyntax>(i, "number");
            }

            var text = i.Source.Substring(i.Position, length);
            var at = session.LocationAt(i.Position);
            ExprSyntax literal;
            if (isFloat)
            {
                var value = double.Parse(text, NumberStyles.Float, CultureInfo.InvariantCulture);
                if (double.IsInfinity(value))
                {
                    session.Report(i.Position, CodeletDiagnostics.LiteralTooLarge, $"float literal {Shorten(text)} is too large");
                    value = 0;
                }

                literal = new FloatLiteralSyntax(value, at);
            }
            else
            {
                if (!long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value))
                {
                    session.Report(i.Position, CodeletDiagnostics.LiteralTooLarge, $"integer literal {Shorten(text)} does not fit in 64 bits");
                    value = 0;
                }

                literal = new IntLiteralSyntax(value, at);
            }

            return Result.Success(literal, Consume(i, length));
        };
    }

    private static string Shorten(string text) => text.Length <= 30 ? text : text[..27] + "...";

    // ---- Combinators ----

    /// <summary>When <paramref name="parser"/> fails without consuming anything, say "expected <paramref name="description"/>" rather than listing its first tokens.</summary>
    private Parser<T> Describe<T>(Parser<T> parser, string description) =>
        i =>
        {
            var mark = session.Mark();
            var result = parser(i);
            if (!result.WasSuccessful && result.Remainder.Position == i.Position)
            {
                session.Describe(i.Position, mark, description);
            }

            return result;
        };

    /// <summary>One or more items separated by <paramref name="separator"/>; an item missing after a separator is an error.</summary>
    private Parser<ImmutableArray<T>> SeparatedBy<T>(Parser<T> item, string separator) =>
        from first in item
        from rest in Symbol(separator).Then(_ => item).XMany()
        select ImmutableArray.Create(first).AddRange(rest);

    /// <summary>A left-associative chain <c>operand (op operand)*</c>, folded as a loop rather than by recursion.</summary>
    private static Parser<ExprSyntax> Chain(Parser<ExprSyntax> operand, params Parser<BinaryOp>[] operators)
    {
        var op = operators.Aggregate((a, b) => a.XOr(b));
        return from first in operand
               from rest in (from o in op from right in operand select (Op: o, Right: right)).XMany()
               select rest.Aggregate(first, (left, next) => new BinarySyntax(next.Op, left, next.Right, left.Location));
    }
}
