using System.CommandLine;
using Engine.Training.Options;
using System.Globalization;
using Engine.IO;
using Engine.Training;

namespace Engine.Cli;

/// <summary>
/// <c>sea recommend</c>: each user's top-K items from a checkpoint, training items excluded, one line per user:
/// <c>userID&lt;TAB&gt;item1,item2,…</c> best first, and with <c>--scores</c> a third column of their scores.
/// </summary>
internal static class RecommendCommand
{
    public static Command Create()
    {
        var checkpoint = new Option<string>("--checkpoint") { Description = "a checkpoint file, or a run folder (its best.ckpt)", Required = true };
        var data = new Option<string?>("--data") { Description = "the dataset folder (default: the one the checkpoint was trained on)" };
        var users = new Option<string>("--users") { Description = "all, or comma-separated user IDs", DefaultValueFactory = _ => "all" };
        var top = CliOptions.Int("--top", "items per user", 20, ValidRange.Between(1, 100_000));
        var output = new Option<string>("--out") { Description = "the text file to write", Required = true };
        var scores = new Option<bool>("--scores") { Description = "add a column with each item's score" };
        var device = DeviceChoice.Option();
        var command = new Command("recommend", "Writes each user's top-K items (training items excluded) from a checkpoint.")
        {
            checkpoint, data, users, top, output, scores, device,
        };
        command.SetAction(parse => Run(parse.GetValue(checkpoint)!, parse.GetValue(data), parse.GetValue(users)!, parse.GetValue(top),
            parse.GetValue(output)!, parse.GetValue(scores), parse.GetValue(device)!));
        return command;
    }

    public static int Run(string checkpoint, string? dataFolder, string users, int top, string output, bool withScores, string device)
    {
        AtomicFile.CheckReplaceable(output);
        using var run = Recommender.Load(checkpoint, DeviceChoice.Open(device, Console.Error),
            dataFolder is null ? null : Engine.Training.Data.Dataset.Load(dataFolder));
        var ids = ParseUsers(users, run.Data.Users);
        var lists = run.Recommend(ids, top);
        AtomicFile.Write(output, stream =>
        {
            using var writer = new StreamWriter(stream, leaveOpen: true);
            writer.Write($"# user\ttop {top} items, best first{(withScores ? "\tscores" : "")}\n");
            for (int u = 0; u < ids.Length; u++)
            {
                writer.Write($"{ids[u]}\t{string.Join(',', lists[u].Select(r => r.Item))}");
                if (withScores) writer.Write($"\t{string.Join(',', lists[u].Select(r => r.Score.ToString("R", CultureInfo.InvariantCulture)))}");
                writer.Write('\n');
            }
        });
        Console.WriteLine($"wrote the top {top} items of {ids.Length} users to {output}");
        return CliErrors.Ok;
    }

    internal static int[] ParseUsers(string text, int userCount)
    {
        if (text.Trim().Equals("all", StringComparison.OrdinalIgnoreCase)) return Enumerable.Range(0, userCount).ToArray();
        var ids = new List<int>();
        foreach (var part in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (!int.TryParse(part, NumberStyles.Integer, CultureInfo.InvariantCulture, out int id))
                throw new FormatException($"--users: '{part}' is not a user ID (expected all, or IDs such as 0,17,42)");
            if (id < 0 || id >= userCount)
                throw new ArgumentException($"--users: user {id} does not exist (the dataset has users 0..{userCount - 1})");
            ids.Add(id);
        }
        return ids.Count > 0 ? ids.ToArray() : throw new FormatException("--users: no user IDs given");
    }
}
