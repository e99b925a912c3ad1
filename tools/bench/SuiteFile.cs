using System.Collections.Immutable;
using System.Globalization;
using Covenant.Compiler;

namespace Covenant.Bench;

/// <summary>One layer of a suite (read with the compiler's <see cref="Covenant.Compiler.Suite"/>), as the benchmark names it.</summary>
internal sealed record BenchLayer(Suite File, SuiteLayer Layer)
{
    public string Suite => File.Name;

    public string Name => Layer.Name;

    public string Codelet => Layer.Codelet;

    public ImmutableDictionary<string, long> Bindings => Layer.Bindings;

    public string BindingsText => string.Join(", ", Bindings.Select(b => $"{b.Key}={b.Value.ToString(CultureInfo.InvariantCulture)}"));
}

/// <summary>A problem the user can act on (printed without a stack trace).</summary>
internal sealed class BenchException(string message) : Exception(message);
