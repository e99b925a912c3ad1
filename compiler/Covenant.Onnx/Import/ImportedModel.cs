using System.Collections.Immutable;
using Onnx;

namespace Covenant.Onnx.Import;

/// <summary>A value's element type and static shape, as inferred through the graph.</summary>
public sealed record OnnxTensorType(TensorProto.Types.DataType ElementType, ImmutableArray<long> Shape)
{
    public long ElementCount => Shape.Aggregate(1L, (product, extent) => product * extent);

    // Two types are equal when their element types and extents are (ImmutableArray alone compares by reference).
    public bool Equals(OnnxTensorType? other) =>
        other is not null && ElementType == other.ElementType && Shape.SequenceEqual(other.Shape);

    public override int GetHashCode() => Shape.Aggregate(ElementType.GetHashCode(), (hash, extent) => HashCode.Combine(hash, extent));

    public override string ToString() => $"{ElementName(ElementType)}[{string.Join(", ", Shape)}]";

    public static string ElementName(TensorProto.Types.DataType type) => type switch
    {
        TensorProto.Types.DataType.Int8 => "int8",
        TensorProto.Types.DataType.Uint8 => "uint8",
        TensorProto.Types.DataType.Int32 => "int32",
        TensorProto.Types.DataType.Int64 => "int64",
        TensorProto.Types.DataType.Float => "float",
        TensorProto.Types.DataType.Float16 => "float16",
        _ => type.ToString().ToLowerInvariant(),
    };
}

/// <summary>An initializer's values: integers (every integer type, widened) or floats.</summary>
public sealed record OnnxConstant(string Name, OnnxTensorType Type, ImmutableArray<long> Integers, ImmutableArray<float> Floats)
{
    public bool IsFloat => !Floats.IsDefault;

    /// <summary>The value at a flat index as a double (exact for every element type read here).</summary>
    public double At(int index) => IsFloat ? Floats[index] : Integers[index];

    public int Length => IsFloat ? Floats.Length : Integers.Length;
}

/// <summary>Where a node runs: on the accelerator as a codelet instance, or on the host.</summary>
public enum NodePlacement
{
    /// <summary>The codelet instance computes the node's result exactly.</summary>
    Accelerator,

    /// <summary>The codelet instance computes the int32 accumulation; zero points, bias or requantization follow on the host.</summary>
    AcceleratorAndHost,

    /// <summary>The whole node runs on the host (pooling, adds, reshapes, quantize/dequantize, ...).</summary>
    Host,
}

/// <summary>How ONNX's tensors become the codelet's operands (and its result ONNX's output); see <see cref="Host.LayerHostSteps"/>.</summary>
/// <param name="Activation">The ONNX input that becomes the codelet's first operand (x or a).</param>
/// <param name="Weight">The ONNX input that becomes the codelet's second operand (w or b).</param>
/// <param name="Kind">Which codelet family, which fixes the layout change (NCHW → NHWC, OIHW → KRSC, ...).</param>
/// <param name="TransposeWeight">Gemm's transB: the weight is stored [N, K] and the gemm codelet wants [K, N].</param>
/// <param name="TransposeActivation">Gemm's transA.</param>
/// <param name="ActivationZeroPoint">ONNX's zero point input of the activation (null: none, or 0).</param>
/// <param name="WeightZeroPoint">ONNX's zero point input of the weight.</param>
/// <param name="Bias">A bias input added on the host (QLinearConv's int32 B, Conv's and Gemm's float bias).</param>
/// <param name="Requantization">QLinear ops: scales and the output zero point.</param>
/// <param name="Alpha">Gemm's alpha (1 keeps the accelerator result as is).</param>
/// <param name="Beta">Gemm's beta (scales the bias).</param>
public sealed record LayerOperands(
    string Activation,
    string Weight,
    LayerKind Kind,
    bool TransposeActivation,
    bool TransposeWeight,
    string? ActivationZeroPoint,
    string? WeightZeroPoint,
    string? Bias,
    Requantization? Requantization,
    float Alpha = 1,
    float Beta = 1);

/// <summary>The codelet family a node maps to.</summary>
public enum LayerKind
{
    Conv,
    GroupedConv,
    DepthwiseConv,
    Gemm,
    BatchedGemm,
}

/// <summary>A QLinear op's requantization: y = saturate(round_half_even((acc + bias) * x_scale * w_scale / y_scale) + y_zero_point).</summary>
public sealed record Requantization(string ActivationScale, string WeightScale, string OutputScale, string? OutputZeroPoint);

/// <summary>A node mapped to a codelet instance: the layer a suite lists, its MACs and how its operands are formed.</summary>
public sealed record CodeletLayer(
    string LayerName,
    string Codelet,
    ImmutableDictionary<string, long> Bindings,
    long Macs,
    LayerOperands Operands);

/// <summary>One node of the graph as imported: its place in the graph, where it runs and why.</summary>
/// <param name="Note">For accelerator nodes, what (if anything) the host adds; for host nodes, why they run there.</param>
public sealed record ImportedNode(
    int Index,
    string Name,
    string OpType,
    ImmutableArray<string> Inputs,
    ImmutableArray<string> Outputs,
    NodePlacement Placement,
    CodeletLayer? Layer,
    string Note)
{
    /// <summary>The node's integer attributes (int and ints alike, as arrays), for the host steps that need them.</summary>
    public ImmutableDictionary<string, ImmutableArray<long>> IntAttributes { get; init; } =
        ImmutableDictionary<string, ImmutableArray<long>>.Empty;

    /// <summary>The node's string attributes (auto_pad, ...).</summary>
    public ImmutableDictionary<string, string> StringAttributes { get; init; } = ImmutableDictionary<string, string>.Empty;

    public ImmutableArray<long> Ints(string name) => IntAttributes.TryGetValue(name, out var values) ? values : [];

    /// <summary>The node as messages name it: its name (or its op) and its index in the graph.</summary>
    public string Label => $"node '{Name}' (#{Index}, {OpType})";
}

/// <summary>
/// An imported model: the graph's values with their inferred types, its initializers, and every node in graph order,
/// each placed on the accelerator (as a codelet instance) or the host.
/// </summary>
public sealed record ImportedModel(
    string Path,
    string GraphName,
    long Opset,
    ImmutableArray<string> GraphInputs,
    ImmutableArray<string> GraphOutputs,
    ImmutableDictionary<string, OnnxTensorType> Values,
    ImmutableDictionary<string, OnnxConstant> Constants,
    ImmutableArray<ImportedNode> Nodes)
{
    public IEnumerable<CodeletLayer> Layers => Nodes.Where(n => n.Layer is not null).Select(n => n.Layer!);

    public long AcceleratorMacs => Layers.Sum(l => l.Macs);
}
