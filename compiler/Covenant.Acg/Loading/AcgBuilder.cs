using System.Collections.Immutable;
using Covenant.Acg.Model;

namespace Covenant.Acg.Loading;

/// <summary>
/// Turns drafts into the immutable model. Called only when no error was reported, so every required field
/// is present; a missing one is a bug in the reader or validator, not a user mistake.
/// </summary>
internal static class AcgBuilder
{
    public static ArchitectureGraph Build(GraphDraft graph) => new(
        Required(graph.Name, "name"),
        Required(graph.Target, "target"),
        graph.Description,
        graph.ClockHz,
        [.. graph.Nodes.Select(Node)],
        [.. graph.Edges.Select(Edge)],
        graph.Location) { TargetLocation = graph.TargetLocation };

    private static AcgNode Node(NodeDraft node) => node switch
    {
        StorageDraft s => new StorageNode(
            s.Name,
            Required(s.CapacityBytes, "capacity"),
            s.Element,
            s.LineBytes,
            s.Banks,
            s.DoubleBuffered,
            Required(s.Offchip, "offchip"),
            s.Cache,
            s.Holds,
            s.Count,
            s.Description,
            s.Location) { RegisterFile = s.RegisterFile },
        ComputeDraft c => new ComputeNode(c.Name, [.. c.Capabilities.Select(Capability)], c.Count, c.Description, c.Location),
        _ => throw new InvalidOperationException($"node '{node.Name}' has no kind but no error was reported"),
    };

    private static Capability Capability(CapabilityDraft c) => new(
        c.Name,
        Required(c.SemanticsText, "semantics"),
        Required(c.Semantics, "semantics"),
        [.. c.Shape.Select(a => new CapabilityAxis(a.Name, Required(a.Extent, "extent"), a.Location))],
        [.. c.Operands.Select(o => new CapabilityOperand(
            o.Name, Required(o.Type, "type"), Required(o.Storage, "storage"), o.Role, [.. o.Axes], o.Location) { Accepts = o.Accepts })],
        [.. c.Immediates.Select(i => new CapabilityImmediate(i.Name, Required(i.Type, "type"), i.Min, i.Max, i.Location))],
        Required(c.LatencyCycles, "latency"),
        Required(c.IntervalCycles, "interval"),
        c.Description,
        c.Location);

    private static Edge Edge(EdgeDraft e) => new(
        Required(e.From, "from"),
        Required(e.To, "to"),
        Required(e.BandwidthBytesPerCycle, "bandwidth"),
        e.LatencyCycles,
        e.Transfer,
        e.Description,
        e.Location);

    private static T Required<T>(T? value, string what)
        where T : class =>
        value ?? throw new InvalidOperationException($"'{what}' is missing but no error was reported");

    private static T Required<T>(T? value, string what)
        where T : struct =>
        value ?? throw new InvalidOperationException($"'{what}' is missing but no error was reported");
}
