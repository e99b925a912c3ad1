using System.Collections.Immutable;
using System.Runtime.CompilerServices;
using Covenant.Codelets;
using Covenant.Codelets.Semantics;

namespace Covenant.Runtime.Reference;

/// <summary>How the interpreter may use the machine. Results never depend on these settings.</summary>
public sealed record InterpreterOptions
{
    public static InterpreterOptions Default { get; } = new();

    /// <summary>Threads a nest may use; -1 (the default) for one per core, 1 to run serially.</summary>
    public int MaxDegreeOfParallelism { get; init; } = -1;

    /// <summary>Nests with fewer iterations than this run serially: below it threads cost more than they give.</summary>
    public long ParallelThreshold { get; init; } = 1 << 16;
}

/// <summary>
/// The reference interpreter: runs a codelet instance exactly as the value semantics in
/// <see cref="CodeletInstance"/>'s comment define it. Every target's results are checked against it, so
/// it favors being obviously right, and is compiled (per nest, once) to be fast enough for real layers.
/// </summary>
public static class ReferenceInterpreter
{
    // Instances are immutable, so a compiled form can be reused for as long as the instance lives.
    private static readonly ConditionalWeakTable<CodeletInstance, CompiledCodelet> Cache = [];

    /// <summary>Compiles an instance (or returns the compiled form made earlier for the same object).</summary>
    /// <exception cref="InvalidOperationException">The instance accesses a tensor out of bounds where that is not allowed.</exception>
    public static CompiledCodelet Compile(CodeletInstance instance)
    {
        ArgumentNullException.ThrowIfNull(instance);
        return Cache.GetValue(instance, CompiledCodelet.Create);
    }

    /// <summary>Runs an instance on the given inputs and returns its outputs, by name, in declaration order.</summary>
    /// <exception cref="ArgumentException">An input is missing, unknown, or of the wrong type or shape.</exception>
    public static IReadOnlyDictionary<string, TensorData> Run(
        CodeletInstance instance,
        IReadOnlyDictionary<string, TensorData> inputs,
        InterpreterOptions? options = null) =>
        Compile(instance).Run(inputs, options);
}

/// <summary>A codelet instance compiled for the reference interpreter; <see cref="Run"/> may be called
/// concurrently.</summary>
public sealed class CompiledCodelet
{
    private readonly ImmutableArray<CompiledNest?> nests;

    private CompiledCodelet(CodeletInstance instance, ImmutableArray<CompiledNest?> nests)
    {
        Instance = instance;
        this.nests = nests;
    }

    public CodeletInstance Instance { get; }

    /// <summary>Multiply-accumulates and other loop-body iterations one run executes (for throughput figures).</summary>
    public long Iterations => nests.Sum(nest => nest?.Iterations ?? 0);

    /// <inheritdoc cref="ReferenceInterpreter.Run"/>
    public IReadOnlyDictionary<string, TensorData> Run(IReadOnlyDictionary<string, TensorData> inputs, InterpreterOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        options ??= InterpreterOptions.Default;
        CheckInputs(inputs);

        var tensors = Instance.Tensors;
        var integers = new int[]?[tensors.Length];
        var floats = new float[]?[tensors.Length];
        for (var t = 0; t < tensors.Length; t++)
        {
            var tensor = tensors[t];
            if (tensor.Role == TensorRole.Input)
            {
                // Inputs are only read (the compiler rejects writes to them), so their storage is used as is.
                integers[t] = inputs[tensor.Name].IntegerStorage;
                floats[t] = inputs[tensor.Name].FloatStorage;
            }
            else
            {
                // Outputs and locals start at zero.
                var length = TensorData.CheckShape(tensor.Shape);
                if (tensor.ElementType.IsInteger())
                {
                    integers[t] = new int[length];
                }
                else
                {
                    floats[t] = new float[length];
                }
            }
        }

        var threads = options.MaxDegreeOfParallelism > 0 ? options.MaxDegreeOfParallelism : Environment.ProcessorCount;
        foreach (var nest in nests)
        {
            if (nest is null)
            {
                continue;
            }

            if (nest.Parallel && threads > 1 && nest.Iterations >= options.ParallelThreshold)
            {
                // A few chunks per thread balance uneven rows; chunks are disjoint (see CompiledNest.Parallel).
                var chunks = Math.Min(nest.RangeExtent, threads * 4);
                Parallel.For(
                    0,
                    chunks,
                    new ParallelOptions { MaxDegreeOfParallelism = threads },
                    chunk => nest.Kernel(
                        integers!,
                        floats!,
                        (int)((long)nest.RangeExtent * chunk / chunks),
                        (int)((long)nest.RangeExtent * (chunk + 1) / chunks)));
            }
            else
            {
                nest.Kernel(integers!, floats!, 0, nest.RangeExtent);
            }
        }

        var outputs = new Dictionary<string, TensorData>(StringComparer.Ordinal);
        for (var t = 0; t < tensors.Length; t++)
        {
            var tensor = tensors[t];
            if (tensor.Role == TensorRole.Output)
            {
                outputs[tensor.Name] = tensor.ElementType.IsInteger()
                    ? TensorData.WrapIntegers(tensor.ElementType, tensor.Shape, integers[t]!)
                    : TensorData.WrapFloats(tensor.ElementType, tensor.Shape, floats[t]!);
            }
        }

        return outputs;
    }

    internal static CompiledCodelet Create(CodeletInstance instance) =>
        new(instance, [.. instance.Nests.Select(nest => NestCompiler.Compile(instance, nest))]);

    private void CheckInputs(IReadOnlyDictionary<string, TensorData> inputs)
    {
        var declared = Instance.Inputs.ToList();
        foreach (var tensor in declared)
        {
            var expected = TensorData.FormatType(tensor.ElementType, tensor.Shape);
            if (!inputs.TryGetValue(tensor.Name, out var data) || data is null)
            {
                throw new ArgumentException($"codelet {Instance.Name}: input '{tensor.Name}' ({expected}) is missing", nameof(inputs));
            }

            if (data.ElementType != tensor.ElementType || !data.Shape.SequenceEqual(tensor.Shape))
            {
                throw new ArgumentException($"codelet {Instance.Name}: input '{tensor.Name}' must be {expected}, got {data}", nameof(inputs));
            }
        }

        foreach (var name in inputs.Keys)
        {
            if (!declared.Exists(tensor => tensor.Name == name))
            {
                throw new ArgumentException(
                    $"codelet {Instance.Name} has no input '{name}'; its inputs are {string.Join(", ", declared.Select(t => t.Name))}",
                    nameof(inputs));
            }
        }
    }
}
