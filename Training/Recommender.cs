using System.Text.Json;
using Engine.Cpu;
using Engine.IO;
using Engine.Training.Checkpoints;
using Engine.Training.Data;
using Engine.Training.Models;
using Engine.Training.Options;

namespace Engine.Training;

/// <summary>One recommended item and its score ⟨user, item⟩.</summary>
public readonly record struct Recommendation(int Item, float Score);

/// <summary>
/// The library's front door: a dataset, the model a <see cref="RunConfig"/> describes, and its trainer, with training
/// (optionally into a run folder of checkpoints and logs), evaluation, recommendation, saving and loading.
/// A run folder holds <c>last.ckpt</c> (after every epoch), <c>best.ckpt</c> (the best-valid epoch),
/// <c>epochs.jsonl</c> (one line per epoch) and, once training ends, <c>metrics.json</c>.
/// </summary>
public sealed class Recommender : IDisposable
{
    public const string LastCheckpoint = "last.ckpt";
    public const string BestCheckpoint = "best.ckpt";
    public const string EpochLog = "epochs.jsonl";
    public const string MetricsFile = "metrics.json";

    private Recommender(RunConfig config, Dataset data, Backend backend)
    {
        Config = config;
        Data = data;
        Backend = backend;
        Fingerprint = DatasetFingerprint.Of(data, includeFeatures: config.NeedsFeatures, includeMultimodal: config.NeedsMultimodalFeatures);
        Model = config.BuildModel(data, backend);
        Trainer = new Trainer(data, Model, config.TrainerOptions);
    }

    /// <summary>The configuration, with the learning rate and epoch cap made explicit and the data folder absolute.</summary>
    public RunConfig Config { get; }
    public Dataset Data { get; }
    public Backend Backend { get; }
    public RecommenderModel Model { get; }
    public Trainer Trainer { get; }

    /// <summary>Identifies <see cref="Data"/> (interactions, and the features the model reads); checkpoints are bound to it.</summary>
    public string Fingerprint { get; }

    /// <summary>A freshly initialised model on <paramref name="backend"/> (default: the CPU), with <paramref name="data"/> or the config's dataset.</summary>
    public static Recommender Create(RunConfig config, Backend? backend = null, Dataset? data = null)
    {
        RunOptions.Check(config);
        config = Explicit(config);
        return new Recommender(config, data ?? config.LoadData(), backend ?? CpuBackend.Shared);
    }

    /// <summary>The configuration as a checkpoint records it: defaults that depend on other options made explicit.</summary>
    private static RunConfig Explicit(RunConfig config) => config with
    {
        LearningRate = config.EffectiveLearningRate,
        LearningRateFactor = config.EffectiveLearningRateFactor,
        Patience = config.EffectivePatience,
        Epochs = config.EffectiveEpochs,
        Data = config.Data is null ? null : Path.GetFullPath(config.Data),
        MultimodalFeatures = config.MultimodalFeatures is null ? null : Path.GetFullPath(config.MultimodalFeatures),
    };

    /// <summary>
    /// A model and trainer restored from a checkpoint: a file, or a run folder (its best.ckpt, or with
    /// <paramref name="latest"/> its last.ckpt, the one to resume from). The dataset is the checkpoint's own unless
    /// <paramref name="data"/> is given; either way it must be the one the checkpoint was trained on.
    /// <paramref name="config"/> may raise the epoch cap or change the patience; anything else must match.
    /// </summary>
    public static Recommender Load(string checkpoint, Backend? backend = null, Dataset? data = null, bool latest = false, RunConfig? config = null) =>
        Load(Checkpoint.Load(CheckpointPath(checkpoint, latest)), backend, data, config);

    /// <summary>As <see cref="Load(string, Backend?, Dataset?, bool, RunConfig?)"/>, from a checkpoint already read.</summary>
    public static Recommender Load(Checkpoint saved, Backend? backend = null, Dataset? data = null, RunConfig? config = null)
    {
        if (config is not null) CheckSameRun(saved, config);
        config = saved.Header.Config with { Epochs = config?.Epochs ?? saved.Header.Config.Epochs, Patience = config?.Patience ?? saved.Header.Config.Patience };
        var recommender = new Recommender(config, data ?? config.LoadData(), backend ?? CpuBackend.Shared);
        try
        {
            saved.CheckMatches(config.Model, recommender.Data.Name, recommender.Fingerprint);
            saved.Restore(recommender.VisitState);
            return recommender;
        }
        catch
        {
            recommender.Dispose();
            throw;
        }
    }

    /// <summary>The checkpoint file a path names: itself if a file, else the folder's best.ckpt (or last.ckpt if latest or no best).</summary>
    public static string CheckpointPath(string path, bool latest = false)
    {
        if (File.Exists(path)) return path;
        if (!Directory.Exists(path)) throw new FileNotFoundException($"no checkpoint file or run folder at {path}", path);
        var best = System.IO.Path.Combine(path, BestCheckpoint);
        var last = System.IO.Path.Combine(path, LastCheckpoint);
        return !latest && File.Exists(best) ? best : File.Exists(last) ? last
            : throw new FileNotFoundException($"{path} holds no checkpoint ({LastCheckpoint} or {BestCheckpoint}); was it trained with --out?", last);
    }

    /// <summary>
    /// Trains until early stopping, the epoch cap or cancellation. With <paramref name="outputFolder"/>, every epoch
    /// appends to epochs.jsonl and replaces last.ckpt (and best.ckpt when valid improved), and the end (unless cancelled)
    /// writes metrics.json.
    /// A run restored from a checkpoint continues where it stopped. If training diverges, the last good checkpoint stays.
    /// </summary>
    /// <param name="onEpoch">called after each epoch's evaluation (and its checkpoint), on the training thread</param>
    /// <param name="restoreBest">
    /// at the end, put the model's weights (and its own state) back to the best-valid epoch's, so that
    /// <see cref="Evaluate"/> and <see cref="Recommend(int, int)"/> reproduce the reported metrics; the trainer's state stays
    /// at the last epoch. Costs a device copy of the model's state at every improvement. (After a resume, a best epoch
    /// that came before it is in best.ckpt, not in memory: the weights then stay the last ones.)
    /// </param>
    /// <param name="checkpointEvery">
    /// replace last.ckpt only every this many epochs (and at improvements and the end): a fast GPU epoch can cost less
    /// than writing a full-width SEA checkpoint. A resumed run then repeats up to this many − 1 epochs, identically.
    /// </param>
    public TrainingResult Train(string? outputFolder = null, IProgress<TrainingProgress>? progress = null, CancellationToken cancel = default,
        Action<EpochReport>? onEpoch = null, int checkpointEvery = 1, bool restoreBest = false)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(checkpointEvery, 1);
        using var best = new StateSnapshot();
        Action<EpochReport>? afterEpoch = onEpoch;
        if (restoreBest)
            afterEpoch = report =>
            {
                if (report.Improved) best.Take(Model.VisitState);
                onEpoch?.Invoke(report);
            };
        int lastSaved = Trainer.EpochsDone;
        if (outputFolder is not null)
        {
            var afterFiles = afterEpoch;
            Directory.CreateDirectory(outputFolder);
            var log = System.IO.Path.Combine(outputFolder, EpochLog);
            // Epochs logged after the checkpoint being resumed (a run killed mid-write) are replaced by the rerun.
            AtomicFile.WriteAllText(log, string.Concat(Trainer.History.Select(h => JsonSerializer.Serialize(h, TrainingJson.Compact) + "\n")));
            afterEpoch = report =>
            {
                // The files first: a callback that throws must not lose the epoch's checkpoint.
                File.AppendAllText(log, JsonSerializer.Serialize(report, TrainingJson.Compact) + "\n");
                var last = System.IO.Path.Combine(outputFolder, LastCheckpoint);
                if (report.Improved || report.Epoch % checkpointEvery == 0 || Trainer.Finished)
                {
                    Save(last);
                    lastSaved = report.Epoch;
                }
                if (report.Improved) AtomicFile.Write(System.IO.Path.Combine(outputFolder, BestCheckpoint), s => { using var f = File.OpenRead(last); f.CopyTo(s); });
                afterFiles?.Invoke(report);
            };
        }
        TrainingResult result;
        try
        {
            result = Trainer.Train(progress, cancel, afterEpoch);
        }
        catch (TrainingDivergedException e) when (outputFolder is not null && lastSaved > 0)
        {
            throw new TrainingDivergedException(e.Epoch, e.Batch,
                $"{e.Message}; the last good checkpoint (epoch {lastSaved}) is {System.IO.Path.Combine(outputFolder, LastCheckpoint)}");
        }
        // A best epoch from before a resume was not seen here: then the weights stay the last ones (best.ckpt has them).
        if (restoreBest && !best.IsEmpty) best.Restore(Model.VisitState);
        // metrics.json marks a finished run (sea grid skips such points); a cancelled one is resumed instead.
        if (outputFolder is not null && !result.Cancelled)
            AtomicFile.WriteAllText(System.IO.Path.Combine(outputFolder, MetricsFile), JsonSerializer.Serialize(Report(result), TrainingJson.Indented));
        return result;
    }

    /// <summary>metrics.json's contents for a result of this run.</summary>
    public MetricsReport Report(TrainingResult result) => new(Config.Model, Data.Name, Config.Seed, result.BestEpoch, result.EpochsRun,
        result.Valid, result.Test, result.TrainSecondsPerEpoch, result.EvalSeconds, Backend.Description, Config,
        result.History.Select(h => new EpochLine(h.Epoch, h.MeanLoss, h.TrainSeconds, h.EvalSeconds,
            h.Valid.GetValueOrDefault("recall@20"), h.Valid.GetValueOrDefault("ndcg@20"))).ToList(), Model.Note);

    /// <summary>The metrics of valid and test with the model as it is now.</summary>
    public (IReadOnlyDictionary<string, double> Valid, IReadOnlyDictionary<string, double> Test) Evaluate() =>
        Trainer.Evaluator.Evaluate(Model);

    /// <summary>The top <paramref name="k"/> items for <paramref name="user"/>, best first, excluding items they trained on.</summary>
    public IReadOnlyList<Recommendation> Recommend(int user, int k = 10) => Recommend([user], k)[0];

    /// <summary>The top <paramref name="k"/> items of each user, best first, training items excluded (fewer if fewer remain).</summary>
    public IReadOnlyList<Recommendation>[] Recommend(int[] users, int k)
    {
        foreach (var u in users)
            if (u < 0 || u >= Data.Users) throw new ArgumentException($"user {u} does not exist: {Data.Name} has users 0..{Data.Users - 1}");
        ArgumentOutOfRangeException.ThrowIfLessThan(k, 1);
        var (userTable, itemTable) = Model.RankingEmbeddings();
        using (userTable)
        using (itemTable)
        {
            var (items, scores) = Trainer.Evaluator.TopItemsWithScores(userTable, itemTable, users, Math.Min(k, Data.Items), excludeTraining: true);
            return items.Select((row, r) => (IReadOnlyList<Recommendation>)row.Where(i => i >= 0)
                .Select((item, j) => new Recommendation(item, scores[r][j])).ToList()).ToArray();
        }
    }

    /// <summary>Writes the whole training state (model, optimisers, generators, early stopping) to a checkpoint file.</summary>
    public void Save(string path) =>
        Checkpoint.Save(path, Config.Model, Data.Name, Fingerprint, Trainer.EpochsDone, Config, VisitState);

    private void VisitState(IStateVisitor visitor)
    {
        Model.VisitState(visitor);
        Trainer.VisitState(visitor);
    }

    /// <summary>Resuming may raise the epoch cap or change the patience; any other difference is another run.</summary>
    private static void CheckSameRun(Checkpoint saved, RunConfig asked)
    {
        var (was, now) = (Explicit(saved.Header.Config), Explicit(asked));
        var differences = RunOptions.All.Where(o => !o.ResumeMayChange && o.AppliesTo(was.Model) && o.Show(was) != o.Show(now))
            .Select(o => $"--{o.Name} is {o.Show(was) ?? "unset"} in the checkpoint, {o.Show(now) ?? "unset"} here").ToList();
        if (differences.Count > 0)
            throw new CheckpointException($"{saved.Path} belongs to another run: {string.Join("; ", differences)} " +
                                          "(resuming may change only --epochs and --patience)");
    }

    public void Dispose() { Trainer.Evaluator.Dispose(); Model.Dispose(); }
}
