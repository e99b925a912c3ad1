using System.Globalization;
using System.Reflection;
using System.Text.RegularExpressions;
using Covenant.Codelets.Semantics;
using Covenant.Core.Diagnostics;
using Covenant.Testing;

namespace Covenant.Codelets.Tests;

/// <summary>
/// Each <c>Golden/errors/*.cdlt</c> is a mistake; its <c>.expected</c> file holds the diagnostics it must
/// produce. A first line <c>// bindings: M=4, K=0</c> also instantiates the codelet with those bindings (the
/// bindings' location is that line, as a suite file's would be). Rewrite the expected files with
/// <c>COVENANT_UPDATE_GOLDEN=1</c>, then read every changed one.
/// </summary>
public sealed partial class GoldenErrorTests
{
    private static readonly string Folder = Repo.PathOf("tests", "Covenant.Codelets.Tests", "Golden", "errors");

    public static IEnumerable<TestCaseData> Cases() =>
        GoldenFile.Inputs(Folder, "*.cdlt").Select(path => new TestCaseData(path).SetArgDisplayNames(Path.GetFileName(path)));

    [TestCaseSource(nameof(Cases))]
    public void DiagnosticsMatchTheExpectedFile(string path)
    {
        var diagnostics = Run(path);
        using (Assert.EnterMultipleScope())
        {
            Assert.That(diagnostics.Any(d => d.IsError), Is.True, "every golden input is a mistake");
            Assert.That(diagnostics.All(d => d.Location is { HasPosition: true }), Is.True, "every diagnostic has a position");
            Assert.That(GoldenFile.Compare(path, string.Join("\n", diagnostics)), Is.Null);
        }
    }

    [Test]
    public void EveryExpectedFileHasAnInput() => Assert.That(GoldenFile.Orphans(Folder, "*.cdlt"), Is.Empty);

    [Test]
    public void TheCorpusShowsEveryDiagnostic()
    {
        var inputs = GoldenFile.Inputs(Folder, "*.cdlt").ToList();
        var shown = inputs.SelectMany(Run).Select(d => d.Id).ToHashSet(StringComparer.Ordinal);
        var defined = typeof(CodeletDiagnostics).GetFields(BindingFlags.Public | BindingFlags.Static)
            .Select(f => ((DiagnosticDescriptor)f.GetValue(null)!).Id);
        using (Assert.EnterMultipleScope())
        {
            Assert.That(inputs, Has.Count.GreaterThanOrEqualTo(30));
            Assert.That(defined.Except(shown), Is.Empty, "diagnostics no golden file shows");
        }
    }

    private static IReadOnlyList<Diagnostic> Run(string path)
    {
        var loaded = CodeletLoader.Load(path);
        if (!loaded.Succeeded)
        {
            return loaded.Diagnostics;
        }

        var firstLine = File.ReadLines(path).FirstOrDefault() ?? "";
        var match = BindingsLine().Match(firstLine);
        if (!match.Success)
        {
            return loaded.Diagnostics;
        }

        var bindings = match.Groups["list"].Value
            .Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(item => item.Split('=', StringSplitOptions.TrimEntries))
            .ToDictionary(pair => pair[0], pair => long.Parse(pair[1], CultureInfo.InvariantCulture), StringComparer.Ordinal);
        var location = new SourceLocation(path, 1, match.Groups["list"].Index + 1);
        return [.. loaded.Diagnostics, .. loaded.Value.Instantiate(bindings, location).Diagnostics];
    }

    [GeneratedRegex(@"^// bindings: (?<list>.*)$")]
    private static partial Regex BindingsLine();
}
