using System.Collections.Immutable;
using Covenant.Codelets.Parsing;
using Covenant.Codelets.Syntax;
using Covenant.Core.Diagnostics;

namespace Covenant.Codelets.Semantics;

/// <summary>
/// The checker's second half: binds statements and types their values (integers compute in i32, floats in f32,
/// no implicit conversion between them). Names, shapes and accesses it leaves to the <see cref="Checker"/> it serves.
/// </summary>
internal sealed class StatementBinder(Checker checker, DiagnosticBag diagnostics, List<CheckedTensor> tensors)
{
    /// <summary>Binds a statement: its target access, its value, and whether the value may be stored there.</summary>
    public BoundStatement? BindStatement(StatementSyntax statement, NestScope scope)
    {
        var target = checker.CheckAccess(statement.Target, scope, isWrite: true);
        CheckLiteralRanges(statement.Value);
        var value = BindValue(statement.Value, scope);
        if (target is null || value is null)
        {
            return null;
        }

        var targetType = tensors[target.Tensor].ElementType;
        if (!IsImplicitlyConvertible(value.Type, targetType) && !IsFittingConstant(statement.Value, targetType))
        {
            var name = tensors[target.Tensor].Name;
            var message = statement.Kind == AssignKind.Accumulate
                ? $"'+=' needs a target at least as wide as the value: '{name}' is {targetType.Name()} but the value is {value.Type.Name()}; " +
                  (value.Type.IsFloat() == targetType.IsFloat()
                      ? $"accumulate into a wider tensor (e.g. a 'let' local) and cast when storing"
                      : $"convert the value with {targetType.Name()}(...)")
                : $"storing {value.Type.Name()} into {targetType.Name()} tensor '{name}' needs an explicit cast: write {targetType.Name()}(...)" +
                  (targetType is ElementType.I8 or ElementType.U8 && value.Type.IsInteger()
                      ? $" (it keeps the low 8 bits; saturate first with clip(...))"
                      : "");
            return Fail<BoundStatement>(CodeletDiagnostics.ImplicitConversion, statement.Value.Location, message);
        }

        return new BoundStatement(target, statement.Kind, value, statement);
    }

    /// <summary>Binds and types a value expression (the right-hand side of a statement); null after an error.</summary>
    private BoundValue? BindValue(ExprSyntax expression, NestScope scope)
    {
        // Loop-free integer arithmetic is shape arithmetic: checked here, folded to one constant when instantiated.
        if (IsLoopFreeInteger(expression, scope))
        {
            return checker.CheckShape(expression, new ShapeContext("a value", _ => null, scope)) ? new BoundShapeConstant(expression) : null;
        }

        switch (expression)
        {
            case FloatLiteralSyntax f:
                return new BoundFloatConstant(f.Value, f.Location);
            case NameSyntax n:
                var symbol = checker.Resolve(n.Name, scope);
                switch (symbol?.Kind)
                {
                    case null:
                        checker.UnknownName(n.Name, n.Location, scope, _ => true);
                        return null;
                    case SymbolKind.Tensor:
                        return Fail<BoundValue>(CodeletDiagnostics.TensorWithoutIndices, n.Location,
                            $"'{n.Name}' is a tensor; read an element with {n.Name}[...]");
                    case SymbolKind.LoopVar:
                        return new BoundLoopVar(symbol.Index, n.Location);
                    default:
                        return new BoundShapeConstant(n);
                }

            case AccessSyntax a:
                return checker.CheckAccess(a, scope, isWrite: false) is { } access
                    ? new BoundLoad(tensors[access.Tensor].ElementType, access)
                    : null;
            case UnarySyntax u:
                return BindValue(u.Operand, scope) switch
                {
                    null => null,
                    BoundFloatConstant c => c with { Value = -c.Value, Location = u.Location },
                    var operand => new BoundUnary(Arithmetic(operand.Type), u.Op, operand, u.Location),
                };
            case BinarySyntax b:
                return BindBinary(b, scope);
            case CallSyntax call:
                return BindCall(call, scope);
            case CastSyntax c:
                return BindValue(c.Operand, scope) is { } castOperand ? new BoundCast(c.Target, castOperand, c.Location) : null;
            default:
                return Fail<BoundValue>(CodeletDiagnostics.TypeMismatch, expression.Location, "unsupported expression");
        }
    }

    private BoundValue? BindBinary(BinarySyntax b, NestScope scope)
    {
        var left = BindValue(b.Left, scope);
        var right = BindValue(b.Right, scope);
        if (left is null || right is null)
        {
            return null;
        }

        var symbol = SyntaxPrinter.Symbol(b.Op);
        switch (b.Op)
        {
            case BinaryOp.Divide or BinaryOp.Modulo:
                return Fail<BoundValue>(CodeletDiagnostics.DivisionOfValue, b.Location,
                    $"'{symbol}' applies only to loop-free integer (shape) expressions, not to '{SyntaxPrinter.Print(b)}'; scale values with '>>' or '*'");
            case BinaryOp.ShiftLeft or BinaryOp.ShiftRight:
                if (left.Type.IsFloat() || right.Type.IsFloat())
                {
                    return Fail<BoundValue>(CodeletDiagnostics.TypeMismatch, b.Location,
                        $"'{symbol}' shifts integers, but '{SyntaxPrinter.Print(b)}' shifts {left.Type.Name()} by {right.Type.Name()}");
                }

                return new BoundBinary(ElementType.I32, b.Op, left, right, b.Location);
            default:
                if (left.Type.IsFloat() != right.Type.IsFloat())
                {
                    return Fail<BoundValue>(CodeletDiagnostics.TypeMismatch, b.Location,
                        $"'{symbol}' mixes {left.Type.Name()} and {right.Type.Name()} in '{SyntaxPrinter.Print(b)}'; " +
                        "integers and floats never convert implicitly: cast one side, e.g. f32(...), or write a float literal such as 2.0");
                }

                return new BoundBinary(Arithmetic(left.Type), b.Op, left, right, b.Location);
        }
    }

    private BoundValue? BindCall(CallSyntax call, NestScope scope)
    {
        var function = checker.CheckBuiltin(call);
        var arguments = call.Arguments.Select(a => BindValue(a, scope)).ToList();
        if (function is null || arguments.Any(a => a is null))
        {
            return null;
        }

        var bound = arguments.Select(a => a!).ToImmutableArray();
        if (bound.Select(a => a.Type.IsFloat()).Distinct().Count() > 1)
        {
            return Fail<BoundValue>(CodeletDiagnostics.TypeMismatch, call.Location,
                $"the arguments of {call.Function}(...) mix {string.Join(", ", bound.Select(a => a.Type.Name()))}; " +
                "they must be all integers or all floats (cast one, or write a float literal such as 0.0)");
        }

        return new BoundCall(Arithmetic(bound[0].Type), function.Value, bound, call.Location);
    }

    /// <summary>True for an integer expression with no loop variable, tensor, float or cast in it (and no unknown name).</summary>
    private bool IsLoopFreeInteger(ExprSyntax expression, NestScope scope) =>
        expression.DescendantsAndSelf().All(e => e switch
        {
            IntLiteralSyntax or UnarySyntax or BinarySyntax => true,
            CallSyntax c => Lexer.Functions.Contains(c.Function),
            NameSyntax n => checker.Resolve(n.Name, scope)?.Kind is SymbolKind.ShapeParam or SymbolKind.DerivedSize,
            _ => false,
        });

    /// <summary>Integer literals in values must fit i32 (-2147483648 counts, written as a negated literal).</summary>
    private void CheckLiteralRanges(ExprSyntax value)
    {
        var pending = new Stack<(ExprSyntax Node, bool Negated)>();
        pending.Push((value, false));
        while (pending.Count > 0)
        {
            var (node, negated) = pending.Pop();
            if (node is IntLiteralSyntax literal && literal.Value > (negated ? 1L << 31 : int.MaxValue))
            {
                diagnostics.Report(CodeletDiagnostics.LiteralOutOfRange, literal.Location,
                    $"integer literal {literal.Value} does not fit i32, the type of integer values");
            }

            // Indices are shape arithmetic, not values; their range is checked when instantiated.
            if (node is AccessSyntax)
            {
                continue;
            }

            foreach (var child in node.Children())
            {
                pending.Push((child, node is UnarySyntax));
            }
        }
    }

    /// <summary>Arithmetic promotes: integers compute in i32, floats in f32.</summary>
    private static ElementType Arithmetic(ElementType type) => type.IsFloat() ? ElementType.F32 : ElementType.I32;

    /// <summary>Conversions that lose nothing: i8 and u8 to i32, f16 to f32.</summary>
    private static bool IsImplicitlyConvertible(ElementType from, ElementType to) =>
        from == to || (to == ElementType.I32 && from is ElementType.I8 or ElementType.U8) || (to == ElementType.F32 && from == ElementType.F16);

    /// <summary>A literal stored as is: an integer literal within the target's integer range, or a float literal into a float target.</summary>
    private static bool IsFittingConstant(ExprSyntax value, ElementType target)
    {
        var (literal, negated) = value is UnarySyntax { Operand: var operand } ? (operand, true) : (value, false);
        return literal switch
        {
            IntLiteralSyntax i when target.IsInteger() =>
                (negated ? -i.Value : i.Value) >= Minimum(target) && (negated ? -i.Value : i.Value) <= Maximum(target),
            FloatLiteralSyntax => target.IsFloat(),
            _ => false,
        };

        static long Minimum(ElementType type) => type switch { ElementType.I8 => sbyte.MinValue, ElementType.U8 => 0, _ => int.MinValue };

        static long Maximum(ElementType type) => type switch { ElementType.I8 => sbyte.MaxValue, ElementType.U8 => byte.MaxValue, _ => int.MaxValue };
    }

    private T? Fail<T>(DiagnosticDescriptor descriptor, SourceLocation location, string message)
        where T : class
    {
        diagnostics.Report(descriptor, location, message);
        return null;
    }
}
