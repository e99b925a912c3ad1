using System.Collections.Immutable;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Covenant.Runtime.TensorCore;

// The TensorCore target's program: one thread block's instruction stream, the same for every block of the grid.
// The CUDA printer (TensorCoreCudaPrinter) prints it, the runtime's warp simulator executes it, and the artifact
// keeps it as JSON (TensorCoreTarget.ProgramFile), so what is simulated is exactly what is printed.
//
// Integer expressions (TensorCoreExpr) compute addresses, predicates and offsets from the built-in per-thread values
// tid (threadIdx.x) and bx, by, bz (blockIdx), from loop counters (TensorCoreFor) and from per-thread variables (TensorCoreLet).
// All integers are 32-bit in CUDA and 64-bit in the simulator; the builder refuses problems whose offsets reach
// 2^31, so both agree. Division and remainder truncate toward zero as in C; the builder divides only values that
// are never negative.
//
// Statements are either per thread (let, cp.async, element copies, commit/wait, accumulator stores: each thread
// evaluates its own operands), block-wide (barrier, for and if with block-uniform conditions), or per warp
// (ldmatrix, mma: the 32 lanes act together, with the PTX fragment layouts).

public enum TensorCoreOp
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
[JsonDerivedType(typeof(TensorCoreConst), "const")]
[JsonDerivedType(typeof(TensorCoreVar), "var")]
[JsonDerivedType(typeof(TensorCoreBinary), "bin")]
public abstract record TensorCoreExpr
{
    public static TensorCoreExpr Of(long value) => new TensorCoreConst(value);

    public static TensorCoreExpr Var(string name) => new TensorCoreVar(name);

    // Constant folding and identities keep the printed CUDA readable (no "x * 1 + 0").
    public static TensorCoreExpr operator +(TensorCoreExpr left, TensorCoreExpr right) => (left, right) switch
    {
        (TensorCoreConst a, TensorCoreConst b) => new TensorCoreConst(a.Value + b.Value),
        (TensorCoreConst { Value: 0 }, _) => right,
        (_, TensorCoreConst { Value: 0 }) => left,
        _ => new TensorCoreBinary(TensorCoreOp.Add, left, right),
    };

    public static TensorCoreExpr operator +(TensorCoreExpr left, long right) => left + Of(right);

    public static TensorCoreExpr operator -(TensorCoreExpr left, TensorCoreExpr right) => (left, right) switch
    {
        (TensorCoreConst a, TensorCoreConst b) => new TensorCoreConst(a.Value - b.Value),
        (_, TensorCoreConst { Value: 0 }) => left,
        _ => new TensorCoreBinary(TensorCoreOp.Sub, left, right),
    };

    public static TensorCoreExpr operator *(TensorCoreExpr left, TensorCoreExpr right) => (left, right) switch
    {
        (TensorCoreConst a, TensorCoreConst b) => new TensorCoreConst(a.Value * b.Value),
        (TensorCoreConst { Value: 0 }, _) or (_, TensorCoreConst { Value: 0 }) => new TensorCoreConst(0),
        (TensorCoreConst { Value: 1 }, _) => right,
        (_, TensorCoreConst { Value: 1 }) => left,
        _ => new TensorCoreBinary(TensorCoreOp.Mul, left, right),
    };

    public static TensorCoreExpr operator *(TensorCoreExpr left, long right) => left * Of(right);

    public static TensorCoreExpr operator /(TensorCoreExpr left, long right) => (left, right) switch
    {
        (TensorCoreConst a, _) => new TensorCoreConst(a.Value / right),
        (_, 1) => left,
        _ => new TensorCoreBinary(TensorCoreOp.Div, left, Of(right)),
    };

    public static TensorCoreExpr operator %(TensorCoreExpr left, long right) => (left, right) switch
    {
        (TensorCoreConst a, _) => new TensorCoreConst(a.Value % right),
        (_, 1) => new TensorCoreConst(0),
        _ => new TensorCoreBinary(TensorCoreOp.Rem, left, Of(right)),
    };

    public static TensorCoreExpr operator ^(TensorCoreExpr left, TensorCoreExpr right) => (left, right) switch
    {
        (TensorCoreConst a, TensorCoreConst b) => new TensorCoreConst(a.Value ^ b.Value),
        (TensorCoreConst { Value: 0 }, _) => right,
        (_, TensorCoreConst { Value: 0 }) => left,
        _ => new TensorCoreBinary(TensorCoreOp.Xor, left, right),
    };

    public static TensorCoreExpr operator <<(TensorCoreExpr left, int right) => (left, right) switch
    {
        (TensorCoreConst a, _) => new TensorCoreConst(a.Value << right),
        (_, 0) => left,
        _ => new TensorCoreBinary(TensorCoreOp.Shl, left, Of(right)),
    };

    /// <summary>1 when left &lt; right, else 0.</summary>
    public static TensorCoreExpr Less(TensorCoreExpr left, TensorCoreExpr right) => (left, right) switch
    {
        (TensorCoreConst a, TensorCoreConst b) => new TensorCoreConst(a.Value < b.Value ? 1 : 0),
        _ => new TensorCoreBinary(TensorCoreOp.Less, left, right),
    };

    /// <summary>Logical and of two predicates (1 or 0).</summary>
    public static TensorCoreExpr And(TensorCoreExpr left, TensorCoreExpr right) => (left, right) switch
    {
        (TensorCoreConst { Value: 0 }, _) or (_, TensorCoreConst { Value: 0 }) => new TensorCoreConst(0),
        (TensorCoreConst, _) => right,
        (_, TensorCoreConst) => left,
        _ => new TensorCoreBinary(TensorCoreOp.And, left, right),
    };

    public static readonly TensorCoreExpr True = new TensorCoreConst(1);
}

public sealed record TensorCoreConst(long Value) : TensorCoreExpr;

/// <summary>A built-in (<c>tid</c>, <c>bx</c>, <c>by</c>, <c>bz</c>), a loop counter or a <see cref="TensorCoreLet"/> variable.</summary>
public sealed record TensorCoreVar(string Name) : TensorCoreExpr;

public sealed record TensorCoreBinary(TensorCoreOp Op, TensorCoreExpr Left, TensorCoreExpr Right) : TensorCoreExpr;

/// <summary>The two warp-level MMA instructions this target issues.</summary>
public enum TensorCoreMmaShape
{
    /// <summary><c>mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32</c></summary>
    M16N8K16F16,

    /// <summary><c>mma.sync.aligned.m16n8k32.row.col.s32.s8.s8.s32</c></summary>
    M16N8K32S8,
}

public enum TensorCoreRegisterKind
{
    /// <summary>32-bit registers holding packed f16 pairs or s8 quadruples (mma A and B fragments).</summary>
    B32,
    F32,
    S32,
}

public sealed record TensorCoreRegisterArray(string Name, int Count, TensorCoreRegisterKind Kind);

/// <param name="ElementType">f16, i8, f32 or i32 (the codelet's name).</param>
/// <param name="Elements">Elements of the tensor (row-major, as the codelet declares it).</param>
public sealed record TensorCoreTensor(string Name, string ElementType, ImmutableArray<int> Shape, long Elements, bool IsOutput)
{
    public int ElementBytes => ElementType switch
    {
        "i8" or "u8" => 1,
        "f16" => 2,
        _ => 4,
    };
}

[JsonPolymorphic(TypeDiscriminatorPropertyName = "op")]
[JsonDerivedType(typeof(TensorCoreLet), "let")]
[JsonDerivedType(typeof(TensorCoreFor), "for")]
[JsonDerivedType(typeof(TensorCoreIf), "if")]
[JsonDerivedType(typeof(TensorCoreCpAsync), "cp.async")]
[JsonDerivedType(typeof(TensorCoreCopyElement), "copy")]
[JsonDerivedType(typeof(TensorCoreCommitGroup), "commit")]
[JsonDerivedType(typeof(TensorCoreWaitGroup), "wait")]
[JsonDerivedType(typeof(TensorCoreBarrier), "barrier")]
[JsonDerivedType(typeof(TensorCoreLdMatrix), "ldmatrix")]
[JsonDerivedType(typeof(TensorCoreMma), "mma")]
[JsonDerivedType(typeof(TensorCoreZero), "zero")]
[JsonDerivedType(typeof(TensorCoreStore), "store")]
[JsonDerivedType(typeof(TensorCoreComment), "comment")]
public abstract record TensorCoreStmt;

/// <summary>A per-thread variable (assigned once per execution of the enclosing body; names are unique).</summary>
public sealed record TensorCoreLet(string Var, TensorCoreExpr Value) : TensorCoreStmt;

/// <summary>A block-uniform counted loop <c>for (Var = 0; Var &lt; Count; ++Var)</c>.</summary>
public sealed record TensorCoreFor(string Var, long Count, ImmutableArray<TensorCoreStmt> Body) : TensorCoreStmt;

/// <summary>A block-uniform branch (every thread of the block must agree; the simulator checks it).</summary>
public sealed record TensorCoreIf(TensorCoreExpr Condition, ImmutableArray<TensorCoreStmt> Body) : TensorCoreStmt;

/// <summary>
/// <c>cp.async.cg.shared.global</c> of 16 bytes from <see cref="Tensor"/> at element <see cref="Offset"/> to the shared
/// byte address <see cref="Shared"/>, issued by the threads whose <see cref="Guard"/> holds; where <see cref="Valid"/> is
/// 0 the source size is 0 and the 16 bytes are zero-filled (the padding of the GEMM).
/// </summary>
public sealed record TensorCoreCpAsync(TensorCoreExpr Shared, string Tensor, TensorCoreExpr Offset, TensorCoreExpr Valid, TensorCoreExpr Guard) : TensorCoreStmt
{
    public const int Bytes = 16;
}

/// <summary>A synchronous copy of one element (<c>ld.global</c> + <c>st.shared</c>), zero where <see cref="Valid"/> is 0:
/// the fallback for operands whose reduction run is not 16-byte contiguous in global memory.</summary>
public sealed record TensorCoreCopyElement(TensorCoreExpr Shared, string Tensor, TensorCoreExpr Offset, TensorCoreExpr Valid, TensorCoreExpr Guard) : TensorCoreStmt;

/// <summary><c>cp.async.commit_group</c></summary>
public sealed record TensorCoreCommitGroup : TensorCoreStmt;

/// <summary><c>cp.async.wait_group Pending</c>: all but the newest <see cref="Pending"/> committed groups have landed.</summary>
public sealed record TensorCoreWaitGroup(int Pending) : TensorCoreStmt;

/// <summary><c>__syncthreads()</c></summary>
public sealed record TensorCoreBarrier : TensorCoreStmt;

/// <summary>
/// <c>ldmatrix.sync.aligned.m8n8.x{Count}[.trans].shared.b16</c>: lane 8j + i gives the shared byte address of row i of
/// matrix j (16 bytes); register <see cref="First"/> + j of <see cref="Fragment"/> receives matrix j.
/// </summary>
public sealed record TensorCoreLdMatrix(int Count, bool Trans, string Fragment, int First, TensorCoreExpr Address) : TensorCoreStmt;

/// <summary>One warp-level mma: D = A x B + D with D = <see cref="Accumulator"/>[AccumulatorFirst..+4],
/// A = <see cref="A"/>[AFirst..+4], B = <see cref="B"/>[BFirst..+2].</summary>
public sealed record TensorCoreMma(TensorCoreMmaShape Shape, string Accumulator, int AccumulatorFirst, string A, int AFirst, string B, int BFirst) : TensorCoreStmt;

/// <summary>Sets every register of a fragment to zero.</summary>
public sealed record TensorCoreZero(string Fragment) : TensorCoreStmt;

/// <summary>Stores accumulator register <see cref="Register"/> of <see cref="Accumulator"/> to <see cref="Tensor"/> at element
/// <see cref="Offset"/> where <see cref="Valid"/> holds (outside the GEMM's M x N the padding's results are dropped).</summary>
public sealed record TensorCoreStore(string Accumulator, int Register, string Tensor, TensorCoreExpr Offset, TensorCoreExpr Valid) : TensorCoreStmt;

/// <summary>A line of explanation in the printed CUDA; no effect.</summary>
public sealed record TensorCoreComment(string Text) : TensorCoreStmt;

/// <summary>The GEMM the kernel computes, for the host harness's cuBLAS comparison and for reports.</summary>
public sealed record TensorCoreGemmShape(long M, long N, long K, long Batch);

/// <summary>
/// One kernel: its tensors (inputs then outputs, in the codelet's order), launch configuration (grid, threads per
/// block, dynamic shared memory), register arrays, and the block's statements.
/// </summary>
public sealed record TensorCoreKernel(
    string Name,
    string Architecture,
    int ComputeCapability,
    TensorCoreMmaShape Shape,
    ImmutableArray<TensorCoreTensor> Tensors,
    int GridX,
    int GridY,
    int GridZ,
    int Threads,
    int SharedBytes,
    ImmutableArray<TensorCoreRegisterArray> Registers,
    ImmutableArray<TensorCoreStmt> Body,
    TensorCoreGemmShape Gemm,
    string Description)
{
    public const int FormatVersion = 1;

    public int Version { get; init; } = FormatVersion;

    public TensorCoreTensor Tensor(string name) => Tensors.First(t => t.Name == name);

    public TensorCoreRegisterArray Register(string name) => Registers.First(r => r.Name == name);

    public long Blocks => (long)GridX * GridY * GridZ;

    public static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = false,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        Converters = { new JsonStringEnumConverter() },
    };

    public string ToJson() => JsonSerializer.Serialize(this, Json);

    /// <summary>Reads a program back; throws <see cref="JsonException"/> or <see cref="InvalidDataException"/> on a bad file.</summary>
    public static TensorCoreKernel FromJson(string json)
    {
        var kernel = JsonSerializer.Deserialize<TensorCoreKernel>(json, Json) ?? throw new InvalidDataException("the program file is empty");
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
    public IEnumerable<TensorCoreStmt> AllStatements() => Walk(Body);

    private static IEnumerable<TensorCoreStmt> Walk(ImmutableArray<TensorCoreStmt> body)
    {
        foreach (var statement in body)
        {
            yield return statement;
            var inner = statement switch
            {
                TensorCoreFor f => f.Body,
                TensorCoreIf i => i.Body,
                _ => ImmutableArray<TensorCoreStmt>.Empty,
            };
            foreach (var nested in Walk(inner))
            {
                yield return nested;
            }
        }
    }
}
