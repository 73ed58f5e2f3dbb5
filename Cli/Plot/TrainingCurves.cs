using System.Globalization;
using System.Text.Json;
using Engine.Training.Data;
using ScottPlot;
using ScottPlot.Plottables;
using SkiaSharp;

namespace Engine.Cli.Plot;

/// <summary>One line of epochs.jsonl; metrics a line lacks are NaN, which the plot skips.</summary>
internal sealed record EpochRecord(double Epoch, double MeanLoss, IReadOnlyDictionary<string, double> LossTerms, double ValidRecall, double ValidNdcg);

/// <summary>A training run as the plot sees it: a name for the legend and its epochs in file order.</summary>
internal sealed record RunCurves(string Name, IReadOnlyList<EpochRecord> Epochs)
{
    /// <summary>The epoch with the highest validation Recall@20, the first of equals; null when none was validated.</summary>
    public EpochRecord? BestValid => Epochs.Where(e => double.IsFinite(e.ValidRecall))
        .Aggregate((EpochRecord?)null, (best, e) => best is null || e.ValidRecall > best.ValidRecall ? e : best);
}

/// <summary>Reads the epochs.jsonl that <c>sea train --out DIR</c> writes, one JSON object per epoch.</summary>
internal static class EpochLog
{
    public const string FileName = "epochs.jsonl";
    public const string Recall = "recall@20";
    public const string Ndcg = "ndcg@20";

    public static RunCurves ReadRun(string folder, string name)
    {
        if (!Directory.Exists(folder)) throw new DirectoryNotFoundException($"{folder}: no such run folder");
        var path = Path.Combine(folder, FileName);
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: not found (is {folder} a folder written by 'sea train --out'?)", path);
        return new RunCurves(name, Read(path));
    }

    public static List<EpochRecord> Read(string path)
    {
        var epochs = new List<EpochRecord>();
        int lineNumber = 0;
        foreach (var line in File.ReadLines(path))
        {
            lineNumber++;
            if (string.IsNullOrWhiteSpace(line)) continue;
            epochs.Add(ParseLine(path, lineNumber, line));
        }
        if (epochs.Count == 0) throw new DataFormatException(path, null, "no epochs in the file");
        return epochs;
    }

    private static EpochRecord ParseLine(string path, int lineNumber, string line)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(line);
        }
        catch (JsonException e)
        {
            throw new DataFormatException(path, lineNumber, $"not valid JSON ({e.Message})", e);
        }
        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object) throw new DataFormatException(path, lineNumber, "expected a JSON object");
            if (!root.TryGetProperty("epoch", out var epoch)) throw new DataFormatException(path, lineNumber, "no \"epoch\"");
            if (!root.TryGetProperty("mean_loss", out var loss)) throw new DataFormatException(path, lineNumber, "no \"mean_loss\"");

            var terms = new Dictionary<string, double>();
            if (root.TryGetProperty("loss_terms", out var termObject) && termObject.ValueKind == JsonValueKind.Object)
                foreach (var term in termObject.EnumerateObject())
                    terms[term.Name] = Number(path, lineNumber, $"loss_terms.{term.Name}", term.Value);

            double recall = double.NaN, ndcg = double.NaN;
            if (root.TryGetProperty("valid", out var valid) && valid.ValueKind == JsonValueKind.Object)
            {
                if (valid.TryGetProperty(Recall, out var r)) recall = Number(path, lineNumber, $"valid.{Recall}", r);
                if (valid.TryGetProperty(Ndcg, out var n)) ndcg = Number(path, lineNumber, $"valid.{Ndcg}", n);
            }
            return new EpochRecord(Number(path, lineNumber, "epoch", epoch), Number(path, lineNumber, "mean_loss", loss), terms, recall, ndcg);
        }
    }

    /// <summary>A number, or one of the named values the writer uses for non-finite floats ("NaN", "Infinity"); null is NaN.</summary>
    private static double Number(string path, int lineNumber, string field, JsonElement value)
    {
        switch (value.ValueKind)
        {
            case JsonValueKind.Number:
                return value.GetDouble();
            case JsonValueKind.Null:
                return double.NaN;
            case JsonValueKind.String:
                var text = value.GetString();
                if (text is "NaN" or "Infinity" or "-Infinity") return double.Parse(text, CultureInfo.InvariantCulture);
                break;
        }
        throw new DataFormatException(path, lineNumber, $"\"{field}\" should be a number, not {value.GetRawText()}");
    }
}

/// <summary>Turns runs into the three-panel figure: training loss, validation Recall@20, validation NDCG@20.</summary>
internal static class TrainingCurves
{
    public const int Width = 960;
    public const int PanelsHeight = 400;

    private const float SeriesWidth = 1.8f;
    private const float MarkerSize = 8;

    /// <summary>
    /// The Okabe–Ito palette, which stays distinguishable under the common colour-vision deficiencies. Yellow comes last
    /// because it is hard to see on white.
    /// </summary>
    private static readonly Color[] RunColors =
        [.. new[] { "#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442" }.Select(Color.FromHex)];

    private static readonly Color KeyColor = Color.FromHex("#555555");
    private static readonly LinePattern[] TermPatterns = [LinePattern.Dashed, LinePattern.Dotted, LinePattern.DenselyDashed];

    // ScottPlot takes Skia's default family, which can be a serif face (DejaVu Serif on Debian): prefer a sans one.
    private static readonly string Font =
        new[] { "DejaVu Sans", "Liberation Sans", "Arial", "Helvetica" }.FirstOrDefault(SKFontManager.Default.FontFamilies.Contains) ?? Fonts.Sans;

    public static Color RunColor(int index) => RunColors[index % RunColors.Length];

    public static Figure Build(IReadOnlyList<RunCurves> runs)
    {
        // Each loss term gets one dash pattern in every run, so the legend can name it once.
        var termNames = runs.SelectMany(r => r.Epochs).SelectMany(e => e.LossTerms.Keys).Distinct().ToList();
        LinePattern TermPattern(string term) => TermPatterns[termNames.IndexOf(term) % TermPatterns.Length];

        // Loss terms can differ by orders of magnitude (BPR near 0.7, regularisation near 0.001): a log axis shows
        // both, but only works when everything drawn is positive.
        var lossValues = runs.SelectMany(r => r.Epochs).SelectMany(e => e.LossTerms.Values.Append(e.MeanLoss)).Where(double.IsFinite).ToList();
        bool log = lossValues.Count > 0 && lossValues.All(v => v > 0);

        var loss = Panel(log ? "training loss (log scale)" : "training loss", "loss");
        var recall = Panel("valid Recall@20", EpochLog.Recall);
        var ndcg = Panel("valid NDCG@20", EpochLog.Ndcg);
        if (log) UseLogTicks(loss);

        bool anyBest = false;
        for (int i = 0; i < runs.Count; i++)
        {
            var run = runs[i];
            var color = RunColor(i);
            double Loss(double value) => log ? Math.Log10(value) : value;
            // Terms first, so each run's total loss is drawn on top of its own terms.
            foreach (var term in termNames.Where(t => run.Epochs.Any(e => e.LossTerms.ContainsKey(t))))
                AddSeries(loss, $"{run.Name} {term}", color, TermPattern(term),
                    run.Epochs.Select(e => (e.Epoch, Loss(e.LossTerms.GetValueOrDefault(term, double.NaN)))));
            AddSeries(loss, $"{run.Name} mean loss", color, LinePattern.Solid, run.Epochs.Select(e => (e.Epoch, Loss(e.MeanLoss))));
            AddSeries(recall, run.Name, color, LinePattern.Solid, run.Epochs.Select(e => (e.Epoch, e.ValidRecall)));
            AddSeries(ndcg, run.Name, color, LinePattern.Solid, run.Epochs.Select(e => (e.Epoch, e.ValidNdcg)));
            if (run.BestValid is { } best)
            {
                anyBest = true;
                AddBestMarker(recall, best.Epoch, best.ValidRecall, color);
                AddBestMarker(ndcg, best.Epoch, best.ValidNdcg, color);
            }
        }
        foreach (var panel in new[] { loss, recall, ndcg }.Where(p => !p.GetPlottables<Scatter>().Any()))
            panel.Add.Annotation("no data", Alignment.MiddleCenter);

        // Legend rows: the runs by colour, then the key to line styles and markers, which is the same in every run.
        var runItems = runs.Select((r, i) => LineItem(Shorten(r.Name), RunColor(i), LinePattern.Solid));
        var keyItems = new List<LegendItem> { LineItem("mean loss", KeyColor, LinePattern.Solid) };
        keyItems.AddRange(termNames.Select(t => LineItem($"loss term {t}", KeyColor, TermPattern(t))));
        if (anyBest)
            keyItems.Add(new LegendItem { LabelText = "best valid Recall@20", MarkerShape = MarkerShape.OpenCircle, MarkerSize = MarkerSize, MarkerLineColor = KeyColor, MarkerLineWidth = 1.5f });
        return new Figure([loss, recall, ndcg], [LegendRow(loss, runItems), LegendRow(loss, keyItems)], Width, PanelsHeight);
    }

    private static ScottPlot.Plot Panel(string title, string yLabel)
    {
        var plot = new ScottPlot.Plot();
        plot.Font.Set(Font);
        plot.Title(title, 13);
        plot.XLabel("epoch", 12);
        plot.YLabel(yLabel, 12);
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic { IntegerTicksOnly = true };
        // Series are named for what they are, but the figure has one legend for all panels, below them.
        plot.HideLegend();
        return plot;
    }

    /// <summary>The loss panel plots log10 of each value: ticks at whole decades, labelled with the values themselves.</summary>
    private static void UseLogTicks(ScottPlot.Plot plot)
    {
        plot.Axes.Left.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic
        {
            IntegerTicksOnly = true,
            MinorTickGenerator = new ScottPlot.TickGenerators.LogMinorTickGenerator(),
            LabelFormatter = exponent => Math.Pow(10, exponent).ToString("G4", CultureInfo.InvariantCulture),
        };
        plot.Grid.MinorLineWidth = 1;
    }

    /// <summary>Joins the finite points in order; a run of one epoch gets a dot, since a line of one point shows nothing.</summary>
    private static void AddSeries(ScottPlot.Plot plot, string name, Color color, LinePattern pattern, IEnumerable<(double X, double Y)> points)
    {
        var drawn = points.Where(p => double.IsFinite(p.X) && double.IsFinite(p.Y)).ToList();
        if (drawn.Count == 0) return;
        var series = plot.Add.Scatter(drawn.Select(p => p.X).ToArray(), drawn.Select(p => p.Y).ToArray(), color);
        series.LegendText = name;
        series.LineWidth = SeriesWidth;
        series.LinePattern = pattern;
        series.MarkerSize = drawn.Count == 1 ? 3 * SeriesWidth : 0;
    }

    private static void AddBestMarker(ScottPlot.Plot plot, double epoch, double value, Color color)
    {
        var marker = plot.Add.Marker(epoch, value, MarkerShape.OpenCircle, MarkerSize, color);
        marker.MarkerLineWidth = 1.5f;
    }

    private static LegendItem LineItem(string label, Color color, LinePattern pattern) =>
        new() { LabelText = label, LineColor = color, LineWidth = SeriesWidth + 0.4f, LinePattern = pattern };

    /// <summary>A borderless legend of fixed items, laid out in rows that wrap at the figure's width.</summary>
    private static Legend LegendRow(ScottPlot.Plot owner, IEnumerable<LegendItem> items)
    {
        var legend = new Legend(owner)
        {
            DisplayPlottableLegendItems = false,
            Orientation = Orientation.Horizontal,
            TightHorizontalWrapping = true,
            SymbolWidth = 30,
            FontName = Font,
            FontSize = 12,
            OutlineColor = Colors.Transparent,
            ShadowColor = Colors.Transparent,
            BackgroundColor = Colors.Transparent,
        };
        legend.ManualItems.AddRange(items);
        return legend;
    }

    /// <summary>Keeps the end of a very long name, where runs usually differ, so one name cannot outgrow the figure.</summary>
    private static string Shorten(string name, int most = 60) => name.Length <= most ? name : "..." + name[^(most - 3)..];

    /// <summary>
    /// Legend names: each folder's own name, or its path relative to the working folder where two runs would share a
    /// name (e.g. seed1/lightgcn and seed2/lightgcn).
    /// </summary>
    public static List<string> RunNames(IReadOnlyList<string> folders)
    {
        var full = folders.Select(f => Path.TrimEndingDirectorySeparator(Path.GetFullPath(f))).ToList();
        var names = full.Select(Path.GetFileName).Select(n => string.IsNullOrEmpty(n) ? "/" : n).ToList();
        return names.Select((n, i) => names.Count(m => m == n) > 1
            ? Path.GetRelativePath(Environment.CurrentDirectory, full[i]).Replace('\\', '/')
            : n).ToList();
    }
}
