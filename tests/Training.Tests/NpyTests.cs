using System.Buffers.Binary;
using System.Text;
using Engine.Training.Data;

namespace Engine.Training.Tests;

public class NpyTests
{
    /// <summary>
    /// Builds a .npy file byte by byte as numpy.lib.format lays it out: magic, version, header length (2 bytes for
    /// 1.0, 4 for 2.0/3.0), the dict padded with spaces to a 64-byte boundary and ended by '\n', then the data.
    /// </summary>
    private static byte[] NpyBytes(string dict, byte[] data, int major = 1)
    {
        int lengthBytes = major == 1 ? 2 : 4;
        int unpadded = 6 + 2 + lengthBytes + dict.Length + 1;
        var header = dict + new string(' ', 64 - unpadded % 64) + "\n";
        var bytes = new List<byte> { 0x93 };
        bytes.AddRange("NUMPY"u8.ToArray());
        bytes.Add((byte)major);
        bytes.Add(0);
        var length = new byte[lengthBytes];
        if (major == 1) BinaryPrimitives.WriteUInt16LittleEndian(length, (ushort)header.Length);
        else BinaryPrimitives.WriteUInt32LittleEndian(length, (uint)header.Length);
        bytes.AddRange(length);
        bytes.AddRange(Encoding.Latin1.GetBytes(header));
        bytes.AddRange(data);
        return bytes.ToArray();
    }

    private static string Dict(string descr, int rows, int cols, bool fortran = false) =>
        $"{{'descr': '{descr}', 'fortran_order': {(fortran ? "True" : "False")}, 'shape': ({rows}, {cols}), }}";

    private static byte[] Float32Bytes(params float[] values)
    {
        var bytes = new byte[values.Length * 4];
        for (int k = 0; k < values.Length; k++) BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(4 * k), values[k]);
        return bytes;
    }

    private static byte[] Float64Bytes(params double[] values)
    {
        var bytes = new byte[values.Length * 8];
        for (int k = 0; k < values.Length; k++) BinaryPrimitives.WriteDoubleLittleEndian(bytes.AsSpan(8 * k), values[k]);
        return bytes;
    }

    private static DataFormatException ReadFails(TempFolder tmp, byte[] bytes, string name = "image_feat.npy")
    {
        var path = Path.Combine(tmp.Folder, name);
        File.WriteAllBytes(path, bytes);
        var e = Assert.Throws<DataFormatException>(() => NpyFile.Read(path));
        Assert.Contains(name, e.Message);
        Assert.Null(e.Line);
        return e;
    }

    [Fact]
    public void Write_then_read_gives_back_every_bit_with_the_data_64_byte_aligned()
    {
        using var tmp = new TempFolder();
        var rng = new Random(7);
        var data = Enumerable.Range(0, 5 * 7).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
        data[3] = float.Epsilon;
        data[4] = -0f;
        data[5] = float.MaxValue;
        var path = Path.Combine(tmp.Folder, "text_feat.npy");
        NpyFile.Write(path, new FeatureMatrix(5, 7, data));

        var bytes = File.ReadAllBytes(path);
        Assert.Equal("\x93NUMPY\x01\x00", Encoding.Latin1.GetString(bytes, 0, 8));
        int headerLength = BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(8));
        Assert.Equal(0, (10 + headerLength) % 64);
        Assert.Equal(10 + headerLength + 5 * 7 * 4, bytes.Length);
        var header = Encoding.Latin1.GetString(bytes, 10, headerLength);
        Assert.StartsWith("{'descr': '<f4', 'fortran_order': False, 'shape': (5, 7), }", header);
        Assert.EndsWith("\n", header);

        var back = NpyFile.Read(path);
        Assert.Equal((5, 7), (back.Rows, back.Cols));
        Assert.Equal(data.Select(BitConverter.SingleToInt32Bits), back.Data.Select(BitConverter.SingleToInt32Bits));
        Assert.Equal(data[2 * 7 + 3], back[2, 3]);
        Assert.Equal(data.AsSpan(7, 7).ToArray(), back.Row(1).ToArray());
        Assert.Empty(Directory.GetFiles(tmp.Folder, "*.tmp"));
    }

    [Fact]
    public void Write_replaces_an_existing_file()
    {
        using var tmp = new TempFolder();
        var path = Path.Combine(tmp.Folder, "f.npy");
        NpyFile.Write(path, new FeatureMatrix(3, 3, new float[9]));
        NpyFile.Write(path, new FeatureMatrix(1, 2, [1, 2]));
        Assert.Equal([1f, 2f], NpyFile.Read(path).Data);
    }

    [Fact]
    public void Empty_matrices_round_trip()
    {
        using var tmp = new TempFolder();
        var path = Path.Combine(tmp.Folder, "f.npy");
        NpyFile.Write(path, new FeatureMatrix(0, 4, []));
        var back = NpyFile.Read(path);
        Assert.Equal((0, 4, 0), (back.Rows, back.Cols, back.Data.Length));
    }

    [Fact]
    public void A_hand_made_float64_file_is_read_and_converted_to_float32()
    {
        using var tmp = new TempFolder();
        double[] values = [0.1, -2.5, 1e-3, 3.0e38, Math.PI, -0.0];
        var path = Path.Combine(tmp.Folder, "image_feat.npy");
        File.WriteAllBytes(path, NpyBytes(Dict("<f8", 2, 3), Float64Bytes(values)));
        var m = NpyFile.Read(path);
        Assert.Equal((2, 3), (m.Rows, m.Cols));
        Assert.Equal(values.Select(v => (float)v), m.Data);
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public void Version_2_and_3_headers_are_read(int major)
    {
        using var tmp = new TempFolder();
        var path = Path.Combine(tmp.Folder, "f.npy");
        File.WriteAllBytes(path, NpyBytes(Dict("<f4", 1, 3), Float32Bytes(1, 2, 3), major));
        Assert.Equal([1f, 2f, 3f], NpyFile.Read(path).Data);
    }

    [Fact]
    public void Headers_in_other_spellings_numpy_has_written_are_read()
    {
        // Key order varies, double quotes are valid Python, and NumPy under Python 2 wrote 'L' on long integers.
        using var tmp = new TempFolder();
        var path = Path.Combine(tmp.Folder, "f.npy");
        File.WriteAllBytes(path, NpyBytes("{\"shape\": (2L, 1L), 'fortran_order': False, 'descr': '<f4'}", Float32Bytes(5, 6)));
        var m = NpyFile.Read(path);
        Assert.Equal((2, 1), (m.Rows, m.Cols));
    }

    [Fact]
    public void A_truncated_file_is_an_error()
    {
        using var tmp = new TempFolder();
        var bytes = NpyBytes(Dict("<f4", 4, 3), Float32Bytes(new float[12]));
        var e = ReadFails(tmp, bytes[..^5]);
        Assert.Contains("truncated", e.Message);
        Assert.Contains("4×3", e.Message);

        ReadFails(tmp, bytes[..40], "cut_in_header.npy");
    }

    [Fact]
    public void Data_beyond_what_the_shape_promises_is_an_error()
    {
        using var tmp = new TempFolder();
        var e = ReadFails(tmp, NpyBytes(Dict("<f4", 2, 2), Float32Bytes(new float[6])));
        Assert.Contains("does not match", e.Message);
    }

    [Theory]
    [InlineData(float.NaN, "NaN")]
    [InlineData(float.PositiveInfinity, "+Inf")]
    [InlineData(float.NegativeInfinity, "-Inf")]
    public void Non_finite_values_are_named_by_row_and_column(float bad, string word)
    {
        using var tmp = new TempFolder();
        var data = new float[3 * 4];
        data[1 * 4 + 2] = bad;
        data[2 * 4 + 3] = float.NaN;
        var e = ReadFails(tmp, NpyBytes(Dict("<f4", 3, 4), Float32Bytes(data)));
        Assert.Contains($"row 1, column 2 is {word}", e.Message);
    }

    [Fact]
    public void Non_finite_float64_values_are_errors_too_and_so_are_values_past_float32()
    {
        using var tmp = new TempFolder();
        var nan = ReadFails(tmp, NpyBytes(Dict("<f8", 2, 2), Float64Bytes(0, 0, 0, double.NaN)));
        Assert.Contains("row 1, column 1 is NaN", nan.Message);
        var big = ReadFails(tmp, NpyBytes(Dict("<f8", 1, 2), Float64Bytes(0, 1e300)), "big.npy");
        Assert.Contains("column 1 does not fit in float32", big.Message);
    }

    [Theory]
    [InlineData(">f4")]
    [InlineData("<i8")]
    [InlineData("<f2")]
    [InlineData("|u1")]
    public void Other_dtypes_are_errors(string descr)
    {
        using var tmp = new TempFolder();
        var e = ReadFails(tmp, NpyBytes(Dict(descr, 1, 2), new byte[16]));
        Assert.Contains($"dtype '{descr}' is not supported", e.Message);
    }

    [Fact]
    public void Control_characters_in_a_header_are_shown_escaped()
    {
        using var tmp = new TempFolder();
        var e = ReadFails(tmp, NpyBytes("{'descr': '<f4', 'fortran_order': \u001b[2J\u0000, 'shape': (1, 1), }", Float32Bytes(0)));
        DatasetTests.AssertPrintableLine(e.Message);
        Assert.Contains("'fortran_order': \\x1b[2J\\x00, 'shape'", e.Message);
        Assert.Contains("unexpected '\\x1b'", e.Message);
    }

    [Fact]
    public void Fortran_order_is_an_error()
    {
        using var tmp = new TempFolder();
        var e = ReadFails(tmp, NpyBytes(Dict("<f4", 2, 2, fortran: true), Float32Bytes(1, 2, 3, 4)));
        Assert.Contains("fortran_order", e.Message);
    }

    [Theory]
    [InlineData("(6,)", "(6,) is 1-D")]
    [InlineData("(1, 2, 3)", "(1, 2, 3) is 3-D")]
    [InlineData("()", "() is 0-D")]
    public void Shapes_other_than_2D_are_errors(string shape, string message)
    {
        using var tmp = new TempFolder();
        var e = ReadFails(tmp, NpyBytes($"{{'descr': '<f4', 'fortran_order': False, 'shape': {shape}, }}", new byte[24]));
        Assert.Contains(message, e.Message);
    }

    [Fact]
    public void Bad_magic_unsupported_versions_and_garbled_headers_are_errors()
    {
        using var tmp = new TempFolder();
        var good = NpyBytes(Dict("<f4", 1, 1), Float32Bytes(1));

        var csv = ReadFails(tmp, "0.1,0.2\n"u8.ToArray(), "csv.npy");
        Assert.Contains("not a .npy file", csv.Message);

        var v4 = (byte[])good.Clone();
        v4[6] = 4;
        Assert.Contains("version 4.0", ReadFails(tmp, v4, "v4.npy").Message);

        var garbled = ReadFails(tmp, NpyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (1, 1) ", Float32Bytes(1)), "garbled.npy");
        Assert.Contains("unreadable header", garbled.Message);

        var noShape = ReadFails(tmp, NpyBytes("{'descr': '<f4', 'fortran_order': False}", Float32Bytes(1)), "noshape.npy");
        Assert.Contains("no 'shape'", noShape.Message);
    }

    [Fact]
    public void FeatureMatrix_checks_its_data_length()
    {
        Assert.Throws<ArgumentException>(() => new FeatureMatrix(2, 3, new float[5]));
        Assert.Throws<ArgumentOutOfRangeException>(() => new FeatureMatrix(-1, 0, []));
    }

    [Fact]
    public void Dataset_loads_features_whose_rows_are_the_items()
    {
        using var tmp = new TempFolder();
        tmp.Write("toy.inter", DatasetTests.ToyText);
        NpyFile.Write(Path.Combine(tmp.Folder, "image_feat.npy"), new FeatureMatrix(5, 2, new float[10]));
        NpyFile.Write(Path.Combine(tmp.Folder, "text_feat.npy"), new FeatureMatrix(5, 3, new float[15]));

        var d = Dataset.Load(tmp.Folder);
        Assert.Equal((5, 2), (d.Image!.Rows, d.Image.Cols));
        Assert.Equal((5, 3), (d.Text!.Rows, d.Text.Cols));

        var without = Dataset.Load(tmp.Folder, loadFeatures: false);
        Assert.Null(without.Image);
        Assert.Null(without.Text);
    }

    [Fact]
    public void A_feature_file_whose_row_count_is_not_the_item_count_is_an_error_naming_it()
    {
        using var tmp = new TempFolder();
        tmp.Write("toy.inter", DatasetTests.ToyText);
        NpyFile.Write(Path.Combine(tmp.Folder, "image_feat.npy"), new FeatureMatrix(5, 2, new float[10]));
        NpyFile.Write(Path.Combine(tmp.Folder, "text_feat.npy"), new FeatureMatrix(4, 3, new float[12]));

        var e = Assert.Throws<DataFormatException>(() => Dataset.Load(tmp.Folder));
        Assert.Contains("text_feat.npy", e.Message);
        Assert.Contains("has 4 rows but toy.inter has 5 items", e.Message);
        Assert.Null(Dataset.Load(tmp.Folder, loadFeatures: false).Text);
    }

    [Fact]
    public void A_bad_feature_file_fails_the_dataset_load_with_the_npy_error()
    {
        using var tmp = new TempFolder();
        tmp.Write("toy.inter", DatasetTests.ToyText);
        var data = new float[10];
        data[7] = float.NaN;
        NpyFile.Write(Path.Combine(tmp.Folder, "image_feat.npy"), new FeatureMatrix(5, 2, data));
        var e = Assert.Throws<DataFormatException>(() => Dataset.Load(tmp.Folder));
        Assert.Contains("image_feat.npy", e.Message);
        Assert.Contains("row 3, column 1 is NaN", e.Message);
    }
}
