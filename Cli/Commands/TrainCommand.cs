using System.CommandLine;
using System.Diagnostics;
using System.Text.Json;
using Engine.IO;
using Engine.Training;
using Engine.Training.Checkpoints;
using Engine.Training.Models;
using Spectre.Console;

namespace Engine.Cli;

/// <summary><c>sea train</c>: trains a model, shows progress, prints the metrics table and writes metrics.json.</summary>
internal static class TrainCommand
{
    public static Command Create()
    {
        var defaults = new RunConfig();
        var model = new Option<string>("--model") { Description = "sea, lightgcn or mostpop", DefaultValueFactory = _ => defaults.Model };
        model.AcceptOnlyFromAmong(RunConfig.Models);
        var data = new Option<string?>("--data") { Description = "a MMRec dataset folder (default: the built-in synthetic dataset with semi-synthetic features)" };
        var layers = new Option<int>("--layers") { Description = "propagation layers", DefaultValueFactory = _ => defaults.Layers };
        var reg = new Option<double>("--reg") { Description = "LightGCN's reg_weight", DefaultValueFactory = _ => defaults.Reg };
        var regForm = new Option<RegForm>("--reg-form") { Description = "LightGCN's penalty: squared (EVAL.md) or norm (MMRec's code)", DefaultValueFactory = _ => defaults.RegForm };
        var lr = new Option<double?>("--lr") { Description = "Adam's learning rate (default: SEA 1e-4, LightGCN 1e-3)" };
        var lrFactor = new Option<double>("--lr-factor") { Description = "MMRec's learning-rate schedule: lr · factor^(epoch/step)", DefaultValueFactory = _ => defaults.LearningRateFactor };
        var lrStep = new Option<int>("--lr-step") { Description = "epochs per factor of the learning-rate schedule", DefaultValueFactory = _ => defaults.LearningRateStep };
        var epochs = new Option<int?>("--epochs") { Description = "at most this many epochs (default: 1000, or 10 on the built-in dataset)" };
        var patience = new Option<int>("--patience") { Description = "early-stopping patience, in epochs without a better valid Recall@20", DefaultValueFactory = _ => defaults.Patience };
        var seed = new Option<ulong>("--seed") { Description = "seed of initialisation and sampling", DefaultValueFactory = _ => defaults.Seed };
        var batch = new Option<int>("--batch") { Description = "training pairs per batch", DefaultValueFactory = _ => defaults.Batch };
        var output = new Option<string?>("--out") { Description = "run folder: checkpoints (last.ckpt, best.ckpt), epochs.jsonl and metrics.json" };
        var device = DeviceChoice.Option();
        var sea = defaults.Sea;
        var alpha = new Option<double>("--alpha") { Description = "SEA: weight of the SoloSim alignment", DefaultValueFactory = _ => sea.Alpha };
        var beta = new Option<double>("--beta") { Description = "SEA: weight of the distancing term (β/2 per modality pair)", DefaultValueFactory = _ => sea.Beta };
        var tau = new Option<double>("--tau") { Description = "SEA: InfoNCE temperature", DefaultValueFactory = _ => sea.Temperature };
        var knn = new Option<int>("--knn-k") { Description = "SEA: neighbours per item in the item graph", DefaultValueFactory = _ => sea.KnnK };
        var imageWeight = new Option<double>("--image-weight") { Description = "SEA: weight of the image kNN graph (text gets 1 − w)", DefaultValueFactory = _ => sea.ImageWeight };
        var pairing = new Option<ClubPairing>("--club-pairing") { Description = "SEA: pairs the CLUB network is fitted on: released (cross-modal) or paper (generic→unique)", DefaultValueFactory = _ => sea.ClubPairing };
        var distance = new Option<Distance>("--distance") { Description = "SEA: club or l2 distancing", DefaultValueFactory = _ => sea.Distance };
        var clubSteps = new Option<int>("--club-steps") { Description = "SEA: CLUB network steps per batch", DefaultValueFactory = _ => sea.ClubSteps };
        var evalEmbeddings = new Option<EvalEmbeddings>("--eval-embeddings") { Description = "SEA: rank with a fresh forward (recompute) or the last training forward (lastforward)", DefaultValueFactory = _ => sea.EvalEmbeddings };
        var plain = new Option<bool>("--no-reassociate") { Description = "SEA: compute the first layers as written (slow; for checking)" };
        var command = new Command("train", "Trains a model with MMRec's protocol and reports the test metrics of the best-valid epoch.")
        {
            model, data, layers, reg, regForm, lr, lrFactor, lrStep, epochs, patience, seed, batch, output, device,
            alpha, beta, tau, knn, imageWeight, pairing, distance, clubSteps, evalEmbeddings, plain,
        };
        var configFile = new Option<string?>("--config") { Description = "a JSON or YAML file of options (names as here, without dashes); options given here override it" };
        command.Options.Add(configFile);
        var seeds = new Option<string?>("--seeds") { Description = "comma-separated seeds (e.g. 999,1,2): one run each, then mean ± std per metric" };
        command.Options.Add(seeds);
        var checkpointEvery = new Option<int>("--checkpoint-every") { Description = "with --out: replace last.ckpt every N epochs (and whenever valid improves, and at the end)", DefaultValueFactory = _ => 1 };
        command.Options.Add(checkpointEvery);
        var resume = new Option<string?>("--resume") { Description = "continue the run in this folder from its last.ckpt (options may raise --epochs or change --patience only)" };
        command.Options.Add(resume);
        var composed = new Option<bool>("--composed") { Description = "run every fused op (InfoNCE, CLUB, BPR) as its composed reference: the same results to rounding, slower; for checking" };
        command.Options.Add(composed);
        command.SetAction(parse =>
        {
            var resumeFolder = parse.GetValue(resume);
            var saved = resumeFolder is null ? null : Checkpoint.Load(Recommender.CheckpointPath(resumeFolder, latest: true));
            // Resuming starts from the checkpoint's configuration: only options typed here can differ (and are checked).
            var c = saved?.Header.Config ?? new RunConfig();
            if (parse.GetValue(configFile) is { } file) c = RunConfigFile.Load(file, c);
            // An option typed on the command line wins over the file; one left out keeps the file's value.
            T Pick<T>(Option<T> option, T current) => parse.GetResult(option) is { Implicit: false } ? parse.GetValue(option)! : current;
            c = c with
            {
                Model = Pick(model, c.Model),
                Data = Pick(data, c.Data),
                Layers = Pick(layers, c.Layers),
                Reg = Pick(reg, c.Reg),
                RegForm = Pick(regForm, c.RegForm),
                LearningRate = Pick(lr, c.LearningRate),
                LearningRateFactor = Pick(lrFactor, c.LearningRateFactor),
                LearningRateStep = Pick(lrStep, c.LearningRateStep),
                Epochs = Pick(epochs, c.Epochs),
                Patience = Pick(patience, c.Patience),
                Seed = Pick(seed, c.Seed),
                Batch = Pick(batch, c.Batch),
                Sea = c.Sea with
                {
                    Alpha = Pick(alpha, c.Sea.Alpha),
                    Beta = Pick(beta, c.Sea.Beta),
                    Temperature = Pick(tau, c.Sea.Temperature),
                    KnnK = Pick(knn, c.Sea.KnnK),
                    ImageWeight = Pick(imageWeight, c.Sea.ImageWeight),
                    ClubPairing = Pick(pairing, c.Sea.ClubPairing),
                    Distance = Pick(distance, c.Sea.Distance),
                    ClubSteps = Pick(clubSteps, c.Sea.ClubSteps),
                    EvalEmbeddings = Pick(evalEmbeddings, c.Sea.EvalEmbeddings),
                    Reassociate = parse.GetResult(plain) is { Implicit: false } ? !parse.GetValue(plain) : c.Sea.Reassociate,
                },
            };
            if (saved is not null)
            {
                if (parse.GetValue(seeds) is not null) throw new ArgumentException("--resume continues one run; it does not take --seeds");
                if (parse.GetValue(output) is { } o && Path.GetFullPath(o) != Path.GetFullPath(resumeFolder!))
                    throw new ArgumentException($"--resume writes into its own folder {resumeFolder}; --out names another ({o})");
                return Run(c, parse.GetValue(device)!, resumeFolder, saved, parse.GetValue(checkpointEvery), parse.GetValue(composed));
            }
            return parse.GetValue(seeds) is { } list
                ? RunSeeds(c, SeedSummary.ParseSeeds(list), parse.GetValue(device)!, parse.GetValue(output), parse.GetValue(checkpointEvery), parse.GetValue(composed))
                : Run(c, parse.GetValue(device)!, parse.GetValue(output), checkpointEvery: parse.GetValue(checkpointEvery), composed: parse.GetValue(composed));
        });
        return command;
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
