using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Covenant.Codelets;
using Covenant.Codelets.Semantics;
using Covenant.Core.Diagnostics;
using Covenant.Runtime;
using Covenant.Runtime.Reference;

namespace Covenant.Cli.Commands;

/// <summary><c>covenantc codelet check|run</c>.</summary>
public static class CodeletCommands
{
    public static Command Build(CliContext context)
    {
        var codelet = new Command("codelet", "Check codelets and run them on the reference interpreter.");
        codelet.Add(BuildCheck(context));
        codelet.Add(BuildRun(context));
        return codelet;
    }

    private static Command BuildCheck(CliContext context)
    {
        var files = CliArguments.Files("file", "Codelet files (.cdlt).");
        var json = new Option<bool>("--json") { Description = "Print the result of each file as JSON on stdout." };
        var command = new Command("check", "Parse and check codelets; report every problem with its position.") { files, json };
        command.SetAction(parse =>
        {
            var results = parse.GetRequiredValue(files).Select(path => (Path: path, Result: CodeletLoader.Load(path))).ToList();
            var failed = false;
            foreach (var (path, result) in results)
            {
                failed |= context.Report(result.Diagnostics);
                if (result.Succeeded && !parse.GetValue(json))
                {
                    var codelet = result.Value;
                    context.Out.WriteLine(
                        $"ok: {path}: codelet {codelet.Name}<{string.Join(", ", codelet.ShapeParamNames)}>, " +
                        $"{codelet.Inputs.Count()} input(s), {codelet.Outputs.Count()} output(s)");
                }
            }

            if (parse.GetValue(json))
            {
                context.WriteJson(results.Select(r => new
                {
                    file = r.Path,
                    ok = r.Result.Succeeded,
                    codelet = r.Result.Value?.Name,
                    shapeParams = r.Result.Value?.ShapeParamNames.ToArray(),
                    diagnostics = r.Result.Diagnostics.Select(CliContext.ToJson).ToArray(),
                }));
            }

            return failed ? CovenantCli.UserError : CovenantCli.Success;
        });
        return command;
    }

    private static Command BuildRun(CliContext context)
    {
        var file = CliArguments.File("file", "The codelet file (.cdlt).");
        var set = new Option<string[]>("--set")
        {
            Description = "Bind a shape parameter, NAME=VALUE (repeatable, or comma-separated: --set M=64,N=64,K=64).",
            AllowMultipleArgumentsPerToken = false,
        };
        var seed = new Option<ulong>("--seed") { Description = "Seed of the random inputs.", DefaultValueFactory = _ => 1 };
        var json = new Option<bool>("--json") { Description = "Print the run as JSON on stdout." };
        var command = new Command(
            "run",
            "Run a codelet instance on seeded random inputs with the reference interpreter and print a checksum per output.")
        {
            file, set, seed, json,
        };
        command.SetAction(parse =>
        {
            var path = parse.GetRequiredValue(file);
            var loaded = CodeletLoader.Load(path);
            if (context.Report(loaded.Diagnostics) || !loaded.Succeeded)
            {
                return CovenantCli.UserError;
            }

            var diagnostics = new DiagnosticBag();
            var bindings = ShapeBindings.Parse(parse.GetValue(set) ?? [], diagnostics);
            if (context.Report(diagnostics.ToImmutable()))
            {
                return CovenantCli.UserError;
            }

            var instance = loaded.Value.Instantiate(bindings);
            if (context.Report(instance.Diagnostics) || !instance.Succeeded)
            {
                return CovenantCli.UserError;
            }

            var inputSeed = parse.GetValue(seed);
            var inputs = RandomTensors.Inputs(instance.Value, inputSeed);
            var clock = Stopwatch.StartNew();
            var outputs = ReferenceInterpreter.Run(instance.Value, inputs);
            var seconds = clock.Elapsed.TotalSeconds;
            var sizes = instance.Value.Sizes.OrderBy(s => s.Key, StringComparer.Ordinal)
                .ToDictionary(s => s.Key, s => s.Value, StringComparer.Ordinal);

            if (parse.GetValue(json))
            {
                context.WriteJson(new
                {
                    codelet = instance.Value.Name,
                    file = path,
                    seed = inputSeed,
                    sizes,
                    inputs = inputs.Select(i => Describe(i.Key, i.Value)).ToArray(),
                    outputs = outputs.Select(o => Describe(o.Key, o.Value)).ToArray(),
                    seconds,
                });
                return CovenantCli.Success;
            }

            context.Out.WriteLine($"codelet {instance.Value.Name} ({path}), seed {inputSeed}");
            context.Out.WriteLine("  sizes: " + string.Join(", ", sizes.Select(s => $"{s.Key}={s.Value}")));
            foreach (var (name, tensor) in inputs)
            {
                context.Out.WriteLine($"  input  {name}: {TypeText(tensor)}  checksum {tensor.ChecksumText()}");
            }

            foreach (var (name, tensor) in outputs)
            {
                context.Out.WriteLine($"  output {name}: {TypeText(tensor)}  checksum {tensor.ChecksumText()}");
            }

            context.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  reference run: {seconds * 1000:F1} ms"));
            return CovenantCli.Success;
        });
        return command;
    }

    private static string TypeText(TensorData tensor) => $"{tensor.ElementType.Name()}[{string.Join(", ", tensor.Shape)}]";

    private static object Describe(string name, TensorData tensor) => new
    {
        name,
        type = tensor.ElementType.Name(),
        shape = tensor.Shape.ToArray(),
        checksum = tensor.ChecksumText(),
    };
}
