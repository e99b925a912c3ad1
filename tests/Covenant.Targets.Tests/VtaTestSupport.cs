using System.Buffers.Binary;
using Covenant.Acg;
using Covenant.Acg.Model;
using Covenant.Core.Diagnostics;
using Covenant.Runtime.Vta;
using Covenant.Targets.Vta;
using Covenant.Testing;

namespace Covenant.Targets.Tests;

/// <summary>Architecture loading, a DRAM allocator and short instruction constructors for hand-written VTA programs.</summary>
internal static class VtaTestSupport
{
    public static VtaConfig Config => VtaConfig.Default;

    public static ArchitectureGraph LoadArchitecture(string file) => Shipped.Architecture(file);

    public static Result<ArchitectureGraph> ParseArchitecture(string yaml) => AcgLoader.Parse(new SourceFile("test.yaml", yaml));

    public static VtaConfig ConfigOf(string file)
    {
        var result = VtaConfig.FromGraph(LoadArchitecture(file));
        Assert.That(result.Succeeded, Is.True, string.Join("\n", result.Diagnostics));
        return result.Value!;
    }

    public static VtaLoad Load(VtaMemoryType type, int sram, long dramElement, int y, int x, int stride, VtaDeps deps = default) => new()
    {
        MemoryType = type,
        SramBase = sram,
        DramBase = dramElement,
        YSize = y,
        XSize = x,
        XStride = stride,
        Deps = deps,
    };

    public static VtaStore Store(int sram, long dramElement, int y, int x, int stride, VtaDeps deps = default) => new()
    {
        MemoryType = VtaMemoryType.Out,
        SramBase = sram,
        DramBase = dramElement,
        YSize = y,
        XSize = x,
        XStride = stride,
        Deps = deps,
    };

    public static VtaDeps PopPrev => new(PopPrev: true);

    public static VtaDeps PopNext => new(PopNext: true);

    public static VtaDeps PushPrev => new(PushPrev: true);

    public static VtaDeps PushNext => new(PushNext: true);

    /// <summary>The compute NOP TVM's runtime ends streams with (LOAD UOP, x_size 0).</summary>
    public static VtaInstruction ComputeNop(VtaDeps deps) => VtaLoad.Nop(VtaModule.Compute, deps);

    public static VtaRunResult Run(VtaConfig config, IReadOnlyList<VtaInstruction> program, DramImage image, VtaSimulatorOptions? options = null) =>
        new VtaSimulator(config, options).Run(program, image.Dram);

    public static string Describe(VtaRunResult result) => string.Join("\n", result.Issues);

    /// <summary>Asserts the run reported an issue with this id (and severity), and returns the first.</summary>
    public static VtaIssue Expect(VtaRunResult result, Covenant.Core.Diagnostics.DiagnosticDescriptor descriptor, Severity severity = Severity.Error)
    {
        var issue = result.Issues.FirstOrDefault(i => i.Id == descriptor.Id);
        Assert.That(issue, Is.Not.Null, $"expected {descriptor.Id}, got:\n{Describe(result)}");
        Assert.That(issue!.Severity, Is.EqualTo(severity), issue.ToString());
        return issue;
    }
}

/// <summary>A DRAM image with a bump allocator; addresses are physical, aligned to 4 KiB (a multiple of every element size).</summary>
internal sealed class DramImage(VtaConfig config, int size = 1 << 20, long physicalBase = 0x40000)
{
    private long nextFree = physicalBase;

    public VtaConfig Config { get; } = config;

    public VtaDram Dram { get; } = new(physicalBase, size);

    public long Alloc(int bytes)
    {
        var address = nextFree;
        nextFree += (bytes + 4095) / 4096 * 4096;
        Assert.That(nextFree, Is.LessThanOrEqualTo(Dram.End), "test DRAM image too small");
        return address;
    }

    public long Put(ReadOnlySpan<sbyte> values)
    {
        var address = Alloc(values.Length);
        Dram.Write(address, values);
        return address;
    }

    public long Put(ReadOnlySpan<int> values)
    {
        var address = Alloc(values.Length * 4);
        Dram.Write(address, values);
        return address;
    }

    public long PutUops(IReadOnlyList<VtaUop> uops)
    {
        var bytes = new VtaEncoder(Config).EncodeUops(uops);
        var address = Alloc(bytes.Length);
        Dram.Write(address, bytes);
        return address;
    }

    public sbyte[] Read(long address, int count) => Dram.ReadSBytes(address, count);

    /// <summary>A uint32 from DRAM (to check micro-op words).</summary>
    public uint ReadWord(long address) => BinaryPrimitives.ReadUInt32LittleEndian(Dram.At(address, 4));
}
