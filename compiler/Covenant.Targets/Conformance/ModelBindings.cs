using System.Collections.Immutable;
using Covenant.Acg.Model;
using Covenant.Codelets;
using Covenant.Core.Diagnostics;

namespace Covenant.Targets.Conformance;

/// <summary>
/// The ways a capability's declarations can stand for an instruction's (<see cref="Enumerate"/>) and what in them
/// disagrees with it (<see cref="Problems"/>), each problem at the YAML element it concerns.
/// </summary>
internal static class ModelBindings
{
    /// <summary>The operands a capability only reads (every operand but the one its statement writes).</summary>
    public static ImmutableArray<CapabilityOperand> Inputs(Capability capability)
    {
        var output = capability.Output;
        return [.. capability.Operands.Where(o => !ReferenceEquals(o, output))];
    }

    /// <summary>Problems no binding can avoid: too many or too few axes, inputs or immediates (or, by name, missing ones).</summary>
    public static ImmutableArray<Diagnostic> CountProblems(Capability capability, InstructionModel model, ConformanceRules rules, string subject)
    {
        var problems = ImmutableArray.CreateBuilder<Diagnostic>();
        var inputs = Inputs(capability);
        var axisNames = capability.Shape.Select(a => a.Name).ToList();
        void Report(SourceLocation at, string message) => problems.Add(rules.OperandsDiffer.Create(at, message));

        if (rules.Rule == BindingRule.ByName)
        {
            foreach (var role in model.Inputs.Select(o => o.Role).Where(r => !inputs.Any(o => o.Name == r)))
            {
                Report(capability.Location, $"{subject} has no input operand '{role}'; {model.Name} reads operands named {Names(model.Inputs.Select(o => o.Role))}");
            }

            foreach (var axis in model.Axes.Where(a => !axisNames.Contains(a.Name)))
            {
                Report(capability.Location, $"{subject} has no axis '{axis.Name}' ({axis.Meaning}); {model.Name} reads its extents from axes {Names(model.Axes.Select(a => a.Name))}");
            }
        }

        if (inputs.Length != model.Inputs.Length)
        {
            Report(capability.Location, $"{subject} reads {inputs.Length} tensor operand(s) ({Names(inputs.Select(o => o.Name))}) besides its output; {model.Name} reads {model.Inputs.Length}");
        }

        if (capability.Shape.Length != model.Axes.Length)
        {
            Report(capability.Location, $"{subject} has {capability.Shape.Length} axes ({Names(axisNames)}); {model.Name} has {model.Axes.Length} ({string.Join(", ", model.Axes.Select(a => a.Meaning))})");
        }

        if (capability.Immediates.Length != model.Immediates.Length)
        {
            Report(capability.Location, $"{subject} has {capability.Immediates.Length} immediate(s); {model.Name} encodes {model.Immediates.Length}");
        }

        return problems.ToImmutable();
    }

    /// <summary>Every binding of a capability whose counts agree with <paramref name="model"/>, the declared order first.</summary>
    public static IEnumerable<ModelBinding> Enumerate(Capability capability, InstructionModel model, BindingRule rule)
    {
        var output = ImmutableDictionary<string, string>.Empty.Add(model.Output.Role, capability.Output.Name);
        var inputNames = Inputs(capability).Select(o => o.Name).ToList();
        var axisNames = capability.Shape.Select(a => a.Name).ToList();
        var immediateNames = capability.Immediates.Select(i => i.Name).ToList();
        var axisOrders = rule == BindingRule.ByName ? [model.Axes.Select(a => a.Name).ToList()] : Permutations(axisNames);
        var inputOrders = rule == BindingRule.ByName ? [model.Inputs.Select(o => o.Role).ToList()] : Permutations(inputNames);
        foreach (var axes in axisOrders)
        {
            foreach (var inputs in inputOrders)
            {
                foreach (var immediates in Permutations(immediateNames))
                {
                    yield return new ModelBinding(
                        Zip(model.Axes.Select(a => a.Name), axes),
                        output.AddRange(Zip(model.Inputs.Select(o => o.Role), inputs)),
                        Zip(model.Immediates.Select(i => i.Role), immediates));
                }
            }
        }
    }

    /// <summary>Where the capability's types, extents and immediate ranges differ from the instruction's under a binding.</summary>
    public static ImmutableArray<Diagnostic> Problems(Capability capability, InstructionModel model, ModelBinding binding, ConformanceRules rules, string subject)
    {
        var problems = ImmutableArray.CreateBuilder<Diagnostic>();
        void Report(SourceLocation at, string message) => problems.Add(rules.OperandsDiffer.Create(at, message));
        var instruction = $"{model.Name} ({model.Types})";

        foreach (var role in model.Operands)
        {
            var operand = capability.FindOperand(binding.Operands[role.Role])!;
            if (operand.Type != role.Type)
            {
                Report(operand.Location, $"operand '{operand.Name}' of {subject} is {operand.Type.Name()}, but {instruction} takes {role.Type.Name()} for it");
            }
        }

        foreach (var axis in model.Axes.Where(a => !a.Extents.IsEmpty))
        {
            var declared = capability.FindAxis(binding.Axes[axis.Name])!;
            if (!axis.Extents.Contains(declared.Extent))
            {
                Report(declared.Location, $"axis '{declared.Name}' of {subject} has extent {declared.Extent}; {model.Name} has {string.Join(" or ", axis.Extents)} ({axis.Meaning})");
            }
        }

        foreach (var field in model.Immediates)
        {
            var immediate = capability.Immediates.First(i => i.Name == binding.Immediates[field.Role]);
            var (min, max) = Range(immediate);
            if (immediate.Type != field.Type)
            {
                Report(immediate.Location, $"immediate '{immediate.Name}' of {subject} is {immediate.Type.Name()}, but {instruction} encodes {field.Type.Name()}");
            }
            else if (min < field.Min || min > field.Max || max > field.Max || min > max)
            {
                var outside = min < field.Min || min > field.Max ? min : max;
                Report(immediate.Location, $"immediate '{immediate.Name}' of {subject} may be {outside} (declared [{min}, {max}]); {instruction} encodes [{field.Min}, {field.Max}]");
            }
        }

        return problems.ToImmutable();
    }

    /// <summary>The values an immediate may take: its declared bounds, else its type's.</summary>
    public static (long Min, long Max) Range(CapabilityImmediate immediate)
    {
        var type = ValueDomain.Of(immediate.Type.IsInteger() ? immediate.Type : ElementType.I32);
        return (immediate.Min ?? type.Min, immediate.Max ?? type.Max);
    }

    private static ImmutableDictionary<string, string> Zip(IEnumerable<string> roles, IEnumerable<string> names) =>
        roles.Zip(names).ToImmutableDictionary(p => p.First, p => p.Second, StringComparer.Ordinal);

    private static string Names(IEnumerable<string> names) => string.Join(", ", names.Select(n => $"'{n}'"));

    // Every order of a short list (at most three elements reach here: the counts were checked first), identity first.
    private static List<List<string>> Permutations(List<string> items)
    {
        if (items.Count <= 1)
        {
            return [items];
        }

        var result = new List<List<string>>();
        for (var first = 0; first < items.Count; first++)
        {
            var rest = items.Where((_, i) => i != first).ToList();
            result.AddRange(Permutations(rest).Select(tail => (List<string>)[items[first], .. tail]));
        }

        return result;
    }
}
