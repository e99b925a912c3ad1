using System.Globalization;

namespace Covenant.Core.Diagnostics;

/// <summary>
/// Declares a block of diagnostic ids (<c>COV{First}</c> to <c>COV{Last}</c>) that an assembly hands out. Each project
/// states its blocks once, in its <c>DiagnosticRanges.cs</c>; a test checks that every descriptor lies in a block of
/// its own assembly, that no two assemblies' blocks overlap (except one block declared identically by both, for a
/// format two assemblies share) and that the README's id table lists exactly these blocks.
/// </summary>
[AttributeUsage(AttributeTargets.Assembly, AllowMultiple = true)]
public sealed class DiagnosticRangeAttribute(int first, int last, string description) : Attribute
{
    public int First { get; } = first;

    public int Last { get; } = last;

    /// <summary>What the ids of the block are about, as the README's table says it.</summary>
    public string Description { get; } = description;

    public bool Contains(string id) =>
        id.StartsWith("COV", StringComparison.Ordinal) &&
        int.TryParse(id.AsSpan(3), NumberStyles.None, CultureInfo.InvariantCulture, out var number) &&
        number >= First && number <= Last;

    public override string ToString() => $"COV{First:D4}-COV{Last:D4} ({Description})";
}
