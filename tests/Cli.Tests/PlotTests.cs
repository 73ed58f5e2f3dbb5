using System.Buffers.Binary;
using System.Globalization;
using System.IO.Compression;
using System.Text;
using System.Xml.Linq;
using Engine.Cli.Plot;
using Engine.Training.Data;

namespace Engine.Cli.Tests;

public class PlotTests : IDisposable
{
    private static readonly XNamespace Svg = "http://www.w3.org/2000/svg";

    // Every test works under its own temporary folder, removed afterwards.
    private readonly string root = Path.Combine(Path.GetTempPath(), $"sea-plot-{Guid.NewGuid():N}");

    public PlotTests() => Directory.CreateDirectory(root);

    public void Dispose()
    {
        if (Directory.Exists(root)) Directory.Delete(root, recursive: true);
    }

    // ---- PNG encoding ----

    [Fact]
    public void Crc32_matches_the_standard_check_value()
    {
        // The published check value of CRC-32 (the PNG/zlib variant) over the ASCII digits 1 to 9.
        Assert.Equal(0xCBF43926u, Crc32.Compute("123456789"u8));
        Assert.Equal(0u, Crc32.Compute([]));
    }

    [Fact]
    public void Png_has_the_signature_verified_chunks_and_one_filtered_row_per_image_row()
    {
        var raster = new Raster(7, 5, Rgb.White);
        raster.FillRectangle(2, 1, 3, 2, new Rgb(10, 20, 30));
        var png = PngEncoder.Encode(raster);

        Assert.Equal(new byte[] { 0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A }, png[..8]);
        var chunks = ReadChunks(png);
        Assert.Equal(["IHDR", "IDAT", "IEND"], chunks.Select(c => c.Type));
        var header = chunks[0].Data;
        Assert.Equal(7, BinaryPrimitives.ReadInt32BigEndian(header));
        Assert.Equal(5, BinaryPrimitives.ReadInt32BigEndian(header.AsSpan(4)));
        Assert.Equal(8, header[8]);   // bits per channel
        Assert.Equal(2, header[9]);   // RGB

        var rows = Inflate(chunks[1].Data);
        Assert.Equal(5 * (1 + 7 * 3), rows.Length);
        for (int y = 0; y < 5; y++)
        {
            Assert.Equal(0, rows[y * 22]);   // filter type "none"
            Assert.Equal(raster.Pixels.AsSpan(y * 21, 21).ToArray(), rows.AsSpan(y * 22 + 1, 21).ToArray());
        }
        Assert.Equal(new Rgb(10, 20, 30), raster[3, 2]);
        Assert.Equal(Rgb.White, raster[0, 0]);
    }

    // ---- rasteriser ----

    [Fact]
    public void A_line_colours_the_pixels_it_crosses_and_leaves_far_pixels_alone()
    {
        var raster = new Raster(64, 32, Rgb.White);
        var blue = new Rgb(0, 0, 255);
        raster.StrokePolyline([new PointD(10, 10), new PointD(50, 20)], 2, blue);

        // On the line (x = 30 is halfway, so y = 15): fully or almost fully blue.
        var onLine = raster[30, 15];
        Assert.True(onLine.R < 60 && onLine.B == 255, $"pixel on the line is {onLine}");
        // Near the edge: partly covered, so neither white nor blue (anti-aliasing).
        Assert.Contains(Enumerable.Range(0, 32).Select(y => raster[30, y]), p => p.R is > 40 and < 230);
        // Far away: untouched.
        Assert.Equal(Rgb.White, raster[30, 28]);
        Assert.Equal(Rgb.White, raster[2, 2]);
        Assert.Equal(Rgb.White, raster[60, 30]);
    }

    [Fact]
    public void Overlapping_segments_of_one_polyline_are_painted_once()
    {
        var grey = new Rgb(100, 100, 100);
        var once = new Raster(40, 20, Rgb.White);
        once.StrokePolyline([new PointD(5, 10.5), new PointD(35, 10.5)], 1.5, grey);
        // Out and back over itself: with one coverage mask per shape the overlap is no darker than a single pass,
        // including the partly covered edge rows, where painting twice would show.
        var twice = new Raster(40, 20, Rgb.White);
        twice.StrokePolyline([new PointD(5, 10.5), new PointD(35, 10.5), new PointD(5, 10.5)], 1.5, grey);
        Assert.Equal(grey, twice[20, 10]);
        var edge = twice[20, 11];
        Assert.True(edge.R is > 100 and < 255, $"edge pixel {edge} should be partly covered");
        for (int y = 0; y < 20; y++) Assert.Equal(once[20, y], twice[20, y]);
    }

    [Fact]
    public void Dashes_leave_gaps_along_a_line()
    {
        var pieces = DashPatterns.Split([new PointD(0, 0), new PointD(30, 0)], [5, 4]);
        // 30 px of 5-on 4-off: dashes start at 0, 9, 18, 27.
        Assert.Equal([0.0, 9, 18, 27], pieces.Select(p => Math.Round(p[0].X, 6)));
        Assert.Equal([5.0, 14, 23, 30], pieces.Select(p => Math.Round(p[^1].X, 6)));
    }

    // ---- stroke font ----

    [Fact]
    public void Every_printable_ascii_character_except_space_has_a_stroke()
    {
        for (char c = '!'; c <= '~'; c++)
        {
            var strokes = StrokeFont.Strokes(c);
            Assert.True(strokes.Count > 0, $"'{c}' has no strokes");
            Assert.All(strokes, s => Assert.True(s.Count >= 2, $"'{c}' has a stroke of {s.Count} point(s)"));
            // Glyphs stay within their box: cap top at 0, descenders to 8, a little room for ( [ { | and _.
            Assert.All(strokes.SelectMany(s => s), p => Assert.True(p.X >= -0.01 && p.X <= 5.1 && p.Y >= -0.6 && p.Y <= 8.1, $"'{c}' point {p}"));
        }
        Assert.Empty(StrokeFont.Strokes(' '));
        Assert.True(StrokeFont.Measure(" ", 12) > 0);
        // A character the font lacks is drawn as '?' rather than nothing.
        Assert.Equal(StrokeFont.Strokes('?'), StrokeFont.Strokes('é'));
    }

    [Fact]
    public void Text_is_drawn_where_it_is_anchored()
    {
        var raster = new Raster(200, 40, Rgb.White);
        var canvas = new RasterCanvas(raster, 1);
        canvas.Text("loss", new PointD(100, 30), 20, Rgb.Black, TextAnchor.Middle);
        double width = StrokeFont.Measure("loss", 20);
        var inked = Enumerable.Range(0, 200).Where(x => Enumerable.Range(0, 40).Any(y => raster[x, y].R < 128)).ToList();
        Assert.NotEmpty(inked);
        // Centred on x = 100 within the measured width (the measure includes a little space after the last letter).
        Assert.InRange(inked.Min(), 100 - width / 2 - 1, 100);
        Assert.InRange(inked.Max(), 100, 100 + width / 2 + 1);
        Assert.True(Enumerable.Range(0, 200).All(x => raster[x, 35].R == 255), "nothing below the baseline for 'loss'");
    }

    // ---- axes ----

    [Fact]
    public void Linear_ticks_are_round_numbers_covering_the_data()
    {
        var axis = Axis.Linear(0.013, 0.092, 5, snapOutward: true, integers: false);
        Assert.True(axis.Min <= 0.013 && axis.Max >= 0.092);
        Assert.Equal(["0.00", "0.02", "0.04", "0.06", "0.08", "0.10"], axis.Ticks.Select(t => t.Label));
        Assert.Equal(0.0, axis.Fraction(axis.Min), 9);
        Assert.Equal(1.0, axis.Fraction(axis.Max), 9);

        var epochs = Axis.Linear(1, 3, 8, snapOutward: false, integers: true);
        Assert.Equal(["1", "2", "3"], epochs.Ticks.Select(t => t.Label));

        Assert.Equal(0.5, Axis.NiceStep(0.31), 12);
        Assert.Equal(20, Axis.NiceStep(13), 12);
        Assert.Equal(1e-3, Axis.NiceStep(0.001), 12);
    }

    [Fact]
    public void Log_ticks_are_whole_decades()
    {
        var axis = Axis.Log(0.0012, 0.69);
        Assert.Equal(0.001, axis.Min, 12);
        Assert.Equal(1, axis.Max, 12);
        Assert.Equal(["0.001", "0.01", "0.1", "1"], axis.Ticks.Where(t => t.Label is not null).Select(t => t.Label));
        Assert.Equal(0.5, axis.Fraction(Math.Sqrt(0.001 * 0.1) * Math.Sqrt(10)), 9);
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

    // ---- the figure and its SVG ----

    [Fact]
    public void Svg_is_xml_with_one_polyline_per_run_and_series_and_each_run_in_the_legend()
    {
        var runs = new List<RunCurves>
        {
            new("lightgcn", Epochs(5, ("bpr", 0.6), ("reg", 0.002))),
            new("sea & co <v2>", Epochs(5, ("bpr", 0.5), ("reg", 0.003), ("cl", 0.1))),
        };
        var document = XDocument.Parse(SvgWriter.Write(TrainingCurves.Build(runs)));

        Assert.Equal(Svg + "svg", document.Root!.Name);
        // Per run: its loss terms, its mean loss, recall and NDCG.
        Assert.Equal((2 + 1 + 1 + 1) + (3 + 1 + 1 + 1), document.Descendants(Svg + "polyline").Count());
        var texts = document.Descendants(Svg + "text").Select(t => t.Value).ToList();
        Assert.Contains("lightgcn", texts);
        Assert.Contains("sea & co <v2>", texts);
        Assert.Contains("training loss (log scale)", texts);
        Assert.Contains("valid Recall@20", texts);
        Assert.Contains("valid NDCG@20", texts);
        Assert.Contains("loss term cl", texts);
        Assert.Equal("sans-serif", document.Root.Attribute("font-family")?.Value);
        // Best-valid markers: one per run on the Recall panel and one on the NDCG panel, plus the legend's key.
        Assert.Equal(2 * 2 + 1, document.Descendants(Svg + "circle").Count());
    }

    [Fact]
    public void Non_finite_losses_are_skipped_and_a_non_positive_loss_keeps_the_axis_linear()
    {
        var epochs = Epochs(4, ("bpr", 0.6), ("reg", 0.0));
        epochs[2] = epochs[2] with { MeanLoss = double.NaN };
        var figure = TrainingCurves.Build([new RunCurves("r", epochs)]);
        Assert.Equal(AxisScale.Linear, figure.Panels[0].YScale);
        Assert.Equal("training loss", figure.Panels[0].Title);

        var document = XDocument.Parse(SvgWriter.Write(figure));
        var meanLoss = document.Descendants(Svg + "polyline").Where(p => p.Attribute("stroke-dasharray") is null)
            .Select(p => p.Attribute("points")!.Value.Split(' ').Length).ToList();
        // The solid lines are mean loss (3 finite points of 4), recall and NDCG (4 each), in that order.
        Assert.Equal([3, 4, 4], meanLoss);
        Assert.DoesNotContain("NaN", document.ToString());
    }

    [Fact]
    public void Png_of_a_figure_is_twice_its_logical_size()
    {
        var figure = TrainingCurves.Build([new RunCurves("r", Epochs(3, ("bpr", 0.6)))]);
        var chunks = ReadChunks(PngRenderer.Encode(figure));
        Assert.Equal((int)Math.Round(figure.Width * 2), BinaryPrimitives.ReadInt32BigEndian(chunks[0].Data));
        Assert.Equal((int)Math.Round(figure.Height * 2), BinaryPrimitives.ReadInt32BigEndian(chunks[0].Data.AsSpan(4)));
        var rows = Inflate(chunks.Where(c => c.Type == "IDAT").SelectMany(c => c.Data).ToArray());
        Assert.Equal((int)Math.Round(figure.Height * 2) * (1 + (int)Math.Round(figure.Width * 2) * 3), rows.Length);
        // Something besides the white background was drawn.
        Assert.Contains(rows, b => b < 128);
    }

    // ---- the command ----

    [Fact]
    public void Plot_writes_svg_and_png_for_two_runs()
    {
        var a = WriteRun("lightgcn", Epochs(6, ("bpr", 0.6), ("reg", 0.002)));
        var b = WriteRun("sea", Epochs(4, ("bpr", 0.5)));
        var output = Path.Combine(root, "out", "curves");
        var log = new StringWriter();

        Assert.Equal(CliErrors.Ok, PlotCommand.Run([a, b], output, log));

        var svgPath = output + ".svg";
        var pngPath = output + ".png";
        Assert.Contains(svgPath, log.ToString());
        Assert.Contains(pngPath, log.ToString());
        var document = XDocument.Load(svgPath);
        var texts = document.Descendants(Svg + "text").Select(t => t.Value).ToList();
        Assert.Contains("lightgcn", texts);
        Assert.Contains("sea", texts);
        Assert.Equal(5 + 4, document.Descendants(Svg + "polyline").Count());

        var png = File.ReadAllBytes(pngPath);
        Assert.True(png.AsSpan(0, 8).SequenceEqual(PngEncoder.Signature));
        var chunks = ReadChunks(png);
        Assert.Equal(1920, BinaryPrimitives.ReadInt32BigEndian(chunks[0].Data));
        // No temporary files left behind by the atomic writes.
        Assert.Equal(["curves.png", "curves.svg"], Directory.GetFiles(Path.Combine(root, "out")).Select(Path.GetFileName).Order());
    }

    [Fact]
    public void Plot_writes_beside_the_first_run_by_default_and_names_same_named_runs_by_path()
    {
        var a = WriteRun(Path.Combine("seed1", "lightgcn"), Epochs(3, ("bpr", 0.6)));
        var b = WriteRun(Path.Combine("seed2", "lightgcn"), Epochs(3, ("bpr", 0.5)));
        Assert.Equal(CliErrors.Ok, PlotCommand.Run([a, b], null, TextWriter.Null));

        Assert.True(File.Exists(Path.Combine(a, "curves.png")));
        var texts = XDocument.Load(Path.Combine(a, "curves.svg")).Descendants(Svg + "text").Select(t => t.Value).ToList();
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

    // ---- bad input ----

    [Fact]
    public void A_missing_folder_or_file_is_named_in_the_error()
    {
        var missing = Path.Combine(root, "no-such-run");
        var e = Assert.Throws<DirectoryNotFoundException>(() => PlotCommand.Run([missing], null, TextWriter.Null));
        Assert.Contains(missing, e.Message);

        var empty = Path.Combine(root, "empty-run");
        Directory.CreateDirectory(empty);
        var f = Assert.Throws<FileNotFoundException>(() => PlotCommand.Run([empty], null, TextWriter.Null));
        Assert.Contains(Path.Combine(empty, "epochs.jsonl"), f.Message);
        // The CLI shows these as one line with exit code 2.
        Assert.Equal(CliErrors.BadInput, CliErrors.Run(() => PlotCommand.Run([empty], null, TextWriter.Null)));
    }

    [Fact]
    public void An_empty_file_is_an_error()
    {
        var run = WriteRun("empty", []);
        var e = Assert.Throws<DataFormatException>(() => PlotCommand.Run([run], null, TextWriter.Null));
        Assert.Contains("epochs.jsonl", e.Message);
        Assert.Null(e.Line);
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
        Assert.False(File.Exists(Path.Combine(run, "curves.svg")));
    }

    // ---- helpers ----

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

    private sealed record Chunk(string Type, byte[] Data);

    /// <summary>Splits a PNG into chunks, checking each CRC with a bit-by-bit CRC-32 independent of the encoder's table.</summary>
    private static List<Chunk> ReadChunks(byte[] png)
    {
        var chunks = new List<Chunk>();
        int at = 8;
        while (at < png.Length)
        {
            int length = BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(at));
            string type = Encoding.ASCII.GetString(png, at + 4, 4);
            var typeAndData = png.AsSpan(at + 4, 4 + length);
            uint stored = BinaryPrimitives.ReadUInt32BigEndian(png.AsSpan(at + 8 + length));
            Assert.Equal(BitwiseCrc32(typeAndData), stored);
            chunks.Add(new Chunk(type, png.AsSpan(at + 8, length).ToArray()));
            at += 12 + length;
        }
        Assert.Equal(png.Length, at);
        Assert.Equal("IEND", chunks[^1].Type);
        return chunks;
    }

    private static uint BitwiseCrc32(ReadOnlySpan<byte> data)
    {
        uint crc = 0xFFFFFFFF;
        foreach (byte b in data)
        {
            crc ^= b;
            for (int bit = 0; bit < 8; bit++) crc = (crc >> 1) ^ (0xEDB88320u & (uint)-(int)(crc & 1));
        }
        return ~crc;
    }

    private static byte[] Inflate(byte[] zlib)
    {
        using var input = new ZLibStream(new MemoryStream(zlib), CompressionMode.Decompress);
        using var output = new MemoryStream();
        input.CopyTo(output);
        return output.ToArray();
    }
}
