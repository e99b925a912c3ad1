using System.Collections.Immutable;
using Covenant.Codelets;
using Covenant.Codelets.Semantics;
using Covenant.Codelets.Syntax;

namespace Covenant.Mapping.Analysis;

/// <summary>
/// The accumulation at the heart of a codelet: <c>Acc[..] += A[..] * B[..]</c> in nest <see cref="NestIndex"/>,
/// with the epilogue nests that turn the accumulator into the output (if any).
/// </summary>
public sealed record AccumulationNest(
    int NestIndex,
    LoopNestInstance Nest,
    AccessInstance Accumulator,
    AccessInstance Left,
    AccessInstance Right,
    Epilogue? Epilogue)
{
    /// <summary>Whether loop <paramref name="loop"/> of the nest appears in any index of <paramref name="access"/>.</summary>
    public static bool Uses(AccessInstance access, int loop) =>
        access.Indices.Any(index => index.Coefficients[loop] != 0);
}

/// <summary>
/// The element-wise nest after the accumulation: <c>Out[idx] = f(Acc[idx], ...)</c> where f is a chain of
/// steps on the accumulator (<see cref="Steps"/>, in application order) and a final narrowing to the output type.
/// </summary>
public sealed record Epilogue(int NestIndex, string Output, ElementType OutputType, ImmutableArray<EpilogueOperation> Steps);

/// <summary>One step: <c>acc = Op(acc, operand)</c> with an immediate or a tensor element.</summary>
public sealed record EpilogueOperation(Model.EpilogueOp Op, long? Immediate, string? Tensor);

public static class AccumulationFinder
{
    /// <summary>
    /// Finds the accumulation nest and its epilogue. Returns an explanation instead when the codelet has no
    /// such nest or has nests the mapper cannot place.
    /// </summary>
    public static (AccumulationNest? Nest, string? Problem) Find(CodeletInstance instance)
    {
        AccumulationNest? best = null;
        long bestWork = -1;
        for (var n = 0; n < instance.Nests.Length; n++)
        {
            var nest = instance.Nests[n];
            if (nest.Statements.Length != 1 || nest.Statements[0].Kind != AssignKind.Accumulate)
            {
                continue;
            }

            var statement = nest.Statements[0];
            if (StripCasts(statement.Value) is BinaryValue { Op: BinaryOp.Multiply } product
                && StripCasts(product.Left) is LoadValue left
                && StripCasts(product.Right) is LoadValue right)
            {
                var work = nest.Loops.Aggregate(1L, (p, l) => p * l.Extent);
                if (work > bestWork)
                {
                    best = new AccumulationNest(n, nest, statement.Target, left.Access, right.Access, null);
                    bestWork = work;
                }
            }
        }

        if (best is null)
        {
            return (null, $"codelet '{instance.Name}' has no nest of the form 'acc[...] += a[...] * b[...]' that a " +
                "multiply-accumulate capability could run");
        }

        var accumulator = instance.Tensors[best.Accumulator.Tensor];
        Epilogue? epilogue = null;
        for (var n = 0; n < instance.Nests.Length; n++)
        {
            if (n == best.NestIndex)
            {
                continue;
            }

            var (found, problem) = FindEpilogue(instance, n, best.Accumulator.Tensor);
            if (problem is not null)
            {
                return (null, problem);
            }

            if (epilogue is not null)
            {
                return (null, $"codelet '{instance.Name}' has more than one epilogue nest; only one can be fused");
            }

            epilogue = found;
        }

        if (epilogue is null && accumulator.Role != TensorRole.Output)
        {
            return (null, $"the accumulator '{accumulator.Name}' of codelet '{instance.Name}' is never stored to an output");
        }

        return (best with { Epilogue = epilogue }, null);
    }

    private static (Epilogue? Epilogue, string? Problem) FindEpilogue(CodeletInstance instance, int nestIndex, int accumulator)
    {
        var nest = instance.Nests[nestIndex];
        var where = $"nest {nestIndex + 1} of codelet '{instance.Name}'";
        if (nest.Statements.Length != 1 || nest.Statements[0].Kind != AssignKind.Assign)
        {
            return (null, $"{where} is neither the accumulation nor a single element-wise assignment, so the mapper cannot place it");
        }

        var statement = nest.Statements[0];
        var output = instance.Tensors[statement.Target.Tensor];
        var steps = ImmutableArray.CreateBuilder<EpilogueOperation>();
        var value = statement.Value;
        var outputType = output.ElementType;

        // A cast to the output type at the root is the store's narrowing, which hardware does on the way out.
        if (value is CastValue cast && cast.Type == outputType)
        {
            value = cast.Operand;
        }

        var problem = Peel(value, statement.Target, accumulator, instance, steps);
        if (problem is not null)
        {
            return (null, $"{where}: {problem}");
        }

        return (new Epilogue(nestIndex, output.Name, outputType, Fold(steps.ToImmutable())), null);
    }

    // Walks from the root towards the accumulator load, collecting the steps applied to it (innermost first).
    private static string? Peel(ValueExpr value, AccessInstance target, int accumulator, CodeletInstance instance,
        ImmutableArray<EpilogueOperation>.Builder steps)
    {
        switch (value)
        {
            case LoadValue load when load.Access.Tensor == accumulator:
                return SameIndices(load.Access, target)
                    ? null
                    : "the accumulator is read at other indices than the output is written";
            case CastValue { Type: ElementType.I32 } widen:
                return Peel(widen.Operand, target, accumulator, instance, steps);
            case CallValue { Function: BuiltinFunction.Relu } relu:
                return Then(relu.Arguments[0], new EpilogueOperation(Model.EpilogueOp.Max, 0, null));
            case CallValue { Function: BuiltinFunction.Clip } clip:
            {
                if (Constant(clip.Arguments[1]) is not { } low || Constant(clip.Arguments[2]) is not { } high)
                {
                    return "clip bounds must be constants";
                }

                var inner = Peel(clip.Arguments[0], target, accumulator, instance, steps);
                steps.Add(new EpilogueOperation(Model.EpilogueOp.Max, low, null));
                steps.Add(new EpilogueOperation(Model.EpilogueOp.Min, high, null));
                return inner;
            }

            case CallValue { Function: BuiltinFunction.Max or BuiltinFunction.Min } call:
                return Binary(call.Function == BuiltinFunction.Max ? Model.EpilogueOp.Max : Model.EpilogueOp.Min,
                    call.Arguments[0], call.Arguments[1], commutative: true);
            case BinaryValue { Op: BinaryOp.Add } add:
                return Binary(Model.EpilogueOp.Add, add.Left, add.Right, commutative: true);
            case BinaryValue { Op: BinaryOp.Subtract } subtract when Constant(subtract.Right) is { } c:
                return Then(subtract.Left, new EpilogueOperation(Model.EpilogueOp.Add, -c, null));
            case BinaryValue { Op: BinaryOp.ShiftRight } shift when Constant(shift.Right) is { } amount:
                return Then(shift.Left, new EpilogueOperation(Model.EpilogueOp.ShiftRight, amount, null));
            default:
                return $"the epilogue operation '{Describe(value)}' has no element-wise capability form " +
                    "(supported: + constant or tensor, - constant, >> constant, max, min, clip, relu, and a final cast)";
        }

        string? Then(ValueExpr inner, EpilogueOperation step)
        {
            var problem = Peel(inner, target, accumulator, instance, steps);
            steps.Add(step);
            return problem;
        }

        string? Binary(Model.EpilogueOp op, ValueExpr left, ValueExpr right, bool commutative)
        {
            var (chain, operand) = ContainsAccumulator(left, accumulator) ? (left, right)
                : commutative && ContainsAccumulator(right, accumulator) ? (right, left)
                : (left, right);
            if (Constant(operand) is { } c)
            {
                return Then(chain, new EpilogueOperation(op, c, null));
            }

            if (StripCasts(operand) is LoadValue load && load.Access.Tensor != accumulator)
            {
                return Then(chain, new EpilogueOperation(op, null, instance.Tensors[load.Access.Tensor].Name));
            }

            return $"the operand '{Describe(operand)}' of an epilogue step must be a constant or a tensor element";
        }
    }

    // max(max(x, a), b) = max(x, max(a, b)), and the same for min: relu then clip's lower bound is one step.
    private static ImmutableArray<EpilogueOperation> Fold(ImmutableArray<EpilogueOperation> steps)
    {
        var folded = ImmutableArray.CreateBuilder<EpilogueOperation>();
        foreach (var step in steps)
        {
            if (folded.Count > 0 && folded[^1] is { Tensor: null, Immediate: { } previous } last && last.Op == step.Op
                && step is { Tensor: null, Immediate: { } current } && step.Op is Model.EpilogueOp.Max or Model.EpilogueOp.Min)
            {
                folded[^1] = last with { Immediate = step.Op == Model.EpilogueOp.Max ? Math.Max(previous, current) : Math.Min(previous, current) };
                continue;
            }

            folded.Add(step);
        }

        return folded.ToImmutable();
    }

    private static bool ContainsAccumulator(ValueExpr value, int accumulator) => value switch
    {
        LoadValue load => load.Access.Tensor == accumulator,
        CastValue cast => ContainsAccumulator(cast.Operand, accumulator),
        UnaryValue unary => ContainsAccumulator(unary.Operand, accumulator),
        BinaryValue binary => ContainsAccumulator(binary.Left, accumulator) || ContainsAccumulator(binary.Right, accumulator),
        CallValue call => call.Arguments.Any(a => ContainsAccumulator(a, accumulator)),
        _ => false,
    };

    private static bool SameIndices(AccessInstance a, AccessInstance b) =>
        a.Indices.Length == b.Indices.Length
        && a.Indices.Zip(b.Indices).All(p => p.First.Constant == p.Second.Constant
            && p.First.Coefficients.SequenceEqual(p.Second.Coefficients));

    private static long? Constant(ValueExpr value) => value switch
    {
        ConstantValue { Type: not (ElementType.F16 or ElementType.F32) } c => c.Integer,
        CastValue cast => Constant(cast.Operand),
        UnaryValue { Op: UnaryOp.Negate } negate => -Constant(negate.Operand),
        _ => null,
    };

    public static ValueExpr StripCasts(ValueExpr value) => value is CastValue cast ? StripCasts(cast.Operand) : value;

    private static string Describe(ValueExpr value) => value switch
    {
        BinaryValue b => b.Op.ToString().ToLowerInvariant(),
        CallValue c => c.Function.ToString().ToLowerInvariant(),
        UnaryValue u => u.Op.ToString().ToLowerInvariant(),
        CastValue c => "cast to " + c.Type.Name(),
        _ => value.GetType().Name,
    };
}
