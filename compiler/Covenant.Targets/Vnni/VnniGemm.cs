using System.Collections.Immutable;
using Covenant.Codelets;
using Covenant.Codelets.Semantics;
using Covenant.Mapping.Analysis;
using Covenant.Mapping.Model;

namespace Covenant.Targets.Vnni;

// The accumulation nest seen as an implicit GEMM  C[o][m][n] += A[o][m][k] · B[o][k][n], with the loop roles of the
// mapping's GemmView (LoopRole, derived only from the affine indices, never from the operator's name):
//   Row        loops index the accumulator and A, not B          (m: GEMM rows, a convolution's n, p, q)
//   Column     loops index the accumulator and B, not A          (n: one of them, contiguous in the output, is
//                                                                 the vector loop; the others run outside)
//   Reduction  loops do not index the accumulator                (k: one of them, with coefficient 1 in A, is the
//                                                                 packed loop whose groups of 4 feed vpdpbusd)
//   Batch      loops index the accumulator and both or neither   (bmm's batch, the groups of a grouped conv)
// Batch loops and the column loops other than the vector loop are the Outer loops: each value is a GEMM of its own.
// Every address is an affine function of the loops, so each tensor's offset splits into a row part, a column
// part, a reduction part and an outer part; row and reduction parts go into offset tables, the rest into
// strides. Padding and the +128 of signed A are handled once per run by copying A into A', a u8 tensor that
// covers exactly the range the indices reach (out-of-bounds elements read as the value of zero).
// VnniGemmAnalysis derives it from a VnniGemmSource; VnniAPrimeLayout lays out A'.

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

internal sealed record VnniGemm
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

    /// <summary>Each loop's role (the view's, with A as given); column loops other than <see cref="Vector"/> run in <see cref="Outers"/>.</summary>
    public required ImmutableArray<LoopRole> Roles { get; init; }

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

}
