using System.Collections.Immutable;
using System.Globalization;
using YamlDotNet.RepresentationModel;

namespace Covenant.Bench;

/// <summary>One layer of a suite file: its name, codelet and shape bindings.</summary>
internal sealed record BenchLayer(string Suite, string Name, string Codelet, ImmutableDictionary<string, long> Bindings)
{
    public string BindingsText => string.Join(", ", Bindings.Select(b => $"{b.Key}={b.Value.ToString(CultureInfo.InvariantCulture)}"));
}

/// <summary>Reads <c>codelets/suites/*.yaml</c>: <c>suite:</c>, <c>source:</c> and <c>layers:</c> of
/// <c>{name, codelet, SHAPE: VALUE...}</c>. (A small reader of its own, so the benchmark depends on no pipeline stage.)</summary>
internal static class SuiteFile
{
    public static (string Name, ImmutableArray<BenchLayer> Layers) Load(string path)
    {
        var stream = new YamlStream();
        using (var reader = new StreamReader(path))
        {
            stream.Load(reader);
        }

        if (stream.Documents.Count != 1 || stream.Documents[0].RootNode is not YamlMappingNode root)
        {
            throw new BenchException($"{path}: a suite is one YAML mapping with 'suite:' and 'layers:'");
        }

        var name = Path.GetFileNameWithoutExtension(path);
        var layers = ImmutableArray.CreateBuilder<BenchLayer>();
        foreach (var (key, value) in root.Children)
        {
            switch (((YamlScalarNode)key).Value)
            {
                case "suite":
                    name = ((YamlScalarNode)value).Value ?? name;
                    break;
                case "layers" when value is YamlSequenceNode sequence:
                    foreach (var item in sequence.OfType<YamlMappingNode>())
                    {
                        string? layerName = null, codelet = null;
                        var bindings = ImmutableDictionary.CreateBuilder<string, long>(StringComparer.Ordinal);
                        foreach (var (k, v) in item.Children)
                        {
                            var keyText = ((YamlScalarNode)k).Value!;
                            var valueText = ((YamlScalarNode)v).Value!;
                            if (keyText == "name")
                            {
                                layerName = valueText;
                            }
                            else if (keyText == "codelet")
                            {
                                codelet = valueText;
                            }
                            else
                            {
                                bindings[keyText] = long.Parse(valueText, CultureInfo.InvariantCulture);
                            }
                        }

                        if (layerName is null || codelet is null)
                        {
                            throw new BenchException($"{path}({item.Start.Line},{item.Start.Column}): a layer needs 'name' and 'codelet'");
                        }

                        layers.Add(new BenchLayer(name, layerName, codelet, bindings.ToImmutable()));
                    }

                    break;
            }
        }

        return (name, layers.ToImmutable().Select(l => l with { Suite = name }).ToImmutableArray());
    }
}

/// <summary>A problem the user can act on (printed without a stack trace).</summary>
internal sealed class BenchException(string message) : Exception(message);
