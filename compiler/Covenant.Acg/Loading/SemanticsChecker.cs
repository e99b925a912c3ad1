using Covenant.Acg.Model;
using Covenant.Codelets.Syntax;
using Covenant.Core.Diagnostics;

namespace Covenant.Acg.Loading;

/// <summary>
/// Checks a capability's parsed semantics against its declarations: every tensor is an operand, every
/// index name an axis of <c>shape</c>, every other scalar an immediate, and nothing declared goes unused.
/// Records each operand's role (read, written) and the axes that index it.
/// </summary>
internal static class SemanticsChecker
{
    public static void Check(CapabilityDraft capability, DiagnosticBag diagnostics)
    {
        if (capability.Semantics is not { } statement)
        {
            return;
        }

        var walk = new Walk(capability, diagnostics);
        walk.Visit(statement);
        walk.ReportUnused();
    }

    /// <summary>One pass over a capability's semantics: what it uses, and what it names that is not declared.</summary>
    private sealed class Walk(CapabilityDraft capability, DiagnosticBag diagnostics)
    {
        private readonly Dictionary<string, OperandDraft> operands = capability.Operands.ToDictionary(o => o.Name, StringComparer.Ordinal);
        private readonly HashSet<string> axes = capability.Shape.Select(a => a.Name).ToHashSet(StringComparer.Ordinal);
        private readonly HashSet<string> immediates = capability.Immediates.Select(i => i.Name).ToHashSet(StringComparer.Ordinal);
        private readonly HashSet<string> usedAxes = new(StringComparer.Ordinal);
        private readonly HashSet<string> usedImmediates = new(StringComparer.Ordinal);
        private readonly Dictionary<string, int> arity = new(StringComparer.Ordinal);

        // Unknown names are reported once each; a declaration they were probably meant to use is then not "unused".
        private readonly HashSet<string> unknownTensors = new(StringComparer.Ordinal);
        private readonly HashSet<string> unknownIndices = new(StringComparer.Ordinal);
        private readonly HashSet<string> unknownScalars = new(StringComparer.Ordinal);

        private string Label => capability.Label;

        public void Visit(StatementSyntax statement)
        {
            // InIndex: inside some tensor's indices; Of: that tensor's operand (null when the tensor is unknown).
            var pending = new Stack<(ExprSyntax Node, bool InIndex, OperandDraft? Of, OperandRole Role)>();
            var targetRole = statement.Kind == AssignKind.Accumulate ? OperandRole.ReadWrite : OperandRole.Write;
            pending.Push((statement.Value, false, null, OperandRole.Read));
            pending.Push((statement.Target, false, null, targetRole));

            while (pending.Count > 0)
            {
                var (node, inIndex, of, role) = pending.Pop();
                switch (node)
                {
                    case AccessSyntax access:
                        var operand = Access(access, inIndex ? of?.Name ?? "a tensor" : null);
                        foreach (var index in access.Indices.Reverse())
                        {
                            pending.Push((index, true, operand, OperandRole.Read));
                        }

                        if (operand is not null)
                        {
                            operand.Role |= role;
                        }

                        continue;
                    case NameSyntax name when inIndex:
                        Axis(name, of);
                        continue;
                    case NameSyntax name:
                        Immediate(name);
                        continue;
                    default:
                        foreach (var child in node.Children().Reverse())
                        {
                            pending.Push((child, inIndex, of, OperandRole.Read));
                        }

                        continue;
                }
            }
        }

        public void ReportUnused()
        {
            if (capability.ShapeComplete && unknownIndices.Count == 0)
            {
                foreach (var axis in capability.Shape.Where(a => !usedAxes.Contains(a.Name)))
                {
                    diagnostics.Report(AcgDiagnostics.Unused, axis.Location,
                        $"axis '{axis.Name}' of {Label} is not used by its semantics '{capability.SemanticsText}'");
                }
            }

            foreach (var operand in capability.Operands.Where(o => unknownTensors.Count == 0 && !arity.ContainsKey(o.Name)))
            {
                diagnostics.Report(AcgDiagnostics.Unused, operand.Location,
                    $"operand '{operand.Name}' of {Label} is not used by its semantics '{capability.SemanticsText}'");
            }

            foreach (var immediate in capability.Immediates.Where(i => unknownScalars.Count == 0 && !usedImmediates.Contains(i.Name)))
            {
                diagnostics.Report(AcgDiagnostics.Unused, immediate.Location,
                    $"immediate '{immediate.Name}' of {Label} is not used by its semantics '{capability.SemanticsText}'");
            }
        }

        private OperandDraft? Access(AccessSyntax access, string? indexOf)
        {
            if (indexOf is not null)
            {
                diagnostics.Report(AcgDiagnostics.BadIndexing, access.Location,
                    $"an index of '{indexOf}' in the semantics of {Label} reads tensor '{access.Tensor}'; indices must be affine in the shape axes");
            }

            if (arity.TryGetValue(access.Tensor, out var expected) && expected != access.Indices.Length)
            {
                diagnostics.Report(AcgDiagnostics.BadIndexing, access.Location,
                    $"'{access.Tensor}' is indexed with {access.Indices.Length} indices here but {expected} elsewhere in the semantics of {Label}");
            }

            arity.TryAdd(access.Tensor, access.Indices.Length);
            if (operands.TryGetValue(access.Tensor, out var found))
            {
                return found;
            }

            // With an unreadable operands mapping every tensor would be "unknown"; that error is already reported.
            if (capability.OperandsComplete && unknownTensors.Add(access.Tensor))
            {
                diagnostics.Report(AcgDiagnostics.UnknownOperand, access.Location,
                    $"the semantics of {Label} use tensor '{access.Tensor}', which is not one of its operands" +
                    (operands.Count == 0 ? "" : Spelling.DidYouMean(access.Tensor, operands.Keys) + $"; the operands are {string.Join(", ", operands.Keys)}"));
            }

            return null;
        }

        private void Axis(NameSyntax name, OperandDraft? of)
        {
            if (axes.Contains(name.Name))
            {
                usedAxes.Add(name.Name);
                if (of is not null && !of.Axes.Contains(name.Name))
                {
                    of.Axes.Add(name.Name);
                }
            }
            else if (capability.ShapeComplete && unknownIndices.Add(name.Name))
            {
                diagnostics.Report(AcgDiagnostics.UnknownAxis, name.Location,
                    $"index '{name.Name}' in the semantics of {Label} is not an axis of its shape" +
                    Spelling.DidYouMean(name.Name, axes) + (axes.Count == 0 ? "" : $"; the axes are {string.Join(", ", axes)}"));
            }
        }

        private void Immediate(NameSyntax name)
        {
            if (immediates.Contains(name.Name))
            {
                usedImmediates.Add(name.Name);
                return;
            }

            if (!unknownScalars.Add(name.Name))
            {
                return;
            }

            var hint = immediates.Count == 0
                ? "; scalars outside indices must be declared under 'immediates'"
                : Spelling.DidYouMean(name.Name, immediates) + $"; the immediates are {string.Join(", ", immediates)}";
            diagnostics.Report(AcgDiagnostics.UnknownAxis, name.Location,
                $"'{name.Name}' in the semantics of {Label} is used as a value but is not an immediate{hint}");
        }
    }
}
