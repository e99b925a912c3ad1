using System.Collections.Immutable;

namespace Covenant.Targets;

/// <summary>The target passes Covenant knows, by name. Targets register here as they are implemented.</summary>
public sealed class TargetRegistry(IEnumerable<ITarget> targets)
{
    private readonly ImmutableDictionary<string, ITarget> byName = targets.ToImmutableDictionary(t => t.Name, StringComparer.Ordinal);

    public IEnumerable<string> Names => byName.Keys.Order(StringComparer.Ordinal);

    public ITarget? Find(string name) => byName.GetValueOrDefault(name);
}
