using System.Collections.Immutable;
using System.Numerics;
using Covenant.Acg;
using Covenant.Acg.Model;
using Covenant.Codelets;
using Covenant.Codelets.Syntax;
using Covenant.Core.Diagnostics;

namespace Covenant.Runtime.Vta;

/// <summary>One DRAM transfer edge of the graph (<c>vta.load.inp</c>...): its bandwidth and latency.</summary>
public sealed record VtaTransfer(string Name, double BytesPerCycle, double LatencyCycles);

/// <summary>
/// The parameters of one VTA configuration, as the architecture graph gives them (the counterpart of TVM's
/// <c>vta_config.json</c> plus the costs the timing model needs). Build it with <see cref="FromGraph"/>;
/// <see cref="Default"/> is what <c>architectures/vta.yaml</c> describes (a test checks they agree).
/// <para>
/// Field widths: the ISA fixes the opcode (3 bits), the memory fields (sram_base 16, dram_base 32, sizes and
/// stride 16, pads 4), the loop iterations (14), the ALU opcode (3) and immediate (16); the widths marked †
/// in vta-isa.md derive from the buffer depths here (<see cref="UopBeginBits"/>, <see cref="DstFactorBits"/>...).
/// <see cref="VtaLayout"/> places the fields.
/// </para>
/// </summary>
public sealed record VtaConfig
{
    /// <summary>The transfer names the graph's DRAM edges must carry.</summary>
    public const string LoadUop = "vta.load.uop";

    public const string LoadInp = "vta.load.inp";

    public const string LoadWgt = "vta.load.wgt";

    public const string LoadAcc = "vta.load.acc";

    public const string StoreOut = "vta.store.out";

    /// <summary>Bits of one micro-op (the runtime static_asserts 32).</summary>
    public const int UopBits = 32;

    /// <summary>Bits of one instruction.</summary>
    public const int InstructionBits = 128;

    /// <summary>The architecture the configuration was read from.</summary>
    public required string Name { get; init; }

    /// <summary>BATCH: rows of the GEMM intrinsic's input (the <c>i</c> axis).</summary>
    public required int Batch { get; init; }

    /// <summary>BLOCK_IN: the reduction axis <c>k</c>.</summary>
    public required int BlockIn { get; init; }

    /// <summary>BLOCK_OUT: the output axis <c>j</c>.</summary>
    public required int BlockOut { get; init; }

    public int InpBits { get; init; } = 8;

    public int WgtBits { get; init; } = 8;

    public int AccBits { get; init; } = 32;

    public int OutBits { get; init; } = 8;

    /// <summary>Rows (elements) of each buffer.</summary>
    public required int UopDepth { get; init; }

    public required int InpDepth { get; init; }

    public required int WgtDepth { get; init; }

    public required int AccDepth { get; init; }

    /// <summary>The OUT buffer is indexed like ACC, so its depth equals <see cref="AccDepth"/>.</summary>
    public required int OutDepth { get; init; }

    /// <summary>The clock, when the graph states one (cycles convert to seconds only with it).</summary>
    public double? ClockHz { get; init; }

    public required VtaTransfer UopLoad { get; init; }

    public required VtaTransfer InpLoad { get; init; }

    public required VtaTransfer WgtLoad { get; init; }

    public required VtaTransfer AccLoad { get; init; }

    public required VtaTransfer OutStore { get; init; }

    /// <summary>Cycles per GEMM micro-op (the gemm capability's interval; HLS II = 1).</summary>
    public double GemmIntervalCycles { get; init; } = 1;

    /// <summary>The GEMM pipeline's latency: paid once per GEMM instruction (fill and drain).</summary>
    public double GemmLatencyCycles { get; init; }

    public double GemmResetIntervalCycles { get; init; } = 1;

    public double GemmResetLatencyCycles { get; init; }

    /// <summary>Cycles per ALU micro-op (the slowest ALU capability's interval; HLS II = 2).</summary>
    public double AluIntervalCycles { get; init; } = 2;

    public double AluLatencyCycles { get; init; }

    // ---- derived sizes ----

    public int InpElementBytes => Batch * BlockIn * InpBits / 8;

    public int WgtElementBytes => BlockOut * BlockIn * WgtBits / 8;

    public int AccElementBytes => Batch * BlockOut * AccBits / 8;

    public int OutElementBytes => Batch * BlockOut * OutBits / 8;

    public int UopElementBytes => UopBits / 8;

    /// <summary>An ACC_8BIT element: one int8 per accumulator lane.</summary>
    public int Acc8BitElementBytes => Batch * BlockOut;

    /// <summary>Lanes of one accumulator row (BATCH × BLOCK_OUT).</summary>
    public int AccLanes => Batch * BlockOut;

    /// <summary>Multiply-accumulates of one GEMM micro-op.</summary>
    public long MacsPerUop => (long)Batch * BlockIn * BlockOut;

    /// <summary>The narrowest DRAM transfer's bandwidth (bytes per cycle).</summary>
    public double BusBytesPerCycle =>
        new[] { UopLoad, InpLoad, WgtLoad, AccLoad, OutStore }.Min(t => t.BytesPerCycle);

    // ---- derived field widths (vta-isa.md §2, marked †) ----

    public int LogUopDepth => Log2(UopDepth);

    public int LogInpDepth => Log2(InpDepth);

    public int LogWgtDepth => Log2(WgtDepth);

    public int LogAccDepth => Log2(AccDepth);

    public int UopBeginBits => LogUopDepth;

    /// <summary>One bit more than uop_bgn: the exclusive end may equal the depth.</summary>
    public int UopEndBits => LogUopDepth + 1;

    public int DstFactorBits => LogAccDepth;

    /// <summary>GEMM's src factors index INP.</summary>
    public int GemmSrcFactorBits => LogInpDepth;

    /// <summary>ALU's src factors index ACC.</summary>
    public int AluSrcFactorBits => LogAccDepth;

    public int WgtFactorBits => LogWgtDepth;

    public int UopDstBits => LogAccDepth;

    /// <summary>A uop's src indexes INP (GEMM) or ACC (ALU): the wider of the two.</summary>
    public int UopSrcBits => Math.Max(LogAccDepth, LogInpDepth);

    public int UopWgtBits => LogWgtDepth;

    /// <summary>The default configuration (vta-isa.md §1; <c>architectures/vta.yaml</c>, PYNQ-Z1 at 100 MHz).</summary>
    public static VtaConfig Default { get; } = new()
    {
        Name = "vta",
        Batch = 1,
        BlockIn = 16,
        BlockOut = 16,
        UopDepth = 8192,
        InpDepth = 2048,
        WgtDepth = 1024,
        AccDepth = 2048,
        OutDepth = 2048,
        ClockHz = 100e6,
        UopLoad = new(LoadUop, 8, 32),
        InpLoad = new(LoadInp, 8, 32),
        WgtLoad = new(LoadWgt, 8, 32),
        AccLoad = new(LoadAcc, 8, 32),
        OutStore = new(StoreOut, 8, 32),
        GemmIntervalCycles = 1,
        GemmLatencyCycles = 5,
        GemmResetIntervalCycles = 1,
        GemmResetLatencyCycles = 1,
        AluIntervalCycles = 2,
        AluLatencyCycles = 4,
    };

    /// <summary>Bytes of one element (SRAM row, DRAM unit of dram_base) of a memory type.</summary>
    public int ElementBytes(VtaMemoryType type) => type switch
    {
        VtaMemoryType.Uop => UopElementBytes,
        VtaMemoryType.Wgt => WgtElementBytes,
        VtaMemoryType.Inp => InpElementBytes,
        VtaMemoryType.Acc => AccElementBytes,
        VtaMemoryType.Out => OutElementBytes,
        VtaMemoryType.Acc8Bit => Acc8BitElementBytes,
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, "not a VTA memory type"),
    };

    /// <summary>Rows of the SRAM a memory type addresses (ACC_8BIT fills ACC).</summary>
    public int Depth(VtaMemoryType type) => type switch
    {
        VtaMemoryType.Uop => UopDepth,
        VtaMemoryType.Wgt => WgtDepth,
        VtaMemoryType.Inp => InpDepth,
        VtaMemoryType.Acc or VtaMemoryType.Acc8Bit => AccDepth,
        VtaMemoryType.Out => OutDepth,
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, "not a VTA memory type"),
    };

    /// <summary>The DRAM edge a memory type's LOAD (or, for OUT, STORE) uses.</summary>
    public VtaTransfer Transfer(VtaMemoryType type) => type switch
    {
        VtaMemoryType.Uop => UopLoad,
        VtaMemoryType.Wgt => WgtLoad,
        VtaMemoryType.Inp => InpLoad,
        VtaMemoryType.Acc or VtaMemoryType.Acc8Bit => AccLoad,
        VtaMemoryType.Out => OutStore,
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, "not a VTA memory type"),
    };

    /// <summary>
    /// Everything wrong with this configuration (unsupported types, depths that are not powers of two,
    /// fields that do not fit 128 bits...). Empty for a usable configuration.
    /// </summary>
    public ImmutableArray<Diagnostic> Validate() => Validate(null);

    /// <summary>Reads the VTA configuration an architecture graph describes (see the class comment for what it looks for).</summary>
    /// <remarks>
    /// Things are located by what they are, not by name: the GEMM is the capability of the form
    /// <c>acc[i, j] += inp[i, k] * wgt[j, k]</c> (any operand and axis names); its operands' storage nodes are
    /// the INP, WGT and ACC buffers; the UOP and OUT buffers are the ends of the <c>vta.load.uop</c> and
    /// <c>vta.store.out</c> edges; the ALU is the set of element-wise capabilities that write the ACC buffer.
    /// Every problem is reported (COV50xx) at the YAML element it concerns.
    /// </remarks>
    public static Result<VtaConfig> FromGraph(ArchitectureGraph graph)
    {
        ArgumentNullException.ThrowIfNull(graph);
        return new GraphReader(graph).Read();
    }

    internal ImmutableArray<Diagnostic> Validate(IReadOnlyDictionary<string, SourceLocation>? where)
    {
        var bag = new DiagnosticBag();
        SourceLocation? At(string role) => where is not null && where.TryGetValue(role, out var l) ? l : null;

        if (Batch < 1 || BlockIn < 1 || BlockOut < 1)
        {
            bag.Report(VtaDiagnostics.GemmForm, At("gemm"), $"the GEMM shape {Batch}x{BlockIn}x{BlockOut} (BATCH x BLOCK_IN x BLOCK_OUT) must be positive");
        }

        if (InpBits != 8 || WgtBits != 8 || OutBits != 8 || AccBits != 32)
        {
            bag.Report(VtaDiagnostics.UnsupportedType, At("gemm"),
                $"the VTA target supports int8 inputs, weights and outputs with int32 accumulators, not {InpBits}/{WgtBits}/{OutBits}/{AccBits}-bit");
        }

        var depthsOk = true;
        foreach (var (role, label, depth) in new[] { ("uop", "UOP", UopDepth), ("inp", "INP", InpDepth), ("wgt", "WGT", WgtDepth), ("acc", "ACC", AccDepth), ("out", "OUT", OutDepth) })
        {
            if (depth < 2 || !BitOperations.IsPow2(depth) || depth > 1 << 16)
            {
                depthsOk = false;
                bag.Report(VtaDiagnostics.BufferDepth, At(role),
                    $"the {label} buffer has {depth} rows; VTA needs a power of two between 2 and 65536 (its index fields are log2(depth) bits and sram_base is 16 bits)");
            }
        }

        if (OutDepth != AccDepth)
        {
            bag.Report(VtaDiagnostics.BufferDepth, At("out"),
                $"the OUT buffer has {OutDepth} rows but the ACC buffer {AccDepth}; OUT is indexed like ACC, so they need the same number of rows");
        }

        if (depthsOk)
        {
            var layout = new VtaLayout(this);
            foreach (var (kind, bits) in new[] { ("memory", layout.MemoryBits), ("GEMM", layout.GemmBits), ("ALU", layout.AluBits) })
            {
                if (bits > InstructionBits)
                {
                    bag.Report(VtaDiagnostics.FieldsDoNotFit, At("acc"),
                        $"with buffer depths UOP {UopDepth}, INP {InpDepth}, WGT {WgtDepth}, ACC {AccDepth}, the {kind} instruction needs {bits} bits (fields cannot straddle a 64-bit word), more than {InstructionBits}");
                }
            }

            if (layout.UopBits > UopBits)
            {
                bag.Report(VtaDiagnostics.FieldsDoNotFit, At("acc"),
                    $"a micro-op needs {UopDstBits} + {UopSrcBits} + {UopWgtBits} = {UopDstBits + UopSrcBits + UopWgtBits} bits (log2 of the ACC, max(ACC, INP) and WGT depths), more than {UopBits}");
            }
        }

        foreach (var t in new[] { UopLoad, InpLoad, WgtLoad, AccLoad, OutStore })
        {
            if (!(t.BytesPerCycle > 0) || double.IsInfinity(t.BytesPerCycle) || !(t.LatencyCycles >= 0) || double.IsInfinity(t.LatencyCycles))
            {
                bag.Report(VtaDiagnostics.BadCost, At(t.Name), $"transfer '{t.Name}' needs a positive finite bandwidth and a finite latency ≥ 0 (has {t.BytesPerCycle} B/cycle, latency {t.LatencyCycles})");
            }
        }

        foreach (var (role, what, interval, latency) in new[]
                 {
                     ("gemm", "GEMM", GemmIntervalCycles, GemmLatencyCycles),
                     ("gemm", "GEMM reset", GemmResetIntervalCycles, GemmResetLatencyCycles),
                     ("alu", "ALU", AluIntervalCycles, AluLatencyCycles),
                 })
        {
            if (!(interval > 0) || double.IsInfinity(interval) || !(latency >= 0) || double.IsInfinity(latency))
            {
                bag.Report(VtaDiagnostics.BadCost, At(role), $"the {what} needs a positive finite interval and a finite latency ≥ 0 (has {interval}, {latency})");
            }
        }

        return bag.ToImmutable();
    }

    private static int Log2(int depth) => depth <= 0 ? 0 : BitOperations.Log2((uint)depth);

    /// <summary>The GEMM capability in VTA form, and which operand is which.</summary>
    private sealed record GemmMatch(
        ComputeNode Node,
        Capability Capability,
        CapabilityOperand Inp,
        CapabilityOperand Wgt,
        CapabilityOperand Acc,
        int Batch,
        int BlockIn,
        int BlockOut);

    /// <summary>Reads one graph; collects every problem rather than stopping at the first.</summary>
    private sealed class GraphReader(ArchitectureGraph graph)
    {
        private readonly DiagnosticBag diagnostics = new();
        private readonly Dictionary<string, SourceLocation> where = new(StringComparer.Ordinal);

        public Result<VtaConfig> Read()
        {
            if (graph.Target != KnownTargets.Vta)
            {
                diagnostics.Report(VtaDiagnostics.NotVtaTarget, graph.Location,
                    $"architecture '{graph.Name}' has target '{graph.Target}'; the VTA target pass needs 'target: {KnownTargets.Vta}'");
            }

            var gemm = FindGemm();
            if (gemm is null)
            {
                return Result<VtaConfig>.Failure(diagnostics.ToImmutable());
            }

            where["gemm"] = gemm.Capability.Location;
            CheckType(gemm.Inp, ElementType.I8, "input");
            CheckType(gemm.Wgt, ElementType.I8, "weight");
            CheckType(gemm.Acc, ElementType.I32, "accumulator");

            var inpDepth = RowBuffer(gemm.Inp.Storage, "inp", "input", ElementType.I8, gemm.Batch, gemm.BlockIn, "BATCH x BLOCK_IN", gemm);
            var wgtDepth = RowBuffer(gemm.Wgt.Storage, "wgt", "weight", ElementType.I8, gemm.BlockOut, gemm.BlockIn, "BLOCK_OUT x BLOCK_IN, stored [out][in]", gemm);
            var accDepth = RowBuffer(gemm.Acc.Storage, "acc", "accumulator", ElementType.I32, gemm.Batch, gemm.BlockOut, "BATCH x BLOCK_OUT", gemm);

            var inpLoad = Transfer(LoadInp, $"DRAM to the input buffer '{gemm.Inp.Storage}'", from: null, to: gemm.Inp.Storage);
            var wgtLoad = Transfer(LoadWgt, $"DRAM to the weight buffer '{gemm.Wgt.Storage}'", from: null, to: gemm.Wgt.Storage);
            var accLoad = Transfer(LoadAcc, $"DRAM to the accumulator buffer '{gemm.Acc.Storage}'", from: null, to: gemm.Acc.Storage);
            var uopEdge = FindTransfer(LoadUop, "DRAM to the micro-op buffer");
            var uopLoad = uopEdge is null ? null : Transfer(LoadUop, "DRAM to the micro-op buffer", from: null, to: uopEdge.To);
            var outEdge = FindTransfer(StoreOut, "the output buffer to DRAM");
            var outStore = outEdge is null ? null : Transfer(StoreOut, "the output buffer to DRAM", from: outEdge.From, to: null);

            var uopDepth = uopEdge is null ? 0 : UopBuffer(uopEdge.To);
            var outDepth = outEdge is null ? 0 : RowBuffer(outEdge.From, "out", "output", ElementType.I8, gemm.Batch, gemm.BlockOut, "BATCH x BLOCK_OUT", gemm);

            var (aluInterval, aluLatency) = FindAlu(gemm);
            var reset = FindReset(gemm);

            if (diagnostics.HasErrors || inpLoad is null || wgtLoad is null || accLoad is null || uopLoad is null || outStore is null)
            {
                return Result<VtaConfig>.Failure(diagnostics.ToImmutable());
            }

            var config = new VtaConfig
            {
                Name = graph.Name,
                Batch = gemm.Batch,
                BlockIn = gemm.BlockIn,
                BlockOut = gemm.BlockOut,
                UopDepth = uopDepth,
                InpDepth = inpDepth,
                WgtDepth = wgtDepth,
                AccDepth = accDepth,
                OutDepth = outDepth,
                ClockHz = graph.ClockHz,
                UopLoad = uopLoad,
                InpLoad = inpLoad,
                WgtLoad = wgtLoad,
                AccLoad = accLoad,
                OutStore = outStore,
                GemmIntervalCycles = gemm.Capability.IntervalCycles,
                GemmLatencyCycles = gemm.Capability.LatencyCycles,
                GemmResetIntervalCycles = reset?.IntervalCycles ?? gemm.Capability.IntervalCycles,
                GemmResetLatencyCycles = reset?.LatencyCycles ?? gemm.Capability.LatencyCycles,
                AluIntervalCycles = aluInterval,
                AluLatencyCycles = aluLatency,
            };

            diagnostics.AddRange(config.Validate(where));
            return diagnostics.HasErrors
                ? Result<VtaConfig>.Failure(diagnostics.ToImmutable())
                : Result<VtaConfig>.Success(config, diagnostics.ToImmutable());
        }

        private GemmMatch? FindGemm()
        {
            (Capability Capability, string Reason)? nearMiss = null;
            foreach (var node in graph.Compute)
            {
                foreach (var capability in node.Capabilities)
                {
                    var match = MatchGemm(node, capability, out var reason);
                    if (match is not null)
                    {
                        return match;
                    }

                    if (reason is not null)
                    {
                        nearMiss ??= (capability, reason);
                    }
                }
            }

            if (nearMiss is { } miss)
            {
                diagnostics.Report(VtaDiagnostics.GemmForm, miss.Capability.Location, $"capability '{miss.Capability.Name}': {miss.Reason}");
            }
            else
            {
                diagnostics.Report(VtaDiagnostics.NoGemmCapability, graph.Location,
                    $"architecture '{graph.Name}' has no capability of the form 'acc[i, j] += inp[i, k] * wgt[j, k]' (VTA's GEMM: BATCH x BLOCK_IN inputs times BLOCK_OUT x BLOCK_IN weights)");
            }

            return null;
        }

        /// <summary>
        /// A match when the capability is <c>c[i, j] += a[i, k] * b[j, k]</c> (either product order); null with a
        /// reason for a multiply-accumulate that is arranged differently; null without one for anything else.
        /// </summary>
        private static GemmMatch? MatchGemm(ComputeNode node, Capability capability, out string? reason)
        {
            reason = null;
            var statement = capability.Semantics;
            if (statement.Kind != AssignKind.Accumulate ||
                statement.Value is not BinarySyntax { Op: BinaryOp.Multiply, Left: AccessSyntax left, Right: AccessSyntax right })
            {
                return null;
            }

            if (Names(statement.Target) is not { Length: 2 } output || Names(left) is not { Length: 2 } l || Names(right) is not { Length: 2 } r)
            {
                reason = "VTA's GEMM indexes each operand by two plain axis names, as in 'acc[i, j] += inp[i, k] * wgt[j, k]'";
                return null;
            }

            var reduction = capability.Shape.Select(a => a.Name).Where(a => !output.Contains(a)).ToList();
            if (capability.Shape.Length != 3 || reduction.Count != 1 || output[0] == output[1])
            {
                reason = "VTA's GEMM has three axes: two output axes (BATCH, BLOCK_OUT) and one reduction axis (BLOCK_IN)";
                return null;
            }

            var k = reduction[0];
            var (i, j) = (output[0], output[1]);
            AccessSyntax? inp = null, wgt = null;
            foreach (var (access, names) in new[] { (left, l), (right, r) })
            {
                if (names[0] == i && names[1] == k)
                {
                    inp = access;
                }
                else if (names[0] == j && names[1] == k)
                {
                    wgt = access;
                }
                else if (names[0] == k && names[1] == j)
                {
                    reason = $"the weight operand '{access.Tensor}' is indexed [{k}, {j}]; VTA stores weight blocks [out][in], so it must be '{access.Tensor}[{j}, {k}]'";
                    return null;
                }
                else if (names[0] == k && names[1] == i)
                {
                    reason = $"the input operand '{access.Tensor}' is indexed [{k}, {i}]; VTA's input rows are [batch][in], so it must be '{access.Tensor}[{i}, {k}]'";
                    return null;
                }
            }

            if (inp is null || wgt is null || inp.Tensor == wgt.Tensor)
            {
                reason = $"the operands must be indexed [{i}, {k}] (input) and [{j}, {k}] (weight) for 'acc[{i}, {j}] += ...'";
                return null;
            }

            var accOperand = capability.FindOperand(statement.Target.Tensor);
            var inpOperand = capability.FindOperand(inp.Tensor);
            var wgtOperand = capability.FindOperand(wgt.Tensor);
            if (accOperand is null || inpOperand is null || wgtOperand is null)
            {
                reason = "every tensor of the semantics must be a declared operand";
                return null;
            }

            int Extent(string axis) => capability.FindAxis(axis)?.Extent ?? 0;
            return new GemmMatch(node, capability, inpOperand, wgtOperand, accOperand, Extent(i), Extent(k), Extent(j));
        }

        private static string[]? Names(AccessSyntax access)
        {
            var names = new string[access.Indices.Length];
            for (var n = 0; n < names.Length; n++)
            {
                if (access.Indices[n] is not NameSyntax name)
                {
                    return null;
                }

                names[n] = name.Name;
            }

            return names;
        }

        private void CheckType(CapabilityOperand operand, ElementType expected, string what)
        {
            if (operand.Type != expected)
            {
                diagnostics.Report(VtaDiagnostics.UnsupportedType, operand.Location,
                    $"the GEMM's {what} operand '{operand.Name}' is {operand.Type.Name()}; the VTA target supports {expected.Name()} {what}s");
            }
        }

        /// <summary>The depth of a buffer whose rows are <c>type[rows, cols]</c>, or 0 after reporting why it is not usable.</summary>
        private int RowBuffer(string nodeName, string role, string what, ElementType type, int rows, int cols, string meaning, GemmMatch gemm)
        {
            if (graph.FindNode(nodeName) is not StorageNode node)
            {
                diagnostics.Report(VtaDiagnostics.MissingBuffer, gemm.Capability.Location, $"the {what} buffer '{nodeName}' is not a storage node");
                return 0;
            }

            where[role] = node.Location;
            if (node.Element is not { } element)
            {
                diagnostics.Report(VtaDiagnostics.MissingBuffer, node.Location,
                    $"the {what} buffer '{node.Name}' needs an element layout ({{type: {type.Name()}, shape: [{rows}, {cols}]}}, {meaning}) so the VTA target knows its rows");
                return 0;
            }

            if (element.Type != type || element.Shape.Length != 2 || element.Shape[0] != rows || element.Shape[1] != cols)
            {
                diagnostics.Report(VtaDiagnostics.BufferElement, element.Location,
                    $"the {what} buffer '{node.Name}' holds {element} rows, but the GEMM capability '{gemm.Capability.Name}' needs {type.Name()}[{rows}, {cols}] ({meaning})");
                return 0;
            }

            return Depth(node, element.Bytes, what);
        }

        private int UopBuffer(string nodeName)
        {
            if (graph.FindNode(nodeName) is not StorageNode node)
            {
                return 0; // the transfer check has reported it
            }

            where["uop"] = node.Location;
            var line = node.LineBytes ?? node.Element?.Bytes;
            if (line != UopBits / 8)
            {
                diagnostics.Report(VtaDiagnostics.BufferElement, node.Location,
                    $"the micro-op buffer '{node.Name}' must have 4-byte rows (one 32-bit micro-op: 'line: 4 B'), not {(line is null ? "no row size" : $"{line} B")}");
                return 0;
            }

            return Depth(node, line.Value, "micro-op");
        }

        private int Depth(StorageNode node, long rowBytes, string what)
        {
            if (rowBytes <= 0 || node.CapacityBytes % rowBytes != 0)
            {
                diagnostics.Report(VtaDiagnostics.BufferDepth, node.Location,
                    $"the {what} buffer '{node.Name}' holds {Format.Bytes(node.CapacityBytes)}, not a whole number of {rowBytes}-byte rows");
                return 0;
            }

            var depth = node.CapacityBytes / rowBytes;
            if (depth < 2 || depth > 1 << 16 || !BitOperations.IsPow2(depth))
            {
                diagnostics.Report(VtaDiagnostics.BufferDepth, node.Location,
                    $"the {what} buffer '{node.Name}' has {depth} rows of {rowBytes} B; VTA needs a power of two between 2 and 65536 (index fields are log2(depth) bits, sram_base 16 bits)");
                return 0;
            }

            return (int)depth;
        }

        private Edge? FindTransfer(string name, string what)
        {
            var edge = graph.Edges.FirstOrDefault(e => e.Transfer == name);
            if (edge is null)
            {
                var known = graph.Edges.Where(e => e.Transfer is not null).Select(e => e.Transfer!).Distinct().ToList();
                diagnostics.Report(VtaDiagnostics.MissingTransfer, graph.Location,
                    $"no edge has 'transfer: {name}' ({what}); the VTA target needs it for LOAD/STORE costs{Spelling.DidYouMean(name, known)}");
            }

            return edge;
        }

        /// <summary>The transfer called <paramref name="name"/>, checked to run from DRAM to <paramref name="to"/> (or from <paramref name="from"/> to DRAM).</summary>
        private VtaTransfer? Transfer(string name, string what, string? from, string? to)
        {
            var edge = graph.Edges.FirstOrDefault(e => e.Transfer == name);
            if (edge is null)
            {
                FindTransfer(name, what); // reports it
                return null;
            }

            where[name] = edge.Location;
            var fromNode = graph.FindNode(edge.From) as StorageNode;
            var toNode = graph.FindNode(edge.To) as StorageNode;
            var ok = true;
            if (to is not null)
            {
                // A load: off-chip → the buffer.
                if (fromNode is not { Offchip: true } || edge.To != to || toNode is null)
                {
                    diagnostics.Report(VtaDiagnostics.TransferEndpoints, edge.Location,
                        $"transfer '{name}' must move data from off-chip storage to '{to}' ({what}), but this edge goes {edge.From} -> {edge.To}");
                    ok = false;
                }
            }
            else if (fromNode is null || toNode is not { Offchip: true } || edge.From != from)
            {
                diagnostics.Report(VtaDiagnostics.TransferEndpoints, edge.Location,
                    $"transfer '{name}' must move data from an on-chip buffer to off-chip storage ({what}), but this edge goes {edge.From} -> {edge.To}");
                ok = false;
            }

            return ok ? new VtaTransfer(name, edge.BandwidthBytesPerCycle, edge.LatencyCycles) : null;
        }

        /// <summary>The ALU: element-wise capabilities (no reduction) that read inputs or an immediate and write the ACC buffer.</summary>
        private (double Interval, double Latency) FindAlu(GemmMatch gemm)
        {
            var alu = graph.Compute.SelectMany(n => n.Capabilities)
                .Where(c => !ReferenceEquals(c, gemm.Capability) &&
                            !c.Operands.IsEmpty &&
                            c.Output.Storage == gemm.Acc.Storage &&
                            !c.ReductionAxes.Any() &&
                            (c.Inputs.Any() || !c.Immediates.IsEmpty))
                .ToList();
            if (alu.Count == 0)
            {
                diagnostics.Report(VtaDiagnostics.AluForm, gemm.Node.Location,
                    $"no element-wise capability writes the accumulator buffer '{gemm.Acc.Storage}'; VTA's ALU (min, max, add, shr on ACC rows) must be described");
                return (0, 0);
            }

            where["alu"] = alu[0].Location;
            var lanes = gemm.Batch * gemm.BlockOut;
            foreach (var c in alu.Where(c => c.OperationsPerIssue != lanes))
            {
                diagnostics.Report(VtaDiagnostics.AluForm, c.Location,
                    $"ALU capability '{c.Name}' works on {c.OperationsPerIssue} lanes, but an accumulator row has {lanes} (BATCH x BLOCK_OUT)");
            }

            // One interval for every ALU op: the slowest, so the timing model never flatters the ALU.
            return (alu.Max(c => c.IntervalCycles), alu.Max(c => c.LatencyCycles));
        }

        /// <summary>The reset capability (<c>acc[i, j] = 0</c>) beside the GEMM, if the graph lists one.</summary>
        private static Capability? FindReset(GemmMatch gemm) =>
            gemm.Node.Capabilities.FirstOrDefault(c =>
                !c.Operands.IsEmpty &&
                c.Output.Storage == gemm.Acc.Storage &&
                !c.Inputs.Any() &&
                c.Immediates.IsEmpty &&
                c.Semantics is { Kind: AssignKind.Assign, Value: IntLiteralSyntax { Value: 0 } });
    }
}
