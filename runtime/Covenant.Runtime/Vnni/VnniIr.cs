using System.Collections.Immutable;

namespace Covenant.Runtime.Vnni;

// The VNNI kernel as a small structured program: scalar loops and arithmetic on 64-bit integers, and vector
// operations that are one AVX-512 / AVX-512VL intrinsic each. It is the single source of truth for the
// kernel: VnniCEmitter prints it as C with intrinsics (built with gcc and run natively), and the runtime's
// VnniSimulator executes the very same operations where the CPU lacks VNNI. Nothing in the simulator or the
// C is written by hand per operator; both follow this program.
//
// Memory is a list of buffers (VnniBufferInfo), each an array of one element type; indices are element
// indices. Vector registers hold Lanes int32 lanes (16 for zmm, 8 for ymm).

/// <summary>The element type of a buffer or of a scalar load/store.</summary>
public enum VnniScalarType
{
    I8,
    U8,
    I32,
}

/// <summary>What a buffer holds and who fills it.</summary>
public enum VnniBufferKind
{
    /// <summary>A codelet input, in the canonical byte form (row-major, i8 as signed bytes, i32 little-endian).</summary>
    Input,

    /// <summary>The codelet output the kernel writes.</summary>
    Output,

    /// <summary>Filled once by the kernel's <c>init</c> or <c>pack</c> function and kept (offset tables, packed weights).</summary>
    Persistent,

    /// <summary>Rewritten by every run (the padded u8 copy of A, per-thread partial sums).</summary>
    Scratch,
}

/// <param name="Tensor">The codelet tensor for inputs and outputs; null for workspace.</param>
public sealed record VnniBufferInfo(int Index, string Name, VnniScalarType ElementType, long Length, VnniBufferKind Kind, string? Tensor)
{
    public int ElementBytes => ElementType == VnniScalarType.I32 ? 4 : 1;

    public long Bytes => Length * ElementBytes;
}

/// <summary>A scalar variable (a C <c>int64_t</c>), numbered for the simulator's frame.</summary>
public sealed record VnniVar(int Slot, string Name);

/// <summary>A vector register (a C <c>__m512i</c> / <c>__m256i</c>), numbered for the simulator's frame.</summary>
public sealed record VnniVReg(int Slot, string Name);

public enum VnniBinary
{
    Add,
    Sub,
    Mul,

    /// <summary>Truncating division (the builder only divides non-negative values).</summary>
    Div,
    Rem,
    Min,
    Max,

    /// <summary>1 when left &lt; right, else 0.</summary>
    Less,

    /// <summary>1 when both are non-zero.</summary>
    And,
}

/// <summary>A 64-bit integer expression.</summary>
public abstract record VnniExpr
{
    public static implicit operator VnniExpr(long value) => new VnniConst(value);

    public static implicit operator VnniExpr(VnniVar variable) => new VnniVarRef(variable);

    public static VnniExpr operator +(VnniExpr left, VnniExpr right) => Fold(VnniBinary.Add, left, right);

    public static VnniExpr operator -(VnniExpr left, VnniExpr right) => Fold(VnniBinary.Sub, left, right);

    public static VnniExpr operator *(VnniExpr left, VnniExpr right) => Fold(VnniBinary.Mul, left, right);

    public static VnniExpr operator /(VnniExpr left, VnniExpr right) => Fold(VnniBinary.Div, left, right);

    public static VnniExpr operator %(VnniExpr left, VnniExpr right) => Fold(VnniBinary.Rem, left, right);

    public static VnniExpr Min(VnniExpr left, VnniExpr right) => Fold(VnniBinary.Min, left, right);

    public static VnniExpr Less(VnniExpr left, VnniExpr right) => Fold(VnniBinary.Less, left, right);

    public static VnniExpr And(VnniExpr left, VnniExpr right) => Fold(VnniBinary.And, left, right);

    // Constant folding and the identities x+0, x*1, x*0 keep the emitted C readable.
    private static VnniExpr Fold(VnniBinary op, VnniExpr left, VnniExpr right)
    {
        if (left is VnniConst l && right is VnniConst r)
        {
            return new VnniConst(VnniSemantics.Evaluate(op, l.Value, r.Value));
        }

        return (op, left, right) switch
        {
            (VnniBinary.Add, VnniConst { Value: 0 }, _) => right,
            (VnniBinary.Add or VnniBinary.Sub, _, VnniConst { Value: 0 }) => left,
            (VnniBinary.Mul, VnniConst { Value: 1 }, _) => right,
            (VnniBinary.Mul or VnniBinary.Div, _, VnniConst { Value: 1 }) => left,
            (VnniBinary.Mul, VnniConst { Value: 0 }, _) or (VnniBinary.Mul, _, VnniConst { Value: 0 }) => new VnniConst(0),
            (VnniBinary.Rem, _, VnniConst { Value: 1 }) => new VnniConst(0),
            _ => new VnniBinaryExpr(op, left, right),
        };
    }
}

public sealed record VnniConst(long Value) : VnniExpr;

public sealed record VnniVarRef(VnniVar Variable) : VnniExpr;

public sealed record VnniBinaryExpr(VnniBinary Op, VnniExpr Left, VnniExpr Right) : VnniExpr;

/// <summary><c>Condition != 0 ? WhenTrue : WhenFalse</c>.</summary>
public sealed record VnniSelect(VnniExpr Condition, VnniExpr WhenTrue, VnniExpr WhenFalse) : VnniExpr;

/// <summary>An element of a buffer, sign- or zero-extended from its type.</summary>
public sealed record VnniLoad(int Buffer, VnniExpr Index) : VnniExpr;

/// <summary>The number of the thread running the enclosing parallel loop (0 outside one, and in the simulator).</summary>
public sealed record VnniThreadId : VnniExpr;

/// <summary>A statement of a kernel function.</summary>
public abstract record VnniStmt;

/// <summary>
/// A scope: its variables and registers are private to it (and so to each thread of a parallel loop).
/// <see cref="Outline"/> names a block the C emitter prints as a function of its own (the register block: gcc
/// allocates registers far better in a small function); it changes no semantics, and the simulator runs it in place.
/// </summary>
public sealed record VnniBlock(ImmutableArray<VnniStmt> Body, string? Outline = null) : VnniStmt;

/// <summary>
/// <c>for (Var = From; Var &lt; To; Var += Step)</c>. <see cref="Parallel"/> loops are split over the threads: inside a
/// <see cref="VnniParallelRegion"/> as a work-shared loop that ends with a barrier (<c>omp for</c>), elsewhere as a
/// parallel loop of its own (<c>omp parallel for</c>).
/// </summary>
/// <param name="NoWait">A work-shared loop whose threads go on without the barrier at its end (<c>nowait</c>): for loops an
/// explicit <see cref="VnniBarrier"/> or the region's end follows.</param>
public sealed record VnniFor(VnniVar Var, VnniExpr From, VnniExpr To, long Step, VnniBlock Body, bool Parallel = false, bool NoWait = false) : VnniStmt;

/// <summary>
/// Every thread runs <see cref="Body"/> (<c>omp parallel</c>); its variables are private to each thread, its parallel
/// loops share out their iterations. One region per run keeps the thread wake-ups to one.
/// </summary>
public sealed record VnniParallelRegion(VnniBlock Body) : VnniStmt;

/// <summary>Inside a parallel region: one thread runs <see cref="Body"/>, the others go on (<c>omp single nowait</c>).</summary>
public sealed record VnniSingle(VnniBlock Body) : VnniStmt;

/// <summary>Inside a parallel region: every thread waits until all have arrived (<c>omp barrier</c>).</summary>
public sealed record VnniBarrier : VnniStmt;

/// <summary>Declares (on first use in a block) and assigns a scalar.</summary>
public sealed record VnniSet(VnniVar Var, VnniExpr Value) : VnniStmt;

public sealed record VnniIf(VnniExpr Condition, VnniBlock Then, VnniBlock? Else) : VnniStmt;

/// <summary>Stores the low bits of <see cref="Value"/> into an element of a buffer.</summary>
public sealed record VnniStore(int Buffer, VnniExpr Index, VnniExpr Value) : VnniStmt;

/// <summary>Sets <see cref="Count"/> elements from <see cref="Index"/> to <see cref="Value"/> (memset).</summary>
public sealed record VnniFill(int Buffer, VnniExpr Index, VnniExpr Count, long Value) : VnniStmt;

/// <summary>
/// Copies <see cref="Count"/> bytes to consecutive destination elements from source elements
/// <see cref="SourceStride"/> apart, each XORed with <see cref="Xor"/> (0x80 turns an i8 x into the u8 x + 128).
/// </summary>
public sealed record VnniCopyBytes(int Destination, VnniExpr DestinationIndex, int Source, VnniExpr SourceIndex, long SourceStride, VnniExpr Count, int Xor) : VnniStmt;

/// <summary>The vector operations. Each is one intrinsic; see <see cref="VnniSemantics"/> for what it computes.</summary>
public enum VnniVectorOp
{
    /// <summary><c>d = 0</c> (vpxord).</summary>
    Zero,

    /// <summary><c>d = 4 x Lanes bytes at &amp;buffer[index]</c> (vmovdqu32), or the first Count lanes, the rest 0 (masked).</summary>
    Load,

    /// <summary><c>d[j] = the int32 at &amp;buffer[index]</c> for every lane (vpbroadcastd from memory).</summary>
    Broadcast,

    /// <summary><c>d[j] = (int32)Scalar</c> (vpbroadcastd from a general register).</summary>
    Set1,

    /// <summary><c>d[j] += Σ_{k&lt;4} u8(a.byte[4j+k]) · s8(b.byte[4j+k])</c>, wrapping (vpdpbusd; not the saturating vpdpbusds).</summary>
    Dpbusd,

    /// <summary><c>d = a + b</c> (vpaddd, wrapping).</summary>
    Add,

    /// <summary><c>d = max(a, b)</c> signed (vpmaxsd).</summary>
    Max,

    /// <summary><c>d = a ^ b</c> (vpxord): flips the sign bit of each byte of a broadcast signed A, i8 into u8 + 128.</summary>
    Xor,

    /// <summary><c>d = min(a, b)</c> signed (vpminsd).</summary>
    Min,

    /// <summary><c>d = a &gt;&gt; Immediate</c> arithmetic (vpsrad imm8).</summary>
    ShiftRight,

    /// <summary>Stores the first Count int32 lanes of a at &amp;buffer[index] (vmovdqu32, masked when Count &lt; Lanes).</summary>
    Store32,

    /// <summary>Stores the low byte of the first Count lanes of a at &amp;buffer[index] (vpmovdb: truncation, masked).</summary>
    Store8,
}

/// <summary>
/// One vector instruction. Unused operands are null. <see cref="Count"/> is the number of lanes a load or store
/// touches (a constant: shapes are static, so the partial vectors are known when the kernel is built).
/// </summary>
public sealed record VnniVector(
    VnniVectorOp Op,
    VnniVReg? Destination,
    VnniVReg? A = null,
    VnniVReg? B = null,
    int Buffer = -1,
    VnniExpr? Index = null,
    VnniExpr? Scalar = null,
    int Immediate = 0,
    int Count = 0) : VnniStmt;

/// <summary>A kernel entry point: <c>void Name(void** buffers)</c>.</summary>
public sealed record VnniFunction(string Name, VnniBlock Body);

/// <summary>
/// A whole kernel: its buffers, its entry points (<c>init</c> builds the offset tables, <c>pack</c> packs the
/// weights, <c>run</c> computes the output from the inputs) and the register width.
/// </summary>
public sealed record VnniProgram(
    string Name,
    int Lanes,
    ImmutableArray<VnniBufferInfo> Buffers,
    ImmutableArray<VnniFunction> Functions,
    int VariableCount,
    int RegisterCount,
    int Threads)
{
    public const string InitFunction = "init";
    public const string PackFunction = "pack";
    public const string RunFunction = "run";

    public VnniFunction Function(string name) => Functions.First(f => f.Name == name);

    public VnniBufferInfo BufferOf(string tensor) => Buffers.First(b => b.Tensor == tensor);
}

/// <summary>The scalar semantics shared by the C emitter (which prints them) and the simulator (which runs them).</summary>
public static class VnniSemantics
{
    public static long Evaluate(VnniBinary op, long left, long right) => op switch
    {
        VnniBinary.Add => unchecked(left + right),
        VnniBinary.Sub => unchecked(left - right),
        VnniBinary.Mul => unchecked(left * right),
        VnniBinary.Div => left / right,
        VnniBinary.Rem => left % right,
        VnniBinary.Min => Math.Min(left, right),
        VnniBinary.Max => Math.Max(left, right),
        VnniBinary.Less => left < right ? 1 : 0,
        VnniBinary.And => left != 0 && right != 0 ? 1 : 0,
        _ => throw new ArgumentOutOfRangeException(nameof(op), op, null),
    };
}
