using Covenant.Codelets.Semantics;
using Covenant.Onnx.Import;
using Covenant.Runtime;
using Covenant.Runtime.Reference;

namespace Covenant.Onnx.Network;

/// <summary>Runs every layer on the reference interpreter (no architecture): the network as Covenant defines it.</summary>
public sealed class ReferenceLayerExecutor(string codeletDirectory) : ILayerExecutor
{
    public LayerExecution Execute(CodeletLayer layer, IReadOnlyDictionary<string, TensorData> operands)
    {
        ArgumentNullException.ThrowIfNull(layer);
        var instance = Instantiate(codeletDirectory, layer);
        return new LayerExecution(ReferenceInterpreter.Run(instance, operands).Values.Single(), "host (reference interpreter)", false,
            null, null, null, 0, null);
    }

    internal static CodeletInstance Instantiate(string codeletDirectory, CodeletLayer layer)
    {
        var codelet = CodeletLoader.Load(Path.Combine(codeletDirectory, layer.Codelet + ".cdlt"));
        var instance = codelet.Succeeded ? codelet.Value.Instantiate(layer.Bindings) : null;
        return instance is { Succeeded: true }
            ? instance.Value
            : throw new InvalidOperationException($"shipped codelet {layer.Codelet} does not instantiate at {string.Join(",", layer.Bindings)}");
    }
}
