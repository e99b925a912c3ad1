using System.Globalization;
using Covenant.Runtime;
using Covenant.Runtime.Artifacts;
using Covenant.Runtime.Vta;
using Covenant.Targets.Vta.Lowering;
using static Covenant.Targets.Tests.Lowering.TestMappings;

namespace Covenant.Targets.Tests.Lowering;

/// <summary>
/// ResNet-50 layers on VTA with tiles picked by a small search here (the mapper will do this properly): for each
/// layer, candidate tilings that fit the double-buffered buffers are simulated and the fastest is verified bit-exact
/// and reported (cycles, GEMM utilization, ratio to the compute bound). Opt-in: it simulates ~200M MACs per layer.
/// </summary>
[Explicit("benchmark: minutes")]
[Category("Benchmark")]
public sealed class ResNet50Benchmark
{
    private static readonly (string Name, string Bindings)[] Layers =
    [
        ("conv1", "N=1, H=224, W=224, C=3, K=64, R=7, S=7, stride=2, pad=3"),
        ("res2_1x1a", "N=1, H=56, W=56, C=64, K=64, R=1, S=1"),
        ("res2_3x3", "N=1, H=56, W=56, C=64, K=64, R=3, S=3, pad=1"),
        ("res2_1x1b", "N=1, H=56, W=56, C=64, K=256, R=1, S=1"),
        ("res2_1x1c", "N=1, H=56, W=56, C=256, K=64, R=1, S=1"),
        ("res3_1x1a", "N=1, H=56, W=56, C=256, K=128, R=1, S=1"),
        ("res3_3x3s2", "N=1, H=56, W=56, C=128, K=128, R=3, S=3, stride=2, pad=1"),
        ("res3_3x3", "N=1, H=28, W=28, C=128, K=128, R=3, S=3, pad=1"),
        ("res3_1x1b", "N=1, H=28, W=28, C=128, K=512, R=1, S=1"),
        ("res3_1x1c", "N=1, H=28, W=28, C=512, K=128, R=1, S=1"),
        ("res3_proj", "N=1, H=56, W=56, C=256, K=512, R=1, S=1, stride=2"),
        ("res4_3x3s2", "N=1, H=28, W=28, C=256, K=256, R=3, S=3, stride=2, pad=1"),
        ("res4_3x3", "N=1, H=14, W=14, C=256, K=256, R=3, S=3, pad=1"),
        ("res4_1x1b", "N=1, H=14, W=14, C=256, K=1024, R=1, S=1"),
        ("res4_1x1c", "N=1, H=14, W=14, C=1024, K=256, R=1, S=1"),
        ("res5_3x3s2", "N=1, H=14, W=14, C=512, K=512, R=3, S=3, stride=2, pad=1"),
        ("res5_3x3", "N=1, H=7, W=7, C=512, K=512, R=3, S=3, pad=1"),
        ("res5_1x1b", "N=1, H=7, W=7, C=512, K=2048, R=1, S=1"),
        ("res5_1x1c", "N=1, H=7, W=7, C=2048, K=512, R=1, S=1"),
    ];

    [TestCase(Vta16)]
    [TestCase(Vta32)]
    public void Layers3x3And1x1(string arch)
    {
        var config = Config(arch);
        var lines = new List<string> { $"{"layer",-12} {"tiles",-26} {"cycles",10} {"bound",10} {"util",6} {"ratio",6} {"insns",6} {"lower ms",8}" };
        var utilizations = new List<double>();
        foreach (var (name, bindings) in Layers)
        {
            var instance = Instance("conv2d", bindings);
            int P = (int)instance.Sizes["P"], Q = (int)instance.Sizes["Q"], C = (int)instance.Sizes["C"], K = (int)instance.Sizes["K"];
            var best = (Cycles: long.MaxValue, Tiles: "", Program: (VtaProgram?)null, LowerMs: 0.0);
            var inputs = RandomTensors.Inputs(instance, 1);
            var timing = new VtaTimingModel(config);
            var ranked = new List<(long Estimate, string Tiles, VtaProgram Program, double LowerMs)>();
            foreach (var tiles in Candidates(P, Q, C, K, config.BlockIn))
            {
                var watch = System.Diagnostics.Stopwatch.StartNew();
                var lowered = VtaLowering.Lower(Build(instance, arch, new MappingSpec { J = "k", K = "c", Tiles = OperatorLoweringTests.ParseTiles(tiles) }), config);
                var lowerMs = watch.Elapsed.TotalMilliseconds;
                if (!lowered.Succeeded)
                {
                    continue;
                }

                var busy = lowered.Value!.Instructions.GroupBy(i => i.Module).Select(g => g.Sum(timing.Cycles)).Max();
                ranked.Add((busy, tiles, lowered.Value!, lowerMs));
            }

            foreach (var (_, tiles, program, lowerMs) in ranked.OrderBy(r => r.Estimate).Take(4))
            {
                var result = new VtaSimulator(config, new VtaSimulatorOptions { CheckRaces = false }).Run(program.Instructions, VtaImage.Build(program, inputs));
                if (result.Succeeded && result.Statistics.TotalCycles < best.Cycles)
                {
                    best = (result.Statistics.TotalCycles, tiles, program, lowerMs);
                }
            }

            Assert.That(best.Program, Is.Not.Null, name);
            var report = VtaRunner.Run(best.Program!, instance, 7);
            Assert.That(report.Match, Is.True, report.ToString());
            var bound = instance.Sizes["P"] * instance.Sizes["Q"] * C * K * instance.Sizes["R"] * instance.Sizes["S"] / (config.BlockIn * config.BlockOut);
            utilizations.Add(report.GemmUtilization);
            lines.Add(string.Create(CultureInfo.InvariantCulture,
                $"{name,-12} {best.Tiles,-26} {report.Cycles,10} {bound,10} {report.GemmUtilization,6:P0} {(double)bound / report.Cycles,6:P0} {best.Program!.Instructions.Length,6} {best.LowerMs,8:0.0}"));
        }

        utilizations.Sort();
        lines.Add(string.Create(CultureInfo.InvariantCulture, $"median GEMM utilization (3x3 and 1x1 layers): {utilizations[utilizations.Count / 2]:P1}"));
        TestContext.Out.WriteLine(string.Join("\n", lines));
    }

    private static IEnumerable<string> Candidates(int p, int q, int c, int k, int block)
    {
        var channel = new[] { block, 2 * block, 4 * block, 8 * block, 16 * block };
        var rows = new[] { p, (p + 1) / 2, (p + 3) / 4, (p + 7) / 8, 7, 4, 2, 1 }.Distinct().Where(v => v >= 1 && v <= p);
        var cols = new[] { q, (q + 1) / 2, (q + 3) / 4 }.Distinct();
        foreach (var pt in rows)
        {
            foreach (var qt in cols)
            {
                foreach (var kt in channel.Where(v => v <= Math.Max(block, k)))
                {
                    foreach (var ct in channel.Where(v => v <= Math.Max(block, c)))
                    {
                        // A rough fit filter (output tile in half the accumulator), so only plausible tilings are lowered.
                        if ((long)pt * qt * (kt / block) <= 1023 && (long)((pt * 2) + 2) * ((qt * 2) + 2) * (ct / block) <= 4096)
                        {
                            yield return $"p={pt}, q={qt}, k={kt}, c={ct}";
                        }
                    }
                }
            }
        }
    }
}
