using System.Collections.Immutable;
using Covenant.Codelets.Syntax;
using Covenant.Core.Diagnostics;

namespace Covenant.Codelets.Semantics;

/// <summary>
/// A tensor of a checked codelet. <see cref="Dims"/> are shape expressions over the shape parameters and
/// derived sizes, already checked to be integer and to use only names declared for them.
/// </summary>
public sealed record CheckedTensor(
    string Name,
    TensorRole Role,
    ElementType ElementType,
    ImmutableArray<ExprSyntax> Dims,
    TensorModifiers Modifiers,
    TensorSyntax Syntax);

/// <summary>
/// A codelet whose names are resolved and whose types, shape expressions and affine indices are checked,
/// but whose shape parameters are still free. <see cref="Instantiate"/> binds them.
/// </summary>
public sealed record CheckedCodelet
{
    /// <summary>No tensor may have more elements than this (2^31); larger shapes are reported, not allocated.</summary>
    public const long MaxTensorElements = 1L << 31;

    internal CheckedCodelet(CodeletSyntax syntax, ImmutableArray<CheckedTensor> tensors, ImmutableArray<BoundNest> nests)
    {
        Syntax = syntax;
        Tensors = tensors;
        Nests = nests;
    }

    public CodeletSyntax Syntax { get; }

    public string Name => Syntax.Name;

    /// <summary>The shape parameters in declaration order; <see cref="ShapeParamSyntax.Default"/> is null for required ones.</summary>
    public ImmutableArray<ShapeParamSyntax> ShapeParams => Syntax.ShapeParams;

    public IEnumerable<string> ShapeParamNames => ShapeParams.Select(p => p.Name);

    /// <summary>The parameters a binding must give (those without a default).</summary>
    public IEnumerable<string> RequiredShapeParams => ShapeParams.Where(p => p.Default is null).Select(p => p.Name);

    /// <summary>Sizes computed from the parameters (<c>where P = ...</c>), in order.</summary>
    public ImmutableArray<DerivedSizeSyntax> DerivedSizes => Syntax.DerivedSizes;

    /// <summary>Inputs, then outputs, then locals, each in declaration order (the order of <see cref="CodeletInstance.Tensors"/>).</summary>
    public ImmutableArray<CheckedTensor> Tensors { get; }

    public IEnumerable<CheckedTensor> Inputs => Tensors.Where(t => t.Role == TensorRole.Input);

    public IEnumerable<CheckedTensor> Outputs => Tensors.Where(t => t.Role == TensorRole.Output);

    internal ImmutableArray<BoundNest> Nests { get; }

    /// <summary>
    /// Binds the shape parameters (the others take their defaults, which may use earlier parameters),
    /// evaluates the derived sizes, builds the instance (affine indices with concrete coefficients, typed
    /// values) and checks every index against its dimension. <paramref name="bindingsLocation"/> is where the
    /// bindings came from (a suite file line), if anywhere; diagnostics about the bindings point there.
    /// </summary>
    public Result<CodeletInstance> Instantiate(IReadOnlyDictionary<string, long> bindings, SourceLocation? bindingsLocation = null) =>
        Guard.Run(Syntax.Location, () => new Instantiator(this, bindings, bindingsLocation).Run());
}
