using Covenant.Core.Numerics;

namespace Covenant.Targets.Vnni;

/// <summary>
/// Lays out A', the u8 copy of A the kernel broadcasts from: its dimensions, its length, and the per-loop strides
/// and base offset of the broadcast operand in it.
/// </summary>
internal static class VnniAPrimeLayout
{
    public static VnniGemm WithLayout(VnniGemm gemm) => gemm.AMode == VnniAMode.Direct ? Direct(gemm) : Im2col(gemm);

    // A' in Direct mode: A's dimensions restricted to the reached range, the packed loop's dimension split, its
    // inner part moved last and rounded up to 4 (or a virtual dimension of 4 when nothing can be packed).
    private static VnniGemm Direct(VnniGemm gemm)
    {
        var (a, access, loops) = (gemm.A, gemm.AAccess, gemm.Loops);
        var dims = new List<APrimeDim>();
        var dimOf = new int[a.Shape.Length];
        var strides = a.Strides;
        var packedDim = gemm.Packed >= 0 ? access.Indices.ToList().FindIndex(index => index.Coefficients[gemm.Packed] != 0) : -1;
        var packedExtent = gemm.PackedExtent;
        long outerFirst = 0;
        for (var d = 0; d < a.Shape.Length; d++)
        {
            var index = access.Indices[d];
            dimOf[d] = dims.Count;
            if (d == packedDim)
            {
                // Outer part (index - packed) / extent over the box.
                var without = index with { Coefficients = index.Coefficients.SetItem(gemm.Packed, 0) };
                outerFirst = without.Min(loops) / packedExtent;
                var outerLast = without.Max(loops) / packedExtent;
                var validTo = a.Shape[d] / packedExtent;
                dims.Add(new APrimeDim(APrimeDimKind.SplitOuter, outerLast - outerFirst + 1,
                    Math.Clamp(-outerFirst, 0, outerLast - outerFirst + 1), Math.Clamp(validTo - outerFirst, 0, outerLast - outerFirst + 1),
                    strides[d] * packedExtent, strides[d] * packedExtent * outerFirst));
            }
            else
            {
                var first = index.Min(loops);
                var extent = index.Max(loops) - first + 1;
                dims.Add(new APrimeDim(APrimeDimKind.Regular, extent,
                    Math.Clamp(-first, 0, extent), Math.Clamp(a.Shape[d] - first, 0, extent), strides[d], strides[d] * first));
            }
        }

        dims.Add(packedDim >= 0
            ? new APrimeDim(APrimeDimKind.SplitInner, IntegerMath.RoundUp(packedExtent, 4), 0, packedExtent, strides[packedDim], 0)
            : new APrimeDim(APrimeDimKind.Virtual, 4, 0, 1, 0, 0));

        var primeStrides = DenseStrides(dims);
        var length = dims.Aggregate(1L, (product, dim) => product * dim.Extent);
        var loopStrides = new long[loops.Length];
        long baseOffset = 0;
        for (var d = 0; d < a.Shape.Length; d++)
        {
            var index = access.Indices[d];
            var stride = primeStrides[dimOf[d]];
            if (d == packedDim)
            {
                baseOffset += (index.Constant / packedExtent - outerFirst) * stride;
                for (var l = 0; l < loops.Length; l++)
                {
                    loopStrides[l] += l == gemm.Packed ? 1 : index.Coefficients[l] / packedExtent * stride;
                }
            }
            else
            {
                baseOffset += (index.Constant - index.Min(loops)) * stride;
                for (var l = 0; l < loops.Length; l++)
                {
                    loopStrides[l] += index.Coefficients[l] * stride;
                }
            }
        }

        return gemm with { StrideAPrime = loopStrides, BaseAPrime = baseOffset, APrimeDims = [.. dims], APrimeLength = length };
    }

    // A' in Im2col mode: [outer][row][reduction rounded up to 4]; its offsets are computed, not tabulated.
    private static VnniGemm Im2col(VnniGemm gemm) => gemm with
    {
        StrideAPrime = new long[gemm.Loops.Length],
        BaseAPrime = 0,
        APrimeDims = [],
        APrimeLength = gemm.OuterCount * gemm.M * gemm.Groups * 4,
    };

    /// <summary>A' is dense, row-major over its dimensions.</summary>
    public static long[] DenseStrides(IReadOnlyList<APrimeDim> dims)
    {
        var strides = new long[dims.Count];
        long stride = 1;
        for (var i = dims.Count - 1; i >= 0; i--)
        {
            strides[i] = stride;
            stride *= dims[i].Extent;
        }

        return strides;
    }
}
