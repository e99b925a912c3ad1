using System.Diagnostics;
using Microsoft.Z3;

namespace Covenant.Mapping.Z3;

/// <summary>What a solver check decided.</summary>
public enum SolverVerdict
{
    Sat,
    Unsat,
    Unknown,
}

/// <summary>
/// The result of one bounded solver check: the verdict, and then the model (sat), the unsat core over the
/// assumptions (unsat), or Z3's reason (unknown: "timeout", "canceled", "incomplete quantifiers", ...).
/// The model and the core belong to the solver's context: use them on its thread, before it is disposed.
/// </summary>
public sealed record SolverOutcome(
    SolverVerdict Verdict,
    Microsoft.Z3.Model? Model,
    IReadOnlyList<BoolExpr> UnsatCore,
    string? UnknownReason,
    TimeSpan Elapsed)
{
    public bool IsSat => Verdict == SolverVerdict.Sat;

    public bool IsUnsat => Verdict == SolverVerdict.Unsat;

    public override string ToString() => Verdict switch
    {
        SolverVerdict.Sat => "sat",
        SolverVerdict.Unsat => "unsat",
        _ => $"unknown ({UnknownReason})",
    };
}

/// <summary>Solver checks with a timeout: every solver call in Covenant goes through here.</summary>
public static class SolverChecks
{
    /// <summary>
    /// Checks <paramref name="solver"/>'s assertions, under <paramref name="assumptions"/> if any, giving up after
    /// <paramref name="timeoutMs"/> milliseconds (the verdict is then unknown, reason "timeout" or "canceled").
    /// The timeout stays set on the solver for later checks.
    /// </summary>
    public static SolverOutcome CheckWithTimeout(this Solver solver, int timeoutMs, params BoolExpr[] assumptions)
    {
        ArgumentNullException.ThrowIfNull(solver);
        ArgumentNullException.ThrowIfNull(assumptions);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(timeoutMs);

        solver.Set("timeout", (uint)timeoutMs);
        var clock = Stopwatch.StartNew();
        var status = solver.Check((Expr[])assumptions);
        clock.Stop();

        return status switch
        {
            Status.SATISFIABLE => new SolverOutcome(SolverVerdict.Sat, solver.Model, [], null, clock.Elapsed),
            Status.UNSATISFIABLE => new SolverOutcome(SolverVerdict.Unsat, null, assumptions.Length == 0 ? [] : solver.UnsatCore, null, clock.Elapsed),
            _ => new SolverOutcome(SolverVerdict.Unknown, null, [], solver.ReasonUnknown, clock.Elapsed),
        };
    }
}
