using static Covenant.Targets.Tests.Lowering.TestMappings;

namespace Covenant.Targets.Tests.Lowering;

/// <summary>GEMM-shaped codelets lowered to VTA and run bit-exact against the reference interpreter.</summary>
public sealed class GemmLoweringTests
{
    private static readonly MappingSpec Gemm = new() { J = "n", K = "k" };

    [TestCase(Vta16, "M=1, N=1, K=1")]
    [TestCase(Vta16, "M=7, N=13, K=29")]
    [TestCase(Vta16, "M=17, N=33, K=16")]
    [TestCase(Vta32, "M=1, N=1, K=1")]
    [TestCase(Vta32, "M=7, N=13, K=29")]
    [TestCase(Vta32, "M=17, N=33, K=16")]
    public void GemmUntiled(string arch, string bindings) => RunExact("gemm", bindings, arch, Gemm);

    [TestCase(Vta16, "M=17, N=33, K=45", 5, 16, 16)]
    [TestCase(Vta16, "M=40, N=70, K=100", 16, 32, 48)]
    [TestCase(Vta32, "M=17, N=70, K=100", 5, 32, 32)]
    public void GemmPartialTiles(string arch, string bindings, int m, int n, int k) =>
        RunExact("gemm", bindings, arch, Gemm with { Tiles = new Dictionary<string, int> { ["m"] = m, ["n"] = n, ["k"] = k } });
}
