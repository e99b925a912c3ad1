using System.Globalization;
using Covenant.Runtime.Artifacts;
using Covenant.Targets.Vta.Lowering;
using Covenant.Runtime.Vta;
using static Covenant.Targets.Tests.Lowering.TestMappings;

namespace Covenant.Targets.Tests.Lowering;

/// <summary>
/// Seeded random shapes and tilings (partial tiles, tiled kernel windows, single and double buffering, strides,
/// dilations, groups, scatters) on both architectures: every one must lower and run bit-exact with no simulator issue.
/// </summary>
public sealed class RandomisedLoweringTests
{
    [TestCase(1)]
    [TestCase(2)]
    public void RandomShapesAndTilesRunExact(int seed)
    {
        var rng = new Random(seed);
        var failures = new List<string>();
        var ran = 0;
        for (var iteration = 0; iteration < 60; iteration++)
        {
            var arch = rng.Next(2) == 0 ? Vta16 : Vta32;
            if (Case(rng) is not var (codelet, bindings, spec))
            {
                continue;
            }

            var description = $"{arch} {codelet}<{bindings}> tiles [{string.Join(", ", spec.Tiles.Select(t => $"{t.Key}={t.Value}"))}] double={spec.DoubleBuffered}";
            var instance = Instance(codelet, bindings);
            var lowered = VtaLowering.Lower(Build(instance, arch, spec), Config(arch));
            if (!lowered.Succeeded)
            {
                failures.Add($"{description}: {string.Join("; ", lowered.Diagnostics)}");
                continue;
            }

            var report = VtaRunner.Run(lowered.Value!, instance, (ulong)iteration);
            ran++;
            if (!report.Match || report.Issues.Length > 0)
            {
                failures.Add($"{description}: {report.FirstMismatch} {string.Join("; ", report.Issues.Take(3))}");
            }
        }

        Assert.That(failures, Is.Empty, () => string.Join("\n", failures));
        Assert.That(ran, Is.GreaterThan(50));
    }

    private static (string Codelet, string Bindings, MappingSpec Spec)? Case(Random rng)
    {
        int Upto(int n) => rng.Next(1, n + 1);
        Dictionary<string, int> Tiles(params (string Loop, int Extent)[] loops) =>
            loops.Where(_ => rng.Next(3) > 0).ToDictionary(l => l.Loop, l => Upto(l.Extent));
        var invariant = CultureInfo.InvariantCulture;
        switch (rng.Next(6))
        {
            case 0:
            {
                int m = Upto(40), n = Upto(80), k = Upto(100);
                return ("gemm", string.Create(invariant, $"M={m}, N={n}, K={k}"),
                    new MappingSpec { J = "n", K = "k", DoubleBuffered = rng.Next(3) > 0, Tiles = Tiles(("m", m), ("n", n), ("k", k)) });
            }

            case 1:
            case 2:
            {
                int h = rng.Next(3, 12), w = rng.Next(3, 12), c = Upto(40), k = Upto(40), r = Upto(3), s = Upto(3), stride = Upto(3), pad = rng.Next(0, 3), dilation = Upto(3), n = Upto(2);
                var p = ((h + (2 * pad) - (dilation * (r - 1)) - 1) / stride) + 1;
                var q = ((w + (2 * pad) - (dilation * (s - 1)) - 1) / stride) + 1;
                if (h + (2 * pad) - (dilation * (r - 1)) - 1 < 0 || w + (2 * pad) - (dilation * (s - 1)) - 1 < 0)
                {
                    return null;
                }

                return ("conv2d", string.Create(invariant, $"N={n}, H={h}, W={w}, C={c}, K={k}, R={r}, S={s}, stride={stride}, pad={pad}, dilation={dilation}"),
                    new MappingSpec { J = "k", K = "c", DoubleBuffered = rng.Next(3) > 0, Tiles = Tiles(("n", n), ("p", p), ("q", q), ("k", k), ("c", c), ("r", r)) });
            }

            case 3:
            {
                int g = Upto(3), cg = Upto(20), kg = Upto(20);
                return ("conv2d_grouped", string.Create(invariant, $"N=1, H={rng.Next(3, 8)}, W={rng.Next(3, 8)}, C={g * cg}, K={g * kg}, G={g}, R=3, S=3, pad=1, stride={Upto(2)}"),
                    new MappingSpec { J = "k", K = "c", Tiles = Tiles(("g", g), ("p", 3)) });
            }

            case 4:
            {
                int b = Upto(3), m = Upto(20), n = Upto(40), k = Upto(60);
                return ("bmm", string.Create(invariant, $"B={b}, M={m}, N={n}, K={k}"),
                    new MappingSpec { J = "n", K = "k", Tiles = Tiles(("i", b), ("m", m), ("n", n), ("k", k)) });
            }

            default:
            {
                int r = Upto(3);
                return ("conv2d_transposed", string.Create(invariant, $"N=1, H={rng.Next(2, 6)}, W={rng.Next(2, 6)}, C={Upto(20)}, K={Upto(20)}, R={r}, S={r}, stride={Upto(2)}, pad={rng.Next(0, Math.Min(r, 2))}"),
                    new MappingSpec { J = "k", K = "c", Inp = "x", Tiles = new Dictionary<string, int> { ["c"] = 16, ["k"] = 16 } });
            }
        }
    }
}
