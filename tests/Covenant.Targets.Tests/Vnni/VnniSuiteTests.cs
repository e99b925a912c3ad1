using System.Globalization;
using System.Text.RegularExpressions;
using Covenant.Runtime;
using Covenant.Runtime.Reference;
using Covenant.Runtime.Vnni;
using Covenant.Targets.Vnni;
using Covenant.Testing;
using static Covenant.Targets.Tests.Vnni.VnniTestSupport;

namespace Covenant.Targets.Tests.Vnni;

/// <summary>
/// Opt-in (a few minutes): every layer of the ResNet-50, BERT-Large, DLRM and DeepBench suites, mapped by the Z3
/// mapper, planned from the mapping, compiled natively and
/// checked bit for bit against the reference interpreter. Run with
/// <c>dotnet test tests/Covenant.Targets.Tests --filter TestCategory=VnniSuites</c>.
/// </summary>
[Explicit("minutes of native kernels and reference runs; run with --filter TestCategory=VnniSuites")]
[Category("VnniSuites")]
public partial class VnniSuiteTests
{
    public static IEnumerable<TestCaseData> Layers()
    {
        foreach (var suite in new[] { "resnet50", "bert_large", "dlrm", "deepbench" })
        {
            foreach (var line in File.ReadLines(Repo.PathOf("codelets", "suites", suite + ".yaml")))
            {
                var match = LayerLine().Match(line);
                if (!match.Success)
                {
                    continue;
                }

                var fields = match.Groups[1].Value.Split(',').Select(f => f.Split(':', 2)).ToDictionary(f => f[0].Trim(), f => f[1].Trim(), StringComparer.Ordinal);
                var bindings = string.Join(", ", fields.Where(f => f.Key is not ("name" or "codelet")).Select(f => $"{f.Key}={f.Value}"));
                yield return new TestCaseData(fields["codelet"], bindings).SetName($"{suite}/{fields["name"]}");
            }
        }
    }

    [GeneratedRegex(@"^\s*-\s*\{(.*)\}\s*$", RegexOptions.CultureInvariant)]
    private static partial Regex LayerLine();

    [TestCaseSource(nameof(Layers))]
    public void RunsBitExactNatively(string codelet, string bindings)
    {
        RequireNativeVnni();
        var mapped = Covenant.Mapping.Mapper.Map(Instance(codelet, bindings), Architecture("vnni-avx512"));
        Assert.That(mapped.Succeeded, Is.True, () => string.Join("\n", mapped.Diagnostics));
        var planned = VnniKernelPlan.FromMapping(mapped.Value!);
        Assert.That(planned.Succeeded, Is.True, () => string.Join("\n", planned.Diagnostics));
        var plan = planned.Value!;
        var inputs = RandomTensors.Inputs(plan.Instance, 1);
        using var kernel = VnniKernel.Create(plan.ToKernelSource(), new VnniKernelOptions { BuildDirectory = BuildDirectory });
        kernel.Load(inputs);
        kernel.Run();
        var expected = ReferenceInterpreter.Run(plan.Instance, inputs)[plan.Output];
        var comparison = ResultComparer.Compare(expected, kernel.Output());
        Assert.That(comparison.Matches, Is.True, comparison.Summary);
        TestContext.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{plan.Describe()}\n{comparison.Summary}"));
    }
}
