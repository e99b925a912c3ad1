using System.Buffers.Binary;
using System.IO.Compression;

namespace Covenant.Cli.Tests;

/// <summary>
/// Just enough of a PNG reader to judge a browser screenshot: 8-bit greyscale, RGB or RGBA, non-interlaced (what
/// Chromium writes), with the five scanline filters undone. Pixels come back as 0xRRGGBB.
/// </summary>
public sealed record ComparePng(int Width, int Height, int[] Pixels)
{
    public static ComparePng Read(string path)
    {
        var bytes = File.ReadAllBytes(path);
        byte[] signature = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A];
        if (bytes.Length < 8 || !bytes.AsSpan(0, 8).SequenceEqual(signature))
        {
            throw new InvalidDataException($"{path} is not a PNG");
        }

        int width = 0, height = 0, channels = 0;
        using var data = new MemoryStream();
        for (var at = 8; at + 8 <= bytes.Length;)
        {
            var length = BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(at));
            var type = System.Text.Encoding.ASCII.GetString(bytes, at + 4, 4);
            var chunk = bytes.AsSpan(at + 8, length);
            if (type == "IHDR")
            {
                width = BinaryPrimitives.ReadInt32BigEndian(chunk);
                height = BinaryPrimitives.ReadInt32BigEndian(chunk[4..]);
                var (depth, color, interlace) = (chunk[8], chunk[9], chunk[12]);
                channels = color switch { 0 => 1, 2 => 3, 4 => 2, 6 => 4, _ => 0 };
                if (depth != 8 || channels == 0 || interlace != 0)
                {
                    throw new InvalidDataException($"unsupported PNG: depth {depth}, color type {color}, interlace {interlace}");
                }
            }
            else if (type == "IDAT")
            {
                data.Write(chunk);
            }

            at += 12 + length;
        }

        data.Position = 0;
        using var inflated = new MemoryStream();
        using (var zlib = new ZLibStream(data, CompressionMode.Decompress))
        {
            zlib.CopyTo(inflated);
        }

        var raw = inflated.ToArray();
        var stride = width * channels;
        var previous = new byte[stride];
        var current = new byte[stride];
        var pixels = new int[width * height];
        for (var y = 0; y < height; y++)
        {
            var row = raw.AsSpan(y * (stride + 1), stride + 1);
            var filter = row[0];
            for (var x = 0; x < stride; x++)
            {
                int a = x >= channels ? current[x - channels] : 0, b = previous[x], c = x >= channels ? previous[x - channels] : 0;
                var predictor = filter switch
                {
                    0 => 0,
                    1 => a,
                    2 => b,
                    3 => (a + b) / 2,
                    4 => Paeth(a, b, c),
                    _ => throw new InvalidDataException($"bad PNG filter {filter}"),
                };
                current[x] = (byte)(row[x + 1] + predictor);
            }

            for (var x = 0; x < width; x++)
            {
                var p = x * channels;
                pixels[(y * width) + x] = channels < 3
                    ? current[p] * 0x010101
                    : (current[p] << 16) | (current[p + 1] << 8) | current[p + 2];
            }

            (previous, current) = (current, previous);
        }

        return new ComparePng(width, height, pixels);
    }

    /// <summary>Pixels within <paramref name="tolerance"/> per channel of <paramref name="rgb"/>.</summary>
    public int Count(int rgb, int tolerance = 4) => Pixels.Count(p =>
        Math.Abs(((p >> 16) & 0xFF) - ((rgb >> 16) & 0xFF)) <= tolerance &&
        Math.Abs(((p >> 8) & 0xFF) - ((rgb >> 8) & 0xFF)) <= tolerance &&
        Math.Abs((p & 0xFF) - (rgb & 0xFF)) <= tolerance);

    private static int Paeth(int a, int b, int c)
    {
        var p = a + b - c;
        var (pa, pb, pc) = (Math.Abs(p - a), Math.Abs(p - b), Math.Abs(p - c));
        return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
    }
}
