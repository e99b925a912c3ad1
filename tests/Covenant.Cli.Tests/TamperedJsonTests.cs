using System.Text.RegularExpressions;
using Covenant.Testing;

namespace Covenant.Cli.Tests;

/// <summary>
/// A JSON file of an artifact edited by hand is refused with the artifact's words (which file, where in it, recompile),
/// never with System.Text.Json's text about .NET types.
/// </summary>
public sealed partial class TamperedJsonTests
{
    [TestCase("vnni-avx512", "vnni_plan.json")]
    [TestCase("tensorcore-sm80", "tensorcore_program.json")]
    [TestCase("vta", "program.json")]
    [TestCase("vta", "artifact.json")]
    public void ANumberTurnedIntoTextIsAUserError(string arch, string file)
    {
        var artifact = Directory.CreateTempSubdirectory("covenant-tampered-");
        try
        {
            var compile = CliRun.Of("compile", Repo.PathOf("codelets", "gemm.cdlt"), "--arch", Repo.PathOf("architectures", arch + ".yaml"),
                "--set", "M=16,N=16,K=32", "-o", artifact.FullName);
            Assert.That(compile.ExitCode, Is.Zero, compile.ToString());
            var path = Path.Combine(artifact.FullName, file);
            var text = File.ReadAllText(path);
            var tampered = FirstNumber().Replace(text, m => $"{m.Groups[1].Value}\"seven\"", 1);
            Assert.That(tampered != text, Is.True, "the file has a number to tamper with");
            File.WriteAllText(path, tampered);

            var run = CliRun.Of("run", artifact.FullName);

            Assert.Multiple(() =>
            {
                Assert.That(run.ExitCode, Is.EqualTo(1), run.ToString());
                Assert.That(run.Error, Does.Contain(file).And.Contain("recompile"), run.ToString());
                Assert.That(run.Error, Does.Not.Contain("System.").And.Not.Contain("COV9001"), run.ToString());
            });
        }
        finally
        {
            artifact.Delete(recursive: true);
        }
    }

    [GeneratedRegex("(\"[A-Za-z]+\": ?)[0-9]+")]
    private static partial Regex FirstNumber();
}
