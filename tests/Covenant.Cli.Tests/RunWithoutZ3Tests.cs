using System.Diagnostics;
using System.Reflection;
using System.Text.Json;
using System.Text.Json.Nodes;
using Covenant.Testing;

namespace Covenant.Cli.Tests;

/// <summary>
/// <c>covenantc run</c> executes an artifact with Z3 absent: covenantc's build output is copied without
/// Microsoft.Z3.dll, the libz3 libraries and the libz3compat shim (and without Microsoft.Z3 in its deps.json), then
/// run as a child process. Any use of a Z3 type would fail to load the assembly; the run must match the reference.
/// VNNI artifacts keep the plan rather than the program, so their run loads the compiler's kernel builder (and the
/// mapper's accumulation analysis) — but still not Z3.
/// </summary>
[NonParallelizable]
public sealed class RunWithoutZ3Tests
{
    private DirectoryInfo cli = null!;

    [OneTimeSetUp]
    public void CopyCovenantcWithoutZ3()
    {
        cli = Directory.CreateTempSubdirectory("covenant-noz3-cli-");
        CopyWithoutZ3(CovenantcOutput(), cli.FullName);
    }

    [OneTimeTearDown]
    public void DeleteCopy() => cli.Delete(recursive: true);

    [TestCase("vta", "gemm", "M=7,N=13,K=29")]
    [TestCase("tensorcore-sm80", "gemm", "M=16,N=16,K=32")]
    [TestCase("vnni-avx512", "gemm", "M=7,N=13,K=29")]
    public void RunMatchesTheReferenceWithoutZ3(string arch, string codelet, string bindings)
    {
        var artifact = Directory.CreateTempSubdirectory("covenant-noz3-artifact-");
        try
        {
            var compile = CliRun.Of("compile", Repo.PathOf("codelets", codelet + ".cdlt"), "--arch", Repo.PathOf("architectures", arch + ".yaml"),
                "--set", bindings, "-o", artifact.FullName);
            Assert.That(compile.ExitCode, Is.Zero, compile.ToString());
            Assert.That(Directory.EnumerateFiles(cli.FullName, "*", SearchOption.AllDirectories)
                .Select(Path.GetFileName).Where(f => f!.Contains("z3", StringComparison.OrdinalIgnoreCase)), Is.Empty);

            var (exit, stdout, stderr) = Dotnet(Path.Combine(cli.FullName, "covenantc.dll"), "run", artifact.FullName, "--seed", "7", "--json");

            Assert.That(exit, Is.Zero, $"--- stdout\n{stdout}\n--- stderr\n{stderr}");
            using var json = JsonDocument.Parse(stdout);
            Assert.That(json.RootElement.GetProperty("match").GetBoolean(), Is.True, stdout);
        }
        finally
        {
            artifact.Delete(recursive: true);
        }
    }

    /// <summary>The control: the same copy cannot map (the mapper needs Z3), so the runs above really ran without it.</summary>
    [Test]
    public void TheCopyCannotCompile()
    {
        var artifact = Path.Combine(cli.FullName, "never-written");
        var (exit, stdout, stderr) = Dotnet(Path.Combine(cli.FullName, "covenantc.dll"), "compile", Repo.PathOf("codelets", "gemm.cdlt"),
            "--arch", Repo.PathOf("architectures", "vta.yaml"), "--set", "M=7,N=13,K=29", "-o", artifact);

        Assert.That(exit, Is.Not.Zero, $"--- stdout\n{stdout}\n--- stderr\n{stderr}");
        Assert.That(stdout + stderr, Does.Contain("Z3"));
    }

    // tools/covenantc/bin/<configuration>/net10.0, built with these tests (they reference the project).
    private static string CovenantcOutput()
    {
        var configuration = typeof(RunWithoutZ3Tests).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration ?? "Debug";
        var directory = Repo.PathOf("tools", "covenantc", "bin", configuration, "net10.0");
        Assert.That(File.Exists(Path.Combine(directory, "covenantc.dll")), Is.True, directory);
        return directory;
    }

    private static void CopyWithoutZ3(string from, string to)
    {
        foreach (var file in Directory.EnumerateFiles(from, "*", SearchOption.AllDirectories))
        {
            var name = Path.GetFileName(file);
            if (name.Contains("z3", StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }

            var target = Path.Combine(to, Path.GetRelativePath(from, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }

        // The host refuses to start when an assembly its deps.json lists is missing: drop Microsoft.Z3 from it, as a
        // deployment without Z3 would.
        var depsPath = Path.Combine(to, "covenantc.deps.json");
        var deps = JsonNode.Parse(File.ReadAllText(depsPath))!.AsObject();
        foreach (var (_, target) in deps["targets"]!.AsObject())
        {
            var libraries = target!.AsObject();
            foreach (var z3 in libraries.Select(l => l.Key).Where(IsZ3).ToList())
            {
                libraries.Remove(z3);
            }

            foreach (var (_, library) in libraries)
            {
                library!["dependencies"]?.AsObject().Remove("Microsoft.Z3");
            }
        }

        var all = deps["libraries"]!.AsObject();
        foreach (var z3 in all.Select(l => l.Key).Where(IsZ3).ToList())
        {
            all.Remove(z3);
        }

        File.WriteAllText(depsPath, deps.ToJsonString());
    }

    private static bool IsZ3(string library) => library.StartsWith("Microsoft.Z3/", StringComparison.Ordinal);

    private static (int Exit, string Out, string Error) Dotnet(params string[] arguments)
    {
        var start = new ProcessStartInfo("dotnet", arguments)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        var stdout = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, stdout, stderr.Result);
    }
}
