using Covenant.Acg.Model;
using Covenant.Codelets.Semantics;
using Covenant.Runtime.Vnni;

namespace Covenant.Targets.Vnni;

/// <summary>
/// The compiler's half of running a VNNI artifact: the plan file's choices, applied to the artifact's codelet and
/// graph, rebuild the program and its C (<see cref="VnniKernelPlans.ToKernelSource"/>) for the runtime to run.
/// </summary>
public sealed class VnniPlanRebuilder : IVnniPlanRebuilder
{
    public VnniKernelSource Rebuild(CodeletInstance instance, ArchitectureGraph graph, string planJson)
    {
        ArgumentNullException.ThrowIfNull(planJson);
        var planOptions = VnniTarget.ReadPlan(planJson) ?? throw new InvalidDataException($"{VnniTarget.PlanFile} holds no plan");
        var planned = VnniKernelPlan.Choose(instance, graph, planOptions);
        if (!planned.Succeeded)
        {
            throw new InvalidDataException($"the artifact's plan does not apply: {string.Join("; ", planned.Diagnostics)}");
        }

        return planned.Value.ToKernelSource();
    }
}
