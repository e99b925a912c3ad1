using Covenant.Runtime.TensorCore;
using Covenant.Targets.TensorCore;

namespace Covenant.Targets.Tests.TensorCore;

/// <summary>
/// The simulator's fragment layouts against an independent statement of the PTX ISA's tables, written per element
/// index i of a lane's fragment (a0..a7, b0..b3, c0..c3) rather than per register, as the ISA states them.
/// </summary>
public class TensorCoreFragmentTests
{
    // PTX ISA, "Matrix fragments for mma.m16n8k16 with floating point type": A element ai, i = 0..7.
    private static (int Row, int Col) PtxF16A(int lane, int i) =>
        ((i < 2 || (i >= 4 && i < 6)) ? lane >> 2 : (lane >> 2) + 8, ((lane % 4) * 2) + (i & 1) + (i >= 4 ? 8 : 0));

    // B element bi, i = 0..3: row (k) = threadID_in_group * 2 + (i & 1) (+ 8 for i >= 2), col = groupID.
    private static (int Row, int Col) PtxF16B(int lane, int i) => (((lane % 4) * 2) + (i & 1) + (i >= 2 ? 8 : 0), lane >> 2);

    // "Matrix fragments for mma.m16n8k32" (.s8): A element ai, i = 0..15.
    private static (int Row, int Col) PtxS8A(int lane, int i) =>
        ((i < 4 || (i >= 8 && i < 12)) ? lane >> 2 : (lane >> 2) + 8, ((lane % 4) * 4) + (i & 3) + (i >= 8 ? 16 : 0));

    // B element bi, i = 0..7.
    private static (int Row, int Col) PtxS8B(int lane, int i) => (((lane % 4) * 4) + (i & 3) + (i >= 4 ? 16 : 0), lane >> 2);

    // C/D element ci, i = 0..3 (both shapes): row = groupID (+ 8 for i >= 2), col = threadID_in_group * 2 + (i & 1).
    private static (int Row, int Col) PtxC(int lane, int i) => ((lane >> 2) + (i >= 2 ? 8 : 0), ((lane % 4) * 2) + (i & 1));

    [Test]
    public void F16FragmentsAreThePtxTables()
    {
        for (var lane = 0; lane < 32; lane++)
        {
            for (var i = 0; i < 8; i++)
            {
                Assert.That(TensorCoreFragments.A(TensorCoreMmaShape.M16N8K16F16, lane, i / 2, i % 2), Is.EqualTo(PtxF16A(lane, i)), $"lane {lane} a{i}");
            }

            for (var i = 0; i < 4; i++)
            {
                Assert.That(TensorCoreFragments.B(TensorCoreMmaShape.M16N8K16F16, lane, i / 2, i % 2), Is.EqualTo(PtxF16B(lane, i)), $"lane {lane} b{i}");
                Assert.That(TensorCoreFragments.C(lane, i), Is.EqualTo(PtxC(lane, i)), $"lane {lane} c{i}");
            }
        }
    }

    [Test]
    public void S8FragmentsAreThePtxTables()
    {
        for (var lane = 0; lane < 32; lane++)
        {
            for (var i = 0; i < 16; i++)
            {
                Assert.That(TensorCoreFragments.A(TensorCoreMmaShape.M16N8K32S8, lane, i / 4, i % 4), Is.EqualTo(PtxS8A(lane, i)), $"lane {lane} a{i}");
            }

            for (var i = 0; i < 8; i++)
            {
                Assert.That(TensorCoreFragments.B(TensorCoreMmaShape.M16N8K32S8, lane, i / 4, i % 4), Is.EqualTo(PtxS8B(lane, i)), $"lane {lane} b{i}");
            }
        }
    }

    [Test]
    public void EveryFragmentCoversItsMatrixOnce()
    {
        foreach (var shape in new[] { TensorCoreMmaShape.M16N8K16F16, TensorCoreMmaShape.M16N8K32S8 })
        {
            var k = TensorCoreFragments.K(shape);
            var per = TensorCoreFragments.ElementsPerRegister(shape);
            var a = new HashSet<(int, int)>();
            var b = new HashSet<(int, int)>();
            var c = new HashSet<(int, int)>();
            for (var lane = 0; lane < 32; lane++)
            {
                for (var e = 0; e < per; e++)
                {
                    for (var r = 0; r < 4; r++)
                    {
                        Assert.That(a.Add(TensorCoreFragments.A(shape, lane, r, e)), Is.True);
                    }

                    for (var r = 0; r < 2; r++)
                    {
                        Assert.That(b.Add(TensorCoreFragments.B(shape, lane, r, e)), Is.True);
                    }
                }

                for (var r = 0; r < 4; r++)
                {
                    Assert.That(c.Add(TensorCoreFragments.C(lane, r)), Is.True);
                }
            }

            Assert.That(a, Has.Count.EqualTo(16 * k).And.All.Matches<(int Row, int K)>(p => p.Row < 16 && p.K < k));
            Assert.That(b, Has.Count.EqualTo(k * 8).And.All.Matches<(int K, int Col)>(p => p.K < k && p.Col < 8));
            Assert.That(c, Has.Count.EqualTo(16 * 8));
        }
    }

    // ldmatrix x4 from a row-major 16 x 16 b16 tile, lanes addressing (row l % 8 + 8 ((l / 8) % 2), column chunk l / 16),
    // is exactly the f16 A fragment; .trans from a k-major (K x M) tile gives it too. This is how the kernel loads A.
    [Test]
    public void LdmatrixOfARowMajorTileIsTheAFragment()
    {
        for (var lane = 0; lane < 32; lane++)
        {
            for (var register = 0; register < 4; register++)
            {
                for (var half = 0; half < 2; half++)
                {
                    // Matrix `register` covers rows 8 (register % 2) .. +7, columns 8 (register / 2) .. +7.
                    var (row, column) = TensorCoreFragments.LdMatrix(lane, half, trans: false);
                    var loaded = ((8 * (register % 2)) + row, (8 * (register / 2)) + column);
                    Assert.That(loaded, Is.EqualTo(TensorCoreFragments.A(TensorCoreMmaShape.M16N8K16F16, lane, register, half)));

                    // Transposed: matrix `register` holds rows k = 8 (register / 2) + .., columns m = 8 (register % 2) + ..
                    var (kRow, mColumn) = TensorCoreFragments.LdMatrix(lane, half, trans: true);
                    var transposed = ((8 * (register % 2)) + mColumn, (8 * (register / 2)) + kRow);
                    Assert.That(transposed, Is.EqualTo(TensorCoreFragments.A(TensorCoreMmaShape.M16N8K16F16, lane, register, half)));
                }
            }
        }
    }
}
