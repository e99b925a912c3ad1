using System.Collections.Immutable;
using Covenant.Codelets;
using Covenant.Codelets.Semantics;
using Covenant.Mapping.Analysis;
using Covenant.Mapping.Model;

namespace Covenant.Targets.Vnni;

// The accumulation nest seen as an implicit GEMM  C[o][m][n] += A[o][m][k] · B[o][k][n], derived only from the
// affine indices (never from the operator's name):
//   Row        loops index the accumulator and A, not B          (m: GEMM rows, a convolution's n, p, q)
//   Column     loops index the accumulator and B, not A          (n: one of them, contiguous in the output, is
//                                                                 the vector loop; the others become Outer)
//   Reduction  loops do not index the accumulator                (k: one of them, with coefficient 1 in A, is the
//                                                                 packed loop whose groups of 4 feed vpdpbusd)
//   Outer      loops index the accumulator and both or neither   (bmm's batch, the groups of a grouped conv)
// Every address is an affine function of the loops, so each tensor's offset splits into a row part, a column
// part, a reduction part and an outer part; row and reduction parts go into offset tables, the rest into
// strides. Padding and the +128 of signed A are handled once per run by copying A into A', a u8 tensor that
// covers exactly the range the indices reach (out-of-bounds elements read as the value of zero).

/// <summary>How A reaches the kernel.</summary>
public enum VnniAMode
{
    /// <summary>A' keeps A's layout (padded, shifted to u8, the packed loop innermost and rounded up to 4): no data
    /// is duplicated, overlapping convolution windows are addressed through the offset tables.</summary>
    Direct,

    /// <summary>A' is the explicit [outer][row][reduction] matrix (im2col), the reduction rounded up to 4 once
    /// rather than per packed loop: for reductions whose contiguous loop is short (a convolution with 1 or 3
    /// input channels).</summary>
    Im2col,
}

/// <summary>What an A' coordinate means in A.</summary>
internal enum APrimeDimKind
{
    /// <summary>A dimension of A, restricted to the range its index reaches: source index = First + coordinate.</summary>
    Regular,

    /// <summary>The dimension of the packed loop without it: source index = (First + coordinate) · extent + inner.</summary>
    SplitOuter,

    /// <summary>The packed loop itself, rounded up to a multiple of 4 (innermost).</summary>
    SplitInner,

    /// <summary>A dimension of 4 added when no reduction loop can be packed: only coordinate 0 holds data.</summary>
    Virtual,
}

/// <param name="ValidFrom">First coordinate whose source is inside A (coordinates outside [ValidFrom, ValidTo) are padding).</param>
/// <param name="SourceStride">A elements per coordinate.</param>
/// <param name="SourceFirst">A offset contributed by coordinate 0.</param>
internal sealed record APrimeDim(APrimeDimKind Kind, long Extent, long ValidFrom, long ValidTo, long SourceStride, long SourceFirst);

/// <summary>An element-wise operand of the epilogue (a bias), addressed in the main nest's loops.</summary>
internal sealed record VnniEpilogueTensor(string Name, TensorInstance Tensor, long Base, long[] Strides);

internal sealed class VnniGemm
{
    public required CodeletInstance Instance { get; init; }

    public required int NestIndex { get; init; }

    public required ImmutableArray<LoopInstance> Loops { get; init; }

    public required TensorInstance A { get; init; }

    public required TensorInstance B { get; init; }

    public required TensorInstance Accumulator { get; init; }

    public required TensorInstance Output { get; init; }

    public required AccessInstance AAccess { get; init; }

    public required AccessInstance BAccess { get; init; }

    public required ImmutableArray<VnniLoopRole> Roles { get; init; }

    /// <summary>Row loops, nest order (the flattened row index runs the last one fastest).</summary>
    public required ImmutableArray<int> Rows { get; init; }

    /// <summary>Reduction loops other than the packed one (Direct), or all of them (Im2col); nest order.</summary>
    public required ImmutableArray<int> ReductionOuter { get; init; }

    public required ImmutableArray<int> Outers { get; init; }

    /// <summary>The vector (column) loop, or -1 when no column loop is contiguous in the output (one column).</summary>
    public required int Vector { get; init; }

    /// <summary>The packed reduction loop (Direct), or -1 when virtual or in Im2col mode.</summary>
    public required int Packed { get; init; }

    public required VnniAMode AMode { get; init; }

    public required long M { get; init; }

    public required long N { get; init; }

    /// <summary>Multiply-accumulates per output element (the product of the reduction extents).</summary>
    public required long K { get; init; }

    /// <summary>Groups of 4 reduction values (vpdpbusd steps per output vector).</summary>
    public required long Groups { get; init; }

    /// <summary>Groups per packed-loop sweep (Direct: ceil(packed extent / 4)); Groups = ReductionOuter product x this.</summary>
    public required long InnerGroups { get; init; }

    public required long OuterCount { get; init; }

    // Per-loop element strides and base offsets of A' (Direct), B, the output C.
    public required long[] StrideAPrime { get; init; }

    public required long BaseAPrime { get; init; }

    public required long[] StrideB { get; init; }

    public required long BaseB { get; init; }

    public required long[] StrideC { get; init; }

    public required ImmutableArray<APrimeDim> APrimeDims { get; init; }

    public required long APrimeLength { get; init; }

    public required ImmutableArray<VnniEpilogueTensor> EpilogueTensors { get; init; }

    public required ImmutableArray<EpilogueOperation> Epilogue { get; init; }

    public bool Compensate => A.ElementType == ElementType.I8;

    /// <summary>The byte of A' that stands for zero: 128 for signed A (stored as x + 128), 0 for unsigned.</summary>
    public int ZeroByte => Compensate ? 0x80 : 0;

    /// <summary>Reduction values per group actually used, over all groups (1 = no padding waste).</summary>
    public double ReductionEfficiency => (double)K / (Groups * 4);

    /// <summary>Extent of the packed loop (1 when virtual).</summary>
    public long PackedExtent => Packed >= 0 ? Loops[Packed].Extent : 1;

    /// <summary>The padded row length of A' in Im2col mode.</summary>
    public long Im2colRow => Groups * 4;

    /// <summary>Analyzes the accumulation nest with <paramref name="aAccess"/> as the broadcast (u8) operand.</summary>
    public static (VnniGemm? Gemm, string? Problem) Analyze(
        CodeletInstance instance, AccumulationNest nest, AccessInstance aAccess, AccessInstance bAccess, VnniAMode? mode)
    {
        var loops = nest.Nest.Loops;
        var a = instance.Tensors[aAccess.Tensor];
        var b = instance.Tensors[bAccess.Tensor];
        var accumulator = instance.Tensors[nest.Accumulator.Tensor];
        if (accumulator.ElementType != ElementType.I32)
        {
            return Fail($"the accumulator '{accumulator.Name}' is {accumulator.ElementType.Name()}; vpdpbusd accumulates i32");
        }

        if (a.ElementType is not (ElementType.I8 or ElementType.U8) || b.ElementType != ElementType.I8)
        {
            return Fail($"vpdpbusd multiplies u8 (or i8, shifted by 128) by i8, but '{a.Name}' is {a.ElementType.Name()} " +
                $"and '{b.Name}' is {b.ElementType.Name()}");
        }

        if (a.Cropped || b.Cropped)
        {
            return Fail("cropped inputs are not supported");
        }

        // Roles, as the mapper classifies them.
        var roles = new VnniLoopRole[loops.Length];
        for (var l = 0; l < loops.Length; l++)
        {
            var (inAcc, inA, inB) = (AccumulationNest.Uses(nest.Accumulator, l), AccumulationNest.Uses(aAccess, l), AccumulationNest.Uses(bAccess, l));
            roles[l] = (inAcc, inA, inB) switch
            {
                (false, _, _) => VnniLoopRole.Reduction,
                (true, true, false) => VnniLoopRole.Row,
                (true, false, true) => VnniLoopRole.Column,
                _ => VnniLoopRole.Outer,
            };
        }

        // The output and the epilogue operands, addressed in the main nest's loops.
        var output = accumulator;
        var epilogueTensors = ImmutableArray.CreateBuilder<VnniEpilogueTensor>();
        (long Base, long[] Strides) outputOffset;
        if (nest.Epilogue is { } epilogue)
        {
            var composed = ComposeEpilogue(instance, nest, epilogue);
            if (composed.Problem is not null)
            {
                return Fail(composed.Problem);
            }

            output = instance.Tensors.First(t => t.Name == epilogue.Output);
            outputOffset = composed.Output;
            if (accumulator.Role == TensorRole.Output)
            {
                return Fail($"both the accumulator '{accumulator.Name}' and the epilogue's '{output.Name}' are outputs; the kernel stores only the epilogue's");
            }
            foreach (var (name, offset) in composed.Operands)
            {
                var tensor = instance.Tensors.First(t => t.Name == name);
                if (tensor.ElementType != ElementType.I32)
                {
                    return Fail($"the epilogue operand '{name}' is {tensor.ElementType.Name()}; the kernel adds i32 operands only");
                }

                epilogueTensors.Add(new VnniEpilogueTensor(name, tensor, offset.Base, offset.Strides));
            }
        }
        else
        {
            if (accumulator.Role != TensorRole.Output)
            {
                return Fail($"the accumulator '{accumulator.Name}' is never stored to an output");
            }

            outputOffset = Flatten(nest.Accumulator, accumulator, loops.Length);
        }

        if (output.ElementType is not (ElementType.I32 or ElementType.I8 or ElementType.U8))
        {
            return Fail($"the output '{output.Name}' is {output.ElementType.Name()}; the kernel stores i32, i8 or u8");
        }

        if (output.Cropped || output.Padded)
        {
            return Fail($"the output '{output.Name}' is {(output.Cropped ? "cropped" : "padded")}; the kernel writes every output element exactly once");
        }

        // Every output element must be written by exactly one (row, column, outer) point: the non-reduction
        // strides must form a mixed radix that tiles [0, elements).
        if (!IsBijection(outputOffset.Base, outputOffset.Strides, loops, roles, output.ElementCount))
        {
            return Fail($"the output '{output.Name}' is not written exactly once per element by the non-reduction loops " +
                "(an output-stationary kernel needs that; a scatter such as a transposed convolution is not supported)");
        }

        // The vector loop: the column loop contiguous in the output, readable as a vector (or a broadcast) in every
        // epilogue operand. Other column loops run outside, like batches.
        var vector = -1;
        for (var l = 0; l < loops.Length; l++)
        {
            if (roles[l] == VnniLoopRole.Column && outputOffset.Strides[l] == 1
                && epilogueTensors.All(t => t.Strides[l] is 0 or 1))
            {
                vector = l;
            }
        }

        for (var l = 0; l < loops.Length; l++)
        {
            if (roles[l] == VnniLoopRole.Column && l != vector)
            {
                roles[l] = VnniLoopRole.Outer;
            }
        }

        // The packed loop: a reduction loop with coefficient 1 in exactly one dimension of A, everything else in that
        // dimension moving in whole multiples of its extent, so the dimension splits into (outer, loop) and the loop
        // can be moved innermost and rounded up to 4. Prefer A's last dimension (already contiguous), then longer loops.
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

        var reductions = Enumerable.Range(0, loops.Length).Where(l => roles[l] == VnniLoopRole.Reduction).ToList();
        var k = reductions.Aggregate(1L, (p, l) => p * loops[l].Extent);
        var packedExtent = packed >= 0 ? loops[packed].Extent : 1;
        var directEfficiency = (double)packedExtent / RoundUp(packedExtent, 4);
        var im2colEfficiency = (double)k / RoundUp(k, 4);
        var chosen = mode ?? (directEfficiency < 0.7 && im2colEfficiency > directEfficiency ? VnniAMode.Im2col : VnniAMode.Direct);

        var rows = Enumerable.Range(0, loops.Length).Where(l => roles[l] == VnniLoopRole.Row).ToImmutableArray();
        var outers = Enumerable.Range(0, loops.Length).Where(l => roles[l] == VnniLoopRole.Outer).ToImmutableArray();
        var m = rows.Aggregate(1L, (p, l) => p * loops[l].Extent);
        var outerCount = outers.Aggregate(1L, (p, l) => p * loops[l].Extent);
        ImmutableArray<int> reductionOuter;
        long groups, innerGroups;
        if (chosen == VnniAMode.Direct)
        {
            reductionOuter = [.. reductions.Where(l => l != packed)];
            innerGroups = RoundUp(packedExtent, 4) / 4;
            groups = reductionOuter.Aggregate(1L, (p, l) => p * loops[l].Extent) * innerGroups;
        }
        else
        {
            reductionOuter = [.. reductions];
            packed = -1;
            groups = RoundUp(k, 4) / 4;
            innerGroups = groups;
        }

        var (bBase, bStrides) = Flatten(bAccess, b, loops.Length);
        var gemm = new VnniGemm
        {
            Instance = instance,
            NestIndex = nest.NestIndex,
            Loops = loops,
            A = a,
            B = b,
            Accumulator = accumulator,
            Output = output,
            AAccess = aAccess,
            BAccess = bAccess,
            Roles = [.. roles],
            Rows = rows,
            ReductionOuter = reductionOuter,
            Outers = outers,
            Vector = vector,
            Packed = packed,
            AMode = chosen,
            M = m,
            N = vector >= 0 ? loops[vector].Extent : 1,
            K = k,
            Groups = groups,
            InnerGroups = innerGroups,
            OuterCount = outerCount,
            StrideAPrime = new long[loops.Length],
            BaseAPrime = 0,
            StrideB = bStrides,
            BaseB = bBase,
            StrideC = outputOffset.Strides,
            APrimeDims = [],
            APrimeLength = 0,
            EpilogueTensors = epilogueTensors.ToImmutable(),
            Epilogue = nest.Epilogue?.Steps ?? [],
        };

        if (outputOffset.Base != 0)
        {
            return Fail("the output's first element is not written at the loops' origin");
        }

        return (chosen == VnniAMode.Direct ? gemm.WithDirectLayout() : gemm.WithIm2colLayout(), null);

        static (VnniGemm?, string?) Fail(string problem) => (null, problem);
    }

    // A' in Direct mode: A's dimensions restricted to the reached range, the packed loop's dimension split, its
    // inner part moved last and rounded up to 4 (or a virtual dimension of 4 when nothing can be packed).
    private VnniGemm WithDirectLayout()
    {
        var dims = new List<APrimeDim>();
        var dimOf = new int[A.Shape.Length];
        var strides = A.Strides;
        var packedDim = Packed >= 0 ? AAccess.Indices.ToList().FindIndex(index => index.Coefficients[Packed] != 0) : -1;
        var packedExtent = PackedExtent;
        long outerFirst = 0;
        for (var d = 0; d < A.Shape.Length; d++)
        {
            var index = AAccess.Indices[d];
            dimOf[d] = dims.Count;
            if (d == packedDim)
            {
                // Outer part (index - packed) / extent over the box.
                var without = index with { Coefficients = index.Coefficients.SetItem(Packed, 0) };
                outerFirst = without.Min(Loops) / packedExtent;
                var outerLast = without.Max(Loops) / packedExtent;
                var validTo = A.Shape[d] / packedExtent;
                dims.Add(new APrimeDim(APrimeDimKind.SplitOuter, outerLast - outerFirst + 1,
                    Math.Clamp(-outerFirst, 0, outerLast - outerFirst + 1), Math.Clamp(validTo - outerFirst, 0, outerLast - outerFirst + 1),
                    strides[d] * packedExtent, strides[d] * packedExtent * outerFirst));
            }
            else
            {
                var first = index.Min(Loops);
                var extent = index.Max(Loops) - first + 1;
                dims.Add(new APrimeDim(APrimeDimKind.Regular, extent,
                    Math.Clamp(-first, 0, extent), Math.Clamp(A.Shape[d] - first, 0, extent), strides[d], strides[d] * first));
            }
        }

        dims.Add(packedDim >= 0
            ? new APrimeDim(APrimeDimKind.SplitInner, RoundUp(packedExtent, 4), 0, packedExtent, strides[packedDim], 0)
            : new APrimeDim(APrimeDimKind.Virtual, 4, 0, 1, 0, 0));

        var primeStrides = new long[dims.Count];
        long length = 1;
        for (var i = dims.Count - 1; i >= 0; i--)
        {
            primeStrides[i] = length;
            length *= dims[i].Extent;
        }

        var loopStrides = new long[Loops.Length];
        long baseOffset = 0;
        for (var d = 0; d < A.Shape.Length; d++)
        {
            var index = AAccess.Indices[d];
            var stride = primeStrides[dimOf[d]];
            if (d == packedDim)
            {
                baseOffset += (index.Constant / packedExtent - outerFirst) * stride;
                for (var l = 0; l < Loops.Length; l++)
                {
                    loopStrides[l] += l == Packed ? 1 : index.Coefficients[l] / packedExtent * stride;
                }
            }
            else
            {
                baseOffset += (index.Constant - index.Min(Loops)) * stride;
                for (var l = 0; l < Loops.Length; l++)
                {
                    loopStrides[l] += index.Coefficients[l] * stride;
                }
            }
        }

        return new VnniGemm
        {
            Instance = Instance, NestIndex = NestIndex, Loops = Loops, A = A, B = B, Accumulator = Accumulator, Output = Output,
            AAccess = AAccess, BAccess = BAccess, Roles = Roles, Rows = Rows, ReductionOuter = ReductionOuter, Outers = Outers,
            Vector = Vector, Packed = Packed, AMode = AMode, M = M, N = N, K = K, Groups = Groups, InnerGroups = InnerGroups,
            OuterCount = OuterCount, StrideB = StrideB, BaseB = BaseB, StrideC = StrideC, EpilogueTensors = EpilogueTensors,
            Epilogue = Epilogue,
            StrideAPrime = loopStrides,
            BaseAPrime = baseOffset,
            APrimeDims = [.. dims],
            APrimeLength = length,
        };
    }

    // A' in Im2col mode: [outer][row][reduction rounded up to 4]; its offsets are computed, not tabulated.
    private VnniGemm WithIm2colLayout() => new()
    {
        Instance = Instance, NestIndex = NestIndex, Loops = Loops, A = A, B = B, Accumulator = Accumulator, Output = Output,
        AAccess = AAccess, BAccess = BAccess, Roles = Roles, Rows = Rows, ReductionOuter = ReductionOuter, Outers = Outers,
        Vector = Vector, Packed = Packed, AMode = AMode, M = M, N = N, K = K, Groups = Groups, InnerGroups = InnerGroups,
        OuterCount = OuterCount, StrideB = StrideB, BaseB = BaseB, StrideC = StrideC, EpilogueTensors = EpilogueTensors,
        Epilogue = Epilogue,
        StrideAPrime = new long[Loops.Length],
        BaseAPrime = 0,
        APrimeDims = [],
        APrimeLength = OuterCount * M * Groups * 4,
    };

    /// <summary>The A' offset of each group of 4 reduction values (Direct).</summary>
    public long[] GroupOffsetsAPrime()
    {
        if (AMode == VnniAMode.Im2col)
        {
            return [.. Enumerable.Range(0, (int)Groups).Select(g => 4L * g)];
        }

        var outer = Offsets(ReductionOuter, StrideAPrime);
        var result = new long[Groups];
        for (var o = 0; o < outer.Length; o++)
        {
            for (var q = 0; q < InnerGroups; q++)
            {
                result[(o * InnerGroups) + q] = outer[o] + (4 * q);
            }
        }

        return result;
    }

    public bool DependsOnRows(long[] strides) => Rows.Any(l => strides[l] != 0);

    private long[] Offsets(ImmutableArray<int> loops, long[] strides)
    {
        var count = loops.Aggregate(1L, (p, l) => p * Loops[l].Extent);
        var result = new long[count];
        for (long flat = 0; flat < count; flat++)
        {
            long rest = flat, offset = 0;
            for (var i = loops.Length - 1; i >= 0; i--)
            {
                var extent = Loops[loops[i]].Extent;
                offset += rest % extent * strides[loops[i]];
                rest /= extent;
            }

            result[flat] = offset;
        }

        return result;
    }

    /// <summary>Element offset of an access as base + Σ stride · loop.</summary>
    internal static (long Base, long[] Strides) Flatten(AccessInstance access, TensorInstance tensor, int loopCount)
    {
        var tensorStrides = tensor.Strides;
        var strides = new long[loopCount];
        long baseOffset = 0;
        for (var d = 0; d < access.Indices.Length; d++)
        {
            baseOffset += access.Indices[d].Constant * tensorStrides[d];
            for (var l = 0; l < loopCount; l++)
            {
                strides[l] += access.Indices[d].Coefficients[l] * tensorStrides[d];
            }
        }

        return (baseOffset, strides);
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
    private static long EfficiencyScore(long extent) => (long)(1000.0 * extent / RoundUp(extent, 4)) * 100_000 + Math.Min(extent, 99_999);

    private static bool IsBijection(long baseOffset, long[] strides, ImmutableArray<LoopInstance> loops, VnniLoopRole[] roles, long elements)
    {
        var radix = Enumerable.Range(0, loops.Length)
            .Where(l => roles[l] != VnniLoopRole.Reduction && loops[l].Extent > 1)
            .Select(l => (Stride: strides[l], Extent: (long)loops[l].Extent))
            .OrderBy(p => p.Stride)
            .ToList();
        if (baseOffset != 0)
        {
            return false;
        }

        long expected = 1;
        foreach (var (stride, extent) in radix)
        {
            if (stride != expected)
            {
                return false;
            }

            expected *= extent;
        }

        return expected == elements;
    }

    // The epilogue nest `out[e..] = f(acc[e..], t[e..])`: each loop of it must index one accumulator dimension with
    // coefficient 1 (a permutation), so every epilogue address can be rewritten in the main nest's loops.
    private static ((long Base, long[] Strides) Output, List<(string Name, (long Base, long[] Strides) Offset)> Operands, string? Problem)
        ComposeEpilogue(CodeletInstance instance, AccumulationNest nest, Epilogue epilogue)
    {
        var epilogueNest = instance.Nests[epilogue.NestIndex];
        var statement = epilogueNest.Statements[0];
        var mainLoops = nest.Nest.Loops.Length;
        var accumulatorLoad = FindLoad(statement.Value, nest.Accumulator.Tensor);
        if (accumulatorLoad is null)
        {
            return (default, [], "the epilogue does not read the accumulator");
        }

        // Epilogue loop -> the accumulator dimension it runs along.
        var dimOfLoop = new int[epilogueNest.Loops.Length];
        Array.Fill(dimOfLoop, -1);
        for (var d = 0; d < accumulatorLoad.Indices.Length; d++)
        {
            var index = accumulatorLoad.Indices[d];
            var used = index.Coefficients.Select((c, l) => (c, l)).Where(p => p.c != 0).ToList();
            if (index.Constant != 0 || used.Count > 1 || (used.Count == 1 && used[0].c != 1))
            {
                return (default, [], "the epilogue must read the accumulator at its own loop indices");
            }

            if (used.Count == 1)
            {
                dimOfLoop[used[0].l] = d;
            }
        }

        for (var e = 0; e < epilogueNest.Loops.Length; e++)
        {
            if (dimOfLoop[e] < 0 && epilogueNest.Loops[e].Extent > 1)
            {
                return (default, [], $"the epilogue loop '{epilogueNest.Loops[e].Name}' does not index the accumulator");
            }
        }

        (long, long[]) Compose(AccessInstance access)
        {
            var tensor = instance.Tensors[access.Tensor];
            var tensorStrides = tensor.Strides;
            long baseOffset = 0;
            var strides = new long[mainLoops];
            for (var d = 0; d < access.Indices.Length; d++)
            {
                var index = access.Indices[d];
                baseOffset += index.Constant * tensorStrides[d];
                for (var e = 0; e < index.Coefficients.Length; e++)
                {
                    var coefficient = index.Coefficients[e];
                    if (coefficient == 0 || dimOfLoop[e] < 0)
                    {
                        continue;
                    }

                    // e = the accumulator's index dimOfLoop[e] in the main nest.
                    var main = nest.Accumulator.Indices[dimOfLoop[e]];
                    baseOffset += coefficient * main.Constant * tensorStrides[d];
                    for (var l = 0; l < mainLoops; l++)
                    {
                        strides[l] += coefficient * main.Coefficients[l] * tensorStrides[d];
                    }
                }
            }

            return (baseOffset, strides);
        }

        var operands = new List<(string, (long, long[]))>();
        foreach (var name in epilogue.Steps.Where(s => s.Tensor is not null).Select(s => s.Tensor!).Distinct())
        {
            var tensorIndex = instance.IndexOf(name);
            var load = FindLoad(statement.Value, tensorIndex);
            if (load is null)
            {
                return (default, [], $"the epilogue operand '{name}' is not read as a tensor element");
            }

            operands.Add((name, Compose(load)));
        }

        return (Compose(statement.Target), operands, null);
    }

    private static AccessInstance? FindLoad(ValueExpr value, int tensor) => value switch
    {
        LoadValue load when load.Access.Tensor == tensor => load.Access,
        CastValue cast => FindLoad(cast.Operand, tensor),
        UnaryValue unary => FindLoad(unary.Operand, tensor),
        BinaryValue binary => FindLoad(binary.Left, tensor) ?? FindLoad(binary.Right, tensor),
        CallValue call => call.Arguments.Select(a => FindLoad(a, tensor)).FirstOrDefault(a => a is not null),
        _ => null,
    };

    internal static long RoundUp(long value, long multiple) => (value + multiple - 1) / multiple * multiple;
}
