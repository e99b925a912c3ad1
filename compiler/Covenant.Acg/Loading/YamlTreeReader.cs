using System.Globalization;
using Covenant.Core.Diagnostics;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;

namespace Covenant.Acg.Loading;

/// <summary>
/// Turns YAML text into a <see cref="YamlNode"/> tree with locations, or a positioned diagnostic. Never
/// throws: YamlDotNet's exceptions (and, defensively, any other exception it raises on malformed input)
/// become <see cref="AcgDiagnostics.YamlSyntax"/>. Builds iteratively with explicit limits so no input can
/// exhaust the stack or memory.
/// </summary>
internal sealed class YamlTreeReader
{
    /// <summary>Architecture files are a few kilobytes; anything this large is a mistake (or an attack).</summary>
    public const int MaxFileChars = 1 << 20;

    /// <summary>The deepest nesting of mappings and lists; the schema itself needs six levels.</summary>
    public const int MaxDepth = 64;

    /// <summary>The most values a document may hold once aliases are expanded ("billion laughs" guard).</summary>
    public const long MaxExpandedValues = 100_000;

    private readonly SourceFile file;
    private readonly DiagnosticBag diagnostics;
    private readonly Dictionary<string, YamlNode> anchors = new(StringComparer.Ordinal);
    private readonly Stack<Frame> open = new();
    private long expanded;
    private YamlNode? root;
    private Mark lastGood = Mark.Empty;

    private YamlTreeReader(SourceFile file, DiagnosticBag diagnostics)
    {
        this.file = file;
        this.diagnostics = diagnostics;
    }

    /// <summary>The root node, or null after reporting why there is none.</summary>
    public static YamlNode? Read(SourceFile file, DiagnosticBag diagnostics) =>
        new YamlTreeReader(file, diagnostics).Read();

    private YamlNode? Read()
    {
        if (file.Text.Length > MaxFileChars)
        {
            diagnostics.Report(AcgDiagnostics.DocumentTooComplex, file.At(1, 1),
                $"the file has {file.Text.Length} characters; architecture files are limited to {MaxFileChars}");
            return null;
        }

        var parser = new Parser(new StringReader(file.Text));
        var documents = 0;
        try
        {
            while (parser.MoveNext())
            {
                var current = parser.Current!;
                if (current is DocumentStart start && ++documents > 1)
                {
                    diagnostics.Report(AcgDiagnostics.NotOneDocument, At(start.Start),
                        "a second YAML document ('---'); an architecture file holds exactly one");
                    return null;
                }

                if (!Handle(current))
                {
                    return null;
                }

                lastGood = current.End;
            }
        }
        catch (YamlException e)
        {
            var at = e.Message.Contains("tab", StringComparison.OrdinalIgnoreCase) && FirstIndentingTab() is { } tab ? tab : At(e.Start);
            diagnostics.Report(AcgDiagnostics.YamlSyntax, at, "invalid YAML: " + Describe(e));
            return null;
        }
#pragma warning disable CA1031 // YamlDotNet 18 throws InvalidOperationException on some malformed flow collections (and who knows what else): the user must get a position, not a crash.
        catch (Exception)
#pragma warning restore CA1031
        {
            diagnostics.Report(AcgDiagnostics.YamlSyntax, At(lastGood),
                "invalid YAML after this point (the YAML reader could not continue: look for an unclosed '[', '{' or quote)");
            return null;
        }

        if (root is null || root is YamlScalar { IsNull: true })
        {
            diagnostics.Report(AcgDiagnostics.NotOneDocument, file.At(1, 1),
                "the file is empty; an architecture needs at least 'name', 'target', 'nodes' and 'edges'");
            return null;
        }

        return root;
    }

    /// <summary>Handles one parser event; false when a limit was hit and reading must stop.</summary>
    private bool Handle(ParsingEvent current)
    {
        switch (current)
        {
            case Scalar scalar:
                var value = new YamlScalar(scalar.Value, scalar.Style == ScalarStyle.Plain, At(scalar.Start), ContentStart(scalar));
                return Attach(value, scalar.Anchor, 1, value.Location);
            case MappingStart mapping:
                return Open(new YamlMapping(At(mapping.Start)), mapping.Anchor);
            case SequenceStart sequence:
                return Open(new YamlSequence(At(sequence.Start)), sequence.Anchor);
            case MappingEnd or SequenceEnd:
                var frame = open.Pop();
                return Attach(frame.Node, frame.Anchor, 0, frame.Node.Location);
            case AnchorAlias alias:
                if (!anchors.TryGetValue(alias.Value.Value, out var target))
                {
                    diagnostics.Report(AcgDiagnostics.UnknownAlias, At(alias.Start),
                        $"alias '*{alias.Value.Value}' refers to no anchor '&{alias.Value.Value}' defined before it");
                    return false;
                }

                // The alias's own position, not the anchor's: that is where the expansion happens.
                return Attach(target, AnchorName.Empty, target.Size, At(alias.Start));
            default:
                return true;
        }
    }

    private bool Open(YamlNode container, AnchorName anchor)
    {
        if (open.Count >= MaxDepth)
        {
            diagnostics.Report(AcgDiagnostics.DocumentTooComplex, container.Location,
                $"mappings and lists are nested more than {MaxDepth} deep");
            return false;
        }

        open.Push(new Frame(container, anchor));
        return Count(1, container.Location);
    }

    /// <summary>Puts a finished node into the container being built (as a key, a value or a list item).</summary>
    private bool Attach(YamlNode node, AnchorName anchor, long addedValues, SourceLocation at)
    {
        if (!anchor.IsEmpty)
        {
            anchors[anchor.Value] = node;
        }

        if (!Count(addedValues, at))
        {
            return false;
        }

        if (open.Count == 0)
        {
            root = node;
            return true;
        }

        var parent = open.Peek();
        switch (parent.Node)
        {
            case YamlSequence sequence:
                sequence.Add(node);
                break;
            case YamlMapping mapping when parent.PendingKey is null && !parent.SkipValue:
                if (node is YamlScalar key)
                {
                    parent.PendingKey = key;
                }
                else
                {
                    diagnostics.Report(AcgDiagnostics.WrongValueType, at,
                        $"a key must be a plain name, not {node.Describe()}");
                    parent.SkipValue = true;
                }

                break;
            case YamlMapping mapping:
                if (parent.PendingKey is { } pending)
                {
                    mapping.Add(pending, node);
                }

                parent.PendingKey = null;
                parent.SkipValue = false;
                break;
        }

        return true;
    }

    private bool Count(long values, SourceLocation at)
    {
        expanded += values;
        if (expanded <= MaxExpandedValues)
        {
            return true;
        }

        diagnostics.Report(AcgDiagnostics.DocumentTooComplex, at,
            $"the document expands to more than {MaxExpandedValues} values (aliases that expand exponentially, a 'YAML bomb'?)");
        return false;
    }

    /// <summary>YamlDotNet reports a tab in indentation at the start of the enclosing mapping; the tab itself is more useful.</summary>
    private SourceLocation? FirstIndentingTab()
    {
        var lines = file.Text.Split('\n');
        for (var i = 0; i < lines.Length; i++)
        {
            var indent = lines[i].Length - lines[i].TrimStart(' ', '\t').Length;
            var tab = lines[i].IndexOf('\t', 0, indent);
            if (tab >= 0)
            {
                return new SourceLocation(file.Path, i + 1, tab + 1);
            }
        }

        return null;
    }

    private SourceLocation At(Mark mark) =>
        new(file.Path, (int)Math.Clamp(mark.Line, 1, int.MaxValue), (int)Math.Clamp(mark.Column, 1, int.MaxValue));

    /// <summary>
    /// The location of a scalar's first content character: after the quote of a quoted scalar, on the
    /// first content line of a block scalar (<c>|</c>, <c>&gt;</c>). Semantics parsed from the value point there.
    /// </summary>
    private SourceLocation ContentStart(Scalar scalar)
    {
        var start = At(scalar.Start);
        switch (scalar.Style)
        {
            case ScalarStyle.SingleQuoted or ScalarStyle.DoubleQuoted:
                return start.Shift(1);
            case ScalarStyle.Literal or ScalarStyle.Folded:
                var text = file.Text;
                var i = (int)Math.Clamp(scalar.Start.Index, 0, text.Length);
                var line = start.Line;
                while (i < text.Length && text[i] != '\n')
                {
                    i++;
                }

                // Skip blank lines, then the indentation of the first content line.
                while (i < text.Length && text[i] == '\n')
                {
                    i++;
                    line++;
                    var column = 1;
                    while (i < text.Length && text[i] == ' ')
                    {
                        i++;
                        column++;
                    }

                    if (i < text.Length && text[i] != '\n' && text[i] != '\r')
                    {
                        return new SourceLocation(file.Path, line, column);
                    }
                }

                return start;
            default:
                return start;
        }
    }

    /// <summary>YamlDotNet's message without its own "(Line: ..)" suffix, which our location already gives.</summary>
    private static string Describe(YamlException e)
    {
        var message = e.Message;
        var cut = message.IndexOf("(Line:", StringComparison.Ordinal);
        if (cut > 0)
        {
            message = message[..cut].TrimEnd();
        }

        message = message.TrimEnd('.');
        return message.Length > 0
            ? char.ToLower(message[0], CultureInfo.InvariantCulture) + message[1..]
            : "the YAML reader stopped here";
    }

    private sealed class Frame(YamlNode node, AnchorName anchor)
    {
        public YamlNode Node { get; } = node;

        public AnchorName Anchor { get; } = anchor;

        /// <summary>In a mapping: the key read, whose value comes next.</summary>
        public YamlScalar? PendingKey { get; set; }

        /// <summary>In a mapping: the key was not a scalar, so its value is read and dropped.</summary>
        public bool SkipValue { get; set; }
    }
}
