namespace Covenant.Codelets.Syntax;

/// <summary>Walks over syntax trees. Iterative where depth is unbounded, so no input can exhaust the stack.</summary>
public static class SyntaxQueries
{
    public static IEnumerable<ExprSyntax> Children(this ExprSyntax expression) => expression switch
    {
        AccessSyntax a => a.Indices,
        UnarySyntax u => [u.Operand],
        BinarySyntax b => [b.Left, b.Right],
        CallSyntax c => c.Arguments,
        CastSyntax c => [c.Operand],
        _ => [],
    };

    /// <summary>The expression and everything below it, parents before children (iterative).</summary>
    public static IEnumerable<ExprSyntax> DescendantsAndSelf(this ExprSyntax expression)
    {
        var pending = new Stack<ExprSyntax>();
        pending.Push(expression);
        while (pending.Count > 0)
        {
            var next = pending.Pop();
            yield return next;
            foreach (var child in next.Children().Reverse())
            {
                pending.Push(child);
            }
        }
    }

    /// <summary>The number of nodes on the longest path from the expression to a leaf (iterative).</summary>
    public static int Depth(this ExprSyntax expression)
    {
        var deepest = 0;
        var pending = new Stack<(ExprSyntax Node, int Depth)>();
        pending.Push((expression, 1));
        while (pending.Count > 0)
        {
            var (node, depth) = pending.Pop();
            deepest = Math.Max(deepest, depth);
            foreach (var child in node.Children())
            {
                pending.Push((child, depth + 1));
            }
        }

        return deepest;
    }

    /// <summary>Every top-level expression of a codelet: defaults, derived sizes, dimensions, extents, statements.</summary>
    public static IEnumerable<ExprSyntax> Expressions(this CodeletSyntax codelet)
    {
        foreach (var parameter in codelet.ShapeParams)
        {
            if (parameter.Default is not null)
            {
                yield return parameter.Default;
            }
        }

        foreach (var derived in codelet.DerivedSizes)
        {
            yield return derived.Value;
        }

        foreach (var tensor in codelet.Inputs.Concat(codelet.Outputs).Concat(codelet.Locals))
        {
            foreach (var dim in tensor.Dims)
            {
                yield return dim;
            }
        }

        foreach (var nest in codelet.Nests)
        {
            foreach (var loop in nest.Vars)
            {
                if (loop.Extent is not null)
                {
                    yield return loop.Extent;
                }
            }

            foreach (var statement in nest.Statements)
            {
                yield return statement.Target;
                yield return statement.Value;
            }
        }
    }

    /// <summary>The names an expression mentions (not tensor names of accesses), in order of first appearance.</summary>
    public static IEnumerable<string> NamesIn(this ExprSyntax expression) =>
        expression.DescendantsAndSelf().OfType<NameSyntax>().Select(n => n.Name).Distinct(StringComparer.Ordinal);
}
