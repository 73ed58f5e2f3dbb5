using System.Diagnostics;
using System.Globalization;
using System.Text;
using Engine.Training.Data;

namespace Engine.Training.Tests;

/// <summary>A dataset folder <c>&lt;temp&gt;/&lt;guid&gt;/&lt;name&gt;</c>, deleted with its parent when disposed.</summary>
internal sealed class TempFolder : IDisposable
{
    private readonly string parent = Path.Combine(Path.GetTempPath(), "sea-tests-" + Guid.NewGuid().ToString("N"));

    public TempFolder(string name = "toy")
    {
        Folder = Path.Combine(parent, name);
        Directory.CreateDirectory(Folder);
    }

    public string Folder { get; }

    public string Write(string fileName, string text)
    {
        var path = Path.Combine(Folder, fileName);
        File.WriteAllText(path, text);
        return path;
    }

    public void Dispose()
    {
        if (Directory.Exists(parent)) Directory.Delete(parent, recursive: true);
    }
}

public class DatasetTests
{
    internal const string Header = "userID\titemID\tx_label\n";

    /// <summary>
    /// 4 users, 5 items. User 2 has only valid/test rows, so both are dropped as cold-start, yet item 4 (seen only in
    /// a dropped row) still counts towards Items, as in MMRec. User 1's training items are out of order in the file.
    /// </summary>
    internal static readonly (int User, int Item, int Label)[] Toy =
    [
        (0, 0, 0), (0, 1, 0), (0, 2, 1), (1, 3, 0), (1, 1, 0), (1, 0, 2), (2, 4, 1), (2, 0, 2), (3, 2, 0),
    ];

    internal static string ToyText => Header + string.Concat(Toy.Select(r => $"{r.User}\t{r.Item}\t{r.Label}\n"));

    [Fact]
    public void Toy_folder_loads_with_counts_splits_and_cold_start_drops()
    {
        using var tmp = new TempFolder();
        tmp.Write("toy.inter", ToyText);
        var d = Dataset.Load(tmp.Folder);

        Assert.Equal("toy", d.Name);
        Assert.Equal(Path.GetFullPath(tmp.Folder), d.Folder);
        Assert.Equal(4, d.Users);
        Assert.Equal(5, d.Items);
        Assert.Equal([0, 0, 1, 1, 3], d.Train.Users);
        Assert.Equal([0, 1, 3, 1, 2], d.Train.Items);
        Assert.Equal([0], d.Valid.Users);
        Assert.Equal([2], d.Valid.Items);
        Assert.Equal([1], d.Test.Users);
        Assert.Equal([0], d.Test.Items);
        Assert.Equal(2, d.DroppedColdStartRows);
        Assert.Equal(5, d.Train.Count);
        Assert.Null(d.Image);
        Assert.Null(d.Text);
    }

    [Fact]
    public void Ids_count_from_the_largest_id_not_the_number_of_distinct_ids()
    {
        using var tmp = new TempFolder();
        tmp.Write("toy.inter", Header + "7\t0\t0\n7\t41\t1\n2\t9\t0\n");
        var d = Dataset.Load(tmp.Folder);
        Assert.Equal(8, d.Users);
        Assert.Equal(42, d.Items);
    }

    [Fact]
    public void Lf_and_crlf_files_load_identically_and_trailing_empty_lines_are_ignored()
    {
        using var lf = new TempFolder();
        using var crlf = new TempFolder();
        lf.Write("toy.inter", ToyText + "\n\n");
        crlf.Write("toy.inter", ToyText.Replace("\n", "\r\n") + "\r\n");
        AssertSameContent(Dataset.Load(lf.Folder), Dataset.Load(crlf.Folder));
    }

    [Theory]
    [InlineData("userID", "itemID", "x_label", "rating", "timestamp")]
    [InlineData("timestamp", "x_label", "rating", "itemID", "userID")]
    [InlineData("itemID", "rating", "userID", "timestamp", "x_label")]
    public void Extra_columns_in_any_order_are_ignored(params string[] columns)
    {
        string Field(string column, (int User, int Item, int Label) r, int k) => column switch
        {
            "userID" => r.User.ToString(),
            "itemID" => r.Item.ToString(),
            "x_label" => r.Label.ToString(),
            "rating" => "4.5",
            _ => (978300760 + k).ToString(),
        };
        var text = string.Join('\t', columns) + "\n" +
                   string.Concat(Toy.Select((r, k) => string.Join('\t', columns.Select(c => Field(c, r, k))) + "\n"));
        using var plain = new TempFolder();
        using var extra = new TempFolder();
        plain.Write("toy.inter", ToyText);
        extra.Write("toy.inter", text);
        AssertSameContent(Dataset.Load(plain.Folder), Dataset.Load(extra.Folder));
    }

    [Fact]
    public void ItemsByUser_sorts_each_users_items_and_is_cached()
    {
        using var tmp = new TempFolder();
        tmp.Write("toy.inter", ToyText);
        var d = Dataset.Load(tmp.Folder);
        var byUser = d.Train.ItemsByUser(d.Users);
        Assert.Equal(4, byUser.Length);
        Assert.Equal([0, 1], byUser[0]);
        Assert.Equal([1, 3], byUser[1]);
        Assert.Empty(byUser[2]);
        Assert.Equal([2], byUser[3]);
        Assert.Same(byUser, d.Train.ItemsByUser(d.Users));
        Assert.Equal(6, d.Train.ItemsByUser(6).Length);
        Assert.Throws<ArgumentOutOfRangeException>(() => d.Train.ItemsByUser(3));
    }

    [Fact]
    public void The_inter_file_is_the_one_named_after_the_folder_else_the_only_one()
    {
        using (var tmp = new TempFolder("baby"))
        {
            tmp.Write("baby.inter", ToyText);
            tmp.Write("other.inter", Header + "0\t0\t0\n");
            Assert.Equal(4, Dataset.Load(tmp.Folder).Users);
        }
        using (var tmp = new TempFolder("baby"))
        {
            tmp.Write("renamed.inter", ToyText);
            var d = Dataset.Load(tmp.Folder);
            Assert.Equal("renamed", d.Name);
            Assert.Equal(4, d.Users);
        }
    }

    [Fact]
    public void A_folder_without_an_inter_file_is_an_error()
    {
        using var tmp = new TempFolder("baby");
        tmp.Write("notes.txt", "nothing here");
        var e = Assert.Throws<DataFormatException>(() => Dataset.Load(tmp.Folder));
        Assert.Contains("baby.inter", e.Message);
        Assert.Contains("no .inter file", e.Message);
    }

    [Fact]
    public void Two_inter_files_with_neither_named_after_the_folder_are_ambiguous()
    {
        using var tmp = new TempFolder("baby");
        tmp.Write("a.inter", ToyText);
        tmp.Write("b.inter", ToyText);
        var e = Assert.Throws<DataFormatException>(() => Dataset.Load(tmp.Folder));
        Assert.Contains("a.inter, b.inter", e.Message);
        Assert.Contains("ambiguous", e.Message);
    }

    [Fact]
    public void A_missing_folder_is_DirectoryNotFound_naming_it()
    {
        var missing = Path.Combine(Path.GetTempPath(), "sea-tests-" + Guid.NewGuid().ToString("N"), "baby");
        var e = Assert.Throws<DirectoryNotFoundException>(() => Dataset.Load(missing));
        Assert.Contains(missing, e.Message);
        Assert.Contains("does not exist", e.Message);
    }

    /// <summary>One case per class of bad input: the text after the header, the line to be named, a word of the problem.</summary>
    public static TheoryData<string, string, int, string> BadInter => new()
    {
        { "missing column", "userID\titemID\trating\n0\t1\t5\n", 1, "x_label" },
        { "wrong field count", Header + "0\t1\t0\n0\t2\n", 3, "fields" },
        { "space-separated", Header + "0 1 0\n", 2, "fields" },
        { "non-integer user", Header + "0\t1\t0\nu7\t1\t0\n", 3, "userID 'u7' is not an integer" },
        { "non-integer item", Header + "0\t1.0\t0\n", 2, "itemID '1.0' is not an integer" },
        { "empty id", Header + "0\t\t0\n", 2, "not an integer" },
        { "negative user", Header + "0\t1\t0\n-3\t1\t0\n", 3, "negative" },
        { "negative item", Header + "0\t-1\t0\n", 2, "negative" },
        { "id past int", Header + "0\t99999999999\t0\n", 2, "too large" },
        { "x_label 3", Header + "0\t1\t0\n0\t2\t0\n0\t3\t3\n", 4, "x_label 3 is outside 0..2" },
        { "x_label -1", Header + "0\t1\t-1\n", 2, "outside 0..2" },
        { "x_label text", Header + "0\t1\ttrain\n", 2, "x_label 'train' is not an integer" },
        { "duplicate pair", Header + "0\t1\t0\n0\t2\t0\n1\t1\t0\n0\t1\t2\n", 5, "already appeared on line 2" },
        { "empty file", "", 1, "empty" },
        { "blank file", "\n\r\n  \n", 1, "empty" },
        { "no header", "0\t1\t0\n1\t1\t0\n", 1, "header" },
        { "blank header", "\n0\t1\t0\n", 1, "header" },
        { "header only", Header, 2, "no data rows" },
        { "blank line inside", Header + "0\t1\t0\n\n1\t1\t0\n", 3, "empty line" },
        { "column twice", "userID\titemID\tx_label\titemID\n0\t1\t0\t1\n", 1, "more than once" },
    };

    [Theory]
    [MemberData(nameof(BadInter))]
    public void Bad_inter_files_name_the_file_line_and_problem(string what, string text, int line, string problem)
    {
        using var tmp = new TempFolder("baby");
        tmp.Write("baby.inter", text);
        var e = Assert.Throws<DataFormatException>(() => Dataset.Load(tmp.Folder));
        Assert.Contains("baby.inter", e.Message);
        Assert.Contains($"line {line}:", e.Message);
        Assert.Contains(problem, e.Message);
        Assert.Equal(line, e.Line);
        Assert.EndsWith("baby.inter", e.File);
        Assert.False(string.IsNullOrEmpty(what));
    }

    [Fact]
    public void Crlf_files_report_the_same_line_numbers()
    {
        using var tmp = new TempFolder("baby");
        tmp.Write("baby.inter", (Header + "0\t1\t0\n0\t2\t0\n0\t3\t3\n").Replace("\n", "\r\n"));
        var e = Assert.Throws<DataFormatException>(() => Dataset.Load(tmp.Folder));
        Assert.EndsWith("line 4: x_label 3 is outside 0..2 (0 train, 1 valid, 2 test)", e.Message);
    }

    [Fact]
    public void A_file_where_every_user_is_cold_start_has_nothing_to_train()
    {
        using var tmp = new TempFolder();
        tmp.Write("toy.inter", Header + "0\t1\t1\n0\t2\t2\n");
        var e = Assert.Throws<DataFormatException>(() => Dataset.Load(tmp.Folder));
        Assert.Contains("no training rows", e.Message);
    }

    [Fact]
    public void DataFormatException_message_has_file_line_and_problem()
    {
        var e = new DataFormatException("baby.inter", 17, "x_label 3 is outside 0..2");
        Assert.Equal("baby.inter line 17: x_label 3 is outside 0..2", e.Message);
        Assert.Equal("image_feat.npy: truncated", new DataFormatException("image_feat.npy", null, "truncated").Message);
    }

    /// <summary>Fails unless <paramref name="message"/> is one line a terminal shows as it is: no control or invisible characters, no U+FFFD.</summary>
    internal static void AssertPrintableLine(string message)
    {
        foreach (var rune in message.EnumerateRunes())
            Assert.False(Rune.GetUnicodeCategory(rune) is UnicodeCategory.Control or UnicodeCategory.Format or UnicodeCategory.LineSeparator
                or UnicodeCategory.ParagraphSeparator || rune == Rune.ReplacementChar, $"U+{rune.Value:X4} in: {message}");
    }

    [Fact]
    public void Binary_bytes_in_an_inter_field_are_shown_escaped_and_cut()
    {
        using var tmp = new TempFolder("baby");
        // NUL, a byte that is not UTF-8, an ANSI colour code, BEL, an accented letter, a right-to-left override, then more.
        byte[] field = [0x00, 0xFF, 0x1B, .. "[31m"u8, 0x07, .. "é"u8, .. "\u202E"u8, .. Enumerable.Repeat((byte)'A', 100)];
        File.WriteAllBytes(Path.Combine(tmp.Folder, "baby.inter"), [.. Encoding.UTF8.GetBytes(Header + "0\t1\t0\n"), .. field, .. "\t1\t0\n"u8]);
        var e = Assert.Throws<DataFormatException>(() => Dataset.Load(tmp.Folder));
        AssertPrintableLine(e.Message);
        Assert.Contains("baby.inter line 3: userID '\\x00\\xff\\x1b[31m\\x07é\\u202eAAA", e.Message);
        Assert.EndsWith("AAA…' is not an integer", e.Message);
        Assert.True(e.Message.Length < e.File.Length + 100, e.Message);
    }

    [Fact]
    public void A_binary_file_as_the_inter_file_gives_one_printable_line_naming_it()
    {
        using var tmp = new TempFolder("baby");
        var garbage = new byte[64 << 10];
        new Random(17).NextBytes(garbage);
        File.WriteAllBytes(Path.Combine(tmp.Folder, "baby.inter"), garbage);
        var e = Assert.Throws<DataFormatException>(() => Dataset.Load(tmp.Folder));
        AssertPrintableLine(e.Message);
        Assert.Contains("baby.inter line 1: ", e.Message);
        Assert.Contains("\\x", e.Message);
        Assert.True(e.Message.Length < e.File.Length + 800, e.Message);
    }

    [Fact]
    public void Printable_escapes_control_characters_and_bytes_that_are_not_utf8_and_cuts_whole_escapes()
    {
        Assert.Equal("a\\tb\\nc\\r\\x7f\\u0085 ü ✓", DataFormatException.Printable("a\tb\nc\r\u007f\u0085 ü ✓", int.MaxValue));
        Assert.Equal("\\xc3(", DataFormatException.Printable([0xC3, (byte)'('], int.MaxValue));
        Assert.Equal("abc…", DataFormatException.Printable("abcdef", 3));
        Assert.Equal("\\xff…", DataFormatException.Printable([0xFF, 0xFF], 5));
        Assert.Equal("abc", DataFormatException.Printable("abc", 3));
    }

    [Fact]
    public void A_file_name_with_a_newline_still_gives_one_line()
    {
        var e = new DataFormatException("bad\nname.inter", 2, "x_label 3 is outside 0..2");
        Assert.Equal("bad\\nname.inter line 2: x_label 3 is outside 0..2", e.Message);
    }

    [Fact]
    public void Stats_of_the_toy_dataset_match_hand_counts()
    {
        using var tmp = new TempFolder();
        tmp.Write("toy.inter", ToyText);
        var s = DatasetStats.Compute(Dataset.Load(tmp.Folder));

        Assert.Equal((4, 5, 5, 1, 1, 2), (s.Users, s.Items, s.Train, s.Valid, s.Test, s.DroppedColdStartRows));
        Assert.Equal(7 / 20.0, s.Density, 12);
        // Training degrees over every id: users [2, 2, 0, 1], items [1, 2, 1, 1, 0]; linear interpolation as numpy.
        Assert.Equal(new DegreeQuantiles(0, 0.75, 1.5, 2, 2, 2, 2), s.UserDegree);
        Assert.Equal(0, s.ItemDegree.Min);
        Assert.Equal(1, s.ItemDegree.P25, 12);
        Assert.Equal(1, s.ItemDegree.P50, 12);
        Assert.Equal(1, s.ItemDegree.P75, 12);
        Assert.Equal(1.6, s.ItemDegree.P90, 12);
        Assert.Equal(1.96, s.ItemDegree.P99, 12);
        Assert.Equal(2, s.ItemDegree.Max);
        Assert.Equal(1, s.ItemsWithoutTraining);
        Assert.Contains("toy: 4 users, 5 items", s.ToString());
    }

    [Fact]
    public void Baby_from_shared_data_has_the_published_counts()
    {
        var folder = SharedData.FindOrSkip("baby");
        var clock = Stopwatch.StartNew();
        var d = Dataset.Load(folder);
        clock.Stop();
        var s = DatasetStats.Compute(d);
        TestContext.Current.TestOutputHelper?.WriteLine($"loaded in {clock.Elapsed.TotalMilliseconds:F0} ms\n{s}");

        Assert.Equal("baby", d.Name);
        Assert.Equal(19_445, d.Users);
        Assert.Equal(7_050, d.Items);
        Assert.Equal(118_551, d.Train.Count);
        // Training rows are never dropped; whatever valid/test rows the cold-start filter removes are counted.
        Assert.Equal(20_559 + 21_682, d.Valid.Count + d.Test.Count + d.DroppedColdStartRows);
        Assert.Equal(160_792, d.Train.Count + d.Valid.Count + d.Test.Count + d.DroppedColdStartRows);
        Assert.True(d.Valid.Count <= 20_559 && d.Test.Count <= 21_682);
        Assert.Equal(d.Users, d.Train.ItemsByUser(d.Users).Length);
    }

    /// <summary>The other shared datasets, with PROVENANCE.md's counts: CRLF files at several times Baby's size.</summary>
    [Theory]
    [InlineData("sports", 35_598, 18_357, 218_409, 40_029, 37_899)]
    [InlineData("clothing", 39_387, 23_033, 197_338, 41_189, 40_150)]
    [InlineData("tiktok", 9_308, 6_710, 59_541, 3_051, 6_130)]
    public void Other_shared_datasets_have_the_published_counts(string name, int users, int items, int train, int valid, int test)
    {
        var folder = SharedData.FindOrSkip(name);
        var clock = Stopwatch.StartNew();
        var d = Dataset.Load(folder);
        clock.Stop();
        TestContext.Current.TestOutputHelper?.WriteLine($"loaded in {clock.Elapsed.TotalMilliseconds:F0} ms\n{DatasetStats.Compute(d)}");

        Assert.Equal((users, items, train), (d.Users, d.Items, d.Train.Count));
        Assert.Equal(valid + test, d.Valid.Count + d.Test.Count + d.DroppedColdStartRows);
    }

    private static void AssertSameContent(Dataset a, Dataset b)
    {
        Assert.Equal((a.Users, a.Items, a.DroppedColdStartRows), (b.Users, b.Items, b.DroppedColdStartRows));
        foreach (var (x, y) in new[] { (a.Train, b.Train), (a.Valid, b.Valid), (a.Test, b.Test) })
        {
            Assert.Equal(x.Users, y.Users);
            Assert.Equal(x.Items, y.Items);
        }
    }
}
