using System.CommandLine;
using System.Text.Json;
using MathNet.Numerics.Distributions;
using Spectre.Console;

namespace Engine.Cli;

/// <summary>
/// <c>sea compare A.json B.json</c>: two runs over the same seeds, metric by metric: the means, their difference and
/// a two-sided paired t-test over the seeds both ran.
/// </summary>
internal static class CompareCommand
{
    /// <summary>+0.0012 / −0.0012; a difference that rounds to zero is +0.0000 (a custom format would print "-+0.0000").</summary>
    private static string Signed(double difference) =>
        (Math.Round(difference, 4) < 0 ? "-" : "+") + Math.Abs(difference).ToString("0.0000", System.Globalization.CultureInfo.InvariantCulture);

    public static Command Create()
    {
        var a = new Argument<string>("a") { Description = "metrics.json of the first model (a multi-seed run, or a single run)" };
        var b = new Argument<string>("b") { Description = "metrics.json of the second model" };
        var command = new Command("compare", "Compares two runs' test metrics over their common seeds with a paired t-test.") { a, b };
        command.SetAction(parse =>
        {
            var comparison = Compare(Read(parse.GetValue(a)!), Read(parse.GetValue(b)!));
            var table = new Table().AddColumns("test metric", "A mean", "B mean", "B − A", "t", "p (two-sided)");
            foreach (var row in comparison)
                table.AddRow(row.Metric, $"{row.MeanA:0.0000}", $"{row.MeanB:0.0000}", Signed(row.MeanB - row.MeanA),
                    double.IsNaN(row.T) ? "—" : $"{row.T:0.00}", double.IsNaN(row.P) ? "needs ≥ 2 seeds" : $"{row.P:0.0000}");
            AnsiConsole.Write(table);
            return CliErrors.Ok;
        });
        return command;
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
    public static Dictionary<ulong, Dictionary<string, double>> Read(string path)
    {
        using var json = JsonDocument.Parse(File.ReadAllText(path));
        var runs = json.RootElement.TryGetProperty("runs", out var list) ? list.EnumerateArray().ToList() : [json.RootElement];
        var bySeed = new Dictionary<ulong, Dictionary<string, double>>();
        foreach (var run in runs)
        {
            if (!run.TryGetProperty("seed", out var seed) || !run.TryGetProperty("test", out var test))
                throw new FormatException($"{path}: not a metrics.json written by 'sea train' (no seed or test metrics)");
            bySeed[seed.GetUInt64()] = test.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetDouble());
        }
        return bySeed;
    }
}
