using System.Buffers.Binary;

namespace Covenant.Runtime.Vnni;

/// <summary>
/// An instruction-level simulator of the VNNI kernels: it executes a <see cref="VnniProgram"/> — the very
/// program the C emitter prints — operation by operation, with each vector operation implemented as the
/// instruction defines it (vpdpbusd: four u8 x s8 products per int32 lane, summed and added with wraparound;
/// masked loads and stores touch only their lanes; vpmovdb keeps the low byte). Parallel regions and loops run
/// on one thread, iterations in order (the kernels' threads write disjoint data, so the order does not matter). Every buffer access is bounds-checked, so a kernel that would read or
/// write outside its buffers natively fails here with the buffer's name.
/// </summary>
public sealed class VnniSimulator
{
    private readonly VnniProgram program;
    private readonly Dictionary<string, Action<Frame>> functions = new(StringComparer.Ordinal);

    public VnniSimulator(VnniProgram program)
    {
        ArgumentNullException.ThrowIfNull(program);
        this.program = program;
        foreach (var function in program.Functions)
        {
            functions[function.Name] = Compile(function.Body);
        }
    }

    /// <summary>Vector instructions executed so far, over every call.</summary>
    public long VectorInstructions { get; private set; }

    /// <summary>vpdpbusd instructions executed so far.</summary>
    public long DotInstructions { get; private set; }

    /// <summary>Runs an entry point on the buffers (one byte array per <see cref="VnniProgram.Buffers"/> entry).</summary>
    public void Run(string function, byte[][] memory)
    {
        ArgumentNullException.ThrowIfNull(memory);
        if (memory.Length != program.Buffers.Length)
        {
            throw new ArgumentException($"the kernel has {program.Buffers.Length} buffers, {memory.Length} were given", nameof(memory));
        }

        for (var b = 0; b < memory.Length; b++)
        {
            if (memory[b].LongLength < program.Buffers[b].Bytes)
            {
                throw new ArgumentException($"buffer '{program.Buffers[b].Name}' needs {program.Buffers[b].Bytes} bytes, has {memory[b].LongLength}", nameof(memory));
            }
        }

        var frame = new Frame(program, memory);
        try
        {
            functions[function](frame);
        }
        finally
        {
            VectorInstructions += frame.Vectors;
            DotInstructions += frame.Dots;
        }
    }

    private sealed class Frame(VnniProgram program, byte[][] memory)
    {
        public readonly long[] Scalars = new long[program.VariableCount];
        public readonly int[][] Registers = Enumerable.Range(0, program.RegisterCount).Select(_ => new int[program.Lanes]).ToArray();
        public readonly byte[][] Memory = memory;
        public long Vectors;
        public long Dots;
    }

    private Action<Frame> Compile(VnniStmt statement)
    {
        switch (statement)
        {
            case VnniBlock block:
            {
                var body = block.Body.Select(Compile).ToArray();
                return frame =>
                {
                    foreach (var s in body)
                    {
                        s(frame);
                    }
                };
            }

            case VnniFor loop:
            {
                var slot = loop.Var.Slot;
                var from = Compile(loop.From);
                var to = Compile(loop.To);
                var step = loop.Step;
                var body = Compile(loop.Body);
                return frame =>
                {
                    var end = to(frame);
                    for (var i = from(frame); i < end; i += step)
                    {
                        frame.Scalars[slot] = i;
                        body(frame);
                    }
                };
            }

            // One thread runs the whole region; a single block and the work-shared loops then run once, in order.
            case VnniParallelRegion region:
                return Compile(region.Body);
            case VnniSingle single:
                return Compile(single.Body);
            case VnniBarrier:
                return _ => { };
            case VnniSet set:
            {
                var slot = set.Var.Slot;
                var value = Compile(set.Value);
                return frame => frame.Scalars[slot] = value(frame);
            }

            case VnniIf branch:
            {
                var condition = Compile(branch.Condition);
                var then = Compile(branch.Then);
                var otherwise = branch.Else is null ? null : Compile(branch.Else);
                return frame =>
                {
                    if (condition(frame) != 0)
                    {
                        then(frame);
                    }
                    else
                    {
                        otherwise?.Invoke(frame);
                    }
                };
            }

            case VnniStore store:
                return CompileStore(store);
            case VnniFill fill:
                return CompileFill(fill);
            case VnniCopyBytes copy:
                return CompileCopy(copy);
            case VnniVector vector:
                return CompileVector(vector);
            default:
                throw new InvalidOperationException($"the simulator cannot run {statement.GetType().Name}");
        }
    }

    private Action<Frame> CompileStore(VnniStore store)
    {
        var buffer = store.Buffer;
        var type = program.Buffers[buffer].ElementType;
        var index = Compile(store.Index);
        var value = Compile(store.Value);
        return frame => StoreScalar(frame, buffer, type, index(frame), value(frame));
    }

    private Action<Frame> CompileFill(VnniFill fill)
    {
        var buffer = fill.Buffer;
        var type = program.Buffers[buffer].ElementType;
        var index = Compile(fill.Index);
        var count = Compile(fill.Count);
        var value = fill.Value;
        return frame =>
        {
            var start = index(frame);
            var n = count(frame);
            for (long i = 0; i < n; i++)
            {
                StoreScalar(frame, buffer, type, start + i, value);
            }
        };
    }

    private Action<Frame> CompileCopy(VnniCopyBytes copy)
    {
        var destination = copy.Destination;
        var source = copy.Source;
        var destinationIndex = Compile(copy.DestinationIndex);
        var sourceIndex = Compile(copy.SourceIndex);
        var count = Compile(copy.Count);
        var stride = copy.SourceStride;
        var xor = (byte)copy.Xor;
        return frame =>
        {
            var d = destinationIndex(frame);
            var s = sourceIndex(frame);
            var n = count(frame);
            var to = Buffer(frame, destination);
            var from = Buffer(frame, source);
            for (long i = 0; i < n; i++)
            {
                to[Check(destination, d + i, 1, to)] = (byte)(from[Check(source, s + (i * stride), 1, from)] ^ xor);
            }
        };
    }

    private Action<Frame> CompileVector(VnniVector op)
    {
        var lanes = program.Lanes;
        var d = op.Destination?.Slot ?? -1;
        var a = op.A?.Slot ?? -1;
        var b = op.B?.Slot ?? -1;
        var buffer = op.Buffer;
        var index = op.Index is null ? null : Compile(op.Index);
        var scalar = op.Scalar is null ? null : Compile(op.Scalar);
        var count = op.Count == 0 ? lanes : op.Count;
        var elementBytes = buffer >= 0 ? program.Buffers[buffer].ElementBytes : 1;
        var immediate = op.Immediate;
        Action<Frame> body = op.Op switch
        {
            VnniVectorOp.Zero => frame => Array.Clear(frame.Registers[d]),
            VnniVectorOp.Load => frame =>
            {
                var memory = Buffer(frame, buffer);
                var start = index!(frame) * elementBytes;
                var target = frame.Registers[d];
                for (var j = 0; j < lanes; j++)
                {
                    target[j] = j < count ? BinaryPrimitives.ReadInt32LittleEndian(memory.AsSpan(Check(buffer, start + (4 * j), 4, memory), 4)) : 0;
                }
            },
            VnniVectorOp.Broadcast => frame =>
            {
                var memory = Buffer(frame, buffer);
                var start = index!(frame) * elementBytes;
                var value = BinaryPrimitives.ReadInt32LittleEndian(memory.AsSpan(Check(buffer, start, 4, memory), 4));
                Array.Fill(frame.Registers[d], value);
            },
            VnniVectorOp.Set1 => frame => Array.Fill(frame.Registers[d], unchecked((int)scalar!(frame))),
            VnniVectorOp.Dpbusd => frame =>
            {
                var acc = frame.Registers[d];
                var u = frame.Registers[a];
                var s = frame.Registers[b];
                for (var j = 0; j < lanes; j++)
                {
                    acc[j] = unchecked(acc[j] + Dot4(u[j], s[j]));
                }

                frame.Dots++;
            },
            VnniVectorOp.Add => frame => Lanewise(frame, d, a, b, static (x, y) => unchecked(x + y)),
            VnniVectorOp.Max => frame => Lanewise(frame, d, a, b, Math.Max),
            VnniVectorOp.Xor => frame => Lanewise(frame, d, a, b, static (x, y) => x ^ y),
            VnniVectorOp.Min => frame => Lanewise(frame, d, a, b, Math.Min),
            VnniVectorOp.ShiftRight => frame =>
            {
                var source = frame.Registers[a];
                var target = frame.Registers[d];
                for (var j = 0; j < lanes; j++)
                {
                    // vpsrad: counts above 31 fill with the sign bit.
                    target[j] = source[j] >> Math.Min(immediate, 31);
                }
            },
            VnniVectorOp.Store32 => frame =>
            {
                var memory = Buffer(frame, buffer);
                var start = index!(frame) * elementBytes;
                var source = frame.Registers[a];
                for (var j = 0; j < count; j++)
                {
                    BinaryPrimitives.WriteInt32LittleEndian(memory.AsSpan(Check(buffer, start + (4 * j), 4, memory), 4), source[j]);
                }
            },
            VnniVectorOp.Store8 => frame =>
            {
                var memory = Buffer(frame, buffer);
                var start = index!(frame) * elementBytes;
                var source = frame.Registers[a];
                for (var j = 0; j < count; j++)
                {
                    memory[Check(buffer, start + j, 1, memory)] = unchecked((byte)source[j]);
                }
            },
            _ => throw new InvalidOperationException($"the simulator has no semantics for {op.Op}"),
        };
        return frame =>
        {
            body(frame);
            frame.Vectors++;
        };
    }

    /// <summary>
    /// One lane of vpdpbusd: Σ over the 4 bytes of zero-extended u8 times sign-extended s8. Each product fits in
    /// 16 bits and their sum in 18, so the only wraparound is the final int32 add (VPDPBUSD; VPDPBUSDS would saturate).
    /// </summary>
    public static int Dot4(int unsignedBytes, int signedBytes)
    {
        var sum = 0;
        for (var k = 0; k < 4; k++)
        {
            var u = (unsignedBytes >> (8 * k)) & 0xFF;
            var s = (int)(sbyte)(signedBytes >> (8 * k));
            sum += u * s;
        }

        return sum;
    }

    private static void Lanewise(Frame frame, int d, int a, int b, Func<int, int, int> op)
    {
        var x = frame.Registers[a];
        var y = frame.Registers[b];
        var target = frame.Registers[d];
        for (var j = 0; j < target.Length; j++)
        {
            target[j] = op(x[j], y[j]);
        }
    }

    private byte[] Buffer(Frame frame, int buffer) => frame.Memory[buffer];

    private int Check(int buffer, long byteOffset, int size, byte[] memory)
    {
        var limit = program.Buffers[buffer].Bytes;
        if (byteOffset < 0 || byteOffset + size > limit || byteOffset + size > memory.LongLength)
        {
            throw new VnniSimulationException(
                $"the kernel accessed bytes [{byteOffset}, {byteOffset + size}) of buffer '{program.Buffers[buffer].Name}', which has {limit}");
        }

        return (int)byteOffset;
    }

    private void StoreScalar(Frame frame, int buffer, VnniScalarType type, long index, long value)
    {
        var memory = Buffer(frame, buffer);
        if (type == VnniScalarType.I32)
        {
            BinaryPrimitives.WriteInt32LittleEndian(memory.AsSpan(Check(buffer, index * 4, 4, memory), 4), unchecked((int)value));
        }
        else
        {
            memory[Check(buffer, index, 1, memory)] = unchecked((byte)value);
        }
    }

    private Func<Frame, long> Compile(VnniExpr expr)
    {
        switch (expr)
        {
            case VnniConst c:
            {
                var value = c.Value;
                return _ => value;
            }

            case VnniVarRef v:
            {
                var slot = v.Variable.Slot;
                return frame => frame.Scalars[slot];
            }

            case VnniBinaryExpr binary:
            {
                var left = Compile(binary.Left);
                var right = Compile(binary.Right);
                var op = binary.Op;
                if (op == VnniBinary.And)
                {
                    return frame => left(frame) != 0 && right(frame) != 0 ? 1 : 0;
                }

                return frame => VnniSemantics.Evaluate(op, left(frame), right(frame));
            }

            case VnniSelect select:
            {
                var condition = Compile(select.Condition);
                var whenTrue = Compile(select.WhenTrue);
                var whenFalse = Compile(select.WhenFalse);
                return frame => condition(frame) != 0 ? whenTrue(frame) : whenFalse(frame);
            }

            case VnniLoad load:
            {
                var buffer = load.Buffer;
                var type = program.Buffers[buffer].ElementType;
                var index = Compile(load.Index);
                return frame =>
                {
                    var memory = Buffer(frame, buffer);
                    var i = index(frame);
                    return type switch
                    {
                        VnniScalarType.I8 => (sbyte)memory[Check(buffer, i, 1, memory)],
                        VnniScalarType.U8 => memory[Check(buffer, i, 1, memory)],
                        _ => BinaryPrimitives.ReadInt32LittleEndian(memory.AsSpan(Check(buffer, i * 4, 4, memory), 4)),
                    };
                };
            }

            case VnniThreadId:
                return _ => 0;
            default:
                throw new InvalidOperationException($"the simulator cannot evaluate {expr.GetType().Name}");
        }
    }
}

/// <summary>The simulated kernel did something the hardware would not survive (an access outside a buffer).</summary>
public sealed class VnniSimulationException(string message) : Exception(message);
