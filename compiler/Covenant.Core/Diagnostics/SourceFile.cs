namespace Covenant.Core.Diagnostics;

/// <summary>
/// A source text with the path it was read from. Files are read once and passed on as text so every
/// later stage can point into them.
/// </summary>
public sealed record SourceFile(string Path, string Text)
{
    /// <summary>Reads a file, turning missing or unreadable files into diagnostics rather than exceptions.</summary>
    public static Result<SourceFile> Read(string path)
    {
        try
        {
            if (!System.IO.File.Exists(path))
            {
                return Result<SourceFile>.Failure(CoreDiagnostics.FileNotFound.Create(
                    SourceLocation.OfFile(path),
                    Directory.Exists(path) ? "is a directory, not a file" : "no such file"));
            }

            return Result<SourceFile>.Success(new SourceFile(path, System.IO.File.ReadAllText(path)));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return Result<SourceFile>.Failure(
                CoreDiagnostics.FileUnreadable.Create(SourceLocation.OfFile(path), e.Message));
        }
    }

    public SourceLocation At(int line, int column) => new(Path, line, column);

    /// <summary>The 1-based line and column of a 0-based character offset.</summary>
    public SourceLocation AtOffset(int offset)
    {
        offset = Math.Clamp(offset, 0, Text.Length);
        var line = 1;
        var lineStart = 0;
        for (var i = 0; i < offset; i++)
        {
            if (Text[i] == '\n')
            {
                line++;
                lineStart = i + 1;
            }
        }

        return new SourceLocation(Path, line, offset - lineStart + 1);
    }
}
