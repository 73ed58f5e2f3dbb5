using System.CommandLine;
using System.Diagnostics;
using System.Text.Json;
using Engine.IO;
using Engine.Training;
using Engine.Training.Checkpoints;
using Engine.Training.Options;
using Spectre.Console;

namespace Engine.Cli;

/// <summary><c>sea train</c>: trains a model, shows progress, prints the metrics table and writes metrics.json.</summary>
internal static class TrainCommand
{
    public static Command Create()
    {
        var command = new Command("train", "Trains a model with MMRec's protocol and reports the test metrics of the best-valid epoch.");
        var table = RunOptions.All.Select(spec => (Spec: spec, Cli: CliOptions.From(spec))).ToList();
        foreach (var (_, option) in table) command.Options.Add(option);
        var output = new Option<string?>("--out") { Description = "run folder: checkpoints (last.ckpt, best.ckpt), epochs.jsonl and metrics.json; an existing run folder is refused unless --overwrite" };
        var overwrite = new Option<bool>("--overwrite") { Description = "with --out: replace the run already in that folder (with --seeds, the seeds already there are continued instead)" };
        var device = DeviceChoice.Option();
        var configFile = new Option<string?>("--config") { Description = "a JSON or YAML file of the options above (names without dashes); options given here override it" };
        var seeds = new Option<string?>("--seeds") { Description = "comma-separated seeds (e.g. 999,1,2): one run each, then mean ± std per metric" };
        var checkpointEvery = CliOptions.Int("--checkpoint-every", "with --out: replace last.ckpt every N epochs (and whenever valid improves, and at the end)", 1, ValidRange.AtLeast(1));
        var resume = new Option<string?>("--resume") { Description = "continue the run in this folder from its last.ckpt (options may raise --epochs or change --patience only)" };
        var composed = new Option<bool>("--composed") { Description = "run every fused op (InfoNCE, CLUB, BPR) as its composed reference: the same results to rounding, slower; for checking" };
        foreach (var option in new Option[] { output, overwrite, device, configFile, seeds, checkpointEvery, resume, composed }) command.Options.Add(option);
        command.SetAction(parse =>
        {
            var resumeFolder = parse.GetValue(resume);
            var saved = resumeFolder is null ? null : Checkpoint.Load(Recommender.CheckpointPath(resumeFolder, latest: true));
            // Resuming starts from the checkpoint's configuration: only options typed here can differ (and are checked).
            var c = saved?.Header.Config ?? new RunConfig();
            if (parse.GetValue(configFile) is { } file) c = RunConfigFile.Load(file, c);
            // An option typed on the command line wins over the file; one left out keeps the file's value.
            var typed = RunOptions.ModelFirst(table.Where(t => parse.GetResult(t.Cli) is not null), t => t.Spec.Name).ToList();
            foreach (var (spec, option) in typed) c = spec.Apply(c, $"--{spec.Name}", parse.GetValue(option) ?? (spec.IsSwitch ? "true" : null));
            foreach (var (spec, option) in typed)
                if (!spec.AppliesTo(c.Model))
                    throw new OptionException($"--{spec.Name}", parse.GetValue(option), $"{c.Model} does not read this option (only {string.Join(", ", spec.Models!)} {(spec.Models!.Count == 1 ? "does" : "do")})");
            var outputFolder = parse.GetValue(output);
            if (saved is not null)
            {
                if (parse.GetValue(seeds) is not null) throw new ArgumentException("--resume continues one run; it does not take --seeds");
                if (outputFolder is not null && Path.GetFullPath(outputFolder) != Path.GetFullPath(resumeFolder!))
                    throw new ArgumentException($"--resume writes into its own folder {resumeFolder}; --out names another ({outputFolder})");
                return Run(c, parse.GetValue(device)!, resumeFolder, saved, parse.GetValue(checkpointEvery), parse.GetValue(composed));
            }
            // A multi-seed folder is continued seed by seed (see RunSeeds), never trained over.
            if (outputFolder is not null && parse.GetValue(seeds) is null && !parse.GetValue(overwrite)) RefuseExistingRun(outputFolder);
            return parse.GetValue(seeds) is { } list
                ? RunSeeds(c, SeedSummary.ParseSeeds(list), parse.GetValue(device)!, outputFolder, parse.GetValue(checkpointEvery), parse.GetValue(composed))
                : Run(c, parse.GetValue(device)!, outputFolder, checkpointEvery: parse.GetValue(checkpointEvery), composed: parse.GetValue(composed));
        });
        return command;
    }

    /// <summary>A folder that already holds a run is not trained over by accident.</summary>
    private static void RefuseExistingRun(string folder)
    {
        string[] marks = [Recommender.MetricsFile, Recommender.LastCheckpoint, Recommender.EpochLog];
        if (marks.FirstOrDefault(m => File.Exists(Path.Combine(folder, m))) is { } found)
            throw new ArgumentException($"--out {folder} already holds a run ({found}): continue it with --resume {folder}, or replace it with --overwrite");
    }

    /// <summary>
    /// Trains once per seed; each run writes DIR/seed-N/metrics.json, and DIR/metrics.json holds every seed's test
    /// metrics with their mean and standard deviation (the input of <c>sea compare</c>). A seed whose folder already
    /// holds a checkpoint is continued from it (the configuration must be the same but for --epochs and --patience),
    /// so running the command again with more seeds or a larger --epochs extends what is there.
    /// </summary>
    public static int RunSeeds(RunConfig config, IReadOnlyList<ulong> seeds, string deviceName, string? outputFolder, int checkpointEvery = 1, bool composed = false)
    {
        var runs = new List<MetricsReport>();
        foreach (var seed in seeds)
        {
            var folder = outputFolder is null ? null : Path.Combine(outputFolder, $"seed-{seed}");
            var saved = folder is not null && File.Exists(Path.Combine(folder, Recommender.LastCheckpoint))
                ? Checkpoint.Load(Path.Combine(folder, Recommender.LastCheckpoint)) : null;
            Console.WriteLine($"--- seed {seed}{(saved is null ? "" : $": continuing {folder}")}");
            runs.Add(Train(config with { Seed = seed }, deviceName, folder, saved, checkpointEvery, composed));
        }
        var summary = SeedSummary.Of(runs);
        var table = new Table().AddColumns("test metric", $"mean ± std over {runs.Count} seeds");
        foreach (var (key, stats) in summary.Test) table.AddRow(key, $"{stats.Mean:0.0000} ± {stats.Std:0.0000}");
        AnsiConsole.Write(table);
        if (outputFolder is not null)
        {
            var path = Path.Combine(outputFolder, "metrics.json");
            AtomicFile.WriteAllText(path, JsonSerializer.Serialize(summary, TrainingJson.Indented));
            Console.WriteLine($"wrote {path}");
        }
        return CliErrors.Ok;
    }

    public static int Run(RunConfig config, string deviceName, string? outputFolder, Checkpoint? resumeFrom = null, int checkpointEvery = 1, bool composed = false)
    {
        Train(config, deviceName, outputFolder, resumeFrom, checkpointEvery, composed);
        return CliErrors.Ok;
    }

    private static MetricsReport Train(RunConfig config, string deviceName, string? outputFolder, Checkpoint? resumeFrom, int checkpointEvery, bool composed)
    {
        var backend = DeviceChoice.Open(deviceName, Console.Error);
        backend.ComposedOnly = composed;
        var load = Stopwatch.StartNew();
        using var run = resumeFrom is null ? Recommender.Create(config, backend) : Recommender.Load(resumeFrom, backend, config: config);
        var data = run.Data;
        Console.Error.WriteLine($"data: {data.Name}: {data.Users} users, {data.Items} items, {data.Train.Count}/{data.Valid.Count}/{data.Test.Count} train/valid/test ({load.Elapsed.TotalSeconds:0.0} s)");
        Console.Error.WriteLine($"device: {backend.Description}");
        if (resumeFrom is not null)
            Console.Error.WriteLine($"resuming {resumeFrom.Path} after epoch {run.Trainer.EpochsDone}{(run.Trainer.Finished ? " (the run had already finished)" : "")}");
        var result = TrainingDisplay.Run((progress, cancel) => run.Train(outputFolder, progress, cancel, checkpointEvery: checkpointEvery));
        var report = run.Report(result);
        PrintMetrics(report);
        if (outputFolder is not null) Console.WriteLine($"wrote {Path.Combine(outputFolder, Recommender.MetricsFile)}, checkpoints and {Recommender.EpochLog}");
        return report;
    }

    internal static void PrintMetrics(MetricsReport r)
    {
        Console.WriteLine($"{r.Model} on {r.Dataset}, seed {r.Seed}: best valid epoch {r.BestEpoch} of {r.EpochsRun}, " +
                          $"{r.TrainSecondsPerEpoch:0.00} s/epoch training, {r.EvalSeconds:0.00} s/evaluation");
        if (r.Note is not null) Console.WriteLine($"note: {r.Note}");
        var table = new Table().AddColumns("metric", "valid", "test");
        foreach (var metric in new[] { "recall", "ndcg", "precision", "map" })
            foreach (var key in r.Test.Keys.Where(k => k.StartsWith(metric + "@")))
                table.AddRow(key, r.Valid.TryGetValue(key, out var v) ? v.ToString("0.0000") : "", r.Test[key].ToString("0.0000"));
        AnsiConsole.Write(table);
    }
}

/// <summary>metrics.json of a multi-seed run: each seed's test metrics and their mean and standard deviation.</summary>
internal sealed record SeedSummary(string Model, string Dataset, IReadOnlyList<ulong> Seeds,
    IReadOnlyDictionary<string, MeanStd> Test, IReadOnlyList<MetricsReport> Runs)
{
    public static SeedSummary Of(IReadOnlyList<MetricsReport> runs) => new(runs[0].Model, runs[0].Dataset,
        runs.Select(r => r.Seed).ToList(),
        runs[0].Test.Keys.ToDictionary(k => k, k => MeanStd.Of(runs.Select(r => r.Test[k]).ToArray())), runs);

    public static IReadOnlyList<ulong> ParseSeeds(string text)
    {
        var parts = text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var seeds = new List<ulong>();
        foreach (var p in parts)
            seeds.Add(ulong.TryParse(p, out var s) ? s : throw new FormatException($"--seeds: '{p}' is not a seed (expected e.g. 999,1,2)"));
        if (seeds.Count == 0 || seeds.Distinct().Count() != seeds.Count)
            throw new FormatException($"--seeds: expected distinct seeds, got '{text}'");
        return seeds;
    }
}

/// <summary>Mean and sample standard deviation (n − 1); the standard deviation of one value is 0.</summary>
internal sealed record MeanStd(double Mean, double Std)
{
    public static MeanStd Of(double[] values)
    {
        double mean = values.Average();
        double std = values.Length < 2 ? 0 : Math.Sqrt(values.Sum(v => (v - mean) * (v - mean)) / (values.Length - 1));
        return new MeanStd(mean, std);
    }
}
