using System.Collections.Immutable;
using Covenant.Codelets;
using Covenant.Codelets.Semantics;
using Covenant.Runtime.Artifacts;

namespace Covenant.Runtime.TensorCore;

/// <summary>
/// Checks a <see cref="TensorCoreKernel"/> read from an artifact before it is printed (to compare with the CUDA) or
/// simulated: every member present, every enum value one the compiler writes, every register and tensor a statement
/// names declared (and its register range inside the array), launch sizes within what a GPU allows, and the tensors
/// exactly the codelet instance's inputs and outputs in type and shape. After this the printer and the simulator's
/// allocations are sized by the instance, never by a value from the file alone.
/// </summary>
public static class TensorCoreProgramChecks
{
    /// <summary>Threads per block and dynamic shared memory per block that CUDA allows on the targets (sm80, sm90).</summary>
    public const int MaxThreads = 1024;

    public const int MaxSharedBytes = 228 * 1024;

    /// <summary>Registers per array: a thread has 255.</summary>
    public const int MaxRegisters = 255;

    public static void Check(TensorCoreKernel kernel, CodeletInstance instance, ArtifactFileCheck check)
    {
        ArgumentNullException.ThrowIfNull(kernel);
        ArgumentNullException.ThrowIfNull(instance);
        ArgumentNullException.ThrowIfNull(check);
        if (!check.Require(kernel.Name is not null, "$.name", "the program has no name")
            || !check.Require(kernel.Architecture is not null, "$.architecture", "the program names no architecture")
            || !check.Require(kernel.Description is not null, "$.description", "the program has no description")
            || !check.Require(kernel.Gemm is not null, "$.gemm", "the program has no GEMM shape")
            || !check.Require(Enum.IsDefined(kernel.Shape), "$.shape", $"'{kernel.Shape}' is not an mma shape")
            || !check.Require(kernel.Threads is > 0 and <= MaxThreads && kernel.Threads % 32 == 0, "$.threads",
                $"{kernel.Threads} threads; a block has a multiple of 32 up to {MaxThreads}")
            || !check.Require(kernel.SharedBytes is >= 0 and <= MaxSharedBytes, "$.sharedBytes", $"{kernel.SharedBytes} bytes of shared memory; a block has at most {MaxSharedBytes}")
            || !check.Require(kernel.GridX > 0 && kernel.GridY > 0 && kernel.GridZ > 0 && kernel.Blocks <= int.MaxValue, "$.gridX",
                $"a grid of {kernel.GridX} x {kernel.GridY} x {kernel.GridZ} blocks")
            || !CheckTensors(kernel, instance, check)
            || !CheckRegisters(kernel, check))
        {
            return;
        }

        new BodyCheck(kernel, check).Statements(kernel.Body, "$.body");
    }

    private static bool CheckTensors(TensorCoreKernel kernel, CodeletInstance instance, ArtifactFileCheck check)
    {
        var expected = instance.Inputs.Concat(instance.Outputs).ToList();
        if (!check.Require(kernel.Tensors.Length == expected.Count, "$.tensors",
                $"{kernel.Tensors.Length} tensors, but codelet '{instance.Name}' has {expected.Count} inputs and outputs"))
        {
            return false;
        }

        for (var i = 0; i < expected.Count; i++)
        {
            var tensor = kernel.Tensors[i];
            var want = expected[i];
            var at = $"$.tensors[{i}]";
            if (tensor is null || tensor.Shape.IsDefault)
            {
                check.Wrong(at, "the tensor or its shape is missing");
                return false;
            }

            if (tensor.Name != want.Name || tensor.ElementType != want.ElementType.Name() || !tensor.Shape.SequenceEqual(want.Shape)
                || tensor.Elements != want.ElementCount || tensor.IsOutput != (want.Role == TensorRole.Output))
            {
                check.Disagrees(at, $"'{tensor.Name}' is {(tensor.IsOutput ? "an output" : "an input")} {tensor.ElementType}[{string.Join(", ", tensor.Shape)}] " +
                    $"of {tensor.Elements} elements, but the codelet with the bindings in artifact.json makes the tensor here " +
                    $"{(want.Role == TensorRole.Output ? "output" : "input")} '{want.Name}' {want.ElementType.Name()}[{string.Join(", ", want.Shape)}]");
                return false;
            }
        }

        return true;
    }

    private static bool CheckRegisters(TensorCoreKernel kernel, ArtifactFileCheck check)
    {
        for (var i = 0; i < kernel.Registers.Length; i++)
        {
            var array = kernel.Registers[i];
            if (!check.Require(array is { Name: not null } && Enum.IsDefined(array.Kind) && array.Count is > 0 and <= MaxRegisters, $"$.registers[{i}]",
                    $"a register array needs a name, a kind and 1 to {MaxRegisters} registers")
                || !check.Require(kernel.Registers.Count(r => r?.Name == array!.Name) == 1, $"$.registers[{i}].name", $"a second array is called '{array!.Name}'"))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>The statements and expressions of the body, depth first; stops at the first problem.</summary>
    private sealed class BodyCheck(TensorCoreKernel kernel, ArtifactFileCheck check)
    {
        public bool Statements(ImmutableArray<TensorCoreStmt> body, string at)
        {
            if (!check.Require(!body.IsDefault, at, "the statements are missing"))
            {
                return false;
            }

            for (var i = 0; i < body.Length; i++)
            {
                if (!Statement(body[i], $"{at}[{i}]"))
                {
                    return false;
                }
            }

            return true;
        }

        private bool Statement(TensorCoreStmt? statement, string at) => statement switch
        {
            null => check.Require(false, at, "the statement is null"),
            TensorCoreLet let => Name(let.Var, $"{at}.var") && Expr(let.Value, $"{at}.value"),
            TensorCoreFor loop => Name(loop.Var, $"{at}.var") && check.Require(loop.Count >= 0, $"{at}.count", $"a loop of {loop.Count} iterations")
                && Statements(loop.Body, $"{at}.body"),
            TensorCoreIf branch => Expr(branch.Condition, $"{at}.condition") && Statements(branch.Body, $"{at}.body"),
            TensorCoreCpAsync copy => Tensor(copy.Tensor, $"{at}.tensor") && Expr(copy.Shared, $"{at}.shared") && Expr(copy.Offset, $"{at}.offset")
                && Expr(copy.Valid, $"{at}.valid") && Expr(copy.Guard, $"{at}.guard"),
            TensorCoreCopyElement copy => Tensor(copy.Tensor, $"{at}.tensor") && Expr(copy.Shared, $"{at}.shared") && Expr(copy.Offset, $"{at}.offset")
                && Expr(copy.Valid, $"{at}.valid") && Expr(copy.Guard, $"{at}.guard"),
            TensorCoreWaitGroup wait => check.Require(wait.Pending >= 0, $"{at}.pending", $"waiting with {wait.Pending} groups pending"),
            TensorCoreLdMatrix load => check.Require(load.Count is 1 or 2 or 4, $"{at}.count", $"ldmatrix of {load.Count} matrices")
                && Registers(load.Fragment, load.First, load.Count, $"{at}.fragment") && Expr(load.Address, $"{at}.address"),
            TensorCoreMma mma => check.Require(Enum.IsDefined(mma.Shape), $"{at}.shape", $"'{mma.Shape}' is not an mma shape")
                && Registers(mma.Accumulator, mma.AccumulatorFirst, 4, $"{at}.accumulator") && Registers(mma.A, mma.AFirst, 4, $"{at}.a")
                && Registers(mma.B, mma.BFirst, 2, $"{at}.b"),
            TensorCoreZero zero => Registers(zero.Fragment, 0, 1, $"{at}.fragment"),
            TensorCoreStore store => Registers(store.Accumulator, store.Register, 1, $"{at}.accumulator") && Tensor(store.Tensor, $"{at}.tensor")
                && Expr(store.Offset, $"{at}.offset") && Expr(store.Valid, $"{at}.valid"),
            TensorCoreComment comment => check.Require(comment.Text is not null, $"{at}.text", "the comment has no text"),
            _ => true,
        };

        private bool Expr(TensorCoreExpr? expression, string at) => expression switch
        {
            TensorCoreConst => true,
            TensorCoreVar v => Name(v.Name, $"{at}.name"),
            TensorCoreBinary b => check.Require(Enum.IsDefined(b.Op), $"{at}.op", $"'{b.Op}' is not an operator")
                && Expr(b.Left, $"{at}.left") && Expr(b.Right, $"{at}.right"),
            _ => check.Require(false, at, "the expression is missing"),
        };

        private bool Name(string? name, string at) => check.Require(!string.IsNullOrEmpty(name), at, "the name is missing");

        private bool Tensor(string? name, string at) =>
            check.Require(name is not null && kernel.Tensors.Any(t => t.Name == name), at, $"no tensor '{name}' is declared");

        /// <summary>Registers [first, first + count) of the array called <paramref name="name"/> exist.</summary>
        private bool Registers(string? name, int first, int count, string at) =>
            check.Require(kernel.Registers.FirstOrDefault(r => r.Name == name) is { } array && first >= 0 && first <= array.Count - count, at,
                $"registers {first} to {(long)first + count - 1} of '{name}' are not declared");
    }
}
