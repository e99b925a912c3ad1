using Covenant.Mapping;
using Covenant.Runtime.Artifacts;
using Covenant.Targets.Vta.Lowering;
using Covenant.Mapping.Model;
using Covenant.Runtime.Vta;
using static Covenant.Targets.Tests.Lowering.TestMappings;

namespace Covenant.Targets.Tests.Lowering;

/// <summary>The mapper's own mappings, lowered and run bit-exact: the contract between the two stages.</summary>
public sealed class MapperLoweringTests
{
    [TestCase("gemm", "M=7, N=13, K=29")]
    [TestCase("gemm", "M=64, N=96, K=200")]
    [TestCase("gemv", "M=40, K=70")]
    [TestCase("bmm", "B=3, M=5, N=20, K=33")]
    [TestCase("conv2d", "N=1, H=14, W=14, C=32, K=48, R=3, S=3, pad=1")]
    [TestCase("conv2d", "N=1, H=16, W=16, C=3, K=16, R=7, S=7, stride=2, pad=3")]
    [TestCase("conv1d", "N=2, W=20, C=24, K=20, S=3, stride=2, pad=1, dilation=2")]
    [TestCase("conv3d", "N=1, D=5, H=6, W=6, C=16, K=16, T=3, R=3, S=3, pad=1")]
    [TestCase("conv2d_grouped", "N=1, H=8, W=8, C=32, K=64, G=2, R=3, S=3, pad=1")]
    [TestCase("conv2d_depthwise", "N=1, H=8, W=8, C=5, R=3, S=3, pad=1")]
    [TestCase("fc_requant", "M=7, N=20, K=33, shift=8")]
    public void MappedByTheMapper(string codelet, string bindings)
    {
        foreach (var arch in new[] { Vta16, Vta32 })
        {
            var instance = Instance(codelet, bindings);
            var mapping = Mapper.Map(instance, Graph(arch));
            Assert.That(mapping.Succeeded, Is.True, () => $"{arch}: {string.Join("\n", mapping.Diagnostics)}");
            var lowered = VtaLowering.Lower(mapping.Value!, Config(arch));
            Assert.That(lowered.Succeeded, Is.True, () => $"{arch}: {string.Join("\n", lowered.Diagnostics)}\n{Describe(mapping.Value!)}");
            var report = VtaRunner.Run(lowered.Value!, instance, 5);
            Assert.That(report.Match && report.Issues.IsEmpty, Is.True, () => $"{arch}: {report}\n{Describe(mapping.Value!)}");
            TestContext.Out.WriteLine($"{arch}: {Describe(mapping.Value!)} -> {report.Cycles} cycles (mapper predicted {mapping.Value!.Cost.Cycles:F0}), GEMM {report.GemmUtilization:P0}");
        }
    }

    /// <summary>
    /// A transposed convolution scatters: ih and r (iw and s) add into the same output rows, so tiling them would
    /// split sums across accumulator tiles. Until the mapper keeps such loops untiled, the lowering must either run
    /// the mapping exactly or refuse it with COV5107 — never produce wrong sums.
    /// </summary>
    [Test]
    public void TransposedConvolutionRunsExactOrIsRefusedWithAReason()
    {
        foreach (var arch in new[] { Vta16, Vta32 })
        {
            var instance = Instance("conv2d_transposed", "N=1, H=4, W=4, C=16, K=16, R=3, S=3, stride=2, pad=1");
            var mapping = Mapper.Map(instance, Graph(arch));
            Assert.That(mapping.Succeeded, Is.True, () => string.Join("\n", mapping.Diagnostics));
            var lowered = VtaLowering.Lower(mapping.Value!, Config(arch));
            if (!lowered.Succeeded)
            {
                Assert.That(lowered.Diagnostics.Select(d => d.Id), Is.EqualTo(new[] { VtaLoweringDiagnostics.ScatterAcrossTiles.Id }), () => string.Join("\n", lowered.Diagnostics));
                TestContext.Out.WriteLine($"{arch}: refused: {lowered.Diagnostics[0].Message}");
                continue;
            }

            var report = VtaRunner.Run(lowered.Value!, instance, 5);
            Assert.That(report.Match && report.Issues.IsEmpty, Is.True, () => report.ToString());
        }
    }

    private static string Describe(LayerMapping m) =>
        string.Join(", ", m.Embedding.Select(e => $"{e.Axis}<-{e.Loop ?? "-"}")) + "; " +
        string.Join(" ", m.Loops.Select(l => $"{l.Loop}:{l.Role.ToString()[0]} {l.Tile}/{l.PaddedExtent}")) +
        "; order " + string.Join(",", m.TileOrder) + "; db " + string.Join(",", m.DoubleBuffered) +
        "; epilogue " + string.Join(",", m.Epilogue.Select(e => $"{e.Op}({e.Immediate?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? e.Tensor})"));
}
