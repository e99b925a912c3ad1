using System.Collections.Immutable;
using System.Text;

namespace Covenant.Runtime.Execution;

/// <summary>
/// The files of an artifact, read by name: from its directory (<c>covenantc run</c>) or from memory (the tuner, which
/// lowers and executes a candidate without writing it). Executors read through this, never through paths, so both work.
/// </summary>
public abstract class ArtifactFiles
{
    /// <summary>Where the files are, for diagnostics: the directory, or a label for an in-memory artifact.</summary>
    public abstract string Location { get; }

    /// <summary>The directory the files are in; null for an in-memory artifact.</summary>
    public abstract string? Directory { get; }

    public abstract bool Exists(string name);

    /// <summary>The file's bytes; throws <see cref="FileNotFoundException"/> (an <see cref="IOException"/>) when there is none.</summary>
    public abstract byte[] ReadBytes(string name);

    public string ReadText(string name) => new UTF8Encoding(false).GetString(ReadBytes(name)).TrimStart('\uFEFF');

    public static ArtifactFiles InDirectory(string directory) => new DirectoryFiles(directory);

    /// <summary>
    /// Why <paramref name="name"/>, as an artifact names its files, would read something outside
    /// <paramref name="directory"/>; null when it stays inside. An artifact's files are plain names in its own folder: no
    /// absolute path, no separator (so no <c>..</c>), and a symbolic link only to a file in the same folder. Without
    /// this, a manifest could point <c>run</c> at any file of the machine (and print its first line in a parse error).
    /// </summary>
    public static string? Escape(string directory, string name)
    {
        ArgumentNullException.ThrowIfNull(directory);
        if (string.IsNullOrEmpty(name) || Path.IsPathRooted(name) || name.IndexOfAny(['/', '\\']) >= 0 || name is "." or "..")
        {
            return $"'{name}' is not a file name inside the artifact (an artifact names its own files; paths are refused)";
        }

        var root = Real(Path.GetFullPath(directory));
        var file = new FileInfo(Path.Combine(root, name));
        if (file.LinkTarget is null)
        {
            return null; // a plain file, or none (whoever reads it reports that)
        }

        string target;
        try
        {
            target = file.ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? file.FullName;
        }
        catch (IOException e)
        {
            return $"'{name}' is a link that does not resolve ({e.Message})";
        }

        return Real(Path.GetDirectoryName(target) ?? "") == root ? null : $"'{name}' is a link to {target}, outside the artifact folder";
    }

    private static string Real(string directory) =>
        System.IO.Directory.Exists(directory) && System.IO.Directory.ResolveLinkTarget(directory, returnFinalTarget: true) is { } target
            ? Path.TrimEndingDirectorySeparator(target.FullName)
            : Path.TrimEndingDirectorySeparator(directory);

    public static ArtifactFiles InMemory(string label, IReadOnlyDictionary<string, byte[]> files) =>
        new MemoryFiles(label, files.ToImmutableDictionary(StringComparer.Ordinal));

    private sealed class DirectoryFiles(string directory) : ArtifactFiles
    {
        public override string Location => directory;

        public override string? Directory => directory;

        public override bool Exists(string name) => File.Exists(Inside(name));

        public override byte[] ReadBytes(string name) => File.ReadAllBytes(Inside(name));

        private string Inside(string name) =>
            Escape(directory, name) is { } reason ? throw new ArtifactEscapeException(reason) : Path.Combine(directory, name);
    }

    private sealed class MemoryFiles(string label, ImmutableDictionary<string, byte[]> files) : ArtifactFiles
    {
        public override string Location => label;

        public override string? Directory => null;

        public override bool Exists(string name) => files.ContainsKey(name);

        public override byte[] ReadBytes(string name) =>
            files.TryGetValue(name, out var bytes) ? bytes : throw new FileNotFoundException($"the in-memory artifact {label} has no file '{name}'", name);
    }
}

/// <summary>A file name of an artifact that would read outside its folder (see <see cref="ArtifactFiles.Escape"/>).</summary>
public sealed class ArtifactEscapeException(string message) : IOException(message);
