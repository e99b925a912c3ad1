using System.Linq.Expressions;
using Covenant.Codelets.Semantics;

namespace Covenant.Runtime.Reference;

// What NestCompiler decides about a nest before it emits code: how each access is compiled, which affine values
// are kept up to date through the loops, and which target lives in a register.

/// <summary>Whether an access needs a bounds check: never out of bounds, checked per iteration, or never inside.</summary>
internal enum AccessValidity
{
    Always,
    Checked,
    Never,
}

/// <summary>An affine function of the loop variables and the expression holding its current value.</summary>
internal sealed class TrackedValue(long[] coefficients, Expression current)
{
    public long[] Coefficients { get; } = coefficients;

    public Expression Current { get; set; } = current;
}

/// <summary>How one access is compiled: its array, its flat offset, and when it is inside the tensor.</summary>
internal sealed class AccessPlan(TensorInstance tensor, ParameterExpression array, TrackedValue offset)
{
    public TensorInstance Tensor { get; } = tensor;

    public ParameterExpression Array { get; } = array;

    public TrackedValue Offset { get; } = offset;

    public AccessValidity AccessValidity { get; set; } = AccessValidity.Always;

    public List<(TrackedValue Index, int Extent)> CheckedDims { get; set; } = [];

    public int CheckLevel { get; set; } = -1;

    public ParameterExpression? IsValid { get; set; }

    /// <summary>The local holding the element, loaded once per iteration of <see cref="HoistLevel"/>.</summary>
    public ParameterExpression? Hoisted { get; set; }

    public int HoistLevel { get; set; } = -1;
}

internal sealed record RegisterPromotion(int Level, AccessPlan Target, ParameterExpression Register);
