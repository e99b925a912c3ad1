using System.Collections.Concurrent;
using System.Globalization;
using Covenant.Acg;
using Covenant.Acg.Model;
using Covenant.Codelets.Semantics;
using Covenant.Mapping;
using Covenant.Mapping.Model;

namespace Covenant.Testing;

/// <summary>
/// The codelets in <c>codelets/</c> and the architectures in <c>architectures/</c>, each loaded once per test run
/// (they are immutable), their instances for given bindings, and the mapper's mapping of one on the other. A file
/// that loads with any diagnostic fails the test that asked for it.
/// </summary>
public static class Shipped
{
    private static readonly ConcurrentDictionary<string, CheckedCodelet> Codelets = new(StringComparer.Ordinal);
    private static readonly ConcurrentDictionary<string, ArchitectureGraph> Architectures = new(StringComparer.Ordinal);
    private static readonly ConcurrentDictionary<string, LayerMapping> Mappings = new(StringComparer.Ordinal);

    /// <summary><c>codelets/NAME.cdlt</c>.</summary>
    public static string CodeletPath(string name) => Path.Combine(Repo.Codelets, name + ".cdlt");

    /// <summary><c>architectures/NAME.yaml</c>; NAME may carry the <c>.yaml</c> already.</summary>
    public static string ArchitecturePath(string name) =>
        Path.Combine(Repo.Architectures, name.EndsWith(".yaml", StringComparison.Ordinal) ? name : name + ".yaml");

    /// <summary>The checked codelet <c>codelets/NAME.cdlt</c>.</summary>
    public static CheckedCodelet Codelet(string name) => Codelets.GetOrAdd(name, n =>
    {
        var loaded = CodeletLoader.Load(CodeletPath(n));
        Assert.That(loaded.Diagnostics, Is.Empty, () => $"{n}.cdlt does not load cleanly:\n{string.Join("\n", loaded.Diagnostics)}");
        return loaded.Value!;
    });

    /// <summary>The instance of <c>codelets/NAME.cdlt</c> for bindings written <c>"M=3, N=5"</c>.</summary>
    public static CodeletInstance Instance(string codelet, string bindings) => Instance(codelet, Bindings(bindings));

    public static CodeletInstance Instance(string codelet, IReadOnlyDictionary<string, long> bindings)
    {
        var instance = Codelet(codelet).Instantiate(bindings);
        Assert.That(instance.Succeeded, Is.True, () =>
            $"{codelet}<{string.Join(", ", bindings.Select(b => $"{b.Key}={b.Value}"))}> does not instantiate:\n{string.Join("\n", instance.Diagnostics)}");
        return instance.Value!;
    }

    /// <summary>The graph of <c>architectures/NAME.yaml</c> (NAME with or without <c>.yaml</c>).</summary>
    public static ArchitectureGraph Architecture(string name) => Architectures.GetOrAdd(ArchitecturePath(name), path =>
    {
        var loaded = AcgLoader.Load(path);
        Assert.That(loaded.Diagnostics, Is.Empty, () => $"{path} does not load cleanly:\n{string.Join("\n", loaded.Diagnostics)}");
        return loaded.Value!;
    });

    /// <summary>
    /// The mapper's mapping of a shipped codelet instance on a shipped architecture. Cached when no options are
    /// given: the mapper is deterministic for its default seed.
    /// </summary>
    public static LayerMapping Mapping(string codelet, string bindings, string architecture, MapperOptions? options = null)
    {
        if (options is not null)
        {
            return Map(Instance(codelet, bindings), Architecture(architecture), options);
        }

        return Mappings.GetOrAdd($"{codelet}|{bindings}|{ArchitecturePath(architecture)}",
            _ => Map(Instance(codelet, bindings), Architecture(architecture), null));
    }

    /// <summary>"M=4, N=8" as a bindings dictionary.</summary>
    public static Dictionary<string, long> Bindings(string text) =>
        text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(item => item.Split('=', StringSplitOptions.TrimEntries))
            .ToDictionary(pair => pair[0], pair => long.Parse(pair[1], CultureInfo.InvariantCulture), StringComparer.Ordinal);

    private static LayerMapping Map(CodeletInstance instance, ArchitectureGraph graph, MapperOptions? options)
    {
        var mapped = Mapper.Map(instance, graph, options);
        Assert.That(mapped.Succeeded, Is.True, () => string.Join("\n", mapped.Diagnostics));
        return mapped.Value!;
    }
}
