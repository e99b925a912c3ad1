using System.Collections.Immutable;
using System.Globalization;
using Covenant.Compiler;
using Covenant.Mapping;
using Covenant.Runtime;
using Covenant.Runtime.Execution;
using Covenant.Runtime.Reference;
using Covenant.Runtime.TensorCore;
using Covenant.Targets;
using Covenant.Targets.TensorCore;

// prepare CODELET ARCH DIR SEED NAME=VALUE...: compile the artifact into DIR (as covenantc compile does), then write
//   DIR/gpu/<input>.bin (seeded, canonical bytes) and DIR/gpu/<output>.ref.bin (the reference interpreter's).
// compare DIR: compare DIR/gpu/<output>.out.bin (written by the CUDA harness) with the reference; exit 1 on mismatch.
if (args.Length >= 4 && args[0] == "prepare")
{
    var bindings = args.Skip(5).Select(a => a.Split('=', 2)).ToImmutableDictionary(p => p[0], p => long.Parse(p[1], CultureInfo.InvariantCulture), StringComparer.Ordinal);
    var request = new CompileRequest(args[1], args[2], bindings, MapperOptions.Default, TargetOptions.Default);
    var compiled = CompilerPipeline.Compile(request, new TargetRegistry([new TensorCoreTarget()]));
    if (!compiled.Succeeded || !CompilerPipeline.WriteArtifact(compiled.Value, args[3]).Succeeded)
    {
        Console.Error.WriteLine(string.Join("\n", compiled.Diagnostics));
        return 2;
    }

    var artifact = ArtifactRunner.Load(args[3]).Value!;
    var seed = ulong.Parse(args[4], CultureInfo.InvariantCulture);
    var gpu = Directory.CreateDirectory(Path.Combine(args[3], "gpu")).FullName;
    var inputs = RandomTensors.Inputs(artifact.Instance, seed);
    foreach (var (name, tensor) in inputs)
    {
        File.WriteAllBytes(Path.Combine(gpu, name + ".bin"), tensor.ToBytes());
    }

    foreach (var (name, tensor) in ReferenceInterpreter.Run(artifact.Instance, inputs))
    {
        File.WriteAllBytes(Path.Combine(gpu, name + ".ref.bin"), tensor.ToBytes());
        var tolerance = TensorCoreTolerance.For(artifact.Instance, inputs, name);
        File.WriteAllText(Path.Combine(gpu, name + ".tolerance"), tolerance?.ToString("R", CultureInfo.InvariantCulture) ?? "exact");
    }

    Console.WriteLine(compiled.Value.Output.Listing.Split("\n\n")[0]);
    return 0;
}

if (args.Length == 2 && args[0] == "compare")
{
    var artifact = ArtifactRunner.Load(args[1]).Value!;
    var gpu = Path.Combine(args[1], "gpu");
    var ok = true;
    foreach (var output in artifact.Instance.Outputs)
    {
        var expected = TensorData.FromBytes(output.ElementType, output.Shape, File.ReadAllBytes(Path.Combine(gpu, output.Name + ".ref.bin")));
        var actual = TensorData.FromBytes(output.ElementType, output.Shape, File.ReadAllBytes(Path.Combine(gpu, output.Name + ".out.bin")));
        var text = File.ReadAllText(Path.Combine(gpu, output.Name + ".tolerance"));
        double? tolerance = text == "exact" ? null : double.Parse(text, CultureInfo.InvariantCulture);
        var comparison = ResultComparer.Compare(expected, actual, tolerance);
        Console.WriteLine($"{output.Name}: {comparison.Summary}");
        ok &= comparison.Matches;
    }

    return ok ? 0 : 1;
}

Console.Error.WriteLine("usage: TensorCoreCheck prepare CODELET.cdlt ARCH.yaml DIR SEED [NAME=VALUE...] | compare DIR");
return 2;
