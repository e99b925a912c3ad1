using System.Collections.Immutable;
using Covenant.Codelets.Syntax;

namespace Covenant.Codelets.Semantics;

// A codelet instance: a checked codelet with every shape parameter bound to a number. Every size is
// concrete, every index is an affine function of the loop variables with concrete coefficients, and
// every value expression is typed. This is what the reference interpreter runs and what the mapper maps.
//
// Value semantics (the reference the hardware is checked against):
// - Integer arithmetic happens in i32 and wraps (two's complement), as accumulators do in hardware.
//   i8/u8 operands are widened to i32 first. Shifts take the amount modulo 32; >> is arithmetic.
// - Float arithmetic happens in f32; an f16 value is widened exactly. Storing to f16 rounds to nearest even.
// - A cast to i8/u8 keeps the low 8 bits (wraps, like VTA's store); saturate first with clip(...).
//   A cast from float to an integer type truncates toward zero and saturates; NaN becomes 0.
// - Outputs and locals start at zero. Loops run in the order written, the first variable outermost;
//   statements of a nest run in order for each iteration.

public enum TensorRole
{
    Input,
    Output,
    Local,
}

public sealed record TensorInstance(
    string Name,
    TensorRole Role,
    ElementType ElementType,
    ImmutableArray<int> Shape,
    TensorModifiers Modifiers)
{
    public long ElementCount => Shape.Aggregate(1L, (product, extent) => product * extent);

    public bool Padded => (Modifiers & TensorModifiers.Padded) != 0;

    public bool Cropped => (Modifiers & TensorModifiers.Cropped) != 0;

    /// <summary>Row-major strides in elements.</summary>
    public ImmutableArray<long> Strides
    {
        get
        {
            var strides = new long[Shape.Length];
            long stride = 1;
            for (var d = Shape.Length - 1; d >= 0; d--)
            {
                strides[d] = stride;
                stride *= Shape[d];
            }

            return [.. strides];
        }
    }
}

public sealed record LoopInstance(string Name, int Extent);

/// <summary>
/// <c>Constant + Σ Coefficients[i] · loop_i</c> over the loops of the enclosing nest
/// (one coefficient per loop, in nest order; zero where the loop does not appear).
/// </summary>
public sealed record AffineIndex(long Constant, ImmutableArray<long> Coefficients)
{
    // Records compare ImmutableArray members by reference; two indices are equal when their numbers are.
    public bool Equals(AffineIndex? other) =>
        other is not null && Constant == other.Constant && Coefficients.SequenceEqual(other.Coefficients);

    public override int GetHashCode() => Coefficients.Aggregate(Constant.GetHashCode(), HashCode.Combine);

    /// <summary>Smallest value over the loop box (each loop ranges over [0, extent)).</summary>
    public long Min(ImmutableArray<LoopInstance> loops)
    {
        var value = Constant;
        for (var i = 0; i < Coefficients.Length; i++)
        {
            value += Math.Min(0, Coefficients[i] * (loops[i].Extent - 1));
        }

        return value;
    }

    /// <summary>Largest value over the loop box.</summary>
    public long Max(ImmutableArray<LoopInstance> loops)
    {
        var value = Constant;
        for (var i = 0; i < Coefficients.Length; i++)
        {
            value += Math.Max(0, Coefficients[i] * (loops[i].Extent - 1));
        }

        return value;
    }
}

/// <summary>An access to a tensor (an index into <see cref="CodeletInstance.Tensors"/>), one affine index per dimension.</summary>
public sealed record AccessInstance(int Tensor, ImmutableArray<AffineIndex> Indices)
{
    public bool Equals(AccessInstance? other) =>
        other is not null && Tensor == other.Tensor && Indices.SequenceEqual(other.Indices);

    public override int GetHashCode() => Indices.Aggregate(Tensor, (hash, index) => HashCode.Combine(hash, index.GetHashCode()));
}

public sealed record StatementInstance(AccessInstance Target, AssignKind Kind, ValueExpr Value, StatementSyntax Syntax);

public sealed record LoopNestInstance(ImmutableArray<LoopInstance> Loops, ImmutableArray<StatementInstance> Statements);

public sealed record CodeletInstance(
    string Name,
    ImmutableDictionary<string, long> Sizes,
    ImmutableArray<TensorInstance> Tensors,
    ImmutableArray<LoopNestInstance> Nests,
    CodeletSyntax Syntax)
{
    public IEnumerable<TensorInstance> Inputs => Tensors.Where(t => t.Role == TensorRole.Input);

    public IEnumerable<TensorInstance> Outputs => Tensors.Where(t => t.Role == TensorRole.Output);

    public int IndexOf(string tensor) => Tensors.IndexOf(Tensors.First(t => t.Name == tensor));
}

/// <summary>A typed value expression with every shape parameter replaced by its number.</summary>
public abstract record ValueExpr(ElementType Type);

/// <summary>A constant. Integers are held in <see cref="Integer"/>, floats in <see cref="Real"/>.</summary>
public sealed record ConstantValue(ElementType Type, long Integer, double Real) : ValueExpr(Type);

/// <summary>The current value of a loop variable (index into the nest's loops), as i32.</summary>
public sealed record LoopVarValue(int Loop) : ValueExpr(ElementType.I32);

/// <summary>A tensor element; its type is the tensor's element type.</summary>
public sealed record LoadValue(ElementType Type, AccessInstance Access) : ValueExpr(Type);

public sealed record UnaryValue(ElementType Type, UnaryOp Op, ValueExpr Operand) : ValueExpr(Type);

/// <summary>Arithmetic; <see cref="ValueExpr.Type"/> is i32 for integer operands and f32 for float ones.</summary>
public sealed record BinaryValue(ElementType Type, BinaryOp Op, ValueExpr Left, ValueExpr Right) : ValueExpr(Type);

public enum BuiltinFunction
{
    Max,
    Min,

    /// <summary>clip(x, lo, hi) = min(max(x, lo), hi).</summary>
    Clip,

    /// <summary>relu(x) = max(x, 0).</summary>
    Relu,
}

public sealed record CallValue(ElementType Type, BuiltinFunction Function, ImmutableArray<ValueExpr> Arguments) : ValueExpr(Type);

public sealed record CastValue(ElementType Type, ValueExpr Operand) : ValueExpr(Type);
