using System.Collections.Immutable;
using Covenant.Acg.Model;
using Covenant.Core.Diagnostics;
using Covenant.Mapping.Model;
using Covenant.Mapping.Search;
using Covenant.Runtime.Execution;

namespace Covenant.Targets;

/// <summary>A block of diagnostic ids a target owns, both ends included: COV5000-COV5199.</summary>
public sealed record DiagnosticIdRange(int First, int Last)
{
    public bool Contains(string id) =>
        id.StartsWith("COV", StringComparison.Ordinal) && int.TryParse(id.AsSpan(3), out var n) && n >= First && n <= Last;

    public override string ToString() => First == Last ? $"COV{First:D4}" : $"COV{First:D4}-COV{Last:D4}";
}

/// <summary>
/// How <c>tune</c> measures mappings on a target's architecture; null when this architecture cannot be measured (the
/// tuner then ranks by the cost model).
/// </summary>
public delegate IMappingMeasurer? MeasurerFactory(TargetRegistration target, ArchitectureGraph graph);

/// <summary>
/// Everything the compiler, the runtime and the command line need to know about one target, in one place: adding a
/// target is one of these, built in the target's own folder and listed once in the compiler's BuiltinTargets.
/// </summary>
/// <param name="Name">What an architecture's <c>target:</c> says.</param>
/// <param name="Description">One line for <c>--help</c>.</param>
/// <param name="Pass">Lowers a mapping to the target's files.</param>
/// <param name="Executor">Runs (and times, or simulates) an artifact of the target.</param>
/// <param name="DiagnosticIds">The id ranges the target's diagnostics come from.</param>
public sealed record TargetRegistration(
    string Name,
    string Description,
    ITarget Pass,
    IArtifactExecutor Executor,
    ImmutableArray<DiagnosticIdRange> DiagnosticIds)
{
    /// <summary>How <c>tune</c> measures; by default lower in memory, execute with <see cref="Executor"/>, take its time.</summary>
    public MeasurerFactory CreateMeasurer { get; init; } = (target, _) => new ExecutorMeasurer(target);

    /// <summary>Every reason the target cannot compile for <paramref name="graph"/> at all (its pass's <see cref="ITarget.CheckArchitecture"/>).</summary>
    public ImmutableArray<Diagnostic> CheckArchitecture(ArchitectureGraph graph) => Pass.CheckArchitecture(graph);

    /// <summary>The least cycles any tiling of a mapping's problem could take on this hardware, where the target knows it.</summary>
    public Func<LayerMapping, double?>? LowerBound { get; init; }
}

/// <summary>The targets of a build, by name, in registration order.</summary>
public sealed class RegisteredTargets
{
    private readonly ImmutableArray<TargetRegistration> registrations;

    public RegisteredTargets(IEnumerable<TargetRegistration> registrations)
    {
        ArgumentNullException.ThrowIfNull(registrations);
        this.registrations = [.. registrations];
        var twice = this.registrations.GroupBy(r => r.Name, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1);
        if (twice is not null)
        {
            throw new ArgumentException($"target '{twice.Key}' is registered twice", nameof(registrations));
        }

        Passes = new TargetRegistry(this.registrations.Select(r => r.Pass));
    }

    public ImmutableArray<TargetRegistration> All => registrations;

    public IReadOnlyList<string> Names => [.. registrations.Select(r => r.Name)];

    /// <summary>The target passes, by name (what the compiler pipeline lowers with).</summary>
    public TargetRegistry Passes { get; }

    public IEnumerable<IArtifactExecutor> Executors => registrations.Select(r => r.Executor);

    public TargetRegistration? Find(string name) => registrations.FirstOrDefault(r => r.Name == name);

    /// <summary>A copy with <paramref name="registration"/> added (tests register fakes this way).</summary>
    public RegisteredTargets With(TargetRegistration registration) => new(registrations.Add(registration));

    /// <summary>COV1010 at the YAML's <c>target:</c> value when <paramref name="graph"/> names no registered target.</summary>
    public ImmutableArray<Diagnostic> CheckTarget(ArchitectureGraph graph) => Covenant.Acg.TargetNameCheck.Check(graph, Names.ToList());

    /// <summary>
    /// What <c>arch check</c> reports beyond the loader: COV1010 when the graph names no registered target, else its
    /// target's <see cref="TargetRegistration.CheckArchitecture"/>; empty when the graph can be compiled for its target.
    /// </summary>
    public ImmutableArray<Diagnostic> CheckArchitecture(ArchitectureGraph graph)
    {
        ArgumentNullException.ThrowIfNull(graph);
        var unknown = CheckTarget(graph);
        return !unknown.IsEmpty || Find(graph.Target) is not { } target ? unknown : target.CheckArchitecture(graph);
    }

    /// <summary>The measurer <c>tune</c> uses for <paramref name="graph"/>'s target, or null when nothing here measures it.</summary>
    public IMappingMeasurer? CreateMeasurer(ArchitectureGraph graph)
    {
        ArgumentNullException.ThrowIfNull(graph);
        return Find(graph.Target) is { } target ? target.CreateMeasurer(target, graph) : null;
    }
}
