using System.Collections.Immutable;
using Covenant.Acg.Model;
using Covenant.Codelets.Semantics;
using Covenant.Codelets.Syntax;
using Covenant.Core.Diagnostics;
using Covenant.Mapping.Analysis;

namespace Covenant.Mapping.Model;

/// <summary>Resolves a <see cref="LayerMapping"/> into its <see cref="GemmView"/>; every failure points at the codelet or YAML element at fault.</summary>
internal static class GemmViewBuilder
{
    public static Result<GemmView> Build(LayerMapping mapping)
    {
        var instance = mapping.Instance;
        var graph = mapping.Graph;
        if (mapping.NestIndex < 0 || mapping.NestIndex >= instance.Nests.Length)
        {
            return Inconsistent(instance.Syntax.Location, $"nest {mapping.NestIndex} does not exist in '{instance.Name}'");
        }

        var nest = instance.Nests[mapping.NestIndex];
        if (nest.Statements.Length != 1 || nest.Statements[0] is not { Kind: AssignKind.Accumulate } statement)
        {
            return Failure(MappingDiagnostics.NotAGemm, instance.NestLocation(mapping.NestIndex),
                $"nest {mapping.NestIndex} of '{instance.Name}' must be one accumulation 'acc[..] += a[..] * b[..]'");
        }

        if (AccumulationFinder.StripCasts(statement.Value) is not BinaryValue { Op: BinaryOp.Multiply } product
            || AccumulationFinder.StripCasts(product.Left) is not LoadValue left
            || AccumulationFinder.StripCasts(product.Right) is not LoadValue right)
        {
            return Failure(MappingDiagnostics.NotAGemm, statement.Syntax.Location,
                $"the accumulation of '{instance.Name}' must add a product of two tensor elements");
        }

        if (graph.FindNode(mapping.ComputeNode) is not ComputeNode node)
        {
            return Inconsistent(graph.Location, $"the architecture has no compute node '{mapping.ComputeNode}'");
        }

        if (node.FindCapability(mapping.Capability) is not { } capability)
        {
            return Inconsistent(node.Location, $"compute node '{mapping.ComputeNode}' has no capability '{mapping.Capability}'");
        }

        if (MacCapability.All(graph).FirstOrDefault(m => m.Node == node && m.Capability == capability) is not { } mac)
        {
            return Failure(MappingDiagnostics.NotAGemm, capability.Location,
                $"capability '{capability.Name}' is not a multiply-accumulate 'out[..] += a[..] * b[..]' whose every axis indexes two of its operands");
        }

        var operands = Operands(mapping, mac, statement, left.Access, right.Access);
        if (!operands.Succeeded)
        {
            return Result<GemmView>.Failure(operands.Diagnostics);
        }

        var (a, b, c) = operands.Value.Value;
        var loops = Loops(mapping, mac, nest, c, a, b);
        if (!loops.Succeeded)
        {
            return Result<GemmView>.Failure(loops.Diagnostics);
        }

        var axes = mac.Capability.Shape
            .Select(axis => new GemmAxis(
                axis,
                mac.RoleOf(axis.Name)!.Value,
                mapping.Embedding.FirstOrDefault(e => e.Axis == axis.Name),
                loops.Value.Value.FirstOrDefault(l => l.Axis == axis)))
            .ToImmutableArray();

        var epilogue = Epilogue(mapping, c);
        if (!epilogue.Succeeded)
        {
            return Result<GemmView>.Failure(epilogue.Diagnostics);
        }

        return Result<GemmView>.Success(new GemmView
        {
            Mapping = mapping,
            Instance = instance,
            NestIndex = mapping.NestIndex,
            Nest = nest,
            Statement = statement,
            ComputeNode = node,
            Capability = capability,
            A = a,
            B = b,
            C = c,
            Output = epilogue.Value.Value.Nest?.Output ?? c.Tensor,
            Loops = loops.Value.Value,
            Axes = axes,
            EpilogueSteps = epilogue.Value.Value.Steps,
            Epilogue = epilogue.Value.Value.Nest,
        });
    }

    private static Result<GemmView> Failure(DiagnosticDescriptor descriptor, SourceLocation at, string message) =>
        Result<GemmView>.Failure(descriptor.Create(at, message));

    private static Result<GemmView> Inconsistent(SourceLocation at, string message) => Failure(MappingDiagnostics.InconsistentMapping, at, message);

    /// <summary>A, B and C: the tensors bound to the capability's factors and output, matched to the product's loads.</summary>
    private static Result<Box<(GemmOperand A, GemmOperand B, GemmOperand C)>> Operands(
        LayerMapping mapping, MacCapability mac, StatementInstance statement, AccessInstance left, AccessInstance right)
    {
        var instance = mapping.Instance;
        var location = statement.Syntax.Location;
        var bindings = new OperandBinding[3];
        var operands = new[] { mac.A, mac.B, mac.Out };
        for (var i = 0; i < 3; i++)
        {
            if (mapping.Operands.FirstOrDefault(o => o.Operand == operands[i].Name) is not { } binding)
            {
                return Fail(MappingDiagnostics.InconsistentMapping, location, $"no tensor is bound to operand '{operands[i].Name}' of capability '{mac.Capability.Name}'");
            }

            if (!instance.Tensors.Any(t => t.Name == binding.Tensor))
            {
                return Fail(MappingDiagnostics.InconsistentMapping, location, $"operand '{binding.Operand}' is bound to '{binding.Tensor}', which '{instance.Name}' does not have");
            }

            bindings[i] = binding;
        }

        var accumulator = instance.Tensors[statement.Target.Tensor];
        if (accumulator.Name != mapping.Accumulator || bindings[2].Tensor != accumulator.Name)
        {
            return Fail(MappingDiagnostics.InconsistentMapping, location,
                $"the mapping's accumulator is '{mapping.Accumulator}' (bound to '{bindings[2].Tensor}'), but the nest accumulates into '{accumulator.Name}'");
        }

        string NameOf(AccessInstance access) => instance.Tensors[access.Tensor].Name;
        var (accessA, accessB) = NameOf(left) == bindings[0].Tensor && NameOf(right) == bindings[1].Tensor ? (left, right)
            : NameOf(right) == bindings[0].Tensor && NameOf(left) == bindings[1].Tensor ? (right, left)
            : (null, null);
        if (accessA is null || accessB is null)
        {
            return Fail(MappingDiagnostics.InconsistentMapping, location,
                $"the operands '{bindings[0].Tensor}' ({mac.A.Name}) and '{bindings[1].Tensor}' ({mac.B.Name}) are not the two factors of the product in '{instance.Name}'");
        }

        var result = new GemmOperand[3];
        var accesses = new[] { accessA, accessB, statement.Target };
        for (var i = 0; i < 3; i++)
        {
            if (mapping.Graph.FindNode(bindings[i].Storage) is not StorageNode storage)
            {
                return Fail(MappingDiagnostics.InconsistentMapping, operands[i].Location,
                    $"operand '{operands[i].Name}' is placed in '{bindings[i].Storage}', which is not a storage node of '{mapping.Graph.Name}'");
            }

            var index = accesses[i].Tensor;
            var tensor = new GemmTensor(index, instance.Tensors[index], accesses[i], instance.TensorLocation(instance.Tensors[index].Name));
            result[i] = new GemmOperand(tensor, bindings[i], operands[i], storage);
        }

        return Result<Box<(GemmOperand, GemmOperand, GemmOperand)>>.Success(new((result[0], result[1], result[2])));

        static Result<Box<(GemmOperand, GemmOperand, GemmOperand)>> Fail(DiagnosticDescriptor descriptor, SourceLocation at, string message) =>
            Result<Box<(GemmOperand, GemmOperand, GemmOperand)>>.Failure(descriptor.Create(at, message));
    }

    /// <summary>The main nest's loops with their roles (from the accesses), mappings and axes.</summary>
    private static Result<Box<ImmutableArray<GemmLoop>>> Loops(
        LayerMapping mapping, MacCapability mac, LoopNestInstance nest, GemmOperand c, GemmOperand a, GemmOperand b)
    {
        var instance = mapping.Instance;
        var loops = ImmutableArray.CreateBuilder<GemmLoop>(nest.Loops.Length);
        for (var l = 0; l < nest.Loops.Length; l++)
        {
            var loop = nest.Loops[l];
            var location = instance.LoopLocation(mapping.NestIndex, loop.Name);
            if (mapping.Loops.FirstOrDefault(m => m.Loop == loop.Name) is not { } map)
            {
                return Result<Box<ImmutableArray<GemmLoop>>>.Failure(MappingDiagnostics.InconsistentMapping.Create(location, $"loop '{loop.Name}' has no mapping"));
            }

            var role = GemmView.RoleOf(c.Tensor.Access, a.Tensor.Access, b.Tensor.Access, l);
            var axisName = mapping.Embedding.FirstOrDefault(e => e.Loop == loop.Name)?.Axis;
            var axis = axisName is null ? null : mac.Capability.FindAxis(axisName);
            if (axisName is not null && axis is null)
            {
                return Result<Box<ImmutableArray<GemmLoop>>>.Failure(MappingDiagnostics.InconsistentMapping.Create(mac.Capability.Location,
                    $"loop '{loop.Name}' is laid along axis '{axisName}', which capability '{mac.Capability.Name}' does not have"));
            }

            loops.Add(new GemmLoop(l, loop, role, map, axis, location));
        }

        return Result<Box<ImmutableArray<GemmLoop>>>.Success(new(loops.MoveToImmutable()));
    }

    /// <summary>The epilogue nest (when the output is not the accumulator) and the mapping's epilogue steps, resolved.</summary>
    private static Result<Box<(GemmEpilogue? Nest, ImmutableArray<GemmEpilogueStep> Steps)>> Epilogue(LayerMapping mapping, GemmOperand c)
    {
        var instance = mapping.Instance;
        var graph = mapping.Graph;
        var outputIndex = instance.Tensors.Any(t => t.Name == mapping.Output) ? instance.IndexOf(mapping.Output) : -1;
        if (outputIndex < 0)
        {
            return Fail(instance.Syntax.Location, $"the mapping's output '{mapping.Output}' is not a tensor of '{instance.Name}'");
        }

        GemmEpilogue? epilogue = null;
        if (outputIndex != c.Tensor.Index)
        {
            var n = Enumerable.Range(0, instance.Nests.Length)
                .FirstOrDefault(n => n != mapping.NestIndex && instance.Nests[n].Statements is [{ } s] && s.Target.Tensor == outputIndex, -1);
            if (n < 0)
            {
                return Fail(instance.TensorLocation(mapping.Output),
                    $"the output '{mapping.Output}' differs from the accumulator '{c.Name}' but no nest computes it");
            }

            var statement = instance.Nests[n].Statements[0];
            var output = new GemmTensor(outputIndex, instance.Tensors[outputIndex], statement.Target, instance.TensorLocation(mapping.Output));
            epilogue = new GemmEpilogue(n, instance.Nests[n], statement, output, GemmView.FindLoad(statement.Value, c.Tensor.Index), []);
        }

        var steps = ImmutableArray.CreateBuilder<GemmEpilogueStep>(mapping.Epilogue.Length);
        var operands = ImmutableArray.CreateBuilder<GemmTensor>();
        foreach (var step in mapping.Epilogue)
        {
            if (graph.FindNode(step.ComputeNode) is not ComputeNode node || node.FindCapability(step.Capability) is not { } capability)
            {
                return Fail(graph.Location, $"the epilogue step {step.Op} names '{step.ComputeNode}.{step.Capability}', which is not a capability of '{graph.Name}'");
            }

            GemmTensor? operand = null;
            if (step.Tensor is { } name)
            {
                var found = Operand(instance, epilogue, name);
                if (!found.Succeeded)
                {
                    return Result<Box<(GemmEpilogue?, ImmutableArray<GemmEpilogueStep>)>>.Failure(found.Diagnostics);
                }

                operand = operands.FirstOrDefault(o => o.Name == name) ?? found.Value;
                if (!operands.Contains(operand))
                {
                    operands.Add(operand);
                }
            }

            steps.Add(new GemmEpilogueStep(step, node, capability, operand));
        }

        epilogue = epilogue is null ? null : epilogue with { Operands = operands.ToImmutable() };
        return Result<Box<(GemmEpilogue?, ImmutableArray<GemmEpilogueStep>)>>.Success(new((epilogue, steps.MoveToImmutable())));

        static Result<Box<(GemmEpilogue?, ImmutableArray<GemmEpilogueStep>)>> Fail(SourceLocation at, string message) =>
            Result<Box<(GemmEpilogue?, ImmutableArray<GemmEpilogueStep>)>>.Failure(MappingDiagnostics.InconsistentMapping.Create(at, message));
    }

    private static Result<GemmTensor> Operand(CodeletInstance instance, GemmEpilogue? epilogue, string name)
    {
        var index = instance.Tensors.Any(t => t.Name == name) ? instance.IndexOf(name) : -1;
        if (index < 0)
        {
            return Result<GemmTensor>.Failure(MappingDiagnostics.InconsistentMapping.Create(instance.Syntax.Location, $"the epilogue operand '{name}' is not a tensor of '{instance.Name}'"));
        }

        if (epilogue is null)
        {
            return Result<GemmTensor>.Failure(MappingDiagnostics.InconsistentMapping.Create(instance.TensorLocation(name), $"epilogue operand '{name}' needs an epilogue nest"));
        }

        if (GemmView.FindLoad(epilogue.Statement.Value, index) is not { } access)
        {
            return Result<GemmTensor>.Failure(MappingDiagnostics.InconsistentMapping.Create(epilogue.Location, $"the epilogue nest does not read '{name}'"));
        }

        return Result<GemmTensor>.Success(new GemmTensor(index, instance.Tensors[index], access, instance.TensorLocation(name)));
    }
}

/// <summary>A reference wrapper so value tuples and arrays can travel in a <see cref="Result{T}"/> (which holds classes).</summary>
internal sealed record Box<T>(T Value);
