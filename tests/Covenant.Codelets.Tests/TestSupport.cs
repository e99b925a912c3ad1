using System.Collections.Immutable;
using Covenant.Codelets.Parsing;
using Covenant.Codelets.Semantics;
using Covenant.Codelets.Syntax;
using Covenant.Core.Diagnostics;

namespace Covenant.Codelets.Tests;

/// <summary>Short ways to run the stages on inline text, so each test states its codelet in full.</summary>
internal static class TestSupport
{
    public const string TestFile = "test.cdlt";

    public static Result<CodeletSyntax> Parse(string text) => CodeletParser.Parse(new SourceFile(TestFile, text));

    public static CodeletSyntax ParseOk(string text)
    {
        var result = Parse(text);
        Assert.That(result.Diagnostics, Is.Empty, "parse diagnostics");
        return result.Value!;
    }

    public static ExprSyntax Expression(string text)
    {
        var result = CodeletParser.ParseExpression(text, new SourceLocation(TestFile, 1, 1));
        Assert.That(result.Diagnostics, Is.Empty, $"parse diagnostics of '{text}'");
        return result.Value!;
    }

    public static Result<CheckedCodelet> Check(string text) => CodeletLoader.Load(new SourceFile(TestFile, text));

    public static CheckedCodelet CheckOk(string text)
    {
        var result = Check(text);
        Assert.That(result.Diagnostics, Is.Empty, "check diagnostics");
        return result.Value!;
    }

    public static ImmutableArray<Diagnostic> CheckErrors(string text)
    {
        var result = Check(text);
        Assert.That(result.Succeeded, Is.False, "expected the codelet to be rejected");
        return result.Diagnostics;
    }

    /// <summary>"M=4, N=8" as a bindings dictionary.</summary>
    public static Dictionary<string, long> Bindings(string text) => Covenant.Testing.Shipped.Bindings(text);

    public static CodeletInstance InstantiateOk(string text, string bindings)
    {
        var result = CheckOk(text).Instantiate(Bindings(bindings));
        Assert.That(result.Diagnostics, Is.Empty, "instantiation diagnostics");
        return result.Value!;
    }

    public static ImmutableArray<Diagnostic> InstantiateErrors(string text, string bindings, SourceLocation? bindingsLocation = null)
    {
        var result = CheckOk(text).Instantiate(Bindings(bindings), bindingsLocation);
        Assert.That(result.Succeeded, Is.False, "expected instantiation to fail");
        return result.Diagnostics;
    }

    /// <summary>"id@line,col" for each diagnostic, the compact form tests compare.</summary>
    public static string[] IdsAt(IEnumerable<Diagnostic> diagnostics) =>
        [.. diagnostics.Select(d => $"{d.Id}@{d.Location?.Line},{d.Location?.Column}")];

    public static CheckedCodelet LoadShipped(string name) => Covenant.Testing.Shipped.Codelet(name);
}
