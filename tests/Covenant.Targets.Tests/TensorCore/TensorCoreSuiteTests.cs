using System.Globalization;
using Covenant.Compiler;
using Covenant.Runtime;
using Covenant.Targets.TensorCore;
using Covenant.Testing;
using static Covenant.Targets.Tests.TensorCore.TensorCoreTestSupport;

namespace Covenant.Targets.Tests.TensorCore;

/// <summary>
/// The BERT-Large suite and ResNet-50's 3x3 convolutions, as the suites give them (int8) and as their f16 twins
/// (gemm_f16, bmm_f16, conv2d_f16), map and lower on both tensor-core graphs. Simulating them takes minutes, so that
/// is the opt-in <see cref="TensorCoreSuiteSimulationTests"/>.
/// </summary>
public class TensorCoreSuiteTests
{
    public static IEnumerable<TestCaseData> Layers()
    {
        foreach (var (suite, filter) in new[] { ("bert_large", (Func<SuiteLayer, bool>)(_ => true)), ("resnet50", l => l.Bindings.GetValueOrDefault("R") == 3) })
        {
            var loaded = Suite.Load(Repo.PathOf("codelets", "suites", suite + ".yaml"));
            foreach (var layer in loaded.Value!.Layers.Where(filter))
            {
                var bindings = string.Join(", ", layer.Bindings.Select(b => string.Create(CultureInfo.InvariantCulture, $"{b.Key}={b.Value}")));
                foreach (var codelet in new[] { layer.Codelet, layer.Codelet.Replace("gemm", "gemm_f16", StringComparison.Ordinal).Replace("bmm", "bmm_f16", StringComparison.Ordinal).Replace("conv2d", "conv2d_f16", StringComparison.Ordinal) })
                {
                    foreach (var architecture in new[] { Sm80, Sm90 })
                    {
                        yield return new TestCaseData(codelet, bindings, architecture).SetName($"{suite}/{layer.Name}/{codelet}/{architecture}");
                    }
                }
            }
        }
    }

    [TestCaseSource(nameof(Layers))]
    public void Compiles(string codelet, string bindings, string architecture)
    {
        var lowered = new TensorCoreTarget().Lower(Map(codelet, bindings, architecture), TargetOptions.Default);
        Assert.That(lowered.Succeeded, Is.True, () => string.Join("\n", lowered.Diagnostics));
        var plan = TensorCorePlan.Choose(Map(codelet, bindings, architecture)).Value!;
        Assert.That(plan.Efficiency, Is.GreaterThan(0.5), plan.Describe());
        Assert.That(plan.SharedBytes, Is.LessThanOrEqualTo(plan.SharedLimit));
        TestContext.Out.WriteLine(plan.Describe());
    }
}

/// <summary>
/// Opt-in (minutes): the same layers simulated block by block and checked against the reference interpreter. Run with
/// <c>dotnet test tests/Covenant.Targets.Tests --filter TestCategory=TensorCoreSuites</c>.
/// </summary>
[Explicit("minutes of warp simulation and reference runs; run with --filter TestCategory=TensorCoreSuites")]
[Category("TensorCoreSuites")]
public class TensorCoreSuiteSimulationTests
{
    public static IEnumerable<TestCaseData> Layers() => TensorCoreSuiteTests.Layers();

    [TestCaseSource(nameof(Layers))]
    public void MatchesTheReference(string codelet, string bindings, string architecture) => RunAndCompare(Plan(codelet, bindings, architecture), seed: 1);
}
