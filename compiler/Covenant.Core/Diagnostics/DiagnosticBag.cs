using System.Collections.Immutable;

namespace Covenant.Core.Diagnostics;

/// <summary>
/// Collects diagnostics while a stage runs, so one run reports every problem it can find instead of
/// stopping at the first. Stages return the collected list in their immutable results.
/// </summary>
public sealed class DiagnosticBag
{
    private readonly List<Diagnostic> items = [];

    public bool HasErrors => items.Exists(d => d.IsError);

    public int Count => items.Count;

    public void Add(Diagnostic diagnostic) => items.Add(diagnostic);

    public void AddRange(IEnumerable<Diagnostic> diagnostics) => items.AddRange(diagnostics);

    public void Report(DiagnosticDescriptor descriptor, SourceLocation? location, string message) =>
        items.Add(descriptor.Create(location, message));

    public ImmutableArray<Diagnostic> ToImmutable() => [.. items];
}
