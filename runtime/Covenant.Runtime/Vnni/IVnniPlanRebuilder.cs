using Covenant.Acg.Model;
using Covenant.Codelets.Semantics;

namespace Covenant.Runtime.Vnni;

/// <summary>
/// Rebuilds the kernel a VNNI artifact's plan file describes. The artifact keeps the plan's choices, not the program,
/// so only the compiler's kernel builder can rebuild it: whoever registers the VNNI executor hands one in, and the
/// runtime itself stays free of the mapper.
/// </summary>
public interface IVnniPlanRebuilder
{
    /// <summary>
    /// The kernel the plan in <paramref name="planJson"/> builds for this instance and graph; throws
    /// <see cref="InvalidDataException"/> (or <see cref="System.Text.Json.JsonException"/>) when the plan is not one
    /// or does not apply.
    /// </summary>
    VnniKernelSource Rebuild(CodeletInstance instance, ArchitectureGraph graph, string planJson);
}
