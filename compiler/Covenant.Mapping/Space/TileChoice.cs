using System.Collections.Immutable;
using System.Globalization;

namespace Covenant.Mapping.Space;

/// <summary>
/// One point of the mapping space of a problem: intrinsic blocks per tile for every loop of the main nest,
/// the order of the tile loops (loop indices, outermost first; reduction loops last), and the storage
/// nodes whose capacity is split into two halves so the next tile loads while this one computes.
/// <see cref="LevelPins"/> fix tiles of the storage levels above the operand storage (caches, shared memory), which
/// <see cref="LevelTiler"/> otherwise chooses itself; they are not solver variables.
/// </summary>
public sealed record TileChoice(ImmutableArray<int> Blocks, ImmutableArray<int> Order, ImmutableHashSet<string> DoubleBuffered)
{
    /// <summary>Fixed multiples of the inner tile at outer storage levels, in (storage, loop) order; empty: all chosen by the level tiler.</summary>
    public ImmutableArray<LevelPin> LevelPins { get; init; } = [];

    public string Key => $"{string.Join(",", Blocks)}|{string.Join(",", Order)}|{string.Join(",", DoubleBuffered.Order(StringComparer.Ordinal))}"
        + (LevelPins.IsDefaultOrEmpty ? "" : "|" + string.Join(",", LevelPins.Select(p => p.ToString())));

    /// <summary>This choice with <paramref name="pins"/> as its level pins, put in their canonical order (itself when neither has any).</summary>
    public TileChoice WithLevelPins(IReadOnlyCollection<LevelPin> pins)
    {
        ArgumentNullException.ThrowIfNull(pins);
        return pins.Count == 0 && LevelPins.IsDefaultOrEmpty ? this : this with
        {
            LevelPins = [.. pins.OrderBy(p => p.Storage, StringComparer.Ordinal).ThenBy(p => p.Loop, StringComparer.Ordinal)],
        };
    }
}

/// <summary>At storage level <paramref name="Storage"/>, loop <paramref name="Loop"/>'s tile is <paramref name="Multiple"/> times the tile of the level inside it (capped at the loop's extent).</summary>
public sealed record LevelPin(string Storage, string Loop, int Multiple)
{
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Storage}.{Loop}x{Multiple}");
}
