using Covenant.Codelets.Syntax;
using Covenant.Core.Diagnostics;
using Covenant.Mapping.Model;
using Covenant.Runtime.Vta;

namespace Covenant.Targets.Vta.Lowering;

/// <summary>
/// What every lowering step may read: the mapping, its GEMM view, the configuration and the options. Immutable; the
/// steps' own results travel separately (see <see cref="VtaLowering"/> for the order). It also knows where the codelet
/// and YAML elements are, so each step can position its errors on the element that caused them.
/// </summary>
internal sealed record LoweringContext(LayerMapping Mapping, GemmView Gemm, VtaConfig Config, VtaLoweringOptions Options)
{
    public string CodeletName => Mapping.Instance.Name;

    /// <summary>The access of <paramref name="tensor"/> in the accumulation (its first one), else the tensor's declaration.</summary>
    public SourceLocation AccessLocation(string tensor) => AccessLocation(Gemm.Statement.Syntax, tensor);

    /// <summary>The access of <paramref name="tensor"/> in <paramref name="statement"/> (target first), else the tensor's declaration.</summary>
    public SourceLocation AccessLocation(StatementSyntax statement, string tensor)
    {
        ArgumentNullException.ThrowIfNull(statement);
        if (statement.Target.Tensor == tensor)
        {
            return statement.Target.Location;
        }

        return statement.Value.DescendantsAndSelf().OfType<AccessSyntax>().FirstOrDefault(a => a.Tensor == tensor)?.Location
            ?? Mapping.Instance.TensorLocation(tensor);
    }

    public SourceLocation TensorLocation(string tensor) => Mapping.Instance.TensorLocation(tensor);

    /// <summary>The variable <paramref name="loop"/> of the main nest, else the nest.</summary>
    public SourceLocation LoopLocation(string loop) => Mapping.Instance.LoopLocation(Mapping.NestIndex, loop);

    public SourceLocation NestLocation(int nest) => Mapping.Instance.NestLocation(nest);

    public SourceLocation CodeletLocation => Mapping.Instance.Syntax.Location;

    public static Result<T> Fail<T>(DiagnosticDescriptor descriptor, SourceLocation location, string message)
        where T : class => Result<T>.Failure(descriptor.Create(location, message));
}
