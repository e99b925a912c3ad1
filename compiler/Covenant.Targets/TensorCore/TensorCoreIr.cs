using System.Collections.Immutable;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Covenant.Targets.TensorCore;

// The TensorCore target's program: one thread block's instruction stream, the same for every block of the grid.
// The CUDA printer (TensorCoreCudaPrinter) prints it, the runtime's warp simulator executes it, and the artifact
// keeps it as JSON (TensorCoreTarget.ProgramFile), so what is simulated is exactly what is printed.
//
// Integer expressions (TcExpr) compute addresses, predicates and offsets from the built-in per-thread values
// tid (threadIdx.x) and bx, by, bz (blockIdx), from loop counters (TcFor) and from per-thread variables (TcLet).
// All integers are 32-bit in CUDA and 64-bit in the simulator; the builder refuses problems whose offsets reach
// 2^31, so both agree. Division and remainder truncate toward zero as in C; the builder divides only values that
// are never negative.
//
// Statements are either per thread (let, cp.async, element copies, commit/wait, accumulator stores: each thread
// evaluates its own operands), block-wide (barrier, for and if with block-uniform conditions), or per warp
// (ldmatrix, mma: the 32 lanes act together, with the PTX fragment layouts).

public enum TcOp
{
    Add,
    Sub,
    Mul,
    Div,
    Rem,
    Xor,
    Shl,
    Less,
    And,
}

[JsonPolymorphic(TypeDiscriminatorPropertyName = "e")]
[JsonDerivedType(typeof(TcConst), "const")]
[JsonDerivedType(typeof(TcVar), "var")]
[JsonDerivedType(typeof(TcBinary), "bin")]
public abstract record TcExpr
{
    public static TcExpr Of(long value) => new TcConst(value);

    public static TcExpr Var(string name) => new TcVar(name);

    // Constant folding and identities keep the printed CUDA readable (no "x * 1 + 0").
    public static TcExpr operator +(TcExpr left, TcExpr right) => (left, right) switch
    {
        (TcConst a, TcConst b) => new TcConst(a.Value + b.Value),
        (TcConst { Value: 0 }, _) => right,
        (_, TcConst { Value: 0 }) => left,
        _ => new TcBinary(TcOp.Add, left, right),
    };

    public static TcExpr operator +(TcExpr left, long right) => left + Of(right);

    public static TcExpr operator -(TcExpr left, TcExpr right) => (left, right) switch
    {
        (TcConst a, TcConst b) => new TcConst(a.Value - b.Value),
        (_, TcConst { Value: 0 }) => left,
        _ => new TcBinary(TcOp.Sub, left, right),
    };

    public static TcExpr operator *(TcExpr left, TcExpr right) => (left, right) switch
    {
        (TcConst a, TcConst b) => new TcConst(a.Value * b.Value),
        (TcConst { Value: 0 }, _) or (_, TcConst { Value: 0 }) => new TcConst(0),
        (TcConst { Value: 1 }, _) => right,
        (_, TcConst { Value: 1 }) => left,
        _ => new TcBinary(TcOp.Mul, left, right),
    };

    public static TcExpr operator *(TcExpr left, long right) => left * Of(right);

    public static TcExpr operator /(TcExpr left, long right) => (left, right) switch
    {
        (TcConst a, _) => new TcConst(a.Value / right),
        (_, 1) => left,
        _ => new TcBinary(TcOp.Div, left, Of(right)),
    };

    public static TcExpr operator %(TcExpr left, long right) => (left, right) switch
    {
        (TcConst a, _) => new TcConst(a.Value % right),
        (_, 1) => new TcConst(0),
        _ => new TcBinary(TcOp.Rem, left, Of(right)),
    };

    public static TcExpr operator ^(TcExpr left, TcExpr right) => (left, right) switch
    {
        (TcConst a, TcConst b) => new TcConst(a.Value ^ b.Value),
        (TcConst { Value: 0 }, _) => right,
        (_, TcConst { Value: 0 }) => left,
        _ => new TcBinary(TcOp.Xor, left, right),
    };

    public static TcExpr operator <<(TcExpr left, int right) => (left, right) switch
    {
        (TcConst a, _) => new TcConst(a.Value << right),
        (_, 0) => left,
        _ => new TcBinary(TcOp.Shl, left, Of(right)),
    };

    /// <summary>1 when left &lt; right, else 0.</summary>
    public static TcExpr Less(TcExpr left, TcExpr right) => (left, right) switch
    {
        (TcConst a, TcConst b) => new TcConst(a.Value < b.Value ? 1 : 0),
        _ => new TcBinary(TcOp.Less, left, right),
    };

    /// <summary>Logical and of two predicates (1 or 0).</summary>
    public static TcExpr And(TcExpr left, TcExpr right) => (left, right) switch
    {
        (TcConst { Value: 0 }, _) or (_, TcConst { Value: 0 }) => new TcConst(0),
        (TcConst, _) => right,
        (_, TcConst) => left,
        _ => new TcBinary(TcOp.And, left, right),
    };

    public static readonly TcExpr True = new TcConst(1);
}

public sealed record TcConst(long Value) : TcExpr;

/// <summary>A built-in (<c>tid</c>, <c>bx</c>, <c>by</c>, <c>bz</c>), a loop counter or a <see cref="TcLet"/> variable.</summary>
public sealed record TcVar(string Name) : TcExpr;

public sealed record TcBinary(TcOp Op, TcExpr Left, TcExpr Right) : TcExpr;

/// <summary>The two warp-level MMA instructions this target issues.</summary>
public enum TcMmaShape
{
    /// <summary><c>mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32</c></summary>
    M16N8K16F16,

    /// <summary><c>mma.sync.aligned.m16n8k32.row.col.s32.s8.s8.s32</c></summary>
    M16N8K32S8,
}

public enum TcRegisterKind
{
    /// <summary>32-bit registers holding packed f16 pairs or s8 quadruples (mma A and B fragments).</summary>
    B32,
    F32,
    S32,
}

public sealed record TcRegisterArray(string Name, int Count, TcRegisterKind Kind);

/// <param name="ElementType">f16, i8, f32 or i32 (the codelet's name).</param>
/// <param name="Elements">Elements of the tensor (row-major, as the codelet declares it).</param>
public sealed record TcTensor(string Name, string ElementType, ImmutableArray<int> Shape, long Elements, bool IsOutput)
{
    public int ElementBytes => ElementType switch
    {
        "i8" or "u8" => 1,
        "f16" => 2,
        _ => 4,
    };
}

[JsonPolymorphic(TypeDiscriminatorPropertyName = "op")]
[JsonDerivedType(typeof(TcLet), "let")]
[JsonDerivedType(typeof(TcFor), "for")]
[JsonDerivedType(typeof(TcIf), "if")]
[JsonDerivedType(typeof(TcCpAsync), "cp.async")]
[JsonDerivedType(typeof(TcCopyElement), "copy")]
[JsonDerivedType(typeof(TcCommitGroup), "commit")]
[JsonDerivedType(typeof(TcWaitGroup), "wait")]
[JsonDerivedType(typeof(TcBarrier), "barrier")]
[JsonDerivedType(typeof(TcLdMatrix), "ldmatrix")]
[JsonDerivedType(typeof(TcMma), "mma")]
[JsonDerivedType(typeof(TcZero), "zero")]
[JsonDerivedType(typeof(TcStore), "store")]
[JsonDerivedType(typeof(TcComment), "comment")]
public abstract record TcStmt;

/// <summary>A per-thread variable (assigned once per execution of the enclosing body; names are unique).</summary>
public sealed record TcLet(string Var, TcExpr Value) : TcStmt;

/// <summary>A block-uniform counted loop <c>for (Var = 0; Var &lt; Count; ++Var)</c>.</summary>
public sealed record TcFor(string Var, long Count, ImmutableArray<TcStmt> Body) : TcStmt;

/// <summary>A block-uniform branch (every thread of the block must agree; the simulator checks it).</summary>
public sealed record TcIf(TcExpr Condition, ImmutableArray<TcStmt> Body) : TcStmt;

/// <summary>
/// <c>cp.async.cg.shared.global</c> of 16 bytes from <see cref="Tensor"/> at element <see cref="Offset"/> to the shared
/// byte address <see cref="Shared"/>, issued by the threads whose <see cref="Guard"/> holds; where <see cref="Valid"/> is
/// 0 the source size is 0 and the 16 bytes are zero-filled (the padding of the GEMM).
/// </summary>
public sealed record TcCpAsync(TcExpr Shared, string Tensor, TcExpr Offset, TcExpr Valid, TcExpr Guard) : TcStmt
{
    public const int Bytes = 16;
}

/// <summary>A synchronous copy of one element (<c>ld.global</c> + <c>st.shared</c>), zero where <see cref="Valid"/> is 0:
/// the fallback for operands whose reduction run is not 16-byte contiguous in global memory.</summary>
public sealed record TcCopyElement(TcExpr Shared, string Tensor, TcExpr Offset, TcExpr Valid, TcExpr Guard) : TcStmt;

/// <summary><c>cp.async.commit_group</c></summary>
public sealed record TcCommitGroup : TcStmt;

/// <summary><c>cp.async.wait_group Pending</c>: all but the newest <see cref="Pending"/> committed groups have landed.</summary>
public sealed record TcWaitGroup(int Pending) : TcStmt;

/// <summary><c>__syncthreads()</c></summary>
public sealed record TcBarrier : TcStmt;

/// <summary>
/// <c>ldmatrix.sync.aligned.m8n8.x{Count}[.trans].shared.b16</c>: lane 8j + i gives the shared byte address of row i of
/// matrix j (16 bytes); register <see cref="First"/> + j of <see cref="Fragment"/> receives matrix j.
/// </summary>
public sealed record TcLdMatrix(int Count, bool Trans, string Fragment, int First, TcExpr Address) : TcStmt;

/// <summary>One warp-level mma: D = A x B + D with D = <see cref="Accumulator"/>[AccumulatorFirst..+4],
/// A = <see cref="A"/>[AFirst..+4], B = <see cref="B"/>[BFirst..+2].</summary>
public sealed record TcMma(TcMmaShape Shape, string Accumulator, int AccumulatorFirst, string A, int AFirst, string B, int BFirst) : TcStmt;

/// <summary>Sets every register of a fragment to zero.</summary>
public sealed record TcZero(string Fragment) : TcStmt;

/// <summary>Stores accumulator register <see cref="Register"/> of <see cref="Accumulator"/> to <see cref="Tensor"/> at element
/// <see cref="Offset"/> where <see cref="Valid"/> holds (outside the GEMM's M x N the padding's results are dropped).</summary>
public sealed record TcStore(string Accumulator, int Register, string Tensor, TcExpr Offset, TcExpr Valid) : TcStmt;

/// <summary>A line of explanation in the printed CUDA; no effect.</summary>
public sealed record TcComment(string Text) : TcStmt;

/// <summary>The GEMM the kernel computes, for the host harness's cuBLAS comparison and for reports.</summary>
public sealed record TcGemmShape(long M, long N, long K, long Batch);

/// <summary>
/// One kernel: its tensors (inputs then outputs, in the codelet's order), launch configuration (grid, threads per
/// block, dynamic shared memory), register arrays, and the block's statements.
/// </summary>
public sealed record TcKernel(
    string Name,
    string Architecture,
    int ComputeCapability,
    TcMmaShape Shape,
    ImmutableArray<TcTensor> Tensors,
    int GridX,
    int GridY,
    int GridZ,
    int Threads,
    int SharedBytes,
    ImmutableArray<TcRegisterArray> Registers,
    ImmutableArray<TcStmt> Body,
    TcGemmShape Gemm,
    string Description)
{
    public const int FormatVersion = 1;

    public int Version { get; init; } = FormatVersion;

    public TcTensor Tensor(string name) => Tensors.First(t => t.Name == name);

    public TcRegisterArray Register(string name) => Registers.First(r => r.Name == name);

    public long Blocks => (long)GridX * GridY * GridZ;

    public static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = false,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        Converters = { new JsonStringEnumConverter() },
    };

    public string ToJson() => JsonSerializer.Serialize(this, Json);

    /// <summary>Reads a program back; throws <see cref="JsonException"/> or <see cref="InvalidDataException"/> on a bad file.</summary>
    public static TcKernel FromJson(string json)
    {
        var kernel = JsonSerializer.Deserialize<TcKernel>(json, Json) ?? throw new InvalidDataException("the program file is empty");
        if (kernel.Version != FormatVersion)
        {
            throw new InvalidDataException($"program format {kernel.Version} is not {FormatVersion}; recompile the artifact");
        }

        if (kernel.Tensors.IsDefault || kernel.Body.IsDefault || kernel.Registers.IsDefault)
        {
            throw new InvalidDataException("the program file is incomplete");
        }

        return kernel;
    }

    /// <summary>Every statement, depth first (for counting and checks).</summary>
    public IEnumerable<TcStmt> AllStatements() => Walk(Body);

    private static IEnumerable<TcStmt> Walk(ImmutableArray<TcStmt> body)
    {
        foreach (var statement in body)
        {
            yield return statement;
            var inner = statement switch
            {
                TcFor f => f.Body,
                TcIf i => i.Body,
                _ => ImmutableArray<TcStmt>.Empty,
            };
            foreach (var nested in Walk(inner))
            {
                yield return nested;
            }
        }
    }
}
