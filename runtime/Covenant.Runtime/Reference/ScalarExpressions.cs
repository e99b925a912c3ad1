using System.Linq.Expressions;
using System.Reflection;
using Covenant.Codelets;
using Covenant.Codelets.Semantics;
using Covenant.Codelets.Syntax;

namespace Covenant.Runtime.Reference;

/// <summary>
/// The scalar semantics (<see cref="ScalarSemantics"/>) as expression trees, for <see cref="NestCompiler"/>: an int
/// expression for integer types, a float expression for float types; conversions, wrapping arithmetic, floor
/// division and the builtins exactly as the interpreter defines them.
/// </summary>
internal static class ScalarExpressions
{
    private static readonly MethodInfo RoundToF16 = Method(nameof(ScalarSemantics.RoundToF16), typeof(float));
    private static readonly MethodInfo FloatToI32 = Method(nameof(ScalarSemantics.FloatToI32), typeof(float));
    private static readonly MethodInfo FloatToI8 = Method(nameof(ScalarSemantics.FloatToI8), typeof(float));
    private static readonly MethodInfo FloatToU8 = Method(nameof(ScalarSemantics.FloatToU8), typeof(float));
    private static readonly MethodInfo IntFloorDivide = Method(nameof(ScalarSemantics.FloorDivide), typeof(int), typeof(int));
    private static readonly MethodInfo IntFloorModulo = Method(nameof(ScalarSemantics.FloorModulo), typeof(int), typeof(int));
    private static readonly MethodInfo FloatFloorDivide = Method(nameof(ScalarSemantics.FloorDivide), typeof(float), typeof(float));
    private static readonly MethodInfo FloatFloorModulo = Method(nameof(ScalarSemantics.FloorModulo), typeof(float), typeof(float));
    private static readonly MethodInfo IntMax = typeof(Math).GetMethod(nameof(Math.Max), [typeof(int), typeof(int)])!;
    private static readonly MethodInfo IntMin = typeof(Math).GetMethod(nameof(Math.Min), [typeof(int), typeof(int)])!;
    private static readonly MethodInfo FloatMax = typeof(MathF).GetMethod(nameof(MathF.Max), [typeof(float), typeof(float)])!;
    private static readonly MethodInfo FloatMin = typeof(MathF).GetMethod(nameof(MathF.Min), [typeof(float), typeof(float)])!;

    /// <summary>The operation on operands already brought to <paramref name="type"/>'s storage type.</summary>
    public static Expression Binary(BinaryOp op, ElementType type, Expression left, Expression right)
    {
        var isInteger = StorageType(type) == typeof(int);
        return op switch
        {
            // Expression.Add/Subtract/Multiply are unchecked: i32 wraps, as the semantics ask.
            BinaryOp.Add => Expression.Add(left, right),
            BinaryOp.Subtract => Expression.Subtract(left, right),
            BinaryOp.Multiply => Expression.Multiply(left, right),
            BinaryOp.Divide => Expression.Call(isInteger ? IntFloorDivide : FloatFloorDivide, left, right),
            BinaryOp.Modulo => Expression.Call(isInteger ? IntFloorModulo : FloatFloorModulo, left, right),
            BinaryOp.ShiftLeft when isInteger => Expression.LeftShift(left, Expression.And(right, Expression.Constant(31))),
            BinaryOp.ShiftRight when isInteger => Expression.RightShift(left, Expression.And(right, Expression.Constant(31))),
            _ => throw new NotSupportedException($"{op} is not defined on {type.Name()} values"),
        };
    }

    /// <summary>The builtin on arguments already brought to <paramref name="type"/>'s storage type.</summary>
    public static Expression Call(BuiltinFunction function, ElementType type, Expression[] args)
    {
        var (max, min) = StorageType(type) == typeof(int) ? (IntMax, IntMin) : (FloatMax, FloatMin);
        return (function, args.Length) switch
        {
            (BuiltinFunction.Max, 2) => Expression.Call(max, args[0], args[1]),
            (BuiltinFunction.Min, 2) => Expression.Call(min, args[0], args[1]),
            (BuiltinFunction.Clip, 3) => Expression.Call(min, Expression.Call(max, args[0], args[1]), args[2]),
            (BuiltinFunction.Relu, 1) => Expression.Call(max, args[0], Zero(type)),
            _ => throw new NotSupportedException($"{function} does not take {args.Length} arguments"),
        };
    }

    /// <summary>The value converted to an element type: what a cast and a store do.</summary>
    public static Expression Convert(Expression value, ElementType target)
    {
        var isInteger = value.Type == typeof(int);
        return target switch
        {
            ElementType.I8 => isInteger
                ? Expression.Convert(Expression.Convert(value, typeof(sbyte)), typeof(int)) // keeps the low 8 bits
                : Expression.Call(FloatToI8, value),
            ElementType.U8 => isInteger ? Expression.And(value, Expression.Constant(0xFF)) : Expression.Call(FloatToU8, value),
            ElementType.I32 => isInteger ? value : Expression.Call(FloatToI32, value),
            ElementType.F32 => As(value, typeof(float)),
            ElementType.F16 => Expression.Call(RoundToF16, As(value, typeof(float))),
            _ => throw new ArgumentOutOfRangeException(nameof(target), target, null),
        };
    }

    /// <summary>The sum an accumulation computes: in i32 when both sides are integers, otherwise in f32.</summary>
    public static Expression Add(Expression current, Expression value) =>
        current.Type == typeof(int) && value.Type == typeof(int)
            ? Expression.Add(current, value)
            : Expression.Add(As(current, typeof(float)), As(value, typeof(float)));

    /// <summary>Brings an operand to the arithmetic type of its operation (int → float exactly-rounded;
    /// float → int by the cast rule, should a checker ever allow it).</summary>
    public static Expression As(Expression value, Type type)
    {
        if (value.Type == type)
        {
            return value;
        }

        return type == typeof(float) ? Expression.Convert(value, typeof(float)) : Expression.Call(FloatToI32, value);
    }

    public static Expression Zero(ElementType type) =>
        type.IsInteger() ? Expression.Constant(0) : Expression.Constant(0f);

    public static Type StorageType(ElementType type) => type.IsInteger() ? typeof(int) : typeof(float);

    private static MethodInfo Method(string name, params Type[] parameters) =>
        typeof(ScalarSemantics).GetMethod(name, parameters)
        ?? throw new InvalidOperationException($"ScalarSemantics.{name} is missing");
}
