using Covenant.Runtime.TensorCore;
using Covenant.Targets.TensorCore;
using static Covenant.Targets.Tests.TensorCore.TensorCoreTestSupport;

namespace Covenant.Targets.Tests.TensorCore;

/// <summary>The XOR-swizzled shared layout keeps every ldmatrix phase (8 rows of 16 bytes) on 32 distinct banks.</summary>
public class TensorCoreSwizzleTests
{
    private static int DistinctBanks(IEnumerable<long> rowAddresses) =>
        rowAddresses.SelectMany(a => Enumerable.Range(0, 4).Select(w => TensorCoreSharedLayout.Bank(a + (4 * w)))).Distinct().Count();

    [TestCase(1)]
    [TestCase(2)]
    [TestCase(4)]
    [TestCase(8)]
    [TestCase(16)]
    public void EveryPhaseOfEightRowsHitsThirtyTwoBanks(int rowChunks)
    {
        for (var firstRow = 0; firstRow < 64; firstRow += 8)
        {
            for (var chunk = 0; chunk < rowChunks; chunk++)
            {
                var phase = Enumerable.Range(firstRow, 8).Select(row => TensorCoreSharedLayout.Offset(row, chunk, rowChunks));
                Assert.That(DistinctBanks(phase), Is.EqualTo(32), $"rows {firstRow}.. chunk {chunk} of {rowChunks}");
            }
        }
    }

    [Test]
    public void WithoutTheSwizzleRowsOf128BytesConflict()
    {
        var phase = Enumerable.Range(0, 8).Select(row => (long)row * 128);
        Assert.That(DistinctBanks(phase), Is.EqualTo(4), "eight rows 128 bytes apart share 4 banks: an 8-way conflict");
    }

    [TestCase(1)]
    [TestCase(4)]
    [TestCase(8)]
    [TestCase(16)]
    public void TheSwizzleIsAPermutationOfEachRow(int rowChunks)
    {
        for (var row = 0; row < 32; row++)
        {
            var offsets = Enumerable.Range(0, rowChunks).Select(c => TensorCoreSharedLayout.Offset(row, c, rowChunks)).ToList();
            Assert.That(offsets.Distinct().Count(), Is.EqualTo(rowChunks));
            Assert.That(offsets, Is.All.InRange(row * rowChunks * 16L, ((row + 1) * rowChunks * 16L) - 16));
        }
    }

    /// <summary>The ldmatrix address expressions of a built kernel, evaluated for each lane: every phase of 8 lanes reads
    /// 8 rows on 32 distinct banks (both operand layouts: A K-major, B N-major via ldmatrix.trans).</summary>
    [TestCase("gemm_f16", "M=128, N=128, K=128")]
    [TestCase("gemm", "M=128, N=128, K=256")]
    public void TheKernelsLdmatrixAddressesAreConflictFree(string codelet, string bindings)
    {
        var kernel = TensorCoreKernelBuilder.Build(Plan(codelet, bindings));
        var lets = kernel.Body.OfType<TensorCoreLet>().ToList();
        var loads = kernel.AllStatements().OfType<TensorCoreLdMatrix>().ToList();
        Assert.That(loads, Is.Not.Empty);
        for (var tid = 0; tid < kernel.Threads; tid += 32)
        {
            var phases = new Dictionary<(TensorCoreLdMatrix, int), List<long>>();
            for (var lane = 0; lane < 32; lane++)
            {
                var values = new Dictionary<string, long>(StringComparer.Ordinal) { ["tid"] = tid + lane, ["bx"] = 0, ["by"] = 0, ["bz"] = 0, ["sb"] = 0 };
                foreach (var let in lets)
                {
                    values[let.Var] = Evaluate(let.Value, values);
                }

                foreach (var load in loads.Where(l => lane < 8 * l.Count))
                {
                    var key = (load, lane / 8);
                    if (!phases.TryGetValue(key, out var rows))
                    {
                        phases[key] = rows = [];
                    }

                    rows.Add(Evaluate(load.Address, values));
                }
            }

            foreach (var ((load, matrix), rows) in phases)
            {
                Assert.That(DistinctBanks(rows), Is.EqualTo(32), $"warp {tid / 32}, {(load.Trans ? "ldmatrix.trans" : "ldmatrix")} into {load.Fragment}[{load.First}], matrix {matrix}");
            }
        }
    }

    private static long Evaluate(TensorCoreExpr expression, Dictionary<string, long> values) => expression switch
    {
        TensorCoreConst c => c.Value,
        TensorCoreVar v => values[v.Name],
        TensorCoreBinary b => b.Op switch
        {
            TensorCoreOp.Add => Evaluate(b.Left, values) + Evaluate(b.Right, values),
            TensorCoreOp.Sub => Evaluate(b.Left, values) - Evaluate(b.Right, values),
            TensorCoreOp.Mul => Evaluate(b.Left, values) * Evaluate(b.Right, values),
            TensorCoreOp.Div => Evaluate(b.Left, values) / Evaluate(b.Right, values),
            TensorCoreOp.Rem => Evaluate(b.Left, values) % Evaluate(b.Right, values),
            TensorCoreOp.Xor => Evaluate(b.Left, values) ^ Evaluate(b.Right, values),
            TensorCoreOp.Shl => Evaluate(b.Left, values) << (int)Evaluate(b.Right, values),
            TensorCoreOp.Less => Evaluate(b.Left, values) < Evaluate(b.Right, values) ? 1 : 0,
            TensorCoreOp.And => Evaluate(b.Left, values) != 0 && Evaluate(b.Right, values) != 0 ? 1 : 0,
            _ => throw new ArgumentOutOfRangeException(nameof(expression)),
        },
        _ => throw new ArgumentOutOfRangeException(nameof(expression)),
    };
}
