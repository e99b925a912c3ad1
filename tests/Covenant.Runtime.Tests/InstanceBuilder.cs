using System.Collections.Immutable;
using System.Globalization;
using Covenant.Codelets;
using Covenant.Codelets.Semantics;
using Covenant.Codelets.Syntax;
using Covenant.Core.Diagnostics;

namespace Covenant.Runtime.Tests;

/// <summary>
/// Builds <see cref="CodeletInstance"/> records by hand, so the interpreter can be tested without the
/// codelet parser. Indices are written as text (<c>"2*p + r - 1"</c>) over the nest's loop names.
/// </summary>
internal sealed class InstanceBuilder(string name)
{
    private static readonly SourceLocation Here = new("test.cdlt", 1, 1);
    private readonly List<TensorInstance> tensors = [];
    private readonly List<NestBuilder> nests = [];

    public InstanceBuilder Input(string tensor, ElementType type, int[] shape, TensorModifiers modifiers = TensorModifiers.None) =>
        Add(tensor, TensorRole.Input, type, shape, modifiers);

    public InstanceBuilder Output(string tensor, ElementType type, int[] shape, TensorModifiers modifiers = TensorModifiers.None) =>
        Add(tensor, TensorRole.Output, type, shape, modifiers);

    public InstanceBuilder Local(string tensor, ElementType type, int[] shape, TensorModifiers modifiers = TensorModifiers.None) =>
        Add(tensor, TensorRole.Local, type, shape, modifiers);

    /// <summary>A new nest over <c>("i", 4), ("k", 3)</c>..., outermost first.</summary>
    public NestBuilder Nest(params (string Name, int Extent)[] loops)
    {
        var nest = new NestBuilder(this, [.. loops.Select(l => new LoopInstance(l.Name, l.Extent))]);
        nests.Add(nest);
        return nest;
    }

    public CodeletInstance Build() => new(
        name,
        ImmutableDictionary<string, long>.Empty,
        [.. tensors],
        [.. nests.Select(n => n.Build())],
        new CodeletSyntax(name, [], [], [], [], [], [], Here));

    internal int TensorIndex(string tensor) => tensors.FindIndex(t => t.Name == tensor) is var i and >= 0
        ? i
        : throw new ArgumentException($"no tensor {tensor}");

    internal TensorInstance Tensor(string tensor) => tensors[TensorIndex(tensor)];

    private InstanceBuilder Add(string tensor, TensorRole role, ElementType type, int[] shape, TensorModifiers modifiers)
    {
        tensors.Add(new TensorInstance(tensor, role, type, [.. shape], modifiers));
        return this;
    }

    internal sealed class NestBuilder(InstanceBuilder owner, ImmutableArray<LoopInstance> loops)
    {
        private readonly List<StatementInstance> statements = [];

        public ImmutableArray<LoopInstance> Loops => loops;

        public ValueExpr Load(string tensor, params string[] indices) =>
            new LoadValue(owner.Tensor(tensor).ElementType, Access(tensor, indices));

        public ValueExpr Var(string loop) => new LoopVarValue(loops.IndexOf(loops.Single(l => l.Name == loop)));

        /// <summary><c>tensor[indices] += value</c></summary>
        public NestBuilder Accumulate(string tensor, string[] indices, ValueExpr value) => Statement(tensor, indices, AssignKind.Accumulate, value);

        /// <summary><c>tensor[indices] = value</c></summary>
        public NestBuilder Assign(string tensor, string[] indices, ValueExpr value) => Statement(tensor, indices, AssignKind.Assign, value);

        public InstanceBuilder End() => owner;

        public AccessInstance Access(string tensor, string[] indices) =>
            new(owner.TensorIndex(tensor), [.. indices.Select(Index)]);

        /// <summary>Parses <c>"2*p + r - 1"</c>: terms of an integer, a loop name, or their product.</summary>
        public AffineIndex Index(string text)
        {
            var coefficients = new long[loops.Length];
            long constant = 0;
            var normalized = text.Replace(" ", "", StringComparison.Ordinal).Replace("-", "+-", StringComparison.Ordinal);
            foreach (var term in normalized.Split('+', StringSplitOptions.RemoveEmptyEntries))
            {
                var sign = term.StartsWith('-') ? -1 : 1;
                long factor = sign;
                string? loop = null;
                foreach (var part in term.TrimStart('-').Split('*'))
                {
                    if (long.TryParse(part, NumberStyles.Integer, CultureInfo.InvariantCulture, out var number))
                    {
                        factor *= number;
                    }
                    else
                    {
                        loop = part;
                    }
                }

                if (loop is null)
                {
                    constant += factor;
                }
                else
                {
                    coefficients[loops.IndexOf(loops.Single(l => l.Name == loop))] += factor;
                }
            }

            return new AffineIndex(constant, [.. coefficients]);
        }

        internal LoopNestInstance Build() => new(loops, [.. statements]);

        private NestBuilder Statement(string tensor, string[] indices, AssignKind kind, ValueExpr value)
        {
            var syntax = new StatementSyntax(new AccessSyntax(tensor, [], Here), kind, new IntLiteralSyntax(0, Here), Here);
            statements.Add(new StatementInstance(Access(tensor, indices), kind, value, syntax));
            return this;
        }
    }
}

/// <summary>Value expressions, typed the way the checker types them (arithmetic in i32 or f32).</summary>
internal static class V
{
    public static ValueExpr Int(long value, ElementType type = ElementType.I32) => new ConstantValue(type, value, value);

    public static ValueExpr Real(double value, ElementType type = ElementType.F32) => new ConstantValue(type, (long)value, value);

    public static ValueExpr Add(ValueExpr a, ValueExpr b) => Binary(BinaryOp.Add, a, b);

    public static ValueExpr Sub(ValueExpr a, ValueExpr b) => Binary(BinaryOp.Subtract, a, b);

    public static ValueExpr Mul(ValueExpr a, ValueExpr b) => Binary(BinaryOp.Multiply, a, b);

    public static ValueExpr Div(ValueExpr a, ValueExpr b) => Binary(BinaryOp.Divide, a, b);

    public static ValueExpr Mod(ValueExpr a, ValueExpr b) => Binary(BinaryOp.Modulo, a, b);

    public static ValueExpr Shl(ValueExpr a, ValueExpr b) => Binary(BinaryOp.ShiftLeft, a, b);

    public static ValueExpr Shr(ValueExpr a, ValueExpr b) => Binary(BinaryOp.ShiftRight, a, b);

    public static ValueExpr Neg(ValueExpr a) => new UnaryValue(Arithmetic(a, a), UnaryOp.Negate, a);

    public static ValueExpr Cast(ElementType type, ValueExpr a) => new CastValue(type, a);

    public static ValueExpr Max(ValueExpr a, ValueExpr b) => new CallValue(Arithmetic(a, b), BuiltinFunction.Max, [a, b]);

    public static ValueExpr Min(ValueExpr a, ValueExpr b) => new CallValue(Arithmetic(a, b), BuiltinFunction.Min, [a, b]);

    public static ValueExpr Clip(ValueExpr x, ValueExpr low, ValueExpr high) =>
        new CallValue(Arithmetic(x, x), BuiltinFunction.Clip, [x, low, high]);

    public static ValueExpr Relu(ValueExpr x) => new CallValue(Arithmetic(x, x), BuiltinFunction.Relu, [x]);

    private static ValueExpr Binary(BinaryOp op, ValueExpr a, ValueExpr b) => new BinaryValue(Arithmetic(a, b), op, a, b);

    private static ElementType Arithmetic(ValueExpr a, ValueExpr b) =>
        a.Type.IsFloat() || b.Type.IsFloat() ? ElementType.F32 : ElementType.I32;
}
