using Covenant.Runtime;
using Covenant.Runtime.Reference;
using Covenant.Runtime.Vnni;
using Covenant.Targets.Vnni;
using static Covenant.Targets.Tests.Vnni.VnniTestSupport;

namespace Covenant.Targets.Tests.Vnni;

/// <summary>
/// The fallback a CPU without VNNI takes, forced with COVENANT_VNNI_SIMULATE=1: the same program runs in the
/// simulator and still matches the reference exactly. (Not parallel: it sets a process-wide variable.)
/// </summary>
[NonParallelizable]
public class VnniFallbackTests
{
    [Test]
    public void TheEnvironmentVariableForcesTheSimulator()
    {
        var previous = Environment.GetEnvironmentVariable(VnniCpu.SimulateVariable);
        Environment.SetEnvironmentVariable(VnniCpu.SimulateVariable, "1");
        try
        {
            var plan = Plan(Instance("conv2d", "N=1, H=6, W=7, C=8, K=18, R=3, S=3, stride=2, pad=1"));
            var inputs = RandomTensors.Inputs(plan.Instance, 3);
            var expected = ReferenceInterpreter.Run(plan.Instance, inputs)[plan.Output];
            using var kernel = VnniKernel.Create(plan.ToKernelSource(), new VnniKernelOptions { BuildDirectory = BuildDirectory });
            Assert.That(kernel.Backend, Is.EqualTo(VnniBackend.Simulator));
            Assert.That(kernel.SimulationReason, Does.Contain(VnniCpu.SimulateVariable));
            kernel.Load(inputs);
            kernel.Run();
            Assert.That(ResultComparer.Compare(expected, kernel.Output()).Matches, Is.True);
            Assert.That(kernel.SimulatedDotInstructions, Is.EqualTo(plan.DotInstructions), "one vpdpbusd per output vector and group");
        }
        finally
        {
            Environment.SetEnvironmentVariable(VnniCpu.SimulateVariable, previous);
        }
    }

    [Test]
    public void TheHostIsDescribed()
    {
        var cpu = VnniCpu.Host;
        TestContext.Out.WriteLine(cpu.Describe());
        Assert.That(cpu.Describe(), Is.Not.Empty);
        Assert.That(cpu.CanRunKernels, Is.EqualTo(cpu.MissingFeatures is null));
    }
}
