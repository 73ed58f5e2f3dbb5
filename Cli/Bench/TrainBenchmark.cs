using System.Diagnostics;
using Engine.Training;
using Engine.Training.Data;

namespace Engine.Cli.Bench;

/// <summary>What <c>sea bench train</c> runs: the model, timed epochs after one warm-up, and an optional batch cap.</summary>
public sealed record TrainBenchOptions(string Model, int Epochs = 3, int? MaxBatches = null, bool Quick = false);

/// <summary>One op kind over a training epoch: its tallies per epoch and its share of the measured training time.</summary>
public sealed record OpShare(string Op, double CallsPerEpoch, double GflopPerEpoch, double GbPerEpoch, double? SecondsPerEpoch, double? ShareOfTrain);

/// <summary>A backend's own limits, measured through the Backend API (median of repeated runs after warm-up).</summary>
public sealed record DeviceFloors(string DType, string GemmShape, double GemmGflops, string CopyShape, double CopyGBps);

/// <summary>A GPU target, printed as a reference next to whatever device was measured.</summary>
public sealed record BenchTarget(string What, double Seconds, string Where);

/// <summary>One backend's figures. Per-epoch counts and times are for a whole epoch (scaled up when extrapolated).</summary>
public sealed record TrainBenchRun(
    string Device, string Backend, int BatchesPerEpoch, int BatchesTimed, string? Extrapolation, int TimedEpochs,
    IReadOnlyList<double> TrainSeconds, IReadOnlyList<double> EvalSeconds, double MedianTrainSeconds, double MedianEvalSeconds,
    long? PeakMemoryBytes, string PeakMemorySource,
    double GemmFlopsPerEpoch, double SpmmBytesPerEpoch, double OtherBytesPerEpoch,
    double? AchievedGemmGflops, double? AchievedSpmmGBps, string? OpTimesNote,
    DeviceFloors Floors, double DenseFloorSeconds, double SparseFloorSeconds, double OtherMemoryFloorSeconds, double FloorSeconds,
    IReadOnlyList<OpShare> Ops, double? OutsideOpsShare);

public sealed record TrainBenchReport(DateTimeOffset When, string Model, string Dataset, int Users, int Items, int? ImageDim, int? TextDim,
    int WarmUpEpochs, bool Quick, IReadOnlyList<TrainBenchRun> Runs, IReadOnlyList<BenchTarget> Targets,
    double? TrainCpuOverCuda, double? EvalCpuOverCuda);

/// <summary>
/// <c>sea bench train</c>: whole training epochs of a model through the trainer (<see cref="Trainer.RunEpoch"/>), one
/// warm-up then medians of the timed ones, with the backend's op counters on to say where the epoch's work and time
/// go and how far it is from the device's floors.
/// </summary>
public static class TrainBenchmark
{
    public static readonly BenchTarget[] Targets =
    [
        new("sea train s/epoch", 0.3, "H100"),
        new("lightgcn train s/epoch", 0.020, "H100"),
        new("evaluation s", 0.020, "H100"),
    ];

    /// <summary>Times <paramref name="config"/>'s model (at its defaults) on <paramref name="data"/>, on each backend.</summary>
    public static TrainBenchReport Run(Dataset data, RunConfig config, TrainBenchOptions options, IReadOnlyList<Backend> backends, TextWriter log)
    {
        var runs = backends.Select(b => RunOne(data, config, options, b, log)).ToList();
        double? Ratio(Func<TrainBenchRun, double> f) =>
            runs.FirstOrDefault(r => r.Device == "cpu") is { } cpu && runs.FirstOrDefault(r => r.Device.StartsWith("cuda")) is { } cuda
                ? f(cpu) / f(cuda) : null;
        // The GPU targets set so far: SEA's and LightGCN's epochs, and the evaluation; other models have none yet.
        var targets = Targets.Where(t => t.What.StartsWith($"{options.Model} ") || t.What.StartsWith("evaluation")).ToList();
        return new TrainBenchReport(DateTimeOffset.UtcNow, options.Model, data.Name, data.Users, data.Items, data.Image?.Cols, data.Text?.Cols,
            1, options.Quick, runs, targets, Ratio(r => r.MedianTrainSeconds), Ratio(r => r.MedianEvalSeconds));
    }

    private static TrainBenchRun RunOne(Dataset data, RunConfig config, TrainBenchOptions options, Backend backend, TextWriter log)
    {
        // Floors first, while nothing else of this run holds memory or threads.
        log.WriteLine($"{backend.Device}: measuring GEMM rate and copy bandwidth ...");
        var floors = MeasureFloors(backend, options.Quick);
        log.WriteLine($"{backend.Device}: building {config.Model} ...");
        using var recommender = Recommender.Create(config, backend, data);
        var counters = backend.Counters;
        bool wasEnabled = counters.Enabled;
        counters.Enabled = true;
        var samples = new List<EpochSample>();
        try
        {
            for (int epoch = 0; epoch <= options.Epochs; epoch++)
            {
                var s = TimeEpoch(recommender, options.MaxBatches);
                log.WriteLine($"{backend.Device}: {(epoch == 0 ? "warm-up" : $"epoch {epoch}")}: train {s.TrainSeconds:0.000} s for {s.Batches} of {s.BatchesPerEpoch} batches, evaluation {s.EvalSeconds:0.000} s");
                if (epoch > 0) samples.Add(s);
            }
        }
        finally
        {
            counters.Enabled = wasEnabled;
            counters.Reset();
        }
        return Summarise(backend, samples, floors);
    }

    /// <summary>Training time, batches and op tallies of one epoch (possibly cut short), and its evaluation's time.</summary>
    private sealed record EpochSample(double TrainSeconds, double EvalSeconds, int Batches, int BatchesPerEpoch, IReadOnlyDictionary<OpKind, OpTotals> TrainOps);

    private static EpochSample TimeEpoch(Recommender recommender, int? maxBatches)
    {
        var counters = recommender.Backend.Counters;
        counters.Reset();
        var cut = new EpochCut(maxBatches, counters, Stopwatch.StartNew());
        try
        {
            var report = recommender.Trainer.RunEpoch(cut);
            return new EpochSample(report.TrainSeconds, report.EvalSeconds, cut.Batches, cut.BatchesPerEpoch, cut.TrainOps!);
        }
        catch (EpochCut.Stop)
        {
            // The same evaluation RunEpoch would have run after the epoch.
            var watch = Stopwatch.StartNew();
            recommender.Evaluate();
            return new EpochSample(cut.Seconds, watch.Elapsed.TotalSeconds, cut.Batches, cut.BatchesPerEpoch, cut.TrainOps!);
        }
    }

    /// <summary>
    /// Watches the trainer's per-batch progress (reported after each batch's update): at the last batch to time it
    /// takes the time and the op tallies, so the evaluation is not mixed in, and with a batch cap below the epoch's
    /// length it stops the epoch there by throwing <see cref="Stop"/>. This times the trainer's own step without
    /// changing the trainer; a cut epoch leaves the trainer's history untouched.
    /// </summary>
    private sealed class EpochCut(int? maxBatches, OpCounters counters, Stopwatch watch) : IProgress<TrainingProgress>
    {
        public sealed class Stop() : Exception("the benchmark's batch cap was reached");

        public int Batches { get; private set; }
        public int BatchesPerEpoch { get; private set; }
        public double Seconds { get; private set; }
        public IReadOnlyDictionary<OpKind, OpTotals>? TrainOps { get; private set; }

        public void Report(TrainingProgress p)
        {
            if (TrainOps is not null || p.Batch < Math.Min(maxBatches ?? int.MaxValue, p.BatchesPerEpoch)) return;
            (Batches, BatchesPerEpoch, Seconds) = (p.Batch, p.BatchesPerEpoch, watch.Elapsed.TotalSeconds);
            TrainOps = counters.Snapshot();
            counters.Reset(); // from here on: the evaluation's ops, which are not reported
            if (p.Batch < p.BatchesPerEpoch) throw new Stop();
        }
    }

    private static TrainBenchRun Summarise(Backend backend, List<EpochSample> samples, DeviceFloors floors)
    {
        int batches = samples[0].Batches, perEpoch = samples[0].BatchesPerEpoch;
        double scale = perEpoch / (double)batches; // a cut epoch's figures scaled to the whole epoch
        string? extrapolation = batches < perEpoch ? $"extrapolated from {batches} of {perEpoch} batches" : null;
        double measuredTrain = samples.Sum(s => s.TrainSeconds);
        var totals = samples.SelectMany(s => s.TrainOps)
            .GroupBy(kv => kv.Key, kv => kv.Value)
            .ToDictionary(g => g.Key, g => new OpTotals(g.Sum(t => t.Calls), g.Sum(t => t.Flops), g.Sum(t => t.Bytes), g.Sum(t => t.Seconds)));
        double PerEpoch(double total) => total / samples.Count * scale;
        var none = new OpTotals(0, 0, 0, 0);
        var gemm = totals.GetValueOrDefault(OpKind.Gemm, none);
        var spmm = totals.GetValueOrDefault(OpKind.Spmm, none);
        double gemmFlops = PerEpoch(gemm.Flops), spmmBytes = PerEpoch(spmm.Bytes);
        double otherBytes = PerEpoch(totals.Where(kv => kv.Key is not (OpKind.Gemm or OpKind.Spmm)).Sum(kv => (double)kv.Value.Bytes));

        // Op timers measure the call: on the CPU the work, on a GPU only the launch (see OpCounters).
        bool timed = backend.Device == Engine.Device.Cpu;
        var ops = totals.OrderByDescending(kv => kv.Value.Seconds).Select(kv => new OpShare(kv.Key.ToString(),
            PerEpoch(kv.Value.Calls), PerEpoch(kv.Value.Flops) / 1e9, PerEpoch(kv.Value.Bytes) / 1e9,
            PerEpoch(kv.Value.Seconds), kv.Value.Seconds / measuredTrain)).ToList();

        double dense = gemmFlops / (floors.GemmGflops * 1e9), sparse = spmmBytes / (floors.CopyGBps * 1e9), other = otherBytes / (floors.CopyGBps * 1e9);
        var (peak, peakSource) = PeakMemory(backend);
        var train = samples.Select(s => s.TrainSeconds * scale).ToList();
        var eval = samples.Select(s => s.EvalSeconds).ToList();
        return new TrainBenchRun(backend.Device.ToString(), backend.Description, perEpoch, batches, extrapolation, samples.Count,
            train, eval, Median(train), Median(eval), peak, peakSource, gemmFlops, spmmBytes, otherBytes,
            timed && gemm.Seconds > 0 ? gemm.Flops / gemm.Seconds / 1e9 : null,
            timed && spmm.Seconds > 0 ? spmm.Bytes / spmm.Seconds / 1e9 : null,
            timed ? null : "op timers on a GPU measure kernel launches only; per-op GPU time needs CUDA events or Nsight Systems",
            floors, dense, sparse, other, dense + sparse + other,
            timed ? ops : [.. ops.Select(o => o with { SecondsPerEpoch = null, ShareOfTrain = null })],
            timed ? 1 - ops.Sum(o => o.ShareOfTrain!.Value) : null);
    }

    private static (long? Bytes, string Source) PeakMemory(Backend backend)
    {
        if (backend.Device != Engine.Device.Cpu)
            return (null, "not measured: the CUDA caching allocator (Kernels/CachingAllocator.cs) keeps no peak of bytes in use");
        using var process = Process.GetCurrentProcess();
        process.Refresh();
        return (process.PeakWorkingSet64, "process peak working set since start (includes loading the data)");
    }

    /// <summary>
    /// The GEMM rate (float32, square) and copy bandwidth of <paramref name="backend"/>, through its own ops. Each
    /// timed run ends by reading one element back, so a GPU's queued work is finished inside the timing.
    /// </summary>
    public static DeviceFloors MeasureFloors(Backend backend, bool quick)
    {
        bool cpu = backend.Device == Engine.Device.Cpu;
        int n = quick ? 256 : cpu ? 2048 : 8192;
        int copyLength = quick ? 1 << 20 : cpu ? 1 << 25 : 1 << 28;
        int reps = quick ? 3 : 5;
        const DType dtype = DType.Float32;
        using var one = backend.Allocate(1, 1, dtype);
        void Sync(Tensor t)
        {
            backend.CopyBlock(t, 0, 0, one, 0, 0, 1, 1, accumulate: false);
            _ = one.Item();
        }

        double gemmSeconds;
        using (var a = backend.Allocate(n, n, dtype))
        using (var c = backend.Allocate(n, n, dtype))
        {
            backend.Fill(a, 0.5);
            gemmSeconds = OpsBenchmark.Time(reps, () => { backend.Gemm(false, false, 1, a, a, 0, c); Sync(c); }).Median;
        }
        double copySeconds;
        using (var src = backend.Allocate(copyLength, 1, dtype))
        using (var dst = backend.Allocate(copyLength, 1, dtype))
        {
            backend.Fill(src, 1);
            copySeconds = OpsBenchmark.Time(reps, () => { backend.Copy(src, dst); Sync(dst); }).Median;
        }
        long bytes = (long)copyLength * dtype.SizeInBytes();
        return new DeviceFloors(dtype.Name(), $"{n}×{n} · {n}×{n}", 2.0 * n * n * n / gemmSeconds / 1e9,
            $"{copyLength} elements ({bytes / (1 << 20)} MiB), read + write", MachineFloors.CopyRateGBps(bytes, copySeconds));
    }

    private static double Median(IReadOnlyList<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
    }
}
