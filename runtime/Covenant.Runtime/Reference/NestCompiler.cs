using System.Collections.Immutable;
using System.Linq.Expressions;
using System.Reflection;
using Covenant.Codelets;
using Covenant.Codelets.Semantics;
using Covenant.Codelets.Syntax;
using static Covenant.Runtime.Reference.ScalarExpressions;

namespace Covenant.Runtime.Reference;

/// <summary>
/// Runs iterations [<paramref name="begin"/>, <paramref name="end"/>) of a nest's range loop over the
/// storage of every tensor (indexed like <see cref="CodeletInstance.Tensors"/>; integer tensors in
/// <paramref name="integers"/>, float tensors in <paramref name="floats"/>).
/// </summary>
internal delegate void NestKernel(int[]?[] integers, float[]?[] floats, int begin, int end);

/// <summary>
/// A compiled loop nest. The kernel takes a range of its outermost loop with more than one iteration
/// (<see cref="RangeExtent"/> iterations in all); <see cref="Parallel"/> says that disjoint ranges may run at once.
/// </summary>
internal sealed record CompiledNest(NestKernel Kernel, int RangeExtent, long Iterations, bool Parallel);

/// <summary>
/// Compiles one loop nest of a codelet instance into a delegate (through System.Linq.Expressions, so the
/// JIT turns it into machine code), so the interpreter pays for interpretation once per nest rather than
/// once per element. What the generated code does, and why:
/// <list type="bullet">
/// <item>Every flat offset (and every dimension index that must be bounds-checked) is an affine function
/// of the loop variables, kept in a local and advanced by a constant at the end of each iteration of each
/// loop it depends on — no multiplications, no allocation, no boxing, no look-ups per element.</item>
/// <item>A dimension is bounds-checked only where its range over the loop box (exact for an affine
/// index) leaves the tensor; the check is computed once per iteration of the deepest loop it depends on.
/// Out of bounds, a <c>padded</c> tensor reads 0 and a <c>cropped</c> one drops the write; any other
/// tensor is rejected at compile time, because the access really happens.</item>
/// <item>A single <c>+=</c>/<c>=</c> statement whose target does not depend on the inner loops (a
/// reduction) keeps the target element in a local across them. That is exact — the same conversions
/// happen in the same order — as long as nothing else in the nest touches the target tensor.</item>
/// <item>Integer reductions may run their loops in another order where that provably changes nothing
/// (<see cref="ChooseOrder"/>), and a nest may be split across threads along its outermost busy loop where
/// iterations provably touch disjoint elements (<see cref="IsRangeLoopParallel"/>).</item>
/// </list>
/// </summary>
internal sealed class NestCompiler
{

    private readonly CodeletInstance instance;
    private readonly LoopNestInstance nest;
    private readonly int depth;

    /// <summary>The loop run at each level, outermost first: the order written, unless <see cref="ChooseOrder"/>
    /// proves another gives the same result faster.</summary>
    private readonly int[] order;

    /// <summary>The level whose range the kernel takes: the first with more than one iteration (-1: no loops).</summary>
    private readonly int rangeLevel;

    private readonly ParameterExpression integersParameter = Expression.Parameter(typeof(int[][]), "integers");
    private readonly ParameterExpression floatsParameter = Expression.Parameter(typeof(float[][]), "floats");
    private readonly ParameterExpression beginParameter = Expression.Parameter(typeof(int), "begin");
    private readonly ParameterExpression endParameter = Expression.Parameter(typeof(int), "end");
    private readonly ParameterExpression[] loopVariables;
    private readonly List<ParameterExpression> locals = [];
    private readonly List<Expression> prologue = [];

    private readonly Dictionary<int, ParameterExpression> arrays = [];
    private readonly Dictionary<string, TrackedValue> trackedValues = new(StringComparer.Ordinal);
    private readonly List<TrackedValue> trackedInOrder = [];
    private readonly Dictionary<AccessInstance, AccessPlan> plans = new(ReferenceEqualityComparer.Instance);
    private RegisterPromotion? promotion;

    private NestCompiler(CodeletInstance instance, LoopNestInstance nest)
    {
        this.instance = instance;
        this.nest = nest;
        depth = nest.Loops.Length;
        loopVariables = [.. nest.Loops.Select(loop => Expression.Variable(typeof(int), loop.Name))];
        locals.AddRange(loopVariables);
        order = ChooseOrder();

        // The loops before the first with more than one iteration are fixed at 0.
        rangeLevel = depth == 0 ? -1 : Enumerable.Range(0, depth).FirstOrDefault(level => nest.Loops[order[level]].Extent > 1);
    }

    /// <summary>Compiles a nest; null when it has an empty loop and so never runs.</summary>
    public static CompiledNest? Compile(CodeletInstance instance, LoopNestInstance nest)
    {
        if (nest.Loops.Any(loop => loop.Extent <= 0))
        {
            return null;
        }

        return new NestCompiler(instance, nest).Compile();
    }

    private CompiledNest Compile()
    {
        foreach (var statement in nest.Statements)
        {
            if (instance.Tensors[statement.Target.Tensor].Role == TensorRole.Input)
            {
                throw new InvalidOperationException(
                    $"{statement.Syntax.Location}: the statement writes input '{instance.Tensors[statement.Target.Tensor].Name}'; inputs are read-only");
            }

            Plan(statement.Target, statement, isWrite: true);
            foreach (var load in Loads(statement.Value))
            {
                Plan(load.Access, statement, isWrite: false);
            }
        }

        promotion = FindPromotion();
        HoistInvariantLoads();
        var body = BodyAt(-1);
        var kernel = Expression.Lambda<NestKernel>(
            Expression.Block(locals, [.. prologue, .. body, Expression.Empty()]),
            $"{instance.Name}_nest",
            [integersParameter, floatsParameter, beginParameter, endParameter]);

        var iterations = nest.Loops.Aggregate(1L, (product, loop) => product * loop.Extent);
        var rangeExtent = rangeLevel < 0 ? 1 : nest.Loops[order[rangeLevel]].Extent;
        return new CompiledNest(kernel.Compile(), rangeExtent, iterations, rangeLevel >= 0 && IsRangeLoopParallel());
    }

    // ---- Planning: loop order, offsets, bounds checks, the reduction register ----------------------

    /// <summary>
    /// A nest of one integer <c>+=</c> statement that does not read its target sums the same terms into each
    /// element whatever the loop order, and wrapping i32 addition (and the low-bits store to i8/u8) is
    /// associative and commutative, so any order gives bit-identical results. There, move innermost the
    /// loop along which memory is walked most cheaply — a GEMM written <c>c[i, j] += a[i, k] * b[k, j]</c>
    /// runs as i, k, j instead of striding down b's columns. Float sums are never reordered.
    /// </summary>
    private int[] ChooseOrder()
    {
        var written = Enumerable.Range(0, depth).ToArray();
        if (depth < 2 || nest.Statements.Length != 1)
        {
            return written;
        }

        var statement = nest.Statements[0];
        var loads = Loads(statement.Value).Select(load => load.Access).ToList();
        if (statement.Kind != AssignKind.Accumulate ||
            !instance.Tensors[statement.Target.Tensor].ElementType.IsInteger() ||
            !statement.Value.Type.IsInteger() ||
            loads.Any(access => access.Tensor == statement.Target.Tensor))
        {
            return written;
        }

        // Cost of an innermost loop per iteration: 0 for an invariant access, 1 for a contiguous one, 4 for
        // a strided one; a moving target also costs its load and store (an invariant one lives in a register).
        int Cost(int loop)
        {
            int Walk(AccessInstance access)
            {
                var step = Math.Abs(FlatCoefficient(access, loop));
                return step == 0 ? 0 : step == 1 ? 1 : 4;
            }

            var target = Walk(statement.Target);
            return loads.Sum(Walk) + (target == 0 ? 0 : target + 2);
        }

        // Loops of one iteration cost nothing wherever they are; compare the busy ones.
        var busy = written.Where(loop => nest.Loops[loop].Extent > 1).ToList();
        if (busy.Count < 2)
        {
            return written;
        }

        var best = busy.MinBy(Cost);
        if (Cost(best) >= Cost(busy[^1]))
        {
            return written;
        }

        return [.. written.Where(loop => loop != best), best];
    }

    private long FlatCoefficient(AccessInstance access, int loop)
    {
        var strides = instance.Tensors[access.Tensor].Strides;
        long step = 0;
        for (var d = 0; d < access.Indices.Length && d < strides.Length; d++)
        {
            step += Coefficient(access.Indices[d], loop) * strides[d];
        }

        return step;
    }

    private void Plan(AccessInstance access, StatementInstance statement, bool isWrite)
    {
        if (plans.ContainsKey(access))
        {
            return;
        }

        var tensor = instance.Tensors[access.Tensor];
        if (access.Indices.Length != tensor.Shape.Length)
        {
            throw new InvalidOperationException(
                $"{statement.Syntax.Location}: '{tensor.Name}' has {tensor.Shape.Length} dimensions but is indexed with {access.Indices.Length}");
        }

        var strides = tensor.Strides;
        var flatBase = 0L;
        var flatCoefficients = new long[depth];
        var checkedDims = new List<(TrackedValue Index, int Extent)>();
        var alwaysOutside = false;
        for (var d = 0; d < tensor.Shape.Length; d++)
        {
            var index = access.Indices[d];
            flatBase += index.Constant * strides[d];
            for (var loop = 0; loop < depth; loop++)
            {
                flatCoefficients[loop] += Coefficient(index, loop) * strides[d];
            }

            var (min, max) = Range(index.Constant, [.. Enumerable.Range(0, depth).Select(loop => Coefficient(index, loop))]);
            if (min >= 0 && max < tensor.Shape[d])
            {
                continue; // proven in bounds: no check
            }

            var tolerated = isWrite ? tensor.Cropped : tensor.Padded;
            if (!tolerated)
            {
                throw new InvalidOperationException(
                    $"{statement.Syntax.Location}: index {d} of '{tensor.Name}' ranges over [{min}, {max}] but the dimension has extent {tensor.Shape[d]}; " +
                    (isWrite ? "only a 'cropped' tensor may be written out of bounds" : "only a 'padded' tensor may be read out of bounds"));
            }

            if (max < 0 || min >= tensor.Shape[d])
            {
                alwaysOutside = true;
            }

            checkedDims.Add((Track(index.Constant, [.. Enumerable.Range(0, depth).Select(loop => Coefficient(index, loop))]), tensor.Shape[d]));
        }

        var plan = new AccessPlan(tensor, ArrayOf(access.Tensor), Track(flatBase, flatCoefficients));
        if (alwaysOutside)
        {
            plan.AccessValidity = AccessValidity.Never;
        }
        else if (checkedDims.Count > 0)
        {
            plan.AccessValidity = AccessValidity.Checked;
            plan.CheckedDims = checkedDims;
            plan.CheckLevel = checkedDims.Max(dim => DeepestLevel(dim.Index.Coefficients));
            plan.IsValid = Expression.Variable(typeof(bool), $"{tensor.Name}_inside");
            locals.Add(plan.IsValid);
        }

        plans[access] = plan;
    }

    /// <summary>The reduction register: the single statement's target, kept in a local across the loops it
    /// does not depend on. Not used where any other access could see the element in between.</summary>
    private RegisterPromotion? FindPromotion()
    {
        if (nest.Statements.Length != 1 || depth == 0)
        {
            return null;
        }

        var statement = nest.Statements[0];
        var target = plans[statement.Target];
        var level = Math.Max(DeepestLevel(target.Offset.Coefficients), target.AccessValidity == AccessValidity.Checked ? target.CheckLevel : -1);
        if (level >= depth - 1 || target.AccessValidity == AccessValidity.Never ||
            Loads(statement.Value).Any(load => load.Access.Tensor == statement.Target.Tensor))
        {
            return null;
        }

        var register = Expression.Variable(StorageType(target.Tensor.ElementType), $"{target.Tensor.Name}_register");
        locals.Add(register);
        return new RegisterPromotion(level, target, register);
    }

    /// <summary>
    /// A read of a tensor the nest does not write is invariant in the loops its index does not depend on,
    /// so it is loaded once per iteration of the deepest loop it does depend on (the JIT cannot hoist it
    /// itself: for all it knows, a store to another int[] could change it). In a GEMM run i, k, j this
    /// takes a[i, k] out of the j loop.
    /// </summary>
    private void HoistInvariantLoads()
    {
        var written = nest.Statements.Select(s => s.Target.Tensor).ToHashSet();
        var reads = nest.Statements.SelectMany(s => Loads(s.Value)).Select(load => load.Access)
            .Where(access => !written.Contains(access.Tensor))
            .Select(access => plans[access])
            .Distinct();
        foreach (var plan in reads)
        {
            var level = Math.Max(DeepestLevel(plan.Offset.Coefficients), plan.AccessValidity == AccessValidity.Checked ? plan.CheckLevel : -1);
            if (level < depth - 1 && plan.AccessValidity != AccessValidity.Never)
            {
                plan.Hoisted = Expression.Variable(StorageType(plan.Tensor.ElementType), $"{plan.Tensor.Name}_value");
                plan.HoistLevel = level;
                locals.Add(plan.Hoisted);
            }
        }
    }

    /// <summary>
    /// The range loop may run in parallel when every tensor the nest writes is, in every access to it
    /// (reads included), indexed in one dimension by the same injective function of the range loop
    /// alone: then different iterations touch disjoint slices, and every element sees exactly the
    /// operations, in the order, that a serial run gives it — so float results do not depend on threads.
    /// </summary>
    private bool IsRangeLoopParallel()
    {
        var rangeLoop = order[rangeLevel];
        if (nest.Loops[rangeLoop].Extent < 2)
        {
            return false;
        }

        var written = nest.Statements.Select(s => s.Target.Tensor).ToHashSet();
        foreach (var tensor in written)
        {
            var accesses = nest.Statements
                .SelectMany(s => Loads(s.Value).Select(load => load.Access).Prepend(s.Target))
                .Where(access => access.Tensor == tensor)
                .ToList();
            var rank = instance.Tensors[tensor].Shape.Length;
            var separated = Enumerable.Range(0, rank).Any(d =>
                accesses.All(access => IsOnlyIn(access.Indices[d], rangeLoop) &&
                    access.Indices[d].Constant == accesses[0].Indices[d].Constant &&
                    Coefficient(access.Indices[d], rangeLoop) == Coefficient(accesses[0].Indices[d], rangeLoop)));
            if (!separated)
            {
                return false;
            }
        }

        return true;
    }

    // An index that moves with the given loop and with no other loop that has more than one iteration.
    private bool IsOnlyIn(AffineIndex index, int rangeLoop) =>
        Coefficient(index, rangeLoop) != 0 &&
        Enumerable.Range(0, depth).All(loop => loop == rangeLoop || nest.Loops[loop].Extent == 1 || Coefficient(index, loop) == 0);

    // ---- Emission ----------------------------------------------------------------------------------

    /// <summary>The code run in each iteration of loop <paramref name="level"/> (-1: once, before all loops).</summary>
    private List<Expression> BodyAt(int level)
    {
        var body = new List<Expression>();
        foreach (var plan in plans.Values.Where(p => p.AccessValidity == AccessValidity.Checked && p.CheckLevel == level).Distinct())
        {
            body.Add(Expression.Assign(plan.IsValid!, InsideCheck(plan)));
        }

        foreach (var plan in plans.Values.Where(p => p.Hoisted is not null && p.HoistLevel == level))
        {
            body.Add(Expression.Assign(plan.Hoisted!, Load(plan)));
        }

        var inner = level + 1 < depth ? EmitLoop(level + 1) : EmitStatements();
        if (promotion is { } p && p.Level == level)
        {
            // Load the element once, run the inner loops on the register, store it once.
            var element = Expression.ArrayAccess(p.Target.Array, p.Target.Offset.Current);
            var reduction = Expression.Block(
                Expression.Assign(p.Register, element),
                inner,
                Expression.Assign(Expression.ArrayAccess(p.Target.Array, p.Target.Offset.Current), p.Register));
            body.Add(p.Target.AccessValidity == AccessValidity.Checked ? Expression.IfThen(p.Target.IsValid!, reduction) : reduction);
        }
        else
        {
            body.Add(inner);
        }

        return body;
    }

    private Expression EmitLoop(int level)
    {
        var loop = order[level];
        var variable = loopVariables[loop];
        var isRange = level == rangeLevel;
        Expression start = isRange ? beginParameter : Expression.Constant(0);
        Expression end = isRange ? endParameter : Expression.Constant(nest.Loops[loop].Extent);

        var before = new List<Expression> { Expression.Assign(variable, start) };
        var advance = new List<Expression>();
        foreach (var tracked in trackedInOrder.Where(t => t.Coefficients[loop] != 0))
        {
            // value = value outside this loop + coefficient · start, then + coefficient per iteration.
            var step = checked((int)tracked.Coefficients[loop]);
            var local = Expression.Variable(typeof(int), $"t{locals.Count}");
            locals.Add(local);
            var initial = isRange
                ? Expression.Add(tracked.Current, Expression.Multiply(Expression.Constant(step), beginParameter))
                : tracked.Current;
            before.Add(Expression.Assign(local, initial));
            advance.Add(Expression.AddAssign(local, Expression.Constant(step)));
            tracked.Current = local;
        }

        advance.Add(Expression.PreIncrementAssign(variable));
        var body = BodyAt(level);
        var exit = Expression.Label($"end_{nest.Loops[loop].Name}");
        return Expression.Block(
            [.. before,
            Expression.Loop(
                Expression.IfThenElse(
                    Expression.LessThan(variable, end),
                    Expression.Block([.. body, .. advance]),
                    Expression.Break(exit)),
                exit)]);
    }

    private Expression EmitStatements()
    {
        var statements = nest.Statements.Select(EmitStatement).ToList();
        return Expression.Block([.. statements, Expression.Empty()]);
    }

    private Expression EmitStatement(StatementInstance statement)
    {
        var target = plans[statement.Target];
        if (target.AccessValidity == AccessValidity.Never)
        {
            return Expression.Empty(); // a cropped write that always falls outside
        }

        var value = Value(statement.Value);
        var elementType = target.Tensor.ElementType;
        if (promotion is { } p && ReferenceEquals(p.Target, target))
        {
            var next = statement.Kind == AssignKind.Accumulate ? Add(p.Register, value) : value;
            return Expression.Assign(p.Register, Convert(next, elementType));
        }

        var element = Expression.ArrayAccess(target.Array, target.Offset.Current);
        var result = statement.Kind == AssignKind.Accumulate ? Add(element, value) : value;
        Expression store = Expression.Assign(Expression.ArrayAccess(target.Array, target.Offset.Current), Convert(result, elementType));
        return target.AccessValidity == AccessValidity.Checked ? Expression.IfThen(target.IsValid!, store) : store;
    }

    private Expression InsideCheck(AccessPlan plan)
    {
        Expression? all = null;
        foreach (var (index, extent) in plan.CheckedDims)
        {
            // 0 <= i < extent as one unsigned comparison.
            var inside = Expression.LessThan(
                Expression.Convert(index.Current, typeof(uint)),
                Expression.Constant((uint)extent));
            all = all is null ? inside : Expression.AndAlso(all, inside);
        }

        return all!;
    }

    // ---- Values: an int expression for integer types, a float expression for float types ------------

    private Expression Value(ValueExpr value)
    {
        switch (value)
        {
            case ConstantValue constant:
                return constant.Type.IsInteger()
                    ? Expression.Constant(ScalarSemantics.IntegerToInteger(unchecked((int)constant.Integer), constant.Type))
                    : Expression.Constant(ScalarSemantics.FloatToFloat((float)constant.Real, constant.Type));

            case LoopVarValue loopVar:
                return loopVariables[loopVar.Loop];

            case LoadValue load:
            {
                var plan = plans[load.Access];
                return plan.Hoisted ?? Load(plan);
            }

            case UnaryValue { Op: UnaryOp.Negate } unary:
                return Expression.Negate(As(Value(unary.Operand), StorageType(unary.Type)));

            case BinaryValue binary:
                return Binary(binary);

            case CallValue call:
                return Call(call);

            case CastValue cast:
                return Convert(Value(cast.Operand), cast.Type);

            default:
                throw new NotSupportedException($"the reference interpreter does not know the value {value}");
        }
    }

    /// <summary>The element an access reads, or 0 where a padded tensor is read outside its bounds.</summary>
    private static Expression Load(AccessPlan plan)
    {
        var zero = Zero(plan.Tensor.ElementType);
        return plan.AccessValidity switch
        {
            AccessValidity.Never => zero,
            AccessValidity.Checked => Expression.Condition(plan.IsValid!, Expression.ArrayAccess(plan.Array, plan.Offset.Current), zero),
            _ => Expression.ArrayAccess(plan.Array, plan.Offset.Current),
        };
    }

    private Expression Binary(BinaryValue binary)
    {
        var type = ScalarExpressions.StorageType(binary.Type);
        return ScalarExpressions.Binary(binary.Op, binary.Type, As(Value(binary.Left), type), As(Value(binary.Right), type));
    }

    private Expression Call(CallValue call)
    {
        var type = ScalarExpressions.StorageType(call.Type);
        return ScalarExpressions.Call(call.Function, call.Type, [.. call.Arguments.Select(argument => As(Value(argument), type))]);
    }

    // ---- Helpers -----------------------------------------------------------------------------------

    private ParameterExpression ArrayOf(int tensor)
    {
        if (!arrays.TryGetValue(tensor, out var array))
        {
            var instanceTensor = instance.Tensors[tensor];
            var isInteger = instanceTensor.ElementType.IsInteger();
            array = Expression.Variable(isInteger ? typeof(int[]) : typeof(float[]), instanceTensor.Name);
            locals.Add(array);
            prologue.Add(Expression.Assign(array, Expression.ArrayIndex(isInteger ? integersParameter : floatsParameter, Expression.Constant(tensor))));
            arrays[tensor] = array;
        }

        return array;
    }

    /// <summary>An affine value to keep up to date through the loops; identical ones are shared.</summary>
    private TrackedValue Track(long constant, long[] coefficients)
    {
        var key = constant + ":" + string.Join(",", coefficients);
        if (trackedValues.TryGetValue(key, out var tracked))
        {
            return tracked;
        }

        // Every value the incremental local takes, including one step past each loop's end, must fit an int.
        var (min, max) = Range(constant, coefficients);
        var slack = coefficients.Sum(Math.Abs);
        if (Math.Max(Math.Abs(min), Math.Abs(max)) + slack > int.MaxValue)
        {
            throw new NotSupportedException($"codelet {instance.Name}: an index reaches {max}, beyond what the reference interpreter addresses");
        }

        tracked = new TrackedValue(coefficients, Expression.Constant(checked((int)constant)));
        trackedValues[key] = tracked;
        trackedInOrder.Add(tracked);
        return tracked;
    }

    private (long Min, long Max) Range(long constant, long[] coefficients)
    {
        long min = constant, max = constant;
        for (var loop = 0; loop < depth; loop++)
        {
            var span = coefficients[loop] * (nest.Loops[loop].Extent - 1);
            min += Math.Min(0, span);
            max += Math.Max(0, span);
        }

        return (min, max);
    }

    /// <summary>
    /// An index's coefficient of a loop; 0 for a loop that runs once (its variable stays 0), so a huge stride over a
    /// one-long axis (conv2d with stride 2^32 and one output column) neither wraps the flat offset nor counts as a step.
    /// </summary>
    private long Coefficient(AffineIndex index, int loop) =>
        loop < index.Coefficients.Length && nest.Loops[loop].Extent != 1 ? index.Coefficients[loop] : 0;

    /// <summary>The innermost level whose loop has a non-zero coefficient (coefficients are per loop); -1 if none.</summary>
    private int DeepestLevel(long[] coefficients)
    {
        for (var level = depth - 1; level >= 0; level--)
        {
            if (coefficients[order[level]] != 0)
            {
                return level;
            }
        }

        return -1;
    }

    private static IEnumerable<LoadValue> Loads(ValueExpr value) => value switch
    {
        LoadValue load => [load],
        UnaryValue unary => Loads(unary.Operand),
        BinaryValue binary => Loads(binary.Left).Concat(Loads(binary.Right)),
        CallValue call => call.Arguments.SelectMany(Loads),
        CastValue cast => Loads(cast.Operand),
        _ => [],
    };
}
