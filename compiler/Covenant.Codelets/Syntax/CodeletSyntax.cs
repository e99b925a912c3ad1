using System.Collections.Immutable;
using Covenant.Core.Diagnostics;

namespace Covenant.Codelets.Syntax;

// The syntax tree of a codelet file, exactly as written: names are not yet resolved and shapes are
// still expressions. Every node carries the location of its first character.

public abstract record SyntaxNode(SourceLocation Location);

/// <summary>
/// <c>codelet NAME&lt;shape params&gt;(inputs) -&gt; outputs where derived sizes { locals; loop nests }</c>.
/// </summary>
public sealed record CodeletSyntax(
    string Name,
    ImmutableArray<ShapeParamSyntax> ShapeParams,
    ImmutableArray<TensorSyntax> Inputs,
    ImmutableArray<TensorSyntax> Outputs,
    ImmutableArray<DerivedSizeSyntax> DerivedSizes,
    ImmutableArray<TensorSyntax> Locals,
    ImmutableArray<LoopNestSyntax> Nests,
    SourceLocation Location) : SyntaxNode(Location);

/// <summary>A shape parameter such as <c>K</c> or <c>stride = 1</c>; a default may name earlier parameters.</summary>
public sealed record ShapeParamSyntax(string Name, ExprSyntax? Default, SourceLocation Location) : SyntaxNode(Location);

/// <summary>A size computed from shape parameters: <c>where P = (H + 2*pad - R) / stride + 1</c>.</summary>
public sealed record DerivedSizeSyntax(string Name, ExprSyntax Value, SourceLocation Location) : SyntaxNode(Location);

[Flags]
public enum TensorModifiers
{
    None = 0,

    /// <summary>Reads outside the tensor yield zero (convolution padding).</summary>
    Padded = 1,

    /// <summary>Writes outside the tensor are discarded (transposed convolution's cropping).</summary>
    Cropped = 2,
}

/// <summary>A tensor: <c>x: i8[N, H, W, C] padded</c>. Used for inputs, outputs and locals.</summary>
public sealed record TensorSyntax(
    string Name,
    ElementType ElementType,
    ImmutableArray<ExprSyntax> Dims,
    TensorModifiers Modifiers,
    SourceLocation Location) : SyntaxNode(Location);

/// <summary><c>for n, p, k in K: statements</c> — a perfect loop nest over the listed variables.</summary>
public sealed record LoopNestSyntax(
    ImmutableArray<LoopVarSyntax> Vars,
    ImmutableArray<StatementSyntax> Statements,
    SourceLocation Location) : SyntaxNode(Location);

/// <summary>A loop variable; without an explicit extent it is inferred from the tensor dimensions it indexes.</summary>
public sealed record LoopVarSyntax(string Name, ExprSyntax? Extent, SourceLocation Location) : SyntaxNode(Location);

public enum AssignKind
{
    /// <summary><c>=</c></summary>
    Assign,

    /// <summary><c>+=</c> into a zero-initialized tensor.</summary>
    Accumulate,
}

/// <summary><c>target[indices] = value</c> or <c>target[indices] += value</c>.</summary>
public sealed record StatementSyntax(AccessSyntax Target, AssignKind Kind, ExprSyntax Value, SourceLocation Location)
    : SyntaxNode(Location);

public abstract record ExprSyntax(SourceLocation Location) : SyntaxNode(Location);

public sealed record IntLiteralSyntax(long Value, SourceLocation Location) : ExprSyntax(Location);

public sealed record FloatLiteralSyntax(double Value, SourceLocation Location) : ExprSyntax(Location);

/// <summary>A shape parameter, derived size or loop variable.</summary>
public sealed record NameSyntax(string Name, SourceLocation Location) : ExprSyntax(Location);

/// <summary><c>x[n, p*stride + r - pad, c]</c></summary>
public sealed record AccessSyntax(string Tensor, ImmutableArray<ExprSyntax> Indices, SourceLocation Location)
    : ExprSyntax(Location);

public enum UnaryOp
{
    Negate,
}

public sealed record UnarySyntax(UnaryOp Op, ExprSyntax Operand, SourceLocation Location) : ExprSyntax(Location);

public enum BinaryOp
{
    Add,
    Subtract,
    Multiply,

    /// <summary>Integer division rounding toward negative infinity; shape expressions only.</summary>
    Divide,

    /// <summary>Remainder matching <see cref="Divide"/> (never negative for a positive divisor); shape expressions only.</summary>
    Modulo,
    ShiftLeft,

    /// <summary>Arithmetic shift right.</summary>
    ShiftRight,
}

public sealed record BinarySyntax(BinaryOp Op, ExprSyntax Left, ExprSyntax Right, SourceLocation Location)
    : ExprSyntax(Location);

/// <summary>A built-in function: <c>max(a, b)</c>, <c>min(a, b)</c>, <c>clip(x, lo, hi)</c>, <c>relu(x)</c>.</summary>
public sealed record CallSyntax(string Function, ImmutableArray<ExprSyntax> Arguments, SourceLocation Location)
    : ExprSyntax(Location);

/// <summary>A conversion written as a call to a type name: <c>i8(x)</c>, <c>f32(x)</c>.</summary>
public sealed record CastSyntax(ElementType Target, ExprSyntax Operand, SourceLocation Location) : ExprSyntax(Location);
