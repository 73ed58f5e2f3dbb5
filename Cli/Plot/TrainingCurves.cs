using System.Globalization;
using System.Text.Json;
using Engine.Training.Data;

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
    public const double Width = 960;
    public const double PanelsHeight = 400;

    private static readonly Dash[] TermDashes = [Dash.Dashed, Dash.Dotted, Dash.DashDot];

    public static Figure Build(IReadOnlyList<RunCurves> runs)
    {
        // Each loss term gets one dash style in every run, so the legend can name it once.
        var termNames = runs.SelectMany(r => r.Epochs).SelectMany(e => e.LossTerms.Keys).Distinct().ToList();
        Dash TermDash(string term) => TermDashes[termNames.IndexOf(term) % TermDashes.Length];

        var lossSeries = new List<Series>();
        var recallSeries = new List<Series>();
        var ndcgSeries = new List<Series>();
        var recallMarkers = new List<Marker>();
        var ndcgMarkers = new List<Marker>();
        for (int i = 0; i < runs.Count; i++)
        {
            var run = runs[i];
            var color = Palette.Run(i);
            // Terms first, so each run's total loss is drawn on top of its own terms.
            foreach (var term in termNames.Where(t => run.Epochs.Any(e => e.LossTerms.ContainsKey(t))))
                lossSeries.Add(new Series($"{run.Name} {term}", color, TermDash(term),
                    run.Epochs.Select(e => new PointD(e.Epoch, e.LossTerms.GetValueOrDefault(term, double.NaN))).ToList()));
            lossSeries.Add(new Series($"{run.Name} mean loss", color, Dash.Solid, run.Epochs.Select(e => new PointD(e.Epoch, e.MeanLoss)).ToList()));
            recallSeries.Add(new Series(run.Name, color, Dash.Solid, run.Epochs.Select(e => new PointD(e.Epoch, e.ValidRecall)).ToList()));
            ndcgSeries.Add(new Series(run.Name, color, Dash.Solid, run.Epochs.Select(e => new PointD(e.Epoch, e.ValidNdcg)).ToList()));
            if (run.BestValid is { } best)
            {
                recallMarkers.Add(new Marker(new PointD(best.Epoch, best.ValidRecall), color));
                ndcgMarkers.Add(new Marker(new PointD(best.Epoch, best.ValidNdcg), color));
            }
        }

        // Loss terms can differ by orders of magnitude (BPR near 0.7, regularisation near 0.001): a log axis shows
        // both, but only works when everything drawn is positive.
        var lossValues = lossSeries.SelectMany(s => s.Points).Select(p => p.Y).Where(double.IsFinite).ToList();
        bool log = lossValues.Count > 0 && lossValues.All(v => v > 0);
        var panels = new List<Panel>
        {
            new(log ? "training loss (log scale)" : "training loss", "epoch", "loss", log ? AxisScale.Log : AxisScale.Linear, lossSeries, []),
            new("valid Recall@20", "epoch", "recall@20", AxisScale.Linear, recallSeries, recallMarkers),
            new("valid NDCG@20", "epoch", "ndcg@20", AxisScale.Linear, ndcgSeries, ndcgMarkers),
        };

        var runItems = runs.Select((r, i) => new LegendItem(Shorten(r.Name), Palette.Run(i), Dash.Solid)).ToList();
        var keyItems = new List<LegendItem> { new("mean loss", Palette.Key, Dash.Solid) };
        keyItems.AddRange(termNames.Select(t => new LegendItem($"loss term {t}", Palette.Key, TermDash(t))));
        if (recallMarkers.Count > 0) keyItems.Add(new LegendItem("best valid Recall@20", Palette.Key, Dash.Solid, LegendSymbol.Dot));
        var legend = new List<IReadOnlyList<LegendItem>> { runItems, keyItems };

        // The panels keep their size however many runs there are: the figure grows by what the legend needs.
        return new Figure(Width, PanelsHeight + ChartPainter.LegendHeight(Width, legend), panels, legend);
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
