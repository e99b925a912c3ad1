using System.Collections.Immutable;
using System.Globalization;
using System.Text.RegularExpressions;
using Covenant.Acg.Model;
using Covenant.Codelets;
using Covenant.Core.Diagnostics;

namespace Covenant.Acg.Loading;

/// <summary>
/// Typed values out of YAML scalars, each problem reported at its position: texts, choices, integers, sizes with binary
/// units, bandwidths, frequencies, cycles, names. The ACG schema reader (<see cref="AcgReader"/>) is built on it.
/// </summary>
internal abstract partial class YamlValueReader(DiagnosticBag diagnostics)
{
    protected const int MaxNameLength = 100;

    private static readonly string[] Booleans = ["true", "false"];

    /// <summary>Element types as C, PTX or NumPy spell them, and the name this schema uses.</summary>
    private static readonly Dictionary<string, string> TypeSpellings = new(StringComparer.OrdinalIgnoreCase)
    {
        ["int8"] = "i8", ["s8"] = "i8", ["int8_t"] = "i8", ["uint8"] = "u8", ["uint8_t"] = "u8",
        ["int32"] = "i32", ["s32"] = "i32", ["int32_t"] = "i32", ["int"] = "i32",
        ["float16"] = "f16", ["half"] = "f16", ["fp16"] = "f16", ["float32"] = "f32", ["float"] = "f32", ["fp32"] = "f32",
    };

    // ---- Values ----

    protected YamlMapping? Mapping(YamlNode node, string label, string expected)
    {
        if (node is YamlMapping map)
        {
            return map;
        }

        Report(AcgDiagnostics.WrongValueType, node.Location, $"{label} must be {expected}, not {node.Describe()}");
        return null;
    }

    protected YamlSequence? Sequence(YamlNode node, string label, string expected)
    {
        if (node is YamlSequence list)
        {
            return list;
        }

        Report(AcgDiagnostics.WrongValueType, node.Location, $"{label} must be {expected}, not {node.Describe()}");
        return null;
    }

    protected string? Text(YamlNode node, string label)
    {
        if (node is YamlScalar { IsNull: false } scalar)
        {
            return scalar.Value;
        }

        Report(AcgDiagnostics.WrongValueType, node.Location, $"{label} must be text, not {node.Describe()}");
        return null;
    }

    protected string? Choice(YamlNode node, string label, IReadOnlyList<string> choices)
    {
        if (Text(node, label) is not { } text)
        {
            return null;
        }

        if (choices.Contains(text))
        {
            return text;
        }

        Report(AcgDiagnostics.UnknownChoice, node.Location,
            $"{label} must be {Alternatives(choices)}, not '{text}'{Spelling.DidYouMean(text, choices)}");
        return null;
    }

    protected bool? Bool(YamlNode node, string label) => Choice(node, label, Booleans) switch
    {
        "true" => true,
        "false" => false,
        _ => null,
    };

    protected ElementType? Type(YamlNode node, string label)
    {
        if (node is YamlScalar { IsNull: false } scalar && TypeSpellings.TryGetValue(scalar.Value, out var meant))
        {
            // Too far from the short names for "did you mean", but unambiguous.
            Report(AcgDiagnostics.UnknownChoice, node.Location,
                $"{label} must be {Alternatives(ElementTypes.Names)}, not '{scalar.Value}' (did you mean '{meant}'?)");
            return null;
        }

        return Choice(node, label, ElementTypes.Names) is { } name && ElementTypes.TryParse(name, out var type) ? type : null;
    }

    protected long? Integer(YamlNode node, string label)
    {
        if (Text(node, label) is not { } text)
        {
            return null;
        }

        if (!Quantities.IsInteger(text))
        {
            Report(AcgDiagnostics.WrongValueType, node.Location, $"{label} must be a whole number, not '{text}'");
            return null;
        }

        if (!long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value))
        {
            Report(AcgDiagnostics.ValueTooLarge, node.Location, $"{label} ({text}) does not fit in 64 bits");
            return null;
        }

        return value;
    }

    protected int? PositiveInt(YamlNode node, string label, int max)
    {
        if (Integer(node, label) is not { } value)
        {
            return null;
        }

        if (value <= 0)
        {
            Report(AcgDiagnostics.NotPositive, node.Location, $"{label} must be at least 1, not {value}");
            return null;
        }

        if (value > max)
        {
            Report(AcgDiagnostics.ValueTooLarge, node.Location, $"{label} ({value}) is above the limit of {max}");
            return null;
        }

        return (int)value;
    }

    /// <summary>A size with a binary unit (<c>32 KiB</c>), as a positive whole number of bytes.</summary>
    protected long? Size(YamlNode node, string label)
    {
        const string Example = "e.g. '32 KiB' (units: B, KiB, MiB, GiB, TiB)";
        if (Quantity(node, label, "a size", Example) is not { } quantity)
        {
            return null;
        }

        var (number, unit, text) = quantity;

        if (unit.Length == 0)
        {
            Report(AcgDiagnostics.UnknownUnit, node.Location, $"{label} ('{text}') has no unit; write '{number} B' for bytes or use KiB, MiB, GiB");
            return null;
        }

        if (!Quantities.SizeUnits.TryGetValue(unit, out var scale))
        {
            var hint = Quantities.AmbiguousSizeUnits.TryGetValue(unit, out var binary)
                ? $": sizes use binary units, so write '{number} {binary}' ({binary} = {Quantities.SizeUnits[binary]} bytes)"
                : Spelling.DidYouMean(unit, Quantities.SizeUnits.Keys) + "; the size units are B, KiB, MiB, GiB and TiB";
            Report(AcgDiagnostics.UnknownUnit, node.Location, $"unknown size unit '{unit}' in {label}{hint}");
            return null;
        }

        if (!Quantities.TryParseDecimal(number, out var value) || value > Quantities.MaxBytes / (decimal)scale)
        {
            Report(AcgDiagnostics.ValueTooLarge, node.Location, $"{label} ({text}) is larger than the limit of 1 PiB");
            return null;
        }

        var bytes = value * scale;
        if (bytes <= 0)
        {
            Report(AcgDiagnostics.NotPositive, node.Location, $"{label} must be positive, not '{text}'");
            return null;
        }

        if (bytes != decimal.Truncate(bytes))
        {
            Report(AcgDiagnostics.NotAQuantity, node.Location, $"{label} ({text}) is not a whole number of bytes");
            return null;
        }

        return (long)bytes;
    }

    /// <summary>Bytes per cycle: a plain number, <c>8 B/cycle</c>, or a per-second rate converted with the clock.</summary>
    protected double? Bandwidth(YamlNode node, string label, double? clockHz, bool clockGiven)
    {
        if (Quantity(node, label, "a bandwidth", "e.g. '8 B/cycle', '64' (bytes per cycle) or '1555 GB/s'") is not { } quantity)
        {
            return null;
        }

        var (number, unit, text) = quantity;

        double scale;
        if (unit.Length == 0)
        {
            scale = 1;
        }
        else if (unit.EndsWith("/cycle", StringComparison.Ordinal) && Quantities.SizeUnits.TryGetValue(unit[..^"/cycle".Length], out var bytes))
        {
            scale = bytes;
        }
        else if (Quantities.PerSecondUnits.TryGetValue(unit, out var perSecond))
        {
            if (clockHz is not { } clock)
            {
                // A clock that was given but unreadable has its own error already.
                if (!clockGiven)
                {
                    Report(AcgDiagnostics.NeedsClock, node.Location,
                        $"{label} is per second ('{text}'), which needs a top-level 'clock' (e.g. '1.41 GHz') to convert to bytes per cycle");
                }

                return null;
            }

            scale = perSecond / clock;
        }
        else
        {
            var known = Quantities.PerCycleUnits.Concat(Quantities.PerSecondUnits.Keys).ToList();
            Report(AcgDiagnostics.UnknownUnit, node.Location,
                $"unknown bandwidth unit '{unit}' in {label}{Spelling.DidYouMean(unit, known)}; write bytes per cycle ('8 B/cycle') or per second ('25.6 GB/s')");
            return null;
        }

        return Magnitude(node, label, number, text, scale, allowZero: false);
    }

    protected double? Frequency(YamlNode node, string label)
    {
        if (Quantity(node, label, "a frequency", "e.g. '100 MHz' or '1.41 GHz'") is not { } quantity)
        {
            return null;
        }

        var (number, unit, text) = quantity;

        if (!Quantities.ClockUnits.TryGetValue(unit, out var scale))
        {
            var hint = unit.Length == 0 ? " has no unit" : $" has unknown unit '{unit}'{Spelling.DidYouMean(unit, Quantities.ClockUnits.Keys)}";
            Report(AcgDiagnostics.UnknownUnit, node.Location, $"{label} ('{text}'){hint}; write Hz, kHz, MHz or GHz");
            return null;
        }

        return Magnitude(node, label, number, text, scale, allowZero: false);
    }

    /// <summary>A time in cycles: a number, or a number followed by <c>cycle</c>/<c>cycles</c>.</summary>
    protected double? Cycles(YamlNode node, string label, bool allowZero)
    {
        if (Quantity(node, label, "a number of cycles", "e.g. '4' or '4 cycles'") is not { } quantity)
        {
            return null;
        }

        var (number, unit, text) = quantity;

        if (unit.Length > 0 && !Quantities.CycleUnits.Contains(unit))
        {
            Report(AcgDiagnostics.UnknownUnit, node.Location,
                $"unknown unit '{unit}' in {label}{Spelling.DidYouMean(unit, Quantities.CycleUnits)}; times are in cycles ('4' or '4 cycles')");
            return null;
        }

        return Magnitude(node, label, number, text, 1, allowZero);
    }

    protected double? Magnitude(YamlNode node, string label, string number, string text, double scale, bool allowZero)
    {
        if (!Quantities.TryParseDouble(number, out var value) || Math.Abs(value * scale) > Quantities.MaxMagnitude)
        {
            Report(AcgDiagnostics.ValueTooLarge, node.Location, $"{label} ({text}) is implausibly large");
            return null;
        }

        value *= scale;
        if (value < 0 || (value == 0 && !allowZero))
        {
            Report(AcgDiagnostics.NotPositive, node.Location, $"{label} must be {(allowZero ? "zero or more" : "positive")}, not '{text}'");
            return null;
        }

        return value;
    }

    /// <summary>Splits a scalar into number and unit, reporting a value that is no quantity at all.</summary>
    protected (string Number, string Unit, string Text)? Quantity(YamlNode node, string label, string what, string example)
    {
        if (node is not YamlScalar { IsNull: false } scalar)
        {
            Report(AcgDiagnostics.WrongValueType, node.Location, $"{label} must be {what}, {example}; not {node.Describe()}");
            return null;
        }

        if (!Quantities.TrySplit(scalar.Value, out var number, out var unit))
        {
            Report(AcgDiagnostics.NotAQuantity, node.Location, $"{label} must be {what}, {example}; not '{scalar.Value}'");
            return null;
        }

        return (number, unit, scalar.Value.Trim());
    }

    // ---- Names ----

    protected string? CheckName(string name, YamlNode at, string what, Regex pattern)
    {
        if (name.Length <= MaxNameLength && pattern.IsMatch(name))
        {
            return name;
        }

        var shown = name.Length > 40 ? name[..40] + "..." : name;
        Report(AcgDiagnostics.InvalidName, at.Location,
            name.Length > MaxNameLength
                ? $"{what} '{shown}' is longer than {MaxNameLength} characters"
                : $"{what} '{shown}' is not a valid name ({NameRule(pattern)})");
        return null;
    }

    protected static string NameRule(Regex pattern) =>
        pattern == TransferPattern() ? "letters, digits, '_', '.' and '-', starting with a letter or '_'"
        : pattern == CapabilityNamePattern() ? "letters, digits, '_' and '.', starting with a letter or '_'"
        : pattern == GraphNamePattern() ? "letters, digits, '_', '.' and '-'"
        : "letters, digits and '_', starting with a letter or '_'";

    [GeneratedRegex(@"^[A-Za-z_][A-Za-z0-9_]*$", RegexOptions.CultureInvariant)]
    protected static partial Regex IdentifierPattern();

    [GeneratedRegex(@"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z0-9_]+)*$", RegexOptions.CultureInvariant)]
    protected static partial Regex CapabilityNamePattern();

    [GeneratedRegex(@"^[A-Za-z_][A-Za-z0-9_]*([.\-][A-Za-z0-9_]+)*$", RegexOptions.CultureInvariant)]
    protected static partial Regex TransferPattern();

    [GeneratedRegex(@"^[A-Za-z0-9_][A-Za-z0-9_.\-]*$", RegexOptions.CultureInvariant)]
    protected static partial Regex GraphNamePattern();

    // ---- Helpers ----

    /// <summary>The entries of a mapping whose keys are names (nodes, capabilities...), reporting repeated names.</summary>
    protected IEnumerable<YamlEntry> Unique(YamlMapping map, string what)
    {
        var seen = new Dictionary<string, YamlScalar>(StringComparer.Ordinal);
        foreach (var entry in map.Entries)
        {
            if (seen.TryGetValue(entry.Key.Value, out var first))
            {
                Report(AcgDiagnostics.DuplicateKey, entry.Key.Location,
                    $"{what} '{entry.Key.Value}' is defined twice (first at line {first.Location.Line})");
                continue;
            }

            seen.Add(entry.Key.Value, entry.Key);
            yield return entry;
        }
    }

    protected static string Alternatives(IEnumerable<string> choices)
    {
        var list = choices.Select(c => $"'{c}'").ToList();
        return list.Count <= 1 ? string.Concat(list) : string.Join(", ", list.Take(list.Count - 1)) + " or " + list[^1];
    }

    internal void Report(DiagnosticDescriptor descriptor, SourceLocation location, string message) =>
        diagnostics.Report(descriptor, location, message);
}
