using Engine.Training;
using Spectre.Console;

namespace Engine.Cli;

/// <summary>
/// Shows a run as it trains: a live line (epoch, batch, loss, time, last metrics) on a terminal, one plain line per
/// epoch when the output goes to a file or a pipe.
/// </summary>
internal static class TrainingDisplay
{
    public static TrainingResult Run(Func<IProgress<TrainingProgress>, CancellationToken, TrainingResult> train)
    {
        using var cancel = new CancellationTokenSource();
        ConsoleCancelEventHandler onCancel = (_, e) =>
        {
            e.Cancel = true; // finish the epoch cleanly and report what was reached
            cancel.Cancel();
        };
        Console.CancelKeyPress += onCancel;
        try
        {
            if (Console.IsOutputRedirected || !AnsiConsole.Profile.Capabilities.Interactive)
                return train(new SyncProgress(p => { if (IsEpochEnd(p)) Console.WriteLine(EpochLine(p.LastEpoch!)); }), cancel.Token);

            TrainingResult? result = null;
            AnsiConsole.Live(new Markup("starting")).Start(live =>
            {
                var last = DateTime.MinValue;
                result = train(new SyncProgress(p =>
                {
                    if (IsEpochEnd(p)) AnsiConsole.MarkupLine(Markup.Escape(EpochLine(p.LastEpoch!)));
                    if ((DateTime.UtcNow - last).TotalMilliseconds < 100) return;
                    last = DateTime.UtcNow;
                    live.UpdateTarget(new Markup(Markup.Escape(
                        $"epoch {p.Epoch}  batch {p.Batch}/{p.BatchesPerEpoch}  loss {p.MeanLoss:0.0000}  {p.Elapsed:hh\\:mm\\:ss}" +
                        (p.LastEpoch is { } l ? $"  last valid recall@20 {l.Valid.GetValueOrDefault("recall@20"):0.0000}" : ""))));
                }), cancel.Token);
            });
            return result!;
        }
        finally
        {
            Console.CancelKeyPress -= onCancel;
        }
    }

    /// <summary>The report sent after an epoch's evaluation (batch reports carry the previous epoch's metrics).</summary>
    private static bool IsEpochEnd(TrainingProgress p) => p.LastEpoch is { } e && e.Epoch == p.Epoch;

    private static string EpochLine(EpochReport e) =>
        $"epoch {e.Epoch,4}  loss {e.MeanLoss:0.00000}  train {e.TrainSeconds:0.00}s  eval {e.EvalSeconds:0.00}s  " +
        $"valid recall@20 {e.Valid.GetValueOrDefault("recall@20"):0.0000} ndcg@20 {e.Valid.GetValueOrDefault("ndcg@20"):0.0000}  " +
        $"test recall@20 {e.Test.GetValueOrDefault("recall@20"):0.0000}{(e.Improved ? "  *" : "")}";

    /// <summary>Reports on the trainer's thread (Progress&lt;T&gt; would post to the thread pool and reorder lines).</summary>
    private sealed class SyncProgress(Action<TrainingProgress> report) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value) => report(value);
    }
}
