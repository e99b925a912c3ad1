using Covenant.Core.Diagnostics;

namespace Covenant.Mapping.Z3;

/// <summary>
/// Diagnostics about the solver runtime. They take COV49xx, the top of the mapping range (COV4xxx), and
/// leave the rest of it to the mapping model.
/// </summary>
public static class Z3Diagnostics
{
    /// <summary>libz3 is missing or unusable; the message says what to do.</summary>
    public static readonly DiagnosticDescriptor Unavailable = new("COV4901", "Z3 is unavailable");
}
