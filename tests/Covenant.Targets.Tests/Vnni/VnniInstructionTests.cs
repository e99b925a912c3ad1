using System.Buffers.Binary;
using System.Collections.Immutable;
using Covenant.Runtime.Vnni;
using Covenant.Targets.Vnni;
using static Covenant.Targets.Tests.Vnni.VnniTestSupport;

namespace Covenant.Targets.Tests.Vnni;

/// <summary>
/// The simulator's instruction semantics: each vector operation on hand-built programs, against hand-computed
/// values, and differentially against the same program compiled with gcc and run natively.
/// </summary>
public class VnniInstructionTests
{
    // Buffers: 0 = u8 input (bytes), 1 = i32 input, 2 = i32 output, 3 = i8 output.
    private static VnniProgram Program(int lanes, params VnniStmt[] run)
    {
        var buffers = ImmutableArray.Create(
            new VnniBufferInfo(0, "bytes", VnniScalarType.U8, 256, VnniBufferKind.Input, null),
            new VnniBufferInfo(1, "ints", VnniScalarType.I32, 64, VnniBufferKind.Input, null),
            new VnniBufferInfo(2, "out", VnniScalarType.I32, 256, VnniBufferKind.Output, null),
            new VnniBufferInfo(3, "narrow", VnniScalarType.I8, 64, VnniBufferKind.Output, null));
        var empty = new VnniBlock([]);
        return new VnniProgram("instructions", lanes, buffers,
            [new VnniFunction(VnniProgram.InitFunction, empty), new VnniFunction(VnniProgram.PackFunction, empty), new VnniFunction(VnniProgram.RunFunction, new VnniBlock([.. run]))],
            VariableCount: 4, RegisterCount: 8, Threads: 1);
    }

    private static VnniVReg R(int slot) => new(slot, "v" + slot);

    private static VnniVector Load(int reg, int buffer, long index, int count = 0) =>
        new(VnniVectorOp.Load, R(reg), Buffer: buffer, Index: index, Count: count);

    private static VnniVector Store(int reg, long index, int count = 0) =>
        new(VnniVectorOp.Store32, null, R(reg), Buffer: 2, Index: index, Count: count);

    /// <summary>Every operation the kernels use, each result stored to its own slice of the output.</summary>
    private static VnniProgram AllOperations(int lanes) => Program(lanes,
        Load(0, 0, 0),                                                                     // u8 bytes
        Load(1, 0, 64),                                                                    // bytes read as the signed operand
        Load(2, 1, 0),                                                                     // int32 accumulators
        new VnniVector(VnniVectorOp.Dpbusd, R(2), R(0), R(1)),
        Store(2, 0),
        new VnniVector(VnniVectorOp.Broadcast, R(3), Buffer: 0, Index: 128L),
        Load(4, 1, 16),
        new VnniVector(VnniVectorOp.Dpbusd, R(4), R(3), R(1)),
        Store(4, 16),
        new VnniVector(VnniVectorOp.Add, R(5), R(2), R(4)),
        Store(5, 32),
        new VnniVector(VnniVectorOp.Max, R(5), R(2), R(4)),
        Store(5, 48),
        new VnniVector(VnniVectorOp.Min, R(5), R(2), R(4)),
        Store(5, 64),
        new VnniVector(VnniVectorOp.ShiftRight, R(5), R(2), Immediate: 7),
        Store(5, 80),
        new VnniVector(VnniVectorOp.ShiftRight, R(5), R(2), Immediate: 31),
        Store(5, 96),
        new VnniVector(VnniVectorOp.Set1, R(6), Scalar: -77L),
        Store(6, 112, count: 5),                                                           // masked: 5 lanes
        Load(7, 1, 32, count: 3),                                                          // masked: 3 lanes, rest 0
        Store(7, 128),
        new VnniVector(VnniVectorOp.Zero, R(7)),
        Store(7, 144, count: 1),
        new VnniVector(VnniVectorOp.Store8, null, R(2), Buffer: 3, Index: 0L, Count: lanes),
        new VnniVector(VnniVectorOp.Store8, null, R(4), Buffer: 3, Index: 32L, Count: 3));

    private static (byte[] Bytes, byte[] Ints) RandomInputs(int seed)
    {
        var random = new Random(seed);
        var bytes = new byte[256];
        random.NextBytes(bytes);
        bytes[0] = 255; // extremes: 255 x -128 in one lane
        bytes[64] = 0x80;
        var ints = new byte[256];
        random.NextBytes(ints);
        BinaryPrimitives.WriteInt32LittleEndian(ints, int.MaxValue); // the first lane overflows
        return (bytes, ints);
    }

    private static (byte[] Out, byte[] Narrow) Execute(VnniProgram program, bool simulate, int seed)
    {
        using var kernel = VnniKernel.FromProgram(program, program.Lanes == 16 ? Isa512Flags : Isa256Flags,
            new VnniKernelOptions { ForceSimulator = simulate, BuildDirectory = BuildDirectory });
        Assert.That(kernel.Backend, Is.EqualTo(simulate ? VnniBackend.Simulator : VnniBackend.Native), kernel.SimulationReason);
        var (bytes, ints) = RandomInputs(seed);
        var sentinel = Enumerable.Repeat((byte)0x5A, 1024).ToArray();
        kernel.Write(0, bytes);
        kernel.Write(1, ints);
        kernel.Write(2, sentinel);
        kernel.Write(3, sentinel[..64]);
        kernel.Call(VnniProgram.RunFunction);
        return (kernel.Read(2), kernel.Read(3));
    }

    private static string Isa512Flags => VnniIsa.FromGraph(Architecture("vnni-avx512")).Value!.CompilerFlags;

    private static string Isa256Flags => VnniIsa.FromGraph(Architecture("vnni-avx256")).Value!.CompilerFlags;

    [TestCase(16)]
    [TestCase(8)]
    public void TheSimulatorComputesWhatTheInstructionsDefine(int lanes)
    {
        var (bytes, ints) = RandomInputs(1);
        var (output, narrow) = Execute(AllOperations(lanes), simulate: true, seed: 1);
        int In(int lane) => BinaryPrimitives.ReadInt32LittleEndian(ints.AsSpan(4 * lane));
        int Out(int index) => BinaryPrimitives.ReadInt32LittleEndian(output.AsSpan(4 * index));
        long Dot(int unsignedOffset, int lane, bool broadcast)
        {
            long sum = 0;
            for (var k = 0; k < 4; k++)
            {
                var u = bytes[broadcast ? unsignedOffset + k : unsignedOffset + (4 * lane) + k];
                var s = (sbyte)bytes[64 + (4 * lane) + k];
                sum += u * s;
            }

            return sum;
        }

        for (var j = 0; j < lanes; j++)
        {
            var first = unchecked((int)(In(j) + Dot(0, j, broadcast: false)));
            var second = unchecked((int)(In(16 + j) + Dot(128, j, broadcast: true)));
            Assert.That(Out(j), Is.EqualTo(first), $"vpdpbusd lane {j}");
            Assert.That(Out(16 + j), Is.EqualTo(second), $"broadcast + vpdpbusd lane {j}");
            Assert.That(Out(32 + j), Is.EqualTo(unchecked(first + second)), "vpaddd wraps");
            Assert.That(Out(48 + j), Is.EqualTo(Math.Max(first, second)));
            Assert.That(Out(64 + j), Is.EqualTo(Math.Min(first, second)));
            Assert.That(Out(80 + j), Is.EqualTo(first >> 7), "vpsrad is arithmetic");
            Assert.That(Out(96 + j), Is.EqualTo(first < 0 ? -1 : 0));
            Assert.That(Out(112 + j), Is.EqualTo(j < 5 ? -77 : 0x5A5A5A5A), "a masked store leaves the other lanes alone");
            Assert.That(Out(128 + j), Is.EqualTo(j < 3 ? In(32 + j) : 0), "a masked load zeroes the other lanes");
            Assert.That(Out(144 + j), Is.EqualTo(j < 1 ? 0 : 0x5A5A5A5A));
            Assert.That((sbyte)narrow[j], Is.EqualTo(unchecked((sbyte)first)), "vpmovdb keeps the low byte");
            Assert.That(narrow[32 + j], Is.EqualTo(j < 3 ? unchecked((byte)second) : 0x5A));
        }

        // The first lane: int.MaxValue plus a positive dot product wraps (vpdpbusd, not the saturating vpdpbusds).
        Assert.That(Dot(0, 0, false), Is.Not.Zero);
    }

    [TestCase(16)]
    [TestCase(8)]
    public void NativeAndSimulatedInstructionsAgreeBitForBit(int lanes)
    {
        RequireNativeVnni();
        for (var seed = 1; seed <= 5; seed++)
        {
            var program = AllOperations(lanes);
            var native = Execute(program, simulate: false, seed);
            var simulated = Execute(program, simulate: true, seed);
            Assert.That(native.Out, Is.EqualTo(simulated.Out), $"seed {seed}");
            Assert.That(native.Narrow, Is.EqualTo(simulated.Narrow), $"seed {seed}");
        }
    }

    [Test]
    public void DotProductLaneSemantics()
    {
        Assert.Multiple(() =>
        {
            // Four times 255 x -128: -130 560, no saturation of the pairwise sums.
            Assert.That(VnniSimulator.Dot4(unchecked((int)0xFFFFFFFF), unchecked((int)0x80808080)), Is.EqualTo(4 * 255 * -128));
            Assert.That(VnniSimulator.Dot4(unchecked((int)0xFFFFFFFF), 0x7F7F7F7F), Is.EqualTo(4 * 255 * 127));
            Assert.That(VnniSimulator.Dot4(0x04030201, 0x01FF02FE), Is.EqualTo((1 * -2) + (2 * 2) + (3 * -1) + (4 * 1)));
        });
    }

    [Test]
    public void AnAccessOutsideABufferIsReportedWithItsName()
    {
        var program = Program(16, Load(0, 1, 60));
        using var kernel = VnniKernel.FromProgram(program, Isa512Flags, new VnniKernelOptions { ForceSimulator = true });
        var error = Assert.Throws<VnniSimulationException>(() => kernel.Call(VnniProgram.RunFunction));
        Assert.That(error!.Message, Does.Contain("'ints'"));
    }

    [Test]
    public void ParallelLoopsAndScalarCodeRunInTheSimulatorAsInC()
    {
        // out[i] = 3 * i - 5 for i < 40, written by a parallel loop; the rest untouched.
        var i = new VnniVar(0, "i");
        var program = Program(16, new VnniFor(i, 0, 40, 1, new VnniBlock([new VnniStore(2, i, (new VnniVarRef(i) * 3) - 5)]), Parallel: true));
        foreach (var simulate in VnniCpu.Host.CanRunKernels && !VnniCpu.SimulationForced && VnniNativeCompiler.Available() ? new[] { true, false } : [true])
        {
            var (output, _) = Execute(program, simulate, 1);
            for (var k = 0; k < 64; k++)
            {
                Assert.That(BinaryPrimitives.ReadInt32LittleEndian(output.AsSpan(4 * k)), Is.EqualTo(k < 40 ? (3 * k) - 5 : 0x5A5A5A5A), $"simulate={simulate}");
            }
        }
    }
}
