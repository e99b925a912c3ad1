using System.Collections.Immutable;
using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using Covenant.Acg;
using Covenant.Acg.Model;
using Covenant.Codelets;
using Covenant.Codelets.Semantics;
using Covenant.Compiler;
using Covenant.Core.Diagnostics;
using Covenant.Mapping;
using Covenant.Mapping.Search;
using Covenant.Runtime;
using Covenant.Runtime.Reference;
using Covenant.Runtime.Vnni;
using Covenant.Targets.Vnni;

namespace Covenant.Bench;

/// <summary>One layer's measurements.</summary>
internal sealed record LayerResult(
    string Suite,
    string Layer,
    string Codelet,
    string Shape,
    long Operations,
    double OursSeconds,
    double OursBest,
    double? OneDnnSeconds,
    double? OneDnnBest,
    double? UncappedSeconds,
    double? PeakOpsPerSecond,
    string Check,
    string Checksum,
    string? OneDnnImplementation,
    string? UncappedImplementation,
    string Plan)
{
    public double OursGops => Operations / OursSeconds / 1e9;

    public double? OneDnnGops => OneDnnSeconds is { } s ? Operations / s / 1e9 : null;

    public double? UncappedGops => UncappedSeconds is { } s ? Operations / s / 1e9 : null;

    /// <summary>Our speed over capped oneDNN's (above 1: we are faster), from the medians.</summary>
    public double? Ratio => OneDnnSeconds is { } s ? s / OursSeconds : null;

    /// <summary>The same from each side's fastest run (less sensitive to other load on the machine).</summary>
    public double? RatioBest => OneDnnBest is { } s ? s / OursBest : null;

    public double? PercentOfPeak => PeakOpsPerSecond is { } peak ? 100 * Operations / OursSeconds / peak : null;
}

/// <summary>
/// The benchmark's entry point, callable from another program (<c>covenantc bench</c>) with the same arguments as the
/// command line; the table goes to <c>stdout</c>, progress and problems to <c>stderr</c>. Exit codes: 0, 1 for a usage or
/// set-up problem, 2 when a result differs.
/// </summary>
public static class BenchProgram
{
    public static int Execute(string[] args) => Execute(args, Console.Out, Console.Error);

    public static int Execute(string[] args, TextWriter stdout, TextWriter stderr)
    {
        ArgumentNullException.ThrowIfNull(stdout);
        ArgumentNullException.ThrowIfNull(stderr);
        try
        {
            var options = BenchOptions.Parse(args);
            return options.ChildUncapped ? RunChild(options, stdout, stderr) : Run(options, stdout, stderr);
        }
        catch (BenchException e)
        {
            stderr.WriteLine("covenant-bench: " + e.Message);
            return 1;
        }
    }

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Covenant.sln")))
            {
                return dir.FullName;
            }
        }

        return Directory.GetCurrentDirectory();
    }

    private static string Resolve(string nameOrPath, string folder, string extension)
    {
        if (File.Exists(nameOrPath))
        {
            return Path.GetFullPath(nameOrPath);
        }

        var candidate = Path.Combine(RepositoryRoot(), folder, nameOrPath + extension);
        return File.Exists(candidate) ? candidate : throw new BenchException($"no such file: {nameOrPath} (looked in {Path.Combine(RepositoryRoot(), folder)})");
    }

    private static (ArchitectureGraph Graph, string Path) LoadArchitecture(string name)
    {
        var path = Resolve(name, "architectures", ".yaml");
        var loaded = AcgLoader.Load(path);
        if (!loaded.Succeeded)
        {
            throw new BenchException(string.Join("\n", loaded.Diagnostics));
        }

        return (loaded.Value, path);
    }

    private static List<(BenchLayer Layer, string CodeletDirectory)> LoadLayers(BenchOptions options, out List<string> suitePaths)
    {
        suitePaths = [.. options.Suites.Select(s => Resolve(s, Path.Combine("codelets", "suites"), ".yaml"))];
        var layers = new List<(BenchLayer, string)>();
        foreach (var path in suitePaths)
        {
            var suite = Suite.Load(path);
            if (!suite.Succeeded)
            {
                throw new BenchException(string.Join("\n", suite.Diagnostics));
            }

            var codelets = Path.GetFullPath(Path.Combine(Path.GetDirectoryName(path)!, ".."));
            layers.AddRange(suite.Value.Layers.Select(l => new BenchLayer(suite.Value, l))
                .Where(l => options.Only?.IsMatch($"{l.Suite}/{l.Name}") ?? true).Select(l => (l, codelets)));
        }

        return layers;
    }

    private static TuningRecords? records;

    // The layer's best tuned mapping in --records (keyed as covenantc tune keys it), or null for the default mapping.
    private static PinnedMapping? Pinned(BenchLayer layer, LayerInstance loaded, BenchOptions options, TextWriter log)
    {
        if (options.Records is null)
        {
            return null;
        }

        if (records is null)
        {
            var read = TuningLog.Read(options.Records);
            records = read.Succeeded ? read.Value : throw new BenchException(string.Join("\n", read.Diagnostics));
        }

        var pinned = TuneDriver.Pin(records, loaded, File.ReadAllText(LoadArchitecture(options.Architecture).Path), options.Records);
        log.WriteLine(pinned is null
            ? $"bench: {layer.Suite}/{layer.Name}: no tuning record; default mapping"
            : $"bench: {layer.Suite}/{layer.Name}: tuned mapping from {pinned.Source}");
        return pinned;
    }

    // The layer's codelet instance, loaded and bound by the compiler's per-layer driver.
    private static LayerInstance Instantiate(BenchLayer layer, string codeletDirectory)
    {
        var instance = LayerDriver.Instantiate(layer.File, layer.Layer, codeletDirectory);
        return instance.Succeeded ? instance.Value : throw new BenchException(string.Join("\n", instance.Diagnostics));
    }

    private static int Run(BenchOptions options, TextWriter stdout, TextWriter log)
    {
        var (graph, architecturePath) = LoadArchitecture(options.Architecture);
        var layers = LoadLayers(options, out var suitePaths);
        var cpu = VnniCpu.Host;
        log.WriteLine($"bench: CPU {cpu.Describe()}");
        if (cpu.MissingFeatures is { } missing)
        {
            throw new BenchException($"the benchmark times native kernels, but {missing}");
        }

        var isa = VnniIsa.FromGraph(graph);
        if (!isa.Succeeded)
        {
            throw new BenchException(string.Join("\n", isa.Diagnostics));
        }

        var threads = options.Threads ?? isa.Value.Cores;
        var buildDirectory = Path.GetFullPath(Path.Combine(options.Out, "build"));
        OneDnn? dnn = null;
        if (options.OneDnn)
        {
            dnn = OneDnn.Start(buildDirectory, capped: true, threads, requestAmx: false, options.Install, log);
            log.WriteLine($"bench: oneDNN {dnn.Version}, capped to AVX512_CORE_VNNI: effective ISA {dnn.Isa}");
        }

        var results = new List<LayerResult>();
        foreach (var (layer, codelets) in layers)
        {
            results.Add(Measure(layer, codelets, graph, options, dnn, threads, buildDirectory, log));
        }

        // The uncapped column: oneDNN fixes its ISA once per process, so a child process measures it.
        var amxNote = cpu.AmxInt8 && cpu.AmxTile
            ? "this CPU has AMX: the uncapped oneDNN may use it (the child process requests the AMX tile state first)"
            : "this CPU has no AMX (cpuid leaf 7: amx-tile/amx-int8 clear), so uncapped oneDNN runs the same AVX-512 VNNI code paths as capped";
        log.WriteLine("bench: " + amxNote);
        if (options.OneDnn && options.Uncapped)
        {
            var uncapped = RunUncappedChild(options, suitePaths, architecturePath, log);
            results = [.. results.Select(r =>
            {
                if (!uncapped.TryGetValue($"{r.Suite}/{r.Layer}", out var u))
                {
                    return r;
                }

                var check = r.Check + (u.Checksum == r.Checksum ? "; uncapped oneDNN: exact" : "; uncapped oneDNN: MISMATCH (checksum)");
                return r with { UncappedSeconds = u.Seconds, UncappedImplementation = u.Implementation, Check = check };
            })];
        }

        var report = new BenchReport(results, isa.Value, cpu, dnn?.Version, dnn?.Isa, threads, amxNote);
        stdout.Write(report.Table());
        Directory.CreateDirectory(options.Out);
        File.WriteAllText(Path.Combine(options.Out, "bench.csv"), report.Csv());
        File.WriteAllText(Path.Combine(options.Out, "bench.json"), report.Json());
        log.WriteLine($"bench: wrote {Path.Combine(options.Out, "bench.csv")} and bench.json");
        return results.Any(r => r.Check.Contains("MISMATCH", StringComparison.Ordinal)) ? 2 : 0;
    }

    private static LayerResult Measure(BenchLayer layer, string codelets, ArchitectureGraph graph, BenchOptions options,
        OneDnn? dnn, int threads, string buildDirectory, TextWriter log)
    {
        var loaded = Instantiate(layer, codelets);
        var instance = loaded.Instance;
        // The threads are the kernel's to use: it may run a tiny layer on one of them (VnniKernelPlan.SmallProblemMacs).
        var planOptions = options.Plan with { Threads = options.Threads is null ? null : threads };
        Result<VnniKernelPlan> planned;
        if (options.FromMapping)
        {
            var pinned = Pinned(layer, loaded, options, log);
            var mapped = Mapper.Map(instance, graph, MapperOptions.Default with { Pinned = pinned });
            if (!mapped.Succeeded)
            {
                throw new BenchException($"{layer.Suite}/{layer.Name}: {string.Join("\n", mapped.Diagnostics)}");
            }

            planned = VnniKernelPlan.FromMapping(mapped.Value, planOptions);
        }
        else
        {
            planned = VnniKernelPlan.Choose(instance, graph, planOptions);
        }

        if (!planned.Succeeded)
        {
            throw new BenchException($"{layer.Suite}/{layer.Name}: {string.Join("\n", planned.Diagnostics)}");
        }

        var plan = planned.Value;
        log.WriteLine($"bench: {layer.Suite}/{layer.Name} ({layer.Codelet} {layer.BindingsText}): MR {plan.MR} NR {plan.NR} MC {plan.MC} NC {plan.NC} KC {plan.KC}, {plan.Threads} threads split by {plan.Split}, A' {plan.AMode}");
        using var kernel = VnniKernel.Create(plan.ToKernelSource(), new VnniKernelOptions { BuildDirectory = Path.Combine(buildDirectory, "kernels") });
        var inputs = RandomTensors.Inputs(instance, options.Seed);
        kernel.Load(inputs);
        var checks = new List<string>();
        double[] ours;
        double[]? theirs = null;
        string? implementation = null;
        TensorData output;
        var baseline = dnn is null ? null : Baseline(dnn, instance, kernel);
        if (baseline is { } primitive)
        {
            using (primitive.Primitive)
            {
                implementation = primitive.Primitive.Implementation;
                output = kernel.Output();
                var destination = Marshal.AllocHGlobal((IntPtr)output.ByteCount);
                try
                {
                    // Interleaved (ours, oneDNN, ours, ...) so both see the same load on the machine.
                    (ours, theirs) = TimePair(kernel.Run, () => primitive.Primitive.Run(primitive.Source, destination), options);
                    var bytes = new byte[output.ByteCount];
                    Marshal.Copy(destination, bytes, 0, bytes.Length);
                    output = kernel.Output();
                    var comparison = ResultComparer.Compare(TensorData.FromBytes(output.ElementType, output.Shape, bytes), output);
                    checks.Add(comparison.Matches ? "oneDNN: exact" : "oneDNN: MISMATCH " + comparison.Summary);
                }
                finally
                {
                    Marshal.FreeHGlobal(destination);
                }
            }
        }
        else
        {
            (ours, _) = TimePair(kernel.Run, null, options);
            output = kernel.Output();
        }

        var checksum = output.ChecksumText();
        if (options.Verify)
        {
            var expected = ReferenceInterpreter.Run(instance, inputs)[plan.Output];
            var comparison = ResultComparer.Compare(expected, output);
            checks.Add(comparison.Matches ? "reference: exact" : "reference: MISMATCH " + comparison.Summary);
        }

        var result = new LayerResult(layer.Suite, layer.Name, layer.Codelet, Shape(plan), plan.Operations,
            Median(ours), ours.Min(), theirs is null ? null : Median(theirs), theirs?.Min(), null,
            plan.Isa.PeakOpsPerSecond * Math.Min(threads, plan.Isa.Cores) / plan.Isa.Cores, checks.Count == 0 ? "unchecked" : string.Join("; ", checks), checksum,
            implementation, null, $"MR{plan.MR} NR{plan.NR} MC{plan.MC} NC{plan.NC} KC{plan.KC} T{plan.Threads} {plan.Split} {plan.AMode}");
        log.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"bench:   ours {result.OursGops:F1} GOPS, oneDNN {(result.OneDnnGops is { } g ? g.ToString("F1", CultureInfo.InvariantCulture) : "-")} GOPS ({implementation ?? "-"}), {ours.Length} runs each; {result.Check}"));
        return result;
    }

    private static string Shape(VnniKernelPlan plan) => plan.Outer > 1
        ? string.Create(CultureInfo.InvariantCulture, $"{plan.Outer}x{plan.M}x{plan.N}x{plan.K}")
        : string.Create(CultureInfo.InvariantCulture, $"{plan.M}x{plan.N}x{plan.K}");

    /// <summary>The oneDNN primitive that computes the same layer from the same input buffers, where there is one.</summary>
    private static (OneDnn.Primitive Primitive, IntPtr Source)? Baseline(OneDnn dnn, CodeletInstance instance, VnniKernel kernel)
    {
        var sizes = instance.Sizes;
        long Size(string name) => sizes[name];
        IntPtr Buffer(string tensor) => kernel.Address(kernel.Program.BufferOf(tensor).Index);
        switch (instance.Name)
        {
            case "gemm":
                return (dnn.Matmul(0, Size("M"), Size("N"), Size("K"), Buffer("b")), Buffer("a"));
            case "bmm":
                return (dnn.Matmul(Size("B"), Size("M"), Size("N"), Size("K"), Buffer("b")), Buffer("a"));
            case "gemv":
                return (dnn.Matmul(0, Size("M"), 1, Size("K"), Buffer("x")), Buffer("a"));
            case "conv2d":
                return (dnn.Convolution(Size("N"), Size("H"), Size("W"), Size("C"), Size("K"), Size("R"), Size("S"), Size("P"), Size("Q"),
                    Size("stride_h"), Size("stride_w"), Size("pad_h"), Size("pad_w"), Size("dilation_h"), Size("dilation_w"), Buffer("w")), Buffer("x"));
            default:
                return null;
        }
    }

    /// <summary>
    /// Two warm-up runs of each side, then at least <see cref="BenchOptions.MinTime"/> seconds of runs (5 to MaxReps
    /// each), alternating between the sides; every run's seconds.
    /// </summary>
    private static (double[] First, double[]? Second) TimePair(Action first, Action? second, BenchOptions options)
    {
        static double Once(Action run)
        {
            var start = Stopwatch.GetTimestamp();
            run();
            return Stopwatch.GetElapsedTime(start).TotalSeconds;
        }

        first();
        second?.Invoke();
        var estimate = Math.Max(1e-7, Once(first) + (second is null ? 0 : Once(second)));
        var reps = (int)Math.Clamp(Math.Ceiling(options.MinTime / estimate), 5, options.MaxReps);
        var a = new double[reps];
        var b = second is null ? null : new double[reps];
        for (var r = 0; r < reps; r++)
        {
            a[r] = Once(first);
            if (second is not null)
            {
                b![r] = Once(second);
            }
        }

        return (a, b);
    }

    private static double Median(double[] times)
    {
        var sorted = times.Order().ToArray();
        var n = sorted.Length;
        return n % 2 == 1 ? sorted[n / 2] : (sorted[(n / 2) - 1] + sorted[n / 2]) / 2;
    }

    private sealed record ChildResult(double Seconds, string Checksum, string Implementation);

    private static Dictionary<string, ChildResult> RunUncappedChild(BenchOptions options, List<string> suitePaths, string architecturePath, TextWriter log)
    {
        // The child is this assembly run by the dotnet host, whichever program (covenant-bench, covenantc) hosts us now.
        var host = Environment.ProcessPath is { } path && Path.GetFileNameWithoutExtension(path) == "dotnet"
            ? path
            : Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet";
        var arguments = new List<string> { typeof(BenchProgram).Assembly.Location };

        arguments.AddRange(options.ChildArguments(suitePaths, architecturePath));
        var start = new ProcessStartInfo(host)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = false,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        log.WriteLine("bench: measuring uncapped oneDNN in a child process ...");
        using var process = Process.Start(start) ?? throw new BenchException("cannot start the uncapped child process");
        var results = new Dictionary<string, ChildResult>(StringComparer.Ordinal);
        while (process.StandardOutput.ReadLine() is { } line)
        {
            var fields = line.Split('\t');
            if (fields is ["RESULT", var key, var seconds, var checksum, var implementation])
            {
                results[key] = new ChildResult(double.Parse(seconds, CultureInfo.InvariantCulture), checksum, implementation);
            }
        }

        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            log.WriteLine($"bench: the uncapped child exited with {process.ExitCode}; the uncapped column is incomplete");
        }

        return results;
    }

    // The child: uncapped oneDNN only, on the same seeded inputs; one RESULT line per layer.
    private static int RunChild(BenchOptions options, TextWriter stdout, TextWriter stderr)
    {
        var (graph, _) = LoadArchitecture(options.Architecture);
        var layers = LoadLayers(options, out _);
        var cpu = VnniCpu.Host;
        var threads = options.Threads ?? VnniIsa.FromGraph(graph).Value?.Cores ?? 2;
        var dnn = OneDnn.Start(Path.GetFullPath(Path.Combine(options.Out, "build")), capped: false, threads,
            requestAmx: cpu.AmxTile && cpu.AmxInt8, options.Install, stderr);
        stderr.WriteLine($"bench: uncapped oneDNN {dnn.Version}: effective ISA {dnn.Isa}");
        foreach (var (layer, codelets) in layers)
        {
            var instance = Instantiate(layer, codelets).Instance;
            var inputs = RandomTensors.Inputs(instance, options.Seed);
            var output = instance.Outputs.First();
            var buffers = inputs.ToDictionary(p => p.Key, p => Copy(p.Value.ToBytes()), StringComparer.Ordinal);
            try
            {
                var sizes = instance.Sizes;
                long Size(string name) => sizes[name];
                (OneDnn.Primitive, IntPtr)? baseline = instance.Name switch
                {
                    "gemm" => (dnn.Matmul(0, Size("M"), Size("N"), Size("K"), buffers["b"]), buffers["a"]),
                    "bmm" => (dnn.Matmul(Size("B"), Size("M"), Size("N"), Size("K"), buffers["b"]), buffers["a"]),
                    "gemv" => (dnn.Matmul(0, Size("M"), 1, Size("K"), buffers["x"]), buffers["a"]),
                    "conv2d" => (dnn.Convolution(Size("N"), Size("H"), Size("W"), Size("C"), Size("K"), Size("R"), Size("S"), Size("P"), Size("Q"),
                        Size("stride_h"), Size("stride_w"), Size("pad_h"), Size("pad_w"), Size("dilation_h"), Size("dilation_w"), buffers["w"]), buffers["x"]),
                    _ => null,
                };
                if (baseline is not { } b)
                {
                    continue;
                }

                using var primitive = b.Item1;
                var bytes = output.ElementCount * output.ElementType.Bytes();
                var destination = Marshal.AllocHGlobal((IntPtr)bytes);
                try
                {
                    var (times, _) = TimePair(() => primitive.Run(b.Item2, destination), null, options);
                    var seconds = Median(times);
                    var result = new byte[bytes];
                    Marshal.Copy(destination, result, 0, result.Length);
                    var checksum = TensorData.FromBytes(output.ElementType, output.Shape, result).ChecksumText();
                    stdout.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"RESULT\t{layer.Suite}/{layer.Name}\t{seconds:R}\t{checksum}\t{primitive.Implementation}"));
                    stdout.Flush();
                }
                finally
                {
                    Marshal.FreeHGlobal(destination);
                }
            }
            finally
            {
                foreach (var buffer in buffers.Values)
                {
                    Marshal.FreeHGlobal(buffer);
                }
            }
        }

        return 0;
    }

    private static IntPtr Copy(byte[] bytes)
    {
        var pointer = Marshal.AllocHGlobal(Math.Max(bytes.Length, 1));
        Marshal.Copy(bytes, 0, pointer, bytes.Length);
        return pointer;
    }
}
