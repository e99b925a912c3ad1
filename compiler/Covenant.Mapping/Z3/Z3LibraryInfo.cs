namespace Covenant.Mapping.Z3;

/// <summary>How Microsoft.Z3 reaches native code in this process.</summary>
public enum Z3Binding
{
    /// <summary>The system libz3, which has everything the wrapper calls (libz3 4.12 or newer).</summary>
    System,

    /// <summary>The z3compat shim (libz3compat.so) in front of an older system libz3.</summary>
    Shim,

    /// <summary>The native library shipped in the Microsoft.Z3 package (Windows, macOS).</summary>
    Packaged,
}

/// <summary>
/// What <see cref="Z3Runtime"/> bound: the library Microsoft.Z3's calls go to, and the version of the libz3
/// that does the work. <paramref name="UnderlyingLibrary"/> names the system libz3 behind the shim, when there is one.
/// </summary>
public sealed record Z3LibraryInfo(Z3Binding Binding, string Library, string Version, string? UnderlyingLibrary)
{
    public override string ToString() => Binding switch
    {
        Z3Binding.Shim => $"Z3 {Version} ({UnderlyingLibrary} through the compatibility shim {Library})",
        _ => $"Z3 {Version} ({Library})",
    };
}

/// <summary>
/// The shim's counters, for tests and diagnostics. Deferred: dec_refs queued. Drained: queued dec_refs run on
/// the context's own thread. Dropped: dec_refs for contexts already deleted. Pending: queued, not yet run.
/// </summary>
public sealed record Z3ShimStatistics(ulong Deferred, ulong Drained, ulong Dropped, ulong LiveContexts, bool Passthrough, ulong Pending);
