using System.Collections.Immutable;
using System.Globalization;
using System.Text;
using Covenant.Acg.Model;
using Covenant.Codelets;
using Covenant.Codelets.Semantics;
using Covenant.Codelets.Syntax;
using Covenant.Core.Diagnostics;
using Covenant.Runtime;
using Covenant.Runtime.Reference;

namespace Covenant.Targets.Conformance;

/// <summary>
/// A capability's <c>semantics</c> statement as a one-issue codelet, run by the reference interpreter: the operands are
/// the instruction's tiles in its canonical layouts (a binding says which capability operand is which), the output
/// starts from given values, and each immediate is read from a one-element tensor (so one compiled instance serves
/// every trial). So a YAML statement is evaluated with exactly the integer and float semantics every target's results
/// are checked against.
/// </summary>
internal sealed class SemanticsProbe
{
    // Names no YAML operand or axis is expected to take; a clash only makes the probe fail to check, never pass.
    private const string InitialTensor = "covenant_probe_initial";
    private const string CopyIndex = "covenant_probe_d";
    private const string ImmediatePrefix = "covenant_probe_imm_";

    private readonly CodeletInstance instance;
    private readonly string output;
    private readonly ImmutableDictionary<string, ElementType> immediateTypes;

    private SemanticsProbe(CodeletInstance instance, string output, ImmutableDictionary<string, ElementType> immediateTypes)
    {
        this.instance = instance;
        this.output = output;
        this.immediateTypes = immediateTypes;
    }

    /// <summary>The probe for <paramref name="capability"/> under <paramref name="binding"/>, or why its statement is no codelet.</summary>
    public static (SemanticsProbe? Probe, string? Problem) Create(Capability capability, InstructionModel model, ModelBinding binding)
    {
        var output = binding.Operands[model.Output.Role];
        var text = Source(capability, model, binding);
        var loaded = CodeletLoader.Load(new SourceFile($"semantics of capability '{capability.Name}'", text));
        if (!loaded.Succeeded)
        {
            return (null, Problems(loaded.Diagnostics));
        }

        var instance = loaded.Value!.Instantiate(ImmutableDictionary<string, long>.Empty);
        return instance.Succeeded
            ? (new SemanticsProbe(instance.Value!, output, capability.Immediates.ToImmutableDictionary(i => i.Name, i => i.Type, StringComparer.Ordinal)), null)
            : (null, Problems(instance.Diagnostics));
    }

    /// <summary>
    /// Runs one issue: <paramref name="inputs"/> by capability operand name, <paramref name="initial"/> the output's
    /// values before it; returns the output after it, or why the statement cannot run on these tiles.
    /// </summary>
    public (TensorData? Output, string? Problem) Run(
        IReadOnlyDictionary<string, long> immediates,
        IReadOnlyDictionary<string, TensorData> inputs,
        TensorData initial)
    {
        var all = new Dictionary<string, TensorData>(inputs, StringComparer.Ordinal) { [InitialTensor] = initial };
        foreach (var (name, value) in immediates)
        {
            all[ImmediatePrefix + name] = TensorData.FromIntegers(immediateTypes[name], [1], [checked((int)value)]);
        }

        try
        {
            var outputs = ReferenceInterpreter.Run(instance, all, new InterpreterOptions { MaxDegreeOfParallelism = 1 });
            return (outputs[output], null);
        }
        catch (Exception e) when (e is InvalidOperationException or ArgumentException)
        {
            // The interpreter refuses an access it cannot allow (out of bounds); that is the statement's problem.
            return (null, e.Message);
        }
    }

    private static string Source(Capability capability, InstructionModel model, ModelBinding binding)
    {
        var inv = CultureInfo.InvariantCulture;
        string Dims(ModelOperand operand) =>
            string.Join(", ", operand.Axes.Select(axis => capability.FindAxis(binding.Axes[axis])!.Extent.ToString(inv)));

        var output = binding.Operands[model.Output.Role];
        var outputType = $"{model.Output.Type.Name()}[{Dims(model.Output)}]";
        var tensors = model.Inputs.Select(o => $"{binding.Operands[o.Role]}: {o.Type.Name()}[{Dims(o)}]")
            .Concat(capability.Immediates.Select(i => $"{ImmediatePrefix}{i.Name}: {i.Type.Name()}[1]"))
            .Append($"{InitialTensor}: {outputType}");
        var immediates = capability.Immediates.Select(i => i.Name).ToHashSet(StringComparer.Ordinal);
        var statement = capability.Semantics with { Value = ReadImmediates(capability.Semantics.Value, immediates) };
        var copyLoops = model.Output.Axes.Select((axis, n) => $"{CopyIndex}{n} in {capability.FindAxis(binding.Axes[axis])!.Extent.ToString(inv)}");
        var copyIndex = string.Join(", ", model.Output.Axes.Select((_, n) => $"{CopyIndex}{n}"));
        var loops = capability.Shape.Select(axis => $"{axis.Name} in {axis.Extent.ToString(inv)}");

        var text = new StringBuilder();
        text.AppendLine(inv, $"codelet covenant_probe({string.Join(", ", tensors)}) -> {output}: {outputType}");
        text.AppendLine("{");
        text.AppendLine(inv, $"    for {string.Join(", ", copyLoops)}: {output}[{copyIndex}] = {InitialTensor}[{copyIndex}]");
        text.AppendLine(inv, $"    for {string.Join(", ", loops)}: {SyntaxPrinter.Print(statement)}");
        text.AppendLine("}");
        return text.ToString();
    }

    // An immediate (a name outside any index) becomes a read of its one-element tensor; indices hold only axes.
    private static ExprSyntax ReadImmediates(ExprSyntax value, IReadOnlySet<string> immediates) => value switch
    {
        NameSyntax name when immediates.Contains(name.Name) =>
            new AccessSyntax(ImmediatePrefix + name.Name, [new IntLiteralSyntax(0, name.Location)], name.Location),
        UnarySyntax unary => unary with { Operand = ReadImmediates(unary.Operand, immediates) },
        BinarySyntax binary => binary with { Left = ReadImmediates(binary.Left, immediates), Right = ReadImmediates(binary.Right, immediates) },
        CallSyntax call => call with { Arguments = [.. call.Arguments.Select(a => ReadImmediates(a, immediates))] },
        CastSyntax cast => cast with { Operand = ReadImmediates(cast.Operand, immediates) },
        _ => value,
    };

    // The checker's and instantiator's words, without the probe's own positions (they are not in any file the user has)
    // and without advice about codelet declarations ("declare 'b' padded"), which the YAML has no place for.
    private static string Problems(ImmutableArray<Diagnostic> diagnostics) =>
        string.Join("; ", diagnostics.Where(d => d.IsError)
            .Select(d => d.Message.Split("; declare ", 2, StringSplitOptions.None)[0])
            .Distinct(StringComparer.Ordinal).Take(2));
}
