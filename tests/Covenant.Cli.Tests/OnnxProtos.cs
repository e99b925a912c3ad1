using Google.Protobuf;
using Onnx;
using DataType = Onnx.TensorProto.Types.DataType;

namespace Covenant.Cli.Tests;

/// <summary>
/// The ONNX protobuf pieces the CLI tests build their small models from (the Onnx test project's fuller builder is not
/// referenced from here, to keep this project off that one).
/// </summary>
internal static class OnnxProtos
{
    public static ValueInfoProto Value(string name, DataType type, params long[] shape)
    {
        var tensor = new TypeProto.Types.Tensor { ElemType = (int)type, Shape = new TensorShapeProto() };
        tensor.Shape.Dim.AddRange(shape.Select(d => new TensorShapeProto.Types.Dimension { DimValue = d }));
        return new ValueInfoProto { Name = name, Type = new TypeProto { TensorType = tensor } };
    }

    /// <summary>An 8-bit integer tensor in raw bytes (int8 or uint8; each value is stored as its low byte).</summary>
    public static TensorProto Integers(string name, DataType type, long[] shape, params int[] values)
    {
        var tensor = new TensorProto { Name = name, DataType = (int)type, RawData = ByteString.CopyFrom([.. values.Select(v => unchecked((byte)v))]) };
        tensor.Dims.AddRange(shape);
        return tensor;
    }

    public static TensorProto Floats(string name, long[] shape, params float[] values)
    {
        var tensor = new TensorProto { Name = name, DataType = (int)DataType.Float };
        tensor.Dims.AddRange(shape);
        tensor.FloatData.AddRange(values);
        return tensor;
    }

    public static NodeProto Node(string op, string name, string[] inputs, string output)
    {
        var node = new NodeProto { OpType = op, Name = name };
        node.Input.AddRange(inputs);
        node.Output.Add(output);
        return node;
    }

    /// <summary>Writes <paramref name="graph"/> as an opset-17 model to <c>directory/graphName.onnx</c>.</summary>
    public static string Write(string directory, GraphProto graph)
    {
        var model = new ModelProto { IrVersion = 8, Graph = graph };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = 17 });
        var path = Path.Combine(directory, graph.Name + ".onnx");
        File.WriteAllBytes(path, model.ToByteArray());
        return path;
    }
}
