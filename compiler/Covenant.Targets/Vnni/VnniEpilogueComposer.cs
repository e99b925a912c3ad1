using System.Collections.Immutable;
using Covenant.Codelets.Semantics;
using Covenant.Core.Diagnostics;
using Covenant.Mapping.Analysis;

namespace Covenant.Targets.Vnni;

/// <summary>An element offset <c>Base + Σ Strides[l] · loop l</c> in the main nest's loops.</summary>
internal sealed record VnniOffset(long Base, long[] Strides);

/// <summary>The epilogue's output and operands, addressed in the main nest's loops.</summary>
internal sealed record VnniComposedEpilogue(VnniOffset Output, ImmutableArray<(string Name, VnniOffset Offset)> Operands);

/// <summary>
/// Rewrites the epilogue nest <c>out[e..] = f(acc[e..], t[e..])</c> in the accumulation nest's loops: each loop of it
/// must index one accumulator dimension with coefficient 1 (a permutation), so every epilogue address becomes an
/// affine function of the main nest's loops. Problems are positioned on the epilogue's statement.
/// </summary>
internal static class VnniEpilogueComposer
{
    public static Result<VnniComposedEpilogue> Compose(CodeletInstance instance, AccumulationNest nest, Epilogue epilogue)
    {
        var epilogueNest = instance.Nests[epilogue.NestIndex];
        var statement = epilogueNest.Statements[0];
        var location = statement.Syntax.Location;
        Result<VnniComposedEpilogue> Fail(string reason) => Result<VnniComposedEpilogue>.Failure(VnniDiagnostics.UnsupportedEpilogue.Create(location, reason));

        var accumulatorLoad = FindLoad(statement.Value, nest.Accumulator.Tensor);
        if (accumulatorLoad is null)
        {
            return Fail("the epilogue does not read the accumulator");
        }

        // Epilogue loop -> the accumulator dimension it runs along.
        var dimOfLoop = new int[epilogueNest.Loops.Length];
        Array.Fill(dimOfLoop, -1);
        for (var d = 0; d < accumulatorLoad.Indices.Length; d++)
        {
            var index = accumulatorLoad.Indices[d];
            var used = index.Coefficients.Select((c, l) => (c, l)).Where(p => p.c != 0).ToList();
            if (index.Constant != 0 || used.Count > 1 || (used.Count == 1 && used[0].c != 1))
            {
                return Fail("the epilogue must read the accumulator at its own loop indices");
            }

            if (used.Count == 1)
            {
                dimOfLoop[used[0].l] = d;
            }
        }

        for (var e = 0; e < epilogueNest.Loops.Length; e++)
        {
            if (dimOfLoop[e] < 0 && epilogueNest.Loops[e].Extent > 1)
            {
                return Fail($"the epilogue loop '{epilogueNest.Loops[e].Name}' does not index the accumulator");
            }
        }

        var operands = ImmutableArray.CreateBuilder<(string, VnniOffset)>();
        foreach (var name in epilogue.Steps.Where(s => s.Tensor is not null).Select(s => s.Tensor!).Distinct())
        {
            var load = FindLoad(statement.Value, instance.IndexOf(name));
            if (load is null)
            {
                return Fail($"the epilogue operand '{name}' is not read as a tensor element");
            }

            operands.Add((name, InMainLoops(instance, nest, dimOfLoop, load)));
        }

        return Result<VnniComposedEpilogue>.Success(
            new VnniComposedEpilogue(InMainLoops(instance, nest, dimOfLoop, statement.Target), operands.ToImmutable()));
    }

    // An epilogue access with each epilogue loop e replaced by the accumulator's index dimOfLoop[e] in the main nest.
    private static VnniOffset InMainLoops(CodeletInstance instance, AccumulationNest nest, int[] dimOfLoop, AccessInstance access)
    {
        var mainLoops = nest.Nest.Loops.Length;
        var tensorStrides = instance.Tensors[access.Tensor].Strides;
        long baseOffset = 0;
        var strides = new long[mainLoops];
        for (var d = 0; d < access.Indices.Length; d++)
        {
            var index = access.Indices[d];
            baseOffset += index.Constant * tensorStrides[d];
            for (var e = 0; e < index.Coefficients.Length; e++)
            {
                var coefficient = index.Coefficients[e];
                if (coefficient == 0 || dimOfLoop[e] < 0)
                {
                    continue;
                }

                var main = nest.Accumulator.Indices[dimOfLoop[e]];
                baseOffset += coefficient * main.Constant * tensorStrides[d];
                for (var l = 0; l < mainLoops; l++)
                {
                    strides[l] += coefficient * main.Coefficients[l] * tensorStrides[d];
                }
            }
        }

        return new VnniOffset(baseOffset, strides);
    }

    private static AccessInstance? FindLoad(ValueExpr value, int tensor) => value switch
    {
        LoadValue load when load.Access.Tensor == tensor => load.Access,
        CastValue cast => FindLoad(cast.Operand, tensor),
        UnaryValue unary => FindLoad(unary.Operand, tensor),
        BinaryValue binary => FindLoad(binary.Left, tensor) ?? FindLoad(binary.Right, tensor),
        CallValue call => call.Arguments.Select(a => FindLoad(a, tensor)).FirstOrDefault(a => a is not null),
        _ => null,
    };
}
