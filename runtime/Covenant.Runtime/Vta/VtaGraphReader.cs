using System.Collections.Immutable;
using System.Numerics;
using Covenant.Acg;
using Covenant.Acg.Model;
using Covenant.Codelets;
using Covenant.Codelets.Syntax;
using Covenant.Core.Diagnostics;
using static Covenant.Runtime.Vta.VtaConfig;

namespace Covenant.Runtime.Vta;

/// <summary>
/// Reads a <see cref="VtaConfig"/> from an architecture graph (<see cref="VtaConfig.FromGraph"/>): finds the GEMM
/// capability in VTA form, the buffers, transfers, ALU and costs; collects every problem rather than stopping at the first.
/// </summary>
internal sealed class VtaGraphReader(ArchitectureGraph graph)
{
    private readonly DiagnosticBag diagnostics = new();
    private readonly Dictionary<string, SourceLocation> where = new(StringComparer.Ordinal);

    public Result<VtaConfig> Read()
    {
        if (graph.Target != VtaArtifactExecutor.TargetName)
        {
            diagnostics.Report(VtaDiagnostics.NotVtaTarget, graph.Location,
                $"architecture '{graph.Name}' has target '{graph.Target}'; the VTA target pass needs 'target: {VtaArtifactExecutor.TargetName}'");
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
}
