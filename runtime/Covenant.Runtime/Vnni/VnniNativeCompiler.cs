using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;

namespace Covenant.Runtime.Vnni;

/// <summary>
/// Builds emitted C into a shared library with gcc: <c>gcc -O3 FLAGS -fopenmp -fPIC -shared</c>. Libraries are
/// content-addressed (the file name is a hash of the source and the command), so a kernel is compiled once per
/// build directory and concurrent builders never see a half-written file.
/// </summary>
public static class VnniNativeCompiler
{
    /// <summary>The C compiler; <c>CC</c> overrides it.</summary>
    public static string Compiler => Environment.GetEnvironmentVariable("CC") is { Length: > 0 } cc ? cc : "gcc";

    /// <summary>The default build directory (under the temporary directory), shared by every process of this user.</summary>
    public static string DefaultDirectory => Path.Combine(Path.GetTempPath(), "covenant-vnni");

    /// <summary>
    /// Compiles <paramref name="source"/> (or finds it compiled) in <paramref name="directory"/> and returns the
    /// library's path. Throws <see cref="VnniBuildException"/> with the compiler's messages when the build fails.
    /// </summary>
    public static string Build(string source, string flags, string? directory = null, string name = "kernel")
    {
        ArgumentNullException.ThrowIfNull(source);
        directory ??= DefaultDirectory;
        Directory.CreateDirectory(directory);
        var arguments = $"-O3 {flags} -fopenmp -fPIC -shared -fno-strict-aliasing";
        var hash = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(Compiler + "\n" + arguments + "\n" + source)))[..16].ToLowerInvariant();
        var stem = Path.Combine(directory, $"{Sanitize(name)}-{hash}");
        var library = stem + ".so";
        if (File.Exists(library))
        {
            return library;
        }

        var sourcePath = stem + ".c";
        File.WriteAllText(sourcePath, source);
        var temporary = $"{stem}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp.so";
        var (exit, output) = RunCompiler($"{arguments} -o \"{temporary}\" \"{sourcePath}\"");
        if (exit != 0 || !File.Exists(temporary))
        {
            TryDelete(temporary);
            throw new VnniBuildException($"{Compiler} failed (exit {exit}) building {sourcePath}:\n{output}");
        }

        try
        {
            File.Move(temporary, library, overwrite: false);
        }
        catch (IOException) when (File.Exists(library))
        {
            // Another process built the same kernel first; its library is identical.
            TryDelete(temporary);
        }

        return library;
    }

    /// <summary>Whether the compiler can be started (it is not installed everywhere).</summary>
    public static bool Available()
    {
        try
        {
            return RunCompiler("--version").Exit == 0;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return false;
        }
    }

    internal static (int Exit, string Output) RunCompiler(string arguments)
    {
        var start = new ProcessStartInfo(Compiler, arguments)
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        using var process = Process.Start(start) ?? throw new VnniBuildException($"cannot start {Compiler}");
        var error = process.StandardError.ReadToEndAsync();
        var output = process.StandardOutput.ReadToEnd();
        if (!process.WaitForExit(TimeSpan.FromMinutes(5)))
        {
            process.Kill(entireProcessTree: true);
            throw new VnniBuildException($"{Compiler} did not finish within 5 minutes");
        }

        return (process.ExitCode, output + error.Result);
    }

    private static string Sanitize(string name) => new([.. name.Select(c => char.IsAsciiLetterOrDigit(c) || c == '_' ? c : '_')]);

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}

/// <summary>The C compiler could not build a kernel.</summary>
public sealed class VnniBuildException(string message) : Exception(message);
