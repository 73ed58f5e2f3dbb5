using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;

namespace Engine.Cli.Plot;

/// <summary>
/// Writes 8-bit RGB images as PNG: the signature, an IHDR chunk, one IDAT chunk holding the zlib-compressed rows
/// (each row prefixed with filter type 0, "none"), and IEND. Each chunk ends with the CRC-32 of its type and data.
/// </summary>
internal static class PngEncoder
{
    public static ReadOnlySpan<byte> Signature => [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A];

    private const byte ColorTypeRgb = 2;

    public static byte[] Encode(Raster image)
    {
        using var output = new MemoryStream();
        Write(output, image.Width, image.Height, image.Pixels);
        return output.ToArray();
    }

    public static void Write(Stream output, int width, int height, ReadOnlySpan<byte> rgb)
    {
        int rowBytes = width * Raster.Channels;
        if (rgb.Length != rowBytes * height) throw new ArgumentException($"expected {rowBytes * height} bytes of RGB for {width}×{height}, got {rgb.Length}");
        output.Write(Signature);

        var header = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(0), width);
        BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(4), height);
        header[8] = 8;              // bits per channel
        header[9] = ColorTypeRgb;
        // header[10..12]: compression 0 (deflate), filter method 0, no interlace.
        WriteChunk(output, "IHDR", header);

        using var compressed = new MemoryStream();
        using (var zlib = new ZLibStream(compressed, CompressionLevel.Optimal, leaveOpen: true))
        {
            for (int y = 0; y < height; y++)
            {
                zlib.WriteByte(0);
                zlib.Write(rgb.Slice(y * rowBytes, rowBytes));
            }
        }
        WriteChunk(output, "IDAT", compressed.GetBuffer().AsSpan(0, (int)compressed.Length));
        WriteChunk(output, "IEND", []);
    }

    private static void WriteChunk(Stream output, string type, ReadOnlySpan<byte> data)
    {
        Span<byte> word = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(word, data.Length);
        output.Write(word);
        var typeBytes = Encoding.ASCII.GetBytes(type);
        output.Write(typeBytes);
        output.Write(data);
        uint crc = Crc32.Update(Crc32.Start, typeBytes);
        crc = Crc32.Update(crc, data);
        BinaryPrimitives.WriteUInt32BigEndian(word, Crc32.Finish(crc));
        output.Write(word);
    }
}

/// <summary>
/// CRC-32 as PNG and zlib's gzip use it: reflected polynomial 0xEDB88320, started at all ones and inverted at the end.
/// One table of the 256 byte remainders turns the bit-by-bit division into one lookup per byte.
/// </summary>
internal static class Crc32
{
    public const uint Start = 0xFFFFFFFF;

    private static readonly uint[] Table = BuildTable();

    public static uint Compute(ReadOnlySpan<byte> data) => Finish(Update(Start, data));

    public static uint Update(uint crc, ReadOnlySpan<byte> data)
    {
        foreach (byte b in data) crc = Table[(crc ^ b) & 0xFF] ^ (crc >> 8);
        return crc;
    }

    public static uint Finish(uint crc) => crc ^ 0xFFFFFFFF;

    private static uint[] BuildTable()
    {
        var table = new uint[256];
        for (uint n = 0; n < 256; n++)
        {
            uint r = n;
            for (int bit = 0; bit < 8; bit++) r = (r & 1) != 0 ? 0xEDB88320 ^ (r >> 1) : r >> 1;
            table[n] = r;
        }
        return table;
    }
}
