using System.Collections.Immutable;
using Covenant.Codelets.Syntax;
using Covenant.Core.Diagnostics;

namespace Covenant.Codelets.Semantics;

// The checker's output for the loop nests: every name resolved, every value typed, every index known to be
// affine. Sizes are still expressions (they depend on the shape bindings); instantiation evaluates them.

/// <summary>A loop nest with its loops and statements resolved.</summary>
internal sealed record BoundNest(ImmutableArray<BoundLoop> Loops, ImmutableArray<BoundStatement> Statements, LoopNestSyntax Syntax);

/// <summary>
/// A loop: its extent is <see cref="Extent"/> when written (<c>v in EXTENT</c>), otherwise the size of every
/// tensor dimension in <see cref="InferredFrom"/> (the dimensions it indexes alone), which must agree.
/// </summary>
internal sealed record BoundLoop(string Name, ExprSyntax? Extent, ImmutableArray<ExtentSource> InferredFrom, LoopVarSyntax Syntax);

/// <summary>Dimension <see cref="Dimension"/> of tensor <see cref="Tensor"/>, indexed by a lone loop variable at <see cref="Access"/>.</summary>
internal sealed record ExtentSource(int Tensor, int Dimension, AccessSyntax Access);

internal sealed record BoundStatement(BoundAccess Target, AssignKind Kind, BoundValue Value, StatementSyntax Syntax);

/// <summary>An access; each index is an integer expression affine in the nest's loop variables.</summary>
internal sealed record BoundAccess(int Tensor, ImmutableArray<ExprSyntax> Indices, AccessSyntax Syntax);

internal abstract record BoundValue(ElementType Type, SourceLocation Location);

/// <summary>A loop-free integer expression (literals, shape names, shape arithmetic), folded to an i32 constant when instantiated.</summary>
internal sealed record BoundShapeConstant(ExprSyntax Expression) : BoundValue(ElementType.I32, Expression.Location);

internal sealed record BoundFloatConstant(double Value, SourceLocation Location) : BoundValue(ElementType.F32, Location);

internal sealed record BoundLoopVar(int Loop, SourceLocation Location) : BoundValue(ElementType.I32, Location);

internal sealed record BoundLoad(ElementType Type, BoundAccess Access) : BoundValue(Type, Access.Syntax.Location);

internal sealed record BoundUnary(ElementType Type, UnaryOp Op, BoundValue Operand, SourceLocation Location) : BoundValue(Type, Location);

internal sealed record BoundBinary(ElementType Type, BinaryOp Op, BoundValue Left, BoundValue Right, SourceLocation Location)
    : BoundValue(Type, Location);

internal sealed record BoundCall(ElementType Type, BuiltinFunction Function, ImmutableArray<BoundValue> Arguments, SourceLocation Location)
    : BoundValue(Type, Location);

internal sealed record BoundCast(ElementType Type, BoundValue Operand, SourceLocation Location) : BoundValue(Type, Location);
