namespace Covenant.Runtime.TensorCore;

/// <summary>
/// The shared-memory layout of an operand tile: rows of <c>RowChunks</c> 16-byte chunks, chunk c of row r stored at
/// chunk position <c>c ^ f(r)</c> of its row, with <c>f(r) = (r / max(1, 8 / RowChunks)) % min(RowChunks, 8)</c>.
/// Why: ldmatrix reads, in each of its phases, one 16-byte row from each of 8 consecutive rows at the same logical
/// chunk. Unswizzled, rows of 128 bytes put all eight in the same 4 banks (an 8-way conflict). The XOR spreads the
/// eight rows over eight different 16-byte bank groups — all 32 banks — whatever the row length: with 8 or more
/// chunks per row the row index itself varies the low three bits; with 4 (2, 1) chunks, pairs (quads, octets) of rows
/// already sit in different bank groups and the XOR separates the pairs (quads). The cp.async writes and the
/// ldmatrix reads use the same function, so the data land where the reads expect them.
/// </summary>
public static class TensorCoreSharedLayout
{
    public const int ChunkBytes = 16;

    /// <summary>The XOR applied to the chunk index of row <paramref name="row"/>.</summary>
    public static long Swizzle(long row, int rowChunks) => row / Math.Max(1, 8 / rowChunks) % Math.Min(rowChunks, 8);

    /// <summary>Byte offset in the tile of chunk <paramref name="chunk"/> of row <paramref name="row"/>.</summary>
    public static long Offset(long row, long chunk, int rowChunks) => (row * rowChunks * ChunkBytes) + ((chunk ^ Swizzle(row, rowChunks)) * ChunkBytes);

    /// <summary>The same as an expression, for the kernel's address arithmetic.</summary>
    public static TensorCoreExpr Offset(TensorCoreExpr row, TensorCoreExpr chunk, int rowChunks)
    {
        var swizzle = row / Math.Max(1, 8 / rowChunks) % Math.Min(rowChunks, 8);
        return (row * (rowChunks * ChunkBytes)) + ((chunk ^ swizzle) << 4);
    }

    /// <summary>The shared-memory bank (4-byte word modulo 32) of a byte address.</summary>
    public static int Bank(long byteAddress) => (int)(byteAddress / 4 % 32);
}
