using System.Collections.Immutable;
using Covenant.Codelets.Semantics;
using Covenant.Runtime.Vnni;

namespace Covenant.Targets.Vnni.Kernel;

/// <summary>
/// What every step of <see cref="VnniKernelBuilder"/> reads: the plan, its implicit GEMM, and the numbering of
/// variables, registers and outlined blocks. The numbering is the one mutable part, on purpose: numbers are unique
/// across the program and the C names carry them, so they are handed out in the order the steps run (see the
/// builder's step list).
/// </summary>
internal sealed class VnniKernelContext(VnniKernelPlan plan)
{
    private int variables;
    private int registers;
    private int outlined;

    public VnniKernelPlan Plan { get; } = plan;

    public VnniGemm Gemm { get; } = plan.Gemm
        ?? throw new ArgumentException("the plan was not made by VnniKernelPlan.Choose or FromMapping", nameof(plan));

    public int Lanes => Plan.Isa.Lanes;

    public bool Threaded => Plan.Threads > 1;

    /// <summary>Bytes of one group of a packed B panel (NR vectors of 4 bytes per lane).</summary>
    public long PanelBytes => Plan.PanelWidth * 4L;

    /// <summary>Variables handed out so far (the program declares this many).</summary>
    public int Variables => variables;

    /// <summary>Vector registers handed out so far.</summary>
    public int Registers => registers;

    public VnniVar Var(string name) => new(variables++, name);

    public VnniVReg Reg(string name) => new(registers++, name);

    /// <summary>The number of the next outlined register block (its C function's name).</summary>
    public int NextOutline() => ++outlined;

    /// <summary>A variable for each of <paramref name="loops"/>, named after the codelet loop.</summary>
    public Dictionary<int, VnniVar> LoopVars(IEnumerable<int> loops) => loops.ToDictionary(l => l, l => Var(Gemm.Loops[l].Name));

    /// <summary>Inside the run's parallel region, work outside a work-shared loop is done by one thread.</summary>
    public VnniStmt OneThread(VnniStmt statement) => Threaded ? new VnniSingle(Wrap(statement)) : statement;

    public static VnniBlock Wrap(VnniStmt statement) => statement as VnniBlock ?? new VnniBlock([statement]);

    /// <summary>The loops around a body, the first outermost; <paramref name="parallelLoop"/> is work-shared.</summary>
    public VnniBlock Nest(IReadOnlyList<int> loops, IReadOnlyDictionary<int, VnniVar> vars, Func<IReadOnlyList<VnniStmt>> body, int parallelLoop = -1)
    {
        var inner = new VnniBlock([.. body()]);
        for (var i = loops.Count - 1; i >= 0; i--)
        {
            inner = new VnniBlock([new VnniFor(vars[loops[i]], 0, Gemm.Loops[loops[i]].Extent, 1, inner, loops[i] == parallelLoop, NoWait: true)]);
        }

        return inner;
    }

    /// <summary>The flat index of the loops' values in their mixed radix (the last loop fastest).</summary>
    public VnniExpr Flat(IReadOnlyList<int> loops, IReadOnlyDictionary<int, VnniVar> vars)
    {
        VnniExpr result = 0;
        long radix = 1;
        for (var i = loops.Count - 1; i >= 0; i--)
        {
            result = (new VnniVarRef(vars[loops[i]]) * radix) + result;
            radix *= Gemm.Loops[loops[i]].Extent;
        }

        return result;
    }

    /// <summary><c>constant + Σ strides[l] · var l</c> over the loops that have a variable.</summary>
    public static VnniExpr Dot(long constant, long[] strides, IReadOnlyDictionary<int, VnniVar> vars)
    {
        VnniExpr result = constant;
        foreach (var (l, v) in vars.OrderBy(p => p.Key))
        {
            if (strides[l] != 0)
            {
                result += new VnniVarRef(v) * strides[l];
            }
        }

        return result;
    }

    /// <summary>1 when every dimension of a (padded) access is inside the tensor.</summary>
    public static VnniExpr InBounds(AccessInstance access, ImmutableArray<int> shape, IReadOnlyDictionary<int, VnniVar> vars)
    {
        VnniExpr result = 1;
        for (var d = 0; d < access.Indices.Length; d++)
        {
            var index = access.Indices[d];
            VnniExpr value = index.Constant;
            for (var l = 0; l < index.Coefficients.Length; l++)
            {
                if (index.Coefficients[l] != 0 && vars.TryGetValue(l, out var v))
                {
                    value += new VnniVarRef(v) * index.Coefficients[l];
                }
            }

            if (value is VnniConst)
            {
                continue;
            }

            result = VnniExpr.And(result, VnniExpr.And(VnniExpr.Less(-1, value), VnniExpr.Less(value, shape[d])));
        }

        return result;
    }
}
