using System.Collections.Immutable;
using System.Runtime.ExceptionServices;
using Covenant.Codelets.Syntax;
using Covenant.Core.Diagnostics;
using Sprache;

namespace Covenant.Codelets.Parsing;

/// <summary>
/// Parses codelet text into syntax trees. Never throws on user input: malformed text gives positioned
/// diagnostics (COV2xxx). The grammar is documented in <c>codelets/README.md</c>.
/// </summary>
public static class CodeletParser
{
    /// <summary>Parentheses and brackets may nest this deep; deeper text is rejected before parsing (the parser recurses on them).</summary>
    public const int MaxNesting = 200;

    /// <summary>
    /// The deepest expression tree accepted. Operator chains parse as loops, but later stages walk trees
    /// recursively, so a chain of thousands of operators is refused here rather than overflowing there.
    /// </summary>
    public const int MaxExpressionDepth = 1000;

    /// <summary>Parses a file holding one codelet.</summary>
    public static Result<CodeletSyntax> Parse(SourceFile file) =>
        Run(file.Text, new SourceLocation(file.Path, 1, 1), grammar => grammar.Codelet, codelet => codelet.Expressions());

    /// <summary>
    /// Parses one statement, as written in an architecture's capability semantics, e.g.
    /// <c>c[i, j] += a[i, k] * b[j, k]</c>. <paramref name="origin"/> is the file location of
    /// <c>text[0]</c>: diagnostics point into that file.
    /// </summary>
    public static Result<StatementSyntax> ParseStatement(string text, SourceLocation origin) =>
        Run(text, origin, grammar => grammar.Statement, statement => [statement.Target, statement.Value]);

    /// <summary>Parses one expression; <paramref name="origin"/> is the file location of <c>text[0]</c>.</summary>
    public static Result<ExprSyntax> ParseExpression(string text, SourceLocation origin) =>
        Run(text, origin, grammar => grammar.Expression, expression => [expression]);

    private static Result<T> Run<T>(
        string text,
        SourceLocation origin,
        Func<CodeletGrammar, Parser<T>> select,
        Func<T, IEnumerable<ExprSyntax>> expressionsOf)
        where T : class =>
        Guard.Run(origin, () => RunUnguarded(text, origin, select, expressionsOf));

    private static Result<T> RunUnguarded<T>(
        string text,
        SourceLocation origin,
        Func<CodeletGrammar, Parser<T>> select,
        Func<T, IEnumerable<ExprSyntax>> expressionsOf)
        where T : class
    {
        var session = new ParseSession(text, origin);
        var (nesting, tooDeep) = MeasureNesting(text);
        if (tooDeep is not null)
        {
            return Result<T>.Failure(CodeletDiagnostics.NestingTooDeep.Create(
                session.LocationAt(tooDeep.Value),
                $"parentheses and brackets are nested more than {MaxNesting} deep"));
        }

        var grammar = new CodeletGrammar(session);
        var parser = grammar.Whole(select(grammar));
        var result = nesting <= ShallowNesting
            ? parser(new Input(text))
            : OnLargeStack(() => parser(new Input(text)));
        var diagnostics = ImmutableArray.CreateBuilder<Diagnostic>();
        if (!result.WasSuccessful)
        {
            // A stack-depth failure has already been reported; the syntax error it causes would only mislead.
            if (!session.Diagnostics.Any(d => d.Descriptor == CodeletDiagnostics.NestingTooDeep))
            {
                diagnostics.Add(session.SyntaxError(result.Remainder.Position));
            }

            diagnostics.AddRange(session.Diagnostics);
            return Result<T>.Failure(diagnostics.ToImmutable());
        }

        diagnostics.AddRange(session.Diagnostics);
        foreach (var expression in expressionsOf(result.Value))
        {
            if (expression.Depth() > MaxExpressionDepth)
            {
                diagnostics.Add(CodeletDiagnostics.ExpressionTooComplex.Create(
                    expression.Location,
                    $"expression is nested more than {MaxExpressionDepth} operators deep; split it into several statements"));
            }
        }

        return diagnostics.Count > 0
            ? Result<T>.Failure(diagnostics.ToImmutable())
            : Result<T>.Success(result.Value);
    }

    /// <summary>
    /// Sprache spends several kilobytes of stack per bracket level, so <see cref="MaxNesting"/> levels would
    /// not fit a default 1.5 MiB thread stack. Deeper texts than this are parsed on a thread of their own.
    /// </summary>
    private const int ShallowNesting = 24;

    private const int LargeStackBytes = 64 * 1024 * 1024;

    private static TResult OnLargeStack<TResult>(Func<TResult> work)
    {
        TResult? result = default;
        ExceptionDispatchInfo? failure = null;
        var thread = new Thread(
            () =>
            {
                try
                {
                    result = work();
                }
#pragma warning disable CA1031 // Rethrown on the calling thread below; an exception must not kill the process here.
                catch (Exception e)
#pragma warning restore CA1031
                {
                    failure = ExceptionDispatchInfo.Capture(e);
                }
            },
            LargeStackBytes);
        thread.Start();
        thread.Join();
        failure?.Throw();
        return result!;
    }

    /// <summary>
    /// The deepest bracket nesting outside comments, and the offset of the first bracket that opens level
    /// <see cref="MaxNesting"/> + 1 (null if none).
    /// </summary>
    private static (int Deepest, int? TooDeep) MeasureNesting(string text)
    {
        var depth = 0;
        var deepest = 0;
        for (var i = 0; i < text.Length; i++)
        {
            switch (text[i])
            {
                case '/' when i + 1 < text.Length && text[i + 1] == '/':
                    var newline = text.IndexOf('\n', i);
                    i = newline < 0 ? text.Length : newline;
                    break;
                case '(' or '[':
                    deepest = Math.Max(deepest, ++depth);
                    if (depth > MaxNesting)
                    {
                        return (deepest, i);
                    }

                    break;
                case ')' or ']':
                    depth = Math.Max(0, depth - 1);
                    break;
                default:
                    break;
            }
        }

        return (deepest, null);
    }
}
