using Covenant.Codelets.Semantics;
using Covenant.Core.Diagnostics;

namespace Covenant.Targets;

/// <summary>
/// Where a target's diagnostic points in the codelet source: the declaration of the tensor, or the statement of the
/// nest, that a problem is about. An instance keeps its syntax, so every element of it has a position.
/// </summary>
public static class CodeletLocations
{
    /// <summary>The declaration of <paramref name="tensor"/> (an input, output or local); the codelet's when absent.</summary>
    public static SourceLocation Of(this CodeletInstance instance, TensorInstance tensor)
    {
        ArgumentNullException.ThrowIfNull(instance);
        ArgumentNullException.ThrowIfNull(tensor);
        var syntax = instance.Syntax;
        return syntax.Inputs.Concat(syntax.Outputs).Concat(syntax.Locals).FirstOrDefault(t => t.Name == tensor.Name)?.Location
            ?? syntax.Location;
    }

    /// <summary>The (first) statement of nest <paramref name="nestIndex"/>; the codelet's when the nest has none.</summary>
    public static SourceLocation OfNest(this CodeletInstance instance, int nestIndex)
    {
        ArgumentNullException.ThrowIfNull(instance);
        var nest = instance.Nests[nestIndex];
        return nest.Statements.IsEmpty ? instance.Syntax.Location : nest.Statements[0].Syntax.Location;
    }
}
