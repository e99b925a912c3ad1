using System.Collections.Immutable;
using Covenant.Onnx.Import;
using DataType = Onnx.TensorProto.Types.DataType;

namespace Covenant.Onnx.Host;

/// <summary>A value of the network as ONNX lays it out (row-major, ONNX's element type): integers or floats.</summary>
public sealed record HostTensor(OnnxTensorType Type, ImmutableArray<int> Integers, ImmutableArray<float> Floats)
{
    public bool IsFloat => !Floats.IsDefault;

    public static HostTensor OfIntegers(DataType type, ImmutableArray<long> shape, ImmutableArray<int> values) =>
        new(new OnnxTensorType(type, shape), values, default);

    public static HostTensor OfFloats(ImmutableArray<long> shape, ImmutableArray<float> values) =>
        new(new OnnxTensorType(DataType.Float, shape), default, values);

    /// <summary>An initializer as a host tensor (integers narrowed to int, which holds every 8- and 32-bit value).</summary>
    public static HostTensor Of(OnnxConstant constant)
    {
        ArgumentNullException.ThrowIfNull(constant);
        return constant.IsFloat
            ? new HostTensor(constant.Type, default, constant.Floats)
            : new HostTensor(constant.Type, [.. constant.Integers.Select(v => checked((int)v))], default);
    }

    /// <summary>The inclusive range of an integer element type.</summary>
    public static (int Low, int High) Range(DataType type) => type switch
    {
        DataType.Int8 => (sbyte.MinValue, sbyte.MaxValue),
        DataType.Uint8 => (byte.MinValue, byte.MaxValue),
        DataType.Int16 => (short.MinValue, short.MaxValue),
        DataType.Uint16 => (ushort.MinValue, ushort.MaxValue),
        _ => (int.MinValue, int.MaxValue),
    };
}
