using System.Collections.Immutable;
using Covenant.Codelets;
using Covenant.Codelets.Semantics;
using Covenant.Runtime.Reference;

namespace Covenant.Runtime.Tests;

/// <summary>Short ways to make tensors and run instances in tests.</summary>
internal static class Tensors
{
    public static TensorData I8(int[] shape, params int[] values) => TensorData.FromIntegers(ElementType.I8, [.. shape], values);

    public static TensorData U8(int[] shape, params int[] values) => TensorData.FromIntegers(ElementType.U8, [.. shape], values);

    public static TensorData I32(int[] shape, params int[] values) => TensorData.FromIntegers(ElementType.I32, [.. shape], values);

    public static TensorData F32(int[] shape, params float[] values) => TensorData.FromFloats(ElementType.F32, [.. shape], values);

    public static TensorData F16(int[] shape, params float[] values) => TensorData.FromFloats(ElementType.F16, [.. shape], values);

    public static TensorData Of(ElementType type, ImmutableArray<int> shape, int[] values) =>
        type.IsInteger()
            ? TensorData.FromIntegers(type, shape, values)
            : TensorData.FromFloats(type, shape, [.. values.Select(v => (float)v)]);

    public static IReadOnlyDictionary<string, TensorData> Run(CodeletInstance instance, params (string Name, TensorData Data)[] inputs) =>
        ReferenceInterpreter.Run(instance, inputs.ToDictionary(i => i.Name, i => i.Data));

    /// <summary>The integer values, for Is.EqualTo comparisons that print well on failure.</summary>
    public static int[] Values(TensorData data) => data.Integers.ToArray();

    public static float[] FloatValues(TensorData data) => data.Floats.ToArray();
}
