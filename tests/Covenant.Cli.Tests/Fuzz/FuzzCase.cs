using System.Collections.Immutable;

namespace Covenant.Cli.Tests.Fuzz;

/// <summary>What a fuzz case feeds covenantc.</summary>
public enum FuzzKind
{
    /// <summary>A mutated or generated architecture YAML, through <c>arch check</c>.</summary>
    Architecture,

    /// <summary>A mutated or generated codelet, through <c>codelet check</c>.</summary>
    Codelet,

    /// <summary>An architecture and a codelet through both checks, then (when both pass) <c>compile</c> and <c>run --simulate</c>.</summary>
    Pair,

    /// <summary>A compiled artifact with some of its files mutated, through <c>run --simulate</c>.</summary>
    Artifact,
}

/// <summary>
/// One generated input: the files it wrote under <see cref="Directory"/> (kept there when the case fails, so it can be
/// replayed by hand) and how it was made. <see cref="Index"/> and the campaign seed regenerate it exactly.
/// </summary>
public sealed record FuzzCase(int Index, FuzzKind Kind, string Directory, string How)
{
    /// <summary>The architecture file (<see cref="FuzzKind.Architecture"/>, <see cref="FuzzKind.Pair"/>).</summary>
    public string? Architecture { get; init; }

    /// <summary>The codelet file (<see cref="FuzzKind.Codelet"/>, <see cref="FuzzKind.Pair"/>).</summary>
    public string? Codelet { get; init; }

    /// <summary>The <c>--set</c> value a pair compiles with.</summary>
    public string? Bindings { get; init; }

    /// <summary>The <c>--dram-base</c> a pair compiles with, when not the default.</summary>
    public string? DramBase { get; init; }

    /// <summary>Whether a pair that compiles is also run (not for shapes too large to simulate).</summary>
    public bool RunAfterCompile { get; init; } = true;

    /// <summary>True when a pair's architecture is a shipped file unchanged: a wrong result on it is a miscompile.</summary>
    public bool ArchitectureShipped { get; init; }

    /// <summary>The artifact folder: the mutated one (<see cref="FuzzKind.Artifact"/>) or the one a pair compiles into.</summary>
    public string? Artifact { get; init; }
}

/// <summary>One covenantc command of a case, and what it printed.</summary>
public sealed record FuzzStep(string[] Arguments, CliRun Run, TimeSpan Elapsed)
{
    public string CommandLine => "covenantc " + string.Join(' ', Arguments.Select(a => a.Contains(' ', StringComparison.Ordinal) ? $"'{a}'" : a));
}

/// <summary>What one case did: its steps in order, and every way it broke the oracle (empty when it held).</summary>
public sealed record FuzzOutcome(FuzzCase Case, ImmutableArray<FuzzStep> Steps, ImmutableArray<string> Violations, TimeSpan Elapsed)
{
    public bool Passed => Violations.IsEmpty;
}
