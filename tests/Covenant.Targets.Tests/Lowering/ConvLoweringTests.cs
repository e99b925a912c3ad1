using static Covenant.Targets.Tests.Lowering.TestMappings;

namespace Covenant.Targets.Tests.Lowering;

/// <summary>Convolutions lowered to VTA (generic affine indices: stride, padding, dilation, groups) and run bit-exact.</summary>
public sealed class ConvLoweringTests
{
    private static readonly MappingSpec Conv = new() { J = "k", K = "c" };

    private static Dictionary<string, int> Tiles(string text) => text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
        .Select(t => t.Split('='))
        .ToDictionary(t => t[0], t => int.Parse(t[1], System.Globalization.CultureInfo.InvariantCulture));

    [TestCase(Vta16, "N=1, H=8, W=8, C=16, K=16, R=3, S=3, pad=1", "")]
    [TestCase(Vta16, "N=2, H=9, W=9, C=8, K=20, R=3, S=3, stride=2, pad=1", "")]
    [TestCase(Vta16, "N=1, H=10, W=10, C=16, K=16, R=3, S=3, dilation=2, pad=2", "")]
    [TestCase(Vta16, "N=1, H=7, W=7, C=40, K=24, R=1, S=1", "")]
    [TestCase(Vta16, "N=1, H=16, W=16, C=3, K=16, R=7, S=7, stride=2, pad=3", "")]
    [TestCase(Vta16, "N=1, H=9, W=11, C=20, K=40, R=3, S=3, pad=1", "p=4, q=5, k=16, c=16")]
    [TestCase(Vta16, "N=2, H=8, W=8, C=32, K=32, R=3, S=3, stride=2, pad=1", "n=1, p=2, k=16, c=16")]
    [TestCase(Vta16, "N=1, H=6, W=6, C=16, K=16, R=5, S=5, pad=4", "")]
    [TestCase(Vta16, "N=1, H=5, W=40, C=8, K=16, R=3, S=3, pad=1, stride_h=1, stride_w=2, dilation_w=3", "q=7")]
    [TestCase(Vta32, "N=1, H=8, W=8, C=16, K=16, R=3, S=3, pad=1", "")]
    [TestCase(Vta32, "N=2, H=9, W=9, C=40, K=70, R=3, S=3, stride=2, pad=1", "p=3, k=32, c=32")]
    [TestCase(Vta32, "N=1, H=16, W=16, C=3, K=16, R=7, S=7, stride=2, pad=3", "")]
    public void Conv2d(string arch, string bindings, string tiles) =>
        RunExact("conv2d", bindings, arch, Conv with { Tiles = Tiles(tiles) });

    [TestCase(Vta16, "N=2, W=20, C=24, K=20, S=3, stride=2, pad=1, dilation=2", "q=4")]
    [TestCase(Vta32, "N=1, W=17, C=5, K=3, S=5, pad=2", "")]
    public void Conv1d(string arch, string bindings, string tiles) =>
        RunExact("conv1d", bindings, arch, Conv with { Tiles = Tiles(tiles) });

    [TestCase(Vta16, "N=1, D=5, H=6, W=6, C=16, K=16, T=3, R=3, S=3, pad=1", "o=2")]
    [TestCase(Vta32, "N=1, D=4, H=5, W=5, C=8, K=8, T=2, R=3, S=3, stride=2, pad=1", "")]
    public void Conv3d(string arch, string bindings, string tiles) =>
        RunExact("conv3d", bindings, arch, Conv with { Tiles = Tiles(tiles) });

    [TestCase(Vta16, "N=1, H=8, W=8, C=32, K=64, G=2, R=3, S=3, pad=1", "")]
    [TestCase(Vta16, "N=1, H=6, W=6, C=24, K=36, G=3, R=3, S=3, pad=1", "g=1")]
    [TestCase(Vta32, "N=1, H=6, W=6, C=40, K=40, G=4, R=3, S=3, stride=2, pad=1", "")]
    public void Grouped(string arch, string bindings, string tiles) =>
        RunExact("conv2d_grouped", bindings, arch, Conv with { Tiles = Tiles(tiles) });

    [TestCase(Vta16, "N=1, H=8, W=8, C=5, R=3, S=3, pad=1", "")]
    [TestCase(Vta32, "N=1, H=9, W=9, C=3, R=3, S=3, stride=2, pad=1", "c=1")]
    public void Depthwise(string arch, string bindings, string tiles) =>
        RunExact("conv2d_depthwise", bindings, arch, new MappingSpec { J = null, K = null, Inp = "x", Tiles = Tiles(tiles) });

    [TestCase(Vta16, "N=1, H=4, W=4, C=16, K=16, R=3, S=3, stride=2, pad=1", "")]
    [TestCase(Vta16, "N=1, H=3, W=5, C=8, K=20, R=4, S=2, stride=2, pad=1, out_pad=1", "")]
    [TestCase(Vta32, "N=1, H=3, W=3, C=8, K=8, R=3, S=3, stride=1", "")]
    public void Transposed(string arch, string bindings, string tiles) =>
        RunExact("conv2d_transposed", bindings, arch, new MappingSpec { J = "k", K = "c", Inp = "x", Tiles = Tiles(tiles) });
}
