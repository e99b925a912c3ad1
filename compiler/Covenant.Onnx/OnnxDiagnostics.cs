using Covenant.Core.Diagnostics;

namespace Covenant.Onnx;

/// <summary>
/// What can be wrong with a model handed to <c>covenantc import</c>. ONNX files have no lines, so each message
/// names the node (its name and index in the graph) and the input or attribute at fault.
/// </summary>
public static class OnnxDiagnostics
{
    public static readonly DiagnosticDescriptor NotAModel = new("COV7000", "not a readable ONNX model");
    public static readonly DiagnosticDescriptor UnsupportedOpset = new("COV7001", "unsupported ONNX opset");
    public static readonly DiagnosticDescriptor UnsupportedOp = new("COV7002", "unsupported ONNX operator");
    public static readonly DiagnosticDescriptor DynamicShape = new("COV7003", "shape cannot be inferred statically");
    public static readonly DiagnosticDescriptor MissingQuantization = new("COV7004", "quantized tensor without its scale or zero point");
    public static readonly DiagnosticDescriptor BadNode = new("COV7005", "malformed ONNX node");
}
