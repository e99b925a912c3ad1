using System.Collections.Immutable;

namespace Covenant.Onnx.Host;

/// <summary>A conv layer's sizes from its codelet bindings (defaults as the conv codelets declare them).</summary>
internal sealed record ConvGeometry(long N, long H, long W, long C, long K, long G, long R, long S,
    long StrideH, long StrideW, long PadH, long PadW, long DilationH, long DilationW)
{
    public long P => ((H + (2 * PadH) - (DilationH * (R - 1)) - 1) / StrideH) + 1;

    public long Q => ((W + (2 * PadW) - (DilationW * (S - 1)) - 1) / StrideW) + 1;

    public long ChannelsPerGroup => C / G;

    public long FiltersPerGroup => K / G;

    public static ConvGeometry Of(ImmutableDictionary<string, long> b, bool depthwise)
    {
        long Get(string name, long fallback) => b.TryGetValue(name, out var v) ? v : fallback;
        var stride = Get("stride", 1);
        var pad = Get("pad", 0);
        var dilation = Get("dilation", 1);
        var c = b["C"];
        return new ConvGeometry(b["N"], b["H"], b["W"], c, depthwise ? c : b["K"], depthwise ? c : Get("G", 1), b["R"], b["S"],
            Get("stride_h", stride), Get("stride_w", stride), Get("pad_h", pad), Get("pad_w", pad),
            Get("dilation_h", dilation), Get("dilation_w", dilation));
    }

    /// <summary>The input row of output row <paramref name="p"/> and kernel row <paramref name="r"/>, or -1 in the padding.</summary>
    public long InputRow(long p, long r) => Inside((p * StrideH) + (r * DilationH) - PadH, H);

    public long InputColumn(long q, long s) => Inside((q * StrideW) + (s * DilationW) - PadW, W);

    private static long Inside(long index, long extent) => index >= 0 && index < extent ? index : -1;
}
