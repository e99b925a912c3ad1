using Covenant.Mapping.Model;
using static Covenant.Targets.Tests.Lowering.TestMappings;

namespace Covenant.Targets.Tests.Lowering;

/// <summary>bmm, gemv and the quantized fully connected layer with its ALU epilogue, lowered and run bit-exact.</summary>
public sealed class OperatorLoweringTests
{
    [TestCase(Vta16, "B=3, M=5, N=20, K=33", "")]
    [TestCase(Vta16, "B=2, M=17, N=16, K=48", "i=1, m=8, k=16")]
    [TestCase(Vta32, "B=3, M=5, N=20, K=33", "")]
    public void Bmm(string arch, string bindings, string tiles) =>
        RunExact("bmm", bindings, arch, new MappingSpec { J = "n", K = "k", Tiles = ParseTiles(tiles) });

    /// <summary>The matrix as weights (rows of it along j): 16 outputs per GEMM micro-op.</summary>
    [TestCase(Vta16, "M=40, K=70", "")]
    [TestCase(Vta16, "M=1, K=1", "")]
    [TestCase(Vta16, "M=100, K=300", "m=32, k=64")]
    [TestCase(Vta32, "M=40, K=70", "k=32")]
    public void GemvMatrixAsWeights(string arch, string bindings, string tiles) =>
        RunExact("gemv", bindings, arch, new MappingSpec { J = "m", K = "k", Tiles = ParseTiles(tiles) });

    /// <summary>The matrix as input rows, the vector as one weight row (the j axis unused).</summary>
    [TestCase(Vta16, "M=5, K=40", "")]
    [TestCase(Vta32, "M=9, K=70", "m=4, k=32")]
    public void GemvMatrixAsInputs(string arch, string bindings, string tiles) =>
        RunExact("gemv", bindings, arch, new MappingSpec { J = null, K = "k", Inp = "a", Tiles = ParseTiles(tiles) });

    private static readonly (EpilogueOp, long?, string?)[] Requant =
    [
        (EpilogueOp.Add, null, "bias"),
        (EpilogueOp.ShiftRight, 8, null),
        (EpilogueOp.Max, 0, null),
        (EpilogueOp.Max, -128, null),
        (EpilogueOp.Min, 127, null),
    ];

    [TestCase(Vta16, "M=7, N=20, K=33, shift=8", "")]
    [TestCase(Vta16, "M=1, N=1, K=1, shift=0", "")]
    [TestCase(Vta16, "M=33, N=50, K=64, shift=6", "m=8, n=32, k=32")]
    [TestCase(Vta32, "M=7, N=70, K=33, shift=4", "n=32")]
    public void FcRequant(string arch, string bindings, string tiles)
    {
        var shift = long.Parse(bindings.Split("shift=")[1], System.Globalization.CultureInfo.InvariantCulture);
        var epilogue = Requant.Select(s => s.Item1 == EpilogueOp.ShiftRight ? (s.Item1, (long?)shift, s.Item3) : s).ToList();
        RunExact("fc_requant", bindings, arch, new MappingSpec { J = "n", K = "k", Tiles = ParseTiles(tiles), Epilogue = epilogue });
    }

    internal static Dictionary<string, int> ParseTiles(string text) => text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
        .Select(t => t.Split('='))
        .ToDictionary(t => t[0], t => int.Parse(t[1], System.Globalization.CultureInfo.InvariantCulture));
}
