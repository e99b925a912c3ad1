
namespace Covenant.Runtime.TensorCore;

/// <summary>
/// Which lane holds which element, per the PTX ISA's fragment layouts (g = lane / 4, the "group", t = lane % 4, the
/// "thread in group"). A 32-bit register holds two f16 (element 0 in the low half) or four s8 (element 0 in the low
/// byte).
/// <list type="bullet">
/// <item><c>ldmatrix .m8n8 .b16</c>: matrix j (8 rows of 16 bytes, row i's address from lane 8j + i) lands in
/// register j; lane L holds row L/4, 16-bit columns 2(L%4) and 2(L%4)+1. With <c>.trans</c> it holds column L/4,
/// rows 2(L%4) and 2(L%4)+1 instead.</item>
/// <item><c>mma.m16n8k16</c> f16 A (16 x 16, row): register r holds row g + 8(r%2), k = 2t + e + 8(r/2).
/// B (16 x 8, col): register r holds k = 2t + e + 8r, column g.</item>
/// <item><c>mma.m16n8k32</c> s8 A (16 x 32, row): register r holds row g + 8(r%2), k = 4t + e + 16(r/2).
/// B (32 x 8, col): register r holds k = 4t + e + 16r, column g.</item>
/// <item>C/D (16 x 8, f32 or s32, both shapes): register r holds row g + 8(r/2), column 2t + r%2.</item>
/// </list>
/// </summary>
public static class TensorCoreFragments
{
    /// <summary>Elements per 32-bit register of an A or B fragment.</summary>
    public static int ElementsPerRegister(TensorCoreMmaShape shape) => shape == TensorCoreMmaShape.M16N8K16F16 ? 2 : 4;

    public static int K(TensorCoreMmaShape shape) => shape == TensorCoreMmaShape.M16N8K16F16 ? 16 : 32;

    /// <summary>ldmatrix: the (row, 16-bit column) of its matrix that half <paramref name="half"/> of lane <paramref name="lane"/>'s register holds.</summary>
    public static (int Row, int Column) LdMatrix(int lane, int half, bool trans) =>
        trans ? ((2 * (lane % 4)) + half, lane / 4) : (lane / 4, (2 * (lane % 4)) + half);

    /// <summary>mma A: (row, k) of element <paramref name="element"/> of register <paramref name="register"/> (0..3) of a lane.</summary>
    public static (int Row, int K) A(TensorCoreMmaShape shape, int lane, int register, int element)
    {
        var per = ElementsPerRegister(shape);
        return ((lane / 4) + (8 * (register % 2)), (per * (lane % 4)) + element + (register / 2 * per * 4));
    }

    /// <summary>mma B: (k, column) of element <paramref name="element"/> of register <paramref name="register"/> (0..1) of a lane.</summary>
    public static (int K, int Column) B(TensorCoreMmaShape shape, int lane, int register, int element)
    {
        var per = ElementsPerRegister(shape);
        return ((per * (lane % 4)) + element + (register * per * 4), lane / 4);
    }

    /// <summary>mma C and D: (row, column) of register <paramref name="register"/> (0..3) of a lane.</summary>
    public static (int Row, int Column) C(int lane, int register) => ((lane / 4) + (8 * (register / 2)), (2 * (lane % 4)) + (register % 2));
}
