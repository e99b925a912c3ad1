using System.Collections.Immutable;
using System.Globalization;
using Covenant.Compiler;
using Covenant.Mapping;
using Covenant.Runtime.Artifacts;
using Covenant.Runtime.Execution;
using Covenant.Runtime.Vta;
using Covenant.Targets.Vta.Lowering;
using Covenant.Testing;

namespace Covenant.Targets.Tests.Lowering;

/// <summary>The VTA target behind the compiler pipeline: compile to an artifact directory, then run it with the VTA executor.</summary>
public sealed class PipelineLoweringTests
{
    [TestCase("gemm", "M=20, N=30, K=40", "vta.yaml")]
    [TestCase("conv2d", "N=1, H=8, W=8, C=16, K=32, R=3, S=3, pad=1", "vta-1x32x32.yaml")]
    [TestCase("fc_requant", "M=5, N=40, K=24, shift=5", "vta.yaml")]
    public void CompileWriteAndRun(string codelet, string bindings, string arch)
    {
        var values = bindings.Split(',', StringSplitOptions.TrimEntries).Select(b => b.Split('='))
            .ToImmutableDictionary(b => b[0], b => long.Parse(b[1], CultureInfo.InvariantCulture), StringComparer.Ordinal);
        var request = new CompileRequest(Repo.PathOf("codelets", codelet + ".cdlt"), Repo.PathOf("architectures", arch), values, MapperOptions.Default, TargetOptions.Default);
        var compilation = CompilerPipeline.Compile(request, new TargetRegistry([new VtaTarget()]));
        Assert.That(compilation.Succeeded, Is.True, () => string.Join("\n", compilation.Diagnostics));
        Assert.That(compilation.Value!.Output.PredictedCycles, Is.GreaterThan(0));

        var directory = Path.Combine(Path.GetTempPath(), "covenant-vta-artifact-" + Guid.NewGuid().ToString("N"));
        try
        {
            var written = CompilerPipeline.WriteArtifact(compilation.Value, directory);
            Assert.That(written.Succeeded, Is.True, () => string.Join("\n", written.Diagnostics));
            Assert.That(written.Value!.Files, Is.SupersetOf(new[] { VtaProgramFiles.ProgramFile, VtaProgramFiles.UopsFile, VtaProgramFiles.MemoryMapFile }));
            var run = ArtifactRunner.Run(directory, new RunOptions { Seed = 9 }, [new VtaArtifactExecutor()]);
            Assert.That(run.Succeeded, Is.True, () => string.Join("\n", run.Diagnostics));
            Assert.That(run.Value!.Match, Is.True, () => string.Join("\n", run.Value.Checks.Select(c => $"{c.Tensor}: {c.Comparison.Summary}")));
            Assert.That(run.Value.Execution.Cycles, Is.GreaterThan(0));
            Assert.That(run.Value.Execution.Cycles, Is.GreaterThanOrEqualTo(compilation.Value.Output.PredictedCycles!.Value), "the prediction is a lower bound");
        }
        finally
        {
            if (Directory.Exists(directory))
            {
                Directory.Delete(directory, recursive: true);
            }
        }
    }
}
