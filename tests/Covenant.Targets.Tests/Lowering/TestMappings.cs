using System.Collections.Immutable;
using Covenant.Acg.Model;
using Covenant.Codelets.Semantics;
using Covenant.Codelets.Syntax;
using Covenant.Mapping.Model;
using Covenant.Runtime.Artifacts;
using Covenant.Runtime.Vta;
using Covenant.Targets.Vta;
using Covenant.Targets.Vta.Lowering;
using Covenant.Testing;

namespace Covenant.Targets.Tests.Lowering;

/// <summary>What a test wants of a hand-built mapping; everything else is derived like the mapper would.</summary>
internal sealed record MappingSpec
{
    /// <summary>The loop laid along the GEMM's j axis (BLOCK_OUT: ACC lanes, weight rows), or null for unused.</summary>
    public string? J { get; init; }

    /// <summary>The loop laid along the reduction axis k (BLOCK_IN), or null for unused.</summary>
    public string? K { get; init; }

    /// <summary>Iterations per tile, by loop; loops not listed are not tiled (one tile over the padded extent).</summary>
    public IReadOnlyDictionary<string, int> Tiles { get; init; } = ImmutableDictionary<string, int>.Empty;

    /// <summary>Tile loop order, outermost first; default: non-reduction loops in nest order, then reductions.</summary>
    public IReadOnlyList<string>? TileOrder { get; init; }

    public bool DoubleBuffered { get; init; } = true;

    /// <summary>The tensor that feeds VTA's input rows; default: the product factor the j loop does not index.</summary>
    public string? Inp { get; init; }

    public IReadOnlyList<(EpilogueOp Op, long? Immediate, string? Tensor)> Epilogue { get; init; } = [];
}

/// <summary>
/// Builds <see cref="LayerMapping"/>s by hand (the mapper is written elsewhere): roles from which tensors each loop
/// indexes, padding to the axis extents, tiles as given. Codelets and graphs come from <see cref="Shipped"/>.
/// </summary>
internal static class TestMappings
{
    public const string Vta16 = "vta.yaml";
    public const string Vta32 = "vta-1x32x32.yaml";

    public static ArchitectureGraph Graph(string file) => Shipped.Architecture(file);

    public static VtaConfig Config(string file)
    {
        var result = VtaConfig.FromGraph(Graph(file));
        Assert.That(result.Succeeded, Is.True, () => string.Join("\n", result.Diagnostics));
        return result.Value!;
    }

    public static CodeletInstance Instance(string codelet, string bindings) => Shipped.Instance(codelet, bindings);

    public static LayerMapping Build(CodeletInstance instance, string arch, MappingSpec spec)
    {
        var graph = Graph(arch);
        var nestIndex = instance.Nests.ToList().FindIndex(n => n.Statements is [{ Kind: AssignKind.Accumulate }]);
        var nest = instance.Nests[nestIndex];
        var statement = nest.Statements[0];
        var product = (BinaryValue)Unwrap(statement.Value);
        var factors = new[] { (LoadValue)Unwrap(product.Left), (LoadValue)Unwrap(product.Right) };
        var acc = instance.Tensors[statement.Target.Tensor];
        int Loop(string? name) => name is null ? -1 : nest.Loops.ToList().FindIndex(l => l.Name == name);
        bool Indexes(AccessInstance access, int loop) => loop >= 0 && access.Indices.Any(i => i.Coefficients[loop] != 0);

        var j = Loop(spec.J);
        LoadValue inpLoad, wgtLoad;
        if (spec.Inp is { } inpName)
        {
            inpLoad = factors.First(f => instance.Tensors[f.Access.Tensor].Name == inpName);
        }
        else if (j >= 0)
        {
            inpLoad = factors.First(f => !Indexes(f.Access, j));
        }
        else
        {
            inpLoad = factors.OrderByDescending(f => f.Access.Indices.Length).First();
        }

        wgtLoad = factors.First(f => f != inpLoad);

        var gemmNode = graph.Compute.First(n => n.FindCapability("gemm") is not null);
        var capability = gemmNode.FindCapability("gemm")!;
        var output = capability.Output;
        var (iAxis, jAxis, kAxis) = (output.Axes[0], output.Axes[1], capability.ReductionAxes.First().Name);
        var inpOperand = capability.Inputs.First(o => o.Axes.Contains(iAxis) && o != output);
        var wgtOperand = capability.Inputs.First(o => o.Axes.Contains(jAxis) && o != output);
        int Extent(string axis) => capability.FindAxis(axis)!.Extent;

        var loops = ImmutableArray.CreateBuilder<LoopMapping>();
        for (var l = 0; l < nest.Loops.Length; l++)
        {
            var loop = nest.Loops[l];
            var inAcc = Indexes(statement.Target, l);
            var inA = Indexes(inpLoad.Access, l);
            var inB = Indexes(wgtLoad.Access, l);
            var role = (inAcc, inA, inB) switch
            {
                (true, true, false) => LoopRole.Row,
                (true, false, true) => LoopRole.Column,
                (false, true, true) => LoopRole.Reduction,
                _ => LoopRole.Batch,
            };
            var axis = loop.Name == spec.J ? jAxis : loop.Name == spec.K ? kAxis : null;
            var intrinsic = axis is null ? 1 : Extent(axis);
            var padded = RoundUp(loop.Extent, intrinsic);
            var tile = spec.Tiles.TryGetValue(loop.Name, out var t) ? Math.Min(RoundUp(t, intrinsic), padded) : padded;
            loops.Add(new LoopMapping(loop.Name, role, loop.Extent, padded, axis, intrinsic, tile));
        }

        var order = spec.TileOrder?.ToImmutableArray()
            ?? [.. loops.Where(l => l.Role != LoopRole.Reduction).Concat(loops.Where(l => l.Role == LoopRole.Reduction)).Select(l => l.Loop)];
        var operands = ImmutableArray.Create(
            new OperandBinding(instance.Tensors[inpLoad.Access.Tensor].Name, inpOperand.Name, inpOperand.Storage),
            new OperandBinding(instance.Tensors[wgtLoad.Access.Tensor].Name, wgtOperand.Name, wgtOperand.Storage),
            new OperandBinding(acc.Name, output.Name, output.Storage));
        var alu = graph.Compute.First(n => n.FindCapability("add") is not null);
        var epilogue = spec.Epilogue.Select(e => new EpilogueStep(e.Op, e.Immediate, e.Tensor, alu.Name, e.Op switch
        {
            EpilogueOp.Add => e.Tensor is null ? "add_imm" : "add",
            EpilogueOp.Max => e.Tensor is null ? "max_imm" : "max",
            EpilogueOp.Min => e.Tensor is null ? "min_imm" : "min",
            _ => e.Tensor is null ? "shr_imm" : "shr",
        })).ToImmutableArray();
        return new LayerMapping(
            instance,
            graph,
            nestIndex,
            gemmNode.Name,
            capability.Name,
            acc.Name,
            instance.Outputs.First().Name,
            operands,
            [new AxisEmbedding(iAxis, Extent(iAxis), null), new AxisEmbedding(jAxis, Extent(jAxis), spec.J), new AxisEmbedding(kAxis, Extent(kAxis), spec.K)],
            loops.ToImmutable(),
            order,
            spec.DoubleBuffered ? [inpOperand.Storage, wgtOperand.Storage, output.Storage] : [],
            epilogue,
            new CostEstimate(0, 0, ImmutableDictionary<string, long>.Empty, ImmutableDictionary<string, double>.Empty, ImmutableDictionary<string, long>.Empty));
    }

    public static VtaProgram Lower(LayerMapping mapping, string arch, VtaLoweringOptions? options = null)
    {
        var result = VtaLowering.Lower(mapping, Config(arch), options);
        Assert.That(result.Succeeded, Is.True, () => string.Join("\n", result.Diagnostics));
        return result.Value!;
    }

    /// <summary>Lowers, runs on the simulator with seeded inputs and asserts a bit-exact match with no simulator issue.</summary>
    public static VtaRunReport RunExact(string codelet, string bindings, string arch, MappingSpec spec, ulong seed = 7, VtaLoweringOptions? options = null)
    {
        var instance = Instance(codelet, bindings);
        var program = Lower(Build(instance, arch, spec), arch, options);
        var report = VtaRunner.Run(program, instance, seed);
        Assert.That(report.Match, Is.True, () => $"{report}\n{Head(program.Listing)}");
        Assert.That(report.Issues, Is.Empty, () => report.ToString());
        return report;
    }

    public static string Head(string listing, int lines = 80) => string.Join("\n", listing.Split('\n').Take(lines));

    private static ValueExpr Unwrap(ValueExpr value) => value is CastValue c ? Unwrap(c.Operand) : value;

    private static int RoundUp(int value, int multiple) => (value + multiple - 1) / multiple * multiple;
}
