using Covenant.Codelets.Syntax;
using Covenant.Core.Diagnostics;

namespace Covenant.Codelets.Semantics;

/// <summary>
/// Evaluates checked shape expressions in exact 64-bit arithmetic: <c>/</c> rounds toward negative
/// infinity, <c>%</c> has the divisor's sign. Division by zero and overflow are reported, not thrown.
/// </summary>
internal sealed class ShapeEvaluator(IReadOnlyDictionary<string, long> sizes, Action<DiagnosticDescriptor, SourceLocation, string> report)
{
    /// <summary>
    /// The value of <paramref name="expression"/>, or null after reporting why not. A name without a value
    /// yet (its own evaluation failed and was reported) gives null silently, so one mistake gives one message.
    /// </summary>
    public long? Evaluate(ExprSyntax expression, string what)
    {
        try
        {
            return Value(expression, what);
        }
        catch (OverflowException)
        {
            report(
                CodeletDiagnostics.ShapeOverflow,
                expression.Location,
                $"{what} overflows 64-bit arithmetic in '{SyntaxPrinter.Print(expression)}'{With(expression)}");
            return null;
        }
    }

    /// <summary>" with H = 5, pad = 1" for the names in <paramref name="expression"/> that have values, or "".</summary>
    public string With(ExprSyntax expression)
    {
        var values = expression.NamesIn()
            .Where(sizes.ContainsKey)
            .Select(name => FormattableString.Invariant($"{name} = {sizes[name]}"))
            .ToList();
        return values.Count == 0 ? "" : " with " + string.Join(", ", values);
    }

    public static long FloorDivide(long dividend, long divisor)
    {
        var quotient = checked(dividend / divisor);
        return dividend % divisor != 0 && (dividend < 0) != (divisor < 0) ? quotient - 1 : quotient;
    }

    public static long FloorModulo(long dividend, long divisor)
    {
        if (divisor == -1)
        {
            return 0; // long.MinValue % -1 would trap; every integer is a multiple of -1.
        }

        var remainder = dividend % divisor;
        return remainder != 0 && (remainder < 0) != (divisor < 0) ? remainder + divisor : remainder;
    }

    private long? Value(ExprSyntax expression, string what)
    {
        switch (expression)
        {
            case IntLiteralSyntax literal:
                return literal.Value;
            case NameSyntax name:
                return sizes.TryGetValue(name.Name, out var size) ? size : null;
            case UnarySyntax unary:
                return Value(unary.Operand, what) is { } operand ? checked(-operand) : null;
            case BinarySyntax binary:
                var left = Value(binary.Left, what);
                var right = Value(binary.Right, what);
                if (left is null || right is null)
                {
                    return null;
                }

                return Apply(binary, left.Value, right.Value, what);
            case CallSyntax call:
                var arguments = call.Arguments.Select(a => Value(a, what)).ToList();
                if (arguments.Any(a => a is null))
                {
                    return null;
                }

                var x = arguments.Select(a => a!.Value).ToList();
                return (call.Function, x.Count) switch
                {
                    ("max", 2) => Math.Max(x[0], x[1]),
                    ("min", 2) => Math.Min(x[0], x[1]),
                    ("clip", 3) => Math.Min(Math.Max(x[0], x[1]), x[2]),
                    ("relu", 1) => Math.Max(x[0], 0),
                    _ => null,
                };
            default:
                return null;
        }
    }

    private long? Apply(BinarySyntax binary, long left, long right, string what)
    {
        switch (binary.Op)
        {
            case BinaryOp.Add:
                return checked(left + right);
            case BinaryOp.Subtract:
                return checked(left - right);
            case BinaryOp.Multiply:
                return checked(left * right);
            case BinaryOp.Divide or BinaryOp.Modulo when right == 0:
                report(
                    CodeletDiagnostics.DivisionByZero,
                    binary.Right.Location,
                    $"division by zero in {what}: '{SyntaxPrinter.Print(binary.Right)}' is 0 in '{SyntaxPrinter.Print(binary)}'{With(binary)}");
                return null;
            case BinaryOp.Divide:
                return FloorDivide(left, right);
            case BinaryOp.Modulo:
                return FloorModulo(left, right);
            case BinaryOp.ShiftLeft or BinaryOp.ShiftRight when right is < 0 or > 62:
                report(
                    CodeletDiagnostics.ShapeOverflow,
                    binary.Right.Location,
                    $"shift amount {right} in {what} '{SyntaxPrinter.Print(binary)}' is outside 0..62{With(binary)}");
                return null;
            case BinaryOp.ShiftLeft:
                return checked(left * (1L << (int)right));
            case BinaryOp.ShiftRight:
                return left >> (int)right;
            default:
                return null;
        }
    }
}
