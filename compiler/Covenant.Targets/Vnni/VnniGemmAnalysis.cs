using System.Collections.Immutable;
using Covenant.Codelets;
using Covenant.Codelets.Semantics;
using Covenant.Core.Diagnostics;
using Covenant.Mapping.Analysis;

namespace Covenant.Targets.Vnni;

/// <summary>
/// Reads a <see cref="VnniGemm"/> off the accumulation nest with a chosen broadcast operand A (see the roles in
/// VnniGemm.cs). Every problem is a diagnostic positioned on the tensor declaration or the statement that causes it;
/// its message is the bare reason (the plan says which codelet and which orientation).
/// </summary>
internal static class VnniGemmAnalysis
{
    /// <summary>The output a kernel stores and the epilogue operands it adds, addressed in the main nest's loops.</summary>
    private sealed record OutputView(
        TensorInstance Output, long Base, long[] Strides, ImmutableArray<VnniEpilogueTensor> EpilogueTensors, int WritingNest);

    /// <summary>Analyzes the accumulation nest with <paramref name="aAccess"/> as the broadcast (u8) operand.</summary>
    public static Result<VnniGemm> Analyze(
        CodeletInstance instance, AccumulationNest nest, AccessInstance aAccess, AccessInstance bAccess, VnniAMode? mode)
    {
        if (CheckOperands(instance, nest, aAccess, bAccess) is { } operandProblem)
        {
            return Result<VnniGemm>.Failure(operandProblem);
        }

        var output = OutputOf(instance, nest);
        if (!output.Succeeded)
        {
            return Result<VnniGemm>.Failure(output.Diagnostics);
        }

        // Any other input still gets a buffer of the kernel (i8, u8 or i32).
        if (instance.Inputs.FirstOrDefault(t => t.ElementType is not (ElementType.I8 or ElementType.U8 or ElementType.I32)) is { } other)
        {
            return Result<VnniGemm>.Failure(VnniDiagnostics.UnsupportedTypes.Create(instance.Of(other),
                $"the input '{other.Name}' is {other.ElementType.Name()}; the kernel's buffers hold i8, u8 or i32"));
        }

        var roles = Roles(nest, aAccess, bAccess);
        if (CheckOutput(instance, nest.Nest.Loops, roles, output.Value) is { } outputProblem)
        {
            return Result<VnniGemm>.Failure(outputProblem);
        }

        var loops = nest.Nest.Loops;
        var vector = VectorLoop(roles, output.Value);
        for (var l = 0; l < loops.Length; l++)
        {
            if (roles[l] == VnniLoopRole.Column && l != vector)
            {
                roles[l] = VnniLoopRole.Outer;
            }
        }

        var gemm = Shape(instance, nest, aAccess, bAccess, mode, roles, vector, output.Value);
        return Result<VnniGemm>.Success(VnniAPrimeLayout.WithLayout(gemm));
    }

    // vpdpbusd multiplies u8 (or i8 shifted by 128) by i8 into i32; the kernel's buffers are i8, u8 or i32.
    private static Diagnostic? CheckOperands(CodeletInstance instance, AccumulationNest nest, AccessInstance aAccess, AccessInstance bAccess)
    {
        var a = instance.Tensors[aAccess.Tensor];
        var b = instance.Tensors[bAccess.Tensor];
        var accumulator = instance.Tensors[nest.Accumulator.Tensor];
        if (accumulator.ElementType != ElementType.I32)
        {
            return VnniDiagnostics.UnsupportedTypes.Create(instance.Of(accumulator),
                $"the accumulator '{accumulator.Name}' is {accumulator.ElementType.Name()}; vpdpbusd accumulates i32");
        }

        if (a.ElementType is not (ElementType.I8 or ElementType.U8) || b.ElementType != ElementType.I8)
        {
            return VnniDiagnostics.UnsupportedTypes.Create(instance.OfNest(nest.NestIndex),
                $"vpdpbusd multiplies u8 (or i8, shifted by 128) by i8, but '{a.Name}' is {a.ElementType.Name()} and '{b.Name}' is {b.ElementType.Name()}");
        }

        if (new[] { a, b }.FirstOrDefault(t => t.Cropped) is { } cropped)
        {
            return VnniDiagnostics.UnsupportedAccess.Create(instance.Of(cropped), $"the input '{cropped.Name}' is cropped; cropped inputs are not supported");
        }

        return null;
    }

    // Roles, as the mapper classifies them: whether a loop indexes the accumulator, A and B.
    private static VnniLoopRole[] Roles(AccumulationNest nest, AccessInstance aAccess, AccessInstance bAccess)
    {
        var roles = new VnniLoopRole[nest.Nest.Loops.Length];
        for (var l = 0; l < roles.Length; l++)
        {
            roles[l] = (AccumulationNest.Uses(nest.Accumulator, l), AccumulationNest.Uses(aAccess, l), AccumulationNest.Uses(bAccess, l)) switch
            {
                (false, _, _) => VnniLoopRole.Reduction,
                (true, true, false) => VnniLoopRole.Row,
                (true, false, true) => VnniLoopRole.Column,
                _ => VnniLoopRole.Outer,
            };
        }

        return roles;
    }

    // The tensor the kernel stores (the epilogue's output, or else the accumulator) and the epilogue's operands.
    private static Result<OutputView> OutputOf(CodeletInstance instance, AccumulationNest nest)
    {
        var accumulator = instance.Tensors[nest.Accumulator.Tensor];
        if (nest.Epilogue is not { } epilogue)
        {
            if (accumulator.Role != TensorRole.Output)
            {
                return Result<OutputView>.Failure(VnniDiagnostics.UnsupportedAccess.Create(instance.Of(accumulator),
                    $"the accumulator '{accumulator.Name}' is never stored to an output"));
            }

            var (baseOffset, strides) = VnniGemm.Flatten(nest.Accumulator, accumulator, nest.Nest.Loops.Length);
            return Result<OutputView>.Success(new OutputView(accumulator, baseOffset, strides, [], nest.NestIndex));
        }

        var composed = VnniEpilogueComposer.Compose(instance, nest, epilogue);
        if (!composed.Succeeded)
        {
            return Result<OutputView>.Failure(composed.Diagnostics);
        }

        var output = instance.Tensors.First(t => t.Name == epilogue.Output);
        if (accumulator.Role == TensorRole.Output)
        {
            return Result<OutputView>.Failure(VnniDiagnostics.UnsupportedEpilogue.Create(instance.Of(accumulator),
                $"both the accumulator '{accumulator.Name}' and the epilogue's '{output.Name}' are outputs; the kernel stores only the epilogue's"));
        }

        var operands = ImmutableArray.CreateBuilder<VnniEpilogueTensor>();
        foreach (var (name, offset) in composed.Value.Operands)
        {
            var tensor = instance.Tensors.First(t => t.Name == name);
            if (tensor.ElementType != ElementType.I32)
            {
                return Result<OutputView>.Failure(VnniDiagnostics.UnsupportedEpilogue.Create(instance.Of(tensor),
                    $"the epilogue operand '{name}' is {tensor.ElementType.Name()}; the kernel adds i32 operands only"));
            }

            operands.Add(new VnniEpilogueTensor(name, tensor, offset.Base, offset.Strides));
        }

        var target = composed.Value.Output;
        return Result<OutputView>.Success(new OutputView(output, target.Base, target.Strides, operands.ToImmutable(), epilogue.NestIndex));
    }

    private static Diagnostic? CheckOutput(CodeletInstance instance, ImmutableArray<LoopInstance> loops, VnniLoopRole[] roles, OutputView view)
    {
        var output = view.Output;
        if (output.ElementType is not (ElementType.I32 or ElementType.I8 or ElementType.U8))
        {
            return VnniDiagnostics.UnsupportedTypes.Create(instance.Of(output),
                $"the output '{output.Name}' is {output.ElementType.Name()}; the kernel stores i32, i8 or u8");
        }

        if (output.Cropped || output.Padded)
        {
            return VnniDiagnostics.UnsupportedAccess.Create(instance.Of(output),
                $"the output '{output.Name}' is {(output.Cropped ? "cropped" : "padded")}; the kernel writes every output element exactly once");
        }

        var statement = instance.OfNest(view.WritingNest);
        if (view.Base != 0)
        {
            return VnniDiagnostics.UnsupportedAccess.Create(statement, $"the first element of the output '{output.Name}' is not written at the loops' origin");
        }

        // Every output element must be written by exactly one (row, column, outer) point: the non-reduction
        // strides must form a mixed radix that tiles [0, elements).
        var written = Enumerable.Range(0, loops.Length).Where(l => roles[l] != VnniLoopRole.Reduction).Select(l => (view.Strides[l], (long)loops[l].Extent));
        return WritesEachOnce(written, output.ElementCount)
            ? null
            : VnniDiagnostics.UnsupportedAccess.Create(statement, $"the output '{output.Name}' is not written exactly once per element by the non-reduction loops " +
                "(an output-stationary kernel needs that; a scatter such as a transposed convolution is not supported)");
    }

    // The vector loop: the column loop contiguous in the output, readable as a vector (or a broadcast) in every
    // epilogue operand (the last such loop). Other column loops run outside, like batches.
    private static int VectorLoop(VnniLoopRole[] roles, OutputView view) =>
        Enumerable.Range(0, roles.Length)
            .LastOrDefault(l => roles[l] == VnniLoopRole.Column && view.Strides[l] == 1 && view.EpilogueTensors.All(t => t.Strides[l] is 0 or 1), -1);

    // The GEMM's sizes and the reduction's grouping by 4, in the mode asked for or the one that wastes fewer lanes.
    private static VnniGemm Shape(
        CodeletInstance instance, AccumulationNest nest, AccessInstance aAccess, AccessInstance bAccess, VnniAMode? mode,
        VnniLoopRole[] roles, int vector, OutputView view)
    {
        var loops = nest.Nest.Loops;
        var a = instance.Tensors[aAccess.Tensor];
        var b = instance.Tensors[bAccess.Tensor];
        var packed = PackedLoop(aAccess, a, loops, roles);
        var reductions = Enumerable.Range(0, loops.Length).Where(l => roles[l] == VnniLoopRole.Reduction).ToList();
        var k = reductions.Aggregate(1L, (p, l) => p * loops[l].Extent);
        var packedExtent = packed >= 0 ? loops[packed].Extent : 1;
        var directEfficiency = (double)packedExtent / VnniGemm.RoundUp(packedExtent, 4);
        var im2colEfficiency = (double)k / VnniGemm.RoundUp(k, 4);
        var chosen = mode ?? (directEfficiency < 0.7 && im2colEfficiency > directEfficiency ? VnniAMode.Im2col : VnniAMode.Direct);

        var rows = Enumerable.Range(0, loops.Length).Where(l => roles[l] == VnniLoopRole.Row).ToImmutableArray();
        var outers = Enumerable.Range(0, loops.Length).Where(l => roles[l] == VnniLoopRole.Outer).ToImmutableArray();
        ImmutableArray<int> reductionOuter;
        long groups, innerGroups;
        if (chosen == VnniAMode.Direct)
        {
            reductionOuter = [.. reductions.Where(l => l != packed)];
            innerGroups = VnniGemm.RoundUp(packedExtent, 4) / 4;
            groups = reductionOuter.Aggregate(1L, (p, l) => p * loops[l].Extent) * innerGroups;
        }
        else
        {
            reductionOuter = [.. reductions];
            packed = -1;
            groups = VnniGemm.RoundUp(k, 4) / 4;
            innerGroups = groups;
        }

        var (bBase, bStrides) = VnniGemm.Flatten(bAccess, b, loops.Length);
        return new VnniGemm
        {
            Instance = instance, NestIndex = nest.NestIndex, Loops = loops, A = a, B = b,
            Accumulator = instance.Tensors[nest.Accumulator.Tensor], Output = view.Output, AAccess = aAccess, BAccess = bAccess,
            Roles = [.. roles], Rows = rows, ReductionOuter = reductionOuter, Outers = outers, Vector = vector, Packed = packed, AMode = chosen,
            M = rows.Aggregate(1L, (p, l) => p * loops[l].Extent),
            N = vector >= 0 ? loops[vector].Extent : 1,
            K = k, Groups = groups, InnerGroups = innerGroups,
            OuterCount = outers.Aggregate(1L, (p, l) => p * loops[l].Extent),
            StrideAPrime = new long[loops.Length], BaseAPrime = 0, StrideB = bStrides, BaseB = bBase, StrideC = view.Strides,
            APrimeDims = [], APrimeLength = 0,
            EpilogueTensors = view.EpilogueTensors,
            Epilogue = nest.Epilogue?.Steps ?? [],
        };
    }

    // The packed loop: a reduction loop with coefficient 1 in exactly one dimension of A, everything else in that
    // dimension moving in whole multiples of its extent, so the dimension splits into (outer, loop) and the loop
    // can be moved innermost and rounded up to 4. Prefer A's last dimension (already contiguous), then longer loops.
    private static int PackedLoop(AccessInstance aAccess, TensorInstance a, ImmutableArray<LoopInstance> loops, VnniLoopRole[] roles)
    {
        var packed = -1;
        var packedScore = long.MinValue;
        for (var l = 0; l < loops.Length; l++)
        {
            if (roles[l] != VnniLoopRole.Reduction || !Splittable(aAccess, a, l, loops))
            {
                continue;
            }

            var dim = aAccess.Indices.ToList().FindIndex(index => index.Coefficients[l] != 0);
            var score = (dim == a.Shape.Length - 1 ? 1L << 40 : 0) + EfficiencyScore(loops[l].Extent);
            if (score > packedScore)
            {
                (packed, packedScore) = (l, score);
            }
        }

        return packed;
    }

    private static bool Splittable(AccessInstance access, TensorInstance tensor, int loop, ImmutableArray<LoopInstance> loops)
    {
        var dims = access.Indices.Select((index, d) => (index, d)).Where(p => p.index.Coefficients[loop] != 0).ToList();
        if (dims.Count != 1 || dims[0].index.Coefficients[loop] != 1)
        {
            return false;
        }

        var (index, dim) = dims[0];
        var extent = loops[loop].Extent;
        return index.Constant % extent == 0
            && tensor.Shape[dim] % extent == 0
            && index.Coefficients.Select((c, l) => (c, l)).All(p => p.l == loop || p.c % extent == 0);
    }

    // Long loops that are multiples of 4 pack best; short ones waste lanes of the 4-byte groups.
    private static long EfficiencyScore(long extent) => (long)(1000.0 * extent / VnniGemm.RoundUp(extent, 4)) * 100_000 + Math.Min(extent, 99_999);

    // The (stride, extent) pairs of the loops that write, sorted by stride, form the mixed radix of [0, elements).
    private static bool WritesEachOnce(IEnumerable<(long Stride, long Extent)> loops, long elements)
    {
        long expected = 1;
        foreach (var (stride, extent) in loops.Where(p => p.Extent > 1).OrderBy(p => p.Stride))
        {
            if (stride != expected)
            {
                return false;
            }

            expected *= extent;
        }

        return expected == elements;
    }
}
