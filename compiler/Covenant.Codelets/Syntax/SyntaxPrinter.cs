using System.Globalization;
using System.Text;

namespace Covenant.Codelets.Syntax;

/// <summary>
/// Prints expressions back as codelet text, with the fewest parentheses that keep the tree's meaning
/// (so <c>Parse(Print(e))</c> gives <c>e</c> back). Messages quote expressions this way: spaces around
/// <c>+ - &lt;&lt; &gt;&gt;</c>, none around <c>* / %</c>, as people write index arithmetic.
/// </summary>
public static class SyntaxPrinter
{
    public static string Print(ExprSyntax expression)
    {
        var text = new StringBuilder();
        Append(text, expression, Precedence.Lowest);
        return text.ToString();
    }

    /// <summary><c>y[n, p] += x[n, p*stride]</c></summary>
    public static string Print(StatementSyntax statement) =>
        $"{Print(statement.Target)} {(statement.Kind == AssignKind.Accumulate ? "+=" : "=")} {Print(statement.Value)}";

    /// <summary>Every operator with its operands parenthesised, for tests of precedence and associativity.</summary>
    public static string PrintFullyParenthesised(ExprSyntax expression) => expression switch
    {
        BinarySyntax b => $"({PrintFullyParenthesised(b.Left)} {Symbol(b.Op)} {PrintFullyParenthesised(b.Right)})",
        UnarySyntax u => $"(-{PrintFullyParenthesised(u.Operand)})",
        AccessSyntax a => $"{a.Tensor}[{string.Join(", ", a.Indices.Select(PrintFullyParenthesised))}]",
        CallSyntax c => $"{c.Function}({string.Join(", ", c.Arguments.Select(PrintFullyParenthesised))})",
        CastSyntax c => $"{c.Target.Name()}({PrintFullyParenthesised(c.Operand)})",
        _ => Print(expression),
    };

    public static string Symbol(BinaryOp op) => op switch
    {
        BinaryOp.Add => "+",
        BinaryOp.Subtract => "-",
        BinaryOp.Multiply => "*",
        BinaryOp.Divide => "/",
        BinaryOp.Modulo => "%",
        BinaryOp.ShiftLeft => "<<",
        BinaryOp.ShiftRight => ">>",
        _ => "?",
    };

    /// <summary>Binding strength, C's order: shifts below additive below multiplicative below unary.</summary>
    public static int PrecedenceOf(BinaryOp op) => op switch
    {
        BinaryOp.ShiftLeft or BinaryOp.ShiftRight => Precedence.Shift,
        BinaryOp.Add or BinaryOp.Subtract => Precedence.Additive,
        _ => Precedence.Multiplicative,
    };

    /// <summary>A float literal as text that reads back as a float (always has a '.' or an exponent).</summary>
    public static string FormatFloat(double value)
    {
        var text = value.ToString("R", CultureInfo.InvariantCulture);
        return text.Contains('.', StringComparison.Ordinal) || text.Contains('E', StringComparison.Ordinal)
            ? text
            : text + ".0";
    }

    private static void Append(StringBuilder text, ExprSyntax expression, int context)
    {
        switch (expression)
        {
            case IntLiteralSyntax i:
                text.Append(i.Value.ToString(CultureInfo.InvariantCulture));
                break;
            case FloatLiteralSyntax f:
                text.Append(FormatFloat(f.Value));
                break;
            case NameSyntax n:
                text.Append(n.Name);
                break;
            case AccessSyntax a:
                text.Append(a.Tensor).Append('[');
                AppendList(text, a.Indices);
                text.Append(']');
                break;
            case CallSyntax c:
                text.Append(c.Function).Append('(');
                AppendList(text, c.Arguments);
                text.Append(')');
                break;
            case CastSyntax c:
                text.Append(c.Target.Name()).Append('(');
                Append(text, c.Operand, Precedence.Lowest);
                text.Append(')');
                break;
            case UnarySyntax u:
                text.Append('-');

                // "-(-x)" rather than "--x", which reads like a decrement.
                Append(text, u.Operand, u.Operand is UnarySyntax ? Precedence.Primary : Precedence.Unary);
                break;
            case BinarySyntax b:
                var precedence = PrecedenceOf(b.Op);
                var parenthesise = precedence < context;
                if (parenthesise)
                {
                    text.Append('(');
                }

                // Left-associative: the left operand may share the precedence, the right one must bind tighter.
                Append(text, b.Left, precedence);
                text.Append(precedence == Precedence.Multiplicative ? Symbol(b.Op) : $" {Symbol(b.Op)} ");
                Append(text, b.Right, precedence + 1);
                if (parenthesise)
                {
                    text.Append(')');
                }

                break;
            default:
                text.Append('?');
                break;
        }
    }

    private static void AppendList(StringBuilder text, IEnumerable<ExprSyntax> items)
    {
        var first = true;
        foreach (var item in items)
        {
            if (!first)
            {
                text.Append(", ");
            }

            Append(text, item, Precedence.Lowest);
            first = false;
        }
    }

    private static class Precedence
    {
        public const int Lowest = 0;
        public const int Shift = 1;
        public const int Additive = 2;
        public const int Multiplicative = 3;
        public const int Unary = 4;
        public const int Primary = 5;
    }
}
