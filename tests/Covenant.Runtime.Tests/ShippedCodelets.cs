using System.Collections.Concurrent;
using System.Globalization;
using Covenant.Codelets.Semantics;
using Covenant.Runtime.Reference;
using Covenant.Testing;

namespace Covenant.Runtime.Tests;

/// <summary>Loads the codelets in codelets/ (once per file) and instantiates them for tests.</summary>
internal static class ShippedCodelets
{
    private static readonly ConcurrentDictionary<string, CheckedCodelet> Loaded = new(StringComparer.Ordinal);

    public static string PathOf(string name) => Path.Combine(Repo.Codelets, name + ".cdlt");

    /// <summary>The instance of <c>codelets/NAME.cdlt</c> for bindings written <c>"M=3, N=5"</c>.</summary>
    public static CodeletInstance Instantiate(string name, string bindings)
    {
        var codelet = Loaded.GetOrAdd(name, n =>
        {
            var loaded = CodeletLoader.Load(PathOf(n));
            Assert.That(loaded.Succeeded, Is.True, () => $"{n}.cdlt does not load:\n{string.Join("\n", loaded.Diagnostics)}");
            return loaded.Value!;
        });

        var values = bindings.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(b => b.Split('='))
            .ToDictionary(b => b[0].Trim(), b => long.Parse(b[1], CultureInfo.InvariantCulture), StringComparer.Ordinal);
        var instance = codelet.Instantiate(values);
        Assert.That(instance.Succeeded, Is.True, () => $"{name}<{bindings}> does not instantiate:\n{string.Join("\n", instance.Diagnostics)}");
        return instance.Value!;
    }

    /// <summary>Runs an instance on seeded random inputs; returns the inputs and the outputs.</summary>
    public static (IReadOnlyDictionary<string, TensorData> Inputs, IReadOnlyDictionary<string, TensorData> Outputs) RunRandom(
        CodeletInstance instance, ulong seed = 17)
    {
        var inputs = RandomTensors.Inputs(instance, seed);
        return (inputs, ReferenceInterpreter.Run(instance, inputs));
    }
}
