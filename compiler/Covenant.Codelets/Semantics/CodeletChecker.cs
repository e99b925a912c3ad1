using System.Collections.Immutable;
using Covenant.Codelets.Parsing;
using Covenant.Codelets.Syntax;
using Covenant.Core.Diagnostics;

namespace Covenant.Codelets.Semantics;

/// <summary>
/// Checks a parsed codelet: names, shape expressions, affine indices, value types and assignments
/// (COV30xx). Reports every error it finds rather than stopping at the first; a subexpression with an
/// error is not checked further, so one mistake gives one message.
/// </summary>
public static class CodeletChecker
{
    public static Result<CheckedCodelet> Check(CodeletSyntax codelet) =>
        Guard.Run(codelet.Location, () => new Checker(codelet).Run());
}

internal enum SymbolKind
{
    ShapeParam,
    DerivedSize,
    Tensor,
    LoopVar,
}

/// <summary>A declared name. <see cref="Index"/> is its position among the declarations of its kind.</summary>
internal sealed record Symbol(string Name, SymbolKind Kind, int Index, SourceLocation Location);

/// <summary>
/// Declarations, shape expressions, loop nests, accesses and indices; statements and their values go to the
/// <see cref="StatementBinder"/>, which calls back here for names, shapes and accesses.
/// </summary>
internal sealed class Checker(CodeletSyntax codelet)
{
    private readonly DiagnosticBag diagnostics = new();
    private readonly Dictionary<string, Symbol> globals = new(StringComparer.Ordinal);
    private readonly List<CheckedTensor> tensors = [];

    public Result<CheckedCodelet> Run()
    {
        DeclareGlobals();
        CheckShapeParams();
        CheckDerivedSizes();
        CheckTensors();
        var binder = new StatementBinder(this, diagnostics, tensors);
        var nests = codelet.Nests.Select(nest => CheckNest(nest, binder)).ToImmutableArray();
        CheckOutputsWritten();
        return diagnostics.HasErrors
            ? Result<CheckedCodelet>.Failure(diagnostics.ToImmutable())
            : Result<CheckedCodelet>.Success(new CheckedCodelet(codelet, [.. tensors], nests), diagnostics.ToImmutable());
    }

    // ---- Declarations ----

    private void DeclareGlobals()
    {
        for (var i = 0; i < codelet.ShapeParams.Length; i++)
        {
            var parameter = codelet.ShapeParams[i];
            Declare(globals, new Symbol(parameter.Name, SymbolKind.ShapeParam, i, parameter.Location));
        }

        // Tensors are numbered inputs, outputs, locals: the order of CodeletInstance.Tensors.
        foreach (var (tensor, role) in codelet.Inputs.Select(t => (t, TensorRole.Input))
                     .Concat(codelet.Outputs.Select(t => (t, TensorRole.Output))))
        {
            DeclareTensor(tensor, role);
        }

        for (var i = 0; i < codelet.DerivedSizes.Length; i++)
        {
            var derived = codelet.DerivedSizes[i];
            Declare(globals, new Symbol(derived.Name, SymbolKind.DerivedSize, i, derived.Location));
        }

        foreach (var local in codelet.Locals)
        {
            DeclareTensor(local, TensorRole.Local);
        }
    }

    private void DeclareTensor(TensorSyntax tensor, TensorRole role)
    {
        Declare(globals, new Symbol(tensor.Name, SymbolKind.Tensor, tensors.Count, tensor.Location));
        tensors.Add(new CheckedTensor(tensor.Name, role, tensor.ElementType, tensor.Dims, tensor.Modifiers, tensor));
    }

    /// <summary>Adds a symbol unless the name is taken; the first declaration wins and the later one is reported.</summary>
    private bool Declare(Dictionary<string, Symbol> scope, Symbol symbol)
    {
        var previous = scope.GetValueOrDefault(symbol.Name) ?? globals.GetValueOrDefault(symbol.Name);
        if (previous is not null)
        {
            diagnostics.Report(
                CodeletDiagnostics.DuplicateName,
                symbol.Location,
                $"'{symbol.Name}' is already declared as {Describe(previous)} at {previous.Location}");
            return false;
        }

        scope[symbol.Name] = symbol;
        return true;
    }

    private string Describe(Symbol symbol) => symbol.Kind switch
    {
        SymbolKind.ShapeParam => "a shape parameter",
        SymbolKind.DerivedSize => "a derived size",
        SymbolKind.LoopVar => "a loop variable",
        _ => tensors[symbol.Index].Role switch
        {
            TensorRole.Input => "an input tensor",
            TensorRole.Output => "an output tensor",
            _ => "a local tensor",
        },
    };

    // ---- Shape expressions: defaults, derived sizes, dimensions, loop extents ----

    private void CheckShapeParams()
    {
        for (var i = 0; i < codelet.ShapeParams.Length; i++)
        {
            var parameter = codelet.ShapeParams[i];
            if (parameter.Default is null)
            {
                continue;
            }

            var index = i;
            CheckShape(parameter.Default, new ShapeContext(
                $"the default of '{parameter.Name}'",
                symbol => symbol.Kind switch
                {
                    SymbolKind.ShapeParam when symbol.Index < index => null,
                    SymbolKind.ShapeParam => $"the default of '{parameter.Name}' refers to '{symbol.Name}', which is declared at or after it; a default may use only earlier parameters",
                    _ => $"the default of '{parameter.Name}' refers to derived size '{symbol.Name}'; a default may use only earlier parameters",
                },
                Nest: null));
        }
    }

    private void CheckDerivedSizes()
    {
        for (var i = 0; i < codelet.DerivedSizes.Length; i++)
        {
            var derived = codelet.DerivedSizes[i];
            var index = i;
            CheckShape(derived.Value, new ShapeContext(
                $"derived size '{derived.Name}'",
                symbol => symbol.Kind == SymbolKind.DerivedSize && symbol.Index >= index
                    ? $"derived size '{derived.Name}' refers to '{symbol.Name}', which is declared at or after it; a derived size may use the parameters and earlier derived sizes"
                    : null,
                Nest: null));
        }
    }

    private void CheckTensors()
    {
        foreach (var tensor in tensors)
        {
            for (var d = 0; d < tensor.Dims.Length; d++)
            {
                CheckShape(tensor.Dims[d], new ShapeContext($"dimension {d + 1} of '{tensor.Name}'", _ => null, Nest: null));
            }

            if (tensor.Role == TensorRole.Input && (tensor.Modifiers & TensorModifiers.Cropped) != 0)
            {
                diagnostics.Report(
                    CodeletDiagnostics.ModifierNotApplicable,
                    tensor.Syntax.Location,
                    $"'cropped' has no effect on input '{tensor.Name}', which is never written; did you mean 'padded' (reads outside give zero)?");
            }
        }
    }

    /// <summary>Checks an integer expression over shape names; true when it has no error.</summary>
    internal bool CheckShape(ExprSyntax expression, ShapeContext context)
    {
        switch (expression)
        {
            case IntLiteralSyntax:
                return true;
            case FloatLiteralSyntax f:
                return Error(CodeletDiagnostics.NotAShapeExpression, f.Location,
                    $"{context.What} must be an integer expression, but {SyntaxPrinter.FormatFloat(f.Value)} is a float");
            case NameSyntax n:
                var symbol = Resolve(n.Name, context.Nest);
                switch (symbol?.Kind)
                {
                    case null:
                        return UnknownName(n.Name, n.Location, context.Nest, s => s.Kind is SymbolKind.ShapeParam or SymbolKind.DerivedSize);
                    case SymbolKind.LoopVar:
                        return Error(CodeletDiagnostics.NotAShapeExpression, n.Location,
                            $"{context.What} cannot depend on loop variable '{n.Name}'");
                    case SymbolKind.Tensor:
                        return Error(CodeletDiagnostics.NotAShapeExpression, n.Location,
                            $"{context.What} cannot use tensor '{n.Name}'; shape expressions use only shape parameters and derived sizes");
                    default:
                        return context.Forbid(symbol) is { } why ? Error(CodeletDiagnostics.ForwardReference, n.Location, why) : true;
                }

            case AccessSyntax a:
                return Error(CodeletDiagnostics.NotAShapeExpression, a.Location,
                    $"{context.What} cannot read tensor '{a.Tensor}'; shape expressions use only shape parameters and derived sizes");
            case CastSyntax c:
                return Error(CodeletDiagnostics.NotAShapeExpression, c.Location,
                    $"{context.What} cannot contain a cast; shape expressions are always integers");
            case UnarySyntax u:
                return CheckShape(u.Operand, context);
            case BinarySyntax b:
                return CheckShape(b.Left, context) & CheckShape(b.Right, context);
            case CallSyntax call:
                return CheckBuiltin(call) is not null & call.Arguments.Aggregate(true, (ok, argument) => CheckShape(argument, context) & ok);
            default:
                return Error(CodeletDiagnostics.NotAShapeExpression, expression.Location, $"{context.What} is not an integer expression");
        }
    }

    // ---- Loop nests ----

    private BoundNest CheckNest(LoopNestSyntax nest, StatementBinder binder)
    {
        var scope = new NestScope(nest);
        for (var i = 0; i < nest.Vars.Length; i++)
        {
            var loop = nest.Vars[i];
            Declare(scope.Loops, new Symbol(loop.Name, SymbolKind.LoopVar, i, loop.Location));
            if (loop.Extent is not null)
            {
                CheckShape(loop.Extent, new ShapeContext($"the extent of loop '{loop.Name}'", _ => null, scope));
            }
        }

        var statements = ImmutableArray.CreateBuilder<BoundStatement>();
        foreach (var statement in nest.Statements)
        {
            if (binder.BindStatement(statement, scope) is { } bound)
            {
                statements.Add(bound);
            }
        }

        var loops = ImmutableArray.CreateBuilder<BoundLoop>();
        for (var i = 0; i < nest.Vars.Length; i++)
        {
            var loop = nest.Vars[i];
            var declared = scope.Loops.TryGetValue(loop.Name, out var symbol) && symbol.Index == i;
            if (declared && loop.Extent is null && scope.Sources[i].Count == 0 && !scope.Excused.Contains(i))
            {
                diagnostics.Report(
                    CodeletDiagnostics.ExtentNotInferable,
                    loop.Location,
                    $"cannot infer the extent of loop '{loop.Name}': it never appears alone as an index of a tensor dimension; write '{loop.Name} in EXTENT'");
            }

            loops.Add(new BoundLoop(loop.Name, loop.Extent, [.. scope.Sources[i]], loop));
        }

        return new BoundNest(loops.ToImmutable(), statements.ToImmutable(), nest);
    }

    /// <summary>Resolves and checks an access: a tensor, the right number of affine indices, not a write to an input.</summary>
    internal BoundAccess? CheckAccess(AccessSyntax access, NestScope scope, bool isWrite)
    {
        var symbol = Resolve(access.Tensor, scope);
        if (symbol is null)
        {
            scope.Excuse(access);
            UnknownName(access.Tensor, access.Location, scope, s => s.Kind == SymbolKind.Tensor);
            return null;
        }

        if (symbol.Kind != SymbolKind.Tensor)
        {
            scope.Excuse(access);
            return Fail<BoundAccess>(CodeletDiagnostics.NotATensor, access.Location,
                $"'{access.Tensor}' is {Describe(symbol)}, not a tensor, so it cannot be indexed");
        }

        var tensor = tensors[symbol.Index];
        var ok = true;
        if (isWrite && tensor.Role == TensorRole.Input)
        {
            ok = Error(CodeletDiagnostics.AssignToInput, access.Location,
                $"'{tensor.Name}' is an input; statements assign only to outputs and 'let' locals");
        }

        if (access.Indices.Length != tensor.Dims.Length)
        {
            scope.Excuse(access);
            return Fail<BoundAccess>(CodeletDiagnostics.WrongIndexCount, access.Location,
                $"'{tensor.Name}' has {Plural(tensor.Dims.Length, "dimension")} but is indexed with {access.Indices.Length}");
        }

        for (var d = 0; d < access.Indices.Length; d++)
        {
            var index = access.Indices[d];
            ok &= CheckIndex(index, scope) is not null;
            if (index is NameSyntax lone && scope.Loops.TryGetValue(lone.Name, out var loop))
            {
                scope.Sources[loop.Index].Add(new ExtentSource(symbol.Index, d, access));
            }
        }

        return ok ? new BoundAccess(symbol.Index, access.Indices, access) : null;
    }

    /// <summary>
    /// Checks that an index is an integer expression affine in the loop variables. Returns whether it depends
    /// on a loop variable, or null after reporting an error.
    /// </summary>
    private bool? CheckIndex(ExprSyntax index, NestScope scope)
    {
        switch (index)
        {
            case IntLiteralSyntax:
                return false;
            case FloatLiteralSyntax f:
                return NotAnIndex(CodeletDiagnostics.TypeMismatch, f.Location,
                    $"an index must be an integer, but {SyntaxPrinter.FormatFloat(f.Value)} is a float");
            case NameSyntax n:
                var symbol = Resolve(n.Name, scope);
                switch (symbol?.Kind)
                {
                    case null:
                        UnknownName(n.Name, n.Location, scope, s => s.Kind != SymbolKind.Tensor);
                        return null;
                    case SymbolKind.Tensor:
                        return NotAnIndex(CodeletDiagnostics.TensorWithoutIndices, n.Location,
                            $"'{n.Name}' is a tensor; an index cannot read tensors");
                    default:
                        return symbol.Kind == SymbolKind.LoopVar;
                }

            case AccessSyntax a:
                return NotAnIndex(CodeletDiagnostics.NonAffineIndex, a.Location,
                    $"an index cannot read tensor '{a.Tensor}' (indirect indexing is not affine)");
            case CastSyntax c:
                return NotAnIndex(CodeletDiagnostics.NonAffineIndex, c.Location, "an index cannot contain a cast; indices are integer expressions");
            case UnarySyntax u:
                return CheckIndex(u.Operand, scope);
            case BinarySyntax b:
                var left = CheckIndex(b.Left, scope);
                var right = CheckIndex(b.Right, scope);
                if (left is null || right is null)
                {
                    return null;
                }

                if (b.Op == BinaryOp.Multiply && left.Value && right.Value)
                {
                    return NotAnIndex(CodeletDiagnostics.NonAffineIndex, b.Location,
                        $"index '{SyntaxPrinter.Print(b)}' multiplies loop variables; an index must be affine (a loop variable times a loop-free factor)");
                }

                if (b.Op is not (BinaryOp.Add or BinaryOp.Subtract or BinaryOp.Multiply) && (left.Value || right.Value))
                {
                    return NotAnIndex(CodeletDiagnostics.NonAffineIndex, b.Location,
                        $"'{SyntaxPrinter.Symbol(b.Op)}' in index '{SyntaxPrinter.Print(b)}' applies to loop variable {LoopVarsIn(b, scope)}; " +
                        "in an index, '/', '%' and shifts are allowed only on loop-free expressions");
                }

                return left.Value || right.Value;
            case CallSyntax call:
                if (CheckBuiltin(call) is null)
                {
                    return null;
                }

                var arguments = call.Arguments.Select(a => CheckIndex(a, scope)).ToList();
                if (arguments.Any(a => a is null))
                {
                    return null;
                }

                return arguments.Any(a => a!.Value)
                    ? NotAnIndex(CodeletDiagnostics.NonAffineIndex, call.Location,
                        $"{call.Function}(...) in an index applies to loop variable {LoopVarsIn(call, scope)}; it is allowed only on loop-free expressions")
                    : false;
            default:
                return NotAnIndex(CodeletDiagnostics.NonAffineIndex, index.Location, "unsupported index expression");
        }
    }

    private static string LoopVarsIn(ExprSyntax expression, NestScope scope) =>
        string.Join(", ", expression.NamesIn().Where(scope.Loops.ContainsKey).Select(n => $"'{n}'"));

    /// <summary>The built-in function a call names, after checking its name and argument count; null after an error.</summary>
    internal BuiltinFunction? CheckBuiltin(CallSyntax call)
    {
        (BuiltinFunction Function, int Arity)? known = call.Function switch
        {
            "max" => (BuiltinFunction.Max, 2),
            "min" => (BuiltinFunction.Min, 2),
            "clip" => (BuiltinFunction.Clip, 3),
            "relu" => (BuiltinFunction.Relu, 1),
            _ => null,
        };
        if (known is null)
        {
            return NoBuiltin(CodeletDiagnostics.UnknownName, call.Location,
                $"unknown function '{call.Function}'{Suggestions.DidYouMean(call.Function, Lexer.Functions)}; the functions are max, min, clip, relu and the casts i8, u8, i32, f16, f32");
        }

        if (call.Arguments.Length != known.Value.Arity)
        {
            return NoBuiltin(CodeletDiagnostics.WrongArgumentCount, call.Location,
                $"{call.Function} takes {Plural(known.Value.Arity, "argument")}, not {call.Arguments.Length}");
        }

        return known.Value.Function;
    }

    private void CheckOutputsWritten()
    {
        var written = codelet.Nests.SelectMany(n => n.Statements).Select(s => s.Target.Tensor).ToHashSet(StringComparer.Ordinal);
        foreach (var output in tensors.Where(t => t.Role == TensorRole.Output && !written.Contains(t.Name)))
        {
            diagnostics.Report(CodeletDiagnostics.OutputNeverWritten, output.Syntax.Location,
                $"output '{output.Name}' is never assigned; every output needs a statement that writes it");
        }
    }

    // ---- Names and reporting ----

    internal Symbol? Resolve(string name, NestScope? scope) =>
        scope is not null && scope.Loops.TryGetValue(name, out var loop) ? loop : globals.GetValueOrDefault(name);

    internal bool UnknownName(string name, SourceLocation location, NestScope? scope, Func<Symbol, bool> fits)
    {
        var candidates = globals.Values.Concat(scope?.Loops.Values ?? Enumerable.Empty<Symbol>()).Where(fits).Select(s => s.Name);
        return Error(CodeletDiagnostics.UnknownName, location, $"unknown name '{name}'{Suggestions.DidYouMean(name, candidates)}");
    }

    private static string Plural(int count, string noun) => count == 1 ? $"1 {noun}" : $"{count} {noun}s";

    /// <summary>Reports an error and returns false, for checks that combine results with '&amp;'.</summary>
    private bool Error(DiagnosticDescriptor descriptor, SourceLocation location, string message)
    {
        diagnostics.Report(descriptor, location, message);
        return false;
    }

    private T? Fail<T>(DiagnosticDescriptor descriptor, SourceLocation location, string message)
        where T : class
    {
        diagnostics.Report(descriptor, location, message);
        return null;
    }

    private bool? NotAnIndex(DiagnosticDescriptor descriptor, SourceLocation location, string message)
    {
        diagnostics.Report(descriptor, location, message);
        return null;
    }

    private BuiltinFunction? NoBuiltin(DiagnosticDescriptor descriptor, SourceLocation location, string message)
    {
        diagnostics.Report(descriptor, location, message);
        return null;
    }
}

/// <param name="What">How messages name the expression ("dimension 2 of 'x'").</param>
/// <param name="Forbid">For a shape symbol, why it may not be used here, or null when it may.</param>
/// <param name="Nest">The enclosing nest for loop extents, whose loop variables are in scope but not allowed.</param>
internal sealed record ShapeContext(string What, Func<Symbol, string?> Forbid, NestScope? Nest);

/// <summary>The loop variables of the nest being checked, and the tensor dimensions each indexes alone.</summary>
internal sealed class NestScope(LoopNestSyntax syntax)
{
    public Dictionary<string, Symbol> Loops { get; } = new(StringComparer.Ordinal);

    public List<ExtentSource>[] Sources { get; } = [.. syntax.Vars.Select(_ => new List<ExtentSource>())];

    /// <summary>
    /// Loops that index alone in an access already reported as wrong (unknown tensor, wrong rank): their
    /// extent is not reported as uninferable too, since fixing the access will likely fix it.
    /// </summary>
    public HashSet<int> Excused { get; } = [];

    public void Excuse(AccessSyntax access)
    {
        foreach (var index in access.Indices)
        {
            if (index is NameSyntax lone && Loops.TryGetValue(lone.Name, out var loop))
            {
                Excused.Add(loop.Index);
            }
        }
    }
}
