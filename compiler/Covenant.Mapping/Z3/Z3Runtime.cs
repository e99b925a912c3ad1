using System.Globalization;
using System.Reflection;
using System.Runtime.InteropServices;
using Covenant.Core.Diagnostics;
using Microsoft.Z3;

namespace Covenant.Mapping.Z3;

/// <summary>
/// The one place that binds the Microsoft.Z3 wrapper to a native libz3 and creates contexts.
/// Call <see cref="EnsureInitialized"/> (or create contexts through <see cref="CreateContext"/>) before any other
/// use of Microsoft.Z3 in the process. The wrapper binds each native function the first time it is called,
/// so a call made before initialization stays bound to whatever the default search found.
/// </summary>
/// <remarks>
/// On Linux the Microsoft.Z3 package has no native library and binds "libz3" to the system's. Microsoft.Z3 4.12
/// calls <c>Z3_enable_concurrent_dec_ref</c> on every new context; libz3 before 4.12 (Debian 12: 4.8.12) lacks it.
/// The build then compiles the z3compat shim (Native/z3compat.c), which supplies the function and makes the
/// dec_refs that finalizers issue safe. This class binds "libz3" to the first of these that applies:
/// <list type="number">
/// <item>the system libz3, if it exports the function;</item>
/// <item>otherwise libz3compat.so beside this assembly, unless <c>COVENANT_Z3_NO_SHIM=1</c> turns it off.</item>
/// </list>
/// Elsewhere (Windows, macOS) the package's own library is used.
/// </remarks>
public static class Z3Runtime
{
    /// <summary>Escape hatch: set to 1 to bind Microsoft.Z3 straight to the system libz3, never to the shim.</summary>
    public const string NoShimVariable = "COVENANT_Z3_NO_SHIM";

    /// <summary>
    /// Diagnostic only, read by the shim itself: set to 1 and the shim supplies the missing entry point
    /// as a no-op and forwards every dec_ref at once. That reproduces the finalizer race the shim exists to prevent.
    /// </summary>
    public const string ShimPassthroughVariable = "COVENANT_Z3_SHIM_PASSTHROUGH";

    /// <summary>The shim's file name, next to the assemblies.</summary>
    public const string ShimFileName = "libz3compat.so";

    /// <summary>Timeout for solver calls that name none (10 s): no solver call in Covenant runs unbounded.</summary>
    public const int DefaultTimeoutMs = 10_000;

    private const string WrapperLibraryName = "libz3"; // what Microsoft.Z3's DllImports name
    private const string ConcurrentDecRef = "Z3_enable_concurrent_dec_ref";
    private const string SetupHint = "run tools/setup.sh";

    private static readonly Lazy<Result<Z3LibraryInfo>> State = new(Initialize, LazyThreadSafetyMode.ExecutionAndPublication);
    private static IntPtr boundHandle;
    private static IntPtr shimHandle;

    /// <summary>
    /// Binds Microsoft.Z3 to a usable libz3, at most once per process (thread-safe), and reports the outcome:
    /// the library in use, or a diagnostic (<see cref="Z3Diagnostics.Unavailable"/>) saying what to do.
    /// </summary>
    public static Result<Z3LibraryInfo> TryInitialize() => State.Value;

    /// <summary>As <see cref="TryInitialize"/>, but throws <see cref="Z3UnavailableException"/> when Z3 cannot be used.</summary>
    public static Z3LibraryInfo EnsureInitialized()
    {
        var result = State.Value;
        return result.Succeeded
            ? result.Value
            : throw new Z3UnavailableException(result.Diagnostics[0].Message);
    }

    /// <summary>
    /// A new context whose solvers default to <paramref name="defaultTimeoutMs"/> milliseconds per check and
    /// produce models. Dispose it when done. Use it from one thread at a time, as every Z3 context must be.
    /// </summary>
    public static Context CreateContext(int defaultTimeoutMs = DefaultTimeoutMs)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(defaultTimeoutMs);
        EnsureInitialized();
        return new Context(new Dictionary<string, string>
        {
            ["timeout"] = defaultTimeoutMs.ToString(CultureInfo.InvariantCulture),
            ["model"] = "true",
        });
    }

    /// <summary>The shim's counters, or null when the shim is not in use.</summary>
    public static Z3ShimStatistics? ShimStatistics
    {
        get
        {
            if (!State.Value.Succeeded || shimHandle == IntPtr.Zero)
            {
                return null;
            }

            var counter = Marshal.GetDelegateForFunctionPointer<CounterFunction>(
                NativeLibrary.GetExport(shimHandle, "z3compat_counter"));
            return new Z3ShimStatistics(
                Deferred: counter(0),
                Drained: counter(1),
                Dropped: counter(2),
                LiveContexts: counter(3),
                Passthrough: counter(4) != 0,
                Pending: counter(5));
        }
    }

    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    private delegate ulong CounterFunction(int which);

    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    private delegate IntPtr FullVersionFunction();

    private static Result<Z3LibraryInfo> Initialize()
    {
        try
        {
            return OperatingSystem.IsLinux() ? BindOnLinux() : UsePackagedLibrary();
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException or BadImageFormatException)
        {
            return Unavailable($"libz3 cannot be loaded ({e.Message}); {SetupHint}");
        }
    }

    private static Result<Z3LibraryInfo> UsePackagedLibrary()
    {
        // Windows and macOS: the package's libz3 is version 4.12 and has everything the wrapper calls.
        var version = Microsoft.Z3.Version.FullVersion;
        return Result<Z3LibraryInfo>.Success(new Z3LibraryInfo(Z3Binding.Packaged, "libz3 (Microsoft.Z3 package)", version, null));
    }

    private static Result<Z3LibraryInfo> BindOnLinux()
    {
        string? systemName = null;
        var system = IntPtr.Zero;
        // libz3.so is what the default search would find (it comes with libz3-dev); libz3.so.4 is the runtime
        // package's soname. Both are the same file on Debian, and the shim's DT_NEEDED loads that same object.
        foreach (var name in new[] { "libz3.so", "libz3.so.4" })
        {
            if (NativeLibrary.TryLoad(name, out system))
            {
                systemName = name;
                break;
            }
        }

        if (systemName is null)
        {
            return Unavailable($"libz3 is not installed; {SetupHint}");
        }

        var systemVersion = FullVersion(system);
        if (NativeLibrary.TryGetExport(system, ConcurrentDecRef, out _))
        {
            return Bind(system, new Z3LibraryInfo(Z3Binding.System, systemName, systemVersion, null));
        }

        var lacks = $"the system libz3 ({systemName}, version {systemVersion}) lacks {ConcurrentDecRef}, which Microsoft.Z3 4.12 calls on every new context";
        if (Environment.GetEnvironmentVariable(NoShimVariable) == "1")
        {
            return Unavailable($"{lacks}, and {NoShimVariable}=1 turns off the compatibility shim that supplies it; unset {NoShimVariable} or install libz3 4.12 or newer");
        }

        var shimPath = FindShim();
        if (shimPath is null)
        {
            return Unavailable($"{lacks}, and the compatibility shim {ShimFileName} was not built next to Covenant.Mapping.dll; {SetupHint} (it installs gcc and libz3-dev), then build again");
        }

        IntPtr shim;
        try
        {
            shim = NativeLibrary.Load(shimPath);
        }
        catch (DllNotFoundException e)
        {
            return Unavailable($"the Z3 compatibility shim {shimPath} cannot be loaded ({e.Message}); {SetupHint}, then build again");
        }

        shimHandle = shim;
        return Bind(shim, new Z3LibraryInfo(Z3Binding.Shim, shimPath, systemVersion, systemName));
    }

    private static Result<Z3LibraryInfo> Bind(IntPtr handle, Z3LibraryInfo info)
    {
        boundHandle = handle;
        try
        {
            NativeLibrary.SetDllImportResolver(typeof(Context).Assembly, Resolve);
        }
        catch (InvalidOperationException)
        {
            return Unavailable("another component has already installed a native-library resolver for Microsoft.Z3; only Z3Runtime may bind it");
        }

        return Result<Z3LibraryInfo>.Success(info);
    }

    private static IntPtr Resolve(string libraryName, Assembly assembly, DllImportSearchPath? searchPath) =>
        libraryName == WrapperLibraryName ? boundHandle : IntPtr.Zero;

    private static string? FindShim()
    {
        var candidates = new List<string> { AppContext.BaseDirectory };
        var assemblyDirectory = Path.GetDirectoryName(typeof(Z3Runtime).Assembly.Location);
        if (!string.IsNullOrEmpty(assemblyDirectory))
        {
            candidates.Add(assemblyDirectory);
        }

        return candidates.Select(dir => Path.Combine(dir, ShimFileName)).FirstOrDefault(File.Exists);
    }

    private static string FullVersion(IntPtr library)
    {
        if (!NativeLibrary.TryGetExport(library, "Z3_get_full_version", out var export))
        {
            return "unknown";
        }

        var text = Marshal.GetDelegateForFunctionPointer<FullVersionFunction>(export)();
        return Marshal.PtrToStringAnsi(text) ?? "unknown";
    }

    private static Result<Z3LibraryInfo> Unavailable(string message) =>
        Result<Z3LibraryInfo>.Failure(Z3Diagnostics.Unavailable.Create(null, message));
}
