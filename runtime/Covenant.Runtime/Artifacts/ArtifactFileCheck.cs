using System.Collections.Immutable;
using System.Text.Json;
using System.Text.RegularExpressions;
using Covenant.Core.Diagnostics;
using Covenant.Runtime.Execution;

namespace Covenant.Runtime.Artifacts;

/// <summary>
/// What is wrong with one JSON file of an artifact, found by the target's check of that file's model after it is read
/// and before anything is sized or allocated from it. Every problem names the file and the JSON path of the value, says
/// what is wrong with it and to recompile: an artifact is the compiler's output, so a value that is not what the
/// compiler writes means the file was edited (or damaged) since.
/// </summary>
public sealed partial class ArtifactFileCheck
{
    /// <summary>A value the compiler never writes: missing, of the wrong kind, out of range, inconsistent within the file.</summary>
    public static readonly DiagnosticDescriptor NotWhatTheCompilerWrote = new("COV6040", "an artifact file is not what the compiler wrote");

    /// <summary>A file that disagrees with the artifact's codelet, bindings or architecture (e.g. a layout for another shape).</summary>
    public static readonly DiagnosticDescriptor DisagreesWithTheArtifact = new("COV6041", "an artifact file disagrees with the artifact's codelet or architecture");

    private readonly ImmutableArray<Diagnostic>.Builder problems = ImmutableArray.CreateBuilder<Diagnostic>();

    /// <param name="files">The artifact (its directory locates the file; an in-memory artifact's label does otherwise).</param>
    /// <param name="file">The file's name in the artifact, e.g. <c>memory-map.json</c>.</param>
    public ArtifactFileCheck(ArtifactFiles files, string file)
    {
        ArgumentNullException.ThrowIfNull(files);
        File = file;
        Location = SourceLocation.OfFile(files.Directory is { } directory ? Path.Combine(directory, file) : $"{files.Location}/{file}");
    }

    public string File { get; }

    public SourceLocation Location { get; }

    public ImmutableArray<Diagnostic> Problems => problems.ToImmutable();

    public bool Failed => problems.Count > 0;

    /// <summary>Reports that the value at <paramref name="path"/> is not what the compiler wrote: <paramref name="what"/> says how.</summary>
    public void Wrong(string path, string what) =>
        problems.Add(NotWhatTheCompilerWrote.Create(Location, $"{File} at {path}: {what}; recompile the artifact"));

    /// <summary>Reports that the value at <paramref name="path"/> disagrees with the rest of the artifact.</summary>
    public void Disagrees(string path, string what) =>
        problems.Add(DisagreesWithTheArtifact.Create(Location, $"{File} at {path}: {what}; recompile the artifact"));

    /// <summary><paramref name="holds"/>, reporting <paramref name="what"/> at <paramref name="path"/> when it does not.</summary>
    public bool Require(bool holds, string path, string what)
    {
        if (!holds)
        {
            Wrong(path, what);
        }

        return holds;
    }

    /// <summary>Reads the file as <typeparamref name="T"/>; null (after reporting where it stopped making sense) when it is not one.</summary>
    public T? Read<T>(byte[] json, JsonSerializerOptions options)
        where T : class
    {
        try
        {
            var value = JsonSerializer.Deserialize<T>(json, options);
            Require(value is not null, "$", "the file holds null");
            return value;
        }
        catch (JsonException e)
        {
            problems.Add(RunDiagnostics.BrokenArtifact.Create(
                Location.File is var path && System.IO.File.Exists(path) ? RunDiagnostics.JsonLocation(e, path) : Location,
                $"{File} is not what the compiler wrote{RunDiagnostics.JsonPath(e)}; recompile the artifact"));
            return null;
        }
        catch (NotSupportedException e)
        {
            // System.Text.Json says this (e.g. of a polymorphic value without its type name) only in its message's tail.
            var at = ReaderPath().Match(e.Message) is { Success: true } m ? $" (at {m.Groups[1].Value})" : "";
            problems.Add(RunDiagnostics.BrokenArtifact.Create(Location, $"{File} is not what the compiler wrote{at}; recompile the artifact"));
            return null;
        }
    }

    [GeneratedRegex(@"Path: (\$\S*) \|")]
    private static partial Regex ReaderPath();
}
