using System.CommandLine;
using Engine.Training.Options;
using System.Text.Json;
using Engine.Cli.Bench;
using Engine.IO;
using Spectre.Console;

namespace Engine.Cli;

/// <summary><c>sea bench ops|sea|train</c>: kernel throughput, SEA's step and whole training epochs, next to the floors, as tables and JSON.</summary>
internal static class BenchCommand
{
    public static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        Converters = { new System.Text.Json.Serialization.JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower) },
    };

    public static Command Create()
    {
        var output = new Option<string?>("--out") { Description = "a file to write the JSON report to (none is written without it)" };
        var quick = new Option<bool>("--quick") { Description = "shapes divided by 8 and fewer repetitions: checks the plumbing, not the speed" };
        var ops = new Command("ops", "GEMM (OpenBLAS and managed) GFLOP/s, SpMM GB/s and CLUB's inner loop (fused vs composed) on Baby-sized shapes, next to the machine's floors.")
        {
            output, quick,
        };
        ops.SetAction(parse => RunOps(parse.GetValue(quick), parse.GetValue(output)));

        var data = new Option<string?>("--data") { Description = "a dataset folder with features (default: synthetic interactions of Baby's size with 4096/384-wide semi-synthetic features)" };
        var batches = CliOptions.Int("--batches", "timed batches per path", 5, ValidRange.AtLeast(1));
        var seaOutput = new Option<string?>("--out") { Description = "a file to write the JSON report to (none is written without it)" };
        var sea = new Command("sea", "Time per SEA training batch with the first layers as written and reassociated.") { data, batches, seaOutput };
        sea.SetAction(parse => RunSea(parse.GetValue(data), parse.GetValue(batches), parse.GetValue(seaOutput)));
        return new Command("bench", "Benchmarks.") { ops, sea, CreateTrain() };
    }

    private static Command CreateTrain()
    {
        string[] trained = [.. Engine.Training.RunConfig.Models.Where(m => m != "mostpop")]; // MostPop has no training step to time
        var model = new Option<string>("--model") { Description = string.Join(", ", trained) + " (at its defaults)", Required = true };
        model.AcceptOnlyFromAmong(trained);
        var data = new Option<string?>("--data") { Description = "a dataset folder (default: synthetic interactions of Baby's size, with 4096/384-wide semi-synthetic features, and 768-wide fused ones for AlignRec, where the model reads features)" };
        var device = new Option<string>("--device") { Description = "cpu or cuda", DefaultValueFactory = _ => "cpu" };
        device.AcceptOnlyFromAmong("cpu", "cuda");
        var epochs = CliOptions.Int("--epochs", "timed epochs, after one warm-up epoch", 3, ValidRange.AtLeast(1));
        var maxBatches = CliOptions.OptionalInt("--max-batches", "train only the first B batches of each epoch and scale to the whole epoch", ValidRange.AtLeast(1));
        var output = new Option<string?>("--out") { Description = "a folder to write bench.json into" };
        var compare = new Option<string?>("--compare") { Description = "cpu,cuda: both backends in one process, and the ratio" };
        var quick = new Option<bool>("--quick") { Description = "floors on small shapes: checks the plumbing, not the speed" };
        var composed = new Option<bool>("--composed") { Description = "run every fused op as its composed reference (to time the fused ops' gain)" };
        var train = new Command("train", "Seconds per training epoch and per evaluation, where the epoch's work goes, and the device's floors.")
        {
            model, data, device, epochs, maxBatches, output, compare, quick, composed,
        };
        train.SetAction(parse => RunTrain(
            new TrainBenchOptions(parse.GetValue(model)!, parse.GetValue(epochs), parse.GetValue(maxBatches), parse.GetValue(quick)),
            parse.GetValue(data), parse.GetValue(device)!, parse.GetValue(compare), parse.GetValue(output), composed: parse.GetValue(composed)));
        return train;
    }

    /// <summary><c>sea bench train</c>; <paramref name="data"/>, when given, replaces loading <paramref name="folder"/> (for tests).</summary>
    public static int RunTrain(TrainBenchOptions options, string? folder, string device, string? compare, string? outputFolder,
        Engine.Training.Data.Dataset? data = null, bool composed = false)
    {
        string[] devices = compare is null ? [device] : compare.Split(',', StringSplitOptions.TrimEntries);
        if (compare is not null && !(devices.Length == 2 && devices.Order().SequenceEqual(["cpu", "cuda"])))
            throw new FormatException($"--compare takes cpu,cuda, got '{compare}'");
        // Every backend is opened before any work, so a missing GPU fails at once.
        var backends = devices.Select(d => OpenForBench(d, compare is null ? $"--device {d}" : $"--compare {compare}")).ToList();
        foreach (var backend in backends) backend.ComposedOnly = composed;
        var config = new Engine.Training.RunConfig { Model = options.Model, Data = folder };
        data ??= folder is null ? BabySized(config.NeedsFeatures, config.NeedsMultimodalFeatures) : config.LoadData();

        var report = TrainBenchmark.Run(data, config, options, backends, Console.Error);
        PrintTrain(report);
        if (outputFolder is not null)
        {
            Directory.CreateDirectory(outputFolder);
            var path = Path.Combine(outputFolder, "bench.json");
            AtomicFile.WriteAllText(path, JsonSerializer.Serialize(report, Engine.Training.TrainingJson.Indented));
            Console.WriteLine($"wrote {path}");
        }
        return CliErrors.Ok;
    }

    private static Backend OpenForBench(string device, string asked)
    {
        if (device == "cuda" && Engine.Kernels.Native.CudaProbe.Probe() is { Usable: false } found)
            throw new InvalidOperationException($"{asked} needs a usable CUDA GPU and there is none: {found.Reason}");
        return DeviceChoice.Open(device, Console.Error);
    }

    private static void PrintTrain(TrainBenchReport report)
    {
        var runs = report.Runs;
        AnsiConsole.MarkupLine(Markup.Escape($"{report.Model} on {report.Dataset} ({report.Users} users, {report.Items} items" +
            (report.ImageDim is { } image ? $", features {image}/{report.TextDim}" : "") + $"), 1 warm-up epoch, medians of {runs[0].TimedEpochs}"));
        foreach (var r in runs)
            AnsiConsole.MarkupLine(Markup.Escape($"{r.Device}: {r.Backend}" + (r.Extrapolation is null ? "" : $"; training {r.Extrapolation}")));

        var table = new Table().AddColumn("per epoch");
        foreach (var r in runs) table.AddColumn(r.Device, c => c.RightAligned());
        table.AddColumn("GPU target (reference)");
        string Target(string what) => report.Targets.FirstOrDefault(t => t.What.Contains(what)) is { } t ? $"≤ {Seconds(t.Seconds)} on an {t.Where}" : "";
        void Row(string what, Func<TrainBenchRun, string> cell, string target = "") =>
            table.AddRow([Markup.Escape(what), .. runs.Select(r => Markup.Escape(cell(r))), Markup.Escape(target)]);
        Row("train (median)", r => Seconds(r.MedianTrainSeconds), Target("train"));
        Row("evaluation (median)", r => Seconds(r.MedianEvalSeconds), Target("evaluation"));
        Row("peak memory", r => r.PeakMemoryBytes is { } b ? $"{b / (double)(1 << 20):0} MiB" : "not measured");
        Row("GEMM work", r => $"{r.GemmFlopsPerEpoch / 1e9:0.0} GFLOP");
        Row("GEMM achieved", r => r.AchievedGemmGflops is { } g ? $"{g:0.0} GFLOP/s" : "n/a");
        Row("SpMM traffic", r => $"{r.SpmmBytesPerEpoch / 1e9:0.000} GB");
        Row("SpMM achieved", r => r.AchievedSpmmGBps is { } g ? $"{g:0.0} GB/s" : "n/a");
        Row("other ops' traffic", r => $"{r.OtherBytesPerEpoch / 1e9:0.00} GB");
        Row("measured GEMM rate", r => $"{r.Floors.GemmGflops:0.0} GFLOP/s");
        Row("measured copy bandwidth", r => $"{r.Floors.CopyGBps:0.0} GB/s");
        Row("floor: GEMM + SpMM + other", r => $"{Seconds(r.DenseFloorSeconds)} + {Seconds(r.SparseFloorSeconds)} + {Seconds(r.OtherMemoryFloorSeconds)}");
        Row("floor / train", r => $"{r.FloorSeconds / r.MedianTrainSeconds:P0}");
        AnsiConsole.Write(table);
        if (report.TrainCpuOverCuda is { } train)
            Console.WriteLine($"cpu / cuda: training {train:0.0}×, evaluation {report.EvalCpuOverCuda:0.0}×");

        foreach (var r in runs)
        {
            var ops = new Table().AddColumns($"{r.Device} op", "calls/epoch", "GFLOP", "GB", "s/epoch", "of train");
            foreach (var o in r.Ops.Where(o => o.ShareOfTrain is null or >= 0.001))
                ops.AddRow(o.Op, $"{o.CallsPerEpoch:0}", $"{o.GflopPerEpoch:0.0}", $"{o.GbPerEpoch:0.000}",
                    o.SecondsPerEpoch is { } s ? Seconds(s) : "n/a", o.ShareOfTrain is { } f ? $"{f:P1}" : "n/a");
            if (r.OutsideOpsShare is { } outside) ops.AddRow("outside backend ops", "", "", "", "", $"{outside:P1}");
            AnsiConsole.Write(ops);
            if (r.OpTimesNote is not null) Console.WriteLine(r.OpTimesNote);
        }
    }

    private static string Seconds(double s) => s >= 1 ? $"{s:0.00} s" : $"{s * 1e3:0.0} ms";

    public static int RunSea(string? folder, int batches, string? outputPath)
    {
        if (outputPath is not null) AtomicFile.CheckReplaceable(outputPath);
        var data = folder is null ? BabySized() : Engine.Training.Data.Dataset.Load(folder);
        var report = SeaBenchmark.Run(data, batches, Engine.Cpu.CpuBackend.Shared, Console.Error);
        var table = new Table().AddColumns("path", "batches", "median ms/batch", "of which CLUB loop");
        foreach (var p in report.Paths)
            table.AddRow(p.Path, $"{p.Batches}", $"{p.MedianMsPerBatch:0}", $"{p.MedianClubMs:0}");
        AnsiConsole.MarkupLine(Markup.Escape($"SEA on {report.Dataset} ({report.Users} users, {report.Items} items, features {report.ImageDim}/{report.TextDim}), {report.Backend}"));
        AnsiConsole.Write(table);
        Console.WriteLine($"reassociation: {report.Speedup:0.0}× faster per batch");
        WriteReport(outputPath, report);
        return CliErrors.Ok;
    }

    /// <summary>Synthetic interactions of Baby's size (19,445 users, 7,050 items) with semi-synthetic features at SEA's widths (4096 image, 384 text).</summary>
    private static Engine.Training.Data.Dataset BabySized(bool withFeatures = true, bool withMultimodal = false)
    {
        var d = Engine.Training.Data.SyntheticInteractions.Generate(users: 19445, items: 7050, groups: 50, seed: 7);
        if (!withFeatures && !withMultimodal) return d;
        var f = Engine.Training.Data.FeatureSynthesizer.Synthesize(d.Users, d.Items, d.Train, new Engine.Training.Data.SynthesisOptions(Seed: 7));
        return new Engine.Training.Data.Dataset(d.Name, d.Folder, d.Users, d.Items, d.Train, d.Valid, d.Test,
            withFeatures ? f.Image : null, withFeatures ? f.Text : null, multimodal: withMultimodal ? f.Multimodal : null);
    }

    public static int RunOps(bool quick, string? outputPath)
    {
        if (outputPath is not null) AtomicFile.CheckReplaceable(outputPath);
        var report = OpsBenchmark.Run(quick, Console.Error);
        var floors = report.Machine;
        AnsiConsole.MarkupLine(Markup.Escape(
            $"{report.Backend}\nfloors: {floors.Cores} cores, FMA peak {floors.PeakGflopsF32:0.0} GFLOP/s float32 / {floors.PeakGflopsF64:0.0} float64, " +
            $"copy {floors.CopyGBps:0.0} GB/s ({floors.CopyBasis})" +
            (quick ? "  (--quick: reduced shapes)" : "")));
        var table = new Table().AddColumns("kernel", "by", "dtype", "shape", "median", "rate", "floor", "of floor", "allocated");
        foreach (var r in report.Results)
            table.AddRow(Markup.Escape(r.Name), r.Provider, r.DType, Markup.Escape(r.Shape), $"{r.MedianSeconds * 1e3:0.00} ms",
                $"{r.Rate:0.0} {r.RateUnit}", $"{r.FloorSeconds * 1e3:0.00} ms", $"{r.FractionOfFloor:P0}",
                r.AllocatedBytes is { } bytes ? $"{bytes / 1e6:0.0} MB" : "");
        AnsiConsole.Write(table);
        WriteReport(outputPath, report);
        return CliErrors.Ok;
    }

    /// <summary>The JSON report, at <paramref name="path"/> and only there; no file without one.</summary>
    private static void WriteReport<T>(string? path, T report)
    {
        if (path is null) return;
        AtomicFile.WriteAllText(path, JsonSerializer.Serialize(report, Json));
        Console.WriteLine($"wrote {path}");
    }
}
