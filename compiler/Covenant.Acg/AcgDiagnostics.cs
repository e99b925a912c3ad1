using Covenant.Core.Diagnostics;

namespace Covenant.Acg;

/// <summary>
/// Every diagnostic the architecture-graph stage reports (COV1xxx). Ids are stable: tests and users match
/// on them, so never renumber; retire an id instead. COV10xx are about the YAML and its schema, COV11xx
/// about the graph the file describes, COV12xx about capability semantics, COV13xx about export.
/// </summary>
public static class AcgDiagnostics
{
    // ---- YAML and schema (COV10xx) ----

    /// <summary>The text is not YAML (the YAML reader's own complaint, at its position).</summary>
    public static readonly DiagnosticDescriptor YamlSyntax = new("COV1001", "YAML syntax error");

    public static readonly DiagnosticDescriptor MissingKey = new("COV1002", "missing key");

    /// <summary>A key the schema does not know; the message suggests the closest known key.</summary>
    public static readonly DiagnosticDescriptor UnknownKey = new("COV1003", "unknown key");

    /// <summary>A value of the wrong shape: a list where a mapping belongs, a word where a number belongs...</summary>
    public static readonly DiagnosticDescriptor WrongValueType = new("COV1004", "wrong value type");

    /// <summary>A key written twice in one mapping; in <c>nodes:</c> this is a node defined twice.</summary>
    public static readonly DiagnosticDescriptor DuplicateKey = new("COV1005", "duplicate key");

    /// <summary>A capacity, bandwidth, clock or latency that is not a number followed by a unit.</summary>
    public static readonly DiagnosticDescriptor NotAQuantity = new("COV1006", "not a quantity");

    /// <summary>A unit that is misspelt, ambiguous (<c>KB</c>) or of the wrong dimension.</summary>
    public static readonly DiagnosticDescriptor UnknownUnit = new("COV1007", "unknown unit");

    /// <summary>Zero or negative where only positive values make sense (capacity, bandwidth, count, extent).</summary>
    public static readonly DiagnosticDescriptor NotPositive = new("COV1008", "value not positive");

    /// <summary>A number beyond what the model can hold (or any hardware could have).</summary>
    public static readonly DiagnosticDescriptor ValueTooLarge = new("COV1009", "value too large");

    /// <summary>A <c>target:</c> that names no target pass.</summary>
    public static readonly DiagnosticDescriptor UnknownTarget = new("COV1010", "unknown target");

    /// <summary>A node, capability, operand, axis or transfer name that is not an identifier.</summary>
    public static readonly DiagnosticDescriptor InvalidName = new("COV1011", "invalid name");

    /// <summary>A word outside a fixed set: a node kind, an element type, a boolean, what a storage holds.</summary>
    public static readonly DiagnosticDescriptor UnknownChoice = new("COV1012", "unknown value");

    /// <summary>A document too large or too deep, or one that aliases expand beyond reason (a YAML bomb).</summary>
    public static readonly DiagnosticDescriptor DocumentTooComplex = new("COV1013", "document too complex");

    /// <summary>An empty file, or a file holding more than one YAML document.</summary>
    public static readonly DiagnosticDescriptor NotOneDocument = new("COV1014", "not exactly one document");

    /// <summary>An alias (<c>*name</c>) with no anchor (<c>&amp;name</c>) before it.</summary>
    public static readonly DiagnosticDescriptor UnknownAlias = new("COV1015", "unknown alias");

    /// <summary>A list or mapping that must not be empty (a compute node without capabilities).</summary>
    public static readonly DiagnosticDescriptor EmptyCollection = new("COV1016", "empty collection");

    /// <summary>A bandwidth in bytes per second in a file that states no <c>clock</c> to convert it with.</summary>
    public static readonly DiagnosticDescriptor NeedsClock = new("COV1017", "clock needed");

    /// <summary>Values that contradict each other: an immediate's min above its max, a capacity that is not a whole number of elements.</summary>
    public static readonly DiagnosticDescriptor Inconsistent = new("COV1018", "inconsistent values");

    /// <summary>An operand's <c>accepts:</c> names a type it cannot take exactly.</summary>
    public static readonly DiagnosticDescriptor UnsupportedConversion = new("COV1019", "unsupported operand conversion");

    // ---- The graph (COV11xx) ----

    /// <summary>An edge end or operand storage naming no node; the message suggests the closest name.</summary>
    public static readonly DiagnosticDescriptor UnknownNode = new("COV1101", "unknown node");

    /// <summary>An edge that cannot move data: between two compute nodes, or from a node to itself.</summary>
    public static readonly DiagnosticDescriptor InvalidEdge = new("COV1102", "invalid edge");

    /// <summary>The same edge (ends and transfer) written twice.</summary>
    public static readonly DiagnosticDescriptor DuplicateEdge = new("COV1103", "duplicate edge");

    /// <summary>No storage node has <c>offchip: true</c>, so data has nowhere to come from.</summary>
    public static readonly DiagnosticDescriptor NoOffchipStorage = new("COV1104", "no off-chip storage");

    /// <summary>An operand whose storage is not connected to its compute node (or to off-chip storage) in the direction of use.</summary>
    public static readonly DiagnosticDescriptor OperandNotConnected = new("COV1105", "operand storage not connected");

    /// <summary>An operand type that differs from the element type its storage fixes.</summary>
    public static readonly DiagnosticDescriptor OperandTypeMismatch = new("COV1106", "operand type mismatch");

    /// <summary>An operand placed in a compute node, or in storage that holds micro-code rather than data.</summary>
    public static readonly DiagnosticDescriptor NotDataStorage = new("COV1107", "not a data storage");

    /// <summary>A storage node that no edge touches (a warning: it cannot be used, but the graph is still sound).</summary>
    public static readonly DiagnosticDescriptor UnconnectedNode = new("COV1108", "node not connected", Severity.Warning);

    // ---- Capability semantics (COV12xx) ----

    /// <summary>Semantics that do not parse as a codelet statement; wraps the codelet parser's message and position.</summary>
    public static readonly DiagnosticDescriptor SemanticsSyntax = new("COV1201", "semantics do not parse");

    /// <summary>Semantics that name a tensor that is not one of the capability's operands.</summary>
    public static readonly DiagnosticDescriptor UnknownOperand = new("COV1202", "unknown operand");

    /// <summary>An index name that is not an axis of <c>shape</c>, or a scalar name that is not an immediate.</summary>
    public static readonly DiagnosticDescriptor UnknownAxis = new("COV1203", "unknown axis or immediate");

    /// <summary>A shape axis, operand or immediate that the semantics never use.</summary>
    public static readonly DiagnosticDescriptor Unused = new("COV1204", "declared but unused");

    /// <summary>One operand indexed with different numbers of indices, or indexed by another tensor.</summary>
    public static readonly DiagnosticDescriptor BadIndexing = new("COV1205", "inconsistent indexing");

    // ---- Export (COV13xx) ----

    /// <summary>SVG export needs Graphviz's <c>dot</c>, which is not installed (or failed).</summary>
    public static readonly DiagnosticDescriptor GraphvizUnavailable = new("COV1301", "Graphviz not available");
}
