using System.Buffers.Binary;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using Engine.IO;

namespace Engine.Training.Data;

/// <summary>
/// Reads and writes NumPy's .npy format (numpy.lib.format) for the one case features need: a 2-D, C-ordered,
/// little-endian float32 or float64 array. Anything else is refused with a <see cref="DataFormatException"/> that
/// says what was found, rather than read into a silently wrong matrix.
/// </summary>
public static class NpyFile
{
    private static ReadOnlySpan<byte> Magic => [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y'];

    // NumPy pads the header so that the data starts on this boundary (numpy.lib.format.ARRAY_ALIGN).
    private const int Align = 64;

    // Values converted per read; bounds the buffer for float64 files and the span size for float32 ones.
    private const int Chunk = 1 << 16;

    public static FeatureMatrix Read(string path)
    {
        RequireLittleEndian();
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16,
            FileOptions.SequentialScan);
        var header = ReadHeader(path, stream);
        var (rows, cols, itemSize) = ParseHeader(path, header);

        long count = rows * cols;
        if (count > Array.MaxLength)
            throw new DataFormatException(path, null, $"shape ({rows}, {cols}) has {count:N0} values, more than one array can hold");
        long expected = count * itemSize, available = stream.Length - stream.Position;
        string values = $"{rows}×{cols} {(itemSize == 4 ? "float32" : "float64")} values ({expected:N0} bytes)";
        if (available < expected)
            throw new DataFormatException(path, null,
                $"truncated: the header promises {values} but only {available:N0} bytes follow it");
        if (available > expected)
            throw new DataFormatException(path, null,
                $"the header promises {values} but {available:N0} bytes follow it; the shape does not match the data");

        var data = new float[count];
        if (itemSize == 4) ReadFloat32(stream, data);
        else ReadFloat64(path, stream, data, (int)cols);
        CheckFinite(path, data, (int)cols);
        return new FeatureMatrix((int)rows, (int)cols, data);
    }

    /// <summary>Writes <paramref name="m"/> as format 1.0, '&lt;f4', C order, replacing any file atomically.</summary>
    public static void Write(string path, FeatureMatrix m)
    {
        ArgumentNullException.ThrowIfNull(m);
        RequireLittleEndian();
        string dict = $"{{'descr': '<f4', 'fortran_order': False, 'shape': ({m.Rows}, {m.Cols}), }}";
        // NumPy's own padding rule: spaces, then '\n', so that magic + version + length + header is a multiple of 64.
        int preamble = Magic.Length + 2 + 2;
        int pad = Align - (preamble + dict.Length + 1) % Align;
        byte[] header = Encoding.Latin1.GetBytes(dict + new string(' ', pad) + "\n");

        AtomicFile.Write(path, stream =>
        {
            Span<byte> start = stackalloc byte[preamble];
            Magic.CopyTo(start);
            start[6] = 1;
            start[7] = 0;
            BinaryPrimitives.WriteUInt16LittleEndian(start[8..], (ushort)header.Length);
            stream.Write(start);
            stream.Write(header);
            for (int i = 0; i < m.Data.Length; i += Chunk)
                stream.Write(MemoryMarshal.AsBytes(m.Data.AsSpan(i, Math.Min(Chunk, m.Data.Length - i))));
        });
    }

    private static void RequireLittleEndian()
    {
        // Data is copied byte for byte into float arrays; only little-endian hosts may do that.
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException(".npy I/O needs a little-endian host");
    }

    private static string ReadHeader(string path, Stream stream)
    {
        Span<byte> start = stackalloc byte[8];
        if (stream.ReadAtLeast(start, start.Length, throwOnEndOfStream: false) < start.Length || !start[..6].SequenceEqual(Magic))
            throw new DataFormatException(path, null, "not a .npy file: it does not start with \\x93NUMPY");
        int major = start[6], minor = start[7];
        if (major is < 1 or > 3 || minor != 0)
            throw new DataFormatException(path, null, $"unsupported .npy format version {major}.{minor} (1.0, 2.0 and 3.0 are read)");

        // 1.0 has a 2-byte header length; 2.0 and 3.0 a 4-byte one. 3.0 allows UTF-8 in the header, the others Latin-1.
        Span<byte> lengthBytes = stackalloc byte[major == 1 ? 2 : 4];
        if (stream.ReadAtLeast(lengthBytes, lengthBytes.Length, throwOnEndOfStream: false) < lengthBytes.Length)
            throw new DataFormatException(path, null, "truncated: the file ends inside the header");
        long length = major == 1
            ? BinaryPrimitives.ReadUInt16LittleEndian(lengthBytes)
            : BinaryPrimitives.ReadUInt32LittleEndian(lengthBytes);
        if (length > stream.Length - stream.Position)
            throw new DataFormatException(path, null, $"truncated: the header is said to be {length:N0} bytes but the file ends before that");
        var bytes = new byte[length];
        stream.ReadExactly(bytes);
        return (major == 3 ? Encoding.UTF8 : Encoding.Latin1).GetString(bytes);
    }

    private static (long Rows, long Cols, int ItemSize) ParseHeader(string path, string header)
    {
        Dictionary<string, object?> dict;
        try
        {
            dict = new HeaderParser(header).ParseDict();
        }
        catch (FormatException e)
        {
            throw new DataFormatException(path, null, $"unreadable header {Quote(header)}: {e.Message}");
        }

        object? Get(string key) => dict.TryGetValue(key, out var v)
            ? v
            : throw new DataFormatException(path, null, $"the header has no '{key}': {Quote(header)}");

        int itemSize = Get("descr") switch
        {
            "<f4" => 4,
            "<f8" => 8,
            string other => throw new DataFormatException(path, null,
                $"dtype '{DataFormatException.Printable(other, 40)}' is not supported; features must be little-endian float32 or float64 ('<f4' or '<f8')"),
            _ => throw new DataFormatException(path, null,
                "a structured or unreadable dtype is not supported; features must be little-endian float32 or float64 ('<f4' or '<f8')"),
        };
        switch (Get("fortran_order"))
        {
            case false: break;
            case true:
                throw new DataFormatException(path, null,
                    "fortran_order is True (column-major); only C order is read: save np.ascontiguousarray(x) instead");
            default: throw new DataFormatException(path, null, $"fortran_order is not True or False in {Quote(header)}");
        }
        if (Get("shape") is not List<object?> shape || shape.Any(d => d is not long))
            throw new DataFormatException(path, null, $"shape is not a tuple of integers in {Quote(header)}");
        if (shape.Count != 2)
            throw new DataFormatException(path, null,
                $"shape {PythonTuple(shape)} is {shape.Count}-D; features must be 2-D (items, dimensions)");
        long rows = (long)shape[0]!, cols = (long)shape[1]!;
        if (rows < 0 || cols < 0 || rows > int.MaxValue || cols > int.MaxValue)
            throw new DataFormatException(path, null, $"shape {PythonTuple(shape)} is out of range");
        return (rows, cols, itemSize);
    }

    private static void ReadFloat32(Stream stream, float[] data)
    {
        for (int i = 0; i < data.Length; i += Chunk)
            stream.ReadExactly(MemoryMarshal.AsBytes(data.AsSpan(i, Math.Min(Chunk, data.Length - i))));
    }

    private static void ReadFloat64(string path, Stream stream, float[] data, int cols)
    {
        var buffer = new double[Math.Min(Chunk, data.Length)];
        for (int i = 0; i < data.Length; i += Chunk)
        {
            var part = buffer.AsSpan(0, Math.Min(Chunk, data.Length - i));
            stream.ReadExactly(MemoryMarshal.AsBytes(part));
            for (int k = 0; k < part.Length; k++)
            {
                float f = (float)part[k];
                // A finite double beyond float32's range would become ±Inf and be reported as if the file held one.
                if (float.IsInfinity(f) && double.IsFinite(part[k]))
                {
                    long at = i + k;
                    throw new DataFormatException(path, null,
                        $"value {part[k].ToString("R", CultureInfo.InvariantCulture)} at row {at / cols}, column {at % cols} does not fit in float32");
                }
                data[i + k] = f;
            }
        }
    }

    private static void CheckFinite(string path, float[] data, int cols)
    {
        for (int i = 0; i < data.Length; i++)
            if (!float.IsFinite(data[i]))
            {
                string what = float.IsNaN(data[i]) ? "NaN" : data[i] > 0 ? "+Inf" : "-Inf";
                throw new DataFormatException(path, null,
                    $"value at row {i / cols}, column {i % cols} is {what}; features must be finite (the first such value is named)");
            }
    }

    private static string Quote(string header) => $"\"{DataFormatException.Printable(header.TrimEnd(), 200)}\"";

    private static string PythonTuple(List<object?> items) =>
        items.Count == 1 ? $"({items[0]},)" : $"({string.Join(", ", items)})";

    /// <summary>
    /// The header is a Python dict literal written by repr(): string keys; values that are strings, True/False/None,
    /// integers (with Python 2's 'L' suffix in old files), or tuples/lists of these. Nothing more is accepted.
    /// </summary>
    private sealed class HeaderParser(string text)
    {
        private readonly string text = text;
        private int at;

        public Dictionary<string, object?> ParseDict()
        {
            var dict = new Dictionary<string, object?>();
            Expect('{');
            while (true)
            {
                SkipSpace();
                if (Peek() == '}') { at++; break; }
                var key = ParseValue() as string ?? throw new FormatException($"a key that is not a string at offset {at}");
                Expect(':');
                dict[key] = ParseValue();
                SkipSpace();
                if (Peek() == ',') at++;
                else if (Peek() != '}') throw new FormatException($"expected ',' or '}}' at offset {at}");
            }
            SkipSpace();
            if (at != text.Length) throw new FormatException($"unexpected text after the dict at offset {at}");
            return dict;
        }

        private object? ParseValue()
        {
            SkipSpace();
            char c = Peek();
            if (c is '\'' or '"')
            {
                int end = text.IndexOf(c, at + 1);
                if (end < 0) throw new FormatException($"unterminated string at offset {at}");
                var s = text[(at + 1)..end];
                at = end + 1;
                return s;
            }
            if (c is '(' or '[')
            {
                char close = c == '(' ? ')' : ']';
                at++;
                var items = new List<object?>();
                while (true)
                {
                    SkipSpace();
                    if (Peek() == close) { at++; return items; }
                    items.Add(ParseValue());
                    SkipSpace();
                    if (Peek() == ',') at++;
                    else if (Peek() != close) throw new FormatException($"expected ',' or '{close}' at offset {at}");
                }
            }
            int start = at;
            while (at < text.Length && (char.IsAsciiLetterOrDigit(text[at]) || text[at] is '-' or '+' or '_')) at++;
            var word = text[start..at];
            switch (word)
            {
                case "True": return true;
                case "False": return false;
                case "None": return null;
            }
            var digits = word.EndsWith('L') ? word[..^1] : word;
            if (long.TryParse(digits, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long n)) return n;
            throw new FormatException(word.Length == 0 ? $"unexpected '{c}' at offset {start}" : $"unexpected '{word}' at offset {start}");
        }

        private void Expect(char c)
        {
            SkipSpace();
            if (Peek() != c) throw new FormatException($"expected '{c}' at offset {at}");
            at++;
        }

        private char Peek() => at < text.Length ? text[at] : '\0';

        private void SkipSpace()
        {
            while (at < text.Length && char.IsWhiteSpace(text[at])) at++;
        }
    }
}
