using System.Collections.Immutable;
using Covenant.Acg.Model;
using Covenant.Core.Diagnostics;

namespace Covenant.Acg;

/// <summary>
/// Whether an architecture's <c>target:</c> names a target the caller knows. The loader accepts any name (it does not
/// know which targets a build has); the compiler's registry calls this, so the error points at the YAML line of the
/// value and lists what is registered.
/// </summary>
public static class TargetNameCheck
{
    /// <summary>COV1010 at the <c>target:</c> value when <paramref name="graph"/>'s target is not among <paramref name="registered"/>; else nothing.</summary>
    public static ImmutableArray<Diagnostic> Check(ArchitectureGraph graph, IReadOnlyCollection<string> registered)
    {
        ArgumentNullException.ThrowIfNull(graph);
        ArgumentNullException.ThrowIfNull(registered);
        if (registered.Contains(graph.Target, StringComparer.Ordinal))
        {
            return [];
        }

        var names = registered.Select(n => $"'{n}'").ToList();
        var listed = names.Count switch
        {
            0 => "this build registers no target",
            1 => "the only target is " + names[0],
            _ => "the targets are " + string.Join(", ", names.Take(names.Count - 1)) + " or " + names[^1],
        };
        return [AcgDiagnostics.UnknownTarget.Create(graph.TargetLocation ?? graph.Location,
            $"unknown target '{graph.Target}'{Spelling.DidYouMean(graph.Target, registered)}; {listed}")];
    }
}
