using System.Collections.Immutable;
using System.Text;
using Covenant.Core.Diagnostics;
using Google.Protobuf;
using Onnx;

namespace Covenant.Onnx.Import;

/// <summary>
/// Reads an ONNX model (OnnxSharp's classes, generated from ONNX's own onnx.proto), walks its graph in order
/// inferring every value's static type, and maps each node to a codelet layer or the host. The first problem ends
/// the import with one message that names the node (name and index) and the input or attribute at fault.
/// </summary>
public static class OnnxImporter
{
    /// <summary>The default-domain opsets this importer's shape rules follow (ONNX 1.5 to 1.17).</summary>
    public const long MinOpset = 10;

    public const long MaxOpset = 22;

    private static readonly string[] LayerOps = ["Conv", "ConvInteger", "QLinearConv", "MatMul", "MatMulInteger", "QLinearMatMul", "Gemm"];

    /// <summary>Every operator import knows: the ones mapped to codelets, then the ones it runs on the host.</summary>
    public static IEnumerable<string> SupportedOps => LayerOps.Concat(HostRules.Supported);

    public static Result<ImportedModel> Import(string path)
    {
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (FileNotFoundException)
        {
            return Result<ImportedModel>.Failure(CoreDiagnostics.FileNotFound.Create(SourceLocation.OfFile(path), "file not found"));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return Result<ImportedModel>.Failure(CoreDiagnostics.FileUnreadable.Create(SourceLocation.OfFile(path), e.Message));
        }

        return Import(path, bytes);
    }

    public static Result<ImportedModel> Import(string path, byte[] bytes)
    {
        ArgumentNullException.ThrowIfNull(bytes);
        ModelProto model;
        try
        {
            model = ModelProto.Parser.ParseFrom(bytes);
        }
        catch (InvalidProtocolBufferException e)
        {
            return Fail(path, OnnxDiagnostics.NotAModel, $"not an ONNX model, or a truncated one ({bytes.Length} bytes): {e.Message}");
        }

        if (model.Graph is null || model.Graph.Node.Count == 0 || model.IrVersion == 0)
        {
            return Fail(path, OnnxDiagnostics.NotAModel, "not an ONNX model: it has no IR version or no graph nodes");
        }

        try
        {
            return Result<ImportedModel>.Success(Walk(path, model));
        }
        catch (ImportFailure failure)
        {
            return Result<ImportedModel>.Failure(failure.Diagnostic);
        }
    }

    private static Result<ImportedModel> Fail(string path, DiagnosticDescriptor descriptor, string message) =>
        Result<ImportedModel>.Failure(descriptor.Create(SourceLocation.OfFile(path), message));

    private static ImportFailure Failure(string path, DiagnosticDescriptor descriptor, string message) =>
        new(descriptor.Create(SourceLocation.OfFile(path), message));

    private static ImportedModel Walk(string path, ModelProto model)
    {
        var opset = model.OpsetImport.FirstOrDefault(o => o.Domain is "" or "ai.onnx")?.Version
            ?? throw Failure(path, OnnxDiagnostics.UnsupportedOpset, "the model imports no default-domain (ai.onnx) opset");
        if (opset < MinOpset || opset > MaxOpset)
        {
            throw Failure(path, OnnxDiagnostics.UnsupportedOpset, $"opset {opset}: import supports ai.onnx opsets {MinOpset} to {MaxOpset}");
        }

        var graph = model.Graph;
        var constants = new Dictionary<string, OnnxConstant>(StringComparer.Ordinal);
        var values = new Dictionary<string, OnnxTensorType>(StringComparer.Ordinal);
        foreach (var initializer in graph.Initializer)
        {
            var (constant, problem) = OnnxConstants.Read(initializer);
            if (constant is null)
            {
                throw Failure(path, OnnxDiagnostics.NotAModel, $"initializer '{initializer.Name}' cannot be read: {problem}");
            }

            constants[initializer.Name] = constant;
            values[initializer.Name] = constant.Type;
        }

        var inputs = ImmutableArray.CreateBuilder<string>();
        for (var i = 0; i < graph.Input.Count; i++)
        {
            var input = graph.Input[i];
            if (!constants.ContainsKey(input.Name))
            {
                values[input.Name] = InputType(path, input, i);
                inputs.Add(input.Name);
            }
        }

        var nodes = ImmutableArray.CreateBuilder<ImportedNode>();
        var layerNames = new HashSet<string>(StringComparer.Ordinal);
        for (var index = 0; index < graph.Node.Count; index++)
        {
            var proto = graph.Node[index];
            var node = new NodeContext(proto, index, path, values, constants);
            var outcome = Rule(node);
            if (proto.Output.Count == 0 || proto.Output[0].Length == 0)
            {
                throw node.Fail(OnnxDiagnostics.BadNode, "the node has no output");
            }

            values[proto.Output[0]] = outcome.Outputs[0];
            var layer = outcome.Layer is null ? null : outcome.Layer with { LayerName = UniqueLayerName(node.Name, layerNames) };
            nodes.Add(new ImportedNode(index, node.Name, proto.OpType, [.. proto.Input], [.. proto.Output.Take(1)],
                outcome.Placement, layer, outcome.Note)
            {
                IntAttributes = proto.Attribute
                    .Where(a => a.Type is AttributeProto.Types.AttributeType.Int or AttributeProto.Types.AttributeType.Ints)
                    .ToImmutableDictionary(a => a.Name, a => a.Type == AttributeProto.Types.AttributeType.Int ? [a.I] : a.Ints.ToImmutableArray(), StringComparer.Ordinal),
                StringAttributes = proto.Attribute.Where(a => a.Type == AttributeProto.Types.AttributeType.String)
                    .ToImmutableDictionary(a => a.Name, a => a.S.ToStringUtf8(), StringComparer.Ordinal),
            });
        }

        var outputs = graph.Output.Select(o => o.Name).ToImmutableArray();
        foreach (var output in outputs.Where(o => !values.ContainsKey(o)))
        {
            throw Failure(path, OnnxDiagnostics.BadNode, $"graph output '{output}' is produced by no node");
        }

        return new ImportedModel(path, graph.Name, opset, inputs.ToImmutable(), outputs,
            values.ToImmutableDictionary(StringComparer.Ordinal), constants.ToImmutableDictionary(StringComparer.Ordinal), nodes.ToImmutable());
    }

    private static NodeOutcome Rule(NodeContext node)
    {
        if (node.Node.Domain is not ("" or "ai.onnx"))
        {
            throw node.Fail(OnnxDiagnostics.UnsupportedOp, $"operator '{node.OpType}' of domain '{node.Node.Domain}' is not supported (import reads the default ai.onnx domain)");
        }

        return node.OpType switch
        {
            "Conv" or "ConvInteger" or "QLinearConv" => ConvRules.Apply(node),
            "MatMul" or "MatMulInteger" or "QLinearMatMul" or "Gemm" => MatMulRules.Apply(node),
            _ when HostRules.Handles(node.OpType) => HostRules.Apply(node),
            _ => throw node.Fail(OnnxDiagnostics.UnsupportedOp,
                $"operator '{node.OpType}' is not supported; import knows {string.Join(", ", SupportedOps)}"),
        };
    }

    private static OnnxTensorType InputType(string path, ValueInfoProto input, int index)
    {
        var where = $"graph input '{input.Name}' (#{index})";
        if (input.Type?.TensorType is not { } tensor)
        {
            throw Failure(path, OnnxDiagnostics.DynamicShape, $"{where} is not a tensor");
        }

        if (tensor.Shape is null)
        {
            throw Failure(path, OnnxDiagnostics.DynamicShape, $"{where} has no shape: import needs static shapes (fix the input's dimensions when exporting)");
        }

        var shape = new long[tensor.Shape.Dim.Count];
        for (var d = 0; d < shape.Length; d++)
        {
            var dim = tensor.Shape.Dim[d];
            if (!dim.HasDimValue || dim.DimValue <= 0)
            {
                var symbol = dim.HasDimParam ? $"'{dim.DimParam}'" : "unknown";
                throw Failure(path, OnnxDiagnostics.DynamicShape,
                    $"{where} has a dynamic dimension {d} ({symbol}): import needs static shapes (fix it when exporting, e.g. batch 1)");
            }

            shape[d] = dim.DimValue;
        }

        return new OnnxTensorType((TensorProto.Types.DataType)tensor.ElemType, [.. shape]);
    }

    /// <summary>A suite layer name from a node name: letters, digits and underscores, unique within the model.</summary>
    private static string UniqueLayerName(string nodeName, HashSet<string> taken)
    {
        var text = new StringBuilder();
        foreach (var c in nodeName)
        {
            text.Append(char.IsAsciiLetterOrDigit(c) || c == '_' ? c : '_');
        }

        var name = text.Length == 0 ? "layer" : text.ToString();
        var candidate = name;
        for (var i = 2; !taken.Add(candidate); i++)
        {
            candidate = $"{name}_{i}";
        }

        return candidate;
    }
}
