using System.Collections.Immutable;
using Covenant.Codelets;
using Covenant.Codelets.Semantics;
using Covenant.Mapping.Model;
using Covenant.Runtime.Vnni;

namespace Covenant.Targets.Vnni.Kernel;

/// <summary>
/// Every buffer of the program, by index (the order the C declares them), and what decides them: whether the kernel
/// reads A in place, which tensors need a per-row offset table, whether the group offsets need a table, how many
/// leading epilogue additions fold into the accumulators' start.
/// </summary>
/// <param name="Tensors">The buffer of each codelet input and of the output.</param>
/// <param name="APrime">The buffer the kernel broadcasts from: A' (scratch), or A itself when <paramref name="ReadsA"/>.</param>
/// <param name="Compensation">-128 x the column sums of B (signed A), or -1.</param>
/// <param name="RowTables">rows_NAME[m] = offset of flattened row m in "a" (A'), "c" (the output) or an epilogue tensor.</param>
/// <param name="GroupTable">groups_a[g] = A' offset of reduction group g where the groups are not evenly spaced, or -1.</param>
/// <param name="GroupStep">A' offset between reduction groups when they are evenly spaced.</param>
/// <param name="Partial">Per-thread MC x NC tile of partial sums between KC blocks, or -1.</param>
/// <param name="LeadingAdditions">Leading epilogue additions that do not depend on the row: they fold into the start.</param>
/// <param name="Initial">Each column's starting accumulator (compensation plus the folded additions), or -1.</param>
internal sealed record VnniKernelBuffers(
    ImmutableArray<VnniBufferInfo> All,
    ImmutableDictionary<string, int> Tensors,
    int APrime,
    bool ReadsA,
    int BPacked,
    int Compensation,
    ImmutableDictionary<string, int> RowTables,
    int GroupTable,
    long GroupStep,
    int Partial,
    int LeadingAdditions,
    int Initial);

/// <summary>Step 1: lays out the buffers (see <see cref="VnniKernelBuffers"/>).</summary>
internal static class LayOutBuffers
{
    public static VnniKernelBuffers Run(VnniKernelContext context)
    {
        var (plan, gemm) = (context.Plan, context.Gemm);
        var all = new List<VnniBufferInfo>();
        int Add(string name, VnniScalarType type, long length, VnniBufferKind kind, string? tensor)
        {
            all.Add(new VnniBufferInfo(all.Count, name, type, Math.Max(1, length), kind, tensor));
            return all.Count - 1;
        }

        var tensors = ImmutableDictionary.CreateBuilder<string, int>(StringComparer.Ordinal);
        foreach (var tensor in plan.Instance.Tensors.Where(t => t.Role == TensorRole.Input))
        {
            tensors[tensor.Name] = Add(tensor.Name, TypeOf(tensor.ElementType), tensor.ElementCount, VnniBufferKind.Input, tensor.Name);
        }

        var output = plan.Instance.Tensors.First(t => t.Name == plan.Output);
        tensors[output.Name] = Add(output.Name, TypeOf(output.ElementType), output.ElementCount, VnniBufferKind.Output, output.Name);
        var readsA = ReadsADirectly(gemm);
        var aPrime = readsA ? tensors[gemm.A.Name] : Add("a_prime", VnniScalarType.U8, gemm.APrimeLength, VnniBufferKind.Scratch, null);
        var bPacked = Add("b_packed", VnniScalarType.I8, gemm.OuterCount * plan.PaddedN * gemm.Groups * 4, VnniBufferKind.Persistent, null);
        var compensation = gemm.Compensate ? Add("compensation", VnniScalarType.I32, gemm.OuterCount * plan.PaddedN, VnniBufferKind.Persistent, null) : -1;

        // The offset tables, in the order the init function fills them.
        var rowTables = ImmutableDictionary.CreateBuilder<string, int>(StringComparer.Ordinal);
        int RowTable(string name) => rowTables[name] = Add("rows_" + name, VnniScalarType.I32, gemm.M, VnniBufferKind.Persistent, null);
        var (groupTable, groupStep) = (-1, 4L);
        if (gemm.AMode == VnniAMode.Direct)
        {
            RowTable("a");
            var offsets = gemm.GroupOffsetsAPrime();
            groupStep = offsets.Length > 1 ? offsets[1] : 4;
            if (offsets.Select((o, g) => o == g * groupStep).Any(same => !same))
            {
                groupTable = Add("groups_a", VnniScalarType.I32, gemm.Groups, VnniBufferKind.Persistent, null);
            }
        }

        foreach (var (name, strides) in new[] { ("c", gemm.StrideC) }.Concat(gemm.EpilogueTensors.Select(t => (t.Name, t.Strides))))
        {
            if (gemm.DependsOnRows(strides))
            {
                RowTable(name);
            }
        }

        var partial = plan.KC < gemm.Groups ? Add("partial", VnniScalarType.I32, (long)plan.Threads * plan.MC * plan.NC, VnniBufferKind.Scratch, null) : -1;
        var leading = gemm.Epilogue.TakeWhile(step => step.Op == EpilogueOp.Add && (step.Tensor is null || !rowTables.ContainsKey(step.Tensor))).Count();
        var initial = gemm.Compensate || leading > 0 ? Add("initial", VnniScalarType.I32, gemm.OuterCount * plan.PaddedN, VnniBufferKind.Scratch, null) : -1;
        return new VnniKernelBuffers(
            [.. all], tensors.ToImmutable(), aPrime, readsA, bPacked, compensation, rowTables.ToImmutable(), groupTable, groupStep, partial, leading, initial);
    }

    // The analysis admits i8, u8 and i32 tensors only.
    private static VnniScalarType TypeOf(ElementType type) => type switch
    {
        ElementType.I8 => VnniScalarType.I8,
        ElementType.U8 => VnniScalarType.U8,
        _ => VnniScalarType.I32,
    };

    // When A' would be A itself (no padding, the same layout: a GEMM's or a 1x1 stride-1 convolution's activations,
    // K a multiple of 4), the kernel broadcasts from A and flips each byte's sign bit in the register (i8 x + 128 =
    // u8 x ^ 0x80), instead of a pass over all of A on every run.
    private static bool ReadsADirectly(VnniGemm gemm)
    {
        if (gemm.AMode != VnniAMode.Direct || gemm.APrimeLength != gemm.A.ElementCount)
        {
            return false;
        }

        var strides = VnniAPrimeLayout.DenseStrides(gemm.APrimeDims);
        return gemm.APrimeDims.Select((dim, i) => dim.ValidFrom == 0 && dim.ValidTo == dim.Extent && dim.SourceFirst == 0 && dim.SourceStride == strides[i])
            .All(same => same);
    }
}
