using System.CommandLine;
using Engine.Training;
using Spectre.Console;

namespace Engine.Cli;

/// <summary><c>sea eval</c>: the metrics table of a checkpoint, recomputed from its parameters.</summary>
internal static class EvalCommand
{
    public static Command Create()
    {
        var checkpoint = new Option<string>("--checkpoint") { Description = "a checkpoint file, or a run folder (its best.ckpt)", Required = true };
        var data = new Option<string?>("--data") { Description = "the dataset folder (default: the one the checkpoint was trained on)" };
        var split = new Option<string>("--split") { Description = "valid, test or both", DefaultValueFactory = _ => "test" };
        split.AcceptOnlyFromAmong("valid", "test", "both");
        var device = DeviceChoice.Option();
        var command = new Command("eval", "Recomputes the full-ranking metrics of a checkpoint on valid or test.") { checkpoint, data, split, device };
        command.SetAction(parse => Run(parse.GetValue(checkpoint)!, parse.GetValue(data), parse.GetValue(split)!, parse.GetValue(device)!));
        return command;
    }

    public static int Run(string checkpoint, string? dataFolder, string split, string device)
    {
        using var run = Recommender.Load(checkpoint, DeviceChoice.Open(device, Console.Error),
            dataFolder is null ? null : Engine.Training.Data.Dataset.Load(dataFolder));
        var (valid, test) = run.Evaluate();
        Console.WriteLine($"{run.Config.Model} on {run.Data.Name}, checkpoint of epoch {run.Trainer.EpochsDone}, seed {run.Config.Seed}");
        var table = new Table().AddColumn("metric");
        if (split != "test") table.AddColumn("valid");
        if (split != "valid") table.AddColumn("test");
        foreach (var metric in new[] { "recall", "ndcg", "precision", "map" })
            foreach (var key in test.Keys.Where(k => k.StartsWith(metric + "@")))
            {
                var cells = new List<string> { key };
                if (split != "test") cells.Add(valid[key].ToString("0.0000"));
                if (split != "valid") cells.Add(test[key].ToString("0.0000"));
                table.AddRow(cells.ToArray());
            }
        AnsiConsole.Write(table);
        return CliErrors.Ok;
    }
}
