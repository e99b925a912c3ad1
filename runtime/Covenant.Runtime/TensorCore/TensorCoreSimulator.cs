using System.Buffers.Binary;
using System.Collections.Immutable;
using Covenant.Codelets;
using Covenant.Core.Diagnostics;
using static Covenant.Runtime.TensorCore.TensorCoreProgramCompiler;

namespace Covenant.Runtime.TensorCore;

/// <summary>Diagnostics of the TensorCore warp simulator (COV63xx).</summary>
public static class TensorCoreSimulatorDiagnostics
{
    public static readonly DiagnosticDescriptor SimulationFailed = new("COV6301", "TensorCore simulation failed");

    /// <summary>A shared-memory read of bytes that had not landed before the last barrier, or a write to bytes other
    /// warps may still be reading in the same barrier interval.</summary>
    public static readonly DiagnosticDescriptor SharedRace = new("COV6302", "shared-memory race");

    /// <summary>A global or shared access outside its buffer, or misaligned for its instruction.</summary>
    public static readonly DiagnosticDescriptor BadAddress = new("COV6303", "bad address");

    /// <summary>A block-uniform branch on which the threads of a block disagree.</summary>
    public static readonly DiagnosticDescriptor Divergence = new("COV6304", "divergent uniform branch");

    /// <summary>The artifact's CUDA is not what its program prints (edited, or from another version).</summary>
    public static readonly DiagnosticDescriptor StaleArtifact = new("COV6305", "stale TensorCore artifact");

    /// <summary>An output element written twice, or never.</summary>
    public static readonly DiagnosticDescriptor OutputCoverage = new("COV6306", "output not written exactly once");
}

/// <summary>A simulation error: what the simulated hardware would do wrong (or undefined), with its diagnostic.</summary>
public sealed class TensorCoreSimulationException(DiagnosticDescriptor descriptor, string message) : Exception(message)
{
    public DiagnosticDescriptor Descriptor { get; } = descriptor;
}

/// <summary>What the simulator counted. <see cref="BankConflictWavefronts"/>: ldmatrix phases beyond one per 8 rows
/// (0 when every phase of 8 rows hits 32 distinct banks).</summary>
public sealed record TensorCoreStatistics(
    long Blocks,
    long Mma,
    long LdMatrix,
    long BankConflictWavefronts,
    long CpAsyncBytes,
    long ElementCopies,
    long Barriers,
    long Stores);

public sealed record TensorCoreRunResult(IReadOnlyDictionary<string, TensorData> Outputs, TensorCoreStatistics Statistics);

/// <summary>
/// A functional simulator of a <see cref="TensorCoreKernel"/>: every block of the grid in turn, every thread's registers and
/// variables, the block's shared memory, cp.async groups that land only at <c>cp.async.wait_group</c>, and warp-level
/// ldmatrix and mma with the PTX fragment layouts (<see cref="TensorCoreFragments"/>). f16 products are exact in f32 and
/// summed in f32 in k order; s8 products are summed in wrapping int32, as the hardware does. Threads run the statements
/// in lockstep, so the simulator also checks what lockstep hides: a shared byte read by ldmatrix must have landed before
/// the most recent barrier, and a copy must not overwrite bytes read since that barrier (another warp could still be
/// reading them on real hardware). Violations, out-of-bounds or misaligned accesses, divergent uniform branches and
/// output elements written twice or never throw <see cref="TensorCoreSimulationException"/>.
/// </summary>
public sealed class TensorCoreSimulator
{
    private readonly TensorCoreKernel kernel;
    private readonly Node[] program;
    private readonly int slotCount;

    // Per-run state.
    private byte[][] global = [];
    private bool[][] written = [];
    private long[][] env = [];
    private uint[][][] registers = [];
    private byte[] shared = [];
    private int[] landedEpoch = [];
    private int[] readEpoch = [];
    private List<List<PendingCopy>>[] committed = [];
    private List<PendingCopy>[] open = [];
    private int epoch;
    private long mmaCount, ldmatrixCount, conflicts, cpBytes, elementCopies, barriers, stores;

    public TensorCoreSimulator(TensorCoreKernel kernel)
    {
        ArgumentNullException.ThrowIfNull(kernel);
        this.kernel = kernel;
        (program, slotCount) = TensorCoreProgramCompiler.Compile(kernel);
    }

    /// <summary>Runs the kernel on <paramref name="inputs"/> (by tensor name) and returns its outputs.</summary>
    public TensorCoreRunResult Run(IReadOnlyDictionary<string, TensorData> inputs)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        global = new byte[kernel.Tensors.Length][];
        written = new bool[kernel.Tensors.Length][];
        for (var i = 0; i < kernel.Tensors.Length; i++)
        {
            var tensor = kernel.Tensors[i];
            if (tensor.IsOutput)
            {
                global[i] = new byte[tensor.Elements * tensor.ElementBytes];
                written[i] = new bool[tensor.Elements];
            }
            else
            {
                if (!inputs.TryGetValue(tensor.Name, out var data) || data.Length != tensor.Elements || data.ElementType.Name() != tensor.ElementType)
                {
                    throw new ArgumentException($"input '{tensor.Name}' must be {tensor.ElementType}[{string.Join(", ", tensor.Shape)}]", nameof(inputs));
                }

                global[i] = data.ToBytes();
                written[i] = [];
            }
        }

        var threads = kernel.Threads;
        env = new long[threads][];
        registers = new uint[threads][][];
        for (var t = 0; t < threads; t++)
        {
            env[t] = new long[slotCount];
            registers[t] = [.. kernel.Registers.Select(r => new uint[r.Count])];
        }

        shared = new byte[kernel.SharedBytes];
        landedEpoch = new int[kernel.SharedBytes];
        readEpoch = new int[kernel.SharedBytes];
        committed = new List<List<PendingCopy>>[threads];
        open = new List<PendingCopy>[threads];
        for (var bz = 0; bz < kernel.GridZ; bz++)
        {
            for (var by = 0; by < kernel.GridY; by++)
            {
                for (var bx = 0; bx < kernel.GridX; bx++)
                {
                    RunBlock(bx, by, bz);
                }
            }
        }

        var outputs = new Dictionary<string, TensorData>(StringComparer.Ordinal);
        for (var i = 0; i < kernel.Tensors.Length; i++)
        {
            var tensor = kernel.Tensors[i];
            if (!tensor.IsOutput)
            {
                continue;
            }

            var missing = Array.IndexOf(written[i], false);
            if (missing >= 0)
            {
                throw new TensorCoreSimulationException(TensorCoreSimulatorDiagnostics.OutputCoverage, $"element {missing} of output '{tensor.Name}' was never written");
            }

            ElementTypes.TryParse(tensor.ElementType, out var type);
            outputs[tensor.Name] = TensorData.FromBytes(type, tensor.Shape, global[i]);
        }

        return new TensorCoreRunResult(outputs, new TensorCoreStatistics(
            kernel.Blocks, mmaCount, ldmatrixCount, conflicts, cpBytes, elementCopies, barriers, stores));
    }

    private void RunBlock(int bx, int by, int bz)
    {
        Array.Clear(shared);
        Array.Fill(landedEpoch, -1);
        Array.Fill(readEpoch, -1);
        epoch = 0;
        for (var t = 0; t < kernel.Threads; t++)
        {
            Array.Clear(env[t]);
            env[t][0] = t;
            env[t][1] = bx;
            env[t][2] = by;
            env[t][3] = bz;
            foreach (var array in registers[t])
            {
                Array.Clear(array);
            }

            committed[t] = [];
            open[t] = [];
        }

        Execute(program);
        for (var t = 0; t < kernel.Threads; t++)
        {
            if (open[t].Count > 0 || committed[t].Any(g => g.Count > 0))
            {
                throw new TensorCoreSimulationException(TensorCoreSimulatorDiagnostics.SharedRace,
                    $"block ({bx}, {by}, {bz}) thread {t} exits with cp.async copies that were never waited for");
            }
        }
    }

    private sealed record PendingCopy(int Shared, int Tensor, long SourceByte, int Bytes, bool Valid);

    // ----- execution -----

    private void Execute(Node[] nodes)
    {
        var threads = kernel.Threads;
        foreach (var node in nodes)
        {
            switch (node)
            {
                case LetNode let:
                    for (var t = 0; t < threads; t++)
                    {
                        env[t][let.Slot] = let.Value(env[t]);
                    }

                    break;
                case ForNode loop:
                    Loop(loop);
                    break;
                case IfNode branch:
                    Branch(branch);
                    break;
                case CopyNode copy:
                    for (var t = 0; t < threads; t++)
                    {
                        if (copy.Guard(env[t]) != 0)
                        {
                            Copy(copy, t);
                        }
                    }

                    break;
                case CommitNode:
                    Commit();
                    break;
                case WaitNode wait:
                    Wait(wait);
                    break;
                case BarrierNode:
                    epoch++;
                    barriers++;
                    break;
                default:
                    ExecuteWarpLevel(node);
                    break;
            }
        }
    }

    private void Loop(ForNode loop)
    {
        for (long i = 0; i < loop.Count; i++)
        {
            for (var t = 0; t < kernel.Threads; t++)
            {
                env[t][loop.Slot] = i;
            }

            Execute(loop.Body);
        }
    }

    private void Branch(IfNode branch)
    {
        var taken = branch.Condition(env[0]) != 0;
        for (var t = 1; t < kernel.Threads; t++)
        {
            if ((branch.Condition(env[t]) != 0) != taken)
            {
                throw new TensorCoreSimulationException(TensorCoreSimulatorDiagnostics.Divergence, $"threads 0 and {t} disagree on a block-uniform branch");
            }
        }

        if (taken)
        {
            Execute(branch.Body);
        }
    }

    private void Commit()
    {
        for (var t = 0; t < kernel.Threads; t++)
        {
            committed[t].Add(open[t]);
            open[t] = [];
        }
    }

    private void Wait(WaitNode wait)
    {
        for (var t = 0; t < kernel.Threads; t++)
        {
            while (committed[t].Count > wait.Pending)
            {
                foreach (var pending in committed[t][0])
                {
                    Land(pending);
                }

                committed[t].RemoveAt(0);
            }
        }
    }

    /// <summary>The fragment instructions: ldmatrix and mma per warp, zero and store per thread.</summary>
    private void ExecuteWarpLevel(Node node)
    {
        var threads = kernel.Threads;
        switch (node)
        {
            case LdMatrixNode load:
                for (var warp = 0; warp < threads / 32; warp++)
                {
                    LdMatrix(load, warp * 32);
                }

                break;
            case MmaNode mma:
                for (var warp = 0; warp < threads / 32; warp++)
                {
                    Mma(mma, warp * 32);
                }

                break;
            case ZeroNode zero:
                for (var t = 0; t < threads; t++)
                {
                    System.Array.Clear(registers[t][zero.Fragment]);
                }

                break;
            case StoreNode store:
                for (var t = 0; t < threads; t++)
                {
                    if (store.Valid(env[t]) != 0)
                    {
                        Store(store, t);
                    }
                }

                break;
            default:
                throw new InvalidOperationException($"unknown node {node}");
        }
    }

    private void Copy(CopyNode copy, int thread)
    {
        var tensor = kernel.Tensors[copy.Tensor];
        var bytes = copy.Async ? TensorCoreCpAsync.Bytes : tensor.ElementBytes;
        var destination = copy.Shared(env[thread]);
        var valid = copy.Valid(env[thread]) != 0;
        var source = valid ? copy.Offset(env[thread]) * tensor.ElementBytes : 0;
        if (destination < 0 || destination + bytes > shared.Length || destination % bytes != 0)
        {
            throw new TensorCoreSimulationException(TensorCoreSimulatorDiagnostics.BadAddress,
                $"thread {thread} copies {bytes} bytes to shared byte {destination} (size {shared.Length}; must be {bytes}-byte aligned)");
        }

        if (valid && (source < 0 || source + bytes > global[copy.Tensor].Length || source % bytes != 0))
        {
            throw new TensorCoreSimulationException(TensorCoreSimulatorDiagnostics.BadAddress,
                $"thread {thread} reads {bytes} bytes of '{tensor.Name}' at byte {source} (size {global[copy.Tensor].Length}; must be {bytes}-byte aligned)");
        }

        for (var i = destination; i < destination + bytes; i++)
        {
            if (readEpoch[i] == epoch)
            {
                throw new TensorCoreSimulationException(TensorCoreSimulatorDiagnostics.SharedRace,
                    $"thread {thread} writes shared byte {i}, which ldmatrix read since the last barrier");
            }
        }

        var pending = new PendingCopy((int)destination, copy.Tensor, source, bytes, valid);
        if (copy.Async)
        {
            cpBytes += bytes;
            for (var i = destination; i < destination + bytes; i++)
            {
                landedEpoch[i] = int.MaxValue;
            }

            open[thread].Add(pending);
        }
        else
        {
            elementCopies++;
            Land(pending);
        }
    }

    private void Land(PendingCopy copy)
    {
        if (copy.Valid)
        {
            global[copy.Tensor].AsSpan((int)copy.SourceByte, copy.Bytes).CopyTo(shared.AsSpan(copy.Shared, copy.Bytes));
        }
        else
        {
            shared.AsSpan(copy.Shared, copy.Bytes).Clear();
        }

        System.Array.Fill(landedEpoch, epoch, copy.Shared, copy.Bytes);
    }

    private void LdMatrix(LdMatrixNode load, int firstThread)
    {
        ldmatrixCount++;
        Span<byte> rows = stackalloc byte[4 * 8 * 16];
        Span<int> banks = stackalloc int[32];
        for (var j = 0; j < load.Count; j++)
        {
            banks.Clear();
            for (var i = 0; i < 8; i++)
            {
                var lane = (8 * j) + i;
                var address = load.Address(env[firstThread + lane]);
                if (address < 0 || address + 16 > shared.Length || address % 16 != 0)
                {
                    throw new TensorCoreSimulationException(TensorCoreSimulatorDiagnostics.BadAddress,
                        $"ldmatrix lane {lane} of thread {firstThread + lane}'s warp gives shared address {address} (size {shared.Length}, 16-byte aligned rows)");
                }

                for (var b = (int)address; b < address + 16; b++)
                {
                    if (landedEpoch[b] == -1 || landedEpoch[b] >= epoch)
                    {
                        throw new TensorCoreSimulationException(TensorCoreSimulatorDiagnostics.SharedRace, landedEpoch[b] == -1
                            ? $"ldmatrix reads shared byte {b}, which nothing wrote"
                            : $"ldmatrix reads shared byte {b} before its copy landed and a barrier followed (warp of thread {firstThread})");
                    }

                    readEpoch[b] = epoch;
                }

                shared.AsSpan((int)address, 16).CopyTo(rows.Slice(((j * 8) + i) * 16, 16));
                for (var w = 0; w < 4; w++)
                {
                    banks[TensorCoreSharedLayout.Bank(address + (4 * w))]++;
                }
            }

            // A phase of 8 rows x 16 bytes needs max-ways wavefronts; one when the banks are distinct.
            var ways = 0;
            foreach (var count in banks)
            {
                ways = Math.Max(ways, count);
            }

            conflicts += ways - 1;
        }

        for (var lane = 0; lane < 32; lane++)
        {
            var destination = registers[firstThread + lane][load.Fragment];
            for (var j = 0; j < load.Count; j++)
            {
                uint value = 0;
                for (var half = 0; half < 2; half++)
                {
                    var (row, column) = TensorCoreFragments.LdMatrix(lane, half, load.Trans);
                    uint element = BinaryPrimitives.ReadUInt16LittleEndian(rows.Slice((((j * 8) + row) * 16) + (2 * column), 2));
                    value |= element << (16 * half);
                }

                destination[load.First + j] = value;
            }
        }
    }

    private void Mma(MmaNode mma, int firstThread)
    {
        mmaCount++;
        var k = TensorCoreFragments.K(mma.Shape);
        var per = TensorCoreFragments.ElementsPerRegister(mma.Shape);
        if (mma.Shape == TensorCoreMmaShape.M16N8K16F16)
        {
            Span<float> a = stackalloc float[16 * 16];
            Span<float> b = stackalloc float[16 * 8];
            for (var lane = 0; lane < 32; lane++)
            {
                var regs = registers[firstThread + lane];
                for (var r = 0; r < 4; r++)
                {
                    for (var e = 0; e < per; e++)
                    {
                        var (row, kk) = TensorCoreFragments.A(mma.Shape, lane, r, e);
                        a[(row * k) + kk] = (float)BitConverter.UInt16BitsToHalf((ushort)(regs[mma.A][mma.AFirst + r] >> (16 * e)));
                    }
                }

                for (var r = 0; r < 2; r++)
                {
                    for (var e = 0; e < per; e++)
                    {
                        var (kk, column) = TensorCoreFragments.B(mma.Shape, lane, r, e);
                        b[(kk * 8) + column] = (float)BitConverter.UInt16BitsToHalf((ushort)(regs[mma.B][mma.BFirst + r] >> (16 * e)));
                    }
                }
            }

            for (var lane = 0; lane < 32; lane++)
            {
                var d = registers[firstThread + lane][mma.Accumulator];
                for (var r = 0; r < 4; r++)
                {
                    var (row, column) = TensorCoreFragments.C(lane, r);
                    var sum = BitConverter.UInt32BitsToSingle(d[mma.AccumulatorFirst + r]);
                    for (var kk = 0; kk < k; kk++)
                    {
                        sum += a[(row * k) + kk] * b[(kk * 8) + column];
                    }

                    d[mma.AccumulatorFirst + r] = BitConverter.SingleToUInt32Bits(sum);
                }
            }
        }
        else
        {
            Span<int> a = stackalloc int[16 * 32];
            Span<int> b = stackalloc int[32 * 8];
            for (var lane = 0; lane < 32; lane++)
            {
                var regs = registers[firstThread + lane];
                for (var r = 0; r < 4; r++)
                {
                    for (var e = 0; e < per; e++)
                    {
                        var (row, kk) = TensorCoreFragments.A(mma.Shape, lane, r, e);
                        a[(row * k) + kk] = unchecked((sbyte)(regs[mma.A][mma.AFirst + r] >> (8 * e)));
                    }
                }

                for (var r = 0; r < 2; r++)
                {
                    for (var e = 0; e < per; e++)
                    {
                        var (kk, column) = TensorCoreFragments.B(mma.Shape, lane, r, e);
                        b[(kk * 8) + column] = unchecked((sbyte)(regs[mma.B][mma.BFirst + r] >> (8 * e)));
                    }
                }
            }

            for (var lane = 0; lane < 32; lane++)
            {
                var d = registers[firstThread + lane][mma.Accumulator];
                for (var r = 0; r < 4; r++)
                {
                    var (row, column) = TensorCoreFragments.C(lane, r);
                    var sum = unchecked((int)d[mma.AccumulatorFirst + r]);
                    for (var kk = 0; kk < k; kk++)
                    {
                        sum = unchecked(sum + (a[(row * k) + kk] * b[(kk * 8) + column]));
                    }

                    d[mma.AccumulatorFirst + r] = unchecked((uint)sum);
                }
            }
        }
    }

    private void Store(StoreNode store, int thread)
    {
        stores++;
        var tensor = kernel.Tensors[store.Tensor];
        var offset = store.Offset(env[thread]);
        if (!tensor.IsOutput || tensor.ElementBytes != 4 || offset < 0 || offset >= tensor.Elements)
        {
            throw new TensorCoreSimulationException(TensorCoreSimulatorDiagnostics.BadAddress,
                $"thread {thread} stores to element {offset} of '{tensor.Name}' ({tensor.ElementType}, {tensor.Elements} elements)");
        }

        if (written[store.Tensor][offset])
        {
            throw new TensorCoreSimulationException(TensorCoreSimulatorDiagnostics.OutputCoverage, $"element {offset} of output '{tensor.Name}' is written twice");
        }

        written[store.Tensor][offset] = true;
        BinaryPrimitives.WriteUInt32LittleEndian(global[store.Tensor].AsSpan((int)(offset * 4), 4), registers[thread][store.Accumulator][store.Register]);
    }
}
