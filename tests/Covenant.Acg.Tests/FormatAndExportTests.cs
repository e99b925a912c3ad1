using Covenant.Acg.Export;
using Covenant.Acg.Model;
using Covenant.Core.Diagnostics;
using Covenant.Testing;
using static Covenant.Acg.Tests.TestSupport;

namespace Covenant.Acg.Tests;

public sealed class FormatAndExportTests
{
    [TestCase(32768L, "32 KiB")]
    [TestCase(1536L, "1.5 KiB")]
    [TestCase(100L, "100 B")]
    [TestCase(1025L, "1025 B")]
    [TestCase(3L << 29, "1.5 GiB")]
    [TestCase(80L << 30, "80 GiB")]
    public void BytesPrintInTheLargestExactBinaryUnit(long bytes, string expected) =>
        Assert.That(Format.Bytes(bytes), Is.EqualTo(expected));

    [TestCase(100e6, "100 MHz")]
    [TestCase(1.41e9, "1.41 GHz")]
    [TestCase(3.65e9, "3.65 GHz")]
    [TestCase(32768, "32.768 kHz")]
    public void Frequencies(double hertz, string expected) => Assert.That(Format.Frequency(hertz), Is.EqualTo(expected));

    [Test]
    public void DotStringsAreEscaped() =>
        Assert.That(DotExporter.Quote("a\"b\\c\nd"), Is.EqualTo("\"a\\\"b\\\\c\\nd\""));

    [Test]
    public void TextSummaryOfTheTinyGraph()
    {
        var text = TextExporter.ToText(ParseOk(Tiny));
        Assert.That(text, Is.EqualTo(
            """
            tiny
            target vta, clock 100 MHz

            storage:
              dram  1 GiB, off-chip
              buf   32 KiB, 2048 x i8[1, 16]
              acc   64 KiB, 1024 x i32[1, 16]

            compute:
              core
                gemm: c[i, j] += a[i, k] * b[j, k]
                  shape i=1 j=16 k=16, 256 ops per issue, latency 4, interval 1 (cycles)
                  a: i8 in buf (read)
                  b: i8 in buf (read)
                  c: i32 in acc (read and written)

            edges:
              dram -> buf  8 B/cycle   latency 0   load.buf
              dram -> acc  8 B/cycle   latency 0   load.acc
              acc -> dram  8 B/cycle   latency 10  store
              buf -> core  16 B/cycle  latency 0
              acc -> core  64 B/cycle  latency 0
              core -> acc  64 B/cycle  latency 0

            """));
    }

    [Test]
    public void OversizedFilesAreRefusedBeforeParsing()
    {
        var yaml = "name: big\n# " + new string('x', 1 << 20) + "\n";
        SingleError(yaml, AcgDiagnostics.DocumentTooComplex, new SourceLocation(TestFile, 1, 1), "limited to");
    }

    [Test]
    public void BinaryGarbageIsASyntaxError()
    {
        var garbage = new string(Enumerable.Range(0, 512).Select(i => (char)((i * 7919) % 65)).ToArray());
        var errors = Errors(garbage);
        Assert.That(errors.All(e => e.Location!.HasPosition), Is.True);
    }

    [Test]
    public void TheReadmeExampleLoads()
    {
        var readme = File.ReadAllText(Path.Combine(Repo.Architectures, "README.md"));
        var start = readme.IndexOf("```yaml\nname: tiny", StringComparison.Ordinal) + "```yaml\n".Length;
        var end = readme.IndexOf("```", start, StringComparison.Ordinal);
        Assert.That(start, Is.GreaterThan("```yaml\n".Length), "the README's minimal example");
        var graph = ParseOk(readme[start..end]);
        Assert.That(graph.Name, Is.EqualTo("tiny"));
    }

    [Test]
    public void EveryDiagnosticIdIsDocumentedAndUnique()
    {
        var descriptors = typeof(AcgDiagnostics).GetFields()
            .Select(f => (DiagnosticDescriptor)f.GetValue(null)!).ToList();
        var readme = File.ReadAllText(Path.Combine(Repo.Architectures, "README.md"));
        Assert.That(descriptors.Select(d => d.Id), Is.Unique);
        Assert.That(descriptors.Select(d => d.Id), Is.All.Match("^COV1[0-9]{3}$"));
        foreach (var descriptor in descriptors)
        {
            Assert.That(readme, Does.Contain($"| {descriptor.Id} |"), descriptor.Id);
        }
    }
}
