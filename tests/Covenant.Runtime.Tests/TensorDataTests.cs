using Covenant.Codelets;
using static Covenant.Runtime.Tests.Tensors;

namespace Covenant.Runtime.Tests;

public sealed class TensorDataTests
{
    [Test]
    public void ElementsAreRowMajor()
    {
        var t = I32([2, 3], 0, 1, 2, 10, 11, 12);

        Assert.Multiple(() =>
        {
            Assert.That(t[1, 0], Is.EqualTo(10));
            Assert.That(t[0, 2], Is.EqualTo(2));
            Assert.That(t.FlatIndexOf([1, 2]), Is.EqualTo(5));
            Assert.That(t.IndexOf(4), Is.EqualTo(new[] { 1, 1 }));
            Assert.That(t.Length, Is.EqualTo(6));
            Assert.That(t.ToString(), Is.EqualTo("i32[2, 3]"));
        });
    }

    [Test]
    public void LargeInt32ValuesReadBackExactly()
    {
        // 2^24 + 1 is the first integer a float cannot hold; the comparer's reported values go through GetFlat.
        var t = I32([2], 16_777_217, int.MaxValue);
        Assert.Multiple(() =>
        {
            Assert.That(t.GetFlat(0), Is.EqualTo(16_777_217d));
            Assert.That(t[1], Is.EqualTo((double)int.MaxValue));
        });
    }

    [Test]
    public void OutOfBoundsIndicesThrow()
    {
        var t = I32([2, 3], new int[6]);

        Assert.Multiple(() =>
        {
            Assert.Throws<ArgumentOutOfRangeException>(() => _ = t[2, 0]);
            Assert.Throws<ArgumentOutOfRangeException>(() => _ = t[0, -1]);
            Assert.Throws<ArgumentException>(() => _ = t[0]);
        });
    }

    [Test]
    public void IntegerValuesMustFitTheElementType()
    {
        Assert.Multiple(() =>
        {
            Assert.Throws<ArgumentException>(() => I8([1], 128));
            Assert.Throws<ArgumentException>(() => I8([1], -129));
            Assert.Throws<ArgumentException>(() => U8([1], -1));
            Assert.Throws<ArgumentException>(() => U8([2], 1)); // too few values
            Assert.DoesNotThrow(() => I8([2], -128, 127));
        });
    }

    [Test]
    public void F16ValuesAreRoundedOnTheWayIn()
    {
        var t = F16([3], 1f + MathF.Pow(2, -11), 1f + (3 * MathF.Pow(2, -11)), 65520f);

        Assert.That(FloatValues(t), Is.EqualTo(new[] { 1f, 1f + MathF.Pow(2, -9), float.PositiveInfinity }));
    }

    [Test]
    public void CanonicalBytesAreLittleEndianWithHalfBits()
    {
        Assert.Multiple(() =>
        {
            Assert.That(I8([2], 1, -1).ToBytes(), Is.EqualTo(new byte[] { 0x01, 0xFF }));
            Assert.That(U8([2], 1, 255).ToBytes(), Is.EqualTo(new byte[] { 0x01, 0xFF }));
            Assert.That(I32([1], 0x01020304).ToBytes(), Is.EqualTo(new byte[] { 4, 3, 2, 1 }));
            Assert.That(I32([1], -2).ToBytes(), Is.EqualTo(new byte[] { 0xFE, 0xFF, 0xFF, 0xFF }));
            Assert.That(F16([2], 1f, -2f).ToBytes(), Is.EqualTo(new byte[] { 0x00, 0x3C, 0x00, 0xC0 }));
            Assert.That(F32([1], 1f).ToBytes(), Is.EqualTo(new byte[] { 0x00, 0x00, 0x80, 0x3F }));
        });
    }

    [TestCase(ElementType.I8)]
    [TestCase(ElementType.U8)]
    [TestCase(ElementType.I32)]
    [TestCase(ElementType.F16)]
    [TestCase(ElementType.F32)]
    public void BytesRoundTrip(ElementType type)
    {
        var t = RandomTensors.Generate(type, [3, 5], seed: 11, "t");

        var back = TensorData.FromBytes(type, [3, 5], t.ToBytes());

        Assert.Multiple(() =>
        {
            Assert.That(back, Is.EqualTo(t));
            Assert.That(back.ChecksumText(), Is.EqualTo(t.ChecksumText()));
            Assert.That(t.ByteCount, Is.EqualTo(15 * type.Bytes()));
        });
    }

    [Test]
    public void FromBytesRejectsTheWrongLength() =>
        Assert.Throws<ArgumentException>(() => TensorData.FromBytes(ElementType.I32, [2], new byte[7]));

    [Test]
    public void ChecksumIsFnv1a64OfTheCanonicalBytes()
    {
        // Published FNV-1a 64 vectors: "" -> cbf29ce484222325, "a" -> af63dc4c8601ec8c, "foobar" -> 85944171f73967e8.
        Assert.Multiple(() =>
        {
            Assert.That(Fnv1a64.Hash([]), Is.EqualTo(0xcbf29ce484222325UL));
            Assert.That(U8([1], 'a').ChecksumText(), Is.EqualTo("af63dc4c8601ec8c"));
            Assert.That(I8([1], 'a').ChecksumText(), Is.EqualTo("af63dc4c8601ec8c"));
            Assert.That(U8([6], [.. "foobar".Select(c => (int)c)]).ChecksumText(), Is.EqualTo("85944171f73967e8"));
            Assert.That(TensorData.Zeros(ElementType.U8, [0]).ChecksumText(), Is.EqualTo("cbf29ce484222325"));
        });
    }

    [Test]
    public void ChecksumOfATinyTensorIsWorkedOutByHand()
    {
        // i8 [1, -1] is the bytes 01 ff. FNV-1a: h = (h ^ byte) * 0x100000001b3 mod 2^64 from 0xcbf29ce484222325.
        // step 1: 0xcbf29ce484222325 ^ 0x01 = 0xcbf29ce484222324, * prime = 0xaf63bc4c8601b62c
        // step 2: 0xaf63bc4c8601b62c ^ 0xff = 0xaf63bc4c8601b6d3, * prime = 0x082fc907b4e9a889
        const ulong prime = 0x100000001b3;
        var step1 = unchecked((0xcbf29ce484222325UL ^ 0x01) * prime);
        var step2 = unchecked((step1 ^ 0xff) * prime);

        Assert.Multiple(() =>
        {
            Assert.That(step1, Is.EqualTo(0xaf63bc4c8601b62cUL));
            Assert.That(step2, Is.EqualTo(0x082fc907b4e9a889UL));
            Assert.That(I8([2], 1, -1).Checksum(), Is.EqualTo(0x082fc907b4e9a889UL));
            Assert.That(I8([2], 1, -1).ChecksumText(), Is.EqualTo("082fc907b4e9a889"));
        });
    }

    [Test]
    public void ChecksumsOfWiderTypesHashTheirLittleEndianBytes()
    {
        // Worked out with an independent FNV-1a over struct.pack('<ii', 0x61, -2), '<ee' and '<ff'.
        Assert.Multiple(() =>
        {
            Assert.That(I32([2], 0x61, -2).ChecksumText(), Is.EqualTo("811a37f9012afbb1"));
            Assert.That(F16([2], 1f, -2f).ChecksumText(), Is.EqualTo("6fcba27fb16e7b61"));
            Assert.That(F32([2], 1f, -0f).ChecksumText(), Is.EqualTo("0979a9ee2da1bb98"));
        });
    }

    [Test]
    public void ChecksumCoversLargeTensorsInPieces()
    {
        // More elements than one hashing chunk: the chunked hash must equal the hash of all the bytes at once.
        var t = RandomTensors.Generate(ElementType.I32, [3000], seed: 5, "big");

        Assert.That(t.Checksum(), Is.EqualTo(Fnv1a64.Hash(t.ToBytes())));
    }

    [Test]
    public void EqualityIsByTypeShapeAndBits()
    {
        var oneTwo = I32([2], 1, 2);
        var alsoOneTwo = I32([2], 1, 2);
        var nan = F32([1], float.NaN);
        var alsoNaN = F32([1], float.NaN);

        Assert.Multiple(() =>
        {
            Assert.That(alsoOneTwo, Is.EqualTo(oneTwo));
            Assert.That(alsoOneTwo == oneTwo, Is.True);
            Assert.That(alsoOneTwo.GetHashCode(), Is.EqualTo(oneTwo.GetHashCode()));
            Assert.That(I32([2], 1, 3), Is.Not.EqualTo(oneTwo));
            Assert.That(I32([1, 2], 1, 2), Is.Not.EqualTo(oneTwo));
            Assert.That(I8([2], 1, 2), Is.Not.EqualTo(U8([2], 1, 2)));
            Assert.That(alsoNaN, Is.EqualTo(nan));
            Assert.That(F32([1], 0f), Is.Not.EqualTo(F32([1], -0f)));
        });
    }

    [Test]
    public void FactoriesCopyTheirValues()
    {
        var values = new[] { 1, 2 };
        var t = I32([2], values);
        values[0] = 99;

        Assert.That(t[0], Is.EqualTo(1));
    }
}
