namespace Covenant.Mapping.Space;

/// <summary>
/// Solver checks that ended unknown (timed out), counted across the tile spaces of one mapping. Once
/// <see cref="Limit"/> have, the spaces stop asking (<see cref="TileSpace.GivenUp"/>) and the mapper keeps what it has
/// drawn: a layer whose spaces time out on every query (a 9-loop convolution forced into a 512-byte scratchpad) then
/// costs a few timeouts, not one per draw and refinement step (a minute and more). Spaces that never time out, every
/// shipped architecture's, are unaffected.
/// </summary>
public sealed class SolverTimeouts
{
    /// <summary>Timed-out checks after which every space sharing this count gives up.</summary>
    public const int Limit = 3;

    public int Count { get; private set; }

    public bool Exhausted => Count >= Limit;

    public void Add() => Count++;
}
