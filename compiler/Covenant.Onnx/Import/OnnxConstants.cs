using System.Buffers.Binary;
using System.Collections.Immutable;
using Onnx;
using DataType = Onnx.TensorProto.Types.DataType;

namespace Covenant.Onnx.Import;

/// <summary>Reads an initializer's values, from raw_data (little-endian) or the typed repeated fields.</summary>
internal static class OnnxConstants
{
    public static bool IsSupported(DataType type) => type is DataType.Int8 or DataType.Uint8 or DataType.Int16
        or DataType.Uint16 or DataType.Int32 or DataType.Int64 or DataType.Bool or DataType.Float or DataType.Double;

    /// <summary>The constant, or a message saying why it cannot be read.</summary>
    public static (OnnxConstant? Constant, string? Problem) Read(TensorProto tensor)
    {
        var type = (DataType)tensor.DataType;
        if (tensor.DataLocation == TensorProto.Types.DataLocation.External)
        {
            return (null, "its data is stored outside the model file (external data), which import does not read");
        }

        if (!IsSupported(type))
        {
            return (null, $"its element type {OnnxTensorType.ElementName(type)} is not one import reads");
        }

        if (tensor.Dims.Any(d => d < 0))
        {
            return (null, "it has a negative dimension");
        }

        var shape = tensor.Dims.ToImmutableArray();
        var count = shape.Aggregate(1L, (p, d) => p * d);
        var tensorType = new OnnxTensorType(type, shape);
        var raw = tensor.RawData.Span;
        if (type is DataType.Float or DataType.Double)
        {
            var floats = new float[count];
            var size = type == DataType.Float ? 4 : 8;
            if (!raw.IsEmpty)
            {
                if (raw.Length != count * size)
                {
                    return (null, $"raw_data holds {raw.Length} bytes, its shape needs {count * size}");
                }

                for (var i = 0; i < count; i++)
                {
                    floats[i] = size == 4
                        ? BinaryPrimitives.ReadSingleLittleEndian(raw[(i * 4)..])
                        : (float)BinaryPrimitives.ReadDoubleLittleEndian(raw[(i * 8)..]);
                }
            }
            else
            {
                var source = type == DataType.Float ? tensor.FloatData.ToArray() : tensor.DoubleData.Select(d => (float)d).ToArray();
                if (source.Length != count)
                {
                    return (null, $"it holds {source.Length} values, its shape needs {count}");
                }

                floats = source;
            }

            return (new OnnxConstant(tensor.Name, tensorType, default, [.. floats]), null);
        }

        var integers = new long[count];
        if (!raw.IsEmpty)
        {
            var size = type switch { DataType.Int8 or DataType.Uint8 or DataType.Bool => 1, DataType.Int16 or DataType.Uint16 => 2, DataType.Int32 => 4, _ => 8 };
            if (raw.Length != count * size)
            {
                return (null, $"raw_data holds {raw.Length} bytes, its shape needs {count * size}");
            }

            for (var i = 0; i < count; i++)
            {
                integers[i] = type switch
                {
                    DataType.Int8 => (sbyte)raw[i],
                    DataType.Uint8 or DataType.Bool => raw[i],
                    DataType.Int16 => BinaryPrimitives.ReadInt16LittleEndian(raw[(i * 2)..]),
                    DataType.Uint16 => BinaryPrimitives.ReadUInt16LittleEndian(raw[(i * 2)..]),
                    DataType.Int32 => BinaryPrimitives.ReadInt32LittleEndian(raw[(i * 4)..]),
                    _ => BinaryPrimitives.ReadInt64LittleEndian(raw[(i * 8)..]),
                };
            }
        }
        else
        {
            var source = type == DataType.Int64 ? tensor.Int64Data.ToArray() : tensor.Int32Data.Select(v => (long)v).ToArray();
            if (source.Length != count)
            {
                return (null, $"it holds {source.Length} values, its shape needs {count}");
            }

            integers = source;
        }

        return (new OnnxConstant(tensor.Name, tensorType, [.. integers], default), null);
    }
}
