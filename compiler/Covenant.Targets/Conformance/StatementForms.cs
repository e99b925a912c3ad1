using Covenant.Codelets.Syntax;

namespace Covenant.Targets.Conformance;

/// <summary>Top-level forms of a statement, for <see cref="InstructionModel.Claims"/>: <c>x = max(...)</c>, <c>x = a + b</c>.</summary>
internal static class StatementForms
{
    public static Func<StatementSyntax, bool> AssignsCall(string function) =>
        s => s is { Kind: AssignKind.Assign, Value: CallSyntax call } && call.Function == function;

    public static Func<StatementSyntax, bool> AssignsBinary(BinaryOp op) =>
        s => s is { Kind: AssignKind.Assign, Value: BinarySyntax binary } && binary.Op == op;
}
