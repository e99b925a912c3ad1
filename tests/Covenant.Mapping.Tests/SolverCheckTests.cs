using Covenant.Mapping.Z3;
using Microsoft.Z3;

namespace Covenant.Mapping.Tests;

public sealed class SolverCheckTests
{
    [Test]
    public void FindsEveryFactorisationOf24WithFactorsFrom2To12()
    {
        using var ctx = Z3Runtime.CreateContext();
        var x = ctx.MkIntConst("x");
        var y = ctx.MkIntConst("y");
        var solver = ctx.MkSolver();
        solver.Add(
            ctx.MkEq(ctx.MkMul(x, y), ctx.MkInt(24)),
            ctx.MkLe(ctx.MkInt(2), x), ctx.MkLe(x, ctx.MkInt(12)),
            ctx.MkLe(ctx.MkInt(2), y), ctx.MkLe(y, ctx.MkInt(12)));

        var found = new List<(long X, long Y)>();
        for (var outcome = solver.CheckWithTimeout(5_000); outcome.IsSat; outcome = solver.CheckWithTimeout(5_000))
        {
            var xv = ((IntNum)outcome.Model!.Evaluate(x, true)).Int64;
            var yv = ((IntNum)outcome.Model.Evaluate(y, true)).Int64;
            Assert.That(xv * yv, Is.EqualTo(24));
            Assert.That(new[] { xv, yv }, Is.All.InRange(2, 12));
            found.Add((xv, yv));
            solver.Add(ctx.MkNot(ctx.MkAnd(ctx.MkEq(x, ctx.MkInt(xv)), ctx.MkEq(y, ctx.MkInt(yv))))); // block it
            Assert.That(found, Has.Count.LessThanOrEqualTo(6));
        }

        Assert.That(found.Order(), Is.EqualTo(new[] { (2L, 12L), (3L, 8L), (4L, 6L), (6L, 4L), (8L, 3L), (12L, 2L) }));
        Assert.That(solver.CheckWithTimeout(5_000).Verdict, Is.EqualTo(SolverVerdict.Unsat));
    }

    [Test]
    public void UnsatCoreNamesTheConflictingAssumptions()
    {
        using var ctx = Z3Runtime.CreateContext();
        var x = ctx.MkIntConst("x");
        var big = ctx.MkBoolConst("big");
        var small = ctx.MkBoolConst("small");
        var even = ctx.MkBoolConst("even");
        var solver = ctx.MkSolver();
        solver.Add(
            ctx.MkImplies(big, ctx.MkGt(x, ctx.MkInt(5))),
            ctx.MkImplies(small, ctx.MkLt(x, ctx.MkInt(3))),
            ctx.MkImplies(even, ctx.MkEq(ctx.MkMod(x, ctx.MkInt(2)), ctx.MkInt(0))));

        var outcome = solver.CheckWithTimeout(5_000, big, small, even);

        Assert.That(outcome.Verdict, Is.EqualTo(SolverVerdict.Unsat));
        Assert.That(outcome.ToString(), Is.EqualTo("unsat"));
        Assert.That(outcome.UnsatCore.Select(e => e.ToString()), Is.EquivalentTo(new[] { "big", "small" }));
        Assert.That(solver.CheckWithTimeout(5_000, big, even).IsSat, Is.True);
    }

    [Test]
    public void ATimeoutGivesUnknownWithTheReason()
    {
        using var ctx = Z3Runtime.CreateContext();
        var solver = ctx.MkSolver();
        solver.Add(Pigeonhole(ctx, 13));

        var outcome = solver.CheckWithTimeout(200);

        Assert.That(outcome.Verdict, Is.EqualTo(SolverVerdict.Unknown));
        Assert.That(outcome.UnknownReason, Does.Match("timeout|canceled"));
        Assert.That(outcome.ToString(), Does.StartWith("unknown ("));
        Assert.That(outcome.Elapsed, Is.LessThan(TimeSpan.FromSeconds(5)));
    }

    [Test]
    public void ContextsCarryTheirDefaultTimeout()
    {
        using var ctx = Z3Runtime.CreateContext(defaultTimeoutMs: 200);
        var solver = ctx.MkSolver();
        solver.Add(Pigeonhole(ctx, 13));

        var started = DateTime.UtcNow;
        var status = solver.Check(); // no timeout of its own

        Assert.That(status, Is.EqualTo(Status.UNKNOWN));
        Assert.That(DateTime.UtcNow - started, Is.LessThan(TimeSpan.FromSeconds(5)));
    }

    [Test]
    public void EveryCheckNeedsAPositiveTimeout()
    {
        using var ctx = Z3Runtime.CreateContext();
        var solver = ctx.MkSolver();

        Assert.That(() => solver.CheckWithTimeout(0), Throws.InstanceOf<ArgumentOutOfRangeException>());
        Assert.That(() => solver.CheckWithTimeout(-5), Throws.InstanceOf<ArgumentOutOfRangeException>());
    }

    /// <summary>n pigeons, n - 1 holes: unsat, and exponentially hard for resolution, so it outlasts any short timeout.</summary>
    internal static BoolExpr[] Pigeonhole(Context ctx, int pigeons)
    {
        var holes = pigeons - 1;
        var p = new BoolExpr[pigeons, holes];
        for (var i = 0; i < pigeons; i++)
        {
            for (var h = 0; h < holes; h++)
            {
                p[i, h] = ctx.MkBoolConst($"p_{i}_{h}");
            }
        }

        var clauses = new List<BoolExpr>();
        for (var i = 0; i < pigeons; i++)
        {
            clauses.Add(ctx.MkOr(Enumerable.Range(0, holes).Select(h => p[i, h])));
        }

        for (var h = 0; h < holes; h++)
        {
            for (var i = 0; i < pigeons; i++)
            {
                for (var j = i + 1; j < pigeons; j++)
                {
                    clauses.Add(ctx.MkOr(ctx.MkNot(p[i, h]), ctx.MkNot(p[j, h])));
                }
            }
        }

        return [.. clauses];
    }
}
