using Covenant.Runtime.Vta;

namespace Covenant.Targets.Vta.Lowering;

/// <summary>
/// One dimension of a box of rows moved between DRAM and SRAM: <see cref="Count"/> positions; position t is layout
/// position <see cref="Lo"/> + <see cref="Step"/>·t (Lo may be negative: padding) at DRAM element
/// <see cref="DramOrigin"/> + t·<see cref="DramStride"/>, and SRAM row t·<see cref="SramStride"/> (dense). Positions
/// [<see cref="ValidFrom"/>, <see cref="ValidTo"/>) are in the tensor. <see cref="Full"/>: the dimension covers its
/// whole layout level, contiguously, so it merges with the dimension around it.
/// </summary>
internal readonly record struct BoxDim(long Count, long Lo, long Step, long DramStride, long SramStride, long DramOrigin, long ValidFrom, long ValidTo, bool Full)
{
    public bool FullyValid => ValidFrom == 0 && ValidTo == Count;

    /// <summary>A dimension over layout positions Lo, Lo + step, ... of a level with <paramref name="extent"/> positions, <paramref name="validSize"/> of them data.</summary>
    public static BoxDim Of(long count, long lo, long step, long levelStride, long sramStride, long extent, long validSize)
    {
        // t is valid when 0 <= lo + step*t < validSize.
        var from = lo >= 0 ? 0 : (-lo + step - 1) / step;
        var to = validSize - 1 - lo < 0 ? 0 : ((validSize - 1 - lo) / step) + 1;
        return new BoxDim(count, lo, step, step * levelStride, sramStride, lo * levelStride,
            Math.Clamp(from, 0, count), Math.Clamp(to, 0, count), step == 1 && lo == 0 && count == extent);
    }
}

/// <summary>
/// Emits the LOADs and STOREs of a box: adjacent dimensions that are contiguous in DRAM merge, the two innermost
/// become a 2-D strided transfer (y rows of x elements with a DRAM pitch), the others loop in software. Positions
/// outside the tensor are zero-padded with LOAD pads where allowed (INP, up to 15 per side), else filled from the
/// zero region; STOREs skip them.
/// </summary>
internal sealed class Transfers(VtaConfig config)
{
    private const int MaxPad = 15;
    private const long MaxField = ushort.MaxValue;

    /// <summary>Bytes the zero region must have.</summary>
    public long ZeroBytes { get; private set; }

    public void Load(List<Item> items, VtaMemoryType type, long regionElement, IReadOnlyList<BoxDim> dims, int sramBase)
    {
        var allowPad = type == VtaMemoryType.Inp;
        Walk(dims, (outerValid, dramOuter, sramOuter, y, x) =>
        {
            var sram = sramBase + sramOuter;
            var rows = y.Count;
            var cols = x.Count;
            long ya = y.ValidFrom, yb = y.ValidTo, xa = x.ValidFrom, xb = x.ValidTo;
            if (!outerValid || ya >= yb || xa >= xb)
            {
                Zero(items, type, sram, rows * cols);
                return;
            }

            long Dram(long row, long col) => regionElement + dramOuter + y.DramOrigin + (row * y.DramStride) + x.DramOrigin + (col * x.DramStride);
            long py0 = ya, py1 = rows - yb, px0 = xa, px1 = cols - xb;
            if (allowPad && py0 <= MaxPad && py1 <= MaxPad && px0 <= MaxPad && px1 <= MaxPad)
            {
                items.Add(new Item(Transfer(type, sram, Dram(ya, xa), yb - ya, xb - xa, y.DramStride, py0, py1, px0, px1)));
                return;
            }

            if (py0 > 0)
            {
                Zero(items, type, sram, py0 * cols);
            }

            if (py1 > 0)
            {
                Zero(items, type, sram + (yb * cols), py1 * cols);
            }

            if (px0 == 0 && px1 == 0)
            {
                items.Add(new Item(Transfer(type, sram + (ya * cols), Dram(ya, 0), yb - ya, cols, y.DramStride, 0, 0, 0, 0)));
            }
            else if (allowPad && px0 <= MaxPad && px1 <= MaxPad)
            {
                items.Add(new Item(Transfer(type, sram + (ya * cols), Dram(ya, xa), yb - ya, xb - xa, y.DramStride, 0, 0, px0, px1)));
            }
            else
            {
                for (var row = ya; row < yb; row++)
                {
                    var start = sram + (row * cols);
                    if (px0 > 0)
                    {
                        Zero(items, type, start, px0);
                    }

                    items.Add(new Item(Transfer(type, start + px0, Dram(row, xa), 1, xb - xa, xb - xa, 0, 0, 0, 0)));
                    if (px1 > 0)
                    {
                        Zero(items, type, start + xb, px1);
                    }
                }
            }
        });
    }

    public void Store(List<Item> items, long regionElement, IReadOnlyList<BoxDim> dims, int sramBase)
    {
        Walk(dims, (outerValid, dramOuter, sramOuter, y, x) =>
        {
            long ya = y.ValidFrom, yb = y.ValidTo, xa = x.ValidFrom, xb = x.ValidTo;
            if (!outerValid || ya >= yb || xa >= xb)
            {
                return;
            }

            var sram = sramBase + sramOuter;
            long Dram(long row, long col) => regionElement + dramOuter + y.DramOrigin + (row * y.DramStride) + x.DramOrigin + (col * x.DramStride);
            if (xa == 0 && xb == x.Count)
            {
                items.Add(new Item(StoreInstruction(sram + (ya * x.Count), Dram(ya, 0), yb - ya, x.Count, y.DramStride)));
                return;
            }

            // A clipped row: the SRAM side of a STORE is dense, so each row is its own transfer.
            for (var row = ya; row < yb; row++)
            {
                items.Add(new Item(StoreInstruction(sram + (row * x.Count) + xa, Dram(row, xa), 1, xb - xa, xb - xa)));
            }
        });
    }

    private delegate void BlockAction(bool outerValid, long dramOuter, long sramOuter, BoxDim y, BoxDim x);

    /// <summary>Merges, picks x and y, and visits every 2-D block of the box.</summary>
    private static void Walk(IReadOnlyList<BoxDim> input, BlockAction action)
    {
        // Merge from the inside: an inner dimension covering its whole level joins the one around it.
        var merged = new List<BoxDim>();
        BoxDim? current = null;
        for (var i = input.Count - 1; i >= 0; i--)
        {
            var outer = input[i];
            if (current is { } inner && inner.Full && inner.FullyValid && outer.FullyValid
                && outer.DramStride == inner.Count * inner.DramStride && outer.SramStride == inner.Count * inner.SramStride)
            {
                var count = outer.Count * inner.Count;
                current = new BoxDim(count, 0, 1, inner.DramStride, inner.SramStride, outer.DramOrigin + inner.DramOrigin, 0, count, outer.Full);
                continue;
            }

            if (current is { } done)
            {
                merged.Insert(0, done);
            }

            current = outer;
        }

        if (current is { } last)
        {
            merged.Insert(0, last);
        }

        // Dimensions of one valid position only move the origin.
        long fixedDram = 0;
        var dims = new List<BoxDim>();
        foreach (var d in merged)
        {
            if (d.Count == 1 && d.FullyValid)
            {
                fixedDram += d.DramOrigin;
            }
            else
            {
                dims.Add(d);
            }
        }

        var unit = new BoxDim(1, 0, 1, 1, 1, 0, 0, 1, true);
        BoxDim x, y;
        if (dims.Count > 0 && dims[^1].DramStride == 1 && dims[^1].SramStride == 1)
        {
            x = dims[^1];
            dims.RemoveAt(dims.Count - 1);
        }
        else
        {
            x = unit;
        }

        if (dims.Count > 0 && dims[^1].SramStride == x.Count && dims[^1].DramStride <= MaxField && x.Count <= MaxField)
        {
            y = dims[^1];
            dims.RemoveAt(dims.Count - 1);
        }
        else
        {
            y = unit with { DramStride = Math.Min(MaxField, Math.Max(1, x.Count)) };
        }

        Span<long> idx = stackalloc long[dims.Count];
        while (true)
        {
            var valid = true;
            long dram = fixedDram, sram = 0;
            for (var d = 0; d < dims.Count; d++)
            {
                var p = idx[d];
                valid &= p >= dims[d].ValidFrom && p < dims[d].ValidTo;
                dram += dims[d].DramOrigin + (p * dims[d].DramStride);
                sram += p * dims[d].SramStride;
            }

            action(valid, dram, sram, y, x);
            var k = dims.Count - 1;
            while (k >= 0)
            {
                if (++idx[k] < dims[k].Count)
                {
                    break;
                }

                idx[k] = 0;
                k--;
            }

            if (k < 0)
            {
                return;
            }
        }
    }

    private void Zero(List<Item> items, VtaMemoryType type, long sram, long count)
    {
        var element = config.ElementBytes(type);
        for (long done = 0; done < count;)
        {
            var n = Math.Min(count - done, MaxField);
            ZeroBytes = Math.Max(ZeroBytes, n * element);
            items.Add(new Item(new VtaLoad
            {
                MemoryType = type,
                SramBase = checked((int)(sram + done)),
                YSize = 1,
                XSize = (int)n,
                XStride = (int)n,
            }, Fixup.Zeros));
            done += n;
        }
    }

    private static VtaLoad Transfer(VtaMemoryType type, long sram, long dram, long ySize, long xSize, long pitch, long py0, long py1, long px0, long px1) => new()
    {
        MemoryType = type,
        SramBase = checked((int)sram),
        DramBase = dram,
        YSize = checked((int)ySize),
        XSize = checked((int)xSize),
        XStride = checked((int)(ySize > 1 ? pitch : Math.Min(pitch, xSize))),
        YPad0 = (int)py0,
        YPad1 = (int)py1,
        XPad0 = (int)px0,
        XPad1 = (int)px1,
    };

    private static VtaStore StoreInstruction(long sram, long dram, long ySize, long xSize, long pitch) => new()
    {
        MemoryType = VtaMemoryType.Out,
        SramBase = checked((int)sram),
        DramBase = dram,
        YSize = checked((int)ySize),
        XSize = checked((int)xSize),
        XStride = checked((int)(ySize > 1 ? pitch : Math.Min(pitch, xSize))),
    };
}
