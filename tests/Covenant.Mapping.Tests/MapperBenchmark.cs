using System.Diagnostics;
using Covenant.Acg;
using Covenant.Codelets.Semantics;
using Covenant.Compiler;
using Covenant.Testing;

namespace Covenant.Mapping.Tests;

/// <summary>Prints how long mapping each ResNet-50 layer takes and what the cost model predicts. Opt-in: no timing is asserted.</summary>
[Explicit("benchmark: prints timings")]
[Category("Benchmark")]
public class MapperBenchmark
{
    [TestCase("vta")]
    [TestCase("vta-1x32x32")]
    public void MapResNet50(string arch)
    {
        var graph = AcgLoader.Load(Repo.PathOf("architectures", arch + ".yaml")).Value!;
        var suite = Suite.Load(Repo.PathOf("codelets", "suites", "resnet50.yaml")).Value!;
        TestContext.Out.WriteLine($"{"layer",-12} {"map s",7} {"model cycles",14} {"util",6}  mapping");
        foreach (var layer in suite.Layers)
        {
            var instance = CodeletLoader.Load(suite.CodeletPath(layer)).Value!.Instantiate(layer.Bindings).Value!;
            var clock = Stopwatch.StartNew();
            var mapping = Mapper.Map(instance, graph);
            var seconds = clock.Elapsed.TotalSeconds;
            Assert.That(mapping.Succeeded, Is.True, string.Join("\n", mapping.Diagnostics));
            TestContext.Out.WriteLine($"{layer.Name,-12} {seconds,7:F2} {mapping.Value!.Cost.Cycles,14:F0} {mapping.Value.Cost.Utilization,6:P0}  {MapperTests.Describe(mapping.Value)[..Math.Min(120, MapperTests.Describe(mapping.Value).Length)]}");
        }
    }
}
