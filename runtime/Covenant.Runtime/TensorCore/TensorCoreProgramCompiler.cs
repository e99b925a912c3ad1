using System.Collections.Immutable;

namespace Covenant.Runtime.TensorCore;

/// <summary>
/// Turns a <see cref="TensorCoreKernel"/> into the form <see cref="TensorCoreSimulator"/> runs: statements become nodes,
/// variables slots in a per-thread array (tid, bx, by, bz first), register arrays and tensors indices, expressions
/// delegates. Every name and register range is checked here, once, so a run does no look-ups.
/// </summary>
internal sealed class TensorCoreProgramCompiler
{
    /// <summary>The slots of the built-in variables, in this order.</summary>
    public static readonly string[] Builtins = ["tid", "bx", "by", "bz"];

    private readonly TensorCoreKernel kernel;
    private readonly Dictionary<string, int> slots = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> registerArrays = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> tensorIndex = new(StringComparer.Ordinal);

    private TensorCoreProgramCompiler(TensorCoreKernel kernel)
    {
        this.kernel = kernel;
        foreach (var builtin in Builtins)
        {
            slots[builtin] = slots.Count;
        }

        for (var i = 0; i < kernel.Registers.Length; i++)
        {
            registerArrays[kernel.Registers[i].Name] = i;
        }

        for (var i = 0; i < kernel.Tensors.Length; i++)
        {
            tensorIndex[kernel.Tensors[i].Name] = i;
        }
    }

    /// <summary>The kernel's body as nodes, and how many variable slots a thread needs.</summary>
    public static (Node[] Program, int Slots) Compile(TensorCoreKernel kernel)
    {
        var compiler = new TensorCoreProgramCompiler(kernel);
        var program = compiler.Compile(kernel.Body);
        return (program, compiler.slots.Count);
    }

    public abstract record Node;

    public sealed record LetNode(int Slot, Func<long[], long> Value) : Node;

    public sealed record ForNode(int Slot, long Count, Node[] Body) : Node;

    public sealed record IfNode(Func<long[], long> Condition, Node[] Body) : Node;

    public sealed record CopyNode(bool Async, Func<long[], long> Shared, int Tensor, Func<long[], long> Offset, Func<long[], long> Valid, Func<long[], long> Guard) : Node;

    public sealed record CommitNode : Node;

    public sealed record WaitNode(int Pending) : Node;

    public sealed record BarrierNode : Node;

    public sealed record LdMatrixNode(int Count, bool Trans, int Fragment, int First, Func<long[], long> Address) : Node;

    public sealed record MmaNode(TensorCoreMmaShape Shape, int Accumulator, int AccumulatorFirst, int A, int AFirst, int B, int BFirst) : Node;

    public sealed record ZeroNode(int Fragment) : Node;

    public sealed record StoreNode(int Accumulator, int Register, int Tensor, Func<long[], long> Offset, Func<long[], long> Valid) : Node;


    private Node[] Compile(ImmutableArray<TensorCoreStmt> body)
    {
        var nodes = new List<Node>();
        foreach (var statement in body)
        {
            switch (statement)
            {
                case TensorCoreComment:
                    break;
                case TensorCoreLet let:
                {
                    var value = Compile(let.Value);
                    nodes.Add(new LetNode(Slot(let.Var), value));
                    break;
                }

                case TensorCoreFor loop:
                {
                    var slot = Slot(loop.Var);
                    nodes.Add(new ForNode(slot, loop.Count, Compile(loop.Body)));
                    break;
                }

                case TensorCoreIf branch:
                    nodes.Add(new IfNode(Compile(branch.Condition), Compile(branch.Body)));
                    break;
                case TensorCoreCpAsync copy:
                    nodes.Add(new CopyNode(true, Compile(copy.Shared), Tensor(copy.Tensor), Compile(copy.Offset), Compile(copy.Valid), Compile(copy.Guard)));
                    break;
                case TensorCoreCopyElement copy:
                    nodes.Add(new CopyNode(false, Compile(copy.Shared), Tensor(copy.Tensor), Compile(copy.Offset), Compile(copy.Valid), Compile(copy.Guard)));
                    break;
                case TensorCoreCommitGroup:
                    nodes.Add(new CommitNode());
                    break;
                case TensorCoreWaitGroup wait:
                    nodes.Add(new WaitNode(wait.Pending));
                    break;
                case TensorCoreBarrier:
                    nodes.Add(new BarrierNode());
                    break;
                case TensorCoreLdMatrix load:
                    if (load.Count is not (1 or 2 or 4))
                    {
                        throw new InvalidDataException($"ldmatrix .x{load.Count} does not exist");
                    }

                    nodes.Add(new LdMatrixNode(load.Count, load.Trans, RegisterArray(load.Fragment, load.First + load.Count), load.First, Compile(load.Address)));
                    break;
                case TensorCoreMma mma:
                    nodes.Add(new MmaNode(mma.Shape, RegisterArray(mma.Accumulator, mma.AccumulatorFirst + 4), mma.AccumulatorFirst,
                        RegisterArray(mma.A, mma.AFirst + 4), mma.AFirst, RegisterArray(mma.B, mma.BFirst + 2), mma.BFirst));
                    break;
                case TensorCoreZero zero:
                    nodes.Add(new ZeroNode(RegisterArray(zero.Fragment, 0)));
                    break;
                case TensorCoreStore store:
                    nodes.Add(new StoreNode(RegisterArray(store.Accumulator, store.Register + 1), store.Register, Tensor(store.Tensor), Compile(store.Offset), Compile(store.Valid)));
                    break;
                default:
                    throw new InvalidDataException($"unknown statement {statement.GetType().Name}");
            }
        }

        return [.. nodes];
    }

    private int Slot(string name)
    {
        if (!slots.TryGetValue(name, out var slot))
        {
            slot = slots.Count;
            slots[name] = slot;
        }

        return slot;
    }

    private int RegisterArray(string name, int needed)
    {
        if (!registerArrays.TryGetValue(name, out var index) || kernel.Registers[index].Count < needed)
        {
            throw new InvalidDataException($"register array '{name}' is missing or shorter than {needed}");
        }

        return index;
    }

    private int Tensor(string name) => tensorIndex.TryGetValue(name, out var index) ? index : throw new InvalidDataException($"unknown tensor '{name}'");

    private Func<long[], long> Compile(TensorCoreExpr expression)
    {
        switch (expression)
        {
            case TensorCoreConst c:
            {
                var value = c.Value;
                return _ => value;
            }

            case TensorCoreVar v:
            {
                if (!slots.TryGetValue(v.Name, out var slot))
                {
                    throw new InvalidDataException($"variable '{v.Name}' is used before it is defined");
                }

                return e => e[slot];
            }

            case TensorCoreBinary b:
            {
                var left = Compile(b.Left);
                var right = Compile(b.Right);
                return b.Op switch
                {
                    TensorCoreOp.Add => e => left(e) + right(e),
                    TensorCoreOp.Sub => e => left(e) - right(e),
                    TensorCoreOp.Mul => e => left(e) * right(e),
                    TensorCoreOp.Div => e => right(e) is var d && d != 0 ? left(e) / d : throw new TensorCoreSimulationException(TensorCoreSimulatorDiagnostics.BadAddress, "division by zero"),
                    TensorCoreOp.Rem => e => right(e) is var d && d != 0 ? left(e) % d : throw new TensorCoreSimulationException(TensorCoreSimulatorDiagnostics.BadAddress, "division by zero"),
                    TensorCoreOp.Xor => e => left(e) ^ right(e),
                    TensorCoreOp.Shl => e => left(e) << (int)right(e),
                    TensorCoreOp.Less => e => left(e) < right(e) ? 1 : 0,
                    TensorCoreOp.And => e => left(e) != 0 && right(e) != 0 ? 1 : 0,
                    _ => throw new InvalidDataException($"unknown operator {b.Op}"),
                };
            }

            default:
                throw new InvalidDataException($"unknown expression {expression}");
        }
    }
}
