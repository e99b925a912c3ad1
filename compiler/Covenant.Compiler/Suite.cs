using System.Collections.Immutable;
using System.Globalization;
using Covenant.Core.Diagnostics;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Covenant.Compiler;

/// <summary>One layer of a suite: a name, the codelet it instantiates, and its shape bindings.</summary>
public sealed record SuiteLayer(string Name, string Codelet, ImmutableDictionary<string, long> Bindings, SourceLocation Location);

/// <summary>
/// A layer suite (<c>codelets/suites/*.yaml</c>): <c>suite: NAME</c>, an optional <c>source:</c>, and
/// <c>layers:</c>, each <c>{name: ..., codelet: ..., SHAPE: VALUE, ...}</c>. Codelets are looked up as
/// <c>NAME.cdlt</c> in the codelet directory (by default the suite file's parent's parent: <c>codelets/</c>).
/// </summary>
public sealed record Suite(string Name, string? Source, ImmutableArray<SuiteLayer> Layers, string Path)
{
    public static readonly DiagnosticDescriptor BadSuite = new("COV0010", "malformed suite file");

    public static Result<Suite> Load(string path)
    {
        var file = SourceFile.Read(path);
        if (!file.Succeeded)
        {
            return Result<Suite>.Failure(file.Diagnostics);
        }

        var diagnostics = new DiagnosticBag();
        try
        {
            var stream = new YamlStream();
            stream.Load(new StringReader(file.Value.Text));
            if (stream.Documents.Count != 1 || stream.Documents[0].RootNode is not YamlMappingNode root)
            {
                return Fail(new SourceLocation(path, 1, 1), "a suite is one YAML mapping with 'suite:' and 'layers:'");
            }

            string? name = null, source = null;
            var layers = ImmutableArray.CreateBuilder<SuiteLayer>();
            foreach (var (keyNode, value) in root.Children)
            {
                var key = ((YamlScalarNode)keyNode).Value;
                switch (key)
                {
                    case "suite":
                        name = Scalar(value);
                        break;
                    case "source":
                        source = Scalar(value);
                        break;
                    case "layers" when value is YamlSequenceNode sequence:
                        foreach (var item in sequence)
                        {
                            if (ReadLayer(item, path, diagnostics) is { } layer)
                            {
                                layers.Add(layer);
                            }
                        }

                        break;
                    default:
                        diagnostics.Report(BadSuite, At(path, keyNode), $"unknown key '{key}' (a suite has suite, source and layers)");
                        break;
                }
            }

            if (name is null)
            {
                diagnostics.Report(BadSuite, new SourceLocation(path, 1, 1), "missing 'suite:' (the suite's name)");
            }

            var duplicate = layers.GroupBy(l => l.Name).FirstOrDefault(g => g.Count() > 1);
            if (duplicate is not null)
            {
                diagnostics.Report(BadSuite, duplicate.Skip(1).First().Location, $"layer '{duplicate.Key}' appears twice");
            }

            return diagnostics.HasErrors
                ? Result<Suite>.Failure(diagnostics.ToImmutable())
                : Result<Suite>.Success(new Suite(name!, source, layers.ToImmutable(), path));
        }
        catch (YamlException e)
        {
            return Fail(new SourceLocation(path, (int)e.Start.Line, (int)e.Start.Column), e.Message);
        }
        catch (InvalidCastException)
        {
            return Fail(new SourceLocation(path, 1, 1), "keys must be plain names");
        }

        Result<Suite> Fail(SourceLocation location, string message) =>
            Result<Suite>.Failure(BadSuite.Create(location, message));
    }

    private static SuiteLayer? ReadLayer(YamlNode node, string path, DiagnosticBag diagnostics)
    {
        if (node is not YamlMappingNode layer)
        {
            diagnostics.Report(BadSuite, At(path, node), "a layer is a mapping {name: ..., codelet: ..., SHAPE: VALUE}");
            return null;
        }

        string? layerName = null, codelet = null;
        var bindings = ImmutableDictionary.CreateBuilder<string, long>(StringComparer.Ordinal);
        foreach (var (keyNode, value) in layer.Children)
        {
            var key = keyNode is YamlScalarNode k ? k.Value ?? "" : "";
            if (key == "name")
            {
                layerName = Scalar(value);
            }
            else if (key == "codelet")
            {
                codelet = Scalar(value);
            }
            else if (Scalar(value) is { } text && long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var number))
            {
                bindings[key] = number;
            }
            else
            {
                diagnostics.Report(BadSuite, At(path, value), $"shape '{key}' must be an integer");
            }
        }

        if (layerName is null || codelet is null)
        {
            diagnostics.Report(BadSuite, At(path, node), "a layer needs 'name:' and 'codelet:'");
            return null;
        }

        return new SuiteLayer(layerName, codelet, bindings.ToImmutable(), At(path, node));
    }

    private static SourceLocation At(string path, YamlNode node) => new(path, (int)node.Start.Line, (int)node.Start.Column);

    private static string? Scalar(YamlNode node) => node is YamlScalarNode scalar ? scalar.Value : null;

    /// <summary>The codelet file of a layer: <c>NAME.cdlt</c> in <paramref name="codeletDirectory"/>, or next to
    /// the suite's folder (<c>codelets/suites/x.yaml</c> → <c>codelets/NAME.cdlt</c>).</summary>
    public string CodeletPath(SuiteLayer layer, string? codeletDirectory = null) =>
        System.IO.Path.Combine(
            codeletDirectory ?? System.IO.Path.GetDirectoryName(System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(Path))) ?? ".",
            layer.Codelet + ".cdlt");
}
