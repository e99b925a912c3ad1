using Covenant.Acg.Model;
using Covenant.Codelets;
using Covenant.Core.Diagnostics;

namespace Covenant.Acg.Loading;

/// <summary>
/// The checks that need the whole graph: edge ends exist and make sense, operands live in data storage of
/// the right type that is connected to their compute node in the direction of use, semantics agree with
/// their declarations, and some storage is off-chip. Works on drafts, skipping whatever the reader could
/// not read, so each mistake is reported once.
/// </summary>
internal sealed class AcgValidator
{
    private readonly GraphDraft graph;
    private readonly DiagnosticBag diagnostics;
    private readonly Dictionary<string, NodeDraft> nodes = new(StringComparer.Ordinal);
    private readonly Dictionary<string, List<string>> successors = new(StringComparer.Ordinal);
    private readonly Dictionary<(string Start, bool ThroughCompute), HashSet<string>> reachCache = [];

    /// <summary>Connection problems already reported, so a missing port edge is reported once, not once per operand using it.</summary>
    private readonly HashSet<(string Compute, string Storage, string Problem)> reportedConnections = [];

    /// <summary>False when some edge's end was missing or unknown: connectivity would then report that mistake again, less clearly.</summary>
    private bool edgesResolved = true;

    private AcgValidator(GraphDraft graph, DiagnosticBag diagnostics)
    {
        this.graph = graph;
        this.diagnostics = diagnostics;
        foreach (var node in graph.Nodes)
        {
            nodes.TryAdd(node.Name, node);
        }
    }

    public static void Validate(GraphDraft graph, DiagnosticBag diagnostics) => new AcgValidator(graph, diagnostics).Run();

    private void Run()
    {
        CheckEdges();
        foreach (var capability in graph.Nodes.OfType<ComputeDraft>().SelectMany(c => c.Capabilities))
        {
            SemanticsChecker.Check(capability, diagnostics);
            foreach (var operand in capability.Operands)
            {
                CheckOperand(capability, operand);
            }
        }

        var storage = graph.Nodes.OfType<StorageDraft>().ToList();
        // A node whose kind could not be read might be the DRAM: then this would only repeat that error.
        if (graph.NodesComplete && !graph.Nodes.OfType<UnknownKindDraft>().Any() && !storage.Any(s => s.Offchip is not false))
        {
            diagnostics.Report(AcgDiagnostics.NoOffchipStorage, graph.NodesLocation,
                "no storage node is off-chip: mark the DRAM (or HBM) node with 'offchip: true' so data has somewhere to come from");
        }

        // Only on an otherwise sound file: a misspelt edge end would make its node look unconnected too.
        if (!diagnostics.HasErrors)
        {
            var touched = graph.Edges.SelectMany(e => new[] { e.From, e.To }).ToHashSet(StringComparer.Ordinal);
            foreach (var node in storage.Where(s => !touched.Contains(s.Name)))
            {
                diagnostics.Report(AcgDiagnostics.UnconnectedNode, node.Location,
                    $"storage node '{node.Name}' has no edges, so nothing can use it");
            }
        }
    }

    private void CheckEdges()
    {
        var seen = new Dictionary<(string, string, string?), EdgeDraft>();
        foreach (var edge in graph.Edges)
        {
            var from = Resolve(edge.From, edge.FromLocation, edge.Label);
            var to = Resolve(edge.To, edge.ToLocation, edge.Label);
            if (from is null || to is null)
            {
                edgesResolved = false;
                continue;
            }

            if (from == to)
            {
                diagnostics.Report(AcgDiagnostics.InvalidEdge, edge.ToLocation, $"{edge.Label} goes from a node to itself");
                continue;
            }

            if (from is ComputeDraft && to is ComputeDraft)
            {
                diagnostics.Report(AcgDiagnostics.InvalidEdge, edge.Location,
                    $"{edge.Label} connects two compute nodes; data moves between compute nodes through storage (add the buffer between them)");
                continue;
            }

            if (from is StorageDraft && to is StorageDraft && !edge.TransferGiven)
            {
                diagnostics.Report(AcgDiagnostics.MissingKey, edge.Location,
                    $"{edge.Label} moves data between two storage nodes and needs a 'transfer' (the primitive that moves it, e.g. 'vta.load.inp', 'cp.async')");
            }

            if (!seen.TryAdd((from.Name, to.Name, edge.Transfer), edge))
            {
                diagnostics.Report(AcgDiagnostics.DuplicateEdge, edge.Location,
                    $"{edge.Label}{(edge.Transfer is null ? "" : $" with transfer '{edge.Transfer}'")} is listed twice (first at line {seen[(from.Name, to.Name, edge.Transfer)].Location.Line})");
                continue;
            }

            if (!successors.TryGetValue(from.Name, out var next))
            {
                successors[from.Name] = next = [];
            }

            next.Add(to.Name);
        }
    }

    private NodeDraft? Resolve(string? name, SourceLocation location, string label)
    {
        if (name is null)
        {
            return null;
        }

        if (nodes.TryGetValue(name, out var node))
        {
            return node;
        }

        // When nodes: was unreadable every name would be unknown; that error is already reported.
        if (graph.NodesComplete)
        {
            diagnostics.Report(AcgDiagnostics.UnknownNode, location,
                $"{label} names node '{name}', which is not defined{Spelling.DidYouMean(name, nodes.Keys)}");
        }

        return null;
    }

    private void CheckOperand(CapabilityDraft capability, OperandDraft operand)
    {
        if (operand.Accepts is { } accepts && operand.Type is { } own && operand.Role == OperandRole.Read &&
            (own, accepts) is not ((ElementType.U8, ElementType.I8) or (ElementType.I8, ElementType.U8)))
        {
            // Only the 8-bit signedness swap has an exact, cheap correction (an offset of 128 and a column-sum term).
            diagnostics.Report(AcgDiagnostics.UnsupportedConversion, operand.AcceptsLocation,
                $"operand '{operand.Name}' of {capability.Label} is {own.Name()} and cannot accept {accepts.Name()}: " +
                "'accepts' supports i8 data for a u8 operand and u8 data for an i8 operand");
        }
        else if (operand.Accepts is not null && operand.Role != OperandRole.Read && operand.Role != default)
        {
            diagnostics.Report(AcgDiagnostics.UnsupportedConversion, operand.AcceptsLocation,
                $"operand '{operand.Name}' of {capability.Label} is written, so it cannot accept another type; only operands the capability only reads can");
        }

        if (operand.Storage is not { } storageName)
        {
            return;
        }

        var label = $"operand '{operand.Name}' of {capability.Label}";
        if (!nodes.TryGetValue(storageName, out var node))
        {
            if (graph.NodesComplete)
            {
                var storageNames = nodes.Values.OfType<StorageDraft>().Select(s => s.Name);
                diagnostics.Report(AcgDiagnostics.UnknownNode, operand.StorageLocation,
                    $"{label} lives in '{storageName}', which is not defined{Spelling.DidYouMean(storageName, storageNames)}");
            }

            return;
        }

        if (node is not StorageDraft storage)
        {
            if (node is ComputeDraft)
            {
                diagnostics.Report(AcgDiagnostics.NotDataStorage, operand.StorageLocation,
                    $"{label} lives in '{storageName}', which is a compute node; operands live in storage nodes");
            }

            return;
        }

        if (storage.Holds != StorageContents.Data)
        {
            diagnostics.Report(AcgDiagnostics.NotDataStorage, operand.StorageLocation,
                $"{label} lives in '{storageName}', which holds {storage.Holds.ToString().ToLowerInvariant()}, not tensor data");
        }

        if (operand.Type is { } type && storage.Element is { } element && element.Type != type)
        {
            diagnostics.Report(AcgDiagnostics.OperandTypeMismatch, operand.TypeLocation,
                $"{label} is {type.Name()}, but its storage '{storageName}' holds {element.Type.Name()} elements ({element})");
        }

        CheckConnected(capability, operand, storage, label);
    }

    /// <summary>
    /// Data must be able to flow the way the capability uses it: an operand it reads must be fed from
    /// off-chip storage into its storage and from there (through storage only) to the compute node; an
    /// operand it writes must be written by the compute node and be able to leave for off-chip storage,
    /// possibly through another unit (VTA's accumulators leave only via the ALU's write to the output buffer).
    /// </summary>
    private void CheckConnected(CapabilityDraft capability, OperandDraft operand, StorageDraft storage, string label)
    {
        // Without readable edges every operand would look unconnected; that error is already reported.
        if (!graph.EdgesComplete || !edgesResolved)
        {
            return;
        }

        var compute = capability.Owner.Name;
        var offchip = graph.Nodes.OfType<StorageDraft>().Where(s => s.Offchip == true).Select(s => s.Name).ToList();
        if (operand.Role.HasFlag(OperandRole.Read))
        {
            if (!Reach(storage.Name, throughCompute: false).Contains(compute))
            {
                Report(operand, compute, storage.Name, "read", $"{label} is read from '{storage.Name}', but no edges lead from '{storage.Name}' to '{compute}'");
            }

            // An accumulator (read and written) may start on chip; a pure input has to come from somewhere.
            if (operand.Role == OperandRole.Read && offchip.Count > 0 && storage.Offchip != true &&
                !offchip.Any(o => Reach(o, throughCompute: false).Contains(storage.Name)))
            {
                Report(operand, compute, storage.Name, "fill", $"{label} is read from '{storage.Name}', which no off-chip storage can fill (add an edge such as '{offchip[0]} -> {storage.Name}')");
            }
        }

        if (operand.Role.HasFlag(OperandRole.Write))
        {
            if (!Reach(compute, throughCompute: false).Contains(storage.Name))
            {
                Report(operand, compute, storage.Name, "write", $"{label} is written to '{storage.Name}', but no edges lead from '{compute}' to '{storage.Name}'");
            }

            if (offchip.Count > 0 && storage.Offchip != true && !offchip.Any(Reach(storage.Name, throughCompute: true).Contains))
            {
                Report(operand, compute, storage.Name, "drain", $"{label} is written to '{storage.Name}', from which results can never reach off-chip storage ('{offchip[0]}')");
            }
        }
    }

    private void Report(OperandDraft operand, string compute, string storage, string problem, string message)
    {
        if (reportedConnections.Add((compute, storage, problem)))
        {
            diagnostics.Report(AcgDiagnostics.OperandNotConnected, operand.StorageLocation, message);
        }
    }

    /// <summary>
    /// The nodes reachable from <paramref name="start"/> along edges. Unless <paramref name="throughCompute"/>,
    /// paths stop at compute nodes (which are reached but not passed through): data that passes through a
    /// unit has been computed on, not moved.
    /// </summary>
    private HashSet<string> Reach(string start, bool throughCompute)
    {
        if (reachCache.TryGetValue((start, throughCompute), out var cached))
        {
            return cached;
        }

        var reached = new HashSet<string>(StringComparer.Ordinal);
        var queue = new Queue<string>();
        queue.Enqueue(start);
        while (queue.Count > 0)
        {
            var node = queue.Dequeue();
            if (node != start && !throughCompute && nodes.GetValueOrDefault(node) is ComputeDraft)
            {
                continue;
            }

            foreach (var next in successors.GetValueOrDefault(node) ?? [])
            {
                if (reached.Add(next))
                {
                    queue.Enqueue(next);
                }
            }
        }

        reachCache[(start, throughCompute)] = reached;
        return reached;
    }
}
