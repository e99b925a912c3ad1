using System.Text.Json.Nodes;

namespace Covenant.Mapping.Model;

/// <summary>The mapping as a JSON document for people and tools (<c>mapping.json</c> in an artifact).</summary>
public static class MappingReport
{
    public static JsonObject ToJson(LayerMapping mapping, double? predictedCycles = null)
    {
        var cost = mapping.Cost;
        return new JsonObject
        {
            ["codelet"] = mapping.Instance.Name,
            ["architecture"] = mapping.Graph.Name,
            ["computeNode"] = mapping.ComputeNode,
            ["capability"] = mapping.Capability,
            ["accumulator"] = mapping.Accumulator,
            ["output"] = mapping.Output,
            ["operands"] = new JsonArray([.. mapping.Operands.Select(o => (JsonNode)new JsonObject
            {
                ["tensor"] = o.Tensor,
                ["operand"] = o.Operand,
                ["storage"] = o.Storage,
                ["offset"] = o.Offset,
            })]),
            ["embedding"] = new JsonObject([.. mapping.Embedding.Select(e =>
                KeyValuePair.Create<string, JsonNode?>(e.Axis, e.Loop is null ? null : JsonValue.Create(e.Loop)))]),
            ["loops"] = new JsonArray([.. mapping.Loops.Select(l => (JsonNode)new JsonObject
            {
                ["loop"] = l.Loop,
                ["role"] = l.Role.ToString().ToLowerInvariant(),
                ["extent"] = l.Extent,
                ["paddedExtent"] = l.PaddedExtent,
                ["axis"] = l.Axis,
                ["intrinsic"] = l.Intrinsic,
                ["tile"] = l.Tile,
                ["tiles"] = l.TileCount,
            })]),
            ["levels"] = new JsonArray([.. mapping.Levels.Select(level => (JsonNode)new JsonObject
            {
                ["storage"] = level.Storage,
                ["tiles"] = new JsonObject([.. mapping.Loops.Select((l, i) => KeyValuePair.Create<string, JsonNode?>(l.Loop, level.Tiles[i]))]),
                ["footprintBytes"] = level.FootprintBytes,
                ["fillBytes"] = level.TrafficBytes,
                ["fillCycles"] = Math.Round(level.TransferCycles),
            })]),
            ["tileOrder"] = new JsonArray([.. mapping.TileOrder.Select(t => (JsonNode)JsonValue.Create(t))]),
            ["doubleBuffered"] = new JsonArray([.. mapping.DoubleBuffered.Select(t => (JsonNode)JsonValue.Create(t))]),
            ["epilogue"] = new JsonArray([.. mapping.Epilogue.Select(s => (JsonNode)new JsonObject
            {
                ["op"] = s.Op.ToString().ToLowerInvariant(),
                ["immediate"] = s.Immediate,
                ["tensor"] = s.Tensor,
                ["capability"] = $"{s.ComputeNode}.{s.Capability}",
            })]),
            ["cost"] = new JsonObject
            {
                ["modelCycles"] = Math.Round(cost.Cycles),
                ["computeCycles"] = Math.Round(cost.ComputeCycles),
                ["utilization"] = Math.Round(cost.Utilization, 4),
                ["predictedCycles"] = predictedCycles is { } p ? Math.Round(p) : null,
                ["trafficBytes"] = new JsonObject([.. Sorted(cost.TrafficBytes).Select(t => KeyValuePair.Create<string, JsonNode?>(t.Key, t.Value))]),
                ["tileFootprintBytes"] = new JsonObject([.. Sorted(cost.FootprintBytes).Select(t => KeyValuePair.Create<string, JsonNode?>(t.Key, t.Value))]),
            },
        };
    }

    // An ImmutableDictionary enumerates in hash order, and string hashes differ from process to process: without a
    // fixed order the same mapping would be written differently on every run.
    private static IEnumerable<KeyValuePair<string, T>> Sorted<T>(IEnumerable<KeyValuePair<string, T>> entries) =>
        entries.OrderBy(e => e.Key, StringComparer.Ordinal);
}
