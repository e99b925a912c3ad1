using System.Collections.Immutable;
using Covenant.Acg;
using Covenant.Acg.Model;
using Covenant.Codelets;
using Covenant.Codelets.Semantics;
using Covenant.Core.Diagnostics;
using Covenant.Core.Numerics;
using Covenant.Mapping.Model;
using Covenant.Runtime.TensorCore;

namespace Covenant.Targets.TensorCore;

/// <summary>The registers the mma works in, the shared memory ldmatrix reads, and the edge cp.async fills it by.</summary>
internal sealed record TensorCoreMemory(StorageNode Registers, StorageNode Shared, Edge? Feed);

/// <summary>The mapping as an implicit GEMM: fused loop order (contiguous loop last), operand layouts, sizes.</summary>
internal sealed record TensorCoreImplicitGemm(
    ImmutableArray<int> Rows,
    ImmutableArray<int> Columns,
    ImmutableArray<int> Reductions,
    ImmutableArray<int> Batches,
    TensorCoreOperandPlan A,
    TensorCoreOperandPlan B,
    long M,
    long N,
    long K,
    long Batch);

/// <summary>
/// <see cref="TensorCorePlan.Choose"/> as ordered steps over the mapping's <see cref="GemmView"/>, each returning an
/// immutable result the next reads. Every error is positioned on the YAML element (capability, storage node) or the
/// codelet element (tensor, statement) that causes it.
/// </summary>
internal static class TensorCorePlanning
{
    public static Result<TensorCorePlan> Choose(LayerMapping mapping, TensorCorePlanOptions options)
    {
        var graph = mapping.Graph;

        // 1. The architecture first: nothing else about a graph of another target is worth reporting.
        if (graph.Target != TensorCoreArtifactExecutor.TargetName)
        {
            return Fail(TensorCoreDiagnostics.NotTensorCoreTarget, graph.Location,
                $"architecture '{graph.Name}' has target '{graph.Target}'; the TensorCore target pass needs 'target: {TensorCoreArtifactExecutor.TargetName}'");
        }

        // 2. The mapping as a GEMM (operands, loops by role, capability, storage): every later step reads it.
        var view = GemmView.Of(mapping);
        if (!view.Succeeded)
        {
            return Result<TensorCorePlan>.Failure(view.Diagnostics);
        }

        // 3. The mma the capability is, which fixes the element size every later size is counted in.
        var shape = MmaShape(view.Value);
        if (!shape.Succeeded)
        {
            return Result<TensorCorePlan>.Failure(shape.Diagnostics);
        }

        // 4. What the kernel cannot do at all: an epilogue, a machine without shared memory.
        if (view.Value.EpilogueSteps.Length > 0 || !mapping.Epilogue.IsEmpty)
        {
            return Fail(TensorCoreDiagnostics.UnsupportedEpilogue, view.Value.Epilogue?.Location ?? view.Value.Location,
                $"codelet '{mapping.Instance.Name}' has an epilogue; the TensorCore kernel stores the accumulator as it is");
        }

        var memory = Memory(view.Value);
        if (!memory.Succeeded)
        {
            return Result<TensorCorePlan>.Failure(memory.Diagnostics);
        }

        // 5. The implicit GEMM: fused loops, operand layouts, the output written once per element.
        var gemm = ImplicitGemm(view.Value, shape.Value.Value, options);
        if (!gemm.Succeeded)
        {
            return Result<TensorCorePlan>.Failure(gemm.Diagnostics);
        }

        // 6. The tiling, last: it needs the sizes, the element size and the memories.
        return TensorCoreTiling.Choose(view.Value, shape.Value.Value, memory.Value, gemm.Value, options);
    }

    private static Result<TensorCorePlan> Fail(DiagnosticDescriptor descriptor, SourceLocation location, string message) =>
        Result<TensorCorePlan>.Failure(descriptor.Create(location, message));

    private static Result<Box<TensorCoreMmaShape>> MmaShape(GemmView view)
    {
        var capability = view.Capability;
        var types = (capability.FindOperand("a")?.Type, capability.FindOperand("b")?.Type, capability.Output.Type);
        var extents = (capability.FindAxis("i")?.Extent, capability.FindAxis("j")?.Extent, capability.FindAxis("k")?.Extent);
        if (types == (ElementType.F16, ElementType.F16, ElementType.F32) && extents == (16, 8, 16))
        {
            return Result<Box<TensorCoreMmaShape>>.Success(new(TensorCoreMmaShape.M16N8K16F16));
        }

        if (types == (ElementType.I8, ElementType.I8, ElementType.I32) && extents == (16, 8, 32))
        {
            return Result<Box<TensorCoreMmaShape>>.Success(new(TensorCoreMmaShape.M16N8K32S8));
        }

        return Result<Box<TensorCoreMmaShape>>.Failure(TensorCoreDiagnostics.UnsupportedCapability.Create(capability.Location,
            $"capability '{capability.Name}' is not an mma this target issues (f16 x f16 -> f32 with i16 j8 k16, or i8 x i8 -> i32 with i16 j8 k32)"));
    }

    // Shared memory is the storage that feeds the registers by ldmatrix (or, failing that, the one cp.async fills).
    private static Result<TensorCoreMemory> Memory(GemmView view)
    {
        var graph = view.Mapping.Graph;
        var registers = view.C.Storage;
        var sharedName = graph.Edges.FirstOrDefault(e => e.To == registers.Name && e.Transfer == "ldmatrix")?.From
            ?? graph.Edges.FirstOrDefault(e => e.Transfer == "cp.async")?.To;
        if (sharedName is null || graph.FindNode(sharedName) is not StorageNode shared)
        {
            return Result<TensorCoreMemory>.Failure(TensorCoreDiagnostics.MissingStorage.Create(registers.Location,
                $"'{graph.Name}' has no shared memory: no 'ldmatrix' edge into '{registers.Name}' and no 'cp.async' edge"));
        }

        var feed = graph.Edges.FirstOrDefault(e => e.To == shared.Name && e.Transfer == "cp.async") ?? graph.Edges.FirstOrDefault(e => e.To == shared.Name);
        return Result<TensorCoreMemory>.Success(new TensorCoreMemory(registers, shared, feed));
    }

    // The view's loops by role, each fused index with its contiguous loop moved last (see TensorCorePlan.cs's comment).
    private static Result<TensorCoreImplicitGemm> ImplicitGemm(GemmView view, TensorCoreMmaShape shape, TensorCorePlanOptions options)
    {
        var instance = view.Instance;
        var loops = view.Nest.Loops;
        var output = view.C.Tensor;
        if (output.Tensor.Role != TensorRole.Output || output.Name != view.Mapping.Output)
        {
            return Result<TensorCoreImplicitGemm>.Failure(TensorCoreDiagnostics.UnsupportedAccess.Create(output.Location,
                $"the accumulator '{output.Name}' is not the codelet's output"));
        }

        var (tensorA, accessA, tensorB, accessB) = (view.A.Tensor.Tensor, view.A.Access, view.B.Tensor.Tensor, view.B.Access);
        ImmutableArray<int> Indices(ImmutableArray<GemmLoop> withRole) => [.. withRole.Select(l => l.Index)];
        var (rows, columns, reductions, batches) = (Indices(view.Rows), Indices(view.Columns), Indices(view.Reductions), Indices(view.Batches));
        var elementBytes = shape == TensorCoreMmaShape.M16N8K16F16 ? 2 : 1;
        var chunk = 16 / elementBytes;
        bool ContiguousIn(AccessInstance access, TensorInstance tensor, int l) => Contiguous(access, tensor, l, loops, chunk);

        var reductionLast = reductions.FirstOrDefault(l => ContiguousIn(accessA, tensorA, l) && ContiguousIn(accessB, tensorB, l), -1);
        reductionLast = reductionLast >= 0 ? reductionLast : reductions.FirstOrDefault(l => ContiguousIn(accessA, tensorA, l) || ContiguousIn(accessB, tensorB, l), -1);
        reductions = MoveLast(reductions, reductionLast);
        rows = MoveLast(rows, rows.FirstOrDefault(l => ContiguousIn(accessA, tensorA, l), -1));
        columns = MoveLast(columns, columns.FirstOrDefault(l => ContiguousIn(accessB, tensorB, l), -1));

        TensorCoreOperandLayout LayoutOf(AccessInstance access, TensorInstance tensor, ImmutableArray<int> outer)
        {
            if (options.ByElement)
            {
                return TensorCoreOperandLayout.KMajorByElement;
            }

            if (!reductions.IsEmpty && ContiguousIn(access, tensor, reductions[^1]))
            {
                return TensorCoreOperandLayout.KMajor;
            }

            return elementBytes == 2 && !outer.IsEmpty && ContiguousIn(access, tensor, outer[^1])
                ? TensorCoreOperandLayout.MnMajor
                : TensorCoreOperandLayout.KMajorByElement;
        }

        // Every output element must be written by exactly one (batch, m, n): the non-reduction loops index it one to one.
        var written = output.Flatten();
        if (!WritesEachOnce(written, loops, [.. rows, .. columns, .. batches], output.Tensor.ElementCount))
        {
            return Result<TensorCoreImplicitGemm>.Failure(TensorCoreDiagnostics.UnsupportedAccess.Create(view.Location,
                $"the output '{output.Name}' is not written exactly once per element by the non-reduction loops (a scatter such as a transposed convolution is not an implicit GEMM)"));
        }

        long Product(ImmutableArray<int> set) => set.Aggregate(1L, (p, l) => p * loops[l].Extent);
        var a = new TensorCoreOperandPlan(tensorA.Name, tensorA, accessA, LayoutOf(accessA, tensorA, rows), rows);
        var b = new TensorCoreOperandPlan(tensorB.Name, tensorB, accessB, LayoutOf(accessB, tensorB, columns), columns);
        var gemm = new TensorCoreImplicitGemm(rows, columns, reductions, batches, a, b, Product(rows), Product(columns), Product(reductions), Product(batches));
        if (instance.Tensors.Any(t => t.ElementCount >= int.MaxValue) || gemm.M * gemm.N >= int.MaxValue || gemm.K >= int.MaxValue)
        {
            return Result<TensorCoreImplicitGemm>.Failure(TensorCoreDiagnostics.TooLarge.Create(instance.Syntax.Location,
                $"codelet '{instance.Name}' has tensors beyond the kernel's 32-bit offsets"));
        }

        return Result<TensorCoreImplicitGemm>.Success(gemm);
    }

    /// <summary>
    /// Whether <paramref name="loop"/> runs along the tensor's last (unit-stride) dimension with coefficient 1, in a way
    /// that makes each aligned run of <paramref name="chunk"/> iterations one aligned 16-byte chunk that is wholly inside
    /// or wholly outside the tensor: the loop's extent, the dimension's size, the index's constant and every other
    /// coefficient of that index are multiples of the chunk.
    /// </summary>
    public static bool Contiguous(AccessInstance access, TensorInstance tensor, int loop, ImmutableArray<LoopInstance> loops, int chunk)
    {
        var dims = access.Indices.Select((index, d) => (index, d)).Where(p => p.index.Coefficients[loop] != 0).ToList();
        if (dims.Count != 1 || dims[0].d != tensor.Shape.Length - 1 || dims[0].index.Coefficients[loop] != 1)
        {
            return false;
        }

        var index = dims[0].index;
        return loops[loop].Extent % chunk == 0
            && tensor.Shape[^1] % chunk == 0
            && index.Constant % chunk == 0
            && index.Coefficients.Select((c, l) => (c, l)).All(p => p.l == loop || p.c % chunk == 0);
    }

    // The non-reduction loops' offsets into the output form a mixed radix covering [0, elements) once.
    private static bool WritesEachOnce(FlatOffset offset, ImmutableArray<LoopInstance> loops, int[] loopsUsed, long elements)
    {
        var radix = loopsUsed.Where(l => loops[l].Extent > 1).Select(l => (Stride: offset.Strides[l], Extent: (long)loops[l].Extent)).OrderBy(p => p.Stride).ToList();
        long expected = 1;
        foreach (var (stride, extent) in radix)
        {
            if (stride != expected)
            {
                return false;
            }

            expected *= extent;
        }

        return offset.Base == 0 && expected == elements;
    }

    private static ImmutableArray<int> MoveLast(ImmutableArray<int> loops, int last) =>
        last < 0 ? loops : [.. loops.Where(l => l != last), last];
}

/// <summary>A reference wrapper so a value can travel in a <see cref="Result{T}"/> (which holds classes).</summary>
internal sealed record Box<T>(T Value);
