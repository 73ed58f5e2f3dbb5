using System.Buffers.Binary;
using System.Globalization;
using System.Xml.Linq;
using Engine.Cli.Plot;
using Engine.Training.Data;
using ScottPlot.Plottables;
using ScottPlot.TickGenerators;
using SkiaSharp;

namespace Engine.Cli.Tests;

public class PlotTests : IDisposable
{
    private static readonly XNamespace Svg = "http://www.w3.org/2000/svg";
    private static readonly byte[] PngSignature = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A];

    // Every test works under its own temporary folder, removed afterwards.
    private readonly string root = Path.Combine(Path.GetTempPath(), $"sea-plot-{Guid.NewGuid():N}");

    public PlotTests() => Directory.CreateDirectory(root);

    public void Dispose()
    {
        if (Directory.Exists(root)) Directory.Delete(root, recursive: true);
    }

    // ---- reading epochs.jsonl ----

    [Fact]
    public void Epoch_log_reads_numbers_named_non_finite_values_and_ignores_extra_fields()
    {
        var path = Path.Combine(root, "epochs.jsonl");
        File.WriteAllLines(path,
        [
            Epoch(1, 0.69, ("bpr", 0.68), ("reg", 0.01)).Replace("\"improved\"", "\"something_new\":[1,2],\"improved\""),
            "{\"epoch\":2,\"mean_loss\":\"NaN\",\"valid\":{\"recall@20\":0.05,\"ndcg@20\":0.02}}",
            "",
        ]);
        var epochs = EpochLog.Read(path);
        Assert.Equal(2, epochs.Count);
        Assert.Equal(0.68, epochs[0].LossTerms["bpr"]);
        Assert.True(double.IsNaN(epochs[1].MeanLoss));
        Assert.Empty(epochs[1].LossTerms);
        Assert.Equal(0.05, epochs[1].ValidRecall);
    }

    [Fact]
    public void Best_valid_epoch_is_the_first_with_the_highest_recall()
    {
        var epochs = new[] { 0.02, 0.05, 0.04, 0.05, double.NaN }
            .Select((r, i) => new EpochRecord(i + 1, 0.5, new Dictionary<string, double>(), r, r / 2)).ToList();
        Assert.Equal(2, new RunCurves("a", epochs).BestValid!.Epoch);
        Assert.Null(new RunCurves("b", [new EpochRecord(1, 0.5, new Dictionary<string, double>(), double.NaN, double.NaN)]).BestValid);
    }

    // ---- the figure ----

    [Fact]
    public void Overlaid_runs_give_one_series_per_run_and_one_legend_entry_per_run()
    {
        var runs = new List<RunCurves>
        {
            new("lightgcn", Epochs(5, ("bpr", 0.6), ("reg", 0.002))),
            new("sea", Epochs(4, ("bpr", 0.5), ("reg", 0.003), ("cl", 0.1))),
        };
        using var figure = TrainingCurves.Build(runs);
        var (loss, recall, ndcg) = (figure.Panels[0], figure.Panels[1], figure.Panels[2]);

        foreach (var panel in new[] { recall, ndcg })
        {
            var series = panel.GetPlottables<Scatter>().ToList();
            Assert.Equal(["lightgcn", "sea"], series.Select(s => s.LegendText));
            Assert.Equal([5, 4], series.Select(s => s.Data.GetScatterPoints().Count));
            Assert.Equal([TrainingCurves.RunColor(0), TrainingCurves.RunColor(1)], series.Select(s => s.Color));
            // Each run's best-valid epoch is marked: recall rises in every epoch here, so it is the last.
            Assert.Equal([5.0, 4.0], panel.GetPlottables<Marker>().Select(m => m.X));
        }
        Assert.NotEqual(TrainingCurves.RunColor(0), TrainingCurves.RunColor(1));
        // The loss panel: each run's terms, then its mean loss, all in the run's colour.
        var lossSeries = loss.GetPlottables<Scatter>().ToList();
        Assert.Equal(["lightgcn bpr", "lightgcn reg", "lightgcn mean loss", "sea bpr", "sea reg", "sea cl", "sea mean loss"],
            lossSeries.Select(s => s.LegendText));
        Assert.All(lossSeries.Where(s => s.LegendText.StartsWith("sea ")), s => Assert.Equal(TrainingCurves.RunColor(1), s.Color));

        // One legend row of runs, then the key to line styles, which names each term once.
        Assert.Equal(["lightgcn", "sea"], figure.Legends[0].GetItems().Select(i => i.LabelText));
        Assert.Equal(["mean loss", "loss term bpr", "loss term reg", "loss term cl", "best valid Recall@20"],
            figure.Legends[1].GetItems().Select(i => i.LabelText));
    }

    [Fact]
    public void Positive_losses_are_drawn_on_a_log_axis_labelled_with_the_values()
    {
        using var figure = TrainingCurves.Build([new RunCurves("r", Epochs(3, ("bpr", 0.6), ("reg", 0.002)))]);
        var loss = figure.Panels[0];
        Assert.Equal("training loss (log scale)", loss.Axes.Title.Label.Text);
        var reg = Assert.Single(loss.GetPlottables<Scatter>(), s => s.LegendText == "r reg");
        Assert.Equal(Math.Log10(0.002 / 2), reg.Data.GetScatterPoints()[1].Y, 12);
        var ticks = Assert.IsType<NumericAutomatic>(loss.Axes.Left.TickGenerator);
        Assert.Equal("0.001", ticks.LabelFormatter(-3));
        Assert.Equal("1", ticks.LabelFormatter(0));
    }

    [Fact]
    public void Non_finite_losses_are_skipped_and_a_non_positive_loss_keeps_the_axis_linear()
    {
        var epochs = Epochs(4, ("bpr", 0.6), ("reg", 0.0));
        epochs[2] = epochs[2] with { MeanLoss = double.NaN };
        using var figure = TrainingCurves.Build([new RunCurves("r", epochs)]);
        var loss = figure.Panels[0];
        Assert.Equal("training loss", loss.Axes.Title.Label.Text);
        var mean = Assert.Single(loss.GetPlottables<Scatter>(), s => s.LegendText == "r mean loss").Data.GetScatterPoints();
        Assert.Equal([1.0, 2, 4], mean.Select(p => p.X));
        Assert.Equal(epochs[3].MeanLoss, mean[2].Y);
    }

    [Fact]
    public void A_run_of_one_epoch_is_drawn_as_dots_and_longer_runs_as_bare_lines()
    {
        using var figure = TrainingCurves.Build([new RunCurves("one", Epochs(1, ("bpr", 0.6))), new RunCurves("two", Epochs(2, ("bpr", 0.6)))]);
        var sizes = figure.Panels[1].GetPlottables<Scatter>().Select(s => s.MarkerSize).ToList();
        Assert.True(sizes[0] > 0, "a single point needs a visible marker");
        Assert.Equal(0, sizes[1]);
    }

    [Fact]
    public void A_panel_without_data_says_so()
    {
        var unvalidated = Epochs(3, ("bpr", 0.6)).Select(e => e with { ValidRecall = double.NaN, ValidNdcg = double.NaN }).ToList();
        using var figure = TrainingCurves.Build([new RunCurves("r", unvalidated)]);
        Assert.Empty(figure.Panels[1].GetPlottables<Scatter>());
        Assert.Equal("no data", Assert.Single(figure.Panels[1].GetPlottables<Annotation>()).Text);
        Assert.Empty(figure.Panels[0].GetPlottables<Annotation>());
        // Nothing was validated, so the key has no marker entry.
        Assert.DoesNotContain(figure.Legends[1].GetItems(), i => i.LabelText.StartsWith("best"));
    }

    // ---- SVG and PNG ----

    [Fact]
    public void Svg_holds_the_titles_axis_labels_and_each_runs_legend_entry()
    {
        var runs = new List<RunCurves>
        {
            new("lightgcn", Epochs(5, ("bpr", 0.6), ("reg", 0.002))),
            new("sea & co <v2>", Epochs(5, ("bpr", 0.5), ("cl", 0.1))),
        };
        using var figure = TrainingCurves.Build(runs);
        var document = XDocument.Parse(figure.ToSvg());

        Assert.Equal(Svg + "svg", document.Root!.Name);
        Assert.Equal(figure.Width.ToString(CultureInfo.InvariantCulture), document.Root.Attribute("width")?.Value);
        Assert.Equal(figure.Height.ToString(CultureInfo.InvariantCulture), document.Root.Attribute("height")?.Value);
        var texts = document.Descendants(Svg + "text").Select(t => t.Value.Trim()).ToHashSet();
        foreach (var expected in new[] { "training loss (log scale)", "valid Recall@20", "valid NDCG@20", "epoch", "loss", "recall@20", "ndcg@20",
                                         "lightgcn", "sea & co <v2>", "mean loss", "loss term cl", "best valid Recall@20" })
            Assert.Contains(expected, texts);
        // A viewer without the font Skia drew with falls back to a sans-serif face.
        Assert.All(document.Descendants(Svg + "text"), t => Assert.EndsWith(", sans-serif", t.Attribute("font-family")?.Value));
    }

    [Fact]
    public void Png_decodes_at_twice_the_figure_size_with_each_runs_colour_drawn()
    {
        using var figure = TrainingCurves.Build([new RunCurves("a", Epochs(6, ("bpr", 0.6))), new RunCurves("b", Epochs(6, ("bpr", 0.3)))]);
        var png = figure.ToPng(2);

        Assert.Equal(PngSignature, png[..8]);
        Assert.Equal("IHDR", System.Text.Encoding.ASCII.GetString(png, 12, 4));
        Assert.Equal(figure.Width * 2, BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(16)));
        Assert.Equal(figure.Height * 2, BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(20)));

        using var bitmap = SKBitmap.Decode(png);
        Assert.Equal(figure.Width * 2, bitmap.Width);
        Assert.Equal(figure.Height * 2, bitmap.Height);
        Assert.Equal(SKColors.White, bitmap.GetPixel(0, 0));
        // Lines 3.6 device pixels wide leave a solid core in the run's own colour: hundreds of pixels per run.
        foreach (var color in new[] { TrainingCurves.RunColor(0), TrainingCurves.RunColor(1) })
        {
            var want = new SKColor(color.R, color.G, color.B);
            int count = bitmap.Pixels.Count(p => Math.Abs(p.Red - want.Red) + Math.Abs(p.Green - want.Green) + Math.Abs(p.Blue - want.Blue) < 12);
            Assert.True(count > 500, $"{count} pixels of {want}");
        }
    }

    // ---- the command ----

    [Fact]
    public void Out_without_extension_writes_svg_and_png_for_two_runs()
    {
        var a = WriteRun("lightgcn", Epochs(6, ("bpr", 0.6), ("reg", 0.002)));
        var b = WriteRun("sea", Epochs(4, ("bpr", 0.5)));
        var output = Path.Combine(root, "out", "curves");
        var log = new StringWriter();

        Assert.Equal(CliErrors.Ok, PlotCommand.Run([a, b], output, log));

        Assert.Equal([$"wrote {output}.svg", $"wrote {output}.png"], log.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.TrimEnd()));
        var texts = XDocument.Load(output + ".svg").Descendants(Svg + "text").Select(t => t.Value.Trim()).ToList();
        Assert.Contains("lightgcn", texts);
        Assert.Contains("sea", texts);
        using var bitmap = SKBitmap.Decode(output + ".png");
        Assert.Equal(TrainingCurves.Width * PlotCommand.PngScale, bitmap.Width);
        // No temporary files left behind by the atomic writes.
        Assert.Equal(["curves.png", "curves.svg"], Directory.GetFiles(Path.Combine(root, "out")).Select(Path.GetFileName).Order());
    }

    [Theory]
    [InlineData("plot.png", true)]
    [InlineData("plot.SVG", false)]
    public void An_out_extension_picks_that_one_format(string name, bool png)
    {
        var run = WriteRun("r", Epochs(3, ("bpr", 0.6)));
        var output = Path.Combine(root, "out", name);
        Assert.Equal(CliErrors.Ok, PlotCommand.Run([run], output, TextWriter.Null));

        Assert.Equal([name], Directory.GetFiles(Path.Combine(root, "out")).Select(Path.GetFileName));
        var bytes = File.ReadAllBytes(output);
        Assert.Equal(png, bytes.AsSpan().StartsWith(PngSignature));
        if (!png) Assert.Equal(Svg + "svg", XDocument.Load(output).Root!.Name);
    }

    [Fact]
    public void Plot_writes_beside_the_first_run_by_default_and_names_same_named_runs_by_path()
    {
        var a = WriteRun(Path.Combine("seed1", "lightgcn"), Epochs(3, ("bpr", 0.6)));
        var b = WriteRun(Path.Combine("seed2", "lightgcn"), Epochs(3, ("bpr", 0.5)));
        Assert.Equal(CliErrors.Ok, PlotCommand.Run([a, b], null, TextWriter.Null));

        Assert.True(File.Exists(Path.Combine(a, "curves.png")));
        var texts = XDocument.Load(Path.Combine(a, "curves.svg")).Descendants(Svg + "text").Select(t => t.Value.Trim()).ToList();
        Assert.Contains(texts, t => t.EndsWith("seed1/lightgcn"));
        Assert.Contains(texts, t => t.EndsWith("seed2/lightgcn"));
    }

    [Fact]
    public void Plot_command_parses_folders_and_out()
    {
        var parse = PlotCommand.Create().Parse(["a", "b", "--out", "x.svg"]);
        Assert.Empty(parse.Errors);
        Assert.NotEmpty(PlotCommand.Create().Parse([]).Errors);
    }

    // ---- bad input: one line from sea itself, exit code 2, no file written ----

    [Fact]
    public void A_missing_run_folder_is_one_line_naming_it()
    {
        var missing = Path.Combine(root, "no-such-run");
        var output = Path.Combine(root, "out", "curves");
        AssertBadInput(InProcess.Sea("plot", missing, "--out", output), missing);
        Assert.False(Directory.Exists(Path.Combine(root, "out")));
    }

    [Fact]
    public void An_empty_epochs_file_is_one_line_naming_it()
    {
        var good = WriteRun("good", Epochs(3, ("bpr", 0.6)));
        var empty = WriteRun("empty", []);
        var result = InProcess.Sea("plot", good, empty);
        AssertBadInput(result, Path.Combine(empty, "epochs.jsonl"));
        Assert.Contains("no epochs", result.Output);
        Assert.Equal(["epochs.jsonl"], Directory.GetFiles(good).Select(Path.GetFileName));
    }

    [Fact]
    public void An_unknown_out_extension_is_one_line_naming_it()
    {
        var run = WriteRun("r", Epochs(3, ("bpr", 0.6)));
        var output = Path.Combine(root, "out", "curves.jpg");
        var result = InProcess.Sea("plot", run, "--out", output);
        AssertBadInput(result, output);
        Assert.Contains("'.jpg'", result.Output);
        Assert.False(Directory.Exists(Path.Combine(root, "out")));
        Assert.Equal(["epochs.jsonl"], Directory.GetFiles(run).Select(Path.GetFileName));
    }

    [Fact]
    public void A_malformed_line_is_named_by_file_and_line_number()
    {
        var run = Path.Combine(root, "broken");
        Directory.CreateDirectory(run);
        var path = Path.Combine(run, "epochs.jsonl");
        File.WriteAllLines(path, [Epoch(1, 0.6), "{\"epoch\":2,\"mean_loss\":", Epoch(3, 0.4)]);
        var e = Assert.Throws<DataFormatException>(() => PlotCommand.Run([run], null, TextWriter.Null));
        Assert.Equal(2, e.Line);
        Assert.Contains($"{path} line 2:", e.Message);

        File.WriteAllLines(path, [Epoch(1, 0.6), "{\"epoch\":2,\"mean_loss\":\"lots\"}"]);
        var wrongType = Assert.Throws<DataFormatException>(() => PlotCommand.Run([run], null, TextWriter.Null));
        Assert.Equal(2, wrongType.Line);
        Assert.Contains("mean_loss", wrongType.Message);

        File.WriteAllLines(path, ["{\"mean_loss\":0.5}"]);
        Assert.Contains("epoch", Assert.Throws<DataFormatException>(() => PlotCommand.Run([run], null, TextWriter.Null)).Message);
        Assert.Equal(["epochs.jsonl"], Directory.GetFiles(run).Select(Path.GetFileName));
    }

    // ---- helpers ----

    /// <summary>Exit code 2 and one line, naming the culprit, is all that <c>sea</c> printed: nothing was written.</summary>
    private static void AssertBadInput((int Exit, string Output) result, string named)
    {
        Assert.Equal(CliErrors.BadInput, result.Exit);
        var line = Assert.Single(result.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("sea: error: ", line);
        Assert.Contains(named, line);
    }

    /// <summary>Epochs whose loss terms fall as 1/epoch from the given first values, and whose recall rises.</summary>
    private static List<EpochRecord> Epochs(int count, params (string Name, double First)[] terms) =>
        Enumerable.Range(1, count).Select(e =>
        {
            var values = terms.ToDictionary(t => t.Name, t => t.First / e);
            double recall = 0.1 * (1 - 1.0 / (e + 1));
            return new EpochRecord(e, values.Values.Sum() + (terms.Length == 0 ? 0.5 : 0), values, recall, recall / 2);
        }).ToList();

    private static string Epoch(int epoch, double loss, params (string Name, double Value)[] terms)
    {
        string N(double v) => v.ToString("R", CultureInfo.InvariantCulture);
        var termJson = string.Join(",", terms.Select(t => $"\"{t.Name}\":{N(t.Value)}"));
        return $"{{\"epoch\":{epoch},\"mean_loss\":{N(loss)},\"loss_terms\":{{{termJson}}},\"train_seconds\":1.5," +
               $"\"valid\":{{\"recall@20\":{N(0.01 * epoch)},\"ndcg@20\":{N(0.005 * epoch)},\"map@20\":0.001}},\"test\":{{\"recall@20\":0.01}},\"improved\":true}}";
    }

    private string WriteRun(string name, List<EpochRecord> epochs)
    {
        var folder = Path.Combine(root, name);
        Directory.CreateDirectory(folder);
        var lines = epochs.Select(e => Epoch((int)e.Epoch, e.MeanLoss, e.LossTerms.Select(t => (t.Key, t.Value)).ToArray()));
        File.WriteAllText(Path.Combine(folder, "epochs.jsonl"), string.Concat(lines.Select(l => l + "\n")));
        return folder;
    }
}
