using System.Collections.Immutable;
using Covenant.Acg.Model;
using Covenant.Core.Diagnostics;
using Covenant.Mapping.Model;

namespace Covenant.Targets;

/// <summary>Options every target pass understands.</summary>
public sealed record TargetOptions
{
    public static TargetOptions Default { get; } = new();

    /// <summary>Physical address at which the target's memory image starts (the artifact is relocatable by this).</summary>
    public ulong DramBase { get; init; } = 0x1000_0000;
}

/// <summary>A file a target pass puts in the artifact directory.</summary>
public sealed record ArtifactFile(string Name, byte[] Contents)
{
    public static ArtifactFile Text(string name, string text) => new(name, System.Text.Encoding.UTF8.GetBytes(text));
}

/// <summary>What a target pass produces from a mapping: its files, a readable listing and its own cycle estimate.</summary>
public sealed record TargetOutput(string Target, ImmutableArray<ArtifactFile> Files, string Listing, double? PredictedCycles);

/// <summary>
/// A target pass: lowers a mapping to the instruction stream of one kind of hardware. Each target lives in its
/// own folder behind this interface; <see cref="TargetRegistry"/> picks one by the architecture's <c>target:</c>.
/// </summary>
public interface ITarget
{
    /// <summary>The name an architecture's <c>target:</c> key uses.</summary>
    string Name { get; }

    Result<TargetOutput> Lower(LayerMapping mapping, TargetOptions options);

    /// <summary>
    /// Every reason this target cannot compile for <paramref name="graph"/> at all, whatever the codelet, each at its
    /// YAML position: capabilities that are not the target's instructions or do not compute what they do, a
    /// configuration the target cannot emit for. <c>arch check</c> and <c>compile</c> (before mapping) run it.
    /// </summary>
    ImmutableArray<Diagnostic> CheckArchitecture(ArchitectureGraph graph) => [];
}
