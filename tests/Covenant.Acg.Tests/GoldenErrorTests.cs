using Covenant.Testing;

namespace Covenant.Acg.Tests;

/// <summary>
/// Bad architecture files under <c>Golden/errors</c>, each with the diagnostics it must produce printed in
/// <c>name.expected</c> beside it. Rewrite the expected files with <c>COVENANT_UPDATE_GOLDEN=1</c> and read
/// the diff: every message and position in them has been checked by hand.
/// </summary>
public sealed class GoldenErrorTests
{
    private static readonly string Directory = Repo.PathOf("tests", "Covenant.Acg.Tests", "Golden", "errors");

    public static IEnumerable<string> Inputs => GoldenFile.Inputs(Directory, "*.yaml");

    [Test]
    public void ThereAreGoldenInputs() => Assert.That(Inputs.Count(), Is.GreaterThanOrEqualTo(15));

    [TestCaseSource(nameof(Inputs))]
    public void DiagnosticsMatchTheExpectedFile(string path)
    {
        var result = AcgLoader.Load(path);
        Assert.That(result.Succeeded, Is.False, "every golden error input must be rejected");
        Assert.That(result.Diagnostics.All(d => d.Location is { HasPosition: true }), Is.True, "every diagnostic has a position");
        var difference = GoldenFile.Compare(path, string.Join("\n", result.Diagnostics));
        Assert.That(difference, Is.Null, difference);
    }

    [Test]
    public void EveryExpectedFileHasAnInput() => Assert.That(GoldenFile.Orphans(Directory, "*.yaml"), Is.Empty);
}
