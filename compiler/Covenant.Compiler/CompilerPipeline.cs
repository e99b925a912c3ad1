using System.Collections.Immutable;
using System.Diagnostics;
using System.Text.Json;
using Covenant.Acg;
using Covenant.Acg.Model;
using Covenant.Codelets.Semantics;
using Covenant.Core.Diagnostics;
using Covenant.Mapping;
using Covenant.Mapping.Model;
using Covenant.Runtime.Artifacts;
using Covenant.Targets;

namespace Covenant.Compiler;

/// <summary>What to compile: a codelet file, shape bindings and an architecture file.</summary>
public sealed record CompileRequest(
    string CodeletPath,
    string ArchitecturePath,
    ImmutableDictionary<string, long> Bindings,
    MapperOptions MapperOptions,
    TargetOptions TargetOptions);

/// <summary>Everything a compilation produced, before it is written to an artifact directory.</summary>
public sealed record Compilation(
    CompileRequest Request,
    CodeletInstance Instance,
    ArchitectureGraph Graph,
    LayerMapping Mapping,
    TargetOutput Output,
    TimeSpan MappingTime,
    TimeSpan LoweringTime);

/// <summary>
/// The compiler's stages, in the only order that works: each needs the one before it.
/// 1. load and check the codelet (syntax, names, types) — its errors are the user's to fix first;
/// 2. bind the shapes (index bounds need concrete sizes);
/// 3. load and validate the architecture graph, and check it against its target;
/// 4. map (the mapper needs both the instance and the graph);
/// 5. lower with the target pass the graph's <c>target:</c> names.
/// Every stage reports collected diagnostics; the pipeline stops after the first stage with errors.
/// </summary>
public static class CompilerPipeline
{
    public static Result<Compilation> Compile(CompileRequest request, TargetRegistry targets)
    {
        var diagnostics = ImmutableArray.CreateBuilder<Diagnostic>();
        var codelet = CodeletLoader.Load(request.CodeletPath);
        diagnostics.AddRange(codelet.Diagnostics);
        if (!codelet.Succeeded)
        {
            return Result<Compilation>.Failure(diagnostics.ToImmutable());
        }

        var instance = codelet.Value.Instantiate(request.Bindings);
        diagnostics.AddRange(instance.Diagnostics);
        var graph = AcgLoader.Load(request.ArchitecturePath);
        diagnostics.AddRange(graph.Diagnostics);
        if (!instance.Succeeded || !graph.Succeeded)
        {
            return Result<Compilation>.Failure(diagnostics.ToImmutable());
        }

        // The loader reads any target name; whether this build has it is known here (COV1010 on the YAML's target line).
        var unknown = TargetNameCheck.Check(graph.Value, [.. targets.Names]);
        if (!unknown.IsEmpty || targets.Find(graph.Value.Target) is not { } target)
        {
            diagnostics.AddRange(unknown);
            return Result<Compilation>.Failure(diagnostics.ToImmutable());
        }

        // Whatever the codelet, a graph the target cannot compile for (a capability that is not the instruction it
        // stands for, a configuration the target cannot emit) is refused before mapping, at its YAML positions.
        var architecture = target.CheckArchitecture(graph.Value);
        diagnostics.AddRange(architecture);
        if (architecture.Any(d => d.IsError))
        {
            return Result<Compilation>.Failure(diagnostics.ToImmutable());
        }

        var clock = Stopwatch.StartNew();
        var mapping = Mapper.Map(instance.Value, graph.Value, request.MapperOptions);
        var mappingTime = clock.Elapsed;
        diagnostics.AddRange(mapping.Diagnostics);
        if (!mapping.Succeeded)
        {
            return Result<Compilation>.Failure(diagnostics.ToImmutable());
        }

        clock.Restart();
        var output = target.Lower(mapping.Value, request.TargetOptions);
        var loweringTime = clock.Elapsed;
        diagnostics.AddRange(output.Diagnostics);
        if (!output.Succeeded)
        {
            return Result<Compilation>.Failure(diagnostics.ToImmutable());
        }

        return Result<Compilation>.Success(
            new Compilation(request, instance.Value, graph.Value, mapping.Value, output.Value, mappingTime, loweringTime),
            diagnostics.ToImmutable());
    }

    /// <summary>
    /// Writes the artifact directory: the target's files, the listing, the mapping report, copies of the
    /// codelet and architecture sources, and <c>artifact.json</c> last (a directory without it is not an artifact,
    /// so an interrupted write is never mistaken for a complete one).
    /// </summary>
    public static Result<ArtifactManifest> WriteArtifact(Compilation compilation, string directory)
    {
        try
        {
            Directory.CreateDirectory(directory);
            File.Delete(Path.Combine(directory, ArtifactManifest.FileName));
            var files = new List<string>();
            foreach (var file in compilation.Output.Files)
            {
                File.WriteAllBytes(Path.Combine(directory, file.Name), file.Contents);
                files.Add(file.Name);
            }

            File.WriteAllText(Path.Combine(directory, ArtifactManifest.Listing), compilation.Output.Listing);
            var report = MappingReport.ToJson(compilation.Mapping, compilation.Output.PredictedCycles);
            report["mappingSeconds"] = Math.Round(compilation.MappingTime.TotalSeconds, 3);
            report["loweringSeconds"] = Math.Round(compilation.LoweringTime.TotalSeconds, 3);
            File.WriteAllText(Path.Combine(directory, ArtifactManifest.MappingReport),
                report.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");
            File.Copy(compilation.Request.CodeletPath, Path.Combine(directory, ArtifactManifest.CodeletCopy), overwrite: true);
            File.Copy(compilation.Request.ArchitecturePath, Path.Combine(directory, ArtifactManifest.ArchitectureCopy), overwrite: true);

            var manifest = new ArtifactManifest(
                ArtifactManifest.CurrentFormatVersion,
                compilation.Instance.Name,
                ArtifactManifest.CodeletCopy,
                ArtifactManifest.ArchitectureCopy,
                compilation.Graph.Name,
                compilation.Graph.Target,
                compilation.Request.Bindings.ToImmutableSortedDictionary(StringComparer.Ordinal),
                [.. files],
                compilation.Output.PredictedCycles,
                $"{compilation.Request.CodeletPath} for {compilation.Request.ArchitecturePath}");
            manifest.Write(directory);
            return Result<ArtifactManifest>.Success(manifest);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return Result<ArtifactManifest>.Failure(CoreDiagnostics.OutputNotWritable.Create(SourceLocation.OfFile(directory), e.Message));
        }
    }
}
