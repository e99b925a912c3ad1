using System.Collections.Immutable;
using System.Globalization;
using System.Text.RegularExpressions;
using Covenant.Acg.Model;
using Covenant.Codelets;
using Covenant.Codelets.Parsing;
using Covenant.Core.Diagnostics;

namespace Covenant.Acg.Loading;

/// <summary>
/// Reads the YAML tree against the schema (documented in <c>architectures/README.md</c>) into drafts:
/// keys, value types, units, names. It reports every problem it finds and keeps going, leaving a field
/// null where its value was unusable. Graph-level checks (edges, connectivity, semantics) are the
/// validator's.
/// </summary>
internal sealed class AcgReader(DiagnosticBag diagnostics) : YamlValueReader(diagnostics)
{
    // ---- Limits: far beyond any real accelerator, small enough that arithmetic on them cannot overflow ----
    private const int MaxCount = 1 << 20;
    private const int MaxBanks = 1 << 16;
    private const int MaxExtent = 1 << 16;
    private const int MaxRank = 8;
    private const long MaxOperationsPerIssue = 1L << 32;

    private static readonly string[] TopKeys = ["name", "target", "description", "clock", "nodes", "edges"];
    private static readonly string[] NodeKinds = ["storage", "compute"];
    private static readonly string[] StorageKeys =
        ["kind", "description", "capacity", "offchip", "element", "line", "banks", "double_buffered", "cache", "register_file", "holds", "count"];

    private static readonly string[] ComputeKeys = ["kind", "description", "count", "capabilities"];
    private static readonly string[] ElementKeys = ["type", "shape"];
    private static readonly string[] CapabilityKeys = ["description", "semantics", "shape", "operands", "immediates", "latency", "interval"];
    private static readonly string[] OperandKeys = ["type", "storage", "accepts"];
    private static readonly string[] ImmediateKeys = ["type", "min", "max"];
    private static readonly string[] EdgeKeys = ["from", "to", "bandwidth", "latency", "transfer", "description"];
    private static readonly string[] Contents = ["data", "microcode"];


    public static GraphDraft? Read(YamlNode root, DiagnosticBag diagnostics) => new AcgReader(diagnostics).ReadGraph(root);

    private GraphDraft? ReadGraph(YamlNode root)
    {
        if (root is not YamlMapping map)
        {
            Report(AcgDiagnostics.WrongValueType, root.Location,
                $"an architecture file must be a mapping with the keys {string.Join(", ", TopKeys)}; found {root.Describe()}");
            return null;
        }

        var graph = new GraphDraft(map.Location);
        var fields = new YamlFields(this, map, "the architecture", map.Location, TopKeys);

        if (fields.Require("name", "the architecture's name, e.g. 'vta'") is { } name &&
            Text(name.Value, "'name'") is { } nameText)
        {
            graph.Name = CheckName(nameText, name.Value, "architecture name", GraphNamePattern());
        }

        // Any name is read here; whether this build has that target is the compiler's registry's question (TargetNameCheck).
        if (fields.Require("target", "the target pass that emits code, e.g. 'vta'") is { } target &&
            Text(target.Value, "'target'") is { } targetText)
        {
            graph.Target = targetText;
            graph.TargetLocation = target.Value.Location;
        }

        if (fields.Get("description") is { } description)
        {
            graph.Description = Text(description.Value, "'description'") ?? "";
        }

        // The clock comes first: bandwidths written per second are converted with it.
        var clockGiven = false;
        if (fields.Get("clock") is { } clock)
        {
            clockGiven = true;
            graph.ClockHz = Frequency(clock.Value, "the clock");
        }

        if (fields.Require("nodes", "a mapping from node names to storage and compute nodes") is { } nodes)
        {
            graph.NodesLocation = nodes.Key.Location;
            if (Mapping(nodes.Value, "'nodes'", "a mapping from node names to nodes") is { } nodeMap)
            {
                foreach (var entry in Unique(nodeMap, "node"))
                {
                    graph.Nodes.Add(ReadNode(entry));
                }
            }
            else
            {
                graph.NodesComplete = false;
            }
        }
        else
        {
            graph.NodesComplete = false;
        }

        if (fields.Require("edges", "a list of data-movement edges, each with 'from', 'to', 'bandwidth' and 'transfer'") is { } edges)
        {
            if (edges.Value is YamlScalar { IsNull: true })
            {
                // "edges:" with nothing after it: no edges, which the graph checks then explain.
            }
            else if (Sequence(edges.Value, "'edges'", "a list of edges") is { } edgeList)
            {
                for (var i = 0; i < edgeList.Items.Count; i++)
                {
                    if (ReadEdge(edgeList.Items[i], i + 1, graph.ClockHz, clockGiven) is { } edge)
                    {
                        graph.Edges.Add(edge);
                    }
                    else
                    {
                        // An unreadable edge might be the one that connects an operand: do not guess.
                        graph.EdgesComplete = false;
                    }
                }
            }
            else
            {
                graph.EdgesComplete = false;
            }
        }
        else
        {
            graph.EdgesComplete = false;
        }

        return graph;
    }

    // ---- Nodes ----

    private NodeDraft ReadNode(YamlEntry entry)
    {
        var location = entry.Key.Location;
        if (CheckName(entry.Key.Value, entry.Key, "node name", IdentifierPattern()) is not { } name)
        {
            // Keep the name known, so edges that use it are not reported as naming an unknown node as well.
            return new UnknownKindDraft(entry.Key.Value, location);
        }

        if (Mapping(entry.Value, $"node '{name}'", "a mapping with 'kind: storage' or 'kind: compute'") is not { } map)
        {
            return new UnknownKindDraft(name, location);
        }

        var kindEntry = map.Entries.FirstOrDefault(e => e.Key.Value == "kind");
        if (kindEntry is null)
        {
            Report(AcgDiagnostics.MissingKey, location, $"node '{name}' has no 'kind' (storage or compute)");
            return new UnknownKindDraft(name, location);
        }

        return Choice(kindEntry.Value, $"the kind of node '{name}'", NodeKinds) switch
        {
            "storage" => ReadStorage(name, location, map),
            "compute" => ReadCompute(name, location, map),
            _ => new UnknownKindDraft(name, location),
        };
    }

    private StorageDraft ReadStorage(string name, SourceLocation location, YamlMapping map)
    {
        var owner = $"storage node '{name}'";
        var storage = new StorageDraft(name, location);
        var fields = new YamlFields(this, map, owner, location, StorageKeys);
        storage.Description = fields.Get("description") is { } description ? Text(description.Value, "'description'") ?? "" : "";
        storage.Count = fields.Get("count") is { } count ? PositiveInt(count.Value, $"'count' of {owner}", MaxCount) ?? 1 : 1;
        storage.Banks = fields.Get("banks") is { } banks ? PositiveInt(banks.Value, $"'banks' of {owner}", MaxBanks) ?? 1 : 1;
        storage.Offchip = fields.Get("offchip") is { } offchip ? Bool(offchip.Value, $"'offchip' of {owner}") : false;
        storage.DoubleBuffered = fields.Get("double_buffered") is { } doubled && (Bool(doubled.Value, $"'double_buffered' of {owner}") ?? false);
        storage.Cache = fields.Get("cache") is { } cache && (Bool(cache.Value, $"'cache' of {owner}") ?? false);
        storage.RegisterFile = fields.Get("register_file") is { } registers && (Bool(registers.Value, $"'register_file' of {owner}") ?? false);
        if (fields.Get("holds") is { } holds)
        {
            storage.Holds = Choice(holds.Value, $"'holds' of {owner}", Contents) == "microcode" ? StorageContents.Microcode : StorageContents.Data;
        }

        if (fields.Require("capacity", "its size, e.g. '32 KiB'") is { } capacity)
        {
            storage.CapacityBytes = Size(capacity.Value, $"the capacity of {owner}");
        }

        if (fields.Get("element") is { } element)
        {
            storage.Element = ReadElement(element.Value, owner);
        }

        YamlEntry? line = fields.Get("line");
        if (line is not null)
        {
            storage.LineBytes = Size(line.Value, $"the line size of {owner}");
        }

        // The access unit is the element when one is given; both must agree when both are written.
        if (storage.Element is { } layout)
        {
            if (storage.LineBytes is { } lineBytes && lineBytes != layout.Bytes)
            {
                Report(AcgDiagnostics.Inconsistent, line!.Value.Location,
                    $"{owner} has lines of {Format.Bytes(lineBytes)} but elements {layout} of {Format.Bytes(layout.Bytes)}; drop 'line' or make them agree");
            }

            storage.LineBytes ??= line is null ? layout.Bytes : null;
        }

        if (storage is { CapacityBytes: { } bytes, LineBytes: { } unit } && bytes % unit != 0)
        {
            Report(AcgDiagnostics.Inconsistent, fields.Get("capacity")!.Value.Location,
                $"the capacity of {owner} ({Format.Bytes(bytes)}) is not a whole number of {Format.Bytes(unit)} {(storage.Element is null ? "lines" : "elements")}");
        }

        return storage;
    }

    private ElementLayout? ReadElement(YamlNode node, string owner)
    {
        var label = $"the element of {owner}";
        if (Mapping(node, label, "a mapping such as {type: i8, shape: [1, 16]}") is not { } map)
        {
            return null;
        }

        var fields = new YamlFields(this, map, label, node.Location, ElementKeys);
        ElementType? type = fields.Require("type", "one of " + Alternatives(ElementTypes.Names)) is { } typeEntry
            ? Type(typeEntry.Value, $"the element type of {owner}")
            : null;
        ImmutableArray<int>? shape = fields.Require("shape", "the row's extents, e.g. [1, 16]") is { } shapeEntry
            ? Dims(shapeEntry.Value, $"the element shape of {owner}")
            : null;
        if (type is not { } t || shape is not { } s)
        {
            return null;
        }

        // Up to eight extents of 2^16 would overflow 64 bits; anything above the size limit is refused first.
        var bytes = s.Aggregate((decimal)t.Bytes(), (product, extent) => Math.Min(product * extent, decimal.MaxValue / MaxExtent));
        if (bytes > Quantities.MaxBytes)
        {
            Report(AcgDiagnostics.ValueTooLarge, fields.Get("shape")!.Value.Location, $"the element of {owner} would be larger than 1 PiB");
            return null;
        }

        return new ElementLayout(t, s, node.Location);
    }

    private ImmutableArray<int>? Dims(YamlNode node, string label)
    {
        if (Sequence(node, label, "a list of extents such as [1, 16]") is not { } list)
        {
            return null;
        }

        if (list.Items.Count == 0 || list.Items.Count > MaxRank)
        {
            Report(AcgDiagnostics.Inconsistent, node.Location, $"{label} must have 1 to {MaxRank} extents, not {list.Items.Count}");
            return null;
        }

        var dims = ImmutableArray.CreateBuilder<int>();
        foreach (var item in list.Items)
        {
            if (PositiveInt(item, label, MaxExtent) is not { } extent)
            {
                return null;
            }

            dims.Add(extent);
        }

        return dims.ToImmutable();
    }

    private ComputeDraft ReadCompute(string name, SourceLocation location, YamlMapping map)
    {
        var owner = $"compute node '{name}'";
        var compute = new ComputeDraft(name, location);
        var fields = new YamlFields(this, map, owner, location, ComputeKeys);
        compute.Description = fields.Get("description") is { } description ? Text(description.Value, "'description'") ?? "" : "";
        compute.Count = fields.Get("count") is { } count ? PositiveInt(count.Value, $"'count' of {owner}", MaxCount) ?? 1 : 1;
        if (fields.Require("capabilities", "a mapping from intrinsic names to their semantics, shape and operands") is { } capabilities &&
            Mapping(capabilities.Value, $"'capabilities' of {owner}", "a mapping from intrinsic names to capabilities") is { } capabilityMap)
        {
            if (capabilityMap.Entries.Count == 0)
            {
                Report(AcgDiagnostics.EmptyCollection, capabilities.Key.Location, $"{owner} has no capabilities; a compute node needs at least one");
            }

            foreach (var entry in Unique(capabilityMap, "capability"))
            {
                if (ReadCapability(compute, entry) is { } capability)
                {
                    compute.Capabilities.Add(capability);
                }
            }
        }

        return compute;
    }

    private CapabilityDraft? ReadCapability(ComputeDraft owner, YamlEntry entry)
    {
        if (CheckName(entry.Key.Value, entry.Key, "capability name", CapabilityNamePattern()) is not { } name)
        {
            return null;
        }

        var capability = new CapabilityDraft(owner, name, entry.Key.Location);
        var label = capability.Label;
        if (Mapping(entry.Value, label, "a mapping with 'semantics', 'shape', 'operands', 'latency' and 'interval'") is not { } map)
        {
            // Nothing is known about it: leave it out rather than report every missing part again.
            return null;
        }

        var fields = new YamlFields(this, map, label, entry.Key.Location, CapabilityKeys);
        capability.Description = fields.Get("description") is { } description ? Text(description.Value, "'description'") ?? "" : "";

        if (fields.Require("semantics", "a codelet statement such as 'c[i, j] += a[i, k] * b[j, k]'") is { } semantics &&
            Text(semantics.Value, $"the semantics of {label}") is { } text)
        {
            capability.SemanticsText = text;
            capability.SemanticsLocation = ((YamlScalar)semantics.Value).ContentLocation;
            var parsed = CodeletParser.ParseStatement(text, capability.SemanticsLocation);
            if (parsed.Succeeded)
            {
                capability.Semantics = parsed.Value;
            }
            else
            {
                // Re-issued under an ACG id (the position is already in this file), so every ACG error is COV1xxx.
                foreach (var error in parsed.Diagnostics.Where(d => d.IsError))
                {
                    var message = error.Message.Replace("found end of file", "found the end of the semantics", StringComparison.Ordinal);
                    Report(AcgDiagnostics.SemanticsSyntax, error.Location ?? capability.SemanticsLocation,
                        $"the semantics of {label} do not parse: {message}");
                }
            }
        }

        ReadShape(capability, fields.Require("shape", "the extent of every axis, e.g. {i: 1, j: 16, k: 16}"));
        ReadOperands(capability, fields.Require("operands", "each tensor of the semantics with its 'type' and 'storage'"));
        if (fields.Get("immediates") is { } immediates)
        {
            ReadImmediates(capability, immediates);
        }

        if (fields.Require("latency", "cycles from issue until the result can be used") is { } latency)
        {
            capability.LatencyCycles = Cycles(latency.Value, $"the latency of {label}", allowZero: true);
        }

        if (fields.Require("interval", "cycles between two issues on one unit; 0.5 means two per cycle") is { } interval)
        {
            capability.IntervalCycles = Cycles(interval.Value, $"the issue interval of {label}", allowZero: false);
        }

        return capability;
    }

    private void ReadShape(CapabilityDraft capability, YamlEntry? entry)
    {
        if (entry is null || Mapping(entry.Value, $"the shape of {capability.Label}", "a mapping such as {i: 1, j: 16, k: 16}") is not { } map)
        {
            capability.ShapeComplete = false;
            return;
        }

        decimal operations = 1;
        foreach (var axis in Unique(map, "axis"))
        {
            if (CheckName(axis.Key.Value, axis.Key, "axis name", IdentifierPattern()) is { } name)
            {
                var extent = PositiveInt(axis.Value, $"the extent of axis '{name}' of {capability.Label}", MaxExtent);
                capability.Shape.Add(new AxisDraft(name, extent, axis.Key.Location));
                operations = Math.Min(operations * (extent ?? 1), decimal.MaxValue / MaxExtent);
            }
            else
            {
                capability.ShapeComplete = false;
            }
        }

        // One issue of any real intrinsic is far below this; the cap keeps products of extents in 64 bits.
        if (operations > MaxOperationsPerIssue)
        {
            Report(AcgDiagnostics.ValueTooLarge, entry.Value.Location,
                $"the shape of {capability.Label} has {operations} points, above the limit of {MaxOperationsPerIssue} per issue");
            capability.ShapeComplete = false;
        }
    }

    private void ReadOperands(CapabilityDraft capability, YamlEntry? entry)
    {
        if (entry is null || Mapping(entry.Value, $"the operands of {capability.Label}", "a mapping from tensor names to {type, storage}") is not { } map)
        {
            capability.OperandsComplete = false;
            return;
        }

        foreach (var item in Unique(map, "operand"))
        {
            if (CheckName(item.Key.Value, item.Key, "operand name", IdentifierPattern()) is not { } name)
            {
                capability.OperandsComplete = false;
                continue;
            }

            var operand = new OperandDraft(name, item.Key.Location);
            capability.Operands.Add(operand);
            var label = $"operand '{name}' of {capability.Label}";
            if (Mapping(item.Value, label, "a mapping such as {type: i8, storage: inp_buf}") is not { } operandMap)
            {
                continue;
            }

            var fields = new YamlFields(this, operandMap, label, item.Key.Location, OperandKeys);
            if (fields.Require("type", "one of " + Alternatives(ElementTypes.Names)) is { } type)
            {
                operand.TypeLocation = type.Value.Location;
                operand.Type = Type(type.Value, $"the type of {label}");
            }

            if (fields.Require("storage", "the storage node the operand must live in") is { } storage)
            {
                operand.StorageLocation = storage.Value.Location;
                operand.Storage = Text(storage.Value, $"the storage of {label}");
            }

            if (fields.Get("accepts") is { } accepts)
            {
                operand.AcceptsLocation = accepts.Value.Location;
                if (Type(accepts.Value, $"the type {label} accepts") is { } accepted)
                {
                    operand.Accepts = accepted;
                }
            }
        }
    }

    private void ReadImmediates(CapabilityDraft capability, YamlEntry entry)
    {
        if (Mapping(entry.Value, $"the immediates of {capability.Label}", "a mapping from names to {type, min, max}") is not { } map)
        {
            return;
        }

        foreach (var item in Unique(map, "immediate"))
        {
            if (CheckName(item.Key.Value, item.Key, "immediate name", IdentifierPattern()) is not { } name)
            {
                continue;
            }

            var immediate = new ImmediateDraft(name, item.Key.Location);
            capability.Immediates.Add(immediate);
            var label = $"immediate '{name}' of {capability.Label}";
            if (Mapping(item.Value, label, "a mapping such as {type: i32, min: 0, max: 31}") is not { } immediateMap)
            {
                continue;
            }

            var fields = new YamlFields(this, immediateMap, label, item.Key.Location, ImmediateKeys);
            if (fields.Require("type", "one of " + Alternatives(ElementTypes.Names)) is { } type)
            {
                immediate.Type = Type(type.Value, $"the type of {label}");
            }

            immediate.Min = fields.Get("min") is { } min ? Integer(min.Value, $"the minimum of {label}") : null;
            immediate.Max = fields.Get("max") is { } max ? Integer(max.Value, $"the maximum of {label}") : null;
            if (immediate is { Min: { } lo, Max: { } hi } && lo > hi)
            {
                Report(AcgDiagnostics.Inconsistent, fields.Get("min")!.Value.Location, $"{label} has min {lo} above max {hi}");
            }
        }
    }

    // ---- Edges ----

    private EdgeDraft? ReadEdge(YamlNode node, int index, double? clockHz, bool clockGiven)
    {
        if (Mapping(node, $"edge {index}", "a mapping with 'from', 'to', 'bandwidth' and 'transfer'") is not { } map)
        {
            return null;
        }

        var edge = new EdgeDraft(index, node.Location);
        var fields = new YamlFields(this, map, $"edge {index}", node.Location, EdgeKeys);
        if (fields.Require("from", "the node data leaves") is { } from)
        {
            edge.FromLocation = from.Value.Location;
            edge.From = Text(from.Value, $"'from' of edge {index}");
        }

        if (fields.Require("to", "the node data arrives at") is { } to)
        {
            edge.ToLocation = to.Value.Location;
            edge.To = Text(to.Value, $"'to' of edge {index}");
        }

        edge.Description = fields.Get("description") is { } description ? Text(description.Value, "'description'") ?? "" : "";
        if (fields.Require("bandwidth", "bytes per cycle, e.g. '8 B/cycle'") is { } bandwidth)
        {
            edge.BandwidthBytesPerCycle = Bandwidth(bandwidth.Value, $"the bandwidth of {edge.Label}", clockHz, clockGiven);
        }

        if (fields.Get("latency") is { } latency)
        {
            edge.LatencyCycles = Cycles(latency.Value, $"the latency of {edge.Label}", allowZero: true) ?? 0;
        }

        if (fields.Get("transfer") is { } transfer)
        {
            edge.TransferGiven = true;
            if (Text(transfer.Value, $"the transfer of {edge.Label}") is { } name)
            {
                edge.Transfer = CheckName(name, transfer.Value, "transfer name", TransferPattern());
            }
        }

        return edge;
    }
}
