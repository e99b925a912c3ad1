using System.Text;

namespace Covenant.Runtime;

/// <summary>
/// xoshiro256** (Blackman and Vigna), seeded through SplitMix64 as its authors recommend. Implemented here
/// rather than taken from <see cref="System.Random"/>, whose sequence .NET does not promise to keep, because
/// seeded inputs must give the same tensors — and checksums — on every machine and every .NET version.
/// </summary>
public sealed class SeededRandom
{
    private ulong s0;
    private ulong s1;
    private ulong s2;
    private ulong s3;

    public SeededRandom(ulong seed)
    {
        var splitMix = seed;
        s0 = SplitMix64(ref splitMix);
        s1 = SplitMix64(ref splitMix);
        s2 = SplitMix64(ref splitMix);
        s3 = SplitMix64(ref splitMix);
    }

    /// <summary>
    /// The generator of one named stream: the seed xor the FNV-1a 64 hash of the name's UTF-8 bytes. Each
    /// tensor of an instance draws from its own stream, so adding a tensor does not change the others.
    /// </summary>
    public static SeededRandom ForStream(ulong seed, string name) => new(StreamSeed(seed, name));

    public static ulong StreamSeed(ulong seed, string name) => seed ^ Fnv1a64.Hash(Encoding.UTF8.GetBytes(name));

    /// <summary>One step of SplitMix64: advances <paramref name="state"/> and returns the next output.</summary>
    public static ulong SplitMix64(ref ulong state)
    {
        unchecked
        {
            state += 0x9E3779B97F4A7C15UL;
            var z = state;
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
            return z ^ (z >> 31);
        }
    }

    /// <summary>The next 64 random bits.</summary>
    public ulong Next()
    {
        unchecked
        {
            var result = ulong.RotateLeft(s1 * 5, 7) * 9;
            var t = s1 << 17;
            s2 ^= s0;
            s3 ^= s1;
            s1 ^= s2;
            s0 ^= s3;
            s2 ^= t;
            s3 = ulong.RotateLeft(s3, 45);
            return result;
        }
    }
}
