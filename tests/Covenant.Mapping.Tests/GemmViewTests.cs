using Covenant.Mapping.Model;
using static Covenant.Mapping.Tests.MapperTests;

namespace Covenant.Mapping.Tests;

/// <summary>The shared GEMM view of a mapping: what every target reads instead of re-deriving it.</summary>
public class GemmViewTests
{
    [Test]
    public void ResolvesOperandsLoopsAndTheEpilogueOfAMapping()
    {
        var mapped = Mapper.Map(Instance("fc_requant", ("M", 16), ("N", 32), ("K", 64)), Arch("vta"));
        Assert.That(mapped.Succeeded, Is.True, string.Join("\n", mapped.Diagnostics));
        var view = GemmView.Of(mapped.Value!);
        Assert.That(view.Succeeded, Is.True, string.Join("\n", view.Diagnostics));
        var gemm = view.Value!;
        Assert.Multiple(() =>
        {
            Assert.That((gemm.A.Name, gemm.A.Operand.Name, gemm.A.Storage.Name), Is.EqualTo(("x", "inp", "inp_buf")));
            Assert.That((gemm.B.Name, gemm.B.Operand.Name), Is.EqualTo(("w", "wgt")));
            Assert.That((gemm.C.Name, gemm.Output.Name), Is.EqualTo(("acc", "y")));
            Assert.That(gemm.Capability, Is.SameAs(gemm.ComputeNode.FindCapability(mapped.Value!.Capability)));
            Assert.That(gemm.Rows.Select(l => l.Name), Is.EqualTo(new[] { "m" }));
            Assert.That(gemm.Columns.Select(l => l.Name), Is.EqualTo(new[] { "n" }));
            Assert.That(gemm.Reductions.Select(l => l.Name), Is.EqualTo(new[] { "k" }));
            Assert.That(gemm.LoopOn("j")?.Name, Is.EqualTo("n"));
            Assert.That(gemm.Location.Line, Is.GreaterThan(0), "the accumulation's position in the codelet");
        });

        // The bias is read as bias[n] in the epilogue; in the main nest's loops that is bias[n] too (n is loop 1).
        var bias = gemm.EpilogueSteps.Select(s => s.Operand).Single(o => o is not null)!;
        var composed = gemm.ComposeIntoMainLoops(bias.Access);
        Assert.That(composed.Succeeded, Is.True, string.Join("\n", composed.Diagnostics));
        Assert.That(composed.Value!.Indices.Single().Coefficients, Is.EqualTo(new long[] { 0, 1, 0 }));
        Assert.That(GemmTensor.Flatten(composed.Value, bias.Tensor).Strides, Is.EqualTo(new long[] { 0, 1, 0 }));
    }

    [Test]
    public void AMappingOfAnotherCapabilityIsPositionedOnTheYaml()
    {
        var mapping = Mapper.Map(Instance("gemm", ("M", 16), ("N", 32), ("K", 64)), Arch("vta")).Value!;
        var view = GemmView.Of(mapping with { Capability = "no_such_capability" });
        Assert.That(view.Succeeded, Is.False);
        var diagnostic = view.Diagnostics.Single();
        Assert.That(diagnostic.Id, Is.EqualTo(MappingDiagnostics.InconsistentMapping.Id));
        Assert.That(diagnostic.Location?.File, Does.EndWith("vta.yaml"));
    }
}
