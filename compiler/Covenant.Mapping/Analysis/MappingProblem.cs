using System.Collections.Immutable;
using Covenant.Acg.Model;
using Covenant.Acg.Queries;
using Covenant.Codelets;
using Covenant.Codelets.Semantics;
using Covenant.Codelets.Syntax;
using Covenant.Mapping.Model;

namespace Covenant.Mapping.Analysis;

/// <summary>A capability of the form <c>out[..] += a[..] * b[..]</c>, with its axes classified.</summary>
public sealed record MacCapability(ComputeNode Node, Capability Capability, CapabilityOperand Out, CapabilityOperand A, CapabilityOperand B)
{
    /// <summary>Axes indexing out and a (rows), out and b (columns), and a and b (the reduction).</summary>
    public CapabilityAxis? AxisOf(LoopRole role) => Capability.Shape.FirstOrDefault(axis => RoleOf(axis.Name) == role);

    public LoopRole? RoleOf(string axis)
    {
        var (inOut, inA, inB) = (Out.Axes.Contains(axis), A.Axes.Contains(axis), B.Axes.Contains(axis));
        return (inOut, inA, inB) switch
        {
            (true, true, false) => LoopRole.Row,
            (true, false, true) => LoopRole.Column,
            (false, true, true) => LoopRole.Reduction,
            _ => null,
        };
    }

    /// <summary>Finds every multiply-accumulate capability of the graph.</summary>
    public static IEnumerable<MacCapability> All(ArchitectureGraph graph)
    {
        foreach (var node in graph.Compute)
        {
            foreach (var capability in node.Capabilities)
            {
                if (capability.Semantics is { Kind: AssignKind.Accumulate, Value: BinarySyntax { Op: BinaryOp.Multiply } product }
                    && product.Left is AccessSyntax left && product.Right is AccessSyntax right
                    && capability.FindOperand(capability.Semantics.Target.Tensor) is { } output
                    && capability.FindOperand(left.Tensor) is { } a
                    && capability.FindOperand(right.Tensor) is { } b
                    && capability.Shape.All(axis => new MacCapability(node, capability, output, a, b).RoleOf(axis.Name) is not null))
                {
                    yield return new MacCapability(node, capability, output, a, b);
                }
            }
        }
    }
}

/// <summary>
/// One way to run the accumulation on one capability: which codelet tensor plays which operand, the role of
/// every loop, and which loop (if any) is laid along each capability axis. The solver then picks tiles.
/// </summary>
public sealed record MappingProblem(
    CodeletInstance Instance,
    ArchitectureGraph Graph,
    AccumulationNest Nest,
    MacCapability Mac,
    string TensorA,
    string TensorB,
    ImmutableArray<LoopRole> Roles,
    ImmutableArray<AxisEmbedding> Embedding,
    ImmutableArray<int> Intrinsic,
    ImmutableArray<int> PaddedExtents)
{
    public ImmutableArray<LoopInstance> Loops => Nest.Nest.Loops;

    public string Accumulator => Instance.Tensors[Nest.Accumulator.Tensor].Name;

    /// <summary>
    /// What is added to each element of <see cref="TensorA"/> to bring it into the capability's operand type: zero
    /// when the types agree, else the operand's <see cref="CapabilityOperand.AcceptOffset"/> (the target corrects the
    /// sums exactly).
    /// </summary>
    public long OffsetA => Instance.Tensors[Instance.IndexOf(TensorA)].ElementType == Mac.A.Type ? 0 : Mac.A.AcceptOffset;

    public long OffsetB => Instance.Tensors[Instance.IndexOf(TensorB)].ElementType == Mac.B.Type ? 0 : Mac.B.AcceptOffset;

    /// <summary>Intrinsic blocks along loop <paramref name="loop"/>.</summary>
    public int Blocks(int loop) => PaddedExtents[loop] / Intrinsic[loop];

    public string? AxisOf(int loop) => Embedding.FirstOrDefault(e => e.Loop == Loops[loop].Name)?.Axis;

    /// <summary>The fraction of each issue doing useful work (padding and unused axes waste the rest).</summary>
    public double Efficiency
    {
        get
        {
            var useful = 1.0;
            for (var l = 0; l < Loops.Length; l++)
            {
                useful *= (double)Loops[l].Extent / PaddedExtents[l];
            }

            foreach (var axis in Embedding.Where(e => e.Loop is null))
            {
                useful /= axis.AxisExtent;
            }

            return useful;
        }
    }

    public string Describe() =>
        $"{Mac.Node.Name}.{Mac.Capability.Name} with {TensorA} as {Mac.A.Name}, {TensorB} as {Mac.B.Name}, " +
        string.Join(", ", Embedding.Select(e => $"{e.Axis}<-{e.Loop ?? "(unused)"}"));

    /// <summary>
    /// Every way to run the instance's accumulation on the graph's multiply-accumulate capabilities, or the
    /// reasons none works.
    /// </summary>
    public static (ImmutableArray<MappingProblem> Problems, ImmutableArray<string> Rejections) Enumerate(
        CodeletInstance instance, ArchitectureGraph graph, AccumulationNest nest)
    {
        var problems = ImmutableArray.CreateBuilder<MappingProblem>();
        var rejections = ImmutableArray.CreateBuilder<string>();
        var accumulator = instance.Tensors[nest.Accumulator.Tensor];
        var macs = MacCapability.All(graph).ToList();
        if (macs.Count == 0)
        {
            rejections.Add($"architecture '{graph.Name}' has no capability of the form 'out[..] += a[..] * b[..]'");
        }

        foreach (var mac in macs)
        {
            var where = $"capability '{mac.Capability.Name}' of '{mac.Node.Name}'";
            if (mac.Out.Type != accumulator.ElementType)
            {
                rejections.Add($"{where} accumulates {mac.Out.Type.Name()}, but '{accumulator.Name}' is {accumulator.ElementType.Name()}");
                continue;
            }

            foreach (var (a, b) in new[] { (nest.Left, nest.Right), (nest.Right, nest.Left) })
            {
                var tensorA = instance.Tensors[a.Tensor];
                var tensorB = instance.Tensors[b.Tensor];
                if (!mac.A.Takes(tensorA.ElementType) || !mac.B.Takes(tensorB.ElementType))
                {
                    rejections.Add($"{where} multiplies {mac.A.Type.Name()} by {mac.B.Type.Name()}, but " +
                        $"'{tensorA.Name}' is {tensorA.ElementType.Name()} and '{tensorB.Name}' is {tensorB.ElementType.Name()}");
                    continue;
                }

                var roles = ClassifyLoops(nest, a, b);
                foreach (var embedding in Embeddings(mac, nest, roles, a, b, instance, graph))
                {
                    problems.Add(Create(instance, graph, nest, mac, tensorA.Name, tensorB.Name, roles, embedding));
                }
            }
        }

        return (problems.ToImmutable(), rejections.Distinct().ToImmutableArray());
    }

    private static ImmutableArray<LoopRole> ClassifyLoops(AccumulationNest nest, AccessInstance a, AccessInstance b)
    {
        var roles = ImmutableArray.CreateBuilder<LoopRole>(nest.Nest.Loops.Length);
        for (var l = 0; l < nest.Nest.Loops.Length; l++)
        {
            var (inAcc, inA, inB) = (AccumulationNest.Uses(nest.Accumulator, l), AccumulationNest.Uses(a, l), AccumulationNest.Uses(b, l));
            roles.Add((inAcc, inA, inB) switch
            {
                (true, true, false) => LoopRole.Row,
                (true, false, true) => LoopRole.Column,
                (false, _, _) => LoopRole.Reduction,
                _ => LoopRole.Batch,
            });
        }

        return roles.MoveToImmutable();
    }

    // A loop can be laid along an axis when it has the axis's role and, in every operand that the axis
    // indexes, it appears in exactly one dimension with coefficient 1: then a block of consecutive loop values
    // is a block of consecutive elements, which packing turns into one storage row. Axes of extent 1 need no loop.
    private static IEnumerable<ImmutableArray<AxisEmbedding>> Embeddings(
        MacCapability mac, AccumulationNest nest, ImmutableArray<LoopRole> roles, AccessInstance a, AccessInstance b,
        CodeletInstance instance, ArchitectureGraph graph)
    {
        // A vector accumulator in a register file (one axis: VNNI's c[j]) leaves with one vector store, so the loop
        // along its lanes must walk the accumulator's innermost (contiguous) dimension. A matrix fragment (an mma's
        // d[i, j]) is spread over threads and stored element-wise, so it needs no such rule.
        var lanesStoreContiguously = graph.FindNode(mac.Out.Storage) is StorageNode { RegisterFile: true } && mac.Out.Axes.Length == 1;
        var choices = new List<List<AxisEmbedding>>();
        foreach (var axis in mac.Capability.Shape)
        {
            var role = mac.RoleOf(axis.Name)!.Value;
            var options = new List<AxisEmbedding>();
            if (axis.Extent > 1)
            {
                var operands = new List<AccessInstance>();
                if (mac.Out.Axes.Contains(axis.Name))
                {
                    operands.Add(nest.Accumulator);
                }

                if (mac.A.Axes.Contains(axis.Name))
                {
                    operands.Add(a);
                }

                if (mac.B.Axes.Contains(axis.Name))
                {
                    operands.Add(b);
                }

                for (var l = 0; l < roles.Length; l++)
                {
                    var padded = (nest.Nest.Loops[l].Extent + axis.Extent - 1) / axis.Extent * axis.Extent;
                    if (roles[l] == role && operands.All(o => Packable(o, l, padded))
                        && (!lanesStoreContiguously || !mac.Out.Axes.Contains(axis.Name) || nest.Accumulator.Indices[^1].Coefficients[l] == 1))
                    {
                        options.Add(new AxisEmbedding(axis.Name, axis.Extent, nest.Nest.Loops[l].Name));
                    }
                }
            }

            // An axis may always go unused (a vector of one useful lane): slow, but valid.
            if (options.Count == 0)
            {
                options.Add(new AxisEmbedding(axis.Name, axis.Extent, null));
            }

            choices.Add(options);
        }

        IEnumerable<ImmutableArray<AxisEmbedding>> Combine(int index, ImmutableArray<AxisEmbedding> chosen)
        {
            if (index == choices.Count)
            {
                yield return chosen;
                yield break;
            }

            foreach (var option in choices[index])
            {
                if (option.Loop is null || !chosen.Any(c => c.Loop == option.Loop))
                {
                    foreach (var result in Combine(index + 1, chosen.Add(option)))
                    {
                        yield return result;
                    }
                }
            }
        }

        _ = instance;
        return Combine(0, []);
    }

    // The loop must appear in exactly one dimension, with coefficient 1, and everything else in that dimension
    // must move in whole multiples of the loop's padded extent (g*CG + c with CG a multiple of the block):
    // then the dimension splits cleanly into (outer, loop) and blocks of the loop are aligned storage rows. A
    // sliding window such as p + r would need a block at every offset, which no static layout provides.
    private static bool Packable(AccessInstance access, int loop, int paddedExtent)
    {
        var dims = access.Indices.Where(index => index.Coefficients[loop] != 0).ToList();
        if (dims.Count != 1 || dims[0].Coefficients[loop] != 1)
        {
            return false;
        }

        var dim = dims[0];
        return dim.Constant % paddedExtent == 0
            && dim.Coefficients.Select((c, l) => (c, l)).All(p => p.l == loop || p.c % paddedExtent == 0);
    }

    private static MappingProblem Create(
        CodeletInstance instance, ArchitectureGraph graph, AccumulationNest nest, MacCapability mac,
        string tensorA, string tensorB, ImmutableArray<LoopRole> roles, ImmutableArray<AxisEmbedding> embedding)
    {
        var loops = nest.Nest.Loops;
        var intrinsic = ImmutableArray.CreateBuilder<int>(loops.Length);
        var padded = ImmutableArray.CreateBuilder<int>(loops.Length);
        foreach (var loop in loops)
        {
            var axis = embedding.FirstOrDefault(e => e.Loop == loop.Name);
            var block = axis?.AxisExtent ?? 1;
            intrinsic.Add(block);
            padded.Add((loop.Extent + block - 1) / block * block);
        }

        return new MappingProblem(instance, graph, nest, mac, tensorA, tensorB, roles, embedding,
            intrinsic.MoveToImmutable(), padded.MoveToImmutable());
    }

    /// <summary>The storage levels of an operand, outermost first (from the graph's edges).</summary>
    public ImmutableArray<string> LevelsOf(CapabilityOperand operand) =>
        new AcgQueries(Graph).StorageLevels(Mac.Node.Name, Mac.Capability.Name, operand.Name).Levels;
}
