using System.Collections.Immutable;
using System.Globalization;
using Covenant.Acg.Model;
using Covenant.Codelets;
using Covenant.Runtime;

namespace Covenant.Targets.Conformance;

/// <summary>
/// Runs a capability's statement and an instruction's model side by side on seeded random tiles (the first trial at
/// the domains' ends, where wrapping and saturation show) and says where they first differ.
/// </summary>
internal static class ConformanceTrials
{
    /// <summary>Trials per binding: the ends of every domain, then random values.</summary>
    public const int Trials = 4;

    /// <summary>The most scalar operations one issue may have for the check to evaluate it.</summary>
    public const long MaxOperations = 1 << 20;

    /// <summary>Null when the statement computes the model on every trial; otherwise what differs, in words.</summary>
    public static string? Run(Capability capability, InstructionModel model, ModelBinding binding, int seed)
    {
        var extents = model.Axes.ToDictionary(a => a.Name, a => capability.FindAxis(binding.Axes[a.Name])!.Extent, StringComparer.Ordinal);
        var operations = capability.Shape.Aggregate(1L, (product, axis) => product * axis.Extent);
        if (operations > MaxOperations || model.Operands.Any(o => Elements(o, extents) > MaxOperations))
        {
            return $"one issue is {operations} operations, more than the {MaxOperations} this check evaluates";
        }

        var (probe, problem) = SemanticsProbe.Create(capability, model, binding);
        if (probe is null)
        {
            return $"its semantics '{capability.SemanticsText}' cannot be evaluated on the instruction's operands ({problem})";
        }

        var random = new Random(seed);
        for (var trial = 0; trial < Trials; trial++)
        {
            var immediates = ImmutableDictionary.CreateBuilder<string, long>(StringComparer.Ordinal);
            var fields = new Dictionary<string, long>(StringComparer.Ordinal);
            foreach (var field in model.Immediates)
            {
                var immediate = capability.Immediates.First(i => i.Name == binding.Immediates[field.Role]);
                var (min, max) = ModelBindings.Range(immediate);
                var value = trial switch { 0 => min, 1 => max, _ => random.NextInt64(min, max + 1) };
                immediates[immediate.Name] = value;
                fields[field.Role] = value;
            }

            var tiles = model.Operands.ToDictionary(o => o.Role, o => Tile(o, extents, random, extremes: trial == 0), StringComparer.Ordinal);
            var inputs = model.Inputs.ToDictionary(o => binding.Operands[o.Role], o => tiles[o.Role].Data, StringComparer.Ordinal);
            var (actual, failure) = probe.Run(immediates.ToImmutable(), inputs, tiles[model.Output.Role].Data);
            if (actual is null)
            {
                return $"its semantics '{capability.SemanticsText}' cannot be evaluated on the instruction's operands ({failure})";
            }

            var expected = Expected(model, extents, tiles, fields);
            // Exact, element by element: the probe declares the output in the model's layout, so shapes and types agree.
            var comparison = ResultComparer.Compare(expected, actual);
            if (!comparison.Matches)
            {
                var at = expected.FlatIndexOf(comparison.FirstMismatch.AsSpan());
                var name = binding.Operands[model.Output.Role];
                return $"on random operands its semantics '{capability.SemanticsText}' give {name}{TensorData.FormatIndex(expected.IndexOf(at))} = " +
                    $"{Value(actual, at)} where the instruction gives {Value(expected, at)}";
            }
        }

        return null;
    }

    private static string Value(TensorData tensor, int at) => tensor.IsInteger
        ? tensor.Integers[at].ToString(CultureInfo.InvariantCulture)
        : tensor.Floats[at].ToString("R", CultureInfo.InvariantCulture);

    private static long Elements(ModelOperand operand, IReadOnlyDictionary<string, int> extents) =>
        operand.Axes.Aggregate(1L, (product, axis) => product * extents[axis]);

    private sealed record TileValues(TensorData Data, int[]? Integers, float[]? Floats);

    private static TileValues Tile(ModelOperand operand, IReadOnlyDictionary<string, int> extents, Random random, bool extremes)
    {
        var shape = operand.Axes.Select(a => extents[a]).ToImmutableArray();
        var length = (int)Elements(operand, extents);
        var domain = operand.Values;
        var steps = new long[length];
        for (var i = 0; i < length; i++)
        {
            // Mostly uniform; an eighth of the values at each end (all of them on the extreme trial).
            var pick = extremes ? random.Next(2) * 7 : random.Next(8);
            steps[i] = pick switch { 0 => domain.Min, 7 => domain.Max, _ => random.NextInt64(domain.Min, domain.Max + 1) };
        }

        if (operand.Type.IsInteger())
        {
            var values = steps.Select(s => checked((int)s)).ToArray();
            return new TileValues(TensorData.FromIntegers(operand.Type, shape, values), values, null);
        }

        var floats = steps.Select(s => (float)(s * domain.Step)).ToArray();
        return new TileValues(TensorData.FromFloats(operand.Type, shape, floats), null, floats);
    }

    // The model's kernel on copies of the same tiles; the output starts from the same initial values.
    private static TensorData Expected(
        InstructionModel model,
        IReadOnlyDictionary<string, int> extents,
        IReadOnlyDictionary<string, TileValues> tiles,
        IReadOnlyDictionary<string, long> immediates)
    {
        var integers = tiles.Where(t => t.Value.Integers is not null).ToDictionary(t => t.Key, t => (int[])t.Value.Integers!.Clone(), StringComparer.Ordinal);
        var floats = tiles.Where(t => t.Value.Floats is not null).ToDictionary(t => t.Key, t => (float[])t.Value.Floats!.Clone(), StringComparer.Ordinal);
        model.Kernel(new ModelState(extents, integers, floats, immediates));
        var output = model.Output;
        var shape = output.Axes.Select(a => extents[a]).ToImmutableArray();
        return output.Type.IsInteger()
            ? TensorData.FromIntegers(output.Type, shape, integers[output.Role])
            : TensorData.FromFloats(output.Type, shape, floats[output.Role]);
    }
}
