namespace Covenant.Testing;

/// <summary>
/// Input-file tests: each input file has its expected output beside it (<c>name.ext</c> →
/// <c>name.expected</c>). Set <c>COVENANT_UPDATE_GOLDEN=1</c> to rewrite the expected files from the
/// current output instead of comparing; review the diff before committing it.
/// </summary>
public static class GoldenFile
{
    public const string Extension = ".expected";

    public static bool Updating => Environment.GetEnvironmentVariable("COVENANT_UPDATE_GOLDEN") == "1";

    public static string ExpectedPathFor(string inputPath) => Path.ChangeExtension(inputPath, Extension);

    /// <summary>Input files under <paramref name="directory"/> matching <paramref name="pattern"/>, sorted, for TestCaseSource.</summary>
    public static IEnumerable<string> Inputs(string directory, string pattern) =>
        Directory.Exists(directory)
            ? Directory.EnumerateFiles(directory, pattern, SearchOption.AllDirectories).Order(StringComparer.Ordinal)
            : [];

    /// <summary>
    /// Compares <paramref name="actual"/> with the expected file of <paramref name="inputPath"/>.
    /// Returns null when they agree (or when updating), otherwise a message describing the first difference.
    /// </summary>
    public static string? Compare(string inputPath, string actual)
    {
        var expectedPath = ExpectedPathFor(inputPath);
        actual = Normalize(actual);
        if (Updating)
        {
            File.WriteAllText(expectedPath, actual);
            return null;
        }

        if (!File.Exists(expectedPath))
        {
            return $"no expected file {expectedPath}; run with COVENANT_UPDATE_GOLDEN=1 to create it. Actual output:\n{actual}";
        }

        var expected = Normalize(File.ReadAllText(expectedPath));
        if (expected == actual)
        {
            return null;
        }

        var expectedLines = expected.Split('\n');
        var actualLines = actual.Split('\n');
        for (var i = 0; i < Math.Max(expectedLines.Length, actualLines.Length); i++)
        {
            var e = i < expectedLines.Length ? expectedLines[i] : "<end of file>";
            var a = i < actualLines.Length ? actualLines[i] : "<end of file>";
            if (e != a)
            {
                return $"{expectedPath}:{i + 1}: expected\n  {e}\nbut got\n  {a}\nwhole output:\n{actual}";
            }
        }

        return null;
    }

    /// <summary>Expected files that have no input file beside them (stale goldens).</summary>
    public static IEnumerable<string> Orphans(string directory, string inputPattern)
    {
        var inputs = Inputs(directory, inputPattern).Select(ExpectedPathFor).ToHashSet(StringComparer.Ordinal);
        return Inputs(directory, "*" + Extension).Where(e => !inputs.Contains(e));
    }

    /// <summary>Line endings and absolute repository paths are normalized so goldens are portable.</summary>
    public static string Normalize(string text) =>
        text.Replace("\r\n", "\n", StringComparison.Ordinal)
            .Replace(Repo.Root.TrimEnd('/') + "/", "", StringComparison.Ordinal)
            .TrimEnd('\n') + "\n";
}
