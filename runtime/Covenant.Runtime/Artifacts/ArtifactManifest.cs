using System.Collections.Immutable;
using System.Text.Json;
using System.Text.Json.Serialization;
using Covenant.Core.Diagnostics;
using Covenant.Runtime.Execution;

namespace Covenant.Runtime.Artifacts;

/// <summary>
/// <c>artifact.json</c>, the index of an artifact directory. An artifact is self-contained: it keeps copies of
/// the codelet source and the architecture file it was compiled from (so <c>covenantc run</c> can rebuild the
/// reference instance without the original files), the shape bindings, the target's files, and the reports.
/// </summary>
public sealed record ArtifactManifest(
    int FormatVersion,
    string Codelet,
    string CodeletFile,
    string ArchitectureFile,
    string Architecture,
    string Target,
    ImmutableSortedDictionary<string, long> Bindings,
    ImmutableArray<string> Files,
    double? PredictedCycles,
    string CompiledFrom)
{
    public const int CurrentFormatVersion = 1;
    public const string FileName = "artifact.json";
    public const string CodeletCopy = "codelet.cdlt";
    public const string ArchitectureCopy = "architecture.yaml";
    public const string MappingReport = "mapping.json";
    public const string Listing = "listing.txt";

    public static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    public static readonly DiagnosticDescriptor NotAnArtifact = new("COV0005", "not an artifact directory");

    public static readonly DiagnosticDescriptor OutsideTheArtifact = new("COV0006", "an artifact file outside the artifact's folder");

    /// <summary>Reads <c>artifact.json</c> from <paramref name="directory"/>, as a diagnostic when it is missing or malformed.</summary>
    public static Result<ArtifactManifest> Read(string directory)
    {
        var path = Path.Combine(directory, FileName);
        if (ArtifactFiles.Escape(directory, FileName) is { } reason)
        {
            return Result<ArtifactManifest>.Failure(OutsideTheArtifact.Create(SourceLocation.OfFile(directory), reason));
        }

        if (!File.Exists(path))
        {
            return Result<ArtifactManifest>.Failure(NotAnArtifact.Create(SourceLocation.OfFile(directory),
                Directory.Exists(directory)
                    ? $"no {FileName} here; compile one with 'covenantc compile'"
                    : "no such directory"));
        }

        try
        {
            var manifest = JsonSerializer.Deserialize<ArtifactManifest>(File.ReadAllText(path), Json);
            if (Missing(manifest) is { } member)
            {
                return Result<ArtifactManifest>.Failure(NotAnArtifact.Create(SourceLocation.OfFile(path),
                    $"the manifest is incomplete: {FileName} has no {member}; recompile the artifact"));
            }

            if (manifest!.FormatVersion != CurrentFormatVersion)
            {
                return Result<ArtifactManifest>.Failure(NotAnArtifact.Create(SourceLocation.OfFile(path),
                    $"{FileName} at $.formatVersion: format version {manifest.FormatVersion} is not {CurrentFormatVersion}; recompile it"));
            }

            return Result<ArtifactManifest>.Success(manifest);
        }
        catch (Exception e) when (e is JsonException or IOException or UnauthorizedAccessException or NotSupportedException)
        {
            return Result<ArtifactManifest>.Failure(e is JsonException json
                ? NotAnArtifact.Create(RunDiagnostics.JsonLocation(json, path), $"{FileName} is not a manifest{RunDiagnostics.JsonPath(json)}; recompile the artifact")
                : NotAnArtifact.Create(SourceLocation.OfFile(path), e.Message));
        }
    }

    /// <summary>The JSON path of the first member <c>run</c> needs that <paramref name="manifest"/> lacks; null when it has them all.</summary>
    private static string? Missing(ArtifactManifest? manifest) => manifest switch
    {
        null => "$ (it holds null)",
        { Codelet: null } => "$.codelet",
        { CodeletFile: null } => "$.codeletFile",
        { ArchitectureFile: null } => "$.architectureFile",
        { Target: null or "" } => "$.target",
        { Bindings: null } => "$.bindings",
        { Files.IsDefault: true } => "$.files",
        _ => null,
    };

    public void Write(string directory) =>
        File.WriteAllText(Path.Combine(directory, FileName), JsonSerializer.Serialize(this, Json) + "\n");
}
