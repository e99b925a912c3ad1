using Covenant.Runtime.Vnni;

namespace Covenant.Targets.Vnni;

public static class VnniKernelPlans
{
    /// <summary>The program a plan builds, the C it prints (what <see cref="VnniTarget"/> emits) and the plan's output tensor.</summary>
    public static VnniKernelSource ToKernelSource(this VnniKernelPlan plan)
    {
        ArgumentNullException.ThrowIfNull(plan);
        var program = VnniKernelBuilder.Build(plan);
        return new VnniKernelSource(program, VnniCEmitter.Emit(program, plan.Describe()), plan.Isa.CompilerFlags,
            plan.Instance.Tensors.First(t => t.Name == plan.Output));
    }
}
