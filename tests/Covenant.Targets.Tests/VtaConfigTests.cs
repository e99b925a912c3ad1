using Covenant.Core.Diagnostics;
using Covenant.Runtime.Vta;
using Covenant.Targets.Vta;
using Covenant.Testing;
using static Covenant.Targets.Tests.VtaTestSupport;

namespace Covenant.Targets.Tests;

public sealed class VtaConfigTests
{
    [Test]
    public void DefaultYamlReproducesTheReferenceConfiguration()
    {
        var config = ConfigOf("vta.yaml");
        using (Assert.EnterMultipleScope())
        {
            // vta-isa.md §1: 1x16x16 int8 x int8 -> int32.
            Assert.That((config.Batch, config.BlockIn, config.BlockOut), Is.EqualTo((1, 16, 16)));
            Assert.That((config.InpBits, config.WgtBits, config.AccBits, config.OutBits), Is.EqualTo((8, 8, 32, 8)));

            // Depths: UOP 8192, INP 2048, WGT 1024, ACC 2048, OUT 2048.
            Assert.That((config.UopDepth, config.InpDepth, config.WgtDepth, config.AccDepth, config.OutDepth), Is.EqualTo((8192, 2048, 1024, 2048, 2048)));
            Assert.That((config.InpElementBytes, config.WgtElementBytes, config.AccElementBytes, config.OutElementBytes, config.UopElementBytes), Is.EqualTo((16, 256, 64, 16, 4)));

            // The GEMM table's widths: uop_bgn 13, uop_end 14, acc 11, inp 11, wgt 10.
            Assert.That((config.UopBeginBits, config.UopEndBits, config.DstFactorBits, config.GemmSrcFactorBits, config.WgtFactorBits), Is.EqualTo((13, 14, 11, 11, 10)));
            Assert.That(config.AluSrcFactorBits, Is.EqualTo(11));
            Assert.That((config.UopDstBits, config.UopSrcBits, config.UopWgtBits), Is.EqualTo((11, 11, 10)));

            // Costs from the YAML.
            Assert.That(config.ClockHz, Is.EqualTo(100e6));
            Assert.That(config.BusBytesPerCycle, Is.EqualTo(8));
            Assert.That((config.GemmIntervalCycles, config.AluIntervalCycles), Is.EqualTo((1.0, 2.0)));
            Assert.That(config.InpLoad, Is.EqualTo(new VtaTransfer(VtaConfig.LoadInp, 8, 32)));
        }
    }

    [Test]
    public void DefaultPropertyEqualsTheYaml()
    {
        Assert.That(ConfigOf("vta.yaml"), Is.EqualTo(VtaConfig.Default),
            "VtaConfig.Default documents architectures/vta.yaml; update one when the other changes");
    }

    [Test]
    public void DefaultLayoutHasTheReferenceBitPositions()
    {
        var layout = new VtaLayout(VtaConfig.Default);
        string Fields(IEnumerable<VtaField> fields) => string.Join(", ", fields);
        using (Assert.EnterMultipleScope())
        {
            Assert.That(Fields(layout.MemoryFields), Is.EqualTo(
                "0-2 opcode, 3 pop_prev_dep, 4 pop_next_dep, 5 push_prev_dep, 6 push_next_dep, 7-9 memory_type, 10-25 sram_base, " +
                "26-57 dram_base, 64-79 y_size, 80-95 x_size, 96-111 x_stride, 112-115 y_pad_0, 116-119 y_pad_1, 120-123 x_pad_0, 124-127 x_pad_1"));
            Assert.That(Fields(layout.GemmFields), Is.EqualTo(
                "0-2 opcode, 3 pop_prev_dep, 4 pop_next_dep, 5 push_prev_dep, 6 push_next_dep, 7 reset_reg, 8-20 uop_bgn, 21-34 uop_end, " +
                "35-48 iter_out, 49-62 iter_in, 64-74 dst_factor_out, 75-85 dst_factor_in, 86-96 src_factor_out, 97-107 src_factor_in, " +
                "108-117 wgt_factor_out, 118-127 wgt_factor_in"));
            Assert.That(Fields(layout.AluFields.Skip(12)), Is.EqualTo("86-96 src_factor_out, 97-107 src_factor_in, 108-110 alu_opcode, 111 use_imm, 112-127 imm"));
            Assert.That(Fields(layout.UopFields), Is.EqualTo("0-10 dst_idx, 11-21 src_idx, 22-31 wgt_idx"));
        }
    }

    [Test]
    public void The32x32VariantDerivesItsOwnNumbers()
    {
        var config = ConfigOf("vta-1x32x32.yaml");
        using (Assert.EnterMultipleScope())
        {
            Assert.That((config.Batch, config.BlockIn, config.BlockOut), Is.EqualTo((1, 32, 32)));
            Assert.That((config.InpElementBytes, config.WgtElementBytes, config.AccElementBytes), Is.EqualTo((32, 1024, 128)));

            // Its buffers keep the default depths, so the derived widths are the default's.
            Assert.That((config.UopDepth, config.InpDepth, config.WgtDepth, config.AccDepth), Is.EqualTo((8192, 2048, 1024, 2048)));
            Assert.That((config.UopBeginBits, config.UopEndBits, config.DstFactorBits, config.GemmSrcFactorBits, config.WgtFactorBits), Is.EqualTo((13, 14, 11, 11, 10)));
            Assert.That(config.BusBytesPerCycle, Is.EqualTo(16));
            Assert.That(config.MacsPerUop, Is.EqualTo(1024));
        }
    }

    [Test]
    public void SmallerBuffersShrinkTheDerivedFieldsAndMoveTheLaterOnes()
    {
        // Half the input buffer (1024 rows) and a quarter of the micro-op buffer (2048 entries): no code change.
        var yaml = Edit(Edit(VtaYaml(), "capacity: 32 KiB                # LOG_INP_BUFF_SIZE 15", "capacity: 16 KiB"),
            "capacity: 32 KiB                # LOG_UOP_BUFF_SIZE 15", "capacity: 8 KiB");
        var graph = ParseArchitecture(yaml);
        Assert.That(graph.Succeeded, Is.True, string.Join("\n", graph.Diagnostics));
        var result = VtaConfig.FromGraph(graph.Value!);
        Assert.That(result.Succeeded, Is.True, string.Join("\n", result.Diagnostics));
        var config = result.Value!;
        var layout = new VtaLayout(config);
        using (Assert.EnterMultipleScope())
        {
            Assert.That((config.InpDepth, config.UopDepth), Is.EqualTo((1024, 2048)));
            Assert.That((config.UopBeginBits, config.UopEndBits, config.GemmSrcFactorBits), Is.EqualTo((11, 12, 10)));
            Assert.That(VtaLayout.Find(layout.GemmFields, "uop_end"), Is.EqualTo(new VtaField("uop_end", 19, 12)));
            Assert.That(VtaLayout.Find(layout.GemmFields, "wgt_factor_in"), Is.EqualTo(new VtaField("wgt_factor_in", 116, 10)));

            // The micro-op's src field is max(acc, inp) = 11 bits still; the ALU's src factors stay ACC-sized.
            Assert.That(config.UopSrcBits, Is.EqualTo(11));
            Assert.That(VtaLayout.Find(layout.AluFields, "alu_opcode").Offset, Is.EqualTo(108));
        }

        // The encoder follows: uop_end is 12 bits now.
        var encoder = new VtaEncoder(config);
        Assert.That(() => encoder.Encode(new VtaGemm { UopEnd = 4095 }), Throws.Nothing);
        Assert.That(() => encoder.Encode(new VtaGemm { UopEnd = 4096 }), Throws.TypeOf<VtaEncodingException>());
    }

    [Test]
    public void DeeperAccumulatorsDoNotFitTheInstruction()
    {
        // 4096 ACC rows need 12-bit dst factors: 2*12 + 2*11 + 2*10 = 66 bits in the second word, so the GEMM needs
        // more than 128 bits (bit-fields cannot straddle a 64-bit word) and the micro-op 12 + 12 + 10 > 32 bits.
        var yaml = Edit(Edit(VtaYaml(), "capacity: 128 KiB               # LOG_ACC_BUFF_SIZE 17", "capacity: 256 KiB"),
            "capacity: 32 KiB                # LOG_OUT_BUFF_SIZE 15 (= 17 + 3 - 5)", "capacity: 64 KiB");
        var graph = ParseArchitecture(yaml);
        Assert.That(graph.Succeeded, Is.True, string.Join("\n", graph.Diagnostics));
        var result = VtaConfig.FromGraph(graph.Value!);
        Assert.That(result.Succeeded, Is.False);
        var errors = result.Diagnostics.Where(d => d.IsError).ToList();
        Assert.That(errors.Select(e => e.Id), Has.All.EqualTo(VtaDiagnostics.FieldsDoNotFit.Id));
        Assert.That(errors.Select(e => e.Message), Has.Some.Contains("GEMM instruction needs 138 bits"));
        Assert.That(errors.Select(e => e.Message), Has.Some.Contains("micro-op needs 12 + 12 + 10 = 34 bits"));
        Assert.That(errors[0].Location!.Line, Is.EqualTo(Line(yaml, "  acc_buf:")), "points at the accumulator buffer");
    }

    [Test]
    public void AGraphWithoutVtaPartsReportsEachMissingPiece()
    {
        // The loader's own minimal graph: a GEMM over one shared buffer, no uop buffer, no ALU, no VTA transfers.
        const string yaml =
            """
            name: tiny
            target: vta
            nodes:
              dram: {kind: storage, offchip: true, capacity: 1 GiB}
              buf: {kind: storage, capacity: 32 KiB, element: {type: i8, shape: [1, 16]}}
              acc: {kind: storage, capacity: 64 KiB, element: {type: i32, shape: [1, 16]}}
              core:
                kind: compute
                capabilities:
                  gemm:
                    semantics: "c[i, j] += a[i, k] * b[j, k]"
                    shape: {i: 1, j: 16, k: 16}
                    operands: {a: {type: i8, storage: buf}, b: {type: i8, storage: buf}, c: {type: i32, storage: acc}}
                    latency: 4
                    interval: 1
            edges:
              - {from: dram, to: buf, bandwidth: 8 B/cycle, transfer: load.buf}
              - {from: acc, to: dram, bandwidth: 8 B/cycle, transfer: store.acc}
              - {from: buf, to: core, bandwidth: 16 B/cycle}
              - {from: acc, to: core, bandwidth: 64 B/cycle}
              - {from: core, to: acc, bandwidth: 64 B/cycle}
            """;
        var graph = ParseArchitecture(yaml);
        Assert.That(graph.Succeeded, Is.True, string.Join("\n", graph.Diagnostics));
        var result = VtaConfig.FromGraph(graph.Value!);
        Assert.That(result.Succeeded, Is.False);
        var ids = result.Diagnostics.Select(d => d.Id).ToList();
        using (Assert.EnterMultipleScope())
        {
            // The weight operand lives in a buffer of 1x16 rows, not 16x16 blocks.
            var element = result.Diagnostics.Single(d => d.Id == VtaDiagnostics.BufferElement.Id);
            Assert.That(element.Message, Does.Contain("'buf' holds i8[1, 16] rows").And.Contain("needs i8[16, 16]"));
            Assert.That(element.Location!.Line, Is.EqualTo(5));

            // All five transfers are missing.
            Assert.That(ids.Count(i => i == VtaDiagnostics.MissingTransfer.Id), Is.EqualTo(5));
            Assert.That(result.Diagnostics.Where(d => d.Id == VtaDiagnostics.MissingTransfer.Id).Select(d => d.Message), Has.Some.Contains("transfer: vta.load.inp"));

            // And there is no ALU.
            Assert.That(ids, Does.Contain(VtaDiagnostics.AluForm.Id));
            Assert.That(result.Diagnostics.All(d => d.Location is { File: "test.yaml" }), Is.True, "every diagnostic points into the file");
        }
    }

    [Test]
    public void NonVtaTargetIsRejected()
    {
        var result = VtaConfig.FromGraph(LoadArchitecture("vnni-avx512.yaml"));
        Assert.That(result.Succeeded, Is.False);
        Assert.That(result.Diagnostics[0].Id, Is.EqualTo(VtaDiagnostics.NotVtaTarget.Id));
        Assert.That(result.Diagnostics[0].Message, Does.Contain("target 'vnni'"));
    }

    [Test]
    public void WeightsIndexedInByOutAreNotVta()
    {
        var yaml = Edit(VtaYaml(), "\"acc[i, j] += inp[i, k] * wgt[j, k]\"", "\"acc[i, j] += inp[i, k] * wgt[k, j]\"");
        var graph = ParseArchitecture(yaml);
        Assert.That(graph.Succeeded, Is.True, string.Join("\n", graph.Diagnostics));
        var result = VtaConfig.FromGraph(graph.Value!);
        var error = result.Diagnostics.Single(d => d.IsError);
        Assert.That(error.Id, Is.EqualTo(VtaDiagnostics.GemmForm.Id));
        Assert.That(error.Message, Does.Contain("'wgt[j, k]'"));
        Assert.That(error.Location!.Line, Is.EqualTo(Line(yaml, "      gemm:")));
    }

    [Test]
    public void MissingTransferIsNamedWithASuggestion()
    {
        var yaml = Edit(VtaYaml(), "transfer: vta.load.wgt", "transfer: vta.load.wgts");
        var graph = ParseArchitecture(yaml);
        var error = VtaConfig.FromGraph(graph.Value!).Diagnostics.Single(d => d.IsError);
        Assert.That(error.Id, Is.EqualTo(VtaDiagnostics.MissingTransfer.Id));
        Assert.That(error.Message, Does.Contain("'transfer: vta.load.wgt'").And.Contain("did you mean 'vta.load.wgts'"));
    }

    [Test]
    public void TransferToTheWrongBufferIsReportedAtTheEdge()
    {
        // The input and weight edges swap their transfer names.
        var yaml = Edit(Edit(VtaYaml(), "to: inp_buf, bandwidth: 8 B/cycle, latency: 32, transfer: vta.load.inp", "to: inp_buf, bandwidth: 8 B/cycle, latency: 32, transfer: vta.load.tmp"),
            "to: wgt_buf, bandwidth: 8 B/cycle, latency: 32, transfer: vta.load.wgt", "to: wgt_buf, bandwidth: 8 B/cycle, latency: 32, transfer: vta.load.inp");
        yaml = Edit(yaml, "transfer: vta.load.tmp", "transfer: vta.load.wgt");
        var graph = ParseArchitecture(yaml);
        Assert.That(graph.Succeeded, Is.True, string.Join("\n", graph.Diagnostics));
        var errors = VtaConfig.FromGraph(graph.Value!).Diagnostics.Where(d => d.IsError).ToList();
        Assert.That(errors.Select(e => e.Id), Is.EqualTo(new[] { VtaDiagnostics.TransferEndpoints.Id, VtaDiagnostics.TransferEndpoints.Id }));
        Assert.That(errors[0].Message, Does.Contain("to 'inp_buf'").And.Contain("dram -> wgt_buf"));
        Assert.That(errors[0].Location!.Line, Is.EqualTo(Line(yaml, "transfer: vta.load.inp")));
    }

    [Test]
    public void BufferThatIsNotAPowerOfTwoDeep()
    {
        var yaml = Edit(VtaYaml(), "capacity: 256 KiB               # LOG_WGT_BUFF_SIZE 18", "capacity: 192 KiB");
        var graph = ParseArchitecture(yaml);
        var error = VtaConfig.FromGraph(graph.Value!).Diagnostics.Single(d => d.IsError);
        Assert.That(error.Id, Is.EqualTo(VtaDiagnostics.BufferDepth.Id));
        Assert.That(error.Message, Does.Contain("768 rows"));
        Assert.That(error.Location!.Line, Is.EqualTo(Line(yaml, "  wgt_buf:")));
    }

    [Test]
    public void ConfigurationValidateAcceptsTheDefault()
    {
        Assert.That(VtaConfig.Default.Validate(), Is.Empty);
        var bad = VtaConfig.Default with { InpDepth = 3000, AccBits = 16 };
        Assert.That(bad.Validate().Select(d => d.Id), Is.EquivalentTo(new[] { VtaDiagnostics.UnsupportedType.Id, VtaDiagnostics.BufferDepth.Id }));
        Assert.That(() => new VtaEncoder(bad), Throws.ArgumentException.With.Message.Contains("3000 rows"));
    }

    private static string VtaYaml() => File.ReadAllText(Path.Combine(Repo.Architectures, "vta.yaml"));

    /// <summary><paramref name="text"/> with <paramref name="old"/>, which must occur exactly once, replaced.</summary>
    private static string Edit(string text, string old, string replacement)
    {
        var first = text.IndexOf(old, StringComparison.Ordinal);
        Assert.That(first, Is.GreaterThanOrEqualTo(0), $"'{old}' is not in the text");
        Assert.That(text.IndexOf(old, first + 1, StringComparison.Ordinal), Is.LessThan(0), $"'{old}' occurs more than once");
        return string.Concat(text.AsSpan(0, first), replacement, text.AsSpan(first + old.Length));
    }

    private static int Line(string text, string needle)
    {
        var offset = text.IndexOf(needle, StringComparison.Ordinal);
        Assert.That(offset, Is.GreaterThanOrEqualTo(0), needle);
        return new SourceFile("x", text).AtOffset(offset).Line;
    }
}
