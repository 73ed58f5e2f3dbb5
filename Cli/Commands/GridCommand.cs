using System.CommandLine;
using Engine.Training;
using Spectre.Console;

namespace Engine.Cli;

/// <summary><c>sea grid</c>: every combination of a grid file's value lists, one run folder each, ranked on valid.</summary>
internal static class GridCommand
{
    public static Command Create()
    {
        var config = new Option<string>("--config") { Description = "a JSON or YAML file of sea train's options; any option may be a list", Required = true };
        var output = new Option<string?>("--out") { Description = "folder of the point folders and the summary (default: the file's 'out')" };
        var device = DeviceChoice.Option();
        var command = new Command("grid",
            "Trains the Cartesian product of a grid file's option lists (resumable), then ranks the settings by valid Recall@20.")
        {
            config, output, device,
        };
        command.SetAction(parse => Run(parse.GetValue(config)!, parse.GetValue(output), parse.GetValue(device)!));
        return command;
    }

    public static int Run(string configFile, string? output, string device)
    {
        var (points, fileOutput) = GridSearch.Read(configFile);
        var folder = output ?? fileOutput ?? throw new ArgumentException($"sea grid needs an output folder: --out DIR, or 'out: DIR' in {configFile}");
        Console.WriteLine($"{points.Count} points into {folder}");
        var backend = DeviceChoice.Open(device, Console.Error);
        var rows = GridSearch.Run(points, folder, backend, Console.Out,
            (run, pointFolder) => TrainingDisplay.Run((progress, cancel) => run.Train(pointFolder, progress, cancel)));

        var table = new Table().AddColumns("rank", "setting", "seeds", "valid R@20", "test R@20", "test N@20", "best epoch");
        foreach (var r in rows.Take(10))
            table.AddRow($"{r.Rank}", Markup.Escape(r.Setting), $"{r.Seeds}", $"{r.ValidRecall20:0.0000}", $"{r.Test["recall@20"]:0.0000}",
                $"{r.Test["ndcg@20"]:0.0000}", $"{r.BestEpoch:0.#}");
        AnsiConsole.Write(table);
        Console.WriteLine($"chosen on valid: {(rows.Count > 0 ? rows[0].Setting : "(nothing finished)")}; " +
                          $"wrote {Path.Combine(folder, GridSearch.SummaryCsv)} and {GridSearch.SummaryMarkdown}");
        return CliErrors.Ok;
    }
}
