using Covenant.Mapping.Z3;

namespace Covenant.Mapping.Tests;

public sealed class SmtDumpTests
{
    private string directory = "";

    [SetUp]
    public void CreateDirectory() =>
        directory = Path.Combine(Path.GetTempPath(), "covenant-smt-" + Guid.NewGuid().ToString("N"));

    [TearDown]
    public void DeleteDirectory()
    {
        if (Directory.Exists(directory))
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Test]
    public void WritesNumberedSmtLib2FilesThatReplayToTheSameVerdict()
    {
        using var ctx = Z3Runtime.CreateContext();
        var x = ctx.MkIntConst("x");
        var sat = ctx.MkSolver();
        sat.Add(ctx.MkEq(ctx.MkMul(x, x), ctx.MkInt(49)), ctx.MkGt(x, ctx.MkInt(0)));
        var unsat = ctx.MkSolver();
        unsat.Add(ctx.MkGt(x, ctx.MkInt(3)), ctx.MkLt(x, ctx.MkInt(2)));
        var dump = new SmtDump(Path.Combine(directory, "nested"));

        var first = dump.Write(sat, "gemm tile/L1");
        var second = dump.Write(unsat, "");

        Assert.That(Path.GetFileName(first), Is.EqualTo("0001-gemm_tile_L1.smt2"));
        Assert.That(Path.GetFileName(second), Is.EqualTo("0002-query.smt2"));
        Assert.That(dump.Count, Is.EqualTo(2));
        var text = File.ReadAllText(first);
        Assert.That(text, Does.StartWith("; Covenant SMT dump 1: gemm tile/L1\n"));
        Assert.That(text, Does.Contain("(declare-fun x () Int)").And.Contain("(assert").And.EndWith("(check-sat)\n"));

        Assert.That(Replay(ctx, first), Is.EqualTo(SolverVerdict.Sat));
        Assert.That(Replay(ctx, second), Is.EqualTo(SolverVerdict.Unsat));
    }

    [Test]
    public void ConcurrentWritersGetDistinctNumbers()
    {
        var dump = new SmtDump(directory);
        var paths = Enumerable.Range(0, 8).AsParallel().Select(i =>
        {
            using var ctx = Z3Runtime.CreateContext();
            var solver = ctx.MkSolver();
            solver.Add(ctx.MkBoolConst($"b{i}"));
            return dump.Write(solver, $"q{i}");
        }).ToList();

        Assert.That(paths.Select(Path.GetFileName).Select(n => n![..4]).Order(), Is.EqualTo(Enumerable.Range(1, 8).Select(n => n.ToString("D4", null))));
        Assert.That(Directory.GetFiles(directory), Has.Length.EqualTo(8));
    }

    private static SolverVerdict Replay(Microsoft.Z3.Context ctx, string path)
    {
        var solver = ctx.MkSolver();
        solver.Add(ctx.ParseSMTLIB2File(path));
        return solver.CheckWithTimeout(5_000).Verdict;
    }
}
