using System.Collections.Immutable;
using Covenant.Acg.Model;
using Covenant.Codelets.Semantics;
using Covenant.Codelets.Syntax;
using Covenant.Core.Diagnostics;
using Covenant.Mapping.Analysis;

namespace Covenant.Mapping.Model;

// A mapping read as a GEMM  C[..] += A[..] * B[..]  (then Out[..] = epilogue(C[..], operands[..])), resolved once
// for every target: the tensors with their affine accesses, the loops by role, and the graph's compute node,
// capability and storage nodes as the ACG model objects (no target looks a name up again). A is the tensor bound to
// the capability's first factor (VTA's inp, VNNI's u8 a, an mma's a), B the one bound to the second.
//
// Loop roles are derived from the accesses of C, A and B (the mapper's rule, see LoopRole), so they agree with the
// operand bindings even when a caller swapped them; the mapper's own LoopMapping stays at hand on each loop.
// Indices: A, B and C are accessed in the main nest's loops; the epilogue's output and operands in the epilogue
// nest's loops, and ComposeIntoMainLoops rewrites such an access in the main nest's loops when it can.

/// <summary>An element offset <c>Base + Σ Strides[l] · loop_l</c> into a row-major tensor.</summary>
public sealed record FlatOffset(long Base, ImmutableArray<long> Strides);

/// <summary>A codelet tensor as one statement accesses it; <see cref="Location"/> is its declaration in the codelet.</summary>
public sealed record GemmTensor(int Index, TensorInstance Tensor, AccessInstance Access, SourceLocation Location)
{
    public string Name => Tensor.Name;

    /// <summary>Whether loop <paramref name="loop"/> appears in any index of the access.</summary>
    public bool Uses(int loop) => Access.Indices.Any(index => index.Coefficients[loop] != 0);

    /// <summary>The access as a flat row-major element offset.</summary>
    public FlatOffset Flatten() => Flatten(Access, Tensor);

    public static FlatOffset Flatten(AccessInstance access, TensorInstance tensor)
    {
        ArgumentNullException.ThrowIfNull(access);
        ArgumentNullException.ThrowIfNull(tensor);
        var tensorStrides = tensor.Strides;
        var loops = access.Indices.IsEmpty ? 0 : access.Indices[0].Coefficients.Length;
        var strides = new long[loops];
        long baseOffset = 0;
        for (var d = 0; d < access.Indices.Length; d++)
        {
            baseOffset += access.Indices[d].Constant * tensorStrides[d];
            for (var l = 0; l < loops; l++)
            {
                strides[l] += access.Indices[d].Coefficients[l] * tensorStrides[d];
            }
        }

        return new FlatOffset(baseOffset, [.. strides]);
    }
}

/// <summary>
/// A tensor bound to a capability operand (A, B or C): the binding as the mapping states it, the operand and the
/// storage node it lives in. <see cref="Offset"/> is added to each element fed (an accepted type, see <see cref="OperandBinding"/>).
/// </summary>
public sealed record GemmOperand(GemmTensor Tensor, OperandBinding Binding, CapabilityOperand Operand, StorageNode Storage)
{
    public string Name => Tensor.Name;

    public AccessInstance Access => Tensor.Access;

    public long Offset => Binding.Offset;
}

/// <summary>A loop of the main nest: its role in the GEMM, how the mapping splits it, and the capability axis it is laid along (if any).</summary>
public sealed record GemmLoop(int Index, LoopInstance Loop, LoopRole Role, LoopMapping Mapping, CapabilityAxis? Axis, SourceLocation Location)
{
    public string Name => Loop.Name;

    public int Extent => Loop.Extent;
}

/// <summary>A capability axis, its role, the mapping's embedding of it (null when the mapping omits the axis) and the loop laid along it.</summary>
public sealed record GemmAxis(CapabilityAxis Axis, LoopRole Role, AxisEmbedding? Embedding, GemmLoop? Loop)
{
    public string Name => Axis.Name;
}

/// <summary>One step of the epilogue with the compute node and capability that perform it, and its tensor operand (accessed in the epilogue nest's loops).</summary>
public sealed record GemmEpilogueStep(EpilogueStep Step, ComputeNode Node, Capability Capability, GemmTensor? Operand);

/// <summary>
/// The element-wise nest that turns the accumulator into the output. <see cref="Output"/> and the operands are accessed
/// in this nest's loops; <see cref="AccumulatorRead"/> is its read of the accumulator (null when it reads none).
/// </summary>
public sealed record GemmEpilogue(
    int NestIndex,
    LoopNestInstance Nest,
    StatementInstance Statement,
    GemmTensor Output,
    AccessInstance? AccumulatorRead,
    ImmutableArray<GemmTensor> Operands)
{
    public SourceLocation Location => Statement.Syntax.Location;
}

/// <summary>
/// A mapping read as a GEMM (see the comment at the top of this file): computed once by <see cref="Of"/> and read by
/// every target pass, so none re-derives operands, roles or graph nodes from names.
/// </summary>
public sealed record GemmView
{
    public required LayerMapping Mapping { get; init; }

    public required CodeletInstance Instance { get; init; }

    public required int NestIndex { get; init; }

    public required LoopNestInstance Nest { get; init; }

    /// <summary>The accumulation <c>C[..] += A[..] * B[..]</c>; its syntax gives the position errors about the nest point at.</summary>
    public required StatementInstance Statement { get; init; }

    public required ComputeNode ComputeNode { get; init; }

    public required Capability Capability { get; init; }

    public required GemmOperand A { get; init; }

    public required GemmOperand B { get; init; }

    /// <summary>The accumulator, bound to the capability's output.</summary>
    public required GemmOperand C { get; init; }

    /// <summary>The stored tensor: <see cref="C"/>'s tensor, or the epilogue's output (accessed in the epilogue's loops).</summary>
    public required GemmTensor Output { get; init; }

    /// <summary>The main nest's loops, in nest order.</summary>
    public required ImmutableArray<GemmLoop> Loops { get; init; }

    /// <summary>The capability's axes, in its shape's order.</summary>
    public required ImmutableArray<GemmAxis> Axes { get; init; }

    /// <summary>The mapping's epilogue steps, resolved; empty when the accumulator is stored as it is.</summary>
    public required ImmutableArray<GemmEpilogueStep> EpilogueSteps { get; init; }

    /// <summary>The epilogue nest, or null when the output is the accumulator.</summary>
    public GemmEpilogue? Epilogue { get; init; }

    public ImmutableArray<GemmLoop> Rows => LoopsWithRole(LoopRole.Row);

    public ImmutableArray<GemmLoop> Columns => LoopsWithRole(LoopRole.Column);

    public ImmutableArray<GemmLoop> Reductions => LoopsWithRole(LoopRole.Reduction);

    public ImmutableArray<GemmLoop> Batches => LoopsWithRole(LoopRole.Batch);

    public ImmutableArray<GemmLoop> LoopsWithRole(LoopRole role) => [.. Loops.Where(l => l.Role == role)];

    public GemmLoop? FindLoop(string name) => Loops.FirstOrDefault(l => l.Name == name);

    public GemmAxis? FindAxis(string name) => Axes.FirstOrDefault(a => a.Name == name);

    /// <summary>The loop laid along capability axis <paramref name="axis"/>, or null when the axis is unused.</summary>
    public GemmLoop? LoopOn(string axis) => FindAxis(axis)?.Loop;

    /// <summary>The operands A, B and C, in that order.</summary>
    public ImmutableArray<GemmOperand> Operands => [A, B, C];

    /// <summary>Where in the codelet the accumulation is written: the position errors about the main nest point at.</summary>
    public SourceLocation Location => Statement.Syntax.Location;

    /// <summary>
    /// Rewrites an access of the epilogue nest in the main nest's loops. Possible when the epilogue reads the
    /// accumulator at its own loop indices (each index one loop with coefficient 1, or a constant 0) and every
    /// epilogue loop of extent above 1 indexes the accumulator; an epilogue loop then stands for the main nest's
    /// index of the accumulator dimension it runs along.
    /// </summary>
    public Result<AccessInstance> ComposeIntoMainLoops(AccessInstance epilogueAccess)
    {
        ArgumentNullException.ThrowIfNull(epilogueAccess);
        return Epilogue is { } epilogue
            ? ComposeIntoMainLoops(epilogue, C.Access, Loops.Length, epilogueAccess)
            : Result<AccessInstance>.Failure(MappingDiagnostics.EpilogueNotComposable.Create(Location, "there is no epilogue nest"));
    }

    /// <summary>The GEMM form of <paramref name="mapping"/>, or positioned errors saying why its nest, capability or bindings are not one.</summary>
    public static Result<GemmView> Of(LayerMapping mapping)
    {
        ArgumentNullException.ThrowIfNull(mapping);
        return GemmViewBuilder.Build(mapping);
    }

    /// <summary>The first read of tensor <paramref name="tensor"/> (an index into the instance's tensors) in <paramref name="value"/>, through casts and calls.</summary>
    public static AccessInstance? FindLoad(ValueExpr value, int tensor) => value switch
    {
        LoadValue load when load.Access.Tensor == tensor => load.Access,
        CastValue cast => FindLoad(cast.Operand, tensor),
        UnaryValue unary => FindLoad(unary.Operand, tensor),
        BinaryValue binary => FindLoad(binary.Left, tensor) ?? FindLoad(binary.Right, tensor),
        CallValue call => call.Arguments.Select(a => FindLoad(a, tensor)).FirstOrDefault(a => a is not null),
        _ => null,
    };

    // For a target that also plans from a codelet alone, without a mapping (VNNI rebuilding its kernel from the plan
    // file an artifact holds): the same rules, on accesses rather than on a view.

    /// <summary>The role of loop <paramref name="loop"/> by the mapper's rule: whether the accumulator, A and B use it.</summary>
    public static LoopRole RoleOf(AccessInstance accumulator, AccessInstance a, AccessInstance b, int loop)
    {
        ArgumentNullException.ThrowIfNull(accumulator);
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        static bool Uses(AccessInstance access, int l) => access.Indices.Any(index => index.Coefficients[l] != 0);
        return (Uses(accumulator, loop), Uses(a, loop), Uses(b, loop)) switch
        {
            (true, true, false) => LoopRole.Row,
            (true, false, true) => LoopRole.Column,
            (false, _, _) => LoopRole.Reduction,
            _ => LoopRole.Batch,
        };
    }

    /// <summary>
    /// <see cref="ComposeIntoMainLoops(AccessInstance)"/> for an epilogue nest and the main nest's accumulator access
    /// (<paramref name="mainLoops"/> loops), without a view.
    /// </summary>
    public static Result<AccessInstance> ComposeIntoMainLoops(GemmEpilogue epilogue, AccessInstance accumulator, int mainLoops, AccessInstance epilogueAccess)
    {
        ArgumentNullException.ThrowIfNull(epilogue);
        ArgumentNullException.ThrowIfNull(accumulator);
        ArgumentNullException.ThrowIfNull(epilogueAccess);
        if (epilogue.AccumulatorRead is not { } read)
        {
            return Fail("the epilogue does not read the accumulator");
        }

        // Epilogue loop -> the accumulator dimension it runs along.
        var dimOfLoop = new int[epilogue.Nest.Loops.Length];
        Array.Fill(dimOfLoop, -1);
        for (var d = 0; d < read.Indices.Length; d++)
        {
            var used = read.Indices[d].Coefficients.Select((c, l) => (c, l)).Where(p => p.c != 0).ToList();
            if (read.Indices[d].Constant != 0 || used.Count > 1 || (used.Count == 1 && used[0].c != 1))
            {
                return Fail("the epilogue must read the accumulator at its own loop indices");
            }

            if (used.Count == 1)
            {
                dimOfLoop[used[0].l] = d;
            }
        }

        if (Enumerable.Range(0, epilogue.Nest.Loops.Length).FirstOrDefault(e => dimOfLoop[e] < 0 && epilogue.Nest.Loops[e].Extent > 1, -1) is var unused and >= 0)
        {
            return Fail($"the epilogue loop '{epilogue.Nest.Loops[unused].Name}' does not index the accumulator");
        }

        var indices = epilogueAccess.Indices.Select(index =>
        {
            var constant = index.Constant;
            var coefficients = new long[mainLoops];
            for (var e = 0; e < index.Coefficients.Length; e++)
            {
                if (index.Coefficients[e] is var coefficient and not 0 && dimOfLoop[e] >= 0)
                {
                    var main = accumulator.Indices[dimOfLoop[e]];
                    constant += coefficient * main.Constant;
                    for (var l = 0; l < mainLoops; l++)
                    {
                        coefficients[l] += coefficient * main.Coefficients[l];
                    }
                }
            }

            return new AffineIndex(constant, [.. coefficients]);
        });
        return Result<AccessInstance>.Success(new AccessInstance(epilogueAccess.Tensor, [.. indices]));

        Result<AccessInstance> Fail(string message) =>
            Result<AccessInstance>.Failure(MappingDiagnostics.EpilogueNotComposable.Create(epilogue.Location, message));
    }
}

/// <summary>Where codelet elements are declared, for diagnostics that point at them.</summary>
public static class CodeletLocations
{
    /// <summary>The declaration of tensor <paramref name="name"/>, or the codelet's header when it has none.</summary>
    public static SourceLocation TensorLocation(this CodeletInstance instance, string name)
    {
        ArgumentNullException.ThrowIfNull(instance);
        var syntax = instance.Syntax;
        return syntax.Inputs.Concat(syntax.Outputs).Concat(syntax.Locals).FirstOrDefault(t => t.Name == name)?.Location ?? syntax.Location;
    }

    /// <summary>The loop nest <paramref name="nest"/> (its <c>for</c>), or the codelet's header.</summary>
    public static SourceLocation NestLocation(this CodeletInstance instance, int nest)
    {
        ArgumentNullException.ThrowIfNull(instance);
        return nest >= 0 && nest < instance.Syntax.Nests.Length ? instance.Syntax.Nests[nest].Location : instance.Syntax.Location;
    }

    /// <summary>The variable <paramref name="loop"/> of nest <paramref name="nest"/>, or the nest.</summary>
    public static SourceLocation LoopLocation(this CodeletInstance instance, int nest, string loop)
    {
        ArgumentNullException.ThrowIfNull(instance);
        return nest >= 0 && nest < instance.Syntax.Nests.Length
            ? instance.Syntax.Nests[nest].Vars.FirstOrDefault(v => v.Name == loop)?.Location ?? instance.Syntax.Nests[nest].Location
            : instance.Syntax.Location;
    }
}
