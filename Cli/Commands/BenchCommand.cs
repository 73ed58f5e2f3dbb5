using System.CommandLine;
using System.Text.Json;
using Engine.Cli.Bench;
using Engine.IO;
using Spectre.Console;

namespace Engine.Cli;

/// <summary><c>sea bench ops</c>: kernel throughput next to the machine's floors, as a table and a JSON file.</summary>
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
        var output = new Option<string>("--out") { Description = "where to write the JSON report", DefaultValueFactory = _ => "bench-ops.json" };
        var quick = new Option<bool>("--quick") { Description = "shapes divided by 8 and fewer repetitions: checks the plumbing, not the speed" };
        var ops = new Command("ops", "GEMM (OpenBLAS and managed) GFLOP/s and SpMM GB/s on Baby-sized shapes, next to the machine's floors.")
        {
            output, quick,
        };
        ops.SetAction(parse => RunOps(parse.GetValue(quick), parse.GetValue(output)!));

        var data = new Option<string?>("--data") { Description = "a dataset folder with features (default: synthetic interactions of Baby's size with 4096/384-wide semi-synthetic features)" };
        var batches = new Option<int>("--batches") { Description = "timed batches per path", DefaultValueFactory = _ => 5 };
        var seaOutput = new Option<string>("--out") { Description = "where to write the JSON report", DefaultValueFactory = _ => "bench-sea.json" };
        var sea = new Command("sea", "Time per SEA training batch with the first layers as written and reassociated.") { data, batches, seaOutput };
        sea.SetAction(parse => RunSea(parse.GetValue(data), parse.GetValue(batches), parse.GetValue(seaOutput)!));
        return new Command("bench", "Benchmarks.") { ops, sea };
    }

    public static int RunSea(string? folder, int batches, string outputPath)
    {
        var data = folder is null ? BabySized() : Engine.Training.Data.Dataset.Load(folder);
        var report = SeaBenchmark.Run(data, batches, Engine.Cpu.CpuBackend.Shared, Console.Error);
        var table = new Table().AddColumns("path", "batches", "median ms/batch", "of which CLUB loop");
        foreach (var p in report.Paths)
            table.AddRow(p.Path, $"{p.Batches}", $"{p.MedianMsPerBatch:0}", $"{p.MedianClubMs:0}");
        AnsiConsole.MarkupLine(Markup.Escape($"SEA on {report.Dataset} ({report.Users} users, {report.Items} items, features {report.ImageDim}/{report.TextDim}), {report.Backend}"));
        AnsiConsole.Write(table);
        Console.WriteLine($"reassociation: {report.Speedup:0.0}× faster per batch");
        AtomicFile.WriteAllText(outputPath, JsonSerializer.Serialize(report, Json));
        Console.WriteLine($"wrote {outputPath}");
        return CliErrors.Ok;
    }

    /// <summary>Synthetic interactions of Baby's size (19,445 users, 7,050 items) with semi-synthetic features at SEA's widths (4096 image, 384 text).</summary>
    private static Engine.Training.Data.Dataset BabySized()
    {
        var d = Engine.Training.Data.SyntheticInteractions.Generate(users: 19445, items: 7050, groups: 50, seed: 7);
        var f = Engine.Training.Data.FeatureSynthesizer.Synthesize(d.Users, d.Items, d.Train, new Engine.Training.Data.SynthesisOptions(Seed: 7));
        return new Engine.Training.Data.Dataset(d.Name, d.Folder, d.Users, d.Items, d.Train, d.Valid, d.Test, f.Image, f.Text);
    }

    public static int RunOps(bool quick, string outputPath)
    {
        var report = OpsBenchmark.Run(quick, Console.Error);
        var floors = report.Machine;
        AnsiConsole.MarkupLine(Markup.Escape(
            $"{report.Backend}\nfloors: {floors.Cores} cores, FMA peak {floors.PeakGflopsF32:0.0} GFLOP/s float32 / {floors.PeakGflopsF64:0.0} float64, copy {floors.CopyGBps:0.0} GB/s" +
            (quick ? "  (--quick: reduced shapes)" : "")));
        var table = new Table().AddColumns("kernel", "by", "dtype", "shape", "median", "rate", "floor", "of floor");
        foreach (var r in report.Results)
            table.AddRow(Markup.Escape(r.Name), r.Provider, r.DType, Markup.Escape(r.Shape), $"{r.MedianSeconds * 1e3:0.00} ms",
                $"{r.Rate:0.0} {r.RateUnit}", $"{r.FloorSeconds * 1e3:0.00} ms", $"{r.FractionOfFloor:P0}");
        AnsiConsole.Write(table);
        AtomicFile.WriteAllText(outputPath, JsonSerializer.Serialize(report, Json));
        Console.WriteLine($"wrote {outputPath}");
        return CliErrors.Ok;
    }
}
