using Covenant.Testing;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace Covenant.Core.Tests;

/// <summary>
/// The house rule for the libraries (compiler/ and runtime/): no type over <see cref="MaxTypeLines"/> lines, counting
/// every part of a partial type together, and no method, constructor, accessor or local function over
/// <see cref="MaxMethodLines"/> lines. A type that outgrows it is doing several things; split it by what they are.
/// </summary>
public class CodeSizeTests
{
    public const int MaxTypeLines = 600;
    public const int MaxMethodLines = 100;

    private static readonly string[] Libraries = ["compiler", "runtime"];

    [Test]
    public void NoTypeIsOverTheLimit()
    {
        var over = TypeSizes().Where(t => t.Lines > MaxTypeLines).Select(t => $"{t.Name}: {t.Lines} lines ({t.Where})").ToList();
        Assert.That(over, Is.Empty, $"types over {MaxTypeLines} lines:\n" + string.Join("\n", over));
    }

    [Test]
    public void NoMethodIsOverTheLimit()
    {
        var over = MethodSizes().Where(m => m.Lines > MaxMethodLines).Select(m => $"{m.Name}: {m.Lines} lines ({m.Where})").ToList();
        Assert.That(over, Is.Empty, $"methods over {MaxMethodLines} lines:\n" + string.Join("\n", over));
    }

    [Test]
    public void ReportsTheLargest()
    {
        // Not a check: the ten largest types and methods, in the test log, so a change's effect on them is visible.
        var types = TypeSizes().OrderByDescending(t => t.Lines).Take(10).ToList();
        var methods = MethodSizes().OrderByDescending(m => m.Lines).Take(10).ToList();
        foreach (var size in types.Concat(methods))
        {
            TestContext.Out.WriteLine($"{size.Lines,5}  {size.Name}  ({size.Where})");
        }

        Assert.That(types, Has.Count.EqualTo(10));
    }

    [Test]
    public void TheGuardSeesTheSources()
    {
        // The guard is worth nothing if it parses nothing: it must find the mapper and the runtime's interpreter.
        var names = TypeSizes().Select(t => t.Name).ToHashSet();
        Assert.Multiple(() =>
        {
            Assert.That(names, Has.Some.EndsWith(".Mapper"));
            Assert.That(names, Has.Some.EndsWith(".ReferenceInterpreter"));
            Assert.That(MethodSizes().Count(), Is.GreaterThan(500));
        });
    }

    [Test]
    public void PartialTypesAreCountedTogether()
    {
        var tree = CSharpSyntaxTree.ParseText("namespace N;\npartial class C\n{\n}\npartial class C\n{\n  void M()\n  {\n  }\n}\n");
        var sizes = TypeSizesOf([(tree, "t.cs")]).ToList();
        Assert.That(sizes.Single().Lines, Is.EqualTo(3 + 6));
    }

    private sealed record Size(string Name, int Lines, string Where);

    private static IEnumerable<(SyntaxTree Tree, string Path)> Sources() =>
        Libraries.SelectMany(library => Directory.EnumerateFiles(Repo.PathOf(library), "*.cs", SearchOption.AllDirectories))
            .Where(path => !path.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
                && !path.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
            .Select(path => (CSharpSyntaxTree.ParseText(File.ReadAllText(path), path: path), Path.GetRelativePath(Repo.Root, path)));

    private static IEnumerable<Size> TypeSizes() => TypeSizesOf(Sources());

    private static IEnumerable<Size> TypeSizesOf(IEnumerable<(SyntaxTree Tree, string Path)> sources) =>
        sources.SelectMany(source => source.Tree.GetRoot().DescendantNodes().OfType<TypeDeclarationSyntax>()
                .Select(type => (Name: FullName(type), Lines: LinesOf(type), source.Path)))
            .GroupBy(part => part.Name)
            .Select(parts => new Size(parts.Key, parts.Sum(p => p.Lines), string.Join(", ", parts.Select(p => p.Path).Distinct())));

    private static IEnumerable<Size> MethodSizes() =>
        Sources().SelectMany(source => source.Tree.GetRoot().DescendantNodes()
            .Where(node => node is BaseMethodDeclarationSyntax or AccessorDeclarationSyntax or LocalFunctionStatementSyntax)
            .Select(node => new Size(MethodName(node), LinesOf(node), $"{source.Path}:{node.GetLocation().GetLineSpan().StartLinePosition.Line + 1}")));

    private static int LinesOf(SyntaxNode node)
    {
        var span = node.GetLocation().GetLineSpan();
        return span.EndLinePosition.Line - span.StartLinePosition.Line + 1;
    }

    private static string FullName(TypeDeclarationSyntax type)
    {
        var names = type.AncestorsAndSelf().OfType<TypeDeclarationSyntax>().Select(t => t.Identifier.Text).Reverse();
        var space = type.Ancestors().OfType<BaseNamespaceDeclarationSyntax>().FirstOrDefault()?.Name.ToString();
        return string.Join('.', space is null ? names : names.Prepend(space));
    }

    private static string MethodName(SyntaxNode node)
    {
        var owner = node.Ancestors().OfType<TypeDeclarationSyntax>().FirstOrDefault() is { } type ? FullName(type) + "." : "";
        return owner + node switch
        {
            MethodDeclarationSyntax method => method.Identifier.Text,
            ConstructorDeclarationSyntax constructor => constructor.Identifier.Text + " (constructor)",
            LocalFunctionStatementSyntax local => local.Identifier.Text + " (local function)",
            AccessorDeclarationSyntax accessor => accessor.Keyword.Text + " accessor",
            _ => node.Kind().ToString(),
        };
    }
}
