using System.Globalization;
using System.Text;
using System.Text.Json;
using Engine.IO;
using Engine.Training.Data;
using Engine.Training.Options;

namespace Engine.Training;

/// <summary>One point of a grid: the values of the options that vary, and the configuration they make.</summary>
public sealed record GridPoint(IReadOnlyList<(string Key, string? Value)> Values, RunConfig Config)
{
    /// <summary>The point's folder name from the options given as lists, e.g. <c>layers=3,reg=0.01,seed=999</c> (<c>point</c> when none is).</summary>
    public string Name => Values.Count == 0 ? "point" : string.Join(",", Values.Select(v => $"{v.Key}={Safe(v.Value)}"));

    /// <summary>The same without the seed: the points that differ only in their seed are one row of the summary.</summary>
    public string Setting => string.Join(",", Values.Where(v => !GridSearch.IsSeedKey(v.Key)).Select(v => $"{v.Key}={Safe(v.Value)}"));

    private static string Safe(string? value) =>
        value is null ? "none" : string.Concat(Path.GetFileName(value.TrimEnd('/', '\\')).Select(c => char.IsLetterOrDigit(c) || c is '.' or '-' or '_' ? c : '_'));
}

/// <summary>One row of the summary: a setting's test metrics at its best-valid epoch, averaged over its seeds.</summary>
public sealed record GridRow(int Rank, string Setting, int Seeds, double ValidRecall20, double ValidNdcg20,
    IReadOnlyDictionary<string, double> Test, IReadOnlyDictionary<string, double> TestStd, double BestEpoch, double EpochsRun);

/// <summary>
/// <c>sea grid</c>: MMRec's hyper-parameter search. A grid file holds <c>sea train</c>'s options, any of them a list;
/// every combination of the lists is one point, trained into its own folder (<c>out/&lt;point&gt;</c>). Finished points
/// (with metrics.json) are read back, interrupted ones resume from their last checkpoint. The summary ranks settings
/// by validation Recall@20 and reports the test metrics of each setting's best-valid epochs: the chosen setting is
/// picked on valid, never on test (MMRec's printed "best" is picked on test).
/// </summary>
public static class GridSearch
{
    public const string SummaryCsv = "summary.csv";
    public const string SummaryMarkdown = "summary.md";
    public static readonly string[] TestColumns = ["recall@10", "recall@20", "ndcg@10", "ndcg@20", "precision@20", "map@20"];

    internal static bool IsOutputKey(string key) => key.Trim().Equals("out", StringComparison.OrdinalIgnoreCase);
    internal static bool IsSeedKey(string key) => key.Trim().ToLowerInvariant() is "seed" or "seeds";

    /// <summary>The grid file's points in order (the last option varies fastest) and its <c>out</c> folder if it names one.</summary>
    public static (IReadOnlyList<GridPoint> Points, string? Output) Read(string path)
    {
        var entries = RunConfigFile.ReadGrid(path);
        string? output = entries.Where(e => IsOutputKey(e.Key)).Select(e => e.Values[0]).FirstOrDefault();
        if (output is not null) output = Path.GetFullPath(output, Path.GetDirectoryName(Path.GetFullPath(path))!);
        var options = RunOptions.ModelFirst(entries.Where(e => !IsOutputKey(e.Key)), e => e.Key).ToList();
        var points = new List<GridPoint> { new([], new RunConfig()) };
        // Every option written as a list names the point folders, even a list of one value, so a grid split into
        // several files (layers: [4] here, [1, 2, 3] there) shares one set of folder names and skips what the other ran.
        foreach (var (key, values, isList) in options)
            points = points.SelectMany(p => values.Select(v => new GridPoint(
                isList ? [.. p.Values, (key.Trim().ToLowerInvariant().Replace('_', '-'), v)] : p.Values,
                RunConfigFile.Apply(p.Config, key, v, path)))).ToList();
        return (points, output);
    }

    /// <summary>
    /// Trains (or reads back, or resumes) every point into <paramref name="output"/>, then writes and returns the summary.
    /// <paramref name="train"/> runs one point's training (default: quietly); the grid stops early if it reports cancellation.
    /// </summary>
    public static IReadOnlyList<GridRow> Run(IReadOnlyList<GridPoint> points, string output, Backend? backend, TextWriter log,
        Func<Recommender, string, TrainingResult>? train = null)
    {
        train ??= (run, folder) => run.Train(folder);
        var reports = new List<(GridPoint Point, MetricsReport Report)>();
        for (int i = 0; i < points.Count; i++)
        {
            var point = points[i];
            var folder = Path.Combine(output, point.Name);
            var metrics = Path.Combine(folder, Recommender.MetricsFile);
            string what;
            if (File.Exists(metrics))
                what = "finished before";
            else
            {
                bool resume = File.Exists(Path.Combine(folder, Recommender.LastCheckpoint));
                using var run = resume ? Recommender.Load(folder, backend, latest: true, config: point.Config) : Recommender.Create(point.Config, backend);
                log.WriteLine($"[{i + 1}/{points.Count}] {point.Name}: {(resume ? $"resuming after epoch {run.Trainer.EpochsDone}" : "training")}");
                if (train(run, folder).Cancelled)
                {
                    log.WriteLine($"grid stopped at point {i + 1} of {points.Count}; run it again to continue");
                    break;
                }
                what = resume ? "resumed" : "trained";
            }
            var report = JsonSerializer.Deserialize<MetricsReport>(File.ReadAllText(metrics), TrainingJson.Indented)
                         ?? throw new DataFormatException(metrics, null, "empty metrics file");
            reports.Add((point, report));
            log.WriteLine($"[{i + 1}/{points.Count}] {point.Name}: {what}: valid recall@20 {report.Valid.GetValueOrDefault("recall@20"):0.0000}, " +
                          $"test recall@20 {report.Test.GetValueOrDefault("recall@20"):0.0000} (best epoch {report.BestEpoch} of {report.EpochsRun})");
        }
        var rows = Summarise(reports);
        AtomicFile.WriteAllText(Path.Combine(output, SummaryCsv), Csv(rows));
        AtomicFile.WriteAllText(Path.Combine(output, SummaryMarkdown), Markdown(rows, reports.Count, points.Count));
        return rows;
    }

    /// <summary>Groups the points by setting (all but the seed), averages over seeds, ranks by validation Recall@20.</summary>
    public static IReadOnlyList<GridRow> Summarise(IReadOnlyList<(GridPoint Point, MetricsReport Report)> reports) =>
        reports.GroupBy(r => r.Point.Setting)
            .Select(g =>
            {
                var runs = g.Select(r => r.Report).ToList();
                double Mean(Func<MetricsReport, double> f) => runs.Average(f);
                double Std(Func<MetricsReport, double> f) => runs.Count < 2 ? 0
                    : Math.Sqrt(runs.Sum(r => Math.Pow(f(r) - Mean(f), 2)) / (runs.Count - 1));
                return new GridRow(0, g.Key.Length == 0 ? "(one setting)" : g.Key, runs.Count,
                    Mean(r => r.Valid.GetValueOrDefault("recall@20")), Mean(r => r.Valid.GetValueOrDefault("ndcg@20")),
                    TestColumns.ToDictionary(c => c, c => Mean(r => r.Test.GetValueOrDefault(c))),
                    TestColumns.ToDictionary(c => c, c => Std(r => r.Test.GetValueOrDefault(c))),
                    Mean(r => r.BestEpoch), Mean(r => r.EpochsRun));
            })
            .OrderByDescending(r => r.ValidRecall20)
            .Select((r, i) => r with { Rank = i + 1 })
            .ToList();

    private static string F(double v) => v.ToString("0.0000", CultureInfo.InvariantCulture);

    private static string Csv(IReadOnlyList<GridRow> rows)
    {
        var text = new StringBuilder("rank,setting,seeds,valid_recall@20,valid_ndcg@20,"
                                     + string.Join(",", TestColumns.Select(c => $"test_{c}")) + ",best_epoch,epochs_run\n");
        foreach (var r in rows)
            text.Append(CultureInfo.InvariantCulture, $"{r.Rank},\"{r.Setting}\",{r.Seeds},{r.ValidRecall20:R},{r.ValidNdcg20:R},")
                .Append(string.Join(",", TestColumns.Select(c => r.Test[c].ToString("R", CultureInfo.InvariantCulture))))
                .Append(CultureInfo.InvariantCulture, $",{r.BestEpoch:R},{r.EpochsRun:R}\n");
        return text.ToString();
    }

    private static string Markdown(IReadOnlyList<GridRow> rows, int done, int total)
    {
        var text = new StringBuilder();
        text.Append($"Ranked by validation Recall@20 ({done} of {total} points done). Test metrics are each setting's at its best-valid epoch");
        text.Append(rows.Any(r => r.Seeds > 1) ? ", mean ± std over seeds" : "").Append(". The chosen setting is the first row: picked on valid, not on test.\n\n");
        text.Append("| rank | setting | seeds | valid R@20 | valid N@20 | ").Append(string.Join(" | ", TestColumns.Select(c => $"test {c}"))).Append(" | best epoch | epochs |\n");
        text.Append("| --- | --- | --- | --- | --- | ").Append(string.Join(" | ", TestColumns.Select(_ => "---"))).Append(" | --- | --- |\n");
        foreach (var r in rows)
            text.Append($"| {r.Rank} | {r.Setting} | {r.Seeds} | {F(r.ValidRecall20)} | {F(r.ValidNdcg20)} | ")
                .Append(string.Join(" | ", TestColumns.Select(c => r.Seeds > 1 ? $"{F(r.Test[c])} ± {F(r.TestStd[c])}" : F(r.Test[c]))))
                .Append(CultureInfo.InvariantCulture, $" | {r.BestEpoch:0.#} | {r.EpochsRun:0.#} |\n");
        return text.ToString();
    }
}
