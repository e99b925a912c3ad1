using System.Collections.Immutable;
using System.Globalization;
using System.Text;
using Covenant.Acg.Model;
using Covenant.Codelets;
using Covenant.Codelets.Semantics;
using Covenant.Codelets.Syntax;
using Covenant.Core.Diagnostics;
using Covenant.Mapping.Model;
using Covenant.Runtime.Vta;

namespace Covenant.Targets.Vta.Lowering;


/// <summary>
/// Lowers a <see cref="LayerMapping"/> of a codelet onto VTA's GEMM to a real VTA instruction stream (vta-isa.md), generic
/// over the codelet: every address derives from the instance's affine indices and the mapping's axis embedding and
/// tiles; there is no per-operator code.
/// <para>
/// <b>Data layout.</b> Each tensor is packed in DRAM as VTA loads it natively: the loop on GEMM axis k fills the lanes
/// of INP rows, the loops on j and k the [out][in] weight blocks, the loop on j the lanes of ACC/OUT rows; the other
/// index parts are row levels, ordered so a tile is a few 2-D strided transfers (<see cref="TensorModels.Build"/>).
/// Extents that are not a multiple of the axis extent are padded with zeros in the layout.
/// </para>
/// <para>
/// <b>Schedule.</b> Tiles are visited in <see cref="LayerMapping.TileOrder"/> (reductions innermost, so an ACC tile
/// completes on chip). A step (one combination of tile indices) loads the INP and WGT tiles it needs unless they are
/// resident (into the other half when double-buffered), resets the ACC tile on its first reduction step, runs GEMMs
/// whose micro-op kernels and hardware loops <see cref="LoopPlanner"/> chooses, and on the last reduction step
/// applies the epilogue on the ALU and stores (an int32 result as four byte planes, shifting by 8 between stores).
/// Dependency tokens follow from which groups of instructions wait for which (<see cref="StreamBuilder"/>).
/// </para>
/// </summary>
public static class VtaLowering
{
    public static Result<VtaProgram> Lower(LayerMapping mapping, VtaConfig config, VtaLoweringOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(mapping);
        ArgumentNullException.ThrowIfNull(config);
        try
        {
            return Result<VtaProgram>.Success(new Lowerer(mapping, config, options ?? VtaLoweringOptions.Default).Run());
        }
        catch (LoweringException e)
        {
            return Result<VtaProgram>.Failure(e.Descriptor.Create(null, e.Message));
        }
        catch (InvalidOperationException e)
        {
            return Result<VtaProgram>.Failure(VtaLoweringDiagnostics.InternalError.Create(null, e.Message));
        }
    }
}

/// <summary>One combination of tile indices, in var units per loop.</summary>
internal sealed class Step
{
    public required int Index { get; init; }

    public required int[] Lo { get; init; }

    public required int[] Units { get; init; }

    public required int AccTile { get; init; }

    public required bool FirstOfAccTile { get; init; }

    public required bool LastOfAccTile { get; init; }

    public required int ReductionStep { get; init; }

    public required int ReductionSteps { get; init; }
}

/// <summary>A region of an on-chip buffer that holds one tile at a time.</summary>
internal sealed class Slot(int baseRow, int rows)
{
    public int Base { get; } = baseRow;

    public int Rows { get; } = rows;

    public string? Key { get; set; }

    public int LastUse { get; set; } = -1;

    public Group? Loader { get; set; }

    public Group? LastStore { get; set; }
}

/// <summary>An element-wise step on ACC rows before the store.</summary>
internal sealed record AluStep(VtaAluOpcode Op, int? Immediate, int Operand, string Text);

/// <summary>
/// A byte plane of an int32 result not yet stored: shift the tile right by 8 in place, then store it.
/// <see cref="PreviousStore"/> is the store of plane 0 (later planes wait for the slot's latest store).
/// </summary>
internal sealed record PlaneTask(int AccTile, int Plane, Slot Slot, Step Step, Group PreviousStore);

internal sealed class Lowerer
{
    /// <summary>The largest iter_out / iter_in (14-bit fields).</summary>
    private const int MaxIter = (1 << VtaLayout.IterBits) - 1;

    private readonly LayerMapping mapping;
    private readonly VtaConfig cfg;
    private readonly VtaLoweringOptions options;
    private readonly CodeletInstance instance;
    private readonly LoopNestInstance nest;
    private readonly List<LoopVar> loops = [];

    private TensorInstance inpTensor = null!;
    private TensorInstance wgtTensor = null!;
    private TensorInstance accTensor = null!;
    private TensorInstance outTensor = null!;
    private TensorModel inp = null!;
    private TensorModel wgt = null!;
    private TensorModel acc = null!;
    private readonly List<(TensorInstance Tensor, TensorModel Model, int[] CoordOfAcc)> operands = [];
    private readonly List<AluStep> epilogue = [];
    private int planes;

    private readonly List<Step> steps = [];
    private bool[] inpDeps = [];
    private bool[] wgtDeps = [];
    private bool[] accDeps = [];

    private Slot[] inpSlots = [];
    private Slot[] wgtSlots = [];
    private Slot[] accSlots = [];
    private readonly List<Slot> operandSlots = [];
    private int scratch0;

    private readonly Dictionary<string, VtaDramRegion> regions = new(StringComparer.Ordinal);
    private readonly List<VtaDramRegion> regionOrder = [];
    private long alignment;
    private long imageEnd;

    private readonly StreamBuilder stream = new();
    private readonly KernelTable kernels = new();
    private UopCache uopCache = null!;
    private HazardGuard guard = null!;
    private Transfers transfers = null!;
    private LoopPlanner gemmPlanner = null!;
    private LoopPlanner aluPlanner = null!;
    private readonly Dictionary<string, bool> holes = new(StringComparer.Ordinal);
    private readonly List<string> notes = [];

    private Group?[] computeOfStep = [];
    private readonly Dictionary<int, (Slot Inp, Slot Wgt)> stepSlots = [];
    private readonly Queue<PlaneTask> deferred = new();
    private int gemmInstructions;
    private int aluInstructions;
    private int uopLoads;
    private long gemmUops;

    public Lowerer(LayerMapping mapping, VtaConfig config, VtaLoweringOptions options)
    {
        this.mapping = mapping;
        cfg = config;
        this.options = options;
        instance = mapping.Instance;
        if (mapping.NestIndex < 0 || mapping.NestIndex >= instance.Nests.Length)
        {
            throw Invalid($"nest {mapping.NestIndex} does not exist in '{instance.Name}'");
        }

        nest = instance.Nests[mapping.NestIndex];
    }

    public VtaProgram Run()
    {
        if (cfg.Batch != 1)
        {
            throw new LoweringException(VtaLoweringDiagnostics.UnsupportedConfig,
                $"the VTA lowering supports BATCH = 1; '{cfg.Name}' has BATCH = {cfg.Batch}");
        }

        var configErrors = cfg.Validate().Where(d => d.IsError).ToList();
        if (configErrors.Count > 0)
        {
            throw new LoweringException(VtaLoweringDiagnostics.UnsupportedConfig, string.Join("; ", configErrors.Select(e => e.Message)));
        }

        Analyze();
        EnumerateSteps();
        PartitionBuffers();
        AllocateTensors();
        Generate();
        return Finish();
    }

    // ------------------------------------------------------------------ analysis

    private void Analyze()
    {
        if (nest.Statements.Length != 1 || nest.Statements[0] is not { Kind: AssignKind.Accumulate } statement)
        {
            throw new LoweringException(VtaLoweringDiagnostics.UnsupportedNest,
                $"nest {mapping.NestIndex} of '{instance.Name}' must be one accumulation 'acc[..] += a[..] * b[..]'");
        }

        if (Unwrap(statement.Value) is not BinaryValue { Op: BinaryOp.Multiply } product
            || Unwrap(product.Left) is not LoadValue left || Unwrap(product.Right) is not LoadValue right)
        {
            throw new LoweringException(VtaLoweringDiagnostics.UnsupportedNest,
                $"the accumulation of '{instance.Name}' must add a product of two tensor elements, as VTA's GEMM does");
        }

        accTensor = instance.Tensors[statement.Target.Tensor];
        if (accTensor.Name != mapping.Accumulator)
        {
            throw Invalid($"the mapping's accumulator is '{mapping.Accumulator}', but the nest accumulates into '{accTensor.Name}'");
        }

        if (accTensor.ElementType != ElementType.I32)
        {
            throw new LoweringException(VtaLoweringDiagnostics.UnsupportedType,
                $"the accumulator '{accTensor.Name}' is {accTensor.ElementType.Name()}; VTA accumulates in i32");
        }

        // Which capability operand is VTA's INP and which its WGT: INP shares the row axis with the accumulator.
        var node = mapping.Graph.FindNode(mapping.ComputeNode) as ComputeNode
            ?? throw Invalid($"the architecture has no compute node '{mapping.ComputeNode}'");
        var capability = node.FindCapability(mapping.Capability)
            ?? throw Invalid($"compute node '{mapping.ComputeNode}' has no capability '{mapping.Capability}'");
        var output = capability.Output;
        if (output.Axes.Length != 2 || capability.Inputs.Count(o => o != output) != 2 || !capability.ReductionAxes.Any())
        {
            throw Invalid($"capability '{capability.Name}' is not a GEMM of the form acc[i, j] += inp[i, k] * wgt[j, k]");
        }

        var (iAxis, jAxis, kAxis) = (output.Axes[0], output.Axes[1], capability.ReductionAxes.First().Name);
        var inpOperand = capability.Inputs.FirstOrDefault(o => o.Axes.Contains(iAxis) && o != output)
            ?? throw Invalid($"capability '{capability.Name}' has no input indexed by axis {iAxis}");
        var wgtOperand = capability.Inputs.FirstOrDefault(o => o.Axes.Contains(jAxis) && o != output)
            ?? throw Invalid($"capability '{capability.Name}' has no input indexed by axis {jAxis}");
        string TensorOf(string operand) =>
            mapping.Operands.FirstOrDefault(o => o.Operand == operand)?.Tensor ?? throw Invalid($"no tensor is bound to operand '{operand}'");
        var inpName = TensorOf(inpOperand.Name);
        var wgtName = TensorOf(wgtOperand.Name);
        var loadsByName = new[] { left, right }.ToDictionary(l => instance.Tensors[l.Access.Tensor].Name, l => l.Access, StringComparer.Ordinal);
        if (!loadsByName.TryGetValue(inpName, out var inpAccess) || !loadsByName.TryGetValue(wgtName, out var wgtAccess) || inpName == wgtName)
        {
            throw Invalid($"the operands '{inpName}' (input rows) and '{wgtName}' (weights) are not the two factors of the product in '{instance.Name}'");
        }

        inpTensor = instance.Tensors[inpAccess.Tensor];
        wgtTensor = instance.Tensors[wgtAccess.Tensor];
        foreach (var t in new[] { inpTensor, wgtTensor })
        {
            if (t.ElementType is not (ElementType.I8 or ElementType.U8) || t.Role != TensorRole.Input)
            {
                throw new LoweringException(VtaLoweringDiagnostics.UnsupportedType,
                    $"'{t.Name}' is a {t.Role.ToString().ToLowerInvariant()} of type {t.ElementType.Name()}; VTA's GEMM reads 8-bit inputs loaded from DRAM");
            }

            if (t.ElementType == ElementType.U8)
            {
                throw new LoweringException(VtaLoweringDiagnostics.UnsupportedType,
                    $"'{t.Name}' is u8; VTA's GEMM multiplies signed int8 values");
            }
        }

        // Loops, and the axis each feeds.
        string? LoopOn(string axis) => mapping.Embedding.FirstOrDefault(e => e.Axis == axis)?.Loop;
        var jLoop = LoopOn(jAxis);
        var kLoop = LoopOn(kAxis);
        var iLoop = LoopOn(iAxis);
        foreach (var (axis, extent, name) in new[] { (jAxis, cfg.BlockOut, "BLOCK_OUT"), (kAxis, cfg.BlockIn, "BLOCK_IN"), (iAxis, cfg.Batch, "BATCH") })
        {
            if (mapping.Embedding.FirstOrDefault(e => e.Axis == axis) is { } e && e.AxisExtent != extent)
            {
                throw Invalid($"axis {axis} has extent {e.AxisExtent} in the mapping, but {extent} ({name}) in '{cfg.Name}'");
            }
        }

        for (var l = 0; l < nest.Loops.Length; l++)
        {
            var loop = nest.Loops[l];
            var map = mapping.Loops.FirstOrDefault(m => m.Loop == loop.Name) ?? throw Invalid($"loop '{loop.Name}' has no mapping");
            var (lane, block) = loop.Name == jLoop ? (LaneAxis.J, cfg.BlockOut) : loop.Name == kLoop ? (LaneAxis.K, cfg.BlockIn) : (LaneAxis.None, 1);
            if (loop.Name == iLoop && cfg.Batch != 1)
            {
                throw new LoweringException(VtaLoweringDiagnostics.UnsupportedConfig, "a loop on the batch axis needs BATCH = 1");
            }

            if (map.Extent != loop.Extent || map.Tile <= 0 || map.PaddedExtent < map.Extent || map.PaddedExtent % block != 0 || map.Tile % block != 0)
            {
                throw Invalid($"loop '{loop.Name}' (extent {loop.Extent}) is mapped with extent {map.Extent}, padded extent {map.PaddedExtent}, tile {map.Tile}; on this axis the padded extent and the tile must be positive multiples of {block}");
            }

            loops.Add(new LoopVar(l, map, lane, block));
        }

        var jIndex = loops.FindIndex(v => v.Lane == LaneAxis.J);
        var kIndex = loops.FindIndex(v => v.Lane == LaneAxis.K);
        var inpLanes = new List<(LaneAxis, int, int)> { (LaneAxis.K, kIndex, cfg.BlockIn) };
        var wgtLanes = new List<(LaneAxis, int, int)> { (LaneAxis.J, jIndex, cfg.BlockOut), (LaneAxis.K, kIndex, cfg.BlockIn) };
        var accLanes = new List<(LaneAxis, int, int)> { (LaneAxis.J, jIndex, cfg.BlockOut) };
        if (kIndex >= 0 && statement.Target.Indices.Any(i => i.Coefficients[kIndex] != 0))
        {
            throw Invalid($"loop '{loops[kIndex].Name}' on the reduction axis indexes the accumulator '{accTensor.Name}'");
        }

        inp = TensorModels.Build(inpTensor, TensorModels.Parts(inpTensor, inpAccess.Indices, loops, inpLanes), loops, inpLanes, inpTensor.Padded);
        wgt = TensorModels.Build(wgtTensor, TensorModels.Parts(wgtTensor, wgtAccess.Indices, loops, wgtLanes), loops, wgtLanes, wgtTensor.Padded);
        acc = TensorModels.Build(accTensor, TensorModels.Parts(accTensor, statement.Target.Indices, loops, accLanes), loops, accLanes, accTensor.Cropped);
        CheckScatter();

        // The stored tensor: the accumulator itself, or the output of the element-wise epilogue nest.
        var outIndex = instance.Tensors.IndexOf(instance.Tensors.FirstOrDefault(t => t.Name == mapping.Output) ?? throw Invalid($"no tensor '{mapping.Output}'"));
        outTensor = instance.Tensors[outIndex];
        if (outTensor.Role != TensorRole.Output)
        {
            throw Invalid($"'{outTensor.Name}' is not an output of '{instance.Name}'");
        }

        if (!outTensor.Shape.SequenceEqual(accTensor.Shape))
        {
            throw new LoweringException(VtaLoweringDiagnostics.UnsupportedEpilogue,
                $"the output '{outTensor.Name}' [{string.Join(", ", outTensor.Shape)}] must have the accumulator's shape [{string.Join(", ", accTensor.Shape)}]: the epilogue is element-wise");
        }

        planes = outTensor.ElementType switch
        {
            ElementType.I8 or ElementType.U8 => 1,
            ElementType.I32 => 4,
            _ => throw new LoweringException(VtaLoweringDiagnostics.UnsupportedType,
                $"the output '{outTensor.Name}' is {outTensor.ElementType.Name()}; VTA stores 8-bit rows (an i32 result as four byte planes)"),
        };
        if (instance.Outputs.Count() != 1)
        {
            throw new LoweringException(VtaLoweringDiagnostics.UnsupportedNest, $"'{instance.Name}' has {instance.Outputs.Count()} outputs; the VTA lowering stores one");
        }

        AnalyzeEpilogue(outIndex);
    }

    /// <summary>
    /// An accumulator dimension indexed by several loops (a transposed convolution's ih*stride + r) can receive
    /// several iterations' products in one element; they must all land in one ACC tile, as partial sums cannot leave
    /// the chip (STORE writes 8 bits).
    /// </summary>
    private void CheckScatter()
    {
        foreach (var c in acc.Coords)
        {
            var used = Enumerable.Range(0, loops.Count).Where(l => c.Coef[l] != 0).ToList();
            if (used.Count < 2)
            {
                continue;
            }

            var split = used.Where(l => loops[l].TileCount > 1).ToList();
            if (split.Count > 0)
            {
                throw new LoweringException(VtaLoweringDiagnostics.ScatterAcrossTiles,
                    $"accumulator coordinate {c.Name} of '{accTensor.Name}' combines loops {string.Join(", ", used.Select(l => $"'{loops[l].Name}'"))}, so one element can receive products from several of their iterations; " +
                    $"VTA cannot carry partial sums between tiles (STORE writes 8 bits), so these loops must not be tiled, but {string.Join(", ", split.Select(l => $"'{loops[l].Name}' has tile {loops[l].Map.Tile} of {loops[l].Map.PaddedExtent}"))}");
            }
        }
    }

    private void AnalyzeEpilogue(int outIndex)
    {
        var needsNest = mapping.Epilogue.Any(s => s.Tensor is not null);
        LoopNestInstance? epilogueNest = null;
        for (var n = 0; n < instance.Nests.Length; n++)
        {
            if (n == mapping.NestIndex)
            {
                continue;
            }

            var other = instance.Nests[n];
            if (other.Statements.Length != 1 || other.Statements[0].Target.Tensor != outIndex || accTensor == outTensor)
            {
                throw new LoweringException(VtaLoweringDiagnostics.UnsupportedNest,
                    $"nest {n} of '{instance.Name}' is not an element-wise epilogue writing '{outTensor.Name}'; the VTA lowering runs the main nest and one epilogue nest");
            }

            epilogueNest = other;
        }

        if (accTensor != outTensor && epilogueNest is null)
        {
            throw Invalid($"the output '{outTensor.Name}' differs from the accumulator '{accTensor.Name}' but no nest computes it");
        }

        foreach (var step in mapping.Epilogue)
        {
            var op = step.Op switch
            {
                EpilogueOp.Add => VtaAluOpcode.Add,
                EpilogueOp.Max => VtaAluOpcode.Max,
                EpilogueOp.Min => VtaAluOpcode.Min,
                _ => VtaAluOpcode.Shr,
            };
            if (step.Tensor is { } name)
            {
                if (!needsNest || epilogueNest is null)
                {
                    throw Invalid($"epilogue operand '{name}' needs an epilogue nest");
                }

                var operand = OperandIndex(name, epilogueNest);
                epilogue.Add(new AluStep(op, null, operand, $"{op.ToString().ToUpperInvariant()} {name}"));
                continue;
            }

            if (step.Immediate is not { } value)
            {
                throw new LoweringException(VtaLoweringDiagnostics.UnsupportedEpilogue, $"epilogue step {step.Op} has neither an immediate nor a tensor operand");
            }

            switch (op)
            {
                case VtaAluOpcode.Shr:
                    // The codelet semantics take shift amounts modulo 32; VTA's portable range is [0, 31].
                    epilogue.Add(new AluStep(op, (int)(value & 31), -1, $"SHR {value & 31}"));
                    break;
                case VtaAluOpcode.Add:
                {
                    // Wrapping i32 addition: split the 32-bit addend into 16-bit-immediate pieces.
                    var remaining = (long)unchecked((int)value);
                    while (remaining != 0)
                    {
                        var piece = Math.Clamp(remaining, short.MinValue, short.MaxValue);
                        epilogue.Add(new AluStep(op, (int)piece, -1, $"ADD {piece}"));
                        remaining -= piece;
                    }

                    break;
                }

                default:
                    if (value < short.MinValue || value > short.MaxValue)
                    {
                        throw new LoweringException(VtaLoweringDiagnostics.UnsupportedEpilogue,
                            $"epilogue {step.Op} with {value}: the ALU immediate is a signed 16-bit field [{short.MinValue}, {short.MaxValue}]");
                    }

                    epilogue.Add(new AluStep(op, (int)value, -1, $"{op.ToString().ToUpperInvariant()} {value}"));
                    break;
            }
        }
    }

    /// <summary>
    /// An epilogue tensor (a bias) indexed by a subset of the accumulator's indices in the epilogue nest: it is laid
    /// out like the accumulator restricted to those dimensions and loaded as ACC rows, lane for lane.
    /// </summary>
    private int OperandIndex(string name, LoopNestInstance epilogueNest)
    {
        var existing = operands.FindIndex(o => o.Tensor.Name == name);
        if (existing >= 0)
        {
            return existing;
        }

        var tensor = instance.Tensors.FirstOrDefault(t => t.Name == name) ?? throw Invalid($"no tensor '{name}'");
        if (tensor.Role != TensorRole.Input || !tensor.ElementType.IsInteger())
        {
            throw new LoweringException(VtaLoweringDiagnostics.UnsupportedEpilogue, $"epilogue operand '{name}' must be an integer input");
        }

        var loads = new List<AccessInstance>();
        Collect(epilogueNest.Statements[0].Value, loads);
        var accIndex = instance.Tensors.IndexOf(accTensor);
        var accAccess = loads.FirstOrDefault(a => a.Tensor == accIndex) ?? throw Invalid($"the epilogue nest does not read '{accTensor.Name}'");
        var operandAccess = loads.FirstOrDefault(a => instance.Tensors[a.Tensor].Name == name) ?? throw Invalid($"the epilogue nest does not read '{name}'");
        static int SingleLoop(AffineIndex index)
        {
            var used = Enumerable.Range(0, index.Coefficients.Length).Where(l => index.Coefficients[l] != 0).ToList();
            return used.Count == 1 && index.Coefficients[used[0]] == 1 && index.Constant == 0 ? used[0] : -1;
        }

        // operand dim -> accumulator dim
        var dimOfAcc = new int[accTensor.Shape.Length];
        Array.Fill(dimOfAcc, -1);
        for (var d = 0; d < operandAccess.Indices.Length; d++)
        {
            var loop = SingleLoop(operandAccess.Indices[d]);
            var accDim = loop < 0 ? -1 : accAccess.Indices.ToList().FindIndex(i => SingleLoop(i) == loop);
            if (accDim < 0)
            {
                throw new LoweringException(VtaLoweringDiagnostics.UnsupportedEpilogue,
                    $"epilogue operand '{name}' dimension {d} must be indexed like one of the accumulator's dimensions");
            }

            dimOfAcc[accDim] = d;
        }

        // The accumulator's parts restricted to those dimensions, in the accumulator's order.
        var keepPart = acc.Parts.Select(p => dimOfAcc[p.Dim] >= 0).ToArray();
        var partIndex = new int[acc.Parts.Length];
        var parts = ImmutableArray.CreateBuilder<VtaLayoutPart>();
        for (var p = 0; p < acc.Parts.Length; p++)
        {
            partIndex[p] = keepPart[p] ? parts.Count : -1;
            if (keepPart[p])
            {
                parts.Add(acc.Parts[p] with { Dim = dimOfAcc[acc.Parts[p].Dim] });
            }
        }

        var coordOfAcc = new int[acc.Coords.Length];
        var coords = ImmutableArray.CreateBuilder<Coord>();
        for (var c = 0; c < acc.Coords.Length; c++)
        {
            var ac = acc.Coords[c];
            coordOfAcc[c] = keepPart[ac.Part] ? coords.Count : -1;
            if (keepPart[ac.Part])
            {
                coords.Add(new Coord(ac.Name, partIndex[ac.Part], ac.IsBlock, ac.Coef, ac.Const, ac.Extent, ac.ValidSize));
            }
        }

        long stride = 1;
        for (var c = coords.Count - 1; c >= 0; c--)
        {
            coords[c].DramStride = stride;
            stride *= coords[c].Extent;
        }

        var lanes = ImmutableArray.CreateBuilder<VtaLayoutLevel>();
        foreach (var level in acc.LaneLevels)
        {
            if (level.Part >= 0 && !keepPart[level.Part])
            {
                throw new LoweringException(VtaLoweringDiagnostics.UnsupportedEpilogue,
                    $"epilogue operand '{name}' does not vary along the accumulator's lanes (the GEMM's j axis); the ALU combines rows lane by lane, so it cannot broadcast one value across a row");
            }

            lanes.Add(level.Part >= 0 ? level with { Part = partIndex[level.Part] } : level);
        }

        var model = new TensorModel { Tensor = tensor, Parts = parts.ToImmutable(), Coords = coords.ToImmutable(), LaneLevels = lanes.ToImmutable() };
        operands.Add((tensor, model, coordOfAcc));
        return operands.Count - 1;
    }

    private static void Collect(ValueExpr value, List<AccessInstance> loads)
    {
        switch (value)
        {
            case LoadValue l:
                loads.Add(l.Access);
                break;
            case UnaryValue u:
                Collect(u.Operand, loads);
                break;
            case BinaryValue b:
                Collect(b.Left, loads);
                Collect(b.Right, loads);
                break;
            case CallValue c:
                foreach (var a in c.Arguments)
                {
                    Collect(a, loads);
                }

                break;
            case CastValue c:
                Collect(c.Operand, loads);
                break;
        }
    }

    private static ValueExpr Unwrap(ValueExpr value) => value is CastValue c ? Unwrap(c.Operand) : value;

    private static LoweringException Invalid(string message) => new(VtaLoweringDiagnostics.InvalidMapping, message);

    // ------------------------------------------------------------------ steps

    private void EnumerateSteps()
    {
        var order = new List<int>();
        foreach (var name in mapping.TileOrder)
        {
            var l = loops.FindIndex(v => v.Name == name);
            if (l < 0)
            {
                throw Invalid($"tile order names '{name}', which is not a loop of the nest");
            }

            if (!order.Contains(l))
            {
                order.Add(l);
            }
        }

        foreach (var v in loops.Where(v => !order.Contains(v.Index)))
        {
            if (v.TileCount > 1)
            {
                throw Invalid($"loop '{v.Name}' has {v.TileCount} tiles but is missing from the tile order");
            }

            // An untiled loop: its single tile can go anywhere; put it outermost.
            order.Insert(0, v.Index);
        }

        var firstReduction = order.FindIndex(l => loops[l].Role == LoopRole.Reduction && loops[l].TileCount > 1);
        if (firstReduction >= 0 && order.Skip(firstReduction).Any(l => loops[l].Role != LoopRole.Reduction && loops[l].TileCount > 1))
        {
            throw Invalid($"the tile order [{string.Join(", ", order.Select(l => loops[l].Name))}] visits a non-reduction tile loop inside a reduction tile loop; reductions must be innermost so each accumulator tile completes on chip");
        }

        inpDeps = [.. loops.Select(v => inp.Coords.Any(c => c.DependsOn(v.Index)))];
        wgtDeps = [.. loops.Select(v => wgt.Coords.Any(c => c.DependsOn(v.Index)))];
        accDeps = [.. loops.Select(v => acc.Coords.Any(c => c.DependsOn(v.Index)))];

        var reductionLoops = order.Where(l => !accDeps[l]).ToList();

        // A tiled loop that does not index the accumulator, outside one that does, would split an accumulator tile's steps apart.
        var lastAccLoop = order.FindLastIndex(l => accDeps[l] && loops[l].TileCount > 1);
        if (reductionLoops.Any(l => loops[l].TileCount > 1 && order.IndexOf(l) < lastAccLoop))
        {
            throw Invalid($"the tile order [{string.Join(", ", order.Select(l => loops[l].Name))}] visits an accumulator tile loop inside a reduction tile loop; reductions must be innermost so each accumulator tile completes on chip");
        }

        var reductionSteps = reductionLoops.Aggregate(1, (p, l) => p * loops[l].TileCount);
        var tile = new int[loops.Count];
        var accTile = 0;
        var stepInTile = 0;
        while (true)
        {
            var lo = new int[loops.Count];
            var units = new int[loops.Count];
            for (var l = 0; l < loops.Count; l++)
            {
                lo[l] = tile[l] * loops[l].TileUnits;
                units[l] = Math.Min(loops[l].TileUnits, loops[l].Units - lo[l]);
            }

            steps.Add(new Step
            {
                Index = steps.Count,
                Lo = lo,
                Units = units,
                AccTile = accTile,
                FirstOfAccTile = stepInTile == 0,
                LastOfAccTile = stepInTile == reductionSteps - 1,
                ReductionStep = stepInTile,
                ReductionSteps = reductionSteps,
            });
            if (++stepInTile == reductionSteps)
            {
                stepInTile = 0;
                accTile++;
            }

            var k = order.Count - 1;
            while (k >= 0)
            {
                var l = order[k];
                if (++tile[l] < loops[l].TileCount)
                {
                    break;
                }

                tile[l] = 0;
                k--;
            }

            if (k < 0)
            {
                break;
            }
        }

    }

    private static string Key(Step step, bool[] deps)
    {
        var text = new StringBuilder();
        for (var l = 0; l < deps.Length; l++)
        {
            if (deps[l])
            {
                text.Append(CultureInfo.InvariantCulture, $"{step.Lo[l]}+{step.Units[l]};");
            }
        }

        return text.ToString();
    }

    /// <summary>
    /// The box of rows a tensor model occupies in one step: per coordinate, the layout positions the step touches.
    /// With <paramref name="compress"/>, a coordinate whose varying loops all step by a multiple g of 1 (a 1x1
    /// convolution's p*stride) keeps only every g-th position: the rows in between are never read.
    /// </summary>
    private static BoxDim[] Box(TensorModel model, Step step, bool compress = false)
    {
        var dims = new BoxDim[model.Coords.Length];
        long sram = 1;
        for (var c = model.Coords.Length - 1; c >= 0; c--)
        {
            var coord = model.Coords[c];
            long g = 0;
            for (var l = 0; l < coord.Coef.Length; l++)
            {
                if (step.Units[l] > 1)
                {
                    g = TensorModels.Gcd(g, coord.Coef[l]);
                }
            }

            var stride = compress && g > 1 ? g : 1;
            var count = ((coord.Count(step.Units) - 1) / stride) + 1;
            dims[c] = BoxDim.Of(count, coord.Lo(step.Lo), stride, coord.DramStride, sram, coord.Extent, coord.ValidSize);
            sram *= count;
        }

        return dims;
    }

    private BoxDim[] InpBox(Step step) => Box(inp, step, compress: true);

    private static int Rows(BoxDim[] box) => checked((int)box.Aggregate(1L, (p, d) => p * d.Count));

    /// <summary>How one step along a loop moves the rows of a model's box (0 when the model does not depend on it).</summary>
    private static long Stride(TensorModel model, BoxDim[] box, int loop)
    {
        long s = 0;
        for (var c = 0; c < model.Coords.Length; c++)
        {
            s += model.Coords[c].Coef[loop] / box[c].Step * box[c].SramStride;
        }

        return s;
    }

    // ------------------------------------------------------------------ buffers

    private void PartitionBuffers()
    {
        int maxInp = 0, maxWgt = 0, maxAcc = 0;
        var maxOperand = new int[operands.Count];
        foreach (var step in steps)
        {
            maxInp = Math.Max(maxInp, Rows(InpBox(step)));
            maxWgt = Math.Max(maxWgt, Rows(Box(wgt, step)));
            var accBox = Box(acc, step);
            maxAcc = Math.Max(maxAcc, Rows(accBox));
            for (var o = 0; o < operands.Count; o++)
            {
                maxOperand[o] = Math.Max(maxOperand[o], Rows(OperandBox(o, accBox)));
            }
        }

        string StorageOf(string tensor) => mapping.Operands.FirstOrDefault(o => o.Tensor == tensor)?.Storage ?? "";
        bool Wants(string tensor) => mapping.DoubleBuffered.Contains(StorageOf(tensor));

        inpSlots = Slots("INP", inpTensor.Name, maxInp, cfg.InpDepth, 0, Wants(inpTensor.Name));
        wgtSlots = Slots("WGT", wgtTensor.Name, maxWgt, cfg.WgtDepth, 0, Wants(wgtTensor.Name));

        // ACC: [tile slots][epilogue operands][2 scratch rows for hazard spacers and dummy micro-ops]
        var reserved = 2 + maxOperand.Sum();
        accSlots = Slots("ACC", accTensor.Name, maxAcc, cfg.AccDepth - reserved, 0, Wants(accTensor.Name));
        var next = accSlots.Sum(s => s.Rows);
        for (var o = 0; o < operands.Count; o++)
        {
            operandSlots.Add(new Slot(next, maxOperand[o]));
            next += maxOperand[o];
        }

        scratch0 = cfg.AccDepth - 2;
    }

    private Slot[] Slots(string buffer, string tensor, int rows, int depth, int baseRow, bool wantsDouble)
    {
        if (rows > depth)
        {
            throw new LoweringException(VtaLoweringDiagnostics.TileTooLarge,
                $"a tile of '{tensor}' needs {rows} {buffer} rows, but the {buffer} buffer of '{cfg.Name}' has {depth} available; choose smaller tiles");
        }

        if (wantsDouble && 2 * rows > depth)
        {
            notes.Add($"{buffer} is single-buffered: two tiles of {rows} rows do not fit {depth}");
        }

        if (wantsDouble && 2 * rows <= depth)
        {
            var half = depth / 2;
            return [new Slot(baseRow, half), new Slot(baseRow + half, half)];
        }

        return [new Slot(baseRow, depth)];
    }

    private BoxDim[] OperandBox(int operand, BoxDim[] accBox)
    {
        var (_, model, coordOfAcc) = operands[operand];
        var coords = new (long Count, long Lo)[model.Coords.Length];
        for (var c = 0; c < coordOfAcc.Length; c++)
        {
            if (coordOfAcc[c] >= 0)
            {
                coords[coordOfAcc[c]] = (accBox[c].Count, accBox[c].Lo);
            }
        }

        var dims = new BoxDim[model.Coords.Length];
        long sram = 1;
        for (var c = dims.Length - 1; c >= 0; c--)
        {
            var m = model.Coords[c];
            dims[c] = BoxDim.Of(coords[c].Count, coords[c].Lo, 1, m.DramStride, sram, m.Extent, m.ValidSize);
            sram *= coords[c].Count;
        }

        return dims;
    }

    // ------------------------------------------------------------------ DRAM

    private void AllocateTensors()
    {
        alignment = new[] { cfg.InpElementBytes, cfg.WgtElementBytes, cfg.AccElementBytes, cfg.OutElementBytes, cfg.UopElementBytes }.Max();
        if (options.PhysicalBase < 0 || options.PhysicalBase % alignment != 0)
        {
            throw new LoweringException(VtaLoweringDiagnostics.BadPhysicalBase,
                $"the DRAM image base 0x{options.PhysicalBase:x} must be a non-negative multiple of {alignment} (the largest element size of '{cfg.Name}')");
        }

        imageEnd = options.PhysicalBase;
        AddRegion(inpTensor.Name, VtaRegionKind.Input, inp.Layout(inpTensor, 1, 1));
        AddRegion(wgtTensor.Name, VtaRegionKind.Input, wgt.Layout(wgtTensor, 1, 1));
        foreach (var (tensor, model, _) in operands)
        {
            AddRegion(tensor.Name, VtaRegionKind.Input, model.Layout(tensor, 4, 1));
        }

        AddRegion(outTensor.Name, VtaRegionKind.Output, acc.Layout(outTensor, 1, planes));
    }

    private VtaDramRegion AddRegion(string name, VtaRegionKind kind, VtaTensorLayout? layout, long size = 0)
    {
        var bytes = layout?.SizeBytes ?? size;
        var region = new VtaDramRegion(name, kind, imageEnd, bytes, layout);
        regions[name] = region;
        regionOrder.Add(region);
        imageEnd += TensorModels.RoundUp(Math.Max(bytes, 1), alignment);
        return region;
    }

    private long ElementBase(string region, VtaMemoryType type, int plane = 0)
    {
        var r = regions[region];
        var address = r.Address + (plane * (r.Layout?.PlaneBytes ?? 0));
        var element = cfg.ElementBytes(type);
        if (address % element != 0)
        {
            throw new InvalidOperationException($"region '{region}' plane {plane} at 0x{address:x} is not aligned to {element}");
        }

        return address / element;
    }

    // ------------------------------------------------------------------ generation

    private void Generate()
    {
        transfers = new Transfers(cfg);
        gemmPlanner = new LoopPlanner(cfg, gemm: true);
        aluPlanner = new LoopPlanner(cfg, gemm: false);

        // Micro-op slot 0 holds the spacer kernel for the whole run: a reset of the two scratch rows.
        uopCache = new UopCache(cfg.UopDepth, 1);
        guard = new HazardGuard(scratch0, scratch0 + 1);
        var prologue = stream.NewGroup(VtaModule.Compute, "prologue: the spacer micro-op (reset of the scratch ACC rows) stays in micro-op slot 0");
        var spacerKernel = kernels.Add([new VtaUop(scratch0, 0, 0)]);
        prologue.Items.Add(UopLoad(spacerKernel, 0, 1));

        computeOfStep = new Group?[steps.Count];
        var planned = 0;
        for (var s = 0; s < steps.Count; s++)
        {
            // Loads for this step, and for the next ones as far as free buffer halves allow (prefetch).
            while (planned < steps.Count && planned <= s + 1 && CanPlanLoads(planned, s))
            {
                PlanLoads(planned);
                planned++;
            }

            if (planned <= s)
            {
                throw new InvalidOperationException($"the loads of step {s} could not be planned");
            }

            Compute(steps[s]);
        }

        while (deferred.Count > 0)
        {
            EmitPlaneTask(deferred.Dequeue());
        }

        var finish = stream.NewGroup(VtaModule.Compute, "end: wait for the last load and the last store, then FINISH");
        finish.DependOn(stream.LastOf(VtaModule.Load));
        finish.DependOn(stream.LastOf(VtaModule.Store));
        finish.Items.Add(new Item(VtaLoad.Nop(VtaModule.Compute, default)));
        finish.Items.Add(new Item(new VtaFinish()));
    }

    private (Slot Slot, bool Hit) Choose(Slot[] slots, string key)
    {
        if (options.ReuseResidentTiles)
        {
            var hit = slots.FirstOrDefault(s => s.Key == key);
            if (hit is not null)
            {
                return (hit, true);
            }
        }

        return (slots.OrderBy(s => s.LastUse).First(), false);
    }

    /// <summary>Whether the loads of <paramref name="x"/> can be generated before the compute of step <paramref name="current"/>: the halves they overwrite must be free of later users.</summary>
    private bool CanPlanLoads(int x, int current)
    {
        var step = steps[x];
        foreach (var (slots, deps) in new[] { (inpSlots, inpDeps), (wgtSlots, wgtDeps) })
        {
            var (slot, hit) = Choose(slots, Key(step, deps));
            if (!hit && slot.LastUse >= current)
            {
                return false;
            }
        }

        return true;
    }

    private void PlanLoads(int x)
    {
        var step = steps[x];
        Group? group = null;
        Group LoadGroup() => group ??= stream.NewGroup(VtaModule.Load, Describe(step, "loads"));
        var chosen = new Slot[2];
        var models = new[] { (inpSlots, inpDeps, inp, inpTensor, VtaMemoryType.Inp), (wgtSlots, wgtDeps, wgt, wgtTensor, VtaMemoryType.Wgt) };
        for (var b = 0; b < 2; b++)
        {
            var (slots, deps, model, tensor, type) = models[b];
            var key = Key(step, deps);
            var (slot, hit) = Choose(slots, key);
            if (!hit)
            {
                var g = LoadGroup();
                if (slot.LastUse >= 0)
                {
                    g.DependOn(computeOfStep[slot.LastUse] ?? throw new InvalidOperationException($"step {slot.LastUse} has no compute group yet"));
                }

                transfers.Load(g.Items, type, ElementBase(tensor.Name, type), model == inp ? InpBox(step) : Box(model, step), slot.Base);
                slot.Key = key;
                slot.Loader = g;
            }

            slot.LastUse = x;
            chosen[b] = slot;
        }

        stepSlots[x] = (chosen[0], chosen[1]);
    }

    private void Compute(Step step)
    {
        var (inpSlot, wgtSlot) = stepSlots[step.Index];
        var accBox = Box(acc, step);
        var accSlot = accSlots[step.AccTile % accSlots.Length];
        if (step.FirstOfAccTile)
        {
            // The slot's previous tile must be stored before it is overwritten.
            while (deferred.Count > 0 && deferred.Peek().Slot == accSlot)
            {
                EmitPlaneTask(deferred.Dequeue());
            }
        }

        var group = stream.NewGroup(VtaModule.Compute, Describe(step, "GEMM"));
        if (step.FirstOfAccTile)
        {
            group.DependOn(accSlot.LastStore);
            var rows = Rows(accBox);
            for (var done = 0; done < rows; done += MaxIter)
            {
                var count = Math.Min(MaxIter, rows - done);
                var reset = new VtaGemm { ResetReg = true, IterOut = count, DstFactorOut = count > 1 ? 1 : 0 };
                EmitLoop(group, reset, [new VtaUop(accSlot.Base + done, 0, 0)]);
            }
        }

        group.DependOn(inpSlot.Loader);
        group.DependOn(wgtSlot.Loader);

        var inpBox = InpBox(step);
        var wgtBox = Box(wgt, step);
        var vars = new List<PlanVar>();
        for (var l = 0; l < loops.Count; l++)
        {
            if (step.Units[l] > 1)
            {
                vars.Add(new PlanVar(loops[l].Name, step.Units[l], (int)Stride(acc, accBox, l), (int)Stride(inp, inpBox, l), (int)Stride(wgt, wgtBox, l)));
            }
        }

        var plan = gemmPlanner.Plan(vars);
        EmitPlan(group, plan, accSlot.Base, inpSlot.Base, wgtSlot.Base, new VtaGemm());
        computeOfStep[step.Index] = group;

        if (step.LastOfAccTile)
        {
            Finalise(step, accSlot, accBox, group);
        }
        else if (deferred.Count > 0 && deferred.Peek().AccTile != step.AccTile)
        {
            EmitPlaneTask(deferred.Dequeue());
        }
    }

    /// <summary>The epilogue and the stores of an accumulator tile.</summary>
    private void Finalise(Step step, Slot accSlot, BoxDim[] accBox, Group gemmGroup)
    {
        var rows = Rows(accBox);
        Group ready = gemmGroup;
        if (epilogue.Count > 0 || HasHoles(step, accBox))
        {
            var group = stream.NewGroup(VtaModule.Compute, Describe(step, epilogue.Count > 0 ? "epilogue " + string.Join(", ", epilogue.Select(e => e.Text)) : "touch rows no GEMM wrote"));
            for (var o = 0; o < operands.Count; o++)
            {
                var box = OperandBox(o, accBox);
                var key = string.Join(";", box.Select(d => $"{d.Lo}+{d.Count}"));
                if (operandSlots[o].Key != key)
                {
                    transfers.Load(group.Items, VtaMemoryType.Acc, ElementBase(operands[o].Tensor.Name, VtaMemoryType.Acc), box, operandSlots[o].Base);
                    operandSlots[o].Key = key;
                }
            }

            var aluSteps = epilogue.Count > 0 ? epilogue : new List<AluStep> { new(VtaAluOpcode.Add, 0, -1, "ADD 0") };
            foreach (var e in aluSteps)
            {
                if (e.Immediate is { } imm)
                {
                    EmitAluImmediate(group, accSlot.Base, rows, e.Op, imm);
                    continue;
                }

                var box = OperandBox(e.Operand, accBox);
                var coordOfAcc = operands[e.Operand].CoordOfAcc;
                var vars = new List<PlanVar>();
                for (var c = 0; c < accBox.Length; c++)
                {
                    if (accBox[c].Count > 1)
                    {
                        var src = coordOfAcc[c] >= 0 ? box[coordOfAcc[c]].SramStride : 0;
                        vars.Add(new PlanVar(acc.Coords[c].Name, (int)accBox[c].Count, (int)accBox[c].SramStride, (int)src, 0));
                    }
                }

                EmitPlan(group, aluPlanner.Plan(vars), accSlot.Base, operandSlots[e.Operand].Base, 0, new VtaAlu { AluOpcode = e.Op });
            }

            ready = group;
        }

        var store = stream.NewGroup(VtaModule.Store, Describe(step, planes > 1 ? "store byte plane 0" : "store"));
        store.DependOn(ready);
        transfers.Store(store.Items, ElementBase(outTensor.Name, VtaMemoryType.Out, 0), accBox, accSlot.Base);
        if (planes == 1)
        {
            accSlot.LastStore = store;
            return;
        }

        var previous = store;
        for (var plane = 1; plane < planes; plane++)
        {
            var task = new PlaneTask(step.AccTile, plane, accSlot, step, previous);
            if (options.DeferPlaneStores && accSlots.Length > 1)
            {
                deferred.Enqueue(task);
            }
            else
            {
                previous = EmitPlaneTask(task);
            }
        }
    }

    /// <summary>SHR 8 in place, then the store of the next byte plane (which waits for the shift; the shift waits for the previous plane's store).</summary>
    private Group EmitPlaneTask(PlaneTask task)
    {
        var accBox = Box(acc, task.Step);
        var shift = stream.NewGroup(VtaModule.Compute, Describe(task.Step, $"SHR 8 for byte plane {task.Plane}"));
        var previous = task.PreviousStore;
        if (task.Plane > 1)
        {
            // Deferred tasks were queued with the plane-0 store; the previous plane's store is the slot's latest.
            previous = task.Slot.LastStore ?? previous;
        }

        shift.DependOn(previous);
        EmitAluImmediate(shift, task.Slot.Base, Rows(accBox), VtaAluOpcode.Shr, 8);
        var store = stream.NewGroup(VtaModule.Store, Describe(task.Step, $"store byte plane {task.Plane}"));
        store.DependOn(shift);
        transfers.Store(store.Items, ElementBase(outTensor.Name, VtaMemoryType.Out, task.Plane), accBox, task.Slot.Base);
        task.Slot.LastStore = store;
        return store;
    }

    /// <summary>
    /// Whether some row of the accumulator box receives no product (a strided or cropped scatter): such rows are
    /// still zero from the reset, and on hardware a stored row must last have been written by GEMM or ALU.
    /// </summary>
    private bool HasHoles(Step step, BoxDim[] accBox)
    {
        if (acc.Coords.All(c => Enumerable.Range(0, loops.Count).Count(l => c.Coef[l] != 0 && step.Units[l] > 1) <= 1
                                && Enumerable.Range(0, loops.Count).All(l => c.Coef[l] <= 1 || step.Units[l] <= 1)))
        {
            return false;
        }

        var key = Key(step, accDeps);
        if (holes.TryGetValue(key, out var known))
        {
            return known;
        }

        var rows = Rows(accBox);
        var written = new bool[rows];
        var vars = Enumerable.Range(0, loops.Count).Where(l => accDeps[l] && step.Units[l] > 1)
            .Select(l => new PlanVar(loops[l].Name, step.Units[l], (int)Stride(acc, accBox, l), 0, 0)).ToList();
        LoopPlanner.Enumerate(vars, (in ReadOnlySpan<int> idx) =>
        {
            var row = 0;
            for (var v = 0; v < idx.Length; v++)
            {
                row += idx[v] * vars[v].Dst;
            }

            written[row] = true;
        });
        var result = written.Any(w => !w);
        holes[key] = result;
        return result;
    }

    /// <summary>An ALU op with an immediate over a run of rows: one micro-op, the rows in iter_in (split at the 14-bit iteration limit).</summary>
    private void EmitAluImmediate(Group group, int baseRow, int rows, VtaAluOpcode op, int imm)
    {
        for (var done = 0; done < rows; done += MaxIter)
        {
            var count = Math.Min(MaxIter, rows - done);
            var alu = new VtaAlu
            {
                AluOpcode = op,
                UseImm = true,
                Imm = imm,
                IterIn = count,
                DstFactorIn = count > 1 ? 1 : 0,
                SrcFactorIn = count > 1 ? 1 : 0,
            };
            EmitLoop(group, alu, [new VtaUop(baseRow + done, baseRow + done, 0)]);
        }
    }

    /// <summary>Emits the instructions of a plan: one per software point, each with its kernel.</summary>
    private void EmitPlan(Group group, LoopPlan plan, int dst0, int src0, int wgt0, VtaLoopInstruction template)
    {
        var software = plan.Software;
        LoopPlanner.Enumerate(software, (in ReadOnlySpan<int> s) =>
        {
            long dOff = dst0, sOff = src0, wOff = wgt0;
            for (var v = 0; v < s.Length; v++)
            {
                dOff += (long)s[v] * software[v].Dst;
                sOff += (long)s[v] * software[v].Src;
                wOff += (long)s[v] * software[v].Wgt;
            }

            var real = new List<VtaUop>(plan.RealUopsPerKernel);
            var uopVars = plan.Uop;
            LoopPlanner.Enumerate(uopVars, (in ReadOnlySpan<int> u) =>
            {
                long d = dOff, x = sOff, w = wOff;
                for (var v = 0; v < u.Length; v++)
                {
                    d += (long)u[v] * uopVars[v].Dst;
                    x += (long)u[v] * uopVars[v].Src;
                    w += (long)u[v] * uopVars[v].Wgt;
                }

                real.Add(new VtaUop((int)d, (int)x, (int)w));
            });

            var uops = plan.Dummies switch
            {
                DummyMode.Append => [.. real, .. new[] { scratch0, scratch0 + 1 }.Take(plan.AppendedDummies).Select(r => real[0] with { Dst = r })],
                DummyMode.Interleave => real.SelectMany(r => new[] { r, r with { Dst = scratch0 }, r with { Dst = scratch0 + 1 } }).ToList(),
                _ => real,
            };
            var instruction = template with
            {
                IterOut = plan.IterOut,
                IterIn = plan.IterIn,
                DstFactorOut = plan.Out?.Dst ?? 0,
                DstFactorIn = plan.In?.Dst ?? 0,
                SrcFactorOut = plan.Out?.Src ?? 0,
                SrcFactorIn = plan.In?.Src ?? 0,
            };
            if (instruction is VtaGemm g)
            {
                instruction = g with { WgtFactorOut = plan.Out?.Wgt ?? 0, WgtFactorIn = plan.In?.Wgt ?? 0 };
            }

            EmitLoop(group, instruction, uops);
        });
    }

    /// <summary>Makes the kernel resident (LOAD UOP when it is not), spaces it from the previous micro-ops if needed, and emits the instruction.</summary>
    private void EmitLoop(Group group, VtaLoopInstruction instruction, List<VtaUop> uops)
    {
        var kernel = kernels.Add([.. uops]);
        var slot = uopCache.Place(kernel, uops.Count, out var load);
        if (load)
        {
            group.Items.Add(UopLoad(kernel, slot, uops.Count));
        }

        var placed = instruction with { UopBegin = slot, UopEnd = slot + uops.Count };
        if (guard.NeedsSpacer(placed, uops))
        {
            var spacer = new VtaGemm { ResetReg = true, UopBegin = 0, UopEnd = 1, IterOut = 2, DstFactorOut = 1 };
            group.Items.Add(new Item(spacer));
            guard.Executed(spacer, [new VtaUop(scratch0, 0, 0)]);
        }

        group.Items.Add(new Item(placed));
        guard.Executed(placed, uops);
        switch (placed)
        {
            case VtaGemm { ResetReg: false } gemm:
                gemmInstructions++;
                gemmUops += gemm.UopCount;
                break;
            case VtaGemm:
                gemmInstructions++;
                break;
            default:
                aluInstructions++;
                break;
        }
    }

    private Item UopLoad(int kernel, int slot, int length)
    {
        uopLoads++;
        return new Item(new VtaLoad { MemoryType = VtaMemoryType.Uop, SramBase = slot, YSize = 1, XSize = length, XStride = length }, Fixup.Kernel, kernel);
    }

    private string Describe(Step step, string what)
    {
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"step {step.Index + 1}/{steps.Count}, acc tile {step.AccTile}");
        if (step.ReductionSteps > 1)
        {
            text.Append(CultureInfo.InvariantCulture, $" (reduction {step.ReductionStep + 1}/{step.ReductionSteps})");
        }

        text.Append(" [");
        text.Append(string.Join(" ", loops.Select(v =>
        {
            var from = step.Lo[v.Index] * v.Block;
            var to = Math.Min((step.Lo[v.Index] + step.Units[v.Index]) * v.Block, v.Map.PaddedExtent) - 1;
            return from == to ? $"{v.Name}={from}" : $"{v.Name}={from}..{to}";
        })));
        text.Append("]: ").Append(what);
        return text.ToString();
    }

    // ------------------------------------------------------------------ finish

    private VtaProgram Finish()
    {
        var zeros = transfers.ZeroBytes > 0 ? AddRegion("zeros", VtaRegionKind.Zeros, null, transfers.ZeroBytes) : null;
        var uopRegion = AddRegion("uops", VtaRegionKind.Uops, null, kernels.TotalUops * cfg.UopElementBytes);
        var memoryMap = new VtaMemoryMap(options.PhysicalBase, imageEnd - options.PhysicalBase, alignment, [.. regionOrder]);

        stream.AssignTokens();
        VtaInstruction Fix(Item item)
        {
            var instruction = item.Instruction;
            if (instruction is not VtaLoad load)
            {
                return instruction;
            }

            return item.Fixup switch
            {
                Fixup.Zeros => load with { DramBase = zeros!.Address / cfg.ElementBytes(load.MemoryType) },
                Fixup.Kernel => load with { DramBase = (uopRegion.Address / cfg.UopElementBytes) + kernels.Offset(item.Kernel) },
                _ => load,
            };
        }

        var header = new StringBuilder();
        var c = CultureInfo.InvariantCulture;
        header.AppendLine(c, $"; {instance.Name}<{string.Join(", ", instance.Sizes.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => $"{p.Key}={p.Value}"))}> on {cfg.Name} (BATCH {cfg.Batch}, BLOCK_IN {cfg.BlockIn}, BLOCK_OUT {cfg.BlockOut})");
        header.AppendLine(c, $"; GEMM axes: j <- {loops.FirstOrDefault(v => v.Lane == LaneAxis.J)?.Name ?? "(unused)"}, k <- {loops.FirstOrDefault(v => v.Lane == LaneAxis.K)?.Name ?? "(unused)"}; tile order [{string.Join(", ", mapping.TileOrder)}]");
        header.AppendLine(c, $"; loops: {string.Join(", ", loops.Select(v => $"{v.Name} {v.Map.Role.ToString().ToLowerInvariant()} {v.Map.Extent}->{v.Map.PaddedExtent} tile {v.Map.Tile}"))}");
        header.AppendLine(c, $"; buffers: INP {inpSlots.Length} x {inpSlots[0].Rows} rows, WGT {wgtSlots.Length} x {wgtSlots[0].Rows}, ACC {accSlots.Length} x {accSlots[0].Rows} (+{operandSlots.Sum(s => s.Rows)} operand rows, scratch {scratch0}-{scratch0 + 1})");
        foreach (var note in notes)
        {
            header.AppendLine(c, $"; note: {note}");
        }

        foreach (var line in memoryMap.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            header.Append("; ").AppendLine(line);
        }

        var (program, listing) = stream.Flatten(Fix, options.ListingHex ? new VtaEncoder(cfg) : null, header.ToString());
        var summary = new VtaProgramSummary(
            program.Length,
            program.Count(i => i.Module == VtaModule.Load),
            program.Count(i => i.Module == VtaModule.Compute),
            program.Count(i => i.Module == VtaModule.Store),
            gemmInstructions,
            aluInstructions,
            uopLoads,
            kernels.Count,
            steps.Count,
            steps.Count(s => s.LastOfAccTile),
            gemmUops,
            loops.Aggregate(1L, (p, v) => p * v.Map.Extent));
        return new VtaProgram(instance.Name, cfg, program, kernels.All(), memoryMap, listing, summary);
    }
}
