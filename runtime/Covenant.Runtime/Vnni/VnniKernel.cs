using System.Collections.Concurrent;
using System.Diagnostics;
using System.Runtime.InteropServices;
using Covenant.Codelets.Semantics;

namespace Covenant.Runtime.Vnni;

/// <summary>Where a VNNI kernel runs.</summary>
public enum VnniBackend
{
    /// <summary>The gcc-built shared library, on this CPU.</summary>
    Native,

    /// <summary>The instruction-level simulator (<see cref="VnniSimulator"/>), on the same program.</summary>
    Simulator,
}

public sealed record VnniKernelOptions
{
    public static VnniKernelOptions Default { get; } = new();

    /// <summary>Run in the simulator even where the CPU could run the kernel (also: COVENANT_VNNI_SIMULATE=1).</summary>
    public bool ForceSimulator { get; init; }

    /// <summary>Where libraries are built and cached; <see cref="VnniNativeCompiler.DefaultDirectory"/> when null.</summary>
    public string? BuildDirectory { get; init; }
}

/// <summary>
/// A VNNI program to prepare: the program, the C it prints, the flags its ISA needs from the C compiler, and the
/// tensor its run writes (null for a program built by hand, which has no codelet behind it). The compiler makes one
/// from a plan; the runtime only runs it.
/// </summary>
public sealed record VnniKernelSource(VnniProgram Program, string Source, string CompilerFlags, TensorInstance? Output);

/// <summary>
/// A VNNI kernel ready to run: the program (built from a plan by the compiler), its C source, and either the native library
/// (when this CPU has AVX-512 VNNI and gcc is there) or the simulator. <see cref="Load"/> copies the inputs in and
/// runs <c>init</c> and <c>pack</c>; <see cref="Run"/> runs the kernel; <see cref="Output"/> reads the result.
/// </summary>
public sealed class VnniKernel : IDisposable
{
    // Libraries stay loaded for the life of the process: unloading one whose OpenMP threads may still be parked
    // in libgomp is not safe, and a kernel is small.
    private static readonly ConcurrentDictionary<string, NativeEntryPoints> Libraries = new(StringComparer.Ordinal);

    private readonly NativeEntryPoints? native;
    private readonly VnniSimulator? simulator;
    private readonly IntPtr[] nativeBlocks = [];
    private readonly IntPtr[] nativeBuffers = [];
    private readonly IntPtr pointerArray;
    private readonly byte[][] simulatedBuffers = [];
    private bool disposed;

    private VnniKernel(VnniKernelSource kernel, string? library, string? simulationReason)
    {
        var program = kernel.Program;
        OutputTensor = kernel.Output;
        Program = program;
        Source = kernel.Source;
        LibraryPath = library;
        SimulationReason = simulationReason;
        if (library is not null)
        {
            native = Libraries.GetOrAdd(library, NativeEntryPoints.Load);
            nativeBlocks = new IntPtr[program.Buffers.Length];
            nativeBuffers = new IntPtr[program.Buffers.Length];
            pointerArray = Marshal.AllocHGlobal(IntPtr.Size * program.Buffers.Length);
            for (var b = 0; b < program.Buffers.Length; b++)
            {
                // 64-byte aligned, so vector loads of packed B never straddle a cache line.
                var bytes = program.Buffers[b].Bytes;
                nativeBlocks[b] = Marshal.AllocHGlobal((IntPtr)(bytes + 64));
                nativeBuffers[b] = (IntPtr)(((long)nativeBlocks[b] + 63) & ~63L);
                Zero(nativeBuffers[b], bytes);
                Marshal.WriteIntPtr(pointerArray, b * IntPtr.Size, nativeBuffers[b]);
            }
        }
        else
        {
            simulator = new VnniSimulator(program);
            simulatedBuffers = [.. program.Buffers.Select(b => new byte[b.Bytes])];
        }
    }

    /// <summary>The tensor the kernel writes (null for a program built by hand, see <see cref="FromProgram"/>).</summary>
    public TensorInstance? OutputTensor { get; }

    public VnniProgram Program { get; }

    /// <summary>The emitted C (also what the library was built from).</summary>
    public string Source { get; }

    /// <summary>The shared library, when native.</summary>
    public string? LibraryPath { get; }

    /// <summary>Why the kernel runs in the simulator (null when native).</summary>
    public string? SimulationReason { get; }

    public VnniBackend Backend => native is not null ? VnniBackend.Native : VnniBackend.Simulator;

    /// <summary>Vector instructions the simulator executed (0 when native).</summary>
    public long SimulatedVectorInstructions => simulator?.VectorInstructions ?? 0;

    /// <summary>vpdpbusd instructions the simulator executed (0 when native).</summary>
    public long SimulatedDotInstructions => simulator?.DotInstructions ?? 0;

    /// <summary>Prepares a kernel natively, or in the simulator where it cannot run natively.</summary>
    public static VnniKernel Create(VnniKernelSource kernel, VnniKernelOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(kernel);
        options ??= VnniKernelOptions.Default;
        string? reason = null;
        if (options.ForceSimulator)
        {
            reason = "the simulator was requested";
        }
        else if (VnniCpu.SimulationForced)
        {
            reason = $"{VnniCpu.SimulateVariable}=1";
        }
        else if (VnniCpu.Host.MissingFeatures is { } missing)
        {
            reason = missing;
        }

        string? library = null;
        if (reason is null)
        {
            try
            {
                library = VnniNativeCompiler.Build(kernel.Source, kernel.CompilerFlags, options.BuildDirectory, kernel.Program.Name);
            }
            catch (System.ComponentModel.Win32Exception e)
            {
                reason = $"the C compiler '{VnniNativeCompiler.Compiler}' cannot be started ({e.Message})";
            }
        }

        return new VnniKernel(kernel, library, reason);
    }

    /// <summary>Prepares any program (one built by hand in a test, say) the same way: native where possible.</summary>
    public static VnniKernel FromProgram(VnniProgram program, string compilerFlags, VnniKernelOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(program);
        return Create(new VnniKernelSource(program, VnniCEmitter.Emit(program), compilerFlags, null), options);
    }

    /// <summary>Copies the inputs in (canonical bytes), then builds the offset tables and packs B.</summary>
    public void Load(IReadOnlyDictionary<string, TensorData> inputs)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        ObjectDisposedException.ThrowIf(disposed, this);
        foreach (var buffer in Program.Buffers.Where(b => b.Kind == VnniBufferKind.Input))
        {
            if (!inputs.TryGetValue(buffer.Tensor!, out var tensor))
            {
                throw new ArgumentException($"input '{buffer.Tensor}' is missing", nameof(inputs));
            }

            var bytes = tensor.ToBytes();
            if (bytes.LongLength != buffer.Bytes)
            {
                throw new ArgumentException($"input '{buffer.Tensor}' has {bytes.LongLength} bytes, the kernel expects {buffer.Bytes}", nameof(inputs));
            }

            Write(buffer.Index, bytes);
        }

        Call(VnniProgram.InitFunction);
        Call(VnniProgram.PackFunction);
    }

    /// <summary>Runs the kernel once (A into A', then the GEMM and its epilogue).</summary>
    public void Run()
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        Call(VnniProgram.RunFunction);
    }

    /// <summary>Runs <paramref name="repetitions"/> times and returns each run's seconds.</summary>
    public double[] Time(int repetitions)
    {
        var times = new double[repetitions];
        for (var r = 0; r < repetitions; r++)
        {
            var start = Stopwatch.GetTimestamp();
            Run();
            times[r] = Stopwatch.GetElapsedTime(start).TotalSeconds;
        }

        return times;
    }

    /// <summary>The output tensor as the last run left it.</summary>
    public TensorData Output()
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        var tensor = OutputTensor ?? throw new InvalidOperationException("a kernel built from a bare program has no output tensor; use Read");
        var buffer = Program.BufferOf(tensor.Name);
        return TensorData.FromBytes(tensor.ElementType, tensor.Shape, Read(buffer.Index));
    }

    /// <summary>A copy of a buffer's bytes (for tests and listings).</summary>
    public byte[] Read(int buffer)
    {
        var info = Program.Buffers[buffer];
        if (native is not null)
        {
            var bytes = new byte[info.Bytes];
            Marshal.Copy(nativeBuffers[buffer], bytes, 0, bytes.Length);
            return bytes;
        }

        return simulatedBuffers[buffer][..(int)info.Bytes];
    }

    /// <summary>The address of a buffer, when native (for a baseline that shares the inputs).</summary>
    public IntPtr Address(int buffer) => native is not null ? nativeBuffers[buffer] : IntPtr.Zero;

    /// <summary>Copies bytes into the start of a buffer.</summary>
    public void Write(int buffer, byte[] bytes)
    {
        ArgumentNullException.ThrowIfNull(bytes);
        ObjectDisposedException.ThrowIf(disposed, this);
        if (bytes.LongLength > Program.Buffers[buffer].Bytes)
        {
            throw new ArgumentException($"buffer '{Program.Buffers[buffer].Name}' has {Program.Buffers[buffer].Bytes} bytes, not {bytes.LongLength}", nameof(bytes));
        }

        if (native is not null)
        {
            Marshal.Copy(bytes, 0, nativeBuffers[buffer], bytes.Length);
        }
        else
        {
            bytes.CopyTo(simulatedBuffers[buffer], 0);
        }
    }

    /// <summary>Runs one entry point of the program (<c>init</c>, <c>pack</c> or <c>run</c>).</summary>
    public void Call(string function)
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        if (native is not null)
        {
            native.Entry(function)(pointerArray);
            GC.KeepAlive(this);
        }
        else
        {
            simulator!.Run(function, simulatedBuffers);
        }
    }

    private static void Zero(IntPtr address, long bytes)
    {
        var zeros = new byte[Math.Min(bytes, 1 << 20)];
        for (long done = 0; done < bytes; done += zeros.Length)
        {
            Marshal.Copy(zeros, 0, address + (nint)done, (int)Math.Min(zeros.Length, bytes - done));
        }
    }

    public void Dispose()
    {
        if (disposed)
        {
            return;
        }

        disposed = true;
        foreach (var block in nativeBlocks)
        {
            Marshal.FreeHGlobal(block);
        }

        if (pointerArray != IntPtr.Zero)
        {
            Marshal.FreeHGlobal(pointerArray);
        }
    }

    /// <summary><c>void covenant_vnni_NAME(void** buffers)</c>, called through an unmanaged (cdecl) function pointer.</summary>
    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    private delegate void EntryPoint(IntPtr buffers);

    private sealed class NativeEntryPoints
    {
        private readonly Dictionary<string, EntryPoint> entries = new(StringComparer.Ordinal);

        public EntryPoint Entry(string name) => entries[name];

        public static NativeEntryPoints Load(string path)
        {
            var handle = NativeLibrary.Load(path);
            var result = new NativeEntryPoints();
            foreach (var name in new[] { VnniProgram.InitFunction, VnniProgram.PackFunction, VnniProgram.RunFunction })
            {
                var address = NativeLibrary.GetExport(handle, VnniCEmitter.ExportPrefix + name);
                result.entries[name] = Marshal.GetDelegateForFunctionPointer<EntryPoint>(address);
            }

            return result;
        }
    }
}

/// <summary>What <see cref="VnniRunner.Run"/> did: the outputs, where the kernel ran and how long it took.</summary>
public sealed record VnniRunResult(
    IReadOnlyDictionary<string, TensorData> Outputs,
    VnniBackend Backend,
    string? SimulationReason,
    double Seconds,
    long SimulatedVectorInstructions,
    string Source);

/// <summary>
/// Runs a kernel on given inputs (native where possible, else simulated once). Natively the time is the median
/// of warm runs after a first, cold one (up to <see cref="MaxWarmRuns"/>, within about <see cref="TimingSeconds"/>):
/// one call's time includes waking the threads and faulting in the buffers, which would rank mappings by noise.
/// </summary>
public static class VnniRunner
{
    public const int MaxWarmRuns = 15;

    public const double TimingSeconds = 0.05;

    public static VnniRunResult Run(VnniKernelSource source, IReadOnlyDictionary<string, TensorData> inputs, VnniKernelOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(source);
        using var kernel = VnniKernel.Create(source, options);
        kernel.Load(inputs);
        var start = Stopwatch.GetTimestamp();
        kernel.Run();
        var seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
        if (kernel.Backend == VnniBackend.Native)
        {
            // The kernel recomputes its output from the packed inputs on every call, so repeating it is harmless.
            var warm = new List<double>();
            var budget = Stopwatch.GetTimestamp();
            while (warm.Count < MaxWarmRuns && (warm.Count < 3 || Stopwatch.GetElapsedTime(budget).TotalSeconds < TimingSeconds))
            {
                var run = Stopwatch.GetTimestamp();
                kernel.Run();
                warm.Add(Stopwatch.GetElapsedTime(run).TotalSeconds);
            }

            warm.Sort();
            seconds = warm[warm.Count / 2];
        }

        var output = kernel.Output();
        return new VnniRunResult(
            new Dictionary<string, TensorData>(StringComparer.Ordinal) { [kernel.OutputTensor!.Name] = output },
            kernel.Backend, kernel.SimulationReason, seconds, kernel.SimulatedVectorInstructions, kernel.Source);
    }
}
