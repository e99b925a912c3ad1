using System.Collections.Immutable;
using Covenant.Acg.Model;
using Covenant.Core.Diagnostics;

namespace Covenant.Acg.Tests;

/// <summary>Short ways to load inline YAML and to say where in it a diagnostic must point.</summary>
internal static class TestSupport
{
    public const string TestFile = "test.yaml";

    /// <summary>
    /// A small, valid architecture: the base every loader-error test mutates in one place. Its numbers are
    /// arbitrary but consistent (a 1x16x16 GEMM fed from two buffers).
    /// </summary>
    public const string Tiny =
        """
        name: tiny
        target: vta
        clock: 100 MHz
        nodes:
          dram:
            kind: storage
            offchip: true
            capacity: 1 GiB
          buf:
            kind: storage
            capacity: 32 KiB
            element: {type: i8, shape: [1, 16]}
          acc:
            kind: storage
            capacity: 64 KiB
            element: {type: i32, shape: [1, 16]}
          core:
            kind: compute
            capabilities:
              gemm:
                semantics: "c[i, j] += a[i, k] * b[j, k]"
                shape: {i: 1, j: 16, k: 16}
                operands:
                  a: {type: i8, storage: buf}
                  b: {type: i8, storage: buf}
                  c: {type: i32, storage: acc}
                latency: 4
                interval: 1
        edges:
          - {from: dram, to: buf, bandwidth: 8 B/cycle, transfer: load.buf}
          - {from: dram, to: acc, bandwidth: 8 B/cycle, transfer: load.acc}
          - {from: acc, to: dram, bandwidth: 8, latency: 10, transfer: store}
          - {from: buf, to: core, bandwidth: 16 B/cycle}
          - {from: acc, to: core, bandwidth: 64 B/cycle}
          - {from: core, to: acc, bandwidth: 64 B/cycle}
        """;

    public static Result<ArchitectureGraph> Parse(string yaml) => AcgLoader.Parse(new SourceFile(TestFile, yaml));

    public static ArchitectureGraph ParseOk(string yaml)
    {
        var result = Parse(yaml);
        Assert.That(result.Diagnostics, Is.Empty, "diagnostics of a valid file");
        return result.Value!;
    }

    /// <summary><paramref name="yaml"/> with <paramref name="old"/>, which must occur exactly once, replaced.</summary>
    public static string Replace(string yaml, string old, string replacement)
    {
        var first = yaml.IndexOf(old, StringComparison.Ordinal);
        Assert.That(first, Is.GreaterThanOrEqualTo(0), $"'{old}' is not in the YAML");
        Assert.That(yaml.IndexOf(old, first + 1, StringComparison.Ordinal), Is.LessThan(0), $"'{old}' occurs more than once");
        return string.Concat(yaml.AsSpan(0, first), replacement, yaml.AsSpan(first + old.Length));
    }

    /// <summary>The file location of the first occurrence of <paramref name="needle"/> (plus <paramref name="shift"/> characters).</summary>
    public static SourceLocation At(string yaml, string needle, int shift = 0)
    {
        var offset = yaml.IndexOf(needle, StringComparison.Ordinal);
        Assert.That(offset, Is.GreaterThanOrEqualTo(0), $"'{needle}' is not in the YAML");
        return new SourceFile(TestFile, yaml).AtOffset(offset + shift);
    }

    /// <summary>Loads <paramref name="yaml"/> and returns its errors, asserting that there is at least one and that loading failed.</summary>
    public static ImmutableArray<Diagnostic> Errors(string yaml)
    {
        var result = Parse(yaml);
        Assert.That(result.Succeeded, Is.False, "expected the file to be rejected");
        Assert.That(result.Value, Is.Null, "a rejected file has no graph");
        return [.. result.Diagnostics.Where(d => d.IsError)];
    }

    /// <summary>Asserts that <paramref name="yaml"/> fails with exactly one error, with this id, at this place, whose message contains every fragment.</summary>
    public static Diagnostic SingleError(string yaml, DiagnosticDescriptor expected, SourceLocation at, params string[] fragments)
    {
        var errors = Errors(yaml);
        Assert.That(errors.Select(d => d.ToString()).ToList(), Has.Count.EqualTo(1), "exactly one error");
        var error = errors[0];
        using (Assert.EnterMultipleScope())
        {
            Assert.That(error.Id, Is.EqualTo(expected.Id), error.ToString());
            Assert.That(error.Location, Is.EqualTo(at), error.ToString());
            foreach (var fragment in fragments)
            {
                Assert.That(error.Message, Does.Contain(fragment));
            }
        }

        return error;
    }
}
