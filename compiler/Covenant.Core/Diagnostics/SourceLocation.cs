namespace Covenant.Core.Diagnostics;

/// <summary>
/// A place in a source file: 1-based line and column, as editors count them.
/// <see cref="File"/> is the path as the user gave it, so messages point where they looked.
/// </summary>
public sealed record SourceLocation(string File, int Line, int Column)
{
    /// <summary>A location that names a file but no position in it (a missing file, an empty file).</summary>
    public static SourceLocation OfFile(string file) => new(file, 0, 0);

    public bool HasPosition => Line > 0;

    /// <summary>The location <paramref name="columns"/> further along the same line.</summary>
    public SourceLocation Shift(int columns) => this with { Column = Column + columns };

    public override string ToString() => HasPosition ? $"{File}({Line},{Column})" : File;
}
