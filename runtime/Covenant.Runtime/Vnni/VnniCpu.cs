using System.Runtime.Intrinsics.X86;
using System.Text;

namespace Covenant.Runtime.Vnni;

/// <summary>
/// What this CPU offers for VNNI kernels, from cpuid (leaf 7) and .NET's own checks of OS support for the
/// AVX-512 register state. The emitted kernels need AVX512F/BW/DQ/VL (gcc's x86-64-v4) plus AVX512_VNNI, for
/// both the zmm and the ymm form (the ymm form is EVEX-encoded, so AVX-VNNI alone is not enough).
/// </summary>
public sealed record VnniCpu(
    string Vendor,
    string Brand,
    bool Avx512F,
    bool Avx512BW,
    bool Avx512DQ,
    bool Avx512VL,
    bool Avx512Vnni,
    bool AvxVnni,
    bool AmxTile,
    bool AmxInt8)
{
    /// <summary>Set to 1 to run every VNNI kernel in the simulator, as on a CPU without VNNI.</summary>
    public const string SimulateVariable = "COVENANT_VNNI_SIMULATE";

    private static readonly Lazy<VnniCpu> Current = new(Detect);

    public static VnniCpu Host => Current.Value;

    /// <summary>Whether the emitted kernels (either width) can run natively.</summary>
    public bool CanRunKernels => Avx512F && Avx512BW && Avx512DQ && Avx512VL && Avx512Vnni;

    /// <summary>Why the kernels cannot run natively (null when they can).</summary>
    public string? MissingFeatures
    {
        get
        {
            var missing = new List<string>();
            if (!Avx512F)
            {
                missing.Add("avx512f");
            }

            if (!Avx512BW)
            {
                missing.Add("avx512bw");
            }

            if (!Avx512DQ)
            {
                missing.Add("avx512dq");
            }

            if (!Avx512VL)
            {
                missing.Add("avx512vl");
            }

            if (!Avx512Vnni)
            {
                missing.Add("avx512_vnni");
            }

            return missing.Count == 0 ? null : $"this CPU ({Brand}) lacks {string.Join(", ", missing)}";
        }
    }

    /// <summary>True when <see cref="SimulateVariable"/> is set to 1.</summary>
    public static bool SimulationForced => Environment.GetEnvironmentVariable(SimulateVariable) == "1";

    public string Describe()
    {
        var features = new List<string>();
        void Add(bool present, string name)
        {
            if (present)
            {
                features.Add(name);
            }
        }

        Add(Avx512F, "avx512f");
        Add(Avx512BW, "avx512bw");
        Add(Avx512DQ, "avx512dq");
        Add(Avx512VL, "avx512vl");
        Add(Avx512Vnni, "avx512_vnni");
        Add(AvxVnni, "avx_vnni");
        Add(AmxTile, "amx_tile");
        Add(AmxInt8, "amx_int8");
        return $"{Brand} ({Vendor}): {(features.Count == 0 ? "no AVX-512" : string.Join(" ", features))}";
    }

    private static VnniCpu Detect()
    {
        if (!X86Base.IsSupported)
        {
            return new VnniCpu("not x86", Environment.OSVersion.ToString(), false, false, false, false, false, false, false, false);
        }

        var (_, vendorB, vendorC, vendorD) = X86Base.CpuId(0, 0);
        var vendor = Text(vendorB, vendorD, vendorC);
        var brand = new StringBuilder();
        var (maxExtended, _, _, _) = X86Base.CpuId(unchecked((int)0x80000000), 0);
        if ((uint)maxExtended >= 0x80000004)
        {
            for (var leaf = 0x80000002; leaf <= 0x80000004; leaf++)
            {
                var (a, b, c, d) = X86Base.CpuId(unchecked((int)leaf), 0);
                brand.Append(Text(a, b, c, d));
            }
        }

        var (maxLeaf, _, _, _) = X86Base.CpuId(0, 0);
        int ebx7 = 0, ecx7 = 0, edx7 = 0, eax71 = 0;
        if (maxLeaf >= 7)
        {
            (_, ebx7, ecx7, edx7) = X86Base.CpuId(7, 0);
            (eax71, _, _, _) = X86Base.CpuId(7, 1);
        }

        // cpuid says what the silicon has; Avx512F.IsSupported also checks that the OS saves the zmm state.
        var os512 = System.Runtime.Intrinsics.X86.Avx512F.IsSupported;
        return new VnniCpu(
            vendor,
            brand.ToString().Trim('\0', ' '),
            Avx512F: os512 && Bit(ebx7, 16),
            Avx512BW: os512 && Bit(ebx7, 30),
            Avx512DQ: os512 && Bit(ebx7, 17),
            Avx512VL: os512 && Bit(ebx7, 31),
            Avx512Vnni: os512 && Bit(ecx7, 11),
            AvxVnni: System.Runtime.Intrinsics.X86.Avx2.IsSupported && Bit(eax71, 4),
            AmxTile: Bit(edx7, 24),
            AmxInt8: Bit(edx7, 25));
    }

    private static bool Bit(int register, int bit) => ((register >> bit) & 1) != 0;

    private static string Text(params int[] registers)
    {
        var bytes = new byte[registers.Length * 4];
        for (var i = 0; i < registers.Length; i++)
        {
            BitConverter.TryWriteBytes(bytes.AsSpan(4 * i), registers[i]);
        }

        return Encoding.ASCII.GetString(bytes).TrimEnd('\0');
    }
}
