using System.Collections.Immutable;
using System.Globalization;
using Covenant.Codelets.Syntax;
using Covenant.Core.Diagnostics;

namespace Covenant.Codelets.Semantics;

/// <summary>
/// Turns a checked codelet and shape bindings into a <see cref="CodeletInstance"/> (COV31xx). Runs in stages —
/// parameters, derived sizes, tensors, nests — and stops after a stage with errors, since later stages
/// would only repeat them.
/// </summary>
internal sealed class Instantiator
{
    private readonly CheckedCodelet codelet;
    private readonly IReadOnlyDictionary<string, long> bindings;
    private readonly SourceLocation? bindingsLocation;
    private readonly DiagnosticBag diagnostics = new();
    private readonly Dictionary<string, long> sizes = new(StringComparer.Ordinal);
    private readonly List<TensorInstance> tensors = [];
    private readonly ShapeEvaluator evaluator;

    public Instantiator(CheckedCodelet codelet, IReadOnlyDictionary<string, long> bindings, SourceLocation? bindingsLocation)
    {
        this.codelet = codelet;
        this.bindings = bindings;
        this.bindingsLocation = bindingsLocation;
        evaluator = new ShapeEvaluator(sizes, ReportWithBindings);
    }

    public Result<CodeletInstance> Run()
    {
        BindParameters();
        if (!diagnostics.HasErrors)
        {
            EvaluateDerivedSizes();
        }

        if (!diagnostics.HasErrors)
        {
            BuildTensors();
        }

        var nests = diagnostics.HasErrors ? [] : codelet.Nests.Select(BuildNest).OfType<LoopNestInstance>().ToImmutableArray();
        if (diagnostics.HasErrors)
        {
            return Result<CodeletInstance>.Failure(diagnostics.ToImmutable());
        }

        return Result<CodeletInstance>.Success(new CodeletInstance(
            codelet.Name,
            sizes.ToImmutableDictionary(StringComparer.Ordinal),
            [.. tensors],
            nests,
            codelet.Syntax));
    }

    /// <summary>" (shapes bound at suite.yaml(4,5))": instantiation errors depend on the bindings, so say whose.</summary>
    private string BoundAt => bindingsLocation is null ? "" : $" (shapes bound at {bindingsLocation})";

    private void ReportWithBindings(DiagnosticDescriptor descriptor, SourceLocation location, string message) =>
        diagnostics.Report(descriptor, location, message + BoundAt);

    // ---- Parameters and sizes ----

    private void BindParameters()
    {
        var parameters = codelet.ShapeParamNames.ToHashSet(StringComparer.Ordinal);
        var where = bindingsLocation ?? codelet.Syntax.Location;
        foreach (var name in bindings.Keys.Order(StringComparer.Ordinal).Where(n => !parameters.Contains(n)))
        {
            var derived = codelet.DerivedSizes.FirstOrDefault(d => d.Name == name);
            diagnostics.Report(
                CodeletDiagnostics.UnknownBinding,
                where,
                derived is not null
                    ? $"'{name}' is a derived size of codelet '{codelet.Name}' ({name} = {SyntaxPrinter.Print(derived.Value)}); it is computed from the parameters and cannot be bound"
                    : $"'{name}' is not a shape parameter of codelet '{codelet.Name}'{Suggestions.DidYouMean(name, parameters)}; its parameters are {ParameterList()}");
        }

        foreach (var parameter in codelet.ShapeParams)
        {
            if (bindings.TryGetValue(parameter.Name, out var bound))
            {
                sizes[parameter.Name] = bound;
            }
            else if (parameter.Default is not null)
            {
                if (evaluator.Evaluate(parameter.Default, $"the default of '{parameter.Name}'") is { } value)
                {
                    sizes[parameter.Name] = value;
                }
            }
            else
            {
                diagnostics.Report(
                    CodeletDiagnostics.MissingBinding,
                    bindingsLocation ?? parameter.Location,
                    $"missing shape binding for '{parameter.Name}': codelet '{codelet.Name}' needs {string.Join(", ", codelet.RequiredShapeParams)}");
            }
        }
    }

    private string ParameterList() =>
        string.Join(", ", codelet.ShapeParams.Select(p => p.Default is null ? p.Name : $"{p.Name} = {SyntaxPrinter.Print(p.Default)}"));

    private void EvaluateDerivedSizes()
    {
        foreach (var derived in codelet.DerivedSizes)
        {
            var what = $"derived size '{derived.Name}'";
            if (evaluator.Evaluate(derived.Value, what) is not { } value)
            {
                continue;
            }

            if (value < 1)
            {
                ReportWithBindings(
                    CodeletDiagnostics.SizeNotPositive,
                    derived.Location,
                    $"{what} = {SyntaxPrinter.Print(derived.Value)} is {value}{evaluator.With(derived.Value)}; it must be at least 1");
            }

            sizes[derived.Name] = value;
        }
    }

    private void BuildTensors()
    {
        foreach (var tensor in codelet.Tensors)
        {
            var shape = ImmutableArray.CreateBuilder<int>();
            for (var d = 0; d < tensor.Dims.Length; d++)
            {
                var dim = tensor.Dims[d];
                if (Extent(dim, $"dimension {d + 1} of '{tensor.Name}'") is { } extent)
                {
                    shape.Add(extent);
                }
            }

            if (shape.Count != tensor.Dims.Length)
            {
                continue;
            }

            Int128 elements = 1;
            foreach (var extent in shape)
            {
                elements *= extent;
                if (elements > CheckedCodelet.MaxTensorElements)
                {
                    ReportWithBindings(
                        CodeletDiagnostics.TensorTooLarge,
                        tensor.Syntax.Location,
                        $"tensor '{tensor.Name}' of shape [{string.Join(", ", shape)}] has more than 2^31 elements, the most a tensor may have");
                    break;
                }
            }

            tensors.Add(new TensorInstance(tensor.Name, tensor.Role, tensor.ElementType, shape.ToImmutable(), tensor.Modifiers));
        }
    }

    /// <summary>A size that must be in 1..int.MaxValue (a dimension or a written loop extent); null after an error.</summary>
    private int? Extent(ExprSyntax expression, string what)
    {
        if (evaluator.Evaluate(expression, what) is not { } value)
        {
            return null;
        }

        if (value < 1)
        {
            ReportWithBindings(
                CodeletDiagnostics.SizeNotPositive,
                expression.Location,
                $"{what} = {SyntaxPrinter.Print(expression)} is {value}{evaluator.With(expression)}; it must be at least 1");
            return null;
        }

        if (value > int.MaxValue)
        {
            ReportWithBindings(
                CodeletDiagnostics.ShapeOverflow,
                expression.Location,
                $"{what} = {SyntaxPrinter.Print(expression)} is {value}{evaluator.With(expression)}, more than 2^31 - 1");
            return null;
        }

        return (int)value;
    }

    // ---- Loop nests ----

    private LoopNestInstance? BuildNest(BoundNest nest)
    {
        var loops = ImmutableArray.CreateBuilder<LoopInstance>();
        foreach (var loop in nest.Loops)
        {
            if (LoopExtent(loop) is { } extent)
            {
                loops.Add(new LoopInstance(loop.Name, extent));
            }
        }

        if (loops.Count != nest.Loops.Length)
        {
            return null;
        }

        var scope = new LoopScope(nest, loops.ToImmutable());
        var statements = ImmutableArray.CreateBuilder<StatementInstance>();
        foreach (var statement in nest.Statements)
        {
            var target = BuildAccess(statement.Target, scope, isWrite: true);
            var value = BuildValue(statement.Value, scope);
            if (target is not null && value is not null)
            {
                statements.Add(new StatementInstance(target, statement.Kind, value, statement.Syntax));
            }
        }

        return statements.Count == nest.Statements.Length ? new LoopNestInstance(scope.Loops, statements.ToImmutable()) : null;
    }

    private int? LoopExtent(BoundLoop loop)
    {
        if (loop.Extent is not null)
        {
            return Extent(loop.Extent, $"the extent of loop '{loop.Name}'");
        }

        var candidates = loop.InferredFrom
            .Select(source => (Source: source, Extent: tensors[source.Tensor].Shape[source.Dimension]))
            .ToList();
        if (candidates.Count == 0)
        {
            return null; // The checker has reported it; a checked codelet never gets here.
        }

        if (candidates.Select(c => c.Extent).Distinct().Count() > 1)
        {
            var listed = candidates
                .DistinctBy(c => (c.Source.Tensor, c.Source.Dimension))
                .Select(c => $"dimension {c.Source.Dimension + 1} of '{tensors[c.Source.Tensor].Name}' ({SyntaxPrinter.Print(codelet.Tensors[c.Source.Tensor].Dims[c.Source.Dimension])}) is {c.Extent} at {c.Source.Access.Location}");
            ReportWithBindings(
                CodeletDiagnostics.InconsistentExtents,
                loop.Syntax.Location,
                $"the extent of loop '{loop.Name}' is inferred from dimensions that disagree: {string.Join("; ", listed)}; " +
                $"fix the shapes or write '{loop.Name} in EXTENT'");
            return null;
        }

        return candidates[0].Extent;
    }

    /// <summary>The loops of the nest being built: their names (to find a variable's position) and extents.</summary>
    private sealed class LoopScope(BoundNest nest, ImmutableArray<LoopInstance> loops)
    {
        public ImmutableArray<LoopInstance> Loops { get; } = loops;

        public Dictionary<string, int> Positions { get; } =
            nest.Loops.Select((loop, i) => (loop.Name, i)).DistinctBy(p => p.Name).ToDictionary(p => p.Name, p => p.i, StringComparer.Ordinal);
    }

    private AccessInstance? BuildAccess(BoundAccess access, LoopScope scope, bool isWrite)
    {
        var tensor = tensors[access.Tensor];
        var indices = ImmutableArray.CreateBuilder<AffineIndex>();
        for (var d = 0; d < access.Indices.Length; d++)
        {
            var expression = access.Indices[d];
            if (Affine(expression, scope, tensor.Name) is not { } index)
            {
                continue;
            }

            CheckBounds(index, expression, d, access.Tensor, scope, isWrite);
            indices.Add(index);
        }

        return indices.Count == access.Indices.Length ? new AccessInstance(access.Tensor, indices.ToImmutable()) : null;
    }

    /// <summary>The index as <c>constant + Σ coefficient·loop</c> with numbers; the checker guarantees it is affine.</summary>
    private AffineIndex? Affine(ExprSyntax expression, LoopScope scope, string tensor)
    {
        try
        {
            if (Linear(expression, scope) is not var (constant, coefficients))
            {
                return null;
            }

            return new AffineIndex(constant, [.. coefficients]);
        }
        catch (OverflowException)
        {
            ReportWithBindings(
                CodeletDiagnostics.ShapeOverflow,
                expression.Location,
                $"index '{SyntaxPrinter.Print(expression)}' of '{tensor}' overflows 64-bit arithmetic{evaluator.With(expression)}");
            return null;
        }
    }

    private (long Constant, long[] Coefficients)? Linear(ExprSyntax expression, LoopScope scope)
    {
        if (!expression.NamesIn().Any(scope.Positions.ContainsKey))
        {
            return evaluator.Evaluate(expression, "index") is { } value ? (value, new long[scope.Loops.Length]) : null;
        }

        switch (expression)
        {
            case NameSyntax name:
                var unit = new long[scope.Loops.Length];
                unit[scope.Positions[name.Name]] = 1;
                return (0, unit);
            case UnarySyntax unary:
                return Linear(unary.Operand, scope) is var (c, k) ? (checked(-c), k.Select(x => checked(-x)).ToArray()) : null;
            case BinarySyntax { Op: BinaryOp.Add or BinaryOp.Subtract } binary:
                if (Linear(binary.Left, scope) is not var (lc, lk) || Linear(binary.Right, scope) is not var (rc, rk))
                {
                    return null;
                }

                var sign = binary.Op == BinaryOp.Add ? 1 : -1;
                return (checked(lc + (sign * rc)), lk.Zip(rk, (l, r) => checked(l + (sign * r))).ToArray());
            case BinarySyntax { Op: BinaryOp.Multiply } binary:
                // One factor is loop-free (the checker made sure); scale the other by its value.
                var leftIsFactor = !binary.Left.NamesIn().Any(scope.Positions.ContainsKey);
                var (factorExpression, term) = leftIsFactor ? (binary.Left, binary.Right) : (binary.Right, binary.Left);
                if (evaluator.Evaluate(factorExpression, "index") is not { } factor || Linear(term, scope) is not var (tc, tk))
                {
                    return null;
                }

                return (checked(factor * tc), tk.Select(x => checked(factor * x)).ToArray());
            default:
                throw new InvalidOperationException($"index '{SyntaxPrinter.Print(expression)}' passed the checker but is not affine");
        }
    }

    private void CheckBounds(AffineIndex index, ExprSyntax expression, int dimension, int tensorIndex, LoopScope scope, bool isWrite)
    {
        var tensor = tensors[tensorIndex];
        // Exact in 128 bits: coefficients and extents are each below 2^63.
        Int128 min = index.Constant, max = index.Constant;
        for (var i = 0; i < index.Coefficients.Length; i++)
        {
            var term = (Int128)index.Coefficients[i] * (scope.Loops[i].Extent - 1);
            min += Int128.Min(0, term);
            max += Int128.Max(0, term);
        }

        var range = string.Create(CultureInfo.InvariantCulture, $"[{min}, {max}]");
        var text = SyntaxPrinter.Print(expression);
        if (min < int.MinValue || max > int.MaxValue)
        {
            ReportWithBindings(
                CodeletDiagnostics.ShapeOverflow,
                expression.Location,
                $"index '{text}' of '{tensor.Name}' ranges over {range}, beyond 32 bits");
            return;
        }

        var extent = tensor.Shape[dimension];
        if (min >= 0 && max < extent)
        {
            return;
        }

        var allowed = isWrite ? tensor.Cropped : tensor.Padded;
        if (!allowed)
        {
            ReportWithBindings(
                CodeletDiagnostics.IndexOutOfBounds,
                expression.Location,
                $"{(isWrite ? "write" : "read")} index '{text}' of '{tensor.Name}' ranges over {range}, outside dimension {dimension + 1} " +
                $"({SyntaxPrinter.Print(codelet.Tensors[tensorIndex].Dims[dimension])} = {extent}, valid 0..{extent - 1}); " +
                (isWrite
                    ? $"declare '{tensor.Name}' cropped if writes outside it should be discarded"
                    : $"declare '{tensor.Name}' padded if reads outside it should give zero"));
        }
    }

    // ---- Values ----

    private ValueExpr? BuildValue(BoundValue value, LoopScope scope)
    {
        switch (value)
        {
            case BoundShapeConstant constant:
                if (evaluator.Evaluate(constant.Expression, "value") is not { } number)
                {
                    return null;
                }

                if (number is < int.MinValue or > int.MaxValue)
                {
                    ReportWithBindings(
                        CodeletDiagnostics.ShapeOverflow,
                        constant.Location,
                        $"value '{SyntaxPrinter.Print(constant.Expression)}' is {number}{evaluator.With(constant.Expression)}, which does not fit i32");
                    return null;
                }

                return new ConstantValue(ElementType.I32, number, 0);
            case BoundFloatConstant constant:
                return new ConstantValue(ElementType.F32, 0, constant.Value);
            case BoundLoopVar loop:
                return new LoopVarValue(loop.Loop);
            case BoundLoad load:
                return BuildAccess(load.Access, scope, isWrite: false) is { } access ? new LoadValue(load.Type, access) : null;
            case BoundUnary unary:
                return BuildValue(unary.Operand, scope) is { } operand ? new UnaryValue(unary.Type, unary.Op, operand) : null;
            case BoundBinary binary:
                var left = BuildValue(binary.Left, scope);
                var right = BuildValue(binary.Right, scope);
                return left is null || right is null ? null : new BinaryValue(binary.Type, binary.Op, left, right);
            case BoundCall call:
                var arguments = call.Arguments.Select(a => BuildValue(a, scope)).ToList();
                return arguments.Any(a => a is null) ? null : new CallValue(call.Type, call.Function, [.. arguments.Select(a => a!)]);
            case BoundCast cast:
                return BuildValue(cast.Operand, scope) is { } inner ? new CastValue(cast.Type, inner) : null;
            default:
                throw new InvalidOperationException($"unexpected bound value {value.GetType().Name}");
        }
    }
}
