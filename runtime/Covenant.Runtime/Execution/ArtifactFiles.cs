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

    public static ArtifactFiles InMemory(string label, IReadOnlyDictionary<string, byte[]> files) =>
        new MemoryFiles(label, files.ToImmutableDictionary(StringComparer.Ordinal));

    private sealed class DirectoryFiles(string directory) : ArtifactFiles
    {
        public override string Location => directory;

        public override string? Directory => directory;

        public override bool Exists(string name) => File.Exists(Path.Combine(directory, name));

        public override byte[] ReadBytes(string name) => File.ReadAllBytes(Path.Combine(directory, name));
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
