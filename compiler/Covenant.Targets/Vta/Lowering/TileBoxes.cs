using Covenant.Core.Numerics;

namespace Covenant.Targets.Vta.Lowering;

/// <summary>
/// The boxes of rows each tensor occupies in a step, read by the buffer partition (their largest sizes) and the
/// stream generator (their transfers and strides). Pure functions of the layouts.
/// </summary>
internal sealed class TileBoxes(TensorLayouts layouts, EpiloguePlan epilogue)
{
    /// <summary>INP rows, compressed: rows a strided window never reads are not loaded.</summary>
    public BoxDim[] Inp(Step step) => Box(layouts.Inp, step, compress: true);

    public BoxDim[] Wgt(Step step) => Box(layouts.Wgt, step);

    public BoxDim[] Acc(Step step) => Box(layouts.Acc, step);

    /// <summary>The box of epilogue operand <paramref name="operand"/> beside an accumulator box: its coordinates follow the accumulator's.</summary>
    public BoxDim[] Operand(int operand, BoxDim[] accBox)
    {
        var (_, model, coordOfAcc) = epilogue.Operands[operand];
        var coords = new (long Count, long Lo)[model.Coords.Length];
        for (var c = 0; c < coordOfAcc.Length; c++)
        {
            if (coordOfAcc[c] >= 0)
            {
                coords[coordOfAcc[c]] = (accBox[c].Count, accBox[c].Lo);
            }
        }

        var dims = new BoxDim[model.Coords.Length];
        long sram = 1;
        for (var c = dims.Length - 1; c >= 0; c--)
        {
            var m = model.Coords[c];
            dims[c] = BoxDim.Of(coords[c].Count, coords[c].Lo, 1, m.DramStride, sram, m.Extent, m.ValidSize);
            sram *= coords[c].Count;
        }

        return dims;
    }

    /// <summary>
    /// The box of rows a tensor model occupies in one step: per coordinate, the layout positions the step touches.
    /// With <paramref name="compress"/>, a coordinate whose varying loops all step by a multiple g of 1 (a 1x1
    /// convolution's p*stride) keeps only every g-th position: the rows in between are never read.
    /// </summary>
    public static BoxDim[] Box(TensorModel model, Step step, bool compress = false)
    {
        var dims = new BoxDim[model.Coords.Length];
        long sram = 1;
        for (var c = model.Coords.Length - 1; c >= 0; c--)
        {
            var coord = model.Coords[c];
            long g = 0;
            for (var l = 0; l < coord.Coef.Length; l++)
            {
                if (step.Units[l] > 1)
                {
                    g = IntegerMath.Gcd(g, coord.Coef[l]);
                }
            }

            var stride = compress && g > 1 ? g : 1;
            var count = ((coord.Count(step.Units) - 1) / stride) + 1;
            dims[c] = BoxDim.Of(count, coord.Lo(step.Lo), stride, coord.DramStride, sram, coord.Extent, coord.ValidSize);
            sram *= count;
        }

        return dims;
    }

    public static int Rows(BoxDim[] box) => checked((int)box.Aggregate(1L, (p, d) => p * d.Count));

    /// <summary>How one step along a loop moves the rows of a model's box (0 when the model does not depend on it).</summary>
    public static long Stride(TensorModel model, BoxDim[] box, int loop)
    {
        long s = 0;
        for (var c = 0; c < model.Coords.Length; c++)
        {
            s += model.Coords[c].Coef[loop] / box[c].Step * box[c].SramStride;
        }

        return s;
    }
}
