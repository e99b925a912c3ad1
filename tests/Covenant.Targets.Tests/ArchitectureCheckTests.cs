using System.Collections.Immutable;
using Covenant.Acg;
using Covenant.Acg.Model;
using Covenant.Compiler;
using Covenant.Core.Diagnostics;
using Covenant.Mapping;
using Covenant.Testing;

namespace Covenant.Targets.Tests;

/// <summary>
/// Each target's architecture check (<see cref="ITarget.CheckArchitecture"/>): the shipped graphs pass; a capability
/// whose semantics or declarations are not the instruction the target emits is refused at its YAML position, naming
/// it; graphs the target's configuration reader refuses (VTA's 8x8 core, a deleted element) are refused too; and
/// <c>compile</c> refuses such a graph before mapping.
/// </summary>
public class ArchitectureCheckTests
{
    private string folder = "";

    [SetUp]
    public void CreateFolder() => folder = Directory.CreateTempSubdirectory("covenant-archcheck-").FullName;

    [TearDown]
    public void DeleteFolder() => Directory.Delete(folder, recursive: true);

    private static IEnumerable<string> Shipped() => Directory.GetFiles(Repo.Architectures, "*.yaml").Select(Path.GetFileName).Order(StringComparer.Ordinal)!;

    private static ArchitectureGraph Load(string path)
    {
        var loaded = AcgLoader.Load(path);
        Assert.That(loaded.Succeeded, Is.True, () => string.Join("\n", loaded.Diagnostics));
        return loaded.Value!;
    }

    private static ImmutableArray<Diagnostic> Check(string path) => BuiltinTargets.All.CheckArchitecture(Load(path));

    private string Write(string name, string text)
    {
        var path = Path.Combine(folder, name);
        File.WriteAllText(path, text);
        return path;
    }

    private static string ShippedText(string name) => File.ReadAllText(Repo.PathOf("architectures", name));

    [TestCaseSource(nameof(Shipped))]
    public void EveryShippedArchitecturePasses(string file) =>
        Assert.That(Check(Repo.PathOf("architectures", file)), Is.Empty);

    [Test]
    public void EveryShippedArchitectureHasItsMutations()
    {
        var covered = CapabilityMutation.Families.Values.SelectMany(f => f).ToHashSet(StringComparer.Ordinal);
        Assert.That(Shipped().Where(f => !covered.Contains(f)), Is.Empty, "a shipped architecture without capability mutations in Covenant.Testing");
        Assert.That(CapabilityMutation.All().GroupBy(m => m.Architecture).Select(g => g.Count()), Has.All.GreaterThanOrEqualTo(5));
    }

    [TestCaseSource(typeof(CapabilityMutation), nameof(CapabilityMutation.All))]
    public void AMutatedCapabilityIsRefusedAtItsPosition(CapabilityMutation mutation)
    {
        var path = mutation.WriteTo(folder);
        var found = Check(path);
        var (line, column) = mutation.ExpectedPosition();
        Assert.That(found.Where(d => d.IsError), Is.Not.Empty, mutation.ToString());
        var diagnostic = found.FirstOrDefault(d => d.Id == mutation.ExpectedId && d.Location?.Line == line);
        Assert.That(diagnostic, Is.Not.Null, () => $"{mutation}: expected {mutation.ExpectedId} on line {line}, got\n{string.Join("\n", found)}");
        Assert.That(diagnostic!.Location, Is.EqualTo(new SourceLocation(path, line, column)), diagnostic.ToString());
        Assert.That(diagnostic.Message, Does.Contain($"'{mutation.Capability}'"), diagnostic.ToString());
    }

    [Test]
    public void TheMmaWithPlusFromIssue12IsRefusedAndNamesWhatDiffers()
    {
        var path = Write("plus.yaml", ShippedText("tensorcore-sm80.yaml").Replace("\"d[i, j] += a[i, k] * b[k, j]\"", "\"d[i, j] += a[i, k] + b[k, j]\"", StringComparison.Ordinal));
        var found = Check(path);
        Assert.That(found.Select(d => d.Id), Is.EqualTo(new[] { "COV5304", "COV5304" }), string.Join("\n", found));
        Assert.That(found[0].Message, Does.Contain("'mma.sync.aligned.m16n8k16'")
            .And.Contain("which is 'd[i, j] += a[i, k] * b[k, j]'")
            .And.Contain("its semantics 'd[i, j] += a[i, k] + b[k, j]' give d["));
        Assert.That(found[1].Message, Does.Contain("'mma.sync.aligned.m16n8k32'"));
    }

    [Test]
    public void CompileRefusesAMutatedCapabilityBeforeMapping()
    {
        var path = Write("plus.yaml", ShippedText("tensorcore-sm80.yaml").Replace("\"d[i, j] += a[i, k] * b[k, j]\"", "\"d[i, j] += a[i, k] + b[k, j]\"", StringComparison.Ordinal));
        var request = new CompileRequest(Repo.PathOf("codelets", "gemm_f16.cdlt"), path,
            ImmutableDictionary<string, long>.Empty.Add("M", 16).Add("N", 16).Add("K", 16), MapperOptions.Default, TargetOptions.Default);
        var compiled = CompilerPipeline.Compile(request, BuiltinTargets.All.Passes);
        Assert.That(compiled.Succeeded, Is.False);
        Assert.That(compiled.Diagnostics.Where(d => d.IsError).Select(d => d.Id), Is.EqualTo(new[] { "COV5304", "COV5304" }), string.Join("\n", compiled.Diagnostics));
    }

    [Test]
    public void AVtaWithAn8x8CoreWhoseFieldsNoLongerFitIsRefused()
    {
        // The same buffers holding 8-wide rows have twice the rows: 12-bit indices no longer fit a 32-bit micro-op.
        var text = ShippedText("vta.yaml").Replace("shape: [1, 16]", "shape: [1, 8]", StringComparison.Ordinal)
            .Replace("shape: [16, 16]", "shape: [8, 8]", StringComparison.Ordinal)
            .Replace("shape: {i: 1, j: 16, k: 16}", "shape: {i: 1, j: 8, k: 8}", StringComparison.Ordinal)
            .Replace("shape: {i: 1, j: 16}", "shape: {i: 1, j: 8}", StringComparison.Ordinal);
        var found = Check(Write("vta-8x8.yaml", text));
        Assert.That(found.Select(d => d.Id), Has.All.EqualTo("COV5010"), string.Join("\n", found));
        Assert.That(found.Select(d => d.Message), Has.Some.Contains("a micro-op needs 12 + 12 + 12 = 36 bits"));
        Assert.That(found, Has.All.Matches<Diagnostic>(d => d.Location is { HasPosition: true }));
    }

    [Test]
    public void AVtaWithoutItsWeightElementIsRefusedAtTheBuffer()
    {
        var shipped = ShippedText("vta.yaml");
        var element = shipped.Split('\n').Single(l => l.Contains("element: {type: i8, shape: [16, 16]}", StringComparison.Ordinal));
        var path = Write("vta-no-element.yaml", shipped.Replace(element + "\n", "", StringComparison.Ordinal));
        var found = Check(path);
        Assert.That(found.Select(d => d.Id), Is.EqualTo(new[] { "COV5004" }), string.Join("\n", found));
        Assert.That(found[0].Message, Does.Contain("'wgt_buf'"));
        Assert.That(found[0].Location!.Line, Is.EqualTo(shipped.Split('\n').ToList().FindIndex(l => l.StartsWith("  wgt_buf:", StringComparison.Ordinal)) + 1));
    }

    // The check evaluates the statement: another way of writing the same computation is the same instruction.
    [TestCase("vta.yaml", "acc[i, j] += inp[i, k] * wgt[j, k]", "acc[i, j] += wgt[j, k] * inp[i, k]")]
    [TestCase("vta.yaml", "dst[i, j] = max(dst[i, j], src[i, j])", "dst[i, j] = max(src[i, j], dst[i, j])")]
    [TestCase("vta.yaml", "dst[i, j] = dst[i, j] + imm", "dst[i, j] = imm + dst[i, j]")]
    [TestCase("tensorcore-sm90.yaml", "d[i, j] += a[i, k] * b[k, j]", "d[i, j] += b[k, j] * a[i, k]")]
    [TestCase("vnni-avx256.yaml", "dst[j] = min(dst[j], imm)", "dst[j] = min(imm, dst[j])")]
    public void AnEquivalentStatementPasses(string file, string from, string to)
    {
        var text = ShippedText(file);
        Assert.That(text, Does.Contain($"\"{from}\""));
        Assert.That(Check(Write(file, text.Replace($"\"{from}\"", $"\"{to}\"", StringComparison.Ordinal))), Is.Empty);
    }

    // Values at the ends of the types are part of the trials, and f16 operands fine enough that a product rounded to
    // f16 shows: a statement that differs only there is caught.
    [TestCase("vnni-avx512.yaml", "c[j] += a[k] * b[j, k]", "c[j] += clip(a[k] * b[j, k], -16384, 16383)", "COV5216")]
    [TestCase("vta.yaml", "dst[i, j] = dst[i, j] + src[i, j]", "dst[i, j] = clip(dst[i, j] + src[i, j], -1073741824, 1073741823)", "COV5110")]
    [TestCase("tensorcore-sm80.yaml", "d[i, j] += a[i, k] * b[k, j]", "d[i, j] += f16(a[i, k] * b[k, j])", "COV5304")]
    public void ADifferenceAtTheEdgesIsCaught(string file, string from, string to, string id)
    {
        var found = Check(Write(file, ShippedText(file).Replace($"\"{from}\"", $"\"{to}\"", StringComparison.Ordinal)));
        Assert.That(found.Select(d => d.Id), Has.Member(id), string.Join("\n", found));
    }

    [Test]
    public void ASecondGemmShapedCapabilityThatComputesSomethingElseIsRefused()
    {
        // A second GEMM-shaped capability (two inputs) that computes something else.
        var text = ShippedText("vta.yaml").Replace(
            "      gemm_reset:\n",
            "      fma:\n        semantics: \"acc[i, j] += inp[i, k] * wgt[j, k] * inp[i, k]\"\n        shape: {i: 1, j: 16, k: 16}\n" +
            "        operands:\n          inp: {type: i8, storage: inp_buf}\n          wgt: {type: i8, storage: wgt_buf}\n          acc: {type: i32, storage: acc_buf}\n" +
            "        latency: 5\n        interval: 1\n      gemm_reset:\n", StringComparison.Ordinal);
        var found = Check(Write("vta-fma.yaml", text));
        Assert.That(found.Select(d => d.Id), Has.Member("COV5110"), string.Join("\n", found));
        Assert.That(found.Single(d => d.Id == "COV5110").Message, Does.Contain("'fma'"));
    }
}
