using Covenant.Core.Diagnostics;
using static Covenant.Acg.Tests.TestSupport;

namespace Covenant.Acg.Tests;

/// <summary>
/// One mistake per test, made in the valid <see cref="TestSupport.Tiny"/> file: each asserts the diagnostic
/// id, the exact position, the key words of the message, and (unless stated) that it is the only error.
/// </summary>
public sealed class LoaderErrorTests
{
    [Test]
    public void TheBaseFileIsValid()
    {
        var graph = ParseOk(Tiny);
        Assert.That(graph.Nodes.Select(n => n.Name), Is.EqualTo(new[] { "dram", "buf", "acc", "core" }));
    }

    // ---- YAML ----

    [Test]
    public void YamlSyntaxErrorIsPositioned()
    {
        var yaml = Replace(Tiny, "name: tiny", "name: tiny: big");
        SingleError(yaml, AcgDiagnostics.YamlSyntax, new SourceLocation(TestFile, 1, 11), "invalid YAML");
    }

    [Test]
    public void UnclosedFlowSequenceIsASyntaxErrorNotACrash()
    {
        // YamlDotNet throws InvalidOperationException (not a YamlException) on this one.
        var yaml = Replace(Tiny, "shape: [1, 16]}\n  acc:", "shape: [1, 16}\n  acc:");
        var error = Errors(yaml).Single();
        Assert.That(error.Id, Is.EqualTo(AcgDiagnostics.YamlSyntax.Id));
        Assert.That(error.Location!.HasPosition, Is.True);
    }

    [Test]
    public void EmptyFile()
    {
        SingleError("# only a comment\n", AcgDiagnostics.NotOneDocument, new SourceLocation(TestFile, 1, 1), "empty");
    }

    [Test]
    public void SecondDocument()
    {
        var yaml = Tiny + "\n---\nname: again\n";
        SingleError(yaml, AcgDiagnostics.NotOneDocument, At(yaml, "---"), "second YAML document");
    }

    [Test]
    public void RootMustBeAMapping()
    {
        SingleError("- a\n- b\n", AcgDiagnostics.WrongValueType, new SourceLocation(TestFile, 1, 1), "must be a mapping", "a list");
    }

    [Test]
    public void AliasBombIsRefused()
    {
        var lines = new List<string> { "a0: &a0 [x, x, x, x, x, x, x, x, x, x]" };
        for (var i = 1; i <= 8; i++)
        {
            lines.Add($"a{i}: &a{i} [{string.Join(", ", Enumerable.Repeat($"*a{i - 1}", 10))}]");
        }

        var error = Errors(string.Join("\n", lines)).Single();
        using (Assert.EnterMultipleScope())
        {
            Assert.That(error.Id, Is.EqualTo(AcgDiagnostics.DocumentTooComplex.Id));
            // a0..a3 hold about 12 000 values; the aliases on a4's line (each ~11 000) pass 100 000.
            Assert.That(error.Location!.Line, Is.EqualTo(5));
            Assert.That(error.Location.Column, Is.GreaterThan(8), "an alias's position, not the anchor's");
            Assert.That(error.Message, Does.Contain("YAML bomb"));
        }
    }

    [Test]
    public void DeepNestingIsRefused()
    {
        var yaml = "name: " + new string('[', 100) + new string(']', 100) + "\n";
        // The root mapping is the first level, so the 64th '[' (column 7 + 63) is one too many.
        SingleError(yaml, AcgDiagnostics.DocumentTooComplex, new SourceLocation(TestFile, 1, 7 + 63), "nested more than 64");
    }

    [Test]
    public void UnknownAlias()
    {
        var yaml = Replace(Tiny, "capacity: 1 GiB", "capacity: *big");
        SingleError(yaml, AcgDiagnostics.UnknownAlias, At(yaml, "*big"), "'*big'");
    }

    [Test]
    public void AliasesToDefinedAnchorsWork()
    {
        var yaml = Replace(Tiny, "capacity: 32 KiB", "capacity: &size 32 KiB");
        yaml = Replace(yaml, "capacity: 64 KiB", "capacity: *size");
        var graph = ParseOk(yaml);
        Assert.That(graph.StorageNode("acc").CapacityBytes, Is.EqualTo(32 * 1024));
    }

    [Test]
    public void ComplexKey()
    {
        var yaml = Replace(Tiny, "clock: 100 MHz", "[a, b]: 1\nclock: 100 MHz");
        SingleError(yaml, AcgDiagnostics.WrongValueType, At(yaml, "[a, b]"), "key must be a plain name");
    }

    // ---- Keys ----

    [Test]
    public void MissingTopLevelKey()
    {
        var yaml = Replace(Tiny, "target: vta\n", "");
        SingleError(yaml, AcgDiagnostics.MissingKey, new SourceLocation(TestFile, 1, 1), "has no 'target'", "the target pass that emits code");
    }

    [Test]
    public void MissingCapacityPointsAtTheNode()
    {
        var yaml = Replace(Tiny, "    capacity: 32 KiB\n", "");
        SingleError(yaml, AcgDiagnostics.MissingKey, At(yaml, "buf:"), "storage node 'buf' has no 'capacity'");
    }

    [Test]
    public void MissingKind()
    {
        var yaml = Replace(Tiny, "    kind: compute\n", "");
        SingleError(yaml, AcgDiagnostics.MissingKey, At(yaml, "core:"), "has no 'kind'");
    }

    [Test]
    public void UnknownKeySuggestsTheClosest()
    {
        var yaml = Replace(Tiny, "offchip: true", "offchip: true\n    doubel_buffered: false");
        SingleError(yaml, AcgDiagnostics.UnknownKey, At(yaml, "doubel_buffered"), "unknown key 'doubel_buffered'", "did you mean 'double_buffered'?");
    }

    [Test]
    public void UnknownTopLevelKey()
    {
        var yaml = Replace(Tiny, "clock: 100 MHz", "clock: 100 MHz\ndescripton: a typo");
        SingleError(yaml, AcgDiagnostics.UnknownKey, At(yaml, "descripton"), "did you mean 'description'?");
    }

    [Test]
    public void MergeKeysAreExplained()
    {
        var yaml = Replace(Tiny, "    kind: compute\n", "    kind: compute\n    <<: {count: 2}\n");
        SingleError(yaml, AcgDiagnostics.UnknownKey, At(yaml, "<<"), "merge keys");
    }

    [Test]
    public void DuplicateKeyInANode()
    {
        var yaml = Replace(Tiny, "    capacity: 32 KiB\n", "    capacity: 32 KiB\n    capacity: 16 KiB\n");
        SingleError(yaml, AcgDiagnostics.DuplicateKey, At(yaml, "capacity: 16 KiB"), "key 'capacity' appears twice", "first at line 11");
    }

    [Test]
    public void DuplicateNode()
    {
        var yaml = Replace(Tiny, "  core:\n", "  buf:\n    kind: storage\n    capacity: 1 KiB\n  core:\n");
        SingleError(yaml, AcgDiagnostics.DuplicateKey, new SourceLocation(TestFile, 17, 3), "node 'buf' is defined twice (first at line 9)");
    }

    // ---- Value types, quantities, units ----

    [Test]
    public void NodesMustBeAMapping()
    {
        var yaml = Tiny[..Tiny.IndexOf("nodes:", StringComparison.Ordinal)] + "nodes: [dram, buf]\n" + Tiny[Tiny.IndexOf("edges:", StringComparison.Ordinal)..];
        SingleError(yaml, AcgDiagnostics.WrongValueType, At(yaml, "[dram"), "'nodes' must be a mapping", "not a list");
    }

    [Test]
    public void CapacityThatIsNotASize()
    {
        var yaml = Replace(Tiny, "capacity: 32 KiB", "capacity: big");
        SingleError(yaml, AcgDiagnostics.NotAQuantity, At(yaml, "big"), "must be a size", "'big'");
    }

    [Test]
    public void CapacityThatIsAMapping()
    {
        var yaml = Replace(Tiny, "capacity: 32 KiB", "capacity: {KiB: 32}");
        SingleError(yaml, AcgDiagnostics.WrongValueType, At(yaml, "{KiB"), "must be a size", "a mapping");
    }

    [TestCase("32 kib", "did you mean 'KiB'?")]
    [TestCase("32 KB", "write '32 KiB'")]
    [TestCase("32 MB", "write '32 MiB'")]
    [TestCase("32 Kbytes", "the size units are B, KiB, MiB, GiB and TiB")]
    [TestCase("32768", "has no unit")]
    public void SizeUnitMistakes(string capacity, string hint)
    {
        var yaml = Replace(Tiny, "capacity: 32 KiB", "capacity: " + capacity);
        SingleError(yaml, AcgDiagnostics.UnknownUnit, At(yaml, capacity), hint);
    }

    [TestCase("0 KiB")]
    [TestCase("-32 KiB")]
    public void CapacityMustBePositive(string capacity)
    {
        var yaml = Replace(Tiny, "capacity: 32 KiB", "capacity: " + capacity);
        SingleError(yaml, AcgDiagnostics.NotPositive, At(yaml, capacity), "must be positive");
    }

    [TestCase("capacity: 1 GiB", "capacity: 99999999999 TiB", "larger than the limit")]
    [TestCase("capacity: 1 GiB", "capacity: 1e30 B", "larger than the limit")]
    [TestCase("capacity: 1 GiB", "capacity: 1e999 GiB", "larger than the limit")]
    [TestCase("kind: compute", "kind: compute\n    count: 99999999999999999999", "does not fit in 64 bits")]
    [TestCase("kind: compute", "kind: compute\n    count: 4000000", "above the limit")]
    [TestCase("latency: 4", "latency: 1e300", "implausibly large")]
    public void AbsurdNumbersAreDiagnosedNotOverflowed(string old, string replacement, string fragment)
    {
        var yaml = Replace(Tiny, old, replacement);
        var value = replacement[(replacement.LastIndexOf(':') + 2)..];
        SingleError(yaml, AcgDiagnostics.ValueTooLarge, At(yaml, value), fragment);
    }

    [Test]
    public void HugeElementIsRefusedNotOverflowed()
    {
        var yaml = Replace(Tiny, "shape: [1, 16]}\n  acc:", "shape: [65536, 65536, 65536, 65536]}\n  acc:");
        SingleError(yaml, AcgDiagnostics.ValueTooLarge, At(yaml, "[65536"), "larger than 1 PiB");
    }

    [Test]
    public void HugeCapabilityShapeIsRefused()
    {
        var yaml = Replace(Tiny, "shape: {i: 1, j: 16, k: 16}", "shape: {i: 65536, j: 65536, k: 65536}");
        SingleError(yaml, AcgDiagnostics.ValueTooLarge, At(yaml, "{i: 65536"), "above the limit of 4294967296 per issue");
    }

    [Test]
    public void FractionalBytes()
    {
        var yaml = Replace(Tiny, "capacity: 1 GiB", "capacity: 1.5 B");
        SingleError(yaml, AcgDiagnostics.NotAQuantity, At(yaml, "1.5 B"), "not a whole number of bytes");
    }

    [Test]
    public void FractionalSizesThatAreWholeBytesAreFine()
    {
        var graph = ParseOk(Replace(Tiny, "capacity: 1 GiB", "capacity: 1.5 GiB"));
        Assert.That(graph.StorageNode("dram").CapacityBytes, Is.EqualTo(3L << 29));
    }

    [Test]
    public void ZeroBandwidth()
    {
        var yaml = Replace(Tiny, "bandwidth: 16 B/cycle", "bandwidth: 0 B/cycle");
        SingleError(yaml, AcgDiagnostics.NotPositive, At(yaml, "0 B/cycle"), "the bandwidth of edge 'buf -> core' must be positive");
    }

    [Test]
    public void BandwidthUnitTypo()
    {
        var yaml = Replace(Tiny, "bandwidth: 16 B/cycle", "bandwidth: 16 B/cylce");
        SingleError(yaml, AcgDiagnostics.UnknownUnit, At(yaml, "16 B/cylce"), "did you mean 'B/cycle'?");
    }

    [Test]
    public void BandwidthPerSecondIsConvertedWithTheClock()
    {
        var graph = ParseOk(Replace(Tiny, "bandwidth: 16 B/cycle", "bandwidth: 3.2 GB/s"));
        Assert.That(graph.Edges.Single(e => e.From == "buf").BandwidthBytesPerCycle, Is.EqualTo(32).Within(1e-9));
    }

    [Test]
    public void BandwidthPerSecondNeedsAClock()
    {
        var yaml = Replace(Replace(Tiny, "clock: 100 MHz\n", ""), "bandwidth: 16 B/cycle", "bandwidth: 3.2 GB/s");
        SingleError(yaml, AcgDiagnostics.NeedsClock, At(yaml, "3.2 GB/s"), "needs a top-level 'clock'");
    }

    [Test]
    public void ClockUnitTypo()
    {
        var yaml = Replace(Tiny, "clock: 100 MHz", "clock: 100 Mhz");
        SingleError(yaml, AcgDiagnostics.UnknownUnit, At(yaml, "100 Mhz"), "did you mean 'MHz'?");
    }

    [Test]
    public void CycleUnitTypo()
    {
        var yaml = Replace(Tiny, "latency: 4", "latency: 4 cycels");
        SingleError(yaml, AcgDiagnostics.UnknownUnit, At(yaml, "4 cycels"), "did you mean 'cycles'?");
    }

    [Test]
    public void ZeroInterval()
    {
        var yaml = Replace(Tiny, "interval: 1", "interval: 0");
        SingleError(yaml, AcgDiagnostics.NotPositive, At(yaml, "interval: 0", "interval: ".Length), "issue interval", "must be positive");
    }

    [Test]
    public void UnknownTargetSuggestsTheClosest()
    {
        // The loader reads any target name; the registry of a build checks it, on the line of the value.
        var yaml = Replace(Tiny, "target: vta", "target: tensorcores");
        var graph = ParseOk(yaml);
        var error = TargetNameCheck.Check(graph, ["vta", "vnni", "tensorcore"]).Single();
        Assert.That((error.Id, error.Location), Is.EqualTo((AcgDiagnostics.UnknownTarget.Id, At(yaml, "tensorcores"))));
        Assert.That(error.Message, Does.Contain("did you mean 'tensorcore'?").And.Contain("'vta', 'vnni' or 'tensorcore'"));
        Assert.That(TargetNameCheck.Check(graph, ["tensorcores"]), Is.Empty);
    }

    [Test]
    public void InvalidNodeName()
    {
        var yaml = Replace(Tiny, "  core:\n", "  my-core:\n");
        var errors = Errors(yaml);
        Assert.That(errors.Select(e => e.Id), Does.Contain(AcgDiagnostics.InvalidName.Id));
        var error = errors.First(e => e.Id == AcgDiagnostics.InvalidName.Id);
        Assert.That(error.Location, Is.EqualTo(At(yaml, "my-core")));
        Assert.That(error.Message, Does.Contain("node name 'my-core' is not a valid name"));
    }

    [Test]
    public void UnknownKind()
    {
        var yaml = Replace(Tiny, "kind: compute", "kind: computer");
        SingleError(yaml, AcgDiagnostics.UnknownChoice, At(yaml, "computer"), "'storage' or 'compute'", "did you mean 'compute'?");
    }

    [Test]
    public void BooleansAreTrueOrFalse()
    {
        var yaml = Replace(Tiny, "offchip: true", "offchip: yes");
        SingleError(yaml, AcgDiagnostics.UnknownChoice, At(yaml, "yes"), "must be 'true' or 'false'");
    }

    [Test]
    public void UnknownElementType()
    {
        var yaml = Replace(Tiny, "{type: i32, shape: [1, 16]}", "{type: int32, shape: [1, 16]}");
        SingleError(yaml, AcgDiagnostics.UnknownChoice, At(yaml, "int32"), "'i8', 'u8', 'i32', 'f16' or 'f32'");
    }

    [Test]
    public void EmptyCapabilities()
    {
        var start = Tiny.IndexOf("    capabilities:", StringComparison.Ordinal);
        var end = Tiny.IndexOf("edges:", StringComparison.Ordinal);
        var yaml = Tiny[..start] + "    capabilities: {}\n" + Tiny[end..];
        SingleError(yaml, AcgDiagnostics.EmptyCollection, At(yaml, "capabilities"), "compute node 'core' has no capabilities");
    }

    [Test]
    public void ImmediateRangeUpsideDown()
    {
        var yaml = Replace(Tiny, "semantics: \"c[i, j] += a[i, k] * b[j, k]\"", "semantics: \"c[i, j] += a[i, k] * b[j, k] >> s\"\n        immediates: {s: {type: i32, min: 31, max: 0}}");
        SingleError(yaml, AcgDiagnostics.Inconsistent, At(yaml, "31"), "min 31 above max 0");
    }

    [Test]
    public void AcceptsOnlyTheEightBitSignednessSwap()
    {
        var yaml = Replace(Tiny, "a: {type: i8, storage: buf}", "a: {type: i8, storage: buf, accepts: f16}");
        SingleError(yaml, AcgDiagnostics.UnsupportedConversion, At(yaml, "f16}"), "is i8 and cannot accept f16");
    }

    [Test]
    public void AcceptsOnAWrittenOperandIsRefused()
    {
        var yaml = Replace(Tiny, "c: {type: i32, storage: acc}", "c: {type: i32, storage: acc, accepts: u8}");
        SingleError(yaml, AcgDiagnostics.UnsupportedConversion, At(yaml, "u8}"), "is written");
    }

    [Test]
    public void AcceptsAndRegisterFileAreRead()
    {
        var yaml = Replace(Replace(Tiny, "a: {type: i8, storage: buf}", "a: {type: i8, storage: buf, accepts: u8}"),
            "capacity: 64 KiB", "capacity: 64 KiB\n    register_file: true");
        var graph = ParseOk(yaml);
        var a = graph.ComputeNode("core").FindCapability("gemm")!.FindOperand("a")!;
        Assert.Multiple(() =>
        {
            Assert.That(a.Accepts, Is.EqualTo(Codelets.ElementType.U8));
            Assert.That(a.AcceptOffset, Is.EqualTo(-128), "u8 data fed to an i8 operand is shifted down by 128");
            Assert.That(a.Takes(Codelets.ElementType.U8) && a.Takes(Codelets.ElementType.I8) && !a.Takes(Codelets.ElementType.I32), Is.True);
            Assert.That(graph.StorageNode("acc").RegisterFile, Is.True);
            Assert.That(graph.StorageNode("buf").RegisterFile, Is.False);
        });
    }

    [Test]
    public void CapacityNotAWholeNumberOfElements()
    {
        var yaml = Replace(Tiny, "capacity: 32 KiB", "capacity: 1000 B");
        SingleError(yaml, AcgDiagnostics.Inconsistent, At(yaml, "1000 B"), "not a whole number of 16 B elements");
    }

    [Test]
    public void LineDisagreesWithElement()
    {
        var yaml = Replace(Tiny, "capacity: 32 KiB", "capacity: 32 KiB\n    line: 32 B");
        SingleError(yaml, AcgDiagnostics.Inconsistent, At(yaml, "32 B\n"), "lines of 32 B but elements i8[1, 16] of 16 B");
    }

    // ---- The graph ----

    [Test]
    public void UnknownNodeOnAnEdgeSuggestsTheClosest()
    {
        var yaml = Replace(Tiny, "{from: dram, to: buf,", "{from: drma, to: buf,");
        SingleError(yaml, AcgDiagnostics.UnknownNode, At(yaml, "drma"), "names node 'drma', which is not defined", "did you mean 'dram'?");
    }

    [Test]
    public void EdgeBetweenTwoComputeNodes()
    {
        var yaml = Replace(Tiny, "edges:\n", """
              core2:
                kind: compute
                capabilities:
                  zero: {semantics: "c[i] = 0", shape: {i: 16}, operands: {c: {type: i32, storage: acc}}, latency: 1, interval: 1}
            edges:
              - {from: core2, to: acc, bandwidth: 64}
              - {from: core, to: core2, bandwidth: 64}

            """);
        SingleError(yaml, AcgDiagnostics.InvalidEdge, At(yaml, "{from: core, to: core2"), "connects two compute nodes");
    }

    [Test]
    public void EdgeFromANodeToItself()
    {
        var yaml = Replace(Tiny, "{from: core, to: acc,", "{from: acc, to: acc,");
        var errors = Errors(yaml);
        var error = errors.Single(e => e.Id == AcgDiagnostics.InvalidEdge.Id);
        Assert.That(error.Location, Is.EqualTo(At(yaml, "to: acc, bandwidth: 64", "to: ".Length)));
        Assert.That(error.Message, Does.Contain("from a node to itself"));

        // With its only write edge gone, the GEMM cannot write its accumulator either.
        Assert.That(errors.Select(e => e.Id), Does.Contain(AcgDiagnostics.OperandNotConnected.Id));
    }

    [Test]
    public void DuplicateEdge()
    {
        var yaml = Replace(Tiny, "  - {from: buf, to: core, bandwidth: 16 B/cycle}\n", "  - {from: buf, to: core, bandwidth: 16 B/cycle}\n  - {from: buf, to: core, bandwidth: 32 B/cycle}\n");
        SingleError(yaml, AcgDiagnostics.DuplicateEdge, At(yaml, "{from: buf, to: core, bandwidth: 32"), "listed twice (first at line 33)");
    }

    [Test]
    public void ParallelEdgesWithDifferentTransfersAreFine()
    {
        var graph = ParseOk(Replace(Tiny, "transfer: load.buf}", "transfer: load.buf}\n  - {from: dram, to: buf, bandwidth: 4, transfer: load.broadcast}"));
        Assert.That(graph.Edges.Count(e => e.From == "dram" && e.To == "buf"), Is.EqualTo(2));
    }

    [Test]
    public void StorageToStorageEdgeNeedsATransfer()
    {
        var yaml = Replace(Tiny, ", transfer: load.buf}", "}");
        SingleError(yaml, AcgDiagnostics.MissingKey, At(yaml, "{from: dram, to: buf"), "needs a 'transfer'");
    }

    [Test]
    public void NoOffchipStorage()
    {
        var yaml = Replace(Tiny, "    offchip: true\n", "");
        SingleError(yaml, AcgDiagnostics.NoOffchipStorage, At(yaml, "nodes:"), "offchip: true");
    }

    [Test]
    public void InputOperandNotConnectedToItsComputeNode()
    {
        // Operands a and b both live in buf: the one missing edge is reported once, at the first.
        var yaml = Replace(Tiny, "  - {from: buf, to: core, bandwidth: 16 B/cycle}\n", "");
        SingleError(yaml, AcgDiagnostics.OperandNotConnected, At(yaml, "buf}"),
            "operand 'a' of capability 'gemm' of 'core' is read from 'buf', but no edges lead from 'buf' to 'core'");
    }

    [Test]
    public void InputOperandThatNothingFills()
    {
        var yaml = Replace(Tiny, "  - {from: dram, to: buf, bandwidth: 8 B/cycle, transfer: load.buf}\n", "");
        SingleError(yaml, AcgDiagnostics.OperandNotConnected, At(yaml, "buf}"), "which no off-chip storage can fill (add an edge such as 'dram -> buf')");
    }

    [Test]
    public void OutputThatCannotReachOffchipStorage()
    {
        var yaml = Replace(Tiny, "  - {from: acc, to: dram, bandwidth: 8, latency: 10, transfer: store}\n", "");
        SingleError(yaml, AcgDiagnostics.OperandNotConnected, At(yaml, "acc}"), "results can never reach off-chip storage ('dram')");
    }

    [Test]
    public void OutputThatTheComputeNodeCannotWrite()
    {
        var yaml = Replace(Tiny, "\n  - {from: core, to: acc, bandwidth: 64 B/cycle}", "");
        SingleError(yaml, AcgDiagnostics.OperandNotConnected, At(yaml, "acc}"), "is written to 'acc', but no edges lead from 'core' to 'acc'");
    }

    [Test]
    public void OperandTypeMismatch()
    {
        var yaml = Replace(Tiny, "a: {type: i8, storage: buf}", "a: {type: u8, storage: buf}");
        SingleError(yaml, AcgDiagnostics.OperandTypeMismatch, At(yaml, "u8"), "operand 'a' of capability 'gemm' of 'core' is u8, but its storage 'buf' holds i8 elements");
    }

    [Test]
    public void OperandInAComputeNode()
    {
        var yaml = Replace(Tiny, "a: {type: i8, storage: buf}", "a: {type: i8, storage: core}");
        SingleError(yaml, AcgDiagnostics.NotDataStorage, At(yaml, "core}"), "which is a compute node");
    }

    [Test]
    public void OperandInMicrocodeStorage()
    {
        var yaml = Replace(Tiny, "element: {type: i8, shape: [1, 16]}", "element: {type: i8, shape: [1, 16]}\n    holds: microcode");
        var errors = Errors(yaml);
        Assert.That(errors.Select(e => e.Id), Is.EqualTo(new[] { AcgDiagnostics.NotDataStorage.Id, AcgDiagnostics.NotDataStorage.Id }));
        Assert.That(errors[0].Message, Does.Contain("holds microcode, not tensor data"));
    }

    [Test]
    public void UnknownOperandStorage()
    {
        var yaml = Replace(Tiny, "c: {type: i32, storage: acc}", "c: {type: i32, storage: accum}");
        SingleError(yaml, AcgDiagnostics.UnknownNode, At(yaml, "accum"), "lives in 'accum', which is not defined");
    }

    [Test]
    public void UnconnectedStorageIsAWarningOnly()
    {
        var result = Parse(Replace(Tiny, "  core:\n", "  spare:\n    kind: storage\n    capacity: 4 KiB\n  core:\n"));
        Assert.That(result.Succeeded, Is.True);
        var warning = result.Diagnostics.Single();
        using (Assert.EnterMultipleScope())
        {
            Assert.That(warning.Id, Is.EqualTo(AcgDiagnostics.UnconnectedNode.Id));
            Assert.That(warning.Severity, Is.EqualTo(Severity.Warning));
            Assert.That(warning.Location, Is.EqualTo(new SourceLocation(TestFile, 17, 3)));
        }
    }

    // ---- Semantics ----

    [Test]
    public void SemanticsThatDoNotParsePointInsideTheString()
    {
        var yaml = Replace(Tiny, "c[i, j] += a[i, k] * b[j, k]", "c[i, j] += a[i, k] * * b[j, k]");
        var error = SingleError(yaml, AcgDiagnostics.SemanticsSyntax, At(yaml, "* b[j"), "semantics of capability 'gemm' of 'core' do not parse", "expected");
        Assert.That(error.Message, Does.Contain("found '*'"));
    }

    [Test]
    public void SemanticsNamingATensorThatIsNotAnOperand()
    {
        // 'b' is then unused too, but that is the same mistake: only the unknown tensor is reported.
        var yaml = Replace(Tiny, "b[j, k]\"", "w[j, k]\"");
        SingleError(yaml, AcgDiagnostics.UnknownOperand, At(yaml, "w[j, k]"), "use tensor 'w', which is not one of its operands", "the operands are a, b, c");
    }

    [Test]
    public void OperandUnused()
    {
        var yaml = Replace(Tiny, "c: {type: i32, storage: acc}", "c: {type: i32, storage: acc}\n          z: {type: i32, storage: acc}");
        SingleError(yaml, AcgDiagnostics.Unused, At(yaml, "z: {type"), "operand 'z' of capability 'gemm' of 'core' is not used");
    }

    [Test]
    public void SemanticsOperandMisspelt()
    {
        var yaml = Replace(Replace(Tiny, "b[j, k]\"", "wgt[j, k]\""), "b: {type: i8", "wgts: {type: i8");
        var errors = Errors(yaml);
        Assert.That(errors[0].Message, Does.Contain("did you mean 'wgts'?"));
    }

    [Test]
    public void SemanticsIndexThatIsNotAnAxis()
    {
        var yaml = Replace(Tiny, "b[j, k]\"", "b[j, K]\"");
        SingleError(yaml, AcgDiagnostics.UnknownAxis, At(yaml, "K]"), "index 'K'", "not an axis of its shape", "did you mean 'k'?", "the axes are i, j, k");
    }

    [Test]
    public void SemanticsScalarThatIsNotAnImmediate()
    {
        var yaml = Replace(Tiny, "b[j, k]\"", "b[j, k] >> shift\"");
        SingleError(yaml, AcgDiagnostics.UnknownAxis, At(yaml, "shift"), "'shift'", "is not an immediate", "declared under 'immediates'");
    }

    [Test]
    public void ShapeAxisUnused()
    {
        var yaml = Replace(Tiny, "shape: {i: 1, j: 16, k: 16}", "shape: {i: 1, j: 16, k: 16, l: 4}");
        SingleError(yaml, AcgDiagnostics.Unused, At(yaml, "l: 4"), "axis 'l' of capability 'gemm' of 'core' is not used");
    }

    [Test]
    public void ImmediateUnused()
    {
        var yaml = Replace(Tiny, "latency: 4", "immediates: {s: {type: i32}}\n        latency: 4");
        SingleError(yaml, AcgDiagnostics.Unused, At(yaml, "s: {type"), "immediate 's'");
    }

    [Test]
    public void InconsistentIndexCount()
    {
        var yaml = Replace(Tiny, "c[i, j] += a[i, k] * b[j, k]", "c[i, j] += a[i, k] * b[j, k] + c[i]");
        SingleError(yaml, AcgDiagnostics.BadIndexing, At(yaml, "c[i]\""), "'c' is indexed with 1 indices here but 2 elsewhere");
    }

    [Test]
    public void IndirectIndex()
    {
        var yaml = Replace(Tiny, "a[i, k] * b[j, k]", "a[i, b[j, k]]");
        SingleError(yaml, AcgDiagnostics.BadIndexing, At(yaml, "b[j, k]]"), "an index of 'a'", "reads tensor 'b'");
    }

    [Test]
    public void OperandRolesComeFromTheSemantics()
    {
        var capability = ParseOk(Tiny).ComputeNode("core").Capabilities.Single();
        using (Assert.EnterMultipleScope())
        {
            Assert.That(capability.FindOperand("a")!.Role, Is.EqualTo(Model.OperandRole.Read));
            Assert.That(capability.FindOperand("c")!.Role, Is.EqualTo(Model.OperandRole.ReadWrite));
            Assert.That(capability.FindOperand("b")!.Axes, Is.EqualTo(new[] { "j", "k" }));
            Assert.That(capability.Output.Name, Is.EqualTo("c"));
            Assert.That(capability.ReductionAxes.Select(a => a.Name), Is.EqualTo(new[] { "k" }));
            Assert.That(capability.OperationsPerIssue, Is.EqualTo(256));
        }
    }

    // ---- Collecting ----

    [Test]
    public void EveryErrorOfAFileIsReportedInFileOrder()
    {
        var yaml = Replace(Tiny, "target: vta", "target: vtx");
        yaml = Replace(yaml, "capacity: 32 KiB", "capacity: 32 kib");
        yaml = Replace(yaml, "interval: 1", "interval: -1");
        yaml = Replace(yaml, "{from: dram, to: acc,", "{from: dram, to: acb,");
        var errors = Errors(yaml);
        Assert.That(errors.Select(e => (e.Id, e.Location!.Line)), Is.EqualTo(new[]
        {
            (AcgDiagnostics.UnknownUnit.Id, 11),
            (AcgDiagnostics.NotPositive.Id, 28),
            (AcgDiagnostics.UnknownNode.Id, 31),
        }));
    }

    [Test]
    public void MissingFileIsCov0001()
    {
        var result = AcgLoader.Load(Path.Combine(Path.GetTempPath(), "covenant-no-such-architecture.yaml"));
        Assert.That(result.Diagnostics.Single().Id, Is.EqualTo(CoreDiagnostics.FileNotFound.Id));
    }
}
