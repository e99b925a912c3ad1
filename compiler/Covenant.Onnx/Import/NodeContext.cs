using System.Collections.Immutable;
using Covenant.Core.Diagnostics;
using Onnx;
using DataType = Onnx.TensorProto.Types.DataType;

namespace Covenant.Onnx.Import;

/// <summary>A problem that ends the import: it carries the one diagnostic the user sees.</summary>
internal sealed class ImportFailure(Diagnostic diagnostic) : Exception(diagnostic.Message)
{
    public Diagnostic Diagnostic { get; } = diagnostic;
}

/// <summary>
/// One node while the graph is walked: its inputs' inferred types, its attributes, and positioned errors
/// (ONNX has no lines, so every message names the node's name and index and the input at fault).
/// </summary>
internal sealed class NodeContext(
    NodeProto node,
    int index,
    string path,
    IReadOnlyDictionary<string, OnnxTensorType> values,
    IReadOnlyDictionary<string, OnnxConstant> constants)
{
    public NodeProto Node { get; } = node;

    public int Index { get; } = index;

    public string Name { get; } = string.IsNullOrEmpty(node.Name) ? $"{node.OpType}_{index}" : node.Name;

    public string OpType => Node.OpType;

    public string Label => $"node '{Name}' (#{Index}, {OpType})";

    public int InputCount => Node.Input.Count;

    /// <summary>The name of input <paramref name="i"/>, or null when it is absent (past the end or the empty name ONNX uses for an omitted optional input).</summary>
    public string? InputName(int i) => i < Node.Input.Count && Node.Input[i].Length > 0 ? Node.Input[i] : null;

    public string RequiredName(int i, string role) =>
        InputName(i) ?? throw Fail(OnnxDiagnostics.BadNode, $"input {i} ({role}) is missing");

    public OnnxTensorType Input(int i, string role)
    {
        var name = RequiredName(i, role);
        return values.TryGetValue(name, out var type)
            ? type
            : throw Fail(OnnxDiagnostics.BadNode, $"input {i} ({role}) '{name}' is neither a graph input, an initializer nor an earlier node's output");
    }

    public OnnxConstant? ConstantByName(string name) => constants.TryGetValue(name, out var c) ? c : null;

    public OnnxConstant? ConstantInput(int i) => InputName(i) is { } name && constants.TryGetValue(name, out var c) ? c : null;

    /// <summary>A quantization parameter (scale or zero point): present and an initializer, or the import stops.</summary>
    public OnnxConstant QuantizationInput(int i, string role)
    {
        var name = InputName(i) ?? throw Fail(OnnxDiagnostics.MissingQuantization,
            $"input {i} ({role}) is missing: a quantized tensor needs its {role}");
        if (!constants.TryGetValue(name, out var constant))
        {
            throw Fail(OnnxDiagnostics.MissingQuantization,
                $"input {i} ({role}) '{name}' is not an initializer: import needs quantization parameters that are constants");
        }

        return constant;
    }

    /// <summary>A scale or zero point of a whole tensor: one value (ONNX allows per-row activations; import does not yet).</summary>
    public void RequireScalar(OnnxConstant? constant, int i, string role)
    {
        if (constant is not null && constant.Length != 1)
        {
            throw Fail(OnnxDiagnostics.MissingQuantization, $"input {i} ({role}) '{constant.Name}' has {constant.Length} values: import takes one per tensor here");
        }
    }

    /// <summary>A weight's scale or zero point: one value, or one per output channel.</summary>
    public void RequirePerChannel(OnnxConstant? constant, int i, string role, long channels)
    {
        if (constant is not null && constant.Length != 1 && constant.Length != channels)
        {
            throw Fail(OnnxDiagnostics.MissingQuantization, $"input {i} ({role}) '{constant.Name}' has {constant.Length} values: one, or one per output channel ({channels})");
        }
    }

    /// <summary>An optional zero point: absent (null), or a constant of an 8-bit type.</summary>
    public OnnxConstant? ZeroPointInput(int i, string role)
    {
        if (InputName(i) is null)
        {
            return null;
        }

        var constant = QuantizationInput(i, role);
        if (constant.Type.ElementType is not (DataType.Int8 or DataType.Uint8))
        {
            throw Fail(OnnxDiagnostics.MissingQuantization, $"input {i} ({role}) '{constant.Name}' is {constant.Type}, not int8 or uint8");
        }

        return constant;
    }

    public AttributeProto? Attribute(string name) => Node.Attribute.FirstOrDefault(a => a.Name == name);

    public long Int(string name, long fallback) => Attribute(name) is { } a ? a.I : fallback;

    public float Float(string name, float fallback) => Attribute(name) is { } a ? a.F : fallback;

    public string String(string name, string fallback) => Attribute(name) is { } a ? a.S.ToStringUtf8() : fallback;

    public ImmutableArray<long> Ints(string name) => Attribute(name) is { } a ? [.. a.Ints] : [];

    public ImportFailure Fail(DiagnosticDescriptor descriptor, string message) =>
        new(descriptor.Create(SourceLocation.OfFile(path), $"{Label}: {message}"));

    public void Require(bool condition, string message)
    {
        if (!condition)
        {
            throw Fail(OnnxDiagnostics.BadNode, message);
        }
    }
}
