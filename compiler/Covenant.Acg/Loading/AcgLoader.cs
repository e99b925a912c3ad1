using System.Collections.Immutable;
using Covenant.Acg.Loading;
using Covenant.Acg.Model;
using Covenant.Core.Diagnostics;

namespace Covenant.Acg;

/// <summary>
/// Loads an architecture graph from YAML. Never throws on user input: every problem in the file comes back
/// as a positioned diagnostic (COV1xxx), all of them in one run. The schema is documented in
/// <c>architectures/README.md</c>.
/// </summary>
public static class AcgLoader
{
    /// <summary>Reads and loads the file at <paramref name="path"/> (a missing file is COV0001).</summary>
    public static Result<ArchitectureGraph> Load(string path)
    {
        var file = SourceFile.Read(path);
        return file.Succeeded ? Parse(file.Value) : Result<ArchitectureGraph>.Failure(file.Diagnostics);
    }

    /// <summary>Loads YAML text; diagnostics point into <paramref name="file"/>'s path.</summary>
    public static Result<ArchitectureGraph> Parse(SourceFile file)
    {
        var diagnostics = new DiagnosticBag();
        try
        {
            // Stages in order, each needing the previous one's output: YAML tree, schema, graph checks.
            if (YamlTreeReader.Read(file, diagnostics) is not { } root ||
                AcgReader.Read(root, diagnostics) is not { } draft)
            {
                return Result<ArchitectureGraph>.Failure(InFileOrder(diagnostics));
            }

            AcgValidator.Validate(draft, diagnostics);
            var sorted = InFileOrder(diagnostics);
            return diagnostics.HasErrors
                ? Result<ArchitectureGraph>.Failure(sorted)
                : Result<ArchitectureGraph>.Success(AcgBuilder.Build(draft), sorted);
        }
#pragma warning disable CA1031 // A bug in the loader must surface as an internal-error diagnostic, never as a crash of the tool.
        catch (Exception e)
#pragma warning restore CA1031
        {
            diagnostics.Report(CoreDiagnostics.InternalError, file.At(1, 1),
                $"the architecture loader failed on this file ({e.GetType().Name}: {e.Message}); please report it");
            return Result<ArchitectureGraph>.Failure(diagnostics.ToImmutable());
        }
    }

    /// <summary>Diagnostics sorted by position (stable), so they read top to bottom like the file, whichever check found them.</summary>
    private static ImmutableArray<Diagnostic> InFileOrder(DiagnosticBag diagnostics) =>
        [.. diagnostics.ToImmutable().OrderBy(d => d.Location?.Line ?? 0).ThenBy(d => d.Location?.Column ?? 0)];
}
