using System.CommandLine;
using System.Text.Json;
using MathNet.Numerics.Distributions;
using Spectre.Console;

namespace Engine.Cli;

/// <summary>
/// <c>sea compare A.json B.json [C.json …]</c>: runs over the same seeds against the first. Two runs are compared
/// metric by metric (means, difference, two-sided paired t-test over the seeds both ran); with more, one row per run
/// holds Recall@20 and NDCG@20 (mean ± std), the paired test against the first, the best epochs and seconds per epoch.
/// </summary>
internal static class CompareCommand
{
    /// <summary>+0.0012 / −0.0012; a difference that rounds to zero is +0.0000 (a custom format would print "-+0.0000").</summary>
    private static string Signed(double difference) =>
        (Math.Round(difference, 4) < 0 ? "-" : "+") + Math.Abs(difference).ToString("0.0000", System.Globalization.CultureInfo.InvariantCulture);

    public static Command Create()
    {
        var runs = new Argument<string[]>("runs") { Description = "metrics.json files (multi-seed runs or single runs); the first is the baseline", Arity = new ArgumentArity(2, 100) };
        var markdown = new Option<string?>("--markdown") { Description = "also write the per-run summary as a Markdown table to this file" };
        var command = new Command("compare", "Compares runs' test metrics with the first's over their common seeds (paired t-test).") { runs, markdown };
        command.SetAction(parse =>
        {
            var paths = parse.GetValue(runs)!;
            if (parse.GetValue(markdown) is { } target) Engine.IO.AtomicFile.CheckReplaceable(target);
            var read = paths.Select(ReadRuns).ToList();
            if (paths.Length == 2) AnsiConsole.Write(MetricTable(Compare(read[0].BySeed, read[1].BySeed)));
            var rows = Summary(paths, read);
            var table = new Table().AddColumns(SummaryColumns);
            foreach (var row in rows) table.AddRow(row.Select(Markup.Escape).ToArray());
            AnsiConsole.Write(table);
            if (parse.GetValue(markdown) is { } file)
            {
                var text = $"| {string.Join(" | ", SummaryColumns)} |\n|{string.Concat(SummaryColumns.Select(_ => " --- |"))}\n" +
                           string.Concat(rows.Select(r => $"| {string.Join(" | ", r)} |\n"));
                Engine.IO.AtomicFile.WriteAllText(file, text);
                Console.WriteLine($"wrote {file}");
            }
            return CliErrors.Ok;
        });
        return command;
    }

    private static Table MetricTable(List<Row> comparison)
    {
        var table = new Table().AddColumns("test metric", "A mean", "B mean", "B − A", "t", "p (two-sided)");
        foreach (var row in comparison)
            table.AddRow(row.Metric, $"{row.MeanA:0.0000}", $"{row.MeanB:0.0000}", Signed(row.MeanB - row.MeanA),
                double.IsNaN(row.T) ? "—" : $"{row.T:0.00}", double.IsNaN(row.P) ? "needs ≥ 2 seeds" : $"{row.P:0.0000}");
        return table;
    }

    private static readonly string[] SummaryColumns =
        ["run", "model", "seeds", "test R@20", "test N@20", "R@20 − first (p)", "N@20 − first (p)", "best epoch (of)", "s/epoch"];

    /// <summary>One row per run: its test Recall@20 and NDCG@20 over its seeds and the paired test against the first run.</summary>
    private static List<string[]> Summary(string[] paths, List<Runs> read)
    {
        string Stat(Runs r, string metric)
        {
            var (mean, std) = MeanStd.Of(r.BySeed.Values.Select(m => m[metric]).ToArray());
            return $"{mean:0.0000} ± {std:0.0000}";
        }
        // Each run's paired test against the first, once per run (both columns read it).
        var against = read.Select((r, i) => i == 0 ? null : Compare(read[0].BySeed, r.BySeed)).ToList();
        string Against(int i, string metric)
        {
            if (i == 0) return "—";
            var row = against[i]!.Single(r => r.Metric == metric);
            return $"{Signed(row.MeanB - row.MeanA)} ({(double.IsNaN(row.P) ? "1 seed" : row.P.ToString("0.000", System.Globalization.CultureInfo.InvariantCulture))})";
        }
        return read.Select((r, i) => new[]
        {
            Path.GetFileName(Path.GetDirectoryName(Path.GetFullPath(paths[i]))) ?? paths[i], r.Model, string.Join(",", r.BySeed.Keys),
            Stat(r, "recall@20"), Stat(r, "ndcg@20"), Against(i, "recall@20"), Against(i, "ndcg@20"),
            string.Join(", ", r.Epochs.Select(e => $"{e.Best} ({e.Run})")), r.SecondsPerEpoch.ToString("0.00", System.Globalization.CultureInfo.InvariantCulture),
        }).ToList();
    }

    public sealed record Row(string Metric, int Seeds, double MeanA, double MeanB, double T, double P);

    /// <summary>Per metric, over the seeds both runs have: t = mean(d) / (sd(d)/√n) with d = B − A, n − 1 degrees of freedom.</summary>
    public static List<Row> Compare(Dictionary<ulong, Dictionary<string, double>> a, Dictionary<ulong, Dictionary<string, double>> b)
    {
        var seeds = a.Keys.Intersect(b.Keys).Order().ToList();
        if (seeds.Count == 0)
            throw new FormatException($"the runs share no seed (A: {string.Join(",", a.Keys)}; B: {string.Join(",", b.Keys)})");
        var rows = new List<Row>();
        foreach (var metric in a[seeds[0]].Keys.Where(k => b[seeds[0]].ContainsKey(k)))
        {
            var xa = seeds.Select(s => a[s][metric]).ToArray();
            var xb = seeds.Select(s => b[s][metric]).ToArray();
            var d = xb.Zip(xa, (y, x) => y - x).ToArray();
            double t = double.NaN, p = double.NaN;
            if (d.Length >= 2)
            {
                double mean = d.Average();
                double sd = Math.Sqrt(d.Sum(v => (v - mean) * (v - mean)) / (d.Length - 1));
                t = sd == 0 ? (mean == 0 ? 0 : double.PositiveInfinity * Math.Sign(mean)) : mean / (sd / Math.Sqrt(d.Length));
                p = double.IsInfinity(t) ? 0 : 2 * (1 - StudentT.CDF(0, 1, d.Length - 1, Math.Abs(t)));
            }
            rows.Add(new Row(metric, seeds.Count, xa.Average(), xb.Average(), t, p));
        }
        return rows;
    }

    /// <summary>Test metrics by seed from a multi-seed summary (its "runs") or a single run's metrics.json.</summary>
    public static Dictionary<ulong, Dictionary<string, double>> Read(string path) => ReadRuns(path).BySeed;

    /// <summary>What a metrics.json says of its runs: the model, test metrics by seed, best and last epochs, median seconds per epoch.</summary>
    private sealed record Runs(string Model, Dictionary<ulong, Dictionary<string, double>> BySeed, List<(int Best, int Run)> Epochs, double SecondsPerEpoch);

    private static Runs ReadRuns(string path)
    {
        using var json = JsonDocument.Parse(File.ReadAllText(path));
        var runs = json.RootElement.TryGetProperty("runs", out var list) ? list.EnumerateArray().ToList() : [json.RootElement];
        var bySeed = new Dictionary<ulong, Dictionary<string, double>>();
        var epochs = new List<(int, int)>();
        var seconds = new List<double>();
        string model = "";
        foreach (var run in runs)
        {
            if (!run.TryGetProperty("seed", out var seed) || !run.TryGetProperty("test", out var test))
                throw new FormatException($"{path}: not a metrics.json written by 'sea train' (no seed or test metrics)");
            bySeed[seed.GetUInt64()] = test.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetDouble());
            if (run.TryGetProperty("best_epoch", out var best) && run.TryGetProperty("epochs_run", out var ran)) epochs.Add((best.GetInt32(), ran.GetInt32()));
            if (run.TryGetProperty("train_seconds_per_epoch", out var s)) seconds.Add(s.GetDouble());
            if (run.TryGetProperty("model", out var m)) model = m.GetString() ?? "";
        }
        return new Runs(model, bySeed, epochs, seconds.Count == 0 ? double.NaN : seconds.Order().ElementAt(seconds.Count / 2));
    }
}
