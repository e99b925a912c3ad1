using Covenant.Acg.Model;
using Covenant.Codelets.Semantics;
using Covenant.Runtime;
using Covenant.Runtime.Reference;
using Covenant.Runtime.TensorCore;
using Covenant.Targets.TensorCore;
using Covenant.Mapping.Model;
using Covenant.Testing;

namespace Covenant.Targets.Tests.TensorCore;

/// <summary>Maps codelets onto the tensor-core graphs, plans, builds, simulates and compares with the reference interpreter.</summary>
internal static class TensorCoreTestSupport
{
    public const string Sm80 = "tensorcore-sm80";
    public const string Sm90 = "tensorcore-sm90";

    public static ArchitectureGraph Architecture(string name) => Shipped.Architecture(name);

    public static CodeletInstance Instance(string codelet, string bindings) => Shipped.Instance(codelet, bindings);

    /// <summary>The mapper's mapping (cached: the mapper is deterministic for a seed).</summary>
    public static LayerMapping Map(string codelet, string bindings, string architecture = Sm80) =>
        Shipped.Mapping(codelet, bindings, architecture);

    public static TensorCorePlan Plan(string codelet, string bindings, string architecture = Sm80, TensorCorePlanOptions? options = null)
    {
        var plan = TensorCorePlan.Choose(Map(codelet, bindings, architecture), options);
        Assert.That(plan.Succeeded, Is.True, () => string.Join("\n", plan.Diagnostics));
        return plan.Value!;
    }

    /// <summary>Simulates the plan's kernel on seeded inputs and asserts it matches the reference (exactly for integers,
    /// within <see cref="TensorCoreTolerance"/> for floats); returns the statistics.</summary>
    public static TensorCoreStatistics RunAndCompare(TensorCorePlan plan, ulong seed = 5)
    {
        var kernel = TensorCoreKernelBuilder.Build(plan);
        var inputs = RandomTensors.Inputs(plan.Instance, seed);
        var result = new TensorCoreSimulator(kernel).Run(inputs);
        var expected = ReferenceInterpreter.Run(plan.Instance, inputs);
        var output = plan.Output.Name;
        var tolerance = TensorCoreTolerance.For(plan.Instance, inputs, output);
        var comparison = ResultComparer.Compare(expected[output], result.Outputs[output], tolerance);
        Assert.That(comparison.Matches, Is.True, () => $"{comparison.Summary}\n{plan.Describe()}");
        TestContext.Out.WriteLine($"{plan.Describe()}\n  {comparison.Summary}; {result.Statistics}");
        return result.Statistics;
    }
}
