using System.Collections.Immutable;
using System.Globalization;
using System.Text.RegularExpressions;
using Covenant.Core.Diagnostics;

namespace Covenant.Mapping.Search;

/// <summary>
/// One extra constraint on a problem's tile space (<see cref="Space.TileSpace"/>): the genes of the genetic search.
/// Each restricts one solver variable, named by <see cref="Variable"/> so that crossover can pick, per variable,
/// one parent's constraint. The text form (<see cref="ToString"/>, <see cref="Parse"/>) is what tuning records store.
/// </summary>
public abstract partial record SearchConstraint
{
    /// <summary>The solver variable (or pair of variables) this constraint restricts.</summary>
    public abstract string Variable { get; }

    /// <summary>Reads the text form, e.g. <c>blocks(p)=4</c>, <c>blocks(k) in [2,8]</c>, <c>position(q)=0</c>,
    /// <c>order(p&lt;q)</c>, <c>double_buffer(inp_buf)=on</c>, <c>level(L2,k)=4</c>; null when the text is none of these.</summary>
    public static SearchConstraint? Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var c = CultureInfo.InvariantCulture;
        if (BlocksFixed().Match(text) is { Success: true } fixedMatch)
        {
            var value = int.Parse(fixedMatch.Groups[2].Value, c);
            return new TileBlocks(fixedMatch.Groups[1].Value, value, value);
        }

        if (BlocksRange().Match(text) is { Success: true } range)
        {
            return new TileBlocks(range.Groups[1].Value, int.Parse(range.Groups[2].Value, c), int.Parse(range.Groups[3].Value, c));
        }

        if (PositionFixed().Match(text) is { Success: true } position)
        {
            return new LoopPosition(position.Groups[1].Value, int.Parse(position.Groups[2].Value, c));
        }

        if (Order().Match(text) is { Success: true } order)
        {
            return new LoopBefore(order.Groups[1].Value, order.Groups[2].Value);
        }

        if (Buffer().Match(text) is { Success: true } buffer)
        {
            return new DoubleBuffer(buffer.Groups[1].Value, buffer.Groups[2].Value == "on");
        }

        if (Level().Match(text) is { Success: true } level)
        {
            var multiple = int.Parse(level.Groups[3].Value, c);
            return multiple >= 1 ? new LevelTile(level.Groups[1].Value, level.Groups[2].Value, multiple) : null;
        }

        return null;
    }

    /// <summary>Parses every text, or reports the first that is not a constraint.</summary>
    public static Result<IReadOnlyList<SearchConstraint>> ParseAll(IEnumerable<string> texts, SourceLocation? location)
    {
        ArgumentNullException.ThrowIfNull(texts);
        var parsed = ImmutableArray.CreateBuilder<SearchConstraint>();
        foreach (var text in texts)
        {
            if (Parse(text) is not { } constraint)
            {
                return Result<IReadOnlyList<SearchConstraint>>.Failure(SearchDiagnostics.BadRecord.Create(location, $"'{text}' is not a search constraint"));
            }

            parsed.Add(constraint);
        }

        return Result<IReadOnlyList<SearchConstraint>>.Success(parsed.ToImmutable());
    }

    [GeneratedRegex(@"^blocks\((\w+)\)=(\d+)$")]
    private static partial Regex BlocksFixed();

    [GeneratedRegex(@"^blocks\((\w+)\) in \[(\d+),(\d+)\]$")]
    private static partial Regex BlocksRange();

    [GeneratedRegex(@"^position\((\w+)\)=(\d+)$")]
    private static partial Regex PositionFixed();

    [GeneratedRegex(@"^order\((\w+)<(\w+)\)$")]
    private static partial Regex Order();

    [GeneratedRegex(@"^double_buffer\(([\w.-]+)\)=(on|off)$")]
    private static partial Regex Buffer();

    [GeneratedRegex(@"^level\(([\w.-]+),(\w+)\)=(\d+)$")]
    private static partial Regex Level();
}

/// <summary>Intrinsic blocks per tile of <paramref name="Loop"/> lie in [<paramref name="Min"/>, <paramref name="Max"/>] (fixed when equal).</summary>
public sealed record TileBlocks(string Loop, int Min, int Max) : SearchConstraint
{
    public override string Variable => $"blocks({Loop})";

    public bool IsFixed => Min == Max;

    public override string ToString() => IsFixed
        ? string.Create(CultureInfo.InvariantCulture, $"blocks({Loop})={Min}")
        : string.Create(CultureInfo.InvariantCulture, $"blocks({Loop}) in [{Min},{Max}]");
}

/// <summary>Tile loop <paramref name="Loop"/> is at <paramref name="Position"/> among the non-reduction tile loops (0 = outermost).</summary>
public sealed record LoopPosition(string Loop, int Position) : SearchConstraint
{
    public override string Variable => $"position({Loop})";

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"position({Loop})={Position}");
}

/// <summary>Tile loop <paramref name="Outer"/> runs outside <paramref name="Inner"/>.</summary>
public sealed record LoopBefore(string Outer, string Inner) : SearchConstraint
{
    // One variable per unordered pair, so a child never inherits both p<q and q<p.
    public override string Variable => string.CompareOrdinal(Outer, Inner) < 0 ? $"order({Outer},{Inner})" : $"order({Inner},{Outer})";

    public override string ToString() => $"order({Outer}<{Inner})";
}

/// <summary>Storage <paramref name="Storage"/> is (or is not) split in two halves for double buffering.</summary>
public sealed record DoubleBuffer(string Storage, bool Enabled) : SearchConstraint
{
    public override string Variable => $"double_buffer({Storage})";

    public override string ToString() => $"double_buffer({Storage})={(Enabled ? "on" : "off")}";
}

/// <summary>
/// At storage level <paramref name="Storage"/> (a cache or shared memory above the operand storage), the tile of loop
/// <paramref name="Loop"/> is <paramref name="Multiple"/> times the tile of the level inside it. Not a solver variable:
/// the level tiler (<see cref="Space.LevelTiler"/>) honours it where the tile fits, and chooses the other loops itself.
/// </summary>
public sealed record LevelTile(string Storage, string Loop, int Multiple) : SearchConstraint
{
    public override string Variable => $"level({Storage},{Loop})";

    public Space.LevelPin Pin => new(Storage, Loop, Multiple);

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"level({Storage},{Loop})={Multiple}");
}

/// <summary>Diagnostics of tuning (COV4xxx, mapping stage): records that do not load or no longer apply.</summary>
public static class SearchDiagnostics
{
    public static readonly DiagnosticDescriptor PinnedDoesNotApply = new("COV4101", "the tuned mapping no longer applies", Severity.Warning);
    public static readonly DiagnosticDescriptor BadRecord = new("COV4102", "malformed tuning record");
}
