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
        return new Command("bench", "Benchmarks.") { ops };
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
