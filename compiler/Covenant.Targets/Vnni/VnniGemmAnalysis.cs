using System.Collections.Immutable;
using Covenant.Codelets;
using Covenant.Codelets.Semantics;
using Covenant.Core.Diagnostics;
using Covenant.Core.Numerics;
using Covenant.Mapping.Analysis;
using Covenant.Mapping.Model;

namespace Covenant.Targets.Vnni;

/// <summary>
/// Reads a <see cref="VnniGemm"/> off the accumulation as a GEMM (<see cref="VnniGemmSource"/>: the operands and the
/// loop roles of a <see cref="GemmView"/>) and adds what is VNNI's own: the vector loop, the packed loop, A's mode. Every problem is a diagnostic positioned on the tensor declaration or the statement that causes it;
/// its message is the bare reason (the plan says which codelet and which orientation).
/// </summary>
internal static class VnniGemmAnalysis
{
    /// <summary>The output a kernel stores and the epilogue operands it adds, addressed in the main nest's loops.</summary>
    private sealed record OutputView(
        TensorInstance Output, long Base, long[] Strides, ImmutableArray<VnniEpilogueTensor> EpilogueTensors, SourceLocation WrittenAt);

    /// <summary>Analyzes the GEMM with <see cref="VnniGemmSource.A"/> as the broadcast (u8) operand.</summary>
    public static Result<VnniGemm> Analyze(VnniGemmSource source, VnniAMode? mode)
    {
        var instance = source.Instance;
        if (CheckOperands(source) is { } operandProblem)
        {
            return Result<VnniGemm>.Failure(operandProblem);
        }

        var output = OutputOf(source);
        if (!output.Succeeded)
        {
            return Result<VnniGemm>.Failure(output.Diagnostics);
        }

        // Any other input still gets a buffer of the kernel (i8, u8 or i32).
        if (instance.Inputs.FirstOrDefault(t => t.ElementType is not (ElementType.I8 or ElementType.U8 or ElementType.I32)) is { } other)
        {
            return Result<VnniGemm>.Failure(VnniDiagnostics.UnsupportedTypes.Create(instance.TensorLocation(other.Name),
                $"the input '{other.Name}' is {other.ElementType.Name()}; the kernel's buffers hold i8, u8 or i32"));
        }

        if (CheckOutput(source, output.Value) is { } outputProblem)
        {
            return Result<VnniGemm>.Failure(outputProblem);
        }

        var gemm = Shape(source, mode, VectorLoop(source.Roles, output.Value), output.Value);
        return Result<VnniGemm>.Success(VnniAPrimeLayout.WithLayout(gemm));
    }

    // vpdpbusd multiplies u8 (or i8 shifted by 128) by i8 into i32.
    private static Diagnostic? CheckOperands(VnniGemmSource source)
    {
        var (a, b, accumulator) = (source.A.Tensor, source.B.Tensor, source.C.Tensor);
        if (accumulator.ElementType != ElementType.I32)
        {
            return VnniDiagnostics.UnsupportedTypes.Create(source.C.Location,
                $"the accumulator '{accumulator.Name}' is {accumulator.ElementType.Name()}; vpdpbusd accumulates i32");
        }

        if (a.ElementType is not (ElementType.I8 or ElementType.U8) || b.ElementType != ElementType.I8)
        {
            return VnniDiagnostics.UnsupportedTypes.Create(source.Statement,
                $"vpdpbusd multiplies u8 (or i8, shifted by 128) by i8, but '{a.Name}' is {a.ElementType.Name()} and '{b.Name}' is {b.ElementType.Name()}");
        }

        if (new[] { source.A, source.B }.FirstOrDefault(t => t.Tensor.Cropped) is { } cropped)
        {
            return VnniDiagnostics.UnsupportedAccess.Create(cropped.Location, $"the input '{cropped.Name}' is cropped; cropped inputs are not supported");
        }

        return null;
    }

    // The tensor the kernel stores (the epilogue's output, or else the accumulator) and the epilogue's operands, their
    // accesses composed into the main nest's loops.
    private static Result<OutputView> OutputOf(VnniGemmSource source)
    {
        var accumulator = source.C;
        var loops = source.Loops.Length;
        if (source.Epilogue is not { } epilogue)
        {
            if (accumulator.Tensor.Role != TensorRole.Output)
            {
                return Result<OutputView>.Failure(VnniDiagnostics.UnsupportedAccess.Create(accumulator.Location,
                    $"the accumulator '{accumulator.Name}' is never stored to an output"));
            }

            var (baseOffset, strides) = Offset(accumulator.Access, accumulator.Tensor, loops);
            return Result<OutputView>.Success(new OutputView(accumulator.Tensor, baseOffset, strides, [], source.Statement));
        }

        var output = InMainLoops(source, epilogue, epilogue.Output);
        if (!output.Succeeded)
        {
            return Result<OutputView>.Failure(output.Diagnostics);
        }

        var operands = ImmutableArray.CreateBuilder<VnniEpilogueTensor>();
        foreach (var name in source.Steps.Where(s => s.Tensor is not null).Select(s => s.Tensor!).Distinct())
        {
            var operand = InMainLoops(source, epilogue, epilogue.Operands.First(o => o.Name == name));
            if (!operand.Succeeded)
            {
                return Result<OutputView>.Failure(operand.Diagnostics);
            }

            operands.Add(operand.Value);
        }

        if (accumulator.Tensor.Role == TensorRole.Output)
        {
            return Result<OutputView>.Failure(VnniDiagnostics.UnsupportedEpilogue.Create(accumulator.Location,
                $"both the accumulator '{accumulator.Name}' and the epilogue's '{epilogue.Output.Name}' are outputs; the kernel stores only the epilogue's"));
        }

        if (operands.FirstOrDefault(o => o.Tensor.ElementType != ElementType.I32) is { } wide)
        {
            return Result<OutputView>.Failure(VnniDiagnostics.UnsupportedEpilogue.Create(source.Instance.TensorLocation(wide.Name),
                $"the epilogue operand '{wide.Name}' is {wide.Tensor.ElementType.Name()}; the kernel adds i32 operands only"));
        }

        var target = output.Value;
        return Result<OutputView>.Success(new OutputView(target.Tensor, target.Base, target.Strides, operands.ToImmutable(), epilogue.Location));
    }

    // An epilogue tensor's offset in the main nest's loops; what cannot be composed is an epilogue this kernel cannot fuse.
    private static Result<VnniEpilogueTensor> InMainLoops(VnniGemmSource source, GemmEpilogue epilogue, GemmTensor tensor)
    {
        var composed = GemmView.ComposeIntoMainLoops(epilogue, source.C.Access, source.Loops.Length, tensor.Access);
        if (!composed.Succeeded)
        {
            return Result<VnniEpilogueTensor>.Failure([.. composed.Diagnostics.Select(d => VnniDiagnostics.UnsupportedEpilogue.Create(d.Location, d.Message))]);
        }

        var (baseOffset, strides) = Offset(composed.Value, tensor.Tensor, source.Loops.Length);
        return Result<VnniEpilogueTensor>.Success(new VnniEpilogueTensor(tensor.Name, tensor.Tensor, baseOffset, strides));
    }

    /// <summary>An access's flat element offset, one stride per main-nest loop (zero for a loop it does not use).</summary>
    public static (long Base, long[] Strides) Offset(AccessInstance access, TensorInstance tensor, int loops)
    {
        var flat = GemmTensor.Flatten(access, tensor);
        var strides = new long[loops];
        flat.Strides.CopyTo(strides);
        return (flat.Base, strides);
    }

    private static Diagnostic? CheckOutput(VnniGemmSource source, OutputView view)
    {
        var output = view.Output;
        var location = source.Instance.TensorLocation(output.Name);
        if (output.ElementType is not (ElementType.I32 or ElementType.I8 or ElementType.U8))
        {
            return VnniDiagnostics.UnsupportedTypes.Create(location, $"the output '{output.Name}' is {output.ElementType.Name()}; the kernel stores i32, i8 or u8");
        }

        if (output.Cropped || output.Padded)
        {
            return VnniDiagnostics.UnsupportedAccess.Create(location,
                $"the output '{output.Name}' is {(output.Cropped ? "cropped" : "padded")}; the kernel writes every output element exactly once");
        }

        if (view.Base != 0)
        {
            return VnniDiagnostics.UnsupportedAccess.Create(view.WrittenAt, $"the first element of the output '{output.Name}' is not written at the loops' origin");
        }

        // Every output element must be written by exactly one (row, column, outer) point: the non-reduction
        // strides must form a mixed radix that tiles [0, elements).
        var written = Enumerable.Range(0, source.Loops.Length).Where(l => source.Roles[l] != LoopRole.Reduction)
            .Select(l => (view.Strides[l], (long)source.Loops[l].Extent));
        return WritesEachOnce(written, output.ElementCount)
            ? null
            : VnniDiagnostics.UnsupportedAccess.Create(view.WrittenAt, $"the output '{output.Name}' is not written exactly once per element by the non-reduction loops " +
                "(an output-stationary kernel needs that; a scatter such as a transposed convolution is not supported)");
    }

    // The vector loop: the column loop contiguous in the output, readable as a vector (or a broadcast) in every
    // epilogue operand (the last such loop). Other column loops run outside, like batches.
    private static int VectorLoop(ImmutableArray<LoopRole> roles, OutputView view) =>
        Enumerable.Range(0, roles.Length)
            .LastOrDefault(l => roles[l] == LoopRole.Column && view.Strides[l] == 1 && view.EpilogueTensors.All(t => t.Strides[l] is 0 or 1), -1);

    // The GEMM's sizes and the reduction's grouping by 4, in the mode asked for or the one that wastes fewer lanes.
    private static VnniGemm Shape(VnniGemmSource source, VnniAMode? mode, int vector, OutputView view)
    {
        var (loops, roles) = (source.Loops, source.Roles);
        var packed = PackedLoop(source.A, loops, roles);
        var reductions = Enumerable.Range(0, loops.Length).Where(l => roles[l] == LoopRole.Reduction).ToList();
        var k = reductions.Aggregate(1L, (p, l) => p * loops[l].Extent);
        var packedExtent = packed >= 0 ? loops[packed].Extent : 1;
        var directEfficiency = (double)packedExtent / IntegerMath.RoundUp(packedExtent, 4);
        var im2colEfficiency = (double)k / IntegerMath.RoundUp(k, 4);
        var chosen = mode ?? (directEfficiency < 0.7 && im2colEfficiency > directEfficiency ? VnniAMode.Im2col : VnniAMode.Direct);

        // Column loops other than the vector loop run outside the GEMM, like batches.
        var rows = Enumerable.Range(0, loops.Length).Where(l => roles[l] == LoopRole.Row).ToImmutableArray();
        var outers = Enumerable.Range(0, loops.Length).Where(l => roles[l] == LoopRole.Batch || (roles[l] == LoopRole.Column && l != vector)).ToImmutableArray();
        ImmutableArray<int> reductionOuter;
        long groups, innerGroups;
        if (chosen == VnniAMode.Direct)
        {
            reductionOuter = [.. reductions.Where(l => l != packed)];
            innerGroups = IntegerMath.RoundUp(packedExtent, 4) / 4;
            groups = reductionOuter.Aggregate(1L, (p, l) => p * loops[l].Extent) * innerGroups;
        }
        else
        {
            reductionOuter = [.. reductions];
            packed = -1;
            groups = IntegerMath.RoundUp(k, 4) / 4;
            innerGroups = groups;
        }

        var (bBase, bStrides) = Offset(source.B.Access, source.B.Tensor, loops.Length);
        return new VnniGemm
        {
            Instance = source.Instance, NestIndex = source.NestIndex, Loops = loops, A = source.A.Tensor, B = source.B.Tensor,
            Accumulator = source.C.Tensor, Output = view.Output, AAccess = source.A.Access, BAccess = source.B.Access,
            Roles = roles, Rows = rows, ReductionOuter = reductionOuter, Outers = outers, Vector = vector, Packed = packed, AMode = chosen,
            M = rows.Aggregate(1L, (p, l) => p * loops[l].Extent),
            N = vector >= 0 ? loops[vector].Extent : 1,
            K = k, Groups = groups, InnerGroups = innerGroups,
            OuterCount = outers.Aggregate(1L, (p, l) => p * loops[l].Extent),
            StrideAPrime = new long[loops.Length], BaseAPrime = 0, StrideB = bStrides, BaseB = bBase, StrideC = view.Strides,
            APrimeDims = [], APrimeLength = 0,
            EpilogueTensors = view.EpilogueTensors,
            Epilogue = source.Steps,
        };
    }

    // The packed loop: a reduction loop with coefficient 1 in exactly one dimension of A, everything else in that
    // dimension moving in whole multiples of its extent, so the dimension splits into (outer, loop) and the loop
    // can be moved innermost and rounded up to 4. Prefer A's last dimension (already contiguous), then longer loops.
    private static int PackedLoop(GemmTensor operand, ImmutableArray<LoopInstance> loops, ImmutableArray<LoopRole> roles)
    {
        var (aAccess, a) = (operand.Access, operand.Tensor);
        var packed = -1;
        var packedScore = long.MinValue;
        for (var l = 0; l < loops.Length; l++)
        {
            if (roles[l] != LoopRole.Reduction || !Splittable(aAccess, a, l, loops))
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
    private static long EfficiencyScore(long extent) => (long)(1000.0 * extent / IntegerMath.RoundUp(extent, 4)) * 100_000 + Math.Min(extent, 99_999);

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
