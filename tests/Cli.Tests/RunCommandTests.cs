using System.Text.Json;
using Engine.Training;
using Engine.Training.Data;

namespace Engine.Cli.Tests;

/// <summary>train --out / --resume, eval, recommend, grid and the numerical guard, through the command line in-process.</summary>
public sealed class RunCommandTests : IDisposable
{
    private readonly string root = Path.Combine(Path.GetTempPath(), $"sea-cli-{Guid.NewGuid():N}");
    private readonly string data;

    public RunCommandTests()
    {
        data = Path.Combine(root, "tiny");
        WriteDataset(data, SyntheticInteractions.Generate(users: 200, items: 100, groups: 5, seed: 2));
    }

    public void Dispose()
    {
        if (Directory.Exists(root)) Directory.Delete(root, recursive: true);
    }

    /// <summary>A MMRec folder: tiny/tiny.inter with the dataset's three splits.</summary>
    private static void WriteDataset(string folder, Dataset d)
    {
        Directory.CreateDirectory(folder);
        using var w = new StreamWriter(Path.Combine(folder, Path.GetFileName(folder) + ".inter"));
        w.Write("userID\titemID\tx_label\n");
        foreach (var (set, label) in new[] { (d.Train, 0), (d.Valid, 1), (d.Test, 2) })
            for (int r = 0; r < set.Count; r++) w.Write($"{set.Users[r]}\t{set.Items[r]}\t{label}\n");
    }

    private static (int Exit, string Output) Sea(params string[] args) => InProcess.Sea(args);

    private string Train(string name, params string[] extra)
    {
        var folder = Path.Combine(root, name);
        var (exit, output) = Sea(["train", "--model", "lightgcn", "--data", data, "--layers", "1", "--batch", "256", "--out", folder, .. extra]);
        Assert.True(exit == 0, output);
        return folder;
    }

    private static JsonElement Metrics(string folder) =>
        JsonDocument.Parse(File.ReadAllText(Path.Combine(folder, Recommender.MetricsFile))).RootElement;

    [Fact]
    public void Train_out_writes_checkpoints_and_one_log_line_per_epoch_and_resume_continues_to_the_same_end()
    {
        var straight = Train("straight", "--epochs", "5");
        var resumed = Train("resumed", "--epochs", "3");
        Assert.Equal(3, File.ReadAllLines(Path.Combine(resumed, Recommender.EpochLog)).Length);
        Assert.True(File.Exists(Path.Combine(resumed, Recommender.LastCheckpoint)));
        Assert.True(File.Exists(Path.Combine(resumed, Recommender.BestCheckpoint)));

        var (exit, output) = Sea("train", "--resume", resumed, "--epochs", "5");
        Assert.True(exit == 0, output);
        Assert.Contains("after epoch 3", output);
        Assert.Equal(5, Metrics(resumed).GetProperty("epochs_run").GetInt32());
        Assert.Equal(Metrics(straight).GetProperty("test").GetRawText(), Metrics(resumed).GetProperty("test").GetRawText());
        var lines = File.ReadAllLines(Path.Combine(resumed, Recommender.EpochLog));
        Assert.Equal([1, 2, 3, 4, 5], lines.Select(l => JsonDocument.Parse(l).RootElement.GetProperty("epoch").GetInt32()));
        Assert.True(JsonDocument.Parse(lines[0]).RootElement.GetProperty("loss_terms").TryGetProperty("reg", out _));

        (exit, output) = Sea("train", "--resume", resumed, "--layers", "2");
        Assert.Equal(CliErrors.BadInput, exit);
        Assert.Contains("layers is 1 in the checkpoint, 2 here", output);
    }

    [Fact]
    public void Eval_recomputes_the_metrics_of_the_best_checkpoint()
    {
        var run = Train("run", "--epochs", "3");
        var (exit, output) = Sea("eval", "--checkpoint", run, "--split", "test");
        Assert.True(exit == 0, output);
        var test = Metrics(run).GetProperty("test");
        foreach (var key in new[] { "recall@20", "ndcg@20", "map@20" })
            Assert.Matches($@"{key}\s*│\s*{test.GetProperty(key).GetDouble():0.0000}\s*│", output);
    }

    [Fact]
    public void Recommend_writes_one_line_per_user_without_training_items()
    {
        var run = Train("run", "--epochs", "2");
        var file = Path.Combine(root, "rec.tsv");
        var (exit, output) = Sea("recommend", "--checkpoint", run, "--users", "0,7,199", "--top", "10", "--out", file, "--scores");
        Assert.True(exit == 0, output);
        var lines = File.ReadAllLines(file);
        Assert.StartsWith("#", lines[0]);
        var trained = Dataset.Load(data).Train.ItemsByUser(200);
        using var model = Recommender.Load(run);
        Assert.Equal(3, lines.Length - 1);
        foreach (var line in lines.Skip(1))
        {
            var cells = line.Split('\t');
            int user = int.Parse(cells[0]);
            var items = cells[1].Split(',').Select(int.Parse).ToArray();
            var scores = cells[2].Split(',').Select(s => float.Parse(s, System.Globalization.CultureInfo.InvariantCulture)).ToArray();
            Assert.Equal(10, items.Length);
            Assert.Empty(items.Intersect(trained[user]));
            Assert.Equal(scores.OrderByDescending(s => s), scores);
            Assert.Equal(model.Recommend(user, 10).Select(r => r.Item), items);
        }

        (exit, output) = Sea("recommend", "--checkpoint", run, "--users", "0,200", "--out", file);
        Assert.Equal(CliErrors.BadInput, exit);
        Assert.Contains("user 200 does not exist", output);
    }

    [Fact]
    public void Recommend_refuses_to_replace_a_device_and_writes_through_a_link()
    {
        Assert.SkipUnless(OperatingSystem.IsLinux(), "/dev/full is a Linux device node");
        var run = Train("run", "--epochs", "1");
        var (exit, output) = Sea("recommend", "--checkpoint", run, "--users", "0", "--out", "/dev/full");
        Assert.Equal(CliErrors.BadInput, exit);
        Assert.EndsWith("sea: error: /dev/full: is a character device, not a regular file; refusing to replace it", output.Trim());
        Assert.Equal(0, new FileInfo("/dev/full").Length); // a regular file put in its place would hold the recommendations

        var target = Path.Combine(root, "target.tsv");
        var link = Path.Combine(root, "link.tsv");
        File.WriteAllText(target, "old");
        File.CreateSymbolicLink(link, target);
        (exit, output) = Sea("recommend", "--checkpoint", run, "--users", "0", "--out", link);
        Assert.True(exit == 0, output);
        Assert.Equal(target, new FileInfo(link).LinkTarget);
        Assert.StartsWith("# user", File.ReadAllText(target));
    }

    [Fact]
    public void Divergence_exits_non_zero_naming_the_epoch_and_keeps_the_last_good_checkpoint()
    {
        var folder = Path.Combine(root, "nan");
        var (exit, output) = Sea("train", "--model", "lightgcn", "--data", data, "--epochs", "4", "--lr-factor", "1e30", "--lr-step", "1", "--out", folder);
        Assert.Equal(CliErrors.Failed, exit);
        Assert.Contains("training diverged at epoch 2, batch", output);
        Assert.Contains(Path.Combine(folder, Recommender.LastCheckpoint), output);
        (exit, output) = Sea("eval", "--checkpoint", Path.Combine(folder, Recommender.LastCheckpoint));
        Assert.True(exit == 0, output);
        Assert.Contains("checkpoint of epoch 1", output);
    }

    [Fact]
    public void A_corrupted_checkpoint_is_one_clear_error()
    {
        var run = Train("run", "--epochs", "1");
        var path = Path.Combine(run, Recommender.BestCheckpoint);
        File.WriteAllBytes(path, File.ReadAllBytes(path)[..^10]);
        var (exit, output) = Sea("eval", "--checkpoint", run);
        Assert.Equal(CliErrors.BadInput, exit);
        Assert.Contains($"sea: error: {path} is corrupted", output);
        Assert.DoesNotContain("   at ", output); // no stack trace
    }

    [Fact]
    public void Grid_trains_every_point_once_and_ranks_settings_on_valid()
    {
        var grid = Path.Combine(root, "grid.yaml");
        File.WriteAllText(grid, "model: lightgcn\ndata: tiny\nepochs: 2\nbatch: 512\nlayers: [1, 2]\nreg: [0.01, 0.0001]\nout: grid-out\n");
        var (exit, output) = Sea("grid", "--config", grid);
        Assert.True(exit == 0, output);
        var outFolder = Path.Combine(root, "grid-out");
        var points = Directory.GetDirectories(outFolder).Select(p => Path.GetFileName(p)!).Order().ToArray();
        Assert.Equal(["layers=1,reg=0.0001", "layers=1,reg=0.01", "layers=2,reg=0.0001", "layers=2,reg=0.01"], points);
        var valid = points.ToDictionary(p => p, p => Metrics(Path.Combine(outFolder, p)).GetProperty("valid").GetProperty("recall@20").GetDouble());
        var csv = File.ReadAllLines(Path.Combine(outFolder, GridSearch.SummaryCsv));
        Assert.Equal(valid.OrderByDescending(v => v.Value).First().Key, csv[1].Split('"')[1]);
        Assert.True(File.Exists(Path.Combine(outFolder, GridSearch.SummaryMarkdown)));

        // Run again: finished points are read back; a point interrupted after its first epoch resumes from there.
        var interrupted = Path.Combine(outFolder, "layers=2,reg=0.01");
        File.Delete(Path.Combine(interrupted, Recommender.MetricsFile));
        (exit, output) = Sea("grid", "--config", grid);
        Assert.True(exit == 0, output);
        Assert.Equal(3, output.Split('\n').Count(l => l.Contains("finished before")));
        Assert.Contains("layers=2,reg=0.01: resuming after epoch 2", output);

        // A grid split over files shares the folders: a list of one value still names them.
        var part = Path.Combine(root, "part.json");
        File.WriteAllText(part, """{ "model": "lightgcn", "data": "tiny", "epochs": 2, "batch": 512, "layers": [2], "reg": [0.01, 0.0001], "out": "grid-out" }""");
        (exit, output) = Sea("grid", "--config", part);
        Assert.True(exit == 0, output);
        Assert.Equal(2, output.Split('\n').Count(l => l.Contains("finished before")));
        Assert.DoesNotContain(": training", output);
    }

    [Fact]
    public void The_summary_is_ranked_on_valid_even_when_test_disagrees()
    {
        static (GridPoint, MetricsReport) Point(string layers, ulong seed, double valid, double test) =>
            (new GridPoint([("layers", layers), ("seed", seed.ToString())], new RunConfig()),
             new MetricsReport("lightgcn", "d", seed, 1, 1, new Dictionary<string, double> { ["recall@20"] = valid },
                 GridSearch.TestColumns.ToDictionary(c => c, _ => test), 0, 0, "cpu", new RunConfig(), []));
        var rows = GridSearch.Summarise([Point("1", 1, 0.10, 0.30), Point("1", 2, 0.12, 0.28), Point("2", 1, 0.20, 0.05), Point("2", 2, 0.18, 0.07)]);
        Assert.Equal(["layers=2", "layers=1"], rows.Select(r => r.Setting));
        Assert.Equal(0.19, rows[0].ValidRecall20, 12);
        Assert.Equal(0.06, rows[0].Test["recall@20"], 12);
        Assert.Equal(Math.Sqrt(2) * 0.01, rows[0].TestStd["recall@20"], 12);
        Assert.Equal(2, rows[0].Seeds);
    }
}
