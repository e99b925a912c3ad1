using System.Collections.Immutable;
using System.Text.Json;
using System.Text.Json.Nodes;
using Covenant.Core.Diagnostics;
using Covenant.Runtime.Artifacts;
using Covenant.Runtime.Execution;

namespace Covenant.Runtime.Vta;

/// <summary>
/// Reads a VTA artifact's program for <c>run</c>, checking each file where it is read: <c>program.json</c>'s
/// configuration must be the one the artifact's architecture describes (the instruction fields are decoded with it),
/// <c>memory-map.json</c> must pass <see cref="VtaMemoryMapChecks"/> against the codelet instance, and the binary
/// files must decode. Problems are diagnostics naming the file (and JSON path); nothing is sized from a value first.
/// </summary>
public static class VtaArtifactChecks
{
    public static Result<VtaProgram> Load(LoadedArtifact artifact)
    {
        ArgumentNullException.ThrowIfNull(artifact);
        var files = artifact.Files;
        try
        {
            var missing = new[] { VtaProgramFiles.ProgramInfoFile, VtaProgramFiles.MemoryMapFile, VtaProgramFiles.ProgramFile, VtaProgramFiles.UopsFile }
                .Where(name => !files.Exists(name))
                .Select(name => RunDiagnostics.BrokenArtifact.Create(SourceLocation.OfFile(Path.Combine(artifact.Directory, name)), $"the artifact has no {name}; recompile it"))
                .ToImmutableArray();
            if (!missing.IsEmpty)
            {
                return Result<VtaProgram>.Failure(missing);
            }

            var info = new ArtifactFileCheck(files, VtaProgramFiles.ProgramInfoFile);
            if (info.Read<VtaProgramFiles.ProgramInfo>(files.ReadBytes(info.File), VtaProgramFiles.JsonOptions) is { } programInfo)
            {
                CheckProgramInfo(programInfo, artifact, info);
            }

            var memory = new ArtifactFileCheck(files, VtaProgramFiles.MemoryMapFile);
            if (memory.Read<VtaMemoryMap>(files.ReadBytes(memory.File), VtaProgramFiles.JsonOptions) is { } map)
            {
                VtaMemoryMapChecks.Check(map, artifact.Instance, memory);
            }

            if (info.Failed || memory.Failed)
            {
                return Result<VtaProgram>.Failure(info.Problems.AddRange(memory.Problems));
            }

            VtaProgram program;
            try
            {
                program = VtaProgramFiles.Load(name => files.Exists(name) ? files.ReadBytes(name) : null);
            }
            catch (VtaDecodingException e)
            {
                return Result<VtaProgram>.Failure(RunDiagnostics.BrokenArtifact.Create(SourceLocation.OfFile(artifact.Directory),
                    $"{VtaProgramFiles.ProgramFile} or {VtaProgramFiles.UopsFile} does not decode: {e.Message}; recompile the artifact"));
            }

            VtaMemoryMapChecks.CheckUops(program.MemoryMap, program.Uops.Length, program.Config.UopElementBytes, memory);
            return memory.Failed ? Result<VtaProgram>.Failure(memory.Problems) : Result<VtaProgram>.Success(program);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return Result<VtaProgram>.Failure(RunDiagnostics.BrokenArtifact.Create(SourceLocation.OfFile(artifact.Directory), e.Message));
        }
    }

    /// <summary>The codelet is the artifact's, and the configuration is exactly what the architecture describes.</summary>
    private static void CheckProgramInfo(VtaProgramFiles.ProgramInfo info, LoadedArtifact artifact, ArtifactFileCheck check)
    {
        if (!check.Require(info.Codelet == artifact.Instance.Name, "$.codelet", $"the program is for codelet '{info.Codelet}', not '{artifact.Instance.Name}'")
            || !check.Require(info.Config is not null, "$.config", "there is no configuration")
            || !check.Require(info.Summary is not null, "$.summary", "there is no summary"))
        {
            return;
        }

        var expected = VtaConfig.FromGraph(artifact.Graph);
        if (!expected.Succeeded)
        {
            check.Disagrees("$.config", $"the artifact's architecture '{artifact.Graph.Name}' is not a usable VTA");
            return;
        }

        var written = JsonSerializer.SerializeToNode(info.Config, VtaProgramFiles.JsonOptions);
        var described = JsonSerializer.SerializeToNode(expected.Value, VtaProgramFiles.JsonOptions);
        if (FirstDifference(written, described, "$.config") is { } path)
        {
            check.Disagrees(path, $"the configuration differs from the one architecture.yaml ('{artifact.Graph.Name}') describes");
        }
    }

    /// <summary>The JSON path of the first value that differs between two documents; null when they are equal.</summary>
    private static string? FirstDifference(JsonNode? written, JsonNode? expected, string path)
    {
        switch (written, expected)
        {
            case (JsonObject w, JsonObject e):
                foreach (var name in w.Select(m => m.Key).Union(e.Select(m => m.Key)))
                {
                    if (FirstDifference(w[name], e[name], $"{path}.{name}") is { } inner)
                    {
                        return inner;
                    }
                }

                return null;
            default:
                return JsonNode.DeepEquals(written, expected) ? null : path;
        }
    }
}
