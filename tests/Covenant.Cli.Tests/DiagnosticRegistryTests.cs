using System.Reflection;
using System.Text.RegularExpressions;
using Covenant.Core.Diagnostics;
using Covenant.Testing;

namespace Covenant.Cli.Tests;

/// <summary>
/// Diagnostic ids across every Covenant assembly: each id is handed out once, lies in a block its own assembly
/// declares (<see cref="DiagnosticRangeAttribute"/>, in each project's <c>DiagnosticRanges.cs</c>), no two assemblies
/// declare overlapping blocks, and the README's id table lists exactly the declared blocks. This project references
/// the command-line tool, so every compiler and runtime assembly sits beside it.
/// </summary>
public sealed partial class DiagnosticRegistryTests
{
    private sealed record Declared(string Assembly, DiagnosticRangeAttribute Range);

    private sealed record Defined(string Assembly, string Member, DiagnosticDescriptor Descriptor);

    private static readonly Lazy<IReadOnlyList<Assembly>> CovenantAssemblies = new(LoadAssemblies);

    [Test]
    public void EveryCompilerAndRuntimeProjectIsChecked()
    {
        var projects = new[] { "compiler", "runtime" }
            .SelectMany(folder => Directory.EnumerateFiles(Repo.PathOf(folder), "*.csproj", SearchOption.AllDirectories))
            .Select(Path.GetFileNameWithoutExtension);
        Assert.That(projects.Except(CovenantAssemblies.Value.Select(Name)), Is.Empty, "projects this test does not see");
    }

    [Test]
    public void EveryIdIsDefinedOnce()
    {
        var duplicates = Definitions()
            .DistinctBy(d => d.Descriptor, ReferenceEqualityComparer.Instance)
            .GroupBy(d => d.Descriptor.Id, StringComparer.Ordinal)
            .Where(g => g.Count() > 1)
            .Select(g => $"{g.Key}: {string.Join(", ", g.Select(d => $"{d.Assembly} {d.Member}"))}");
        Assert.That(duplicates, Is.Empty);
    }

    [Test]
    public void EveryIdLiesInABlockOfItsOwnAssembly()
    {
        var declared = Declarations();
        var outside = Definitions()
            .Where(d => !declared.Any(r => r.Assembly == d.Assembly && r.Range.Contains(d.Descriptor.Id)))
            .Select(d => $"{d.Descriptor.Id} ({d.Assembly} {d.Member}) is outside {d.Assembly}'s blocks: " +
                string.Join(", ", declared.Where(r => r.Assembly == d.Assembly).Select(r => r.Range)));
        Assert.That(outside, Is.Empty);
    }

    [Test]
    public void BlocksOfDifferentAssembliesDoNotOverlap()
    {
        var declared = Declarations();
        var overlaps =
            from a in declared
            from b in declared
            where string.CompareOrdinal(a.Assembly, b.Assembly) < 0
                  && a.Range.First <= b.Range.Last && b.Range.First <= a.Range.Last
                  && !SameBlock(a.Range, b.Range)
            select $"{a.Assembly} {a.Range} overlaps {b.Assembly} {b.Range}";
        Assert.That(overlaps, Is.Empty);
    }

    [Test]
    public void TheReadmeTableListsTheDeclaredBlocks()
    {
        var declared = Declarations()
            .GroupBy(d => (d.Range.First, d.Range.Last, d.Range.Description))
            .OrderBy(g => g.Key.First)
            .Select(g => Row(g.Key.First, g.Key.Last, g.Key.Description, g.Select(d => d.Assembly).Order(StringComparer.Ordinal)))
            .ToList();
        var readme = File.ReadAllLines(Repo.PathOf("README.md"))
            .Select(line => TableRow().Match(line))
            .Where(m => m.Success)
            .Select(m => Row(int.Parse(m.Groups["first"].Value, System.Globalization.CultureInfo.InvariantCulture),
                int.Parse(m.Groups["last"].Value, System.Globalization.CultureInfo.InvariantCulture),
                m.Groups["about"].Value.Trim(),
                m.Groups["projects"].Value.Split(',', StringSplitOptions.TrimEntries).Order(StringComparer.Ordinal)))
            .ToList();
        using (Assert.EnterMultipleScope())
        {
            Assert.That(declared.Except(readme), Is.Empty, "declared blocks README.md's diagnostic id table lacks");
            Assert.That(readme.Except(declared), Is.Empty, "rows of README.md's diagnostic id table that no project declares");
            Assert.That(readme, Is.EqualTo(declared), "README.md's diagnostic id table lists the blocks in id order");
        }
    }

    private static string Row(int first, int last, string about, IEnumerable<string> projects) =>
        $"COV{first:D4}-COV{last:D4} | {about} | {string.Join(", ", projects)}";

    private static bool SameBlock(DiagnosticRangeAttribute a, DiagnosticRangeAttribute b) =>
        a.First == b.First && a.Last == b.Last && a.Description == b.Description;

    private static List<Declared> Declarations() =>
        [.. CovenantAssemblies.Value.SelectMany(a => a.GetCustomAttributes<DiagnosticRangeAttribute>().Select(r => new Declared(Name(a), r)))];

    /// <summary>Every static field or property of type <see cref="DiagnosticDescriptor"/>, public or not.</summary>
    private static List<Defined> Definitions()
    {
        const BindingFlags Static = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static | BindingFlags.DeclaredOnly;
        var found = new List<Defined>();
        foreach (var assembly in CovenantAssemblies.Value)
        {
            foreach (var type in assembly.GetTypes().Where(t => !t.ContainsGenericParameters))
            {
                found.AddRange(type.GetFields(Static)
                    .Where(f => f.FieldType == typeof(DiagnosticDescriptor))
                    .Select(f => new Defined(Name(assembly), $"{type.FullName}.{f.Name}", (DiagnosticDescriptor)f.GetValue(null)!)));
                found.AddRange(type.GetProperties(Static)
                    .Where(p => p.PropertyType == typeof(DiagnosticDescriptor) && p.GetIndexParameters().Length == 0)
                    .Select(p => new Defined(Name(assembly), $"{type.FullName}.{p.Name}", (DiagnosticDescriptor)p.GetValue(null)!)));
            }
        }

        Assert.That(found, Has.Count.GreaterThan(100), "the descriptors were found");
        return found;
    }

    private static List<Assembly> LoadAssemblies() =>
    [
        .. Directory.EnumerateFiles(AppContext.BaseDirectory, "*.dll")
            .Where(path => Path.GetFileName(path) is var file
                           && (file.StartsWith("Covenant.", StringComparison.Ordinal) || file == "covenantc.dll")
                           && !file.Contains(".Tests", StringComparison.Ordinal) && file != "Covenant.Testing.dll")
            .Order(StringComparer.Ordinal)
            .Select(path => Assembly.Load(AssemblyName.GetAssemblyName(path))),
    ];

    private static string Name(Assembly assembly) => assembly.GetName().Name!;

    [GeneratedRegex(@"^\|\s*COV(?<first>\d{4})-COV(?<last>\d{4})\s*\|(?<about>[^|]+)\|(?<projects>[^|]+)\|\s*$")]
    private static partial Regex TableRow();
}
