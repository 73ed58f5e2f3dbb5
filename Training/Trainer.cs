using System.Diagnostics;
using Engine.Autograd;
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

/// <summary>One epoch: its mean batch loss, timings, and the metrics of both splits after it.</summary>
public sealed record EpochReport(int Epoch, double MeanLoss, double TrainSeconds, double EvalSeconds, double LearningRate,
    IReadOnlyDictionary<string, double> Valid, IReadOnlyDictionary<string, double> Test, bool Improved);

/// <summary>The outcome: the test metrics of the epoch with the best validation metric, and the history.</summary>
public sealed record TrainingResult(int BestEpoch, int EpochsRun, IReadOnlyDictionary<string, double> Valid,
    IReadOnlyDictionary<string, double> Test, double TrainSecondsPerEpoch, double EvalSeconds, IReadOnlyList<EpochReport> History,
    bool Cancelled);

/// <summary>
/// MMRec's training loop: epochs of shuffled batches (forward, backward, the model's own after-backward work, an Adam
/// step), an evaluation of valid and test after every epoch, early stopping on the validation metric, and the test
/// metrics of the best-valid epoch reported. Ranking uses embeddings recomputed after the epoch's last step.
/// </summary>
public sealed class Trainer(Dataset data, TrainerOptions options)
{
    public TrainerOptions Options { get; } = options;

    public TrainingResult Train(RecommenderModel model, IProgress<TrainingProgress>? progress = null, CancellationToken cancel = default)
    {
        var evaluator = new Evaluator(data, Options.Ks);
        var history = new List<EpochReport>();
        var clock = Stopwatch.StartNew();

        if (model.Parameters.Count == 0)
        {
            // Nothing to fit (MostPop): one evaluation is the whole run.
            var watch = Stopwatch.StartNew();
            var (valid, test) = evaluator.Evaluate(model);
            var report = new EpochReport(0, double.NaN, 0, watch.Elapsed.TotalSeconds, 0, valid, test, true);
            progress?.Report(new TrainingProgress(0, 0, 0, double.NaN, clock.Elapsed, report));
            return new TrainingResult(0, 0, valid, test, 0, report.EvalSeconds, [report], false);
        }

        var sampler = new BprSampler(data.Users, data.Train.Users, data.Train.Items, Options.BatchSize, new Rng(Options.Seed + 1));
        var adam = new Adam(model.Parameters, Options.LearningRate);
        EpochReport? best = null;
        int sinceBest = 0;
        bool cancelled = false;

        for (int epoch = 1; epoch <= Options.MaxEpochs; epoch++)
        {
            if (cancel.IsCancellationRequested) { cancelled = true; break; }
            adam.LearningRate = Options.LearningRate * Math.Pow(Options.LearningRateFactor, (epoch - 1) / (double)Options.LearningRateStep);
            var trainWatch = Stopwatch.StartNew();
            double lossSum = 0;
            int batchIndex = 0;
            foreach (var batch in sampler.Epoch())
            {
                adam.ZeroGrad();
                using (var tape = Tape.Begin())
                {
                    var loss = model.Loss(batch);
                    double value = loss.Value.Item();
                    if (!double.IsFinite(value))
                        throw new InvalidOperationException($"the loss became {value} at epoch {epoch}, batch {batchIndex + 1}");
                    lossSum += value;
                    tape.Backward(loss);
                }
                model.AfterBackward(batch);
                adam.Step();
                batchIndex++;
                progress?.Report(new TrainingProgress(epoch, batchIndex, sampler.BatchesPerEpoch, lossSum / batchIndex, clock.Elapsed, history.LastOrDefault()));
            }
            double trainSeconds = trainWatch.Elapsed.TotalSeconds;

            var evalWatch = Stopwatch.StartNew();
            var (valid, test) = evaluator.Evaluate(model);
            bool improved = best is null || valid[Options.ValidMetric] > best.Valid[Options.ValidMetric];
            var report = new EpochReport(epoch, lossSum / batchIndex, trainSeconds, evalWatch.Elapsed.TotalSeconds, adam.LearningRate, valid, test, improved);
            history.Add(report);
            progress?.Report(new TrainingProgress(epoch, batchIndex, sampler.BatchesPerEpoch, report.MeanLoss, clock.Elapsed, report));

            if (improved) { best = report; sinceBest = 0; }
            else if (++sinceBest > Options.Patience) break;
        }

        if (best is null)
            return new TrainingResult(0, history.Count, new Dictionary<string, double>(), new Dictionary<string, double>(), 0, 0, history, cancelled);
        return new TrainingResult(best.Epoch, history.Count, best.Valid, best.Test,
            history.Average(h => h.TrainSeconds), history.Average(h => h.EvalSeconds), history, cancelled);
    }
}
