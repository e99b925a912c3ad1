using Covenant.Core.Diagnostics;

namespace Covenant.Core.Tests;

public class SpellingTests
{
    [TestCase("capacty", "capacity")]
    [TestCase("bandwith", "bandwidth")]
    [TestCase("lantecy", "latency")]
    public void SuggestsTheClosestKey(string typo, string expected) =>
        Assert.That(Spelling.Suggest(typo, ["capacity", "bandwidth", "latency", "kind"]), Is.EqualTo(expected));

    [Test]
    public void SuggestsNothingForUnrelatedWords() =>
        Assert.That(Spelling.Suggest("zebra", ["capacity", "bandwidth"]), Is.Null);

    [TestCase("abc", "abc", 0)]
    [TestCase("abc", "acb", 1)]
    [TestCase("", "abc", 3)]
    [TestCase("kitten", "sitting", 3)]
    public void EditDistanceCountsEdits(string a, string b, int expected) =>
        Assert.That(Spelling.EditDistance(a, b), Is.EqualTo(expected));
}

public class DiagnosticFormatTests
{
    [Test]
    public void PrintsFileLineColumnSeverityIdAndMessage()
    {
        var descriptor = new DiagnosticDescriptor("COV1234", "test");
        var diagnostic = descriptor.Create(new SourceLocation("a.yaml", 3, 7), "something is wrong");
        Assert.That(diagnostic.ToString(), Is.EqualTo("a.yaml(3,7): error COV1234: something is wrong"));
    }

    [Test]
    public void OffsetsMapToOneBasedLinesAndColumns()
    {
        var file = new SourceFile("f", "ab\ncde\n");
        Assert.Multiple(() =>
        {
            Assert.That(file.AtOffset(0), Is.EqualTo(new SourceLocation("f", 1, 1)));
            Assert.That(file.AtOffset(4), Is.EqualTo(new SourceLocation("f", 2, 2)));
        });
    }

    [Test]
    public void MissingFileIsADiagnosticNotAnException()
    {
        var result = SourceFile.Read("/nonexistent/file.yaml");
        Assert.That(result.Succeeded, Is.False);
        Assert.That(result.Diagnostics.Single().Id, Is.EqualTo("COV0001"));
    }
}

public class ShortNameSpellingTests
{
    [Test]
    public void OneLetterNamesAreNotSuggestedForOtherLetters() =>
        Assert.That(Spelling.Suggest("Z", ["N", "K", "M"]), Is.Null);

    [Test]
    public void OneLetterNamesMatchUpToCase() =>
        Assert.That(Spelling.Suggest("k", ["N", "K", "M"]), Is.EqualTo("K"));
}

public class DoubledLetterSpellingTests
{
    [TestCase("kk", "k")]
    [TestCase("KK", "K")]
    [TestCase("xx", "x")]
    public void ADoubledShortNameSuggestsTheSingleLetter(string typo, string expected) =>
        Assert.That(Spelling.Suggest(typo, ["x", "k", "K", "M"]), Is.EqualTo(expected));

    [Test]
    public void TwoLetterSubstitutionsAreNotSuggested() =>
        Assert.That(Spelling.Suggest("ab", ["ac", "zz"]), Is.Null);
}
