using System.Globalization;
using Covenant.Acg.Model;
using Covenant.Codelets;
using Covenant.Codelets.Syntax;
using Covenant.Core.Diagnostics;

namespace Covenant.Runtime.Vnni;

/// <summary>
/// What the VNNI target reads from an architecture graph: the vpdpbusd capability's lane count (16 for zmm,
/// 8 for ymm), the register file it works in, the L1 and L2 capacities (per core), the core count, the clock
/// and the dot product's issue interval. Every number comes from the YAML, so a variant is a new file.
/// </summary>
/// <param name="Lanes">int32 lanes per vector register (the capability's column axis).</param>
/// <param name="Registers">Vector registers (register-file capacity / line size).</param>
/// <param name="DotInterval">Cycles between independent vpdpbusd issues on one core (0.5 = two per cycle).</param>
/// <param name="DotLatency">Cycles from a vpdpbusd to its result.</param>
public sealed record VnniIsa(
    string Architecture,
    string Capability,
    string ComputeNode,
    int Lanes,
    int Registers,
    string RegisterFile,
    long L1Bytes,
    long L2Bytes,
    int Cores,
    double? ClockHz,
    double DotInterval,
    double DotLatency)
{
    /// <summary>Bytes of one vector register.</summary>
    public int VectorBytes => Lanes * 4;

    /// <summary>Multiply-accumulates one vpdpbusd performs (lanes x 4).</summary>
    public int MacsPerDot => Lanes * 4;

    /// <summary>Peak integer operations per second (2 per multiply-accumulate) of all cores, when the clock is known.</summary>
    public double? PeakOpsPerSecond => ClockHz is { } hz ? 2.0 * MacsPerDot / DotInterval * hz * Cores : null;

    /// <summary>The C vector type of this width.</summary>
    public string VectorType => Lanes == 16 ? "__m512i" : "__m256i";

    /// <summary>gcc flags for this ISA: AVX-512 with VNNI; the ymm form also needs AVX512VL (the EVEX encoding).</summary>
    public string CompilerFlags => Lanes == 16
        ? "-march=x86-64-v4 -mavx512vnni -mprefer-vector-width=512"
        : "-march=x86-64-v4 -mavx512vnni -mprefer-vector-width=256";

    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"{Architecture}: {Capability} x{Lanes} lanes, {Registers} registers, L1 {L1Bytes / 1024} KiB, L2 {L2Bytes / 1024} KiB, {Cores} cores");

    /// <summary>Reads the ISA from a graph whose <c>target:</c> is <c>vnni</c>.</summary>
    public static Result<VnniIsa> FromGraph(ArchitectureGraph graph)
    {
        ArgumentNullException.ThrowIfNull(graph);
        var location = graph.Location;
        if (graph.Target != VnniArtifactExecutor.TargetName)
        {
            return Fail(VnniIsaDiagnostics.NotVnniTarget, $"architecture '{graph.Name}' has target '{graph.Target}', not 'vnni'");
        }

        // c[j] += a[k] * b[j, k]: a broadcast u8 operand, a signed i8 operand, an i32 accumulator, k = 4.
        foreach (var node in graph.Compute)
        {
            foreach (var capability in node.Capabilities)
            {
                if (capability.Semantics is not { Kind: AssignKind.Accumulate, Value: BinarySyntax { Op: BinaryOp.Multiply } product }
                    || product.Left is not AccessSyntax left || product.Right is not AccessSyntax right)
                {
                    continue;
                }

                var output = capability.FindOperand(capability.Semantics.Target.Tensor);
                var a = capability.FindOperand(left.Tensor);
                var b = capability.FindOperand(right.Tensor);
                if (output is null || a is null || b is null)
                {
                    continue;
                }

                if (a.Type != ElementType.U8 || b.Type != ElementType.I8 || output.Type != ElementType.I32)
                {
                    continue;
                }

                var reduction = capability.Shape.Where(axis => !output.Axes.Contains(axis.Name)).ToList();
                var lanes = capability.Shape.Where(axis => output.Axes.Contains(axis.Name)).ToList();
                if (reduction.Count != 1 || reduction[0].Extent != 4 || lanes.Count != 1 || a.Axes.Contains(lanes[0].Name))
                {
                    continue;
                }

                var width = lanes[0].Extent;
                if (width is not (16 or 8))
                {
                    return Fail(VnniIsaDiagnostics.UnsupportedWidth,
                        $"capability '{capability.Name}' has {width} lanes; the VNNI target emits 16 (zmm) or 8 (ymm)");
                }

                if (graph.FindNode(output.Storage) is not StorageNode registers || registers.LineBytes is not { } line || line <= 0)
                {
                    return Fail(VnniIsaDiagnostics.MissingStorage,
                        $"the register file '{output.Storage}' of '{capability.Name}' is not a storage node with a line size");
                }

                var (l1, l2) = CacheLevels(graph, registers.Name);
                if (l1 is null || l2 is null)
                {
                    return Fail(VnniIsaDiagnostics.MissingStorage,
                        $"architecture '{graph.Name}' needs two cache levels feeding '{registers.Name}' (L1 and L2) for the kernel's tiling");
                }

                return Result<VnniIsa>.Success(new VnniIsa(
                    graph.Name, capability.Name, node.Name, width, (int)(registers.CapacityBytes / line), registers.Name,
                    l1.CapacityBytes, l2.CapacityBytes, Math.Max(1, node.Count), graph.ClockHz,
                    capability.IntervalCycles > 0 ? capability.IntervalCycles : 1, capability.LatencyCycles));
            }
        }

        return Fail(VnniIsaDiagnostics.NoDotProduct,
            $"architecture '{graph.Name}' has no capability 'c[j] += a[k] * b[j, k]' with a: u8, b: i8, c: i32 and k: 4 (vpdpbusd)");

        Result<VnniIsa> Fail(Covenant.Core.Diagnostics.DiagnosticDescriptor descriptor, string message) =>
            Result<VnniIsa>.Failure(descriptor.Create(location, message));
    }

    // The storage that feeds the register file (L1), and the one that feeds L1 (L2), following the edges back.
    private static (StorageNode? L1, StorageNode? L2) CacheLevels(ArchitectureGraph graph, string registers)
    {
        StorageNode? Feeder(string node) => graph.Edges
            .Where(e => e.To == node && e.From != node)
            .Select(e => graph.FindNode(e.From))
            .OfType<StorageNode>()
            .FirstOrDefault(s => !s.Offchip);

        var l1 = Feeder(registers);
        var l2 = l1 is null ? null : Feeder(l1.Name);
        return (l1, l2);
    }
}
