namespace Covenant.Runtime;

/// <summary>
/// FNV-1a, 64-bit: the checksum of a tensor's canonical bytes. Chosen because it is tiny, fully
/// specified and easy to reproduce outside .NET (one multiply and one xor per byte), not for strength.
/// </summary>
public static class Fnv1a64
{
    public const ulong OffsetBasis = 14695981039346656037UL;

    public const ulong Prime = 1099511628211UL;

    public static ulong Hash(ReadOnlySpan<byte> bytes) => Append(OffsetBasis, bytes);

    /// <summary>Continues a hash over more bytes, so large data can be hashed in pieces.</summary>
    public static ulong Append(ulong hash, ReadOnlySpan<byte> bytes)
    {
        foreach (var b in bytes)
        {
            hash = unchecked((hash ^ b) * Prime);
        }

        return hash;
    }

    /// <summary>The 16 lower-case hex digits a checksum is printed as.</summary>
    public static string Format(ulong hash) => hash.ToString("x16", System.Globalization.CultureInfo.InvariantCulture);
}
