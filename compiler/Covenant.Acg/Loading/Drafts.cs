using Covenant.Acg.Model;
using Covenant.Codelets;
using Covenant.Codelets.Syntax;
using Covenant.Core.Diagnostics;

namespace Covenant.Acg.Loading;

// What the reader could make of each part of the file. Fields are null where the YAML was missing or
// wrong (an error has been reported); the validator checks whatever is present, so one mistake does not
// hide others, and the builder turns drafts into the immutable model only when there were no errors.

internal sealed class GraphDraft(SourceLocation location)
{
    public SourceLocation Location { get; } = location;

    public string? Name { get; set; }

    public string? Target { get; set; }

    public SourceLocation? TargetLocation { get; set; }

    public string Description { get; set; } = "";

    public double? ClockHz { get; set; }

    /// <summary>Where <c>nodes:</c> is (or the document start): "no off-chip storage" points here.</summary>
    public SourceLocation NodesLocation { get; set; } = location;

    /// <summary>False when <c>nodes:</c> itself was unreadable, so graph-wide checks would only mislead.</summary>
    public bool NodesComplete { get; set; } = true;

    public bool EdgesComplete { get; set; } = true;

    public List<NodeDraft> Nodes { get; } = [];

    public List<EdgeDraft> Edges { get; } = [];
}

internal abstract class NodeDraft(string name, SourceLocation location)
{
    public string Name { get; } = name;

    public SourceLocation Location { get; } = location;

    public int Count { get; set; } = 1;

    public string Description { get; set; } = "";
}

/// <summary>A node whose <c>kind</c> is missing or wrong: its name exists (edges to it are not "unknown"), nothing else is known.</summary>
internal sealed class UnknownKindDraft(string name, SourceLocation location) : NodeDraft(name, location);

internal sealed class StorageDraft(string name, SourceLocation location) : NodeDraft(name, location)
{
    public long? CapacityBytes { get; set; }

    public ElementLayout? Element { get; set; }

    public long? LineBytes { get; set; }

    public int Banks { get; set; } = 1;

    public bool DoubleBuffered { get; set; }

    /// <summary>Null when <c>offchip</c> was given but unreadable.</summary>
    public bool? Offchip { get; set; } = false;

    public bool Cache { get; set; }

    public bool RegisterFile { get; set; }

    public StorageContents Holds { get; set; } = StorageContents.Data;
}

internal sealed class ComputeDraft(string name, SourceLocation location) : NodeDraft(name, location)
{
    public List<CapabilityDraft> Capabilities { get; } = [];
}

internal sealed class CapabilityDraft(ComputeDraft owner, string name, SourceLocation location)
{
    public ComputeDraft Owner { get; } = owner;

    public string Name { get; } = name;

    public SourceLocation Location { get; } = location;

    /// <summary>"capability 'gemm' of 'core'", for messages.</summary>
    public string Label => $"capability '{Name}' of '{Owner.Name}'";

    public string Description { get; set; } = "";

    public string? SemanticsText { get; set; }

    public SourceLocation SemanticsLocation { get; set; } = location;

    public StatementSyntax? Semantics { get; set; }

    public List<AxisDraft> Shape { get; } = [];

    /// <summary>False when <c>shape</c> was missing or not a mapping: axis checks are skipped.</summary>
    public bool ShapeComplete { get; set; } = true;

    public List<OperandDraft> Operands { get; } = [];

    public bool OperandsComplete { get; set; } = true;

    public List<ImmediateDraft> Immediates { get; } = [];

    public double? LatencyCycles { get; set; }

    public double? IntervalCycles { get; set; }
}

internal sealed record AxisDraft(string Name, int? Extent, SourceLocation Location);

internal sealed class OperandDraft(string name, SourceLocation location)
{
    public string Name { get; } = name;

    public SourceLocation Location { get; } = location;

    public ElementType? Type { get; set; }

    public SourceLocation TypeLocation { get; set; } = location;

    public string? Storage { get; set; }

    public SourceLocation StorageLocation { get; set; } = location;

    public ElementType? Accepts { get; set; }

    public SourceLocation AcceptsLocation { get; set; } = location;

    /// <summary>Filled in by the semantics check.</summary>
    public OperandRole Role { get; set; }

    /// <summary>Filled in by the semantics check: the axes in this operand's indices, in order of appearance.</summary>
    public List<string> Axes { get; } = [];
}

internal sealed class ImmediateDraft(string name, SourceLocation location)
{
    public string Name { get; } = name;

    public SourceLocation Location { get; } = location;

    public ElementType? Type { get; set; }

    public long? Min { get; set; }

    public long? Max { get; set; }
}

internal sealed class EdgeDraft(int index, SourceLocation location)
{
    /// <summary>The 1-based position in <c>edges:</c>.</summary>
    public int Index { get; } = index;

    public SourceLocation Location { get; } = location;

    public string? From { get; set; }

    public SourceLocation FromLocation { get; set; } = location;

    public string? To { get; set; }

    public SourceLocation ToLocation { get; set; } = location;

    public double? BandwidthBytesPerCycle { get; set; }

    public double LatencyCycles { get; set; }

    public string? Transfer { get; set; }

    /// <summary>True when a <c>transfer</c> key was present (even if its value was wrong), so "missing transfer" is not reported too.</summary>
    public bool TransferGiven { get; set; }

    public string Description { get; set; } = "";

    public string Label => From is not null && To is not null ? $"edge '{From} -> {To}'" : $"edge {Index}";
}
