using System.Collections.Immutable;
using System.Globalization;
using Covenant.Core.Diagnostics;

namespace Covenant.Cli;

/// <summary>Parses <c>--set NAME=VALUE</c> options (repeatable; <c>--set M=4,N=8</c> also works).</summary>
public static class ShapeBindings
{
    public static ImmutableDictionary<string, long> Parse(IEnumerable<string> settings, DiagnosticBag diagnostics)
    {
        var bindings = ImmutableDictionary.CreateBuilder<string, long>(StringComparer.Ordinal);
        foreach (var setting in settings)
        {
            foreach (var item in setting.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                var equals = item.IndexOf('=', StringComparison.Ordinal);
                if (equals <= 0)
                {
                    diagnostics.Report(CoreDiagnostics.BadOption, null, $"--set '{item}': expected NAME=VALUE, e.g. --set K=64");
                    continue;
                }

                var name = item[..equals].Trim();
                var text = item[(equals + 1)..].Trim();
                if (!long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value))
                {
                    diagnostics.Report(CoreDiagnostics.BadOption, null, $"--set {name}={text}: the value must be an integer");
                    continue;
                }

                if (bindings.ContainsKey(name))
                {
                    diagnostics.Report(CoreDiagnostics.BadOption, null, $"--set {name} is given twice");
                    continue;
                }

                bindings[name] = value;
            }
        }

        return bindings.ToImmutable();
    }
}
