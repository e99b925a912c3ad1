using Covenant.Acg.Model;
using Covenant.Codelets.Semantics;
using Covenant.Core.Diagnostics;
using Covenant.Runtime;
using Covenant.Runtime.Reference;
using Covenant.Runtime.Vnni;
using Covenant.Targets.Vnni;
using Covenant.Testing;

namespace Covenant.Targets.Tests.Vnni;

/// <summary>Plans VNNI kernels for shipped codelets (<see cref="Shipped"/>), runs and compares against the reference interpreter.</summary>
internal static class VnniTestSupport
{
    /// <summary>Kernels built by the tests go here (content-addressed, so reruns reuse them).</summary>
    public static string BuildDirectory => Path.Combine(Path.GetTempPath(), "covenant-vnni-tests");

    public static ArchitectureGraph Architecture(string name) => Shipped.Architecture(name);

    public static CodeletInstance Instance(string codelet, string bindings) => Shipped.Instance(codelet, bindings);

    public static CodeletInstance InstanceOfText(string text, string bindings)
    {
        var loaded = CodeletLoader.Load(new SourceFile("test.cdlt", text));
        Assert.That(loaded.Succeeded, Is.True, () => string.Join("\n", loaded.Diagnostics));
        var instance = loaded.Value!.Instantiate(Shipped.Bindings(bindings));
        Assert.That(instance.Succeeded, Is.True, () => string.Join("\n", instance.Diagnostics));
        return instance.Value!;
    }

    /// <summary>A tensor filled with one value.</summary>
    public static TensorData Filled(Codelets.Semantics.TensorInstance tensor, int value) =>
        TensorData.FromIntegers(tensor.ElementType, tensor.Shape, Enumerable.Repeat(value, (int)tensor.ElementCount).ToArray());

    /// <summary>
    /// The heuristic's plan, but on 2 threads unless the options say otherwise: the test shapes are small enough that
    /// the heuristic would run them on one, and the tests must exercise the parallel region.
    /// </summary>
    public static VnniKernelPlan Plan(CodeletInstance instance, string architecture = "vnni-avx512", VnniPlanOptions? options = null)
    {
        options ??= VnniPlanOptions.Default;
        var plan = VnniKernelPlan.Choose(instance, Architecture(architecture), options.Threads is null ? options with { Threads = 2 } : options);
        Assert.That(plan.Succeeded, Is.True, () => string.Join("\n", plan.Diagnostics));
        return plan.Value!;
    }

    public static void RequireNativeVnni()
    {
        if (VnniCpu.Host.MissingFeatures is { } missing)
        {
            Assert.Ignore($"native VNNI kernels cannot run here: {missing}");
        }

        if (VnniCpu.SimulationForced)
        {
            Assert.Ignore($"{VnniCpu.SimulateVariable}=1 forces the simulator");
        }

        if (!VnniNativeCompiler.Available())
        {
            Assert.Ignore($"the C compiler '{VnniNativeCompiler.Compiler}' is not installed");
        }
    }

    /// <summary>Runs the plan's kernel on seeded inputs and asserts it equals the reference interpreter bit for bit.</summary>
    public static VnniRunResult RunAndCompare(VnniKernelPlan plan, bool simulate, ulong seed = 7) =>
        RunAndCompare(plan, simulate, RandomTensors.Inputs(plan.Instance, seed));

    /// <summary>Runs the plan's kernel on the given inputs and asserts it equals the reference interpreter bit for bit.</summary>
    public static VnniRunResult RunAndCompare(VnniKernelPlan plan, bool simulate, IReadOnlyDictionary<string, TensorData> inputs)
    {
        var expected = ReferenceInterpreter.Run(plan.Instance, inputs);
        var result = VnniRunner.Run(plan.ToKernelSource(), inputs, new VnniKernelOptions { ForceSimulator = simulate, BuildDirectory = BuildDirectory });
        Assert.That(result.Backend, Is.EqualTo(simulate ? VnniBackend.Simulator : VnniBackend.Native), result.SimulationReason);
        var comparison = ResultComparer.Compare(expected[plan.Output], result.Outputs[plan.Output]);
        Assert.That(comparison.Matches, Is.True, () => $"{comparison.Summary}\n{plan.Describe()}");
        return result;
    }
}
