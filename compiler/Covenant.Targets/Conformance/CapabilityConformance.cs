using System.Collections.Concurrent;
using System.Collections.Immutable;
using Covenant.Acg.Model;
using Covenant.Core.Diagnostics;

namespace Covenant.Targets.Conformance;

/// <summary>How a capability's axes and operands may be matched with an instruction's.</summary>
public enum BindingRule
{
    /// <summary>In any order (names are the YAML's choice): the target finds its operands by their form.</summary>
    AnyOrder,

    /// <summary>By name (the model's axis and input names), with the output being the operand the statement writes: the target reads them by name.</summary>
    ByName,
}

/// <summary>
/// What a capability may be on one target: the instructions it can be (<see cref="Candidates"/>, any one of them will
/// do), how to bind it to them, and the diagnostics to report with.
/// </summary>
/// <param name="Family">The candidates in words, for a capability that computes none of several: "VTA's ALU instructions".</param>
/// <param name="SemanticsDiffer">Reported at the semantics when the statement does not compute the instruction.</param>
/// <param name="OperandsDiffer">Reported at an operand, axis or immediate whose declaration no instruction has.</param>
public sealed record ConformanceRules(
    ImmutableArray<InstructionModel> Candidates,
    BindingRule Rule,
    string Family,
    DiagnosticDescriptor SemanticsDiffer,
    DiagnosticDescriptor OperandsDiffer);

/// <summary>
/// Checks that a capability computes an instruction its target emits: first its declarations (types, extents, immediate
/// ranges) against the instruction's, then its <c>semantics</c> statement, evaluated by the reference interpreter on
/// random tiles (<see cref="SemanticsProbe"/>), against the instruction's own model. A capability passes when some
/// candidate instruction and some binding agree on every trial.
/// </summary>
public static class CapabilityConformance
{
    private const int Seed = 20241;

    // The trials are a pure function of a capability's declarations and the binding (they are seeded), so a process that
    // compiles many layers for one graph (suite, compare, tune) evaluates each capability once. Bounded: cleared when full.
    private const int MaxRemembered = 4096;
    private static readonly ConcurrentDictionary<string, string> Remembered = new(StringComparer.Ordinal);

    public static ImmutableArray<Diagnostic> Check(ComputeNode node, Capability capability, ConformanceRules rules)
    {
        ArgumentNullException.ThrowIfNull(node);
        ArgumentNullException.ThrowIfNull(capability);
        ArgumentNullException.ThrowIfNull(rules);
        var subject = $"capability '{capability.Name}' of '{node.Name}'";

        // Candidates whose form the statement claims first: they are the ones a message compares it with.
        var claimed = rules.Candidates.FirstOrDefault(m => m.Claims(capability.Semantics));
        var ordered = rules.Candidates.OrderBy(m => m == claimed ? 0 : 1).ToList();
        var valid = new List<(InstructionModel Model, ModelBinding Binding)>();
        var closest = new Dictionary<InstructionModel, ImmutableArray<Diagnostic>>();
        foreach (var model in ordered)
        {
            var counts = ModelBindings.CountProblems(capability, model, rules, subject);
            if (!counts.IsEmpty)
            {
                closest[model] = counts;
                continue;
            }

            foreach (var binding in ModelBindings.Enumerate(capability, model, rules.Rule))
            {
                var problems = ModelBindings.Problems(capability, model, binding, rules, subject);
                if (problems.IsEmpty)
                {
                    valid.Add((model, binding));
                }
                else if (!closest.TryGetValue(model, out var known) || problems.Length < known.Length)
                {
                    closest[model] = problems;
                }
            }
        }

        // The declarations of the instruction the statement claims to be, when they are what differs ("shr" with an
        // immediate range the instruction has no field for); else those of the instruction it comes closest to.
        var claimedProblems = claimed is not null && !valid.Any(v => v.Model == claimed) ? closest.GetValueOrDefault(claimed) : default;
        if (valid.Count == 0)
        {
            return !claimedProblems.IsDefault ? claimedProblems
                : closest.Count > 0 ? closest.Values.MinBy(p => p.Length)
                : [rules.OperandsDiffer.Create(capability.Location, $"{subject} is none of {rules.Family}")];
        }

        string? firstDetail = null;
        foreach (var (model, binding) in valid)
        {
            var detail = Trials(capability, model, binding);
            if (detail is null)
            {
                return [];
            }

            firstDetail ??= detail;
        }

        if (!claimedProblems.IsDefault)
        {
            return claimedProblems;
        }

        var first = valid[0];
        var models = valid.Select(v => v.Model).Distinct().ToList();
        var message = first.Model == claimed || models.Count == 1
            ? $"{subject} does not compute {first.Model.Name} ({first.Model.Types}), which is '{first.Model.Render(first.Binding)}': {firstDetail}"
            : $"{subject} computes none of {rules.Family}: its semantics '{capability.SemanticsText}' differ from " +
              string.Join(", ", models.Select(m => $"'{m.Render(valid.First(v => v.Model == m).Binding)}'"));
        return [rules.SemanticsDiffer.Create(capability.Semantics.Location, message)];
    }

    // What differs under a binding (null: nothing), remembered by everything the trials read ("" stands for nothing).
    private static string? Trials(Capability capability, InstructionModel model, ModelBinding binding)
    {
        static string Pairs(IEnumerable<KeyValuePair<string, string>> pairs) => string.Join(",", pairs.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => $"{p.Key}={p.Value}"));
        var key = string.Join("\n",
            model.Name, Pairs(binding.Axes), Pairs(binding.Operands), Pairs(binding.Immediates), capability.SemanticsText,
            string.Join(",", capability.Shape.Select(a => $"{a.Name}:{a.Extent}")),
            string.Join(",", capability.Operands.Select(o => $"{o.Name}:{o.Type}")),
            string.Join(",", capability.Immediates.Select(i => $"{i.Name}:{i.Type}:{i.Min}:{i.Max}")));
        if (!Remembered.TryGetValue(key, out var detail))
        {
            detail = ConformanceTrials.Run(capability, model, binding, Seed) ?? "";
            if (Remembered.Count >= MaxRemembered)
            {
                Remembered.Clear();
            }

            Remembered[key] = detail;
        }

        return detail.Length == 0 ? null : detail;
    }
}
