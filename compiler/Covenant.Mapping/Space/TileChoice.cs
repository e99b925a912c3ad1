using System.Collections.Immutable;

namespace Covenant.Mapping.Space;

/// <summary>
/// One point of the mapping space of a problem: intrinsic blocks per tile for every loop of the main nest,
/// the order of the tile loops (loop indices, outermost first; reduction loops last), and the storage
/// nodes whose capacity is split into two halves so the next tile loads while this one computes.
/// </summary>
public sealed record TileChoice(ImmutableArray<int> Blocks, ImmutableArray<int> Order, ImmutableHashSet<string> DoubleBuffered)
{
    public string Key => $"{string.Join(",", Blocks)}|{string.Join(",", Order)}|{string.Join(",", DoubleBuffered.Order(StringComparer.Ordinal))}";
}
