using Covenant.Codelets.Semantics;
using Covenant.Runtime.Reference;
using Covenant.Testing;

namespace Covenant.Runtime.Tests;

/// <summary>Instances of the codelets in codelets/ (loaded by <see cref="Shipped"/>) and their reference outputs.</summary>
internal static class ShippedCodelets
{
    /// <summary>The instance of <c>codelets/NAME.cdlt</c> for bindings written <c>"M=3, N=5"</c>.</summary>
    public static CodeletInstance Instantiate(string name, string bindings) => Shipped.Instance(name, bindings);

    /// <summary>Runs an instance on seeded random inputs; returns the inputs and the outputs.</summary>
    public static (IReadOnlyDictionary<string, TensorData> Inputs, IReadOnlyDictionary<string, TensorData> Outputs) RunRandom(
        CodeletInstance instance, ulong seed = 17)
    {
        var inputs = RandomTensors.Inputs(instance, seed);
        return (inputs, ReferenceInterpreter.Run(instance, inputs));
    }
}
