using System.Collections.Immutable;
using Covenant.Codelets.Semantics;
using Covenant.Core.Diagnostics;
using Covenant.Mapping.Analysis;
using Covenant.Mapping.Model;

namespace Covenant.Targets.Vnni;

/// <summary>
/// The accumulation read as a GEMM with the broadcast operand A chosen: what <see cref="VnniGemmAnalysis"/> reads. It
/// comes from a mapping's <see cref="GemmView"/> (the compiler), or from the codelet alone by the same rules (the
/// runtime rebuilding a kernel from an artifact's plan file, which holds no mapping).
/// </summary>
/// <param name="Roles">Each main-nest loop's role with this A and B.</param>
/// <param name="Steps">The epilogue's steps on the accumulator, in order (empty without an epilogue).</param>
internal sealed record VnniGemmSource(
    CodeletInstance Instance,
    int NestIndex,
    ImmutableArray<LoopInstance> Loops,
    SourceLocation Statement,
    GemmTensor A,
    GemmTensor B,
    GemmTensor C,
    ImmutableArray<LoopRole> Roles,
    GemmEpilogue? Epilogue,
    ImmutableArray<EpilogueOperation> Steps)
{
    /// <summary>The view's orientation, or the swapped one (B broadcast: rows and columns trade places).</summary>
    public static VnniGemmSource FromView(GemmView view, bool swapped)
    {
        ArgumentNullException.ThrowIfNull(view);
        var roles = view.Loops.Select(l => swapped ? Swap(l.Role) : l.Role).ToImmutableArray();
        var steps = view.EpilogueSteps.Select(s => new EpilogueOperation(s.Step.Op, s.Step.Immediate, s.Step.Tensor)).ToImmutableArray();
        var (a, b) = swapped ? (view.B.Tensor, view.A.Tensor) : (view.A.Tensor, view.B.Tensor);
        return new VnniGemmSource(view.Instance, view.NestIndex, view.Nest.Loops, view.Location, a, b, view.C.Tensor, roles, view.Epilogue, steps);
    }

    /// <summary>The accumulation nest with <paramref name="a"/> as A, its epilogue nest resolved as a view would.</summary>
    public static Result<VnniGemmSource> FromCodelet(CodeletInstance instance, AccumulationNest nest, AccessInstance a, AccessInstance b)
    {
        ArgumentNullException.ThrowIfNull(instance);
        ArgumentNullException.ThrowIfNull(nest);
        GemmTensor Tensor(AccessInstance access) =>
            new(access.Tensor, instance.Tensors[access.Tensor], access, instance.TensorLocation(instance.Tensors[access.Tensor].Name));
        var c = Tensor(nest.Accumulator);
        var roles = Enumerable.Range(0, nest.Nest.Loops.Length).Select(l => GemmView.RoleOf(nest.Accumulator, a, b, l)).ToImmutableArray();
        var statement = nest.Nest.Statements[0].Syntax.Location;
        if (nest.Epilogue is not { } found)
        {
            return Result<VnniGemmSource>.Success(new VnniGemmSource(instance, nest.NestIndex, nest.Nest.Loops, statement, Tensor(a), Tensor(b), c, roles, null, []));
        }

        var epilogueStatement = instance.Nests[found.NestIndex].Statements[0];
        var operands = ImmutableArray.CreateBuilder<GemmTensor>();
        foreach (var name in found.Steps.Where(s => s.Tensor is not null).Select(s => s.Tensor!).Distinct())
        {
            if (GemmView.FindLoad(epilogueStatement.Value, instance.IndexOf(name)) is not { } load)
            {
                return Result<VnniGemmSource>.Failure(VnniDiagnostics.UnsupportedEpilogue.Create(epilogueStatement.Syntax.Location,
                    $"the epilogue operand '{name}' is not read as a tensor element"));
            }

            operands.Add(Tensor(load));
        }

        var epilogue = new GemmEpilogue(found.NestIndex, instance.Nests[found.NestIndex], epilogueStatement, Tensor(epilogueStatement.Target),
            GemmView.FindLoad(epilogueStatement.Value, nest.Accumulator.Tensor), operands.ToImmutable());
        return Result<VnniGemmSource>.Success(new VnniGemmSource(instance, nest.NestIndex, nest.Nest.Loops, statement, Tensor(a), Tensor(b), c, roles, epilogue, found.Steps));
    }

    private static LoopRole Swap(LoopRole role) => role switch
    {
        LoopRole.Row => LoopRole.Column,
        LoopRole.Column => LoopRole.Row,
        _ => role,
    };
}
