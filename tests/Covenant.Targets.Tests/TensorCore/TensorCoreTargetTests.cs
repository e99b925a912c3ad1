using System.Collections.Immutable;
using Covenant.Compiler;
using Covenant.Mapping;
using Covenant.Runtime;
using Covenant.Runtime.Execution;
using Covenant.Runtime.TensorCore;
using Covenant.Targets.TensorCore;
using Covenant.Testing;
using static Covenant.Targets.Tests.TensorCore.TensorCoreTestSupport;

namespace Covenant.Targets.Tests.TensorCore;

/// <summary>The target pass behind <see cref="ITarget"/>, its artifacts run by the executor, and the simulator's checks.</summary>
public class TensorCoreTargetTests
{
    private static string CompileArtifact(string codelet, string bindings, string architecture)
    {
        var request = new CompileRequest(Repo.PathOf("codelets", codelet + ".cdlt"), Repo.PathOf("architectures", architecture + ".yaml"),
            VnniBindings(bindings), MapperOptions.Default, TargetOptions.Default);
        var compiled = CompilerPipeline.Compile(request, new TargetRegistry([new TensorCoreTarget()]));
        Assert.That(compiled.Succeeded, Is.True, () => string.Join("\n", compiled.Diagnostics));
        var directory = Path.Combine(Path.GetTempPath(), "covenant-tensorcore-tests", Guid.NewGuid().ToString("N"));
        var written = CompilerPipeline.WriteArtifact(compiled.Value!, directory);
        Assert.That(written.Succeeded, Is.True, () => string.Join("\n", written.Diagnostics));
        return directory;
    }

    private static ImmutableDictionary<string, long> VnniBindings(string bindings) => bindings
        .Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
        .Select(b => b.Split('='))
        .ToImmutableDictionary(b => b[0].Trim(), b => long.Parse(b[1], System.Globalization.CultureInfo.InvariantCulture), StringComparer.Ordinal);

    [TestCase("gemm", "M=40, N=24, K=70", Sm80)]
    [TestCase("gemm_f16", "M=40, N=24, K=70", Sm90)]
    [TestCase("conv2d", "N=1, H=5, W=5, C=16, K=8, R=3, S=3, pad=1", Sm90)]
    public void AnArtifactRunsOnTheSimulatorAndMatches(string codelet, string bindings, string architecture)
    {
        var directory = CompileArtifact(codelet, bindings, architecture);
        Assert.That(File.Exists(Path.Combine(directory, TensorCoreTarget.KernelFile)) && File.Exists(Path.Combine(directory, TensorCoreTarget.ProgramFile)), Is.True);
        var report = ArtifactRunner.Run(directory, RunOptions.Default with { Seed = 3 }, [new TensorCoreArtifactExecutor()]);
        Assert.That(report.Succeeded, Is.True, () => string.Join("\n", report.Diagnostics));
        Assert.Multiple(() =>
        {
            Assert.That(report.Value!.Match, Is.True, () => string.Join("\n", report.Value!.Checks.Select(c => c.Comparison.Summary)));
            Assert.That(report.Value!.Execution.Engine, Is.EqualTo(TensorCoreArtifactExecutor.EngineName));
            Assert.That(report.Value!.Execution.Metrics["mma"], Is.GreaterThan(0));
            Assert.That(report.Value!.Execution.Metrics["ldmatrixBankConflictWavefronts"], Is.Zero);
            Assert.That(report.Value!.Artifact.Manifest.PredictedCycles, Is.GreaterThan(0));
        });
        Directory.Delete(directory, recursive: true);
    }

    [Test]
    public void AnEditedKernelIsRefused()
    {
        var directory = CompileArtifact("gemm", "M=16, N=8, K=32", Sm80);
        File.AppendAllText(Path.Combine(directory, TensorCoreTarget.KernelFile), "// edited\n");
        var report = ArtifactRunner.Run(directory, RunOptions.Default, [new TensorCoreArtifactExecutor()]);
        Assert.That(report.Succeeded, Is.False);
        Assert.That(report.Diagnostics.Select(d => d.Id), Does.Contain("COV6305"));
        Directory.Delete(directory, recursive: true);
    }

    [Test]
    public void TheProgramRoundTripsThroughJson()
    {
        var kernel = TensorCoreKernelBuilder.Build(Plan("conv2d_f16", "N=1, H=6, W=6, C=16, K=16, R=3, S=3, pad=1"));
        var back = TensorCoreKernel.FromJson(kernel.ToJson());
        Assert.That(TensorCoreCudaPrinter.Print(back), Is.EqualTo(TensorCoreCudaPrinter.Print(kernel)));
        Assert.That(back.AllStatements().Count(), Is.EqualTo(kernel.AllStatements().Count()));
    }

    [Test]
    public void TheCudaHasThePtxInstructionsAndHarness()
    {
        var output = new TensorCoreTarget().Lower(Map("gemm_f16", "M=64, N=64, K=64", Sm90), TargetOptions.Default);
        Assert.That(output.Succeeded, Is.True, () => string.Join("\n", output.Diagnostics));
        var cuda = System.Text.Encoding.UTF8.GetString(output.Value!.Files.Single(f => f.Name == TensorCoreTarget.KernelFile).Contents);
        Assert.That(cuda, Does.Contain("mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32")
            .And.Contain("ldmatrix.sync.aligned.m8n8.x4.shared.b16")
            .And.Contain("cp.async.cg.shared.global")
            .And.Contain("cp_async_wait<")
            .And.Contain("int main(")
            .And.Contain("cublasGemmStridedBatchedEx")
            .And.Contain("-arch=sm_90"));
        Assert.That(output.Value!.Target, Is.EqualTo("tensorcore"));
    }

    [Test]
    public void ANonTensorCoreGraphIsRefused()
    {
        var mapping = Map("gemm", "M=16, N=8, K=32") with { Graph = Architecture("vnni-avx512") };
        var lowered = new TensorCoreTarget().Lower(mapping, TargetOptions.Default);
        Assert.That(lowered.Succeeded, Is.False);
        Assert.That(lowered.Diagnostics.Single().Id, Is.EqualTo("COV5301"));
    }

    private static TensorCoreKernel Without<T>(TensorCoreKernel kernel) where T : TensorCoreStmt => kernel with { Body = Strip<T>(kernel.Body) };

    private static ImmutableArray<TensorCoreStmt> Strip<T>(ImmutableArray<TensorCoreStmt> body) where T : TensorCoreStmt =>
        [.. body.Where(s => s is not T).Select(s => s switch
        {
            TensorCoreFor f => f with { Body = Strip<T>(f.Body) },
            TensorCoreIf i => i with { Body = Strip<T>(i.Body) },
            _ => s,
        })];

    // Lockstep simulation would compute the right numbers without the barrier or the wait; the checks must catch it.
    [TestCase(typeof(TensorCoreBarrier))]
    [TestCase(typeof(TensorCoreWaitGroup))]
    public void AMissingSynchronisationIsARace(Type removed)
    {
        var kernel = TensorCoreKernelBuilder.Build(Plan("gemm", "M=64, N=64, K=512"));
        var broken = removed == typeof(TensorCoreBarrier) ? Without<TensorCoreBarrier>(kernel) : Without<TensorCoreWaitGroup>(kernel);
        var inputs = RandomTensors.Inputs(Plan("gemm", "M=64, N=64, K=512").Instance, 1);
        var error = Assert.Throws<TensorCoreSimulationException>(() => new TensorCoreSimulator(broken).Run(inputs));
        Assert.That(error!.Descriptor.Id, Is.EqualTo("COV6302"), error.Message);
    }

    [Test]
    public void AStoreThatMissesElementsIsCaught()
    {
        var kernel = TensorCoreKernelBuilder.Build(Plan("gemm", "M=32, N=16, K=32"));
        var broken = kernel with { Body = [.. kernel.Body.Where(s => s is not TensorCoreStore { Register: 0 })] };
        var error = Assert.Throws<TensorCoreSimulationException>(() => new TensorCoreSimulator(broken).Run(RandomTensors.Inputs(Plan("gemm", "M=32, N=16, K=32").Instance, 1)));
        Assert.That(error!.Descriptor.Id, Is.EqualTo("COV6306"));
    }
}
