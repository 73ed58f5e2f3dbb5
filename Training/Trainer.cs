using System.Diagnostics;
using Engine.Autograd;
using Engine.Training.Checkpoints;
using Engine.Training.Data;
using Engine.Training.Evaluation;
using Engine.Training.Models;
using Engine.Training.Optim;
using Engine.Training.Sampling;

namespace Engine.Training;

/// <summary>How a model is trained (MMRec's defaults).</summary>
public sealed record TrainerOptions
{
    public int MaxEpochs { get; init; } = 1000;

    /// <summary>Training stops once this many epochs in a row have not improved the validation metric (then one more, as MMRec counts).</summary>
    public int Patience { get; init; } = 20;

    public int BatchSize { get; init; } = 2048;
    public double LearningRate { get; init; } = 1e-3;

    /// <summary>MMRec's learning_rate_scheduler [factor, step]: lr(epoch) = lr · factor^(epoch / step) (1.0 keeps it constant).</summary>
    public double LearningRateFactor { get; init; } = 1.0;
    public int LearningRateStep { get; init; } = 50;

    public ulong Seed { get; init; } = 999;
    public IReadOnlyList<int> Ks { get; init; } = [5, 10, 20, 50];

    /// <summary>The validation metric early stopping watches; strictly greater counts as better.</summary>
    public string ValidMetric { get; init; } = "recall@20";
}

/// <summary>What the trainer reports while it runs.</summary>
public sealed record TrainingProgress(int Epoch, int Batch, int BatchesPerEpoch, double MeanLoss, TimeSpan Elapsed, EpochReport? LastEpoch);

/// <summary>One epoch: its mean batch loss and loss terms, timings, and the metrics of both splits after it.</summary>
public sealed record EpochReport(int Epoch, double MeanLoss, IReadOnlyDictionary<string, double> LossTerms, double TrainSeconds,
    double EvalSeconds, double LearningRate, IReadOnlyDictionary<string, double> Valid, IReadOnlyDictionary<string, double> Test, bool Improved);

/// <summary>The outcome: the test metrics of the epoch with the best validation metric, and the history.</summary>
public sealed record TrainingResult(int BestEpoch, int EpochsRun, IReadOnlyDictionary<string, double> Valid,
    IReadOnlyDictionary<string, double> Test, double TrainSecondsPerEpoch, double EvalSeconds, IReadOnlyList<EpochReport> History,
    bool Cancelled);

/// <summary>A loss term or a parameter stopped being finite; training cannot go on.</summary>
public sealed class TrainingDivergedException(int epoch, int batch, string message) : Exception(message)
{
    public int Epoch { get; } = epoch;
    public int Batch { get; } = batch;
}

/// <summary>
/// MMRec's training loop for one model: epochs of shuffled batches (forward, backward, the model's own after-backward
/// work, an Adam step), an evaluation of valid and test after every epoch, early stopping on the validation metric,
/// and the test metrics of the best-valid epoch reported. Ranking uses embeddings recomputed after the epoch's last
/// step. Everything that decides what happens next (optimiser, sampler generator, early-stopping counters, history)
/// is part of <see cref="VisitState"/>, so a checkpointed trainer continues exactly.
/// </summary>
public sealed class Trainer
{
    private readonly Evaluator evaluator;
    private readonly BprSampler sampler;
    private readonly Adam? adam;
    private readonly List<EpochReport> history = [];
    private int bestEpoch;
    private int sinceBest;

    public Trainer(Dataset data, RecommenderModel model, TrainerOptions options)
    {
        Model = model;
        Options = options;
        evaluator = new Evaluator(data, options.Ks);
        sampler = new BprSampler(data.Users, data.Train.Users, data.Train.Items, options.BatchSize, new Rng(options.Seed + 1));
        adam = model.Parameters.Count == 0 ? null : new Adam(model.Parameters, options.LearningRate);
    }

    public RecommenderModel Model { get; }
    public TrainerOptions Options { get; }

    /// <summary>Ranks with the model after every epoch; also what recommendations are computed with.</summary>
    public Evaluator Evaluator => evaluator;
    public IReadOnlyList<EpochReport> History => history;
    public int EpochsDone => history.Count;
    public EpochReport? Best => history.FirstOrDefault(h => h.Epoch == bestEpoch);

    /// <summary>True once early stopping has fired or the epoch cap is reached (a model without parameters: after its one evaluation).</summary>
    public bool Finished => adam is null ? history.Count > 0 : EpochsDone >= Options.MaxEpochs || sinceBest > Options.Patience;

    /// <summary>Trains until <see cref="Finished"/> or cancellation (checked between epochs), calling <paramref name="afterEpoch"/> after each.</summary>
    public TrainingResult Train(IProgress<TrainingProgress>? progress = null, CancellationToken cancel = default, Action<EpochReport>? afterEpoch = null)
    {
        var clock = Stopwatch.StartNew();
        while (!Finished && !cancel.IsCancellationRequested)
        {
            var report = RunEpoch(progress, clock);
            afterEpoch?.Invoke(report);
        }
        return Result(cancelled: !Finished);
    }

    /// <summary>The outcome so far: the best-valid epoch's metrics and the history.</summary>
    public TrainingResult Result(bool cancelled = false)
    {
        if (Best is not { } best)
            return new TrainingResult(0, history.Count, new Dictionary<string, double>(), new Dictionary<string, double>(), 0, 0, history, cancelled);
        return new TrainingResult(best.Epoch, adam is null ? 0 : history.Count, best.Valid, best.Test,
            history.Average(h => h.TrainSeconds), history.Average(h => h.EvalSeconds), history.ToList(), cancelled);
    }

    /// <summary>One epoch of training (none for a model without parameters), its evaluation, and the early-stopping bookkeeping.</summary>
    public EpochReport RunEpoch(IProgress<TrainingProgress>? progress = null, Stopwatch? clock = null)
    {
        clock ??= Stopwatch.StartNew();
        int epoch = adam is null ? 0 : history.Count + 1;
        var (meanLoss, terms, trainSeconds) = adam is null
            ? (double.NaN, new Dictionary<string, double>(), 0.0)
            : TrainOneEpoch(adam, epoch, progress, clock);

        var evalWatch = Stopwatch.StartNew();
        var (valid, test) = evaluator.Evaluate(Model);
        var best = Best;
        bool improved = best is null || valid[Options.ValidMetric] > best.Valid[Options.ValidMetric];
        var report = new EpochReport(epoch, meanLoss, terms, trainSeconds, evalWatch.Elapsed.TotalSeconds, adam?.LearningRate ?? 0,
            valid, test, improved);
        history.Add(report);
        if (improved) { bestEpoch = epoch; sinceBest = 0; }
        else sinceBest++;
        progress?.Report(new TrainingProgress(epoch, sampler.BatchesPerEpoch, sampler.BatchesPerEpoch, meanLoss, clock.Elapsed, report));
        return report;
    }

    private (double MeanLoss, Dictionary<string, double> Terms, double Seconds) TrainOneEpoch(Adam optimizer, int epoch,
        IProgress<TrainingProgress>? progress, Stopwatch clock)
    {
        optimizer.LearningRate = Options.LearningRate * Math.Pow(Options.LearningRateFactor, (epoch - 1) / (double)Options.LearningRateStep)
                                 * Model.LearningRateScale(epoch);
        var watch = Stopwatch.StartNew();
        Model.BeforeEpoch(epoch);
        double lossSum = 0;
        // Loss terms are summed where they live and read once per epoch: per batch, the host reads only the total
        // loss (and, if that is not finite, each term, to name the culprit).
        var termSums = new Dictionary<string, Tensor>();
        int batchIndex = 0;
        try
        {
            foreach (var batch in sampler.Epoch())
            {
                batchIndex++;
                optimizer.ZeroGrad();
                using (var tape = Tape.Begin())
                {
                    var loss = Model.Loss(batch);
                    double value = loss.Value.Item();
                    if (!double.IsFinite(value))
                    {
                        foreach (var (name, term) in Model.LossTerms)
                            if (term.Value.Item() is var t && !double.IsFinite(t))
                                throw Diverged(epoch, batchIndex, $"the loss term '{name}' became {t}");
                        throw Diverged(epoch, batchIndex, $"the loss became {value}");
                    }
                    foreach (var (name, term) in Model.LossTerms)
                    {
                        var t = term.Value;
                        if (!termSums.TryGetValue(name, out var sum)) termSums[name] = sum = t.Backend.Allocate(1, 1, t.DType);
                        t.Backend.Binary(BinaryOp.Add, sum, t, sum);
                    }
                    lossSum += value;
                    tape.Backward(loss);
                }
                Model.AfterBackward(batch);
                optimizer.Step();
                if (!AllFinite([.. Model.Parameters.Select(p => p.Value)]))
                    foreach (var p in Model.Parameters)
                        if (!AllFinite([p.Value]))
                            throw Diverged(epoch, batchIndex, $"parameter '{p.Name}' stopped being finite after the update");
                progress?.Report(new TrainingProgress(epoch, batchIndex, sampler.BatchesPerEpoch, lossSum / batchIndex, clock.Elapsed, history.LastOrDefault()));
            }
            return (lossSum / batchIndex, termSums.ToDictionary(t => t.Key, t => t.Value.Item() / batchIndex), watch.Elapsed.TotalSeconds);
        }
        finally
        {
            foreach (var sum in termSums.Values) sum.Dispose();
        }
    }

    private static TrainingDivergedException Diverged(int epoch, int batch, string what) =>
        new(epoch, batch, $"training diverged at epoch {epoch}, batch {batch}: {what}");

    /// <summary>
    /// NaN or ±∞ anywhere makes the sum of the tensors' sums non-finite: reductions on the device and one read, instead
    /// of copies to the host. Finite values can also overflow the sum; a caller checking the tensors one by one then
    /// finds them all finite.
    /// </summary>
    private static bool AllFinite(IReadOnlyList<Tensor> tensors)
    {
        var first = tensors[0];
        if (tensors.Any(t => t.DType != first.DType)) return false;
        var backend = first.Backend;
        using var total = backend.Allocate(1, 1, first.DType);
        using var part = backend.Allocate(1, 1, first.DType);
        foreach (var t in tensors)
        {
            backend.Reduce(ReduceOp.Sum, t, part);
            backend.Binary(BinaryOp.Add, total, part, total);
        }
        return double.IsFinite(total.Item());
    }

    /// <summary>The optimiser, the sampler's generator (the next epoch's shuffle and negatives), early stopping and the history.</summary>
    public void VisitState(IStateVisitor visitor)
    {
        adam?.VisitState("adam", visitor);
        visitor.Rng("sampler_rng", sampler.Rng);
        bestEpoch = visitor.Value("best_epoch", bestEpoch);
        sinceBest = visitor.Value("epochs_since_best", sinceBest);
        var saved = visitor.Value("history", history.ToList());
        history.Clear();
        history.AddRange(saved);
    }
}
