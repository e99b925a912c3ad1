using System.Collections.Immutable;
using Covenant.Codelets;
using Covenant.Codelets.Semantics;

namespace Covenant.Runtime;

/// <summary>
/// Seeded random inputs. Each tensor draws from its own stream (<see cref="SeededRandom.ForStream"/>), one
/// 64-bit draw per element in row-major order, and uses the draw's top bits (xoshiro's best):
/// <list type="bullet">
/// <item>i8, u8: uniform over the whole type (the top 8 bits).</item>
/// <item>i32: uniform over [<see cref="I32Low"/>, <see cref="I32High"/>), small enough that a bias add or a
/// few accumulations do not routinely overflow, large enough to exercise every byte lane.</item>
/// <item>f32: uniform over [-1, 1) on a grid of 2^-23; f16: the same on a grid of 2^-10. Every value is
/// exact in its type, so no rounding happens at generation. (On the f16 grid, products are multiples of
/// 2^-20, so moderate f16 dot products accumulate exactly in f32, whatever the order.)</item>
/// </list>
/// </summary>
public static class RandomTensors
{
    public const int I32Low = -(1 << 16);

    public const int I32High = 1 << 16;

    /// <summary>A random tensor from the stream named <paramref name="name"/> of <paramref name="seed"/>.</summary>
    public static TensorData Generate(ElementType elementType, ImmutableArray<int> shape, ulong seed, string name)
    {
        var length = TensorData.CheckShape(shape);
        var random = SeededRandom.ForStream(seed, name);
        if (elementType.IsInteger())
        {
            var values = new int[length];
            for (var i = 0; i < length; i++)
            {
                values[i] = IntegerFromBits(elementType, random.Next());
            }

            return TensorData.WrapIntegers(elementType, shape, values);
        }

        var floats = new float[length];
        for (var i = 0; i < length; i++)
        {
            floats[i] = FloatFromBits(elementType, random.Next());
        }

        return TensorData.WrapFloats(elementType, shape, floats);
    }

    /// <summary>Random values for every input of an instance, each from the stream named after the tensor.</summary>
    public static IReadOnlyDictionary<string, TensorData> Inputs(CodeletInstance instance, ulong seed)
    {
        ArgumentNullException.ThrowIfNull(instance);
        return instance.Inputs.ToDictionary(
            tensor => tensor.Name,
            tensor => Generate(tensor.ElementType, tensor.Shape, seed, tensor.Name),
            StringComparer.Ordinal);
    }

    /// <summary>The element a 64-bit draw becomes in an integer type.</summary>
    public static int IntegerFromBits(ElementType elementType, ulong bits) => elementType switch
    {
        ElementType.I8 => unchecked((sbyte)(bits >> 56)),
        ElementType.U8 => (int)(bits >> 56),
        ElementType.I32 => (int)(bits >> 47) + I32Low, // 17 bits: [0, 2^17) shifted to [-2^16, 2^16)
        _ => throw new ArgumentOutOfRangeException(nameof(elementType), elementType, "not an integer type"),
    };

    /// <summary>The element a 64-bit draw becomes in a float type.</summary>
    public static float FloatFromBits(ElementType elementType, ulong bits) => elementType switch
    {
        // k * 2^-(b-1) - 1 for a b-bit k: exact, because |value| <= 1 needs at most b significant bits.
        ElementType.F32 => ((int)(bits >> 40) * (1f / (1 << 23))) - 1f,
        ElementType.F16 => ((int)(bits >> 53) * (1f / (1 << 10))) - 1f,
        _ => throw new ArgumentOutOfRangeException(nameof(elementType), elementType, "not a float type"),
    };
}
