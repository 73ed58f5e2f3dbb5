using Engine.TextFeatures;
using Engine.Training.Data;

namespace Engine.Cli.Tests;

public class FeaturesCommandTests : IDisposable
{
    private static readonly string BabyText = Path.GetFullPath(Path.Combine(AppContext.BaseDirectory,
        "../../../../../../shared/data/baby-text"));

    private readonly string _folder = Path.Combine(Path.GetTempPath(), "sea-features-" + Guid.NewGuid().ToString("N"));

    public FeaturesCommandTests() => Directory.CreateDirectory(_folder);

    // The build copies the model beside the tests; only scripts/gpu-check.sh's bundle leaves it out.
    private static void RequireModel() =>
        Assert.SkipUnless(File.Exists(MiniLmModel.AssemblyPath), $"{MiniLmModel.AssemblyPath} is absent (the GPU-check bundle leaves the text model out)");

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public void Baby_items_match_the_published_row_0_offline()
    {
        var items = Path.Combine(BabyText, "items_0-2.tsv");
        Assert.SkipUnless(File.Exists(items), $"{items} is absent (../shared/data/baby-text ships it)");
        RequireModel();
        var output = Path.Combine(_folder, "text_feat.npy");

        var stdout = new StringWriter();
        Assert.Equal(CliErrors.Ok, FeaturesCommand.Run(items, null, output, batch: 2, stdout));

        var m = NpyFile.Read(output);
        Assert.Equal((3, 384), (m.Rows, m.Cols));
        // MMRec's published text_feat.npy for Baby, row 0, first ten columns (baby-text/README.md).
        float[] published = [-0.0765124f, -0.00465493f, -0.04175242f, 0.04824711f, 0.07543101f, 0.02942762f,
                             -0.03614742f, 0.01649341f, -0.05425063f, 0.01344561f];
        for (int d = 0; d < published.Length; d++)
            Assert.True(Math.Abs(m.Row(0)[d] - published[d]) <= 1e-6, $"column {d}: {m.Row(0)[d]} vs {published[d]}");
        Assert.Equal([-0.0222, 0.0120, 0.0375], m.Row(0)[^3..].ToArray().Select(v => Math.Round(v, 4)));
        Assert.Contains("3 item texts", stdout.ToString());

        // Offline: the model is the package's own file (its published sha256 is checked on load, from the DLL beside
        // the tests), and nothing on the embedding path loaded .NET's HTTP stack.
        Assert.True(File.Exists(MiniLmModel.AssemblyPath));
        Assert.DoesNotContain(AppDomain.CurrentDomain.GetAssemblies(), a => a.GetName().Name == "System.Net.Http");
    }

    [Fact]
    public void Sentences_are_cut_to_256_tokens_including_cls_and_sep()
    {
        RequireModel();
        using var embedder = new SentenceEmbedder();
        var tokens = embedder.Tokenize(string.Join(" ", Enumerable.Repeat("baby", 300)));
        Assert.Equal(256, tokens.Length);
        Assert.Equal(101, tokens[0]);  // [CLS]
        Assert.Equal(102, tokens[^1]); // [SEP]
        // Lower-cased, accents stripped, CJK characters one token each.
        Assert.Equal(embedder.Tokenize("cafe"), embedder.Tokenize("Café"));
        Assert.Equal(4, embedder.Tokenize("婴儿").Length);
    }

    [Fact]
    public void Meta_csv_sentences_follow_mmrecs_recipe()
    {
        var meta = Path.Combine(_folder, "meta-tiny.csv");
        File.WriteAllText(meta,
            "itemID,asin,categories,description,title,price,imUrl,brand\n" +
            "1,B2,\"[['Baby', \"\"Kids' Room\"\", 'Decor'], ['Other']]\",,\"Lamp, small\",3.5,u,Acme\n" +
            "0,B1,,\"Soft.\nWashable, \"\"cotton\"\"\",Blanket,,u,\n");

        var texts = ItemTexts.ReadMeta(meta);
        RequireModel();
        Assert.Equal("Blanket   Soft. Washable, \"cotton\"", texts[0]);
        Assert.Equal("Lamp, small Acme Baby Kids' Room Decor  ", texts[1]);

        var output = Path.Combine(_folder, "meta.npy");
        Assert.Equal(CliErrors.Ok, FeaturesCommand.Run(null, meta, output, batch: 8, TextWriter.Null));
        var m = NpyFile.Read(output);
        Assert.Equal((2, 384), (m.Rows, m.Cols));
        // Row = item id, L2-normalised.
        using var embedder = new SentenceEmbedder();
        var row1 = embedder.Embed([texts[1]], 1);
        Assert.Equal(row1, m.Row(1).ToArray());
        Assert.Equal(1.0, Math.Sqrt(m.Row(0).ToArray().Sum(v => (double)v * v)), 5);
    }

    [Theory]
    [InlineData("0\tA\ta\n1\tB\tb\n1\tC\tc\n", "line 3: item id 1 repeats line 2")]
    [InlineData("0\tA\ta\n2\tB\tb\n", "line 2: item id 2 is out of 0..1")]
    [InlineData("0\tA\ta\n1 no text column\n", "line 2: expected itemID<TAB>…<TAB>text, found no tab")]
    [InlineData("x\tA\ta\n", "line 1: item id 'x' is not a non-negative integer")]
    public void Bad_item_files_are_refused_in_one_line_and_nothing_is_written(string contents, string expected)
    {
        var items = Path.Combine(_folder, "items.tsv");
        File.WriteAllText(items, contents);
        var (code, error) = RunCli("--items", items);
        Assert.Equal(CliErrors.BadInput, code);
        Assert.StartsWith($"sea: error: {items} {expected}", error);
        Assert.Empty(Directory.GetFiles(_folder, "*.npy*"));
    }

    [Fact]
    public void An_unreadable_file_is_refused_in_one_line()
    {
        var missing = Path.Combine(_folder, "missing.tsv");
        var (code, error) = RunCli("--items", missing);
        Assert.Equal(CliErrors.BadInput, code);
        Assert.StartsWith("sea: error: ", error);
        Assert.Contains(missing, error);
        Assert.Empty(Directory.GetFiles(_folder, "*.npy*"));
    }

    private (int Code, string Error) RunCli(params string[] input)
    {
        var error = new StringWriter();
        var before = Console.Error;
        Console.SetError(error);
        try
        {
            int code = SeaCli.Run(["features", "text", .. input, "--out", Path.Combine(_folder, "out.npy")]);
            var lines = error.ToString().TrimEnd('\n').Split('\n');
            Assert.Single(lines);
            return (code, lines[0]);
        }
        finally
        {
            Console.SetError(before);
        }
    }
}
