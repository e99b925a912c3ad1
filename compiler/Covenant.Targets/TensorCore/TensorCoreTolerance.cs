using Covenant.Codelets;
using Covenant.Codelets.Semantics;
using Covenant.Mapping.Analysis;
using Covenant.Runtime;
using Covenant.Runtime.Reference;

namespace Covenant.Targets.TensorCore;

/// <summary>
/// How far a tensor-core f32 result may lie from the reference interpreter's. Both sum the same exact products
/// (f16 x f16 is exact in f32) in f32, in different orders and — on the hardware — with internal accumulation that is
/// not IEEE round-to-nearest per add (tensor cores are documented to truncate). Any order of n additions of terms
/// whose magnitudes sum to S is within gamma_n * S of the exact sum, gamma_n = n u / (1 - n u) (Higham, "Accuracy and
/// Stability of Numerical Algorithms", 2nd ed., eq. 4.4); with u = 2^-23 (one ulp, which also covers truncation) and
/// both results off the exact sum, two results differ by at most 2 gamma_K max S, S = sum over k of |a||b| for the
/// output element (the reference interpreter run on |a| and |b|). Integers are compared exactly (null).
/// </summary>
public static class TensorCoreTolerance
{
    public static double? For(CodeletInstance instance, IReadOnlyDictionary<string, TensorData> inputs, string output)
    {
        ArgumentNullException.ThrowIfNull(instance);
        ArgumentNullException.ThrowIfNull(inputs);
        var tensor = instance.Tensors.First(t => t.Name == output);
        if (tensor.ElementType.IsInteger())
        {
            return null;
        }

        var (nest, _) = AccumulationFinder.Find(instance);
        long k = 1;
        if (nest is not null)
        {
            for (var l = 0; l < nest.Nest.Loops.Length; l++)
            {
                if (!AccumulationNest.Uses(nest.Accumulator, l))
                {
                    k *= nest.Nest.Loops[l].Extent;
                }
            }
        }

        var absolute = inputs.ToDictionary(p => p.Key, p => p.Value.IsInteger ? p.Value : TensorData.FromFloats(p.Value.ElementType, p.Value.Shape, [.. p.Value.Floats.ToArray().Select(MathF.Abs)]), StringComparer.Ordinal);
        var sums = ReferenceInterpreter.Run(instance, absolute)[output];
        var largest = 0.0;
        for (var i = 0; i < sums.Length; i++)
        {
            largest = Math.Max(largest, Math.Abs(sums.GetFlat(i)));
        }

        var u = Math.Pow(2, -23);
        var gamma = k * u / (1 - (k * u));
        return 2 * gamma * largest;
    }
}
