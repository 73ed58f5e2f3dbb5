using System.Diagnostics;
using Engine.Autograd;
using Engine.Training;
using Engine.Training.Data;
using Engine.Training.Models;
using Engine.Training.Optim;
using Engine.Training.Sampling;

namespace Engine.Cli.Bench;

/// <summary>One SEA training path: median milliseconds per batch, split into the model's step and CLUB's inner loop.</summary>
public sealed record SeaPathResult(string Path, int Batches, double MedianMsPerBatch, double MedianClubMs);

public sealed record SeaBenchReport(string Dataset, int Users, int Items, int ImageDim, int TextDim, string Backend,
    IReadOnlyList<SeaPathResult> Paths)
{
    /// <summary>Plain over reassociated time per batch.</summary>
    public double Speedup => Paths[0].MedianMsPerBatch / Paths[1].MedianMsPerBatch;
}

/// <summary>
/// <c>sea bench sea</c>: a SEA training step (forward, backward, CLUB's inner loop, Adam) timed with the first layers
/// computed as written and reassociated, on the same data, parameters and batches.
/// </summary>
public static class SeaBenchmark
{
    public static SeaBenchReport Run(Dataset data, int batches, Backend backend, TextWriter log)
    {
        var paths = new List<SeaPathResult>();
        foreach (var reassociate in new[] { false, true })
        {
            var config = new RunConfig { Model = "sea", Sea = new SeaOptions { Reassociate = reassociate } };
            using var model = (Sea)config.BuildModel(data, backend);
            var adam = new Adam(model.Parameters, config.EffectiveLearningRate);
            var sampler = new BprSampler(data.Users, data.Train.Users, data.Train.Items, config.Batch, new Rng(1));
            var steps = new List<double>();
            var clubSteps = new List<double>();
            foreach (var batch in sampler.Epoch().Take(batches + 1)) // the first is a warm-up
            {
                var watch = Stopwatch.StartNew();
                adam.ZeroGrad();
                using (var tape = Tape.Begin()) tape.Backward(model.Loss(batch));
                var club = Stopwatch.StartNew();
                model.AfterBackward(batch);
                clubSteps.Add(club.Elapsed.TotalMilliseconds);
                adam.Step();
                steps.Add(watch.Elapsed.TotalMilliseconds);
                log.WriteLine($"{(reassociate ? "reassociated" : "plain")} batch {steps.Count}: {steps[^1]:0} ms");
            }
            paths.Add(new SeaPathResult(reassociate ? "reassociated" : "plain", steps.Count - 1,
                Median(steps.Skip(1)), Median(clubSteps.Skip(1))));
        }
        return new SeaBenchReport(data.Name, data.Users, data.Items, data.Image!.Cols, data.Text!.Cols, backend.Description, paths);
    }

    private static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length == 0 ? double.NaN : sorted[sorted.Length / 2];
    }
}
