using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;

namespace Covenant.Bench;

/// <summary>
/// oneDNN, the vendor baseline: installs Debian's <c>libdnnl-dev</c> when it is missing (apt-get, as root), builds
/// the C shim (onednn_shim.c) against it with gcc, and calls it through unmanaged function pointers.
/// oneDNN reads its maximum ISA once per process, so one process measures either the capped or the uncapped
/// library; the benchmark runs the uncapped column in a child process.
/// </summary>
internal sealed unsafe class OneDnn
{
    private readonly delegate* unmanaged<int, int, int> init;
    private readonly delegate* unmanaged<IntPtr> error;
    private readonly delegate* unmanaged<IntPtr> isa;
    private readonly delegate* unmanaged<IntPtr> version;
    private readonly delegate* unmanaged<int> requestAmx;
    private readonly delegate* unmanaged<long, long, long, long, IntPtr, int, IntPtr> matmul;
    private readonly delegate* unmanaged<long, long, long, long, long, long, long, long, long, long, long, long, long, long, long, IntPtr, int, IntPtr> conv;
    private readonly delegate* unmanaged<IntPtr, IntPtr> impl;
    private readonly delegate* unmanaged<IntPtr, IntPtr, IntPtr, int> run;
    private readonly delegate* unmanaged<IntPtr, void> free;

    private OneDnn(IntPtr library)
    {
        IntPtr Export(string name) => NativeLibrary.GetExport(library, name);
        init = (delegate* unmanaged<int, int, int>)Export("shim_init");
        error = (delegate* unmanaged<IntPtr>)Export("shim_error");
        isa = (delegate* unmanaged<IntPtr>)Export("shim_isa");
        version = (delegate* unmanaged<IntPtr>)Export("shim_version");
        requestAmx = (delegate* unmanaged<int>)Export("shim_request_amx");
        matmul = (delegate* unmanaged<long, long, long, long, IntPtr, int, IntPtr>)Export("shim_matmul");
        conv = (delegate* unmanaged<long, long, long, long, long, long, long, long, long, long, long, long, long, long, long, IntPtr, int, IntPtr>)Export("shim_conv");
        impl = (delegate* unmanaged<IntPtr, IntPtr>)Export("shim_impl");
        run = (delegate* unmanaged<IntPtr, IntPtr, IntPtr, int>)Export("shim_run");
        free = (delegate* unmanaged<IntPtr, void>)Export("shim_free");
    }

    public string Isa => Marshal.PtrToStringAnsi(isa()) ?? "?";

    public string Version => Marshal.PtrToStringAnsi(version()) ?? "?";

    private string Error => Marshal.PtrToStringAnsi(error()) ?? "unknown error";

    /// <summary>Installs oneDNN when needed, builds the shim and initializes it (capped to AVX512_CORE_VNNI or not).</summary>
    public static OneDnn Start(string buildDirectory, bool capped, int threads, bool requestAmx, bool mayInstall, TextWriter log)
    {
        EnsureInstalled(mayInstall, log);
        var library = BuildShim(buildDirectory);
        var dnn = new OneDnn(NativeLibrary.Load(library));
        if (requestAmx)
        {
            var status = dnn.requestAmx();
            log.WriteLine(status == 0 ? "bench: AMX tile state granted (arch_prctl ARCH_REQ_XCOMP_PERM)" : $"bench: arch_prctl(ARCH_REQ_XCOMP_PERM) returned {status}");
        }

        if (dnn.init(capped ? 1 : 0, threads) != 0)
        {
            throw new BenchException("oneDNN initialization failed: " + dnn.Error);
        }

        return dnn;
    }

    public Primitive Matmul(long batch, long m, long n, long k, IntPtr weights) =>
        Wrap(matmul(batch, m, n, k, weights, 0), $"matmul {batch}x{m}x{n}x{k}");

    public Primitive Convolution(long n, long h, long w, long c, long k, long r, long s, long p, long q,
        long strideH, long strideW, long padH, long padW, long dilationH, long dilationW, IntPtr weights) =>
        Wrap(conv(n, h, w, c, k, r, s, p, q, strideH, strideW, padH, padW, dilationH, dilationW, weights, 0), "convolution");

    private Primitive Wrap(IntPtr handle, string what) =>
        handle == IntPtr.Zero ? throw new BenchException($"oneDNN {what}: {Error}") : new Primitive(this, handle);

    internal sealed class Primitive(OneDnn owner, IntPtr handle) : IDisposable
    {
        public string Implementation => Marshal.PtrToStringAnsi(owner.impl(handle)) ?? "?";

        public void Run(IntPtr source, IntPtr destination)
        {
            if (owner.run(handle, source, destination) != 0)
            {
                throw new BenchException("oneDNN execution failed: " + owner.Error);
            }
        }

        public void Dispose() => owner.free(handle);
    }

    private static void EnsureInstalled(bool mayInstall, TextWriter log)
    {
        if (File.Exists("/usr/include/dnnl.h") && LibraryPresent())
        {
            return;
        }

        if (!mayInstall)
        {
            throw new BenchException("oneDNN (Debian package libdnnl-dev) is not installed and --no-install was given");
        }

        if (Environment.UserName != "root" && Run("id", "-u").Output.Trim() != "0")
        {
            throw new BenchException("oneDNN (libdnnl-dev) is not installed; run as root so the benchmark can apt-get it, or install it yourself");
        }

        log.WriteLine("bench: installing libdnnl-dev (oneDNN) with apt-get ...");
        var update = Run("apt-get", "update -qq");
        if (update.Exit != 0)
        {
            throw new BenchException("apt-get update failed:\n" + update.Output);
        }

        var install = Run("apt-get", "install -y -qq --no-install-recommends libdnnl-dev", ("DEBIAN_FRONTEND", "noninteractive"));
        if (install.Exit != 0 || !File.Exists("/usr/include/dnnl.h"))
        {
            throw new BenchException("apt-get install libdnnl-dev failed:\n" + install.Output);
        }
    }

    private static bool LibraryPresent() =>
        Directory.EnumerateFiles("/usr/lib", "libdnnl.so", SearchOption.AllDirectories).Any();

    private static string BuildShim(string directory)
    {
        using var stream = typeof(OneDnn).Assembly.GetManifestResourceStream("onednn_shim.c")
            ?? throw new InvalidOperationException("the oneDNN shim source is not embedded");
        using var reader = new StreamReader(stream);
        var source = reader.ReadToEnd();
        var hash = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(source)))[..12].ToLowerInvariant();
        Directory.CreateDirectory(directory);
        var library = Path.Combine(directory, $"onednn_shim-{hash}.so");
        if (File.Exists(library))
        {
            return library;
        }

        var sourcePath = Path.Combine(directory, $"onednn_shim-{hash}.c");
        File.WriteAllText(sourcePath, source);
        var temporary = library + $".{Environment.ProcessId}.tmp";
        var build = Run("gcc", $"-O2 -fPIC -shared -fopenmp -o \"{temporary}\" \"{sourcePath}\" -ldnnl");
        if (build.Exit != 0)
        {
            throw new BenchException("building the oneDNN shim failed:\n" + build.Output);
        }

        File.Move(temporary, library, overwrite: true);
        return library;
    }

    internal static (int Exit, string Output) Run(string program, string arguments, params (string Name, string Value)[] environment)
    {
        var start = new ProcessStartInfo(program, arguments)
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        foreach (var (name, value) in environment)
        {
            start.Environment[name] = value;
        }

        using var process = Process.Start(start) ?? throw new BenchException($"cannot start {program}");
        var error = process.StandardError.ReadToEndAsync();
        var output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, output + error.Result);
    }
}
