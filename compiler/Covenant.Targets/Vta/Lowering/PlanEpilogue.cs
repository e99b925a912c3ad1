using System.Collections.Immutable;
using Covenant.Codelets;
using Covenant.Codelets.Semantics;
using Covenant.Core.Diagnostics;
using Covenant.Mapping.Model;
using Covenant.Runtime.Vta;

namespace Covenant.Targets.Vta.Lowering;

/// <summary>An element-wise step on ACC rows before the store; <see cref="Operand"/> indexes <see cref="EpiloguePlan.Operands"/> (-1 for an immediate).</summary>
internal sealed record AluStep(VtaAluOpcode Op, int? Immediate, int Operand, string Text);

/// <summary>A tensor the epilogue reads (a bias), laid out like the accumulator restricted to the dimensions it shares; <see cref="CoordOfAcc"/> maps accumulator coordinates to its own (-1: absent).</summary>
internal sealed record EpilogueOperand(TensorInstance Tensor, TensorModel Model, ImmutableArray<int> CoordOfAcc);

internal sealed record EpiloguePlan(ImmutableArray<EpilogueOperand> Operands, ImmutableArray<AluStep> Steps);

/// <summary>
/// Step: turns the mapping's epilogue into ALU steps (immediates split or masked to the ALU's 16-bit field) and lays
/// out each tensor operand as ACC rows, lane for lane with the accumulator. Errors point at the epilogue nest.
/// </summary>
internal static class PlanEpilogue
{
    public static Result<EpiloguePlan> Run(LoweringContext context, VtaTensors tensors, TensorLayouts layouts)
    {
        var gemm = context.Gemm;
        var instance = context.Mapping.Instance;
        for (var n = 0; n < instance.Nests.Length; n++)
        {
            var other = instance.Nests[n];
            if (n != gemm.NestIndex && (other.Statements.Length != 1 || other.Statements[0].Target.Tensor != tensors.Out.Index || tensors.Acc.Index == tensors.Out.Index))
            {
                return LoweringContext.Fail<EpiloguePlan>(VtaLoweringDiagnostics.UnsupportedNest, context.NestLocation(n),
                    $"nest {n} of '{instance.Name}' is not an element-wise epilogue writing '{tensors.Out.Name}'; the VTA lowering runs the main nest and one epilogue nest");
            }
        }

        var at = gemm.Epilogue?.Location ?? gemm.Location;
        var operands = ImmutableArray.CreateBuilder<EpilogueOperand>();
        var steps = ImmutableArray.CreateBuilder<AluStep>();
        foreach (var resolved in gemm.EpilogueSteps)
        {
            var step = resolved.Step;
            var op = step.Op switch
            {
                EpilogueOp.Add => VtaAluOpcode.Add,
                EpilogueOp.Max => VtaAluOpcode.Max,
                EpilogueOp.Min => VtaAluOpcode.Min,
                _ => VtaAluOpcode.Shr,
            };
            if (resolved.Operand is { } tensor)
            {
                var operand = OperandIndex(context, tensor, layouts.Acc, tensors.Acc, operands);
                if (!operand.Succeeded)
                {
                    return Result<EpiloguePlan>.Failure(operand.Diagnostics);
                }

                steps.Add(new AluStep(op, null, operand.Value.Value, $"{op.ToString().ToUpperInvariant()} {tensor.Name}"));
                continue;
            }

            if (step.Immediate is not { } value)
            {
                return LoweringContext.Fail<EpiloguePlan>(VtaLoweringDiagnostics.UnsupportedEpilogue, at, $"epilogue step {step.Op} has neither an immediate nor a tensor operand");
            }

            if (op is not (VtaAluOpcode.Shr or VtaAluOpcode.Add) && (value < short.MinValue || value > short.MaxValue))
            {
                return LoweringContext.Fail<EpiloguePlan>(VtaLoweringDiagnostics.UnsupportedEpilogue, at,
                    $"epilogue {step.Op} with {value}: the ALU immediate is a signed 16-bit field [{short.MinValue}, {short.MaxValue}]");
            }

            steps.AddRange(ImmediateSteps(op, value));
        }

        return Result<EpiloguePlan>.Success(new EpiloguePlan(operands.ToImmutable(), steps.ToImmutable()));
    }

    private static IEnumerable<AluStep> ImmediateSteps(VtaAluOpcode op, long value)
    {
        switch (op)
        {
            case VtaAluOpcode.Shr:
                // The codelet semantics take shift amounts modulo 32; VTA's portable range is [0, 31].
                yield return new AluStep(op, (int)(value & 31), -1, $"SHR {value & 31}");
                break;
            case VtaAluOpcode.Add:
            {
                // Wrapping i32 addition: split the 32-bit addend into 16-bit-immediate pieces.
                var remaining = (long)unchecked((int)value);
                while (remaining != 0)
                {
                    var piece = Math.Clamp(remaining, short.MinValue, short.MaxValue);
                    yield return new AluStep(op, (int)piece, -1, $"ADD {piece}");
                    remaining -= piece;
                }

                break;
            }

            default:
                yield return new AluStep(op, (int)value, -1, $"{op.ToString().ToUpperInvariant()} {value}");
                break;
        }
    }

    /// <summary>
    /// An epilogue tensor (a bias) indexed by a subset of the accumulator's indices in the epilogue nest: it is laid
    /// out like the accumulator restricted to those dimensions and loaded as ACC rows, lane for lane.
    /// </summary>
    private static Result<Box<int>> OperandIndex(
        LoweringContext context, GemmTensor operand, TensorModel acc, GemmTensor accTensor, ImmutableArray<EpilogueOperand>.Builder operands)
    {
        var existing = operands.Select(o => o.Tensor.Name).ToList().IndexOf(operand.Name);
        if (existing >= 0)
        {
            return Result<Box<int>>.Success(new(existing));
        }

        var epilogue = context.Gemm.Epilogue!;
        var at = context.AccessLocation(epilogue.Statement.Syntax, operand.Name);
        var tensor = operand.Tensor;
        if (tensor.Role != TensorRole.Input || !tensor.ElementType.IsInteger())
        {
            return Unsupported($"epilogue operand '{operand.Name}' must be an integer input");
        }

        if (epilogue.AccumulatorRead is not { } accAccess)
        {
            return LoweringContext.Fail<Box<int>>(VtaLoweringDiagnostics.InvalidMapping, epilogue.Location, $"the epilogue nest does not read '{accTensor.Name}'");
        }

        // operand dim -> accumulator dim
        var dimOfAcc = new int[accTensor.Tensor.Shape.Length];
        Array.Fill(dimOfAcc, -1);
        for (var d = 0; d < operand.Access.Indices.Length; d++)
        {
            var loop = SingleLoop(operand.Access.Indices[d]);
            var accDim = loop < 0 ? -1 : accAccess.Indices.Select(SingleLoop).ToList().IndexOf(loop);
            if (accDim < 0)
            {
                return Unsupported($"epilogue operand '{operand.Name}' dimension {d} must be indexed like one of the accumulator's dimensions");
            }

            dimOfAcc[accDim] = d;
        }

        var model = Restrict(acc, tensor, dimOfAcc);
        if (model is null)
        {
            return Unsupported($"epilogue operand '{operand.Name}' does not vary along the accumulator's lanes (the GEMM's j axis); the ALU combines rows lane by lane, so it cannot broadcast one value across a row");
        }

        operands.Add(model);
        return Result<Box<int>>.Success(new(operands.Count - 1));

        Result<Box<int>> Unsupported(string message) => LoweringContext.Fail<Box<int>>(VtaLoweringDiagnostics.UnsupportedEpilogue, at, message);
    }

    private static int SingleLoop(AffineIndex index)
    {
        var used = Enumerable.Range(0, index.Coefficients.Length).Where(l => index.Coefficients[l] != 0).ToList();
        return used.Count == 1 && index.Coefficients[used[0]] == 1 && index.Constant == 0 ? used[0] : -1;
    }

    /// <summary>The accumulator's parts restricted to the operand's dimensions, in the accumulator's order; null when a lane level is dropped.</summary>
    private static EpilogueOperand? Restrict(TensorModel acc, TensorInstance tensor, int[] dimOfAcc)
    {
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

        var lanes = ImmutableArray.CreateBuilder<VtaLayoutLevel>();
        foreach (var level in acc.LaneLevels)
        {
            if (level.Part >= 0 && !keepPart[level.Part])
            {
                return null;
            }

            lanes.Add(level.Part >= 0 ? level with { Part = partIndex[level.Part] } : level);
        }

        var model = new TensorModel { Tensor = tensor, Parts = parts.ToImmutable(), Coords = TensorModels.WithDramStrides(coords.ToImmutable()), LaneLevels = lanes.ToImmutable() };
        return new EpilogueOperand(tensor, model, [.. coordOfAcc]);
    }
}

/// <summary>A reference wrapper so a value can travel in a <see cref="Result{T}"/> (which holds classes).</summary>
internal sealed record Box<T>(T Value);
