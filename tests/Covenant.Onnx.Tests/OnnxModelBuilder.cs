using Google.Protobuf;
using Onnx;
using DataType = Onnx.TensorProto.Types.DataType;

namespace Covenant.Onnx.Tests;

/// <summary>Builds ONNX models in memory with OnnxSharp's generated classes; the fixtures are made by the tests, never committed.</summary>
public sealed class OnnxModelBuilder(string graphName, long opset = 17)
{
    private readonly GraphProto graph = new() { Name = graphName };

    public OnnxModelBuilder Input(string name, DataType type, params long[] shape)
    {
        graph.Input.Add(ValueInfo(name, type, shape));
        return this;
    }

    public OnnxModelBuilder Output(string name, DataType type, params long[] shape)
    {
        graph.Output.Add(ValueInfo(name, type, shape));
        return this;
    }

    public OnnxModelBuilder Integers(string name, DataType type, long[] shape, IEnumerable<int> values)
    {
        var tensor = new TensorProto { Name = name, DataType = (int)type };
        tensor.Dims.AddRange(shape);
        var array = values.ToArray();
        // 8-bit tensors as raw_data, wider ones in int32_data: both encodings ONNX allows, so both readers are exercised.
        if (type is DataType.Int8 or DataType.Uint8)
        {
            tensor.RawData = ByteString.CopyFrom([.. array.Select(v => unchecked((byte)v))]);
        }
        else
        {
            tensor.Int32Data.AddRange(array);
        }

        graph.Initializer.Add(tensor);
        return this;
    }

    public OnnxModelBuilder Int64s(string name, long[] shape, params long[] values)
    {
        var tensor = new TensorProto { Name = name, DataType = (int)DataType.Int64 };
        tensor.Dims.AddRange(shape);
        tensor.Int64Data.AddRange(values);
        graph.Initializer.Add(tensor);
        return this;
    }

    public OnnxModelBuilder Floats(string name, long[] shape, IEnumerable<float> values)
    {
        var tensor = new TensorProto { Name = name, DataType = (int)DataType.Float };
        tensor.Dims.AddRange(shape);
        tensor.FloatData.AddRange(values);
        graph.Initializer.Add(tensor);
        return this;
    }

    public OnnxModelBuilder Scalar(string name, float value) => Floats(name, [], [value]);

    public OnnxModelBuilder ZeroPoint(string name, DataType type, int value) => Integers(name, type, [], [value]);

    public OnnxModelBuilder Node(string op, string name, string[] inputs, string[] outputs, params AttributeProto[] attributes)
    {
        var node = new NodeProto { OpType = op, Name = name };
        node.Input.AddRange(inputs);
        node.Output.AddRange(outputs);
        node.Attribute.AddRange(attributes);
        graph.Node.Add(node);
        return this;
    }

    public static AttributeProto Ints(string name, params long[] values)
    {
        var attribute = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Ints };
        attribute.Ints.AddRange(values);
        return attribute;
    }

    public static AttributeProto Int(string name, long value) =>
        new() { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = value };

    public static AttributeProto Float(string name, float value) =>
        new() { Name = name, Type = AttributeProto.Types.AttributeType.Float, F = value };

    public ModelProto Build()
    {
        var model = new ModelProto { IrVersion = 8, ProducerName = "covenant-tests", Graph = graph.Clone() };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = opset });
        return model;
    }

    public byte[] Bytes() => Build().ToByteArray();

    public string WriteTo(string directory, string fileName)
    {
        var path = Path.Combine(directory, fileName);
        File.WriteAllBytes(path, Bytes());
        return path;
    }

    public static ValueInfoProto ValueInfo(string name, DataType type, long[] shape)
    {
        var tensorType = new TypeProto.Types.Tensor { ElemType = (int)type, Shape = new TensorShapeProto() };
        foreach (var extent in shape)
        {
            tensorType.Shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimValue = extent });
        }

        return new ValueInfoProto { Name = name, Type = new TypeProto { TensorType = tensorType } };
    }
}
