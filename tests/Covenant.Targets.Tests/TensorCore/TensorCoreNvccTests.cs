using System.Diagnostics;
using Covenant.Runtime.TensorCore;
using Covenant.Targets.TensorCore;
using static Covenant.Targets.Tests.TensorCore.TensorCoreTestSupport;

namespace Covenant.Targets.Tests.TensorCore;

/// <summary>
/// Opt-in: the emitted CUDA through nvcc's front end and PTX assembler (<c>nvcc -arch=sm_80|sm_90 -c</c>, with and
/// without <c>-DCOVENANT_WITH_CUBLAS</c>), which checks the C++ and every inline PTX instruction's operand types. No GPU
/// is needed. Install nvcc with tools/tensorcore/install-nvcc.sh, then run
/// <c>dotnet test tests/Covenant.Targets.Tests --filter TestCategory=Nvcc</c>.
/// </summary>
[Explicit("needs nvcc (tools/tensorcore/install-nvcc.sh); run with --filter TestCategory=Nvcc")]
[Category("Nvcc")]
public class TensorCoreNvccTests
{
    public static IEnumerable<TestCaseData> Kernels()
    {
        foreach (var architecture in new[] { Sm80, Sm90 })
        {
            yield return new TestCaseData("gemm", "M=384, N=1024, K=1024", architecture);
            yield return new TestCaseData("gemm_f16", "M=384, N=1024, K=1024", architecture);
            yield return new TestCaseData("gemm_f16", "M=33, N=17, K=40", architecture);
            yield return new TestCaseData("bmm", "B=16, M=384, N=64, K=384", architecture);
            yield return new TestCaseData("bmm_f16", "B=16, M=384, N=384, K=64", architecture);
            yield return new TestCaseData("conv2d", "N=1, H=28, W=28, C=128, K=128, R=3, S=3, pad=1", architecture);
            yield return new TestCaseData("conv2d_f16", "N=1, H=14, W=14, C=256, K=256, R=3, S=3, stride=2, pad=1", architecture);
            yield return new TestCaseData("conv2d_f16", "N=1, H=224, W=224, C=3, K=64, R=7, S=7, stride=2, pad=3", architecture);
        }
    }

    [TestCaseSource(nameof(Kernels))]
    public void CompilesWithNvcc(string codelet, string bindings, string architecture)
    {
        var nvcc = Environment.GetEnvironmentVariable("NVCC") ?? "nvcc";
        // Debian's CUDA 11.8 accepts gcc up to 11; bookworm's default gcc is 12, so its clang++-14 is the host compiler. Warnings are errors.
        var hostCompiler = Environment.GetEnvironmentVariable("NVCC_CCBIN") ?? (File.Exists("/usr/bin/clang++-14") ? "clang++-14" : null);
        var plan = Plan(codelet, bindings, architecture);
        var directory = Path.Combine(Path.GetTempPath(), "covenant-nvcc-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory);
        var source = Path.Combine(directory, "kernel.cu");
        File.WriteAllText(source, TensorCoreCudaPrinter.Print(TensorCoreKernelBuilder.Build(plan)));
        foreach (var defines in new[] { "", "-DCOVENANT_WITH_CUBLAS" })
        {
            var arguments = $"{(hostCompiler is null ? "" : "-ccbin " + hostCompiler + " ")}--Werror all-warnings -std=c++17 -O3 -arch=sm_{plan.ComputeCapability} {defines} -c {source} -o {Path.Combine(directory, "kernel.o")}";
            var (exit, output) = Run(nvcc, arguments);
            Assert.That(exit, Is.Zero, $"{nvcc} {arguments}\n{output}");
            TestContext.Out.WriteLine($"{nvcc} {arguments}: ok {output}");
        }

        Directory.Delete(directory, recursive: true);
    }

    private static (int Exit, string Output) Run(string program, string arguments)
    {
        var start = new ProcessStartInfo(program, arguments) { RedirectStandardOutput = true, RedirectStandardError = true };
        Process process;
        try
        {
            process = Process.Start(start)!;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            Assert.Ignore($"{program} is not installed (tools/tensorcore/install-nvcc.sh installs it)");
            throw;
        }

        using (process)
        {
            var stderr = process.StandardError.ReadToEndAsync();
            var stdout = process.StandardOutput.ReadToEnd();
            process.WaitForExit();
            return (process.ExitCode, stdout + stderr.Result);
        }
    }
}
