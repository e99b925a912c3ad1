using System.Collections.Immutable;
using System.Globalization;
using System.Text;
using Covenant.Core.Diagnostics;
using Covenant.Mapping.Model;

namespace Covenant.Targets.Vta.Lowering;

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

/// <summary>
/// The steps in visiting order, and per loop whether INP, WGT and the accumulator depend on it (a tile of a tensor
/// stays resident across steps that differ only in loops it does not depend on).
/// </summary>
internal sealed record StepSchedule(ImmutableArray<Step> Steps, ImmutableArray<bool> InpDeps, ImmutableArray<bool> WgtDeps, ImmutableArray<bool> AccDeps)
{
    /// <summary>The key of the tile of a tensor with dependencies <paramref name="deps"/> in <paramref name="step"/>: equal keys, equal tiles.</summary>
    public static string Key(Step step, ImmutableArray<bool> deps)
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
}

/// <summary>
/// Step: enumerates the tile steps in <see cref="LayerMapping.TileOrder"/> (untiled loops outermost), checking that
/// reductions are innermost so each accumulator tile completes on chip before it is stored.
/// </summary>
internal static class EnumerateSteps
{
    public static Result<StepSchedule> Run(LoweringContext context, LoopPlacement placement, TensorLayouts layouts)
    {
        var loops = placement.Loops;
        var order = new List<int>();
        foreach (var name in context.Mapping.TileOrder)
        {
            var l = loops.Select(v => v.Name).ToList().IndexOf(name);
            if (l < 0)
            {
                return Invalid(context.NestLocation(context.Mapping.NestIndex), $"tile order names '{name}', which is not a loop of the nest");
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
                return Invalid(context.LoopLocation(v.Name), $"loop '{v.Name}' has {v.TileCount} tiles but is missing from the tile order");
            }

            // An untiled loop: its single tile can go anywhere; put it outermost.
            order.Insert(0, v.Index);
        }

        var firstReduction = order.FindIndex(l => loops[l].Role == LoopRole.Reduction && loops[l].TileCount > 1);
        if (firstReduction >= 0 && order.Skip(firstReduction).Any(l => loops[l].Role != LoopRole.Reduction && loops[l].TileCount > 1))
        {
            return Invalid(context.LoopLocation(loops[order[firstReduction]].Name),
                $"the tile order [{string.Join(", ", order.Select(l => loops[l].Name))}] visits a non-reduction tile loop inside a reduction tile loop; reductions must be innermost so each accumulator tile completes on chip");
        }

        ImmutableArray<bool> DependsOn(TensorModel model) => [.. loops.Select(v => model.Coords.Any(c => c.DependsOn(v.Index)))];
        var accDeps = DependsOn(layouts.Acc);
        var reductionLoops = order.Where(l => !accDeps[l]).ToList();

        // A tiled loop that does not index the accumulator, outside one that does, would split an accumulator tile's steps apart.
        var lastAccLoop = order.FindLastIndex(l => accDeps[l] && loops[l].TileCount > 1);
        var outside = reductionLoops.FirstOrDefault(l => loops[l].TileCount > 1 && order.IndexOf(l) < lastAccLoop, -1);
        if (outside >= 0)
        {
            return Invalid(context.LoopLocation(loops[outside].Name),
                $"the tile order [{string.Join(", ", order.Select(l => loops[l].Name))}] visits an accumulator tile loop inside a reduction tile loop; reductions must be innermost so each accumulator tile completes on chip");
        }

        var steps = Enumerate(loops, order, reductionLoops.Aggregate(1, (p, l) => p * loops[l].TileCount));
        return Result<StepSchedule>.Success(new StepSchedule(steps, DependsOn(layouts.Inp), DependsOn(layouts.Wgt), accDeps));
    }

    /// <summary>Every combination of tile indices, the last loop of <paramref name="order"/> fastest.</summary>
    private static ImmutableArray<Step> Enumerate(ImmutableArray<LoopVar> loops, List<int> order, int reductionSteps)
    {
        var steps = ImmutableArray.CreateBuilder<Step>();
        var tile = new int[loops.Length];
        var accTile = 0;
        var stepInTile = 0;
        while (true)
        {
            var lo = new int[loops.Length];
            var units = new int[loops.Length];
            for (var l = 0; l < loops.Length; l++)
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
                return steps.ToImmutable();
            }
        }
    }

    private static Result<StepSchedule> Invalid(SourceLocation at, string message) =>
        LoweringContext.Fail<StepSchedule>(VtaLoweringDiagnostics.InvalidMapping, at, message);
}
