using System.Text;
using Covenant.Mapping.Model;
using Covenant.Runtime;
using Covenant.Runtime.Reference;
using Covenant.Runtime.Vnni;
using Covenant.Targets.Vnni;
using static Covenant.Targets.Tests.Vnni.VnniTestSupport;

namespace Covenant.Targets.Tests.Vnni;

/// <summary>The target pass behind <see cref="ITarget"/>, and running what it puts in an artifact.</summary>
public class VnniTargetTests
{
    // The mapper's own mapping, with the operand roles set by the test: which tensor plays the capability's u8 operand 'a'.
    private static LayerMapping MappingOf(string codelet, string bindings, string broadcast, string packed, string accumulator)
    {
        var mapped = Covenant.Mapping.Mapper.Map(Instance(codelet, bindings), Architecture("vnni-avx512"));
        Assert.That(mapped.Succeeded, Is.True, () => string.Join("\n", mapped.Diagnostics));
        return mapped.Value! with
        {
            Operands = [new OperandBinding(broadcast, "a", "zmm") { Offset = 128 }, new OperandBinding(packed, "b", "zmm"), new OperandBinding(accumulator, "c", "zmm")],
        };
    }

    [TestCase("a", "b")]
    [TestCase("b", "a")]
    public void LowersAMappingWithItsOperandRoles(string broadcast, string packed)
    {
        var lowered = new VnniTarget().Lower(MappingOf("gemm", "M=8, N=32, K=16", broadcast, packed, "c"), TargetOptions.Default);
        Assert.That(lowered.Succeeded, Is.True, string.Join("\n", lowered.Diagnostics));
        var output = lowered.Value!;
        Assert.Multiple(() =>
        {
            Assert.That(output.Target, Is.EqualTo("vnni"));
            Assert.That(output.Files.Select(f => f.Name), Is.EquivalentTo(new[] { VnniTarget.KernelFile, VnniTarget.PlanFile }));
            Assert.That(VnniTarget.ReadPlan(Encoding.UTF8.GetString(output.Files.Single(f => f.Name == VnniTarget.PlanFile).Contents))!.TensorA, Is.EqualTo(broadcast));
            Assert.That(output.Listing, Does.Contain($"A (broadcast u8) = {broadcast}"));
            Assert.That(output.PredictedCycles, Is.GreaterThan(0));
        });
    }

    [TestCase(false)]
    [TestCase(true)]
    public void AnArtifactRunsFromItsPlanFile(bool simulate)
    {
        if (!simulate)
        {
            RequireNativeVnni();
        }

        var plan = Plan(Instance("fc_requant", "M=6, N=40, K=30, shift=5"), options: new VnniPlanOptions { MR = 2, KC = 3 });
        var files = VnniTarget.Output(plan).Files.ToDictionary(f => f.Name, f => Encoding.UTF8.GetString(f.Contents));
        var inputs = RandomTensors.Inputs(plan.Instance, 11);
        var result = VnniArtifactRunner.Run(new VnniPlanRebuilder(), plan.Instance, Architecture("vnni-avx512"), files[VnniTarget.PlanFile], files[VnniTarget.KernelFile], inputs,
            new VnniKernelOptions { ForceSimulator = simulate, BuildDirectory = BuildDirectory });
        var expected = ReferenceInterpreter.Run(plan.Instance, inputs)["y"];
        Assert.That(ResultComparer.Compare(expected, result.Outputs["y"]).Matches, Is.True);
    }

    [Test]
    public void AnArtifactFromAnotherKernelIsRefused()
    {
        var plan = Plan(Instance("gemm", "M=4, N=16, K=8"));
        var files = VnniTarget.Output(plan).Files.ToDictionary(f => f.Name, f => Encoding.UTF8.GetString(f.Contents));
        Assert.Throws<InvalidDataException>(() => VnniArtifactRunner.Run(new VnniPlanRebuilder(), plan.Instance, Architecture("vnni-avx512"), files[VnniTarget.PlanFile],
            files[VnniTarget.KernelFile] + "/* edited */", RandomTensors.Inputs(plan.Instance, 1), new VnniKernelOptions { ForceSimulator = true }));
    }
}
