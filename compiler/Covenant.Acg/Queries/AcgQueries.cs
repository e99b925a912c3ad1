using System.Collections.Immutable;
using Covenant.Acg.Model;
using QuikGraph;
using QuikGraph.Algorithms;
using QuikGraph.Predicates;

namespace Covenant.Acg.Queries;

/// <summary>A walk along edges: <see cref="Nodes"/> in the order data flows, and the edge taken between each pair.</summary>
public sealed record AcgPath(ImmutableArray<string> Nodes, ImmutableArray<Edge> Edges)
{
    public string Start => Nodes[0];

    public string End => Nodes[^1];

    /// <summary>The narrowest edge's bandwidth: what a stream along the whole path can sustain (infinite for an empty path).</summary>
    public double BottleneckBandwidth => Edges.IsEmpty ? double.PositiveInfinity : Edges.Min(e => e.BandwidthBytesPerCycle);

    public double TotalLatency => Edges.Sum(e => e.LatencyCycles);

    public override string ToString() => string.Join(" -> ", Nodes);
}

/// <summary>
/// The storage hierarchy one capability operand sits at the bottom of. <see cref="Fills"/> bring data from
/// off-chip storage into the operand's storage; <see cref="Drains"/> take results back out. Both are
/// ordered shortest first.
/// </summary>
public sealed record OperandLevels(
    string Compute,
    string Capability,
    CapabilityOperand Operand,
    ImmutableArray<AcgPath> Fills,
    ImmutableArray<AcgPath> Drains)
{
    /// <summary>
    /// The storage levels outermost (off-chip) first, down to the operand's storage: those of the deepest
    /// fill path (the hierarchy a tiler fills level by level), or of the deepest drain path, reversed, for
    /// an operand that is only written.
    /// </summary>
    public ImmutableArray<string> Levels { get; init; } = ImmutableArray<string>.Empty;
}

/// <summary>
/// Questions about an architecture's graph of nodes and edges, answered with QuikGraph. By default paths do
/// not pass <em>through</em> compute nodes (data that passes a unit has been computed on, not moved); they
/// may start or end at one.
/// </summary>
public sealed class AcgQueries
{
    /// <summary>Simple paths are enumerated depth first; this caps the work on dense, hand-written graphs.</summary>
    public const int DefaultPathLimit = 1000;

    private readonly BidirectionalGraph<string, TaggedEdge<string, Edge>> graph = new(allowParallelEdges: true);
    private readonly HashSet<string> computeNodes;

    public AcgQueries(ArchitectureGraph architecture)
    {
        Architecture = architecture;
        computeNodes = architecture.Compute.Select(c => c.Name).ToHashSet(StringComparer.Ordinal);
        graph.AddVertexRange(architecture.Nodes.Select(n => n.Name));
        graph.AddEdgeRange(architecture.Edges.Select(e => new TaggedEdge<string, Edge>(e.From, e.To, e)));
    }

    public ArchitectureGraph Architecture { get; }

    /// <summary>The QuikGraph graph (vertices are node names, each edge tagged with its <see cref="Edge"/>), for algorithms not offered here.</summary>
    public IBidirectionalGraph<string, TaggedEdge<string, Edge>> Graph => graph;

    public IEnumerable<Edge> OutEdges(string node) => Require(node).OutEdges(node).Select(e => e.Tag);

    public IEnumerable<Edge> InEdges(string node) => Require(node).InEdges(node).Select(e => e.Tag);

    public IEnumerable<string> Successors(string node) => OutEdges(node).Select(e => e.To).Distinct();

    public IEnumerable<string> Predecessors(string node) => InEdges(node).Select(e => e.From).Distinct();

    /// <summary>Every edge from <paramref name="from"/> to <paramref name="to"/> (several when different transfers connect them).</summary>
    public IEnumerable<Edge> EdgesBetween(string from, string to) => OutEdges(from).Where(e => e.To == to);

    public bool CanReach(string from, string to, bool throughCompute = false) => ShortestPath(from, to, throughCompute) is not null;

    /// <summary>The path with the fewest edges (null when there is none); a node reaches itself by the empty path.</summary>
    public AcgPath? ShortestPath(string from, string to, bool throughCompute = false)
    {
        Require(from);
        Require(to);
        if (from == to)
        {
            return new AcgPath([from], []);
        }

        var view = new FilteredBidirectionalGraph<string, TaggedEdge<string, Edge>, BidirectionalGraph<string, TaggedEdge<string, Edge>>>(
            graph, _ => true, e => throughCompute || e.Source == from || !computeNodes.Contains(e.Source));
        var paths = view.ShortestPathsDijkstra(_ => 1.0, from);
        return paths(to, out var edges) ? ToPath(from, edges) : null;
    }

    /// <summary>
    /// Every simple path (no node twice) from <paramref name="from"/> to <paramref name="to"/>, fewest edges
    /// first, then in file order of their edges; at most <paramref name="limit"/> of them.
    /// </summary>
    public IReadOnlyList<AcgPath> Paths(string from, string to, bool throughCompute = false, int limit = DefaultPathLimit)
    {
        Require(from);
        Require(to);
        var found = new List<AcgPath>();
        var edges = new List<TaggedEdge<string, Edge>>();
        var onPath = new HashSet<string>(StringComparer.Ordinal) { from };

        // Depth-first with an explicit stack of out-edge enumerators, so long chains cannot overflow the call stack.
        var stack = new Stack<IEnumerator<TaggedEdge<string, Edge>>>();
        stack.Push(graph.OutEdges(from).GetEnumerator());
        while (stack.Count > 0 && found.Count < limit)
        {
            var next = stack.Peek();
            if (!next.MoveNext())
            {
                next.Dispose();
                stack.Pop();
                if (edges.Count > 0)
                {
                    onPath.Remove(edges[^1].Target);
                    edges.RemoveAt(edges.Count - 1);
                }

                continue;
            }

            var edge = next.Current;
            if (onPath.Contains(edge.Target))
            {
                continue;
            }

            if (edge.Target == to)
            {
                found.Add(ToPath(from, [.. edges, edge]));
                continue;
            }

            if (!throughCompute && computeNodes.Contains(edge.Target))
            {
                continue;
            }

            edges.Add(edge);
            onPath.Add(edge.Target);
            stack.Push(graph.OutEdges(edge.Target).GetEnumerator());
        }

        foreach (var open in stack)
        {
            open.Dispose();
        }

        var order = new Dictionary<Edge, int>(ReferenceEqualityComparer.Instance);
        for (var i = 0; i < Architecture.Edges.Length; i++)
        {
            order[Architecture.Edges[i]] = i;
        }

        return [.. found
            .OrderBy(p => p.Edges.Length)
            .ThenBy(p => p.Edges, Comparer<ImmutableArray<Edge>>.Create((a, b) => CompareInFileOrder(a, b, order)))];
    }

    /// <summary>Storage levels of every operand of every capability of compute node <paramref name="compute"/>.</summary>
    public IReadOnlyList<OperandLevels> StorageLevels(string compute)
    {
        var node = Architecture.ComputeNode(compute);
        return [.. node.Capabilities.SelectMany(c => c.Operands.Select(o => Levels(node, c, o)))];
    }

    /// <summary>Storage levels of one operand: how data gets from off-chip storage to it and back.</summary>
    public OperandLevels StorageLevels(string compute, string capability, string operand)
    {
        var node = Architecture.ComputeNode(compute);
        var found = node.FindCapability(capability) ?? throw new ArgumentException($"'{compute}' has no capability '{capability}'", nameof(capability));
        return Levels(node, found, found.FindOperand(operand) ?? throw new ArgumentException($"'{capability}' has no operand '{operand}'", nameof(operand)));
    }

    private OperandLevels Levels(ComputeNode compute, Capability capability, CapabilityOperand operand)
    {
        var offchip = Architecture.Offchip.Select(s => s.Name).ToList();
        ImmutableArray<AcgPath> fills = [.. offchip.SelectMany(o => Paths(o, operand.Storage)).OrderBy(p => p.Edges.Length)];
        ImmutableArray<AcgPath> drains = operand.Role.HasFlag(OperandRole.Write)
            ? [.. offchip.SelectMany(o => Paths(operand.Storage, o, throughCompute: true)).OrderBy(p => p.Edges.Length)]
            : [];
        var storage = Architecture.Storage.Select(s => s.Name).ToHashSet(StringComparer.Ordinal);
        ImmutableArray<string> levels =
            !fills.IsEmpty ? [.. fills.MaxBy(p => p.Nodes.Length)!.Nodes.Where(storage.Contains)]
            : !drains.IsEmpty ? [.. drains.MaxBy(p => p.Nodes.Length)!.Nodes.Where(storage.Contains).Reverse()]
            : [operand.Storage];
        return new OperandLevels(compute.Name, capability.Name, operand, fills, drains) { Levels = levels };
    }

    private static AcgPath ToPath(string from, IEnumerable<TaggedEdge<string, Edge>> edges)
    {
        var list = edges.ToList();
        return new AcgPath([from, .. list.Select(e => e.Target)], [.. list.Select(e => e.Tag)]);
    }

    private static int CompareInFileOrder(ImmutableArray<Edge> a, ImmutableArray<Edge> b, Dictionary<Edge, int> order)
    {
        for (var i = 0; i < Math.Min(a.Length, b.Length); i++)
        {
            var c = order[a[i]].CompareTo(order[b[i]]);
            if (c != 0)
            {
                return c;
            }
        }

        return a.Length.CompareTo(b.Length);
    }

    private BidirectionalGraph<string, TaggedEdge<string, Edge>> Require(string node) =>
        graph.ContainsVertex(node) ? graph : throw new ArgumentException($"architecture '{Architecture.Name}' has no node '{node}'", nameof(node));
}
