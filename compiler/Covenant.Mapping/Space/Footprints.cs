using System.Collections.Immutable;
using Covenant.Acg.Model;
using Covenant.Codelets.Semantics;
using Covenant.Mapping.Analysis;
using Covenant.Mapping.Model;

namespace Covenant.Mapping.Space;

/// <summary>
/// A tensor that must sit in a storage node while a tile is computed: one of the capability's operands, or a
/// tensor the epilogue reads (a bias) next to the accumulator. <see cref="Dims"/> describe, per dimension,
/// how the tile's loops move the index, so the footprint can be computed for any tile shape.
/// </summary>
public sealed record Resident(string Tensor, string Storage, long RowBytes, ImmutableArray<ResidentDim> Dims, bool IsOutput)
{
    /// <summary>
    /// Loops held at one intrinsic step in this resident's footprint, with that step's iterations: the reduction
    /// loops of an input that streams through a register file (only the slice feeding the current issue is live).
    /// </summary>
    public ImmutableDictionary<int, int> StepLoops { get; init; } = ImmutableDictionary<int, int>.Empty;
}

/// <summary>
/// One dimension of a resident tensor: <c>Σ Coefficients[l] · loop_l</c> over the main nest's loops. When
/// <see cref="PackedLoop"/> is set, the dimension holds a loop laid along a capability axis and counts in
/// intrinsic blocks (one storage row holds a block); otherwise its footprint is the index's range over the tile.
/// </summary>
public sealed record ResidentDim(ImmutableArray<long> Coefficients, int? PackedLoop);

public static class Footprints
{
    /// <summary>The tensors each storage node holds during a tile, derived from the problem's operands and epilogue.</summary>
    public static ImmutableArray<Resident> Residents(MappingProblem problem)
    {
        var instance = problem.Instance;
        var nest = problem.Nest;
        var a = nest.Left.Tensor == instance.IndexOf(problem.TensorA) ? nest.Left : nest.Right;
        var b = ReferenceEquals(a, nest.Left) ? nest.Right : nest.Left;
        var residents = ImmutableArray.CreateBuilder<Resident>();
        residents.Add(Make(problem.TensorA, problem.Mac.A, a, false));
        residents.Add(Make(problem.TensorB, problem.Mac.B, b, false));
        residents.Add(Make(problem.Accumulator, problem.Mac.Out, nest.Accumulator, true));

        // Tensors the epilogue reads sit beside the accumulator, indexed like the accumulator dimensions they share.
        if (nest.Epilogue is { } epilogue)
        {
            var epilogueNest = instance.Nests[epilogue.NestIndex];
            var target = epilogueNest.Statements[0].Target;
            foreach (var tensor in epilogue.Steps.Where(s => s.Tensor is not null).Select(s => s.Tensor!).Distinct())
            {
                var access = GemmView.FindLoad(epilogueNest.Statements[0].Value, instance.IndexOf(tensor));
                if (access is null)
                {
                    continue;
                }

                var dims = ImmutableArray.CreateBuilder<ResidentDim>();
                foreach (var index in access.Indices)
                {
                    // The epilogue loop this index follows, and the accumulator dimension that loop writes.
                    var loop = FirstIndex(index.Coefficients.Length, l => index.Coefficients[l] != 0);
                    var accDim = loop < 0 ? -1 : FirstIndex(target.Indices.Length, d => target.Indices[d].Coefficients[loop] != 0);
                    dims.Add(accDim < 0
                        ? new ResidentDim(ImmutableArray.CreateRange(Enumerable.Repeat(0L, problem.Loops.Length)), null)
                        : DimOf(nest.Accumulator.Indices[accDim], problem, problem.Mac.Out));
                }

                var storage = problem.Graph.StorageNode(problem.Mac.Out.Storage);
                residents.Add(new Resident(tensor, storage.Name, RowBytes(storage, problem.Mac.Out, problem.Mac.Capability), dims.ToImmutable(), false));
            }
        }

        return residents.ToImmutable();

        Resident Make(string tensor, CapabilityOperand operand, AccessInstance access, bool isOutput)
        {
            var storage = problem.Graph.StorageNode(operand.Storage);
            var steps = storage.RegisterFile && !isOutput
                ? Enumerable.Range(0, problem.Loops.Length).Where(l => problem.Roles[l] == LoopRole.Reduction)
                    .ToImmutableDictionary(l => l, l => problem.Intrinsic[l])
                : ImmutableDictionary<int, int>.Empty;
            return new Resident(tensor, storage.Name, RowBytes(storage, operand, problem.Mac.Capability),
                [.. access.Indices.Select(index => DimOf(index, problem, operand))], isOutput) { StepLoops = steps };
        }
    }

    private static ResidentDim DimOf(AffineIndex index, MappingProblem problem, CapabilityOperand operand)
    {
        int? packed = null;
        for (var l = 0; l < problem.Loops.Length; l++)
        {
            if (index.Coefficients[l] != 0 && problem.AxisOf(l) is { } axis && operand.Axes.Contains(axis))
            {
                packed = l;
            }
        }

        return new ResidentDim(index.Coefficients, packed);
    }

    /// <summary>
    /// Bytes of one storage row, the unit a packed dimension counts in: the hardware's element when it fixes one;
    /// else one intrinsic block of the operand (its axes' extents x its element size), at least one line — a VNNI
    /// block is one zmm line, an mma's a or d fragment 512 B of registers, four of the register file's 128 B lines.
    /// </summary>
    public static long RowBytes(StorageNode storage, CapabilityOperand operand, Capability capability)
    {
        if (storage.Element is { } element)
        {
            return element.Bytes;
        }

        var block = operand.Axes.Aggregate((long)Codelets.ElementTypes.Bytes(operand.Type),
            (bytes, axis) => bytes * (capability.Shape.FirstOrDefault(a => a.Name == axis)?.Extent ?? 1));
        return Math.Max(storage.LineBytes ?? 1, block);
    }

    /// <summary>Rows (or elements, where the storage fixes no row) of <paramref name="resident"/> resident during a tile
    /// of <paramref name="tileIterations"/> iterations per loop, <paramref name="blocks"/> of them intrinsic blocks: for a
    /// streamed input, the one reduction step it holds at a time.</summary>
    public static long Rows(Resident resident, ReadOnlySpan<int> blocks, ReadOnlySpan<int> tileIterations)
    {
        if (resident.StepLoops.IsEmpty)
        {
            return TileRows(resident, blocks, tileIterations);
        }

        var stepBlocks = blocks.ToArray();
        var stepIterations = tileIterations.ToArray();
        foreach (var (loop, iterations) in resident.StepLoops)
        {
            (stepBlocks[loop], stepIterations[loop]) = (1, iterations);
        }

        return TileRows(resident, stepBlocks, stepIterations);
    }

    /// <summary>Rows of the whole tile of <paramref name="resident"/>, streamed or not: what moves over a tile.</summary>
    public static long TileRows(Resident resident, ReadOnlySpan<int> blocks, ReadOnlySpan<int> tileIterations)
    {
        long rows = 1;
        foreach (var dim in resident.Dims)
        {
            long range;
            if (dim.PackedLoop is { } packed)
            {
                range = blocks[packed];
                for (var l = 0; l < dim.Coefficients.Length; l++)
                {
                    if (l != packed && dim.Coefficients[l] != 0)
                    {
                        range *= tileIterations[l];
                    }
                }
            }
            else
            {
                range = 1;
                for (var l = 0; l < dim.Coefficients.Length; l++)
                {
                    range += Math.Abs(dim.Coefficients[l]) * (tileIterations[l] - 1);
                }
            }

            rows *= range;
        }

        return rows;
    }

    private static int FirstIndex(int count, Func<int, bool> predicate)
    {
        for (var i = 0; i < count; i++)
        {
            if (predicate(i))
            {
                return i;
            }
        }

        return -1;
    }
}
