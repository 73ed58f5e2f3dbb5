using System.Text.Json;

namespace Engine.Cli.Tests;

public class SeedsAndCompareTests
{
    private static Dictionary<ulong, Dictionary<string, double>> Runs(params (ulong Seed, double Recall)[] runs) =>
        runs.ToDictionary(r => r.Seed, r => new Dictionary<string, double> { ["recall@20"] = r.Recall });

    /// <summary>
    /// d = B − A = [0.1, 0.05, 0.15]: mean 0.1, sd 0.05, t = 0.1 / (0.05/√3) = 2√3. With 2 degrees of freedom the t
    /// distribution has the closed form F(t) = ½ + t / (2·sqrt(2 + t²)), so p = 1 − t / sqrt(2 + t²).
    /// </summary>
    [Fact]
    public void Paired_t_test_matches_the_closed_form()
    {
        var a = Runs((1, 0.1), (2, 0.2), (3, 0.3));
        var b = Runs((1, 0.2), (2, 0.25), (3, 0.45), (4, 0.9)); // seed 4 has no partner: ignored
        var row = Assert.Single(CompareCommand.Compare(a, b));
        double t = 2 * Math.Sqrt(3);
        Assert.Equal(3, row.Seeds);
        Assert.Equal(0.2, row.MeanA, 12);
        Assert.Equal(0.3, row.MeanB, 12);
        Assert.Equal(t, row.T, 9);
        Assert.Equal(1 - t / Math.Sqrt(2 + t * t), row.P, 9);
    }

    [Fact]
    public void Compare_refuses_runs_without_common_seeds()
    {
        Assert.Throws<FormatException>(() => CompareCommand.Compare(Runs((1, 0.1)), Runs((2, 0.1))));
    }

    [Fact]
    public void Compare_of_several_runs_writes_one_row_per_run_against_the_first()
    {
        var folder = Directory.CreateTempSubdirectory("sea-compare-").FullName;
        try
        {
            string Write(string name, string model, params (ulong Seed, double Recall, int Best)[] runs)
            {
                Directory.CreateDirectory(Path.Combine(folder, name));
                var path = Path.Combine(folder, name, "metrics.json");
                File.WriteAllText(path, JsonSerializer.Serialize(new
                {
                    runs = runs.Select(r => new Dictionary<string, object>
                    {
                        ["model"] = model, ["seed"] = r.Seed, ["best_epoch"] = r.Best, ["epochs_run"] = 10, ["train_seconds_per_epoch"] = 2.5,
                        ["test"] = new Dictionary<string, double> { ["recall@20"] = r.Recall, ["ndcg@20"] = r.Recall / 2 },
                    }),
                }));
                return path;
            }
            var first = Write("sea", "sea", (1, 0.1, 3), (2, 0.2, 4), (3, 0.3, 5));
            var second = Write("vbpr", "vbpr", (1, 0.2, 6), (2, 0.25, 7), (3, 0.45, 8));
            var third = Write("freedom", "freedom", (1, 0.1, 2), (2, 0.2, 2), (3, 0.3, 2));
            var markdown = Path.Combine(folder, "table.md");
            var (exit, output) = InProcess.Sea("compare", first, second, third, "--markdown", markdown);
            Assert.True(exit == CliErrors.Ok, output);
            var lines = File.ReadAllLines(markdown);
            Assert.Equal(5, lines.Length); // header, rule, three runs
            Assert.Equal("| sea | sea | 1,2,3 | 0.2000 ± 0.1000 | 0.1000 ± 0.0500 | — | — | 3 (10), 4 (10), 5 (10) | 2.50 |", lines[2]);
            // B − A = [0.1, 0.05, 0.15]: p = 1 − t/sqrt(2 + t²) with t = 2√3 (the closed form above) ≈ 0.074.
            Assert.StartsWith("| vbpr | vbpr | 1,2,3 | 0.3000 ± 0.1323 | 0.1500 ± 0.0661 | +0.1000 (0.074) |", lines[3]);
            Assert.Contains("| +0.0000 (", lines[4]);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public void Seeds_run_each_seed_and_summarise_mean_and_std()
    {
        var folder = Path.Combine(Path.GetTempPath(), $"sea-seeds-{Guid.NewGuid():N}");
        try
        {
            var config = new Engine.Training.RunConfig { Model = "lightgcn", Epochs = 2, Layers = 1 };
            Assert.Equal(CliErrors.Ok, TrainCommand.RunSeeds(config, [3, 4], "cpu", folder));
            var perSeed = new[] { 3UL, 4UL }.Select(s =>
                JsonDocument.Parse(File.ReadAllText(Path.Combine(folder, $"seed-{s}", "metrics.json"))).RootElement
                    .GetProperty("test").GetProperty("recall@20").GetDouble()).ToArray();
            using var summary = JsonDocument.Parse(File.ReadAllText(Path.Combine(folder, "metrics.json")));
            var stats = summary.RootElement.GetProperty("test").GetProperty("recall@20");
            Assert.Equal(perSeed.Average(), stats.GetProperty("mean").GetDouble(), 12);
            Assert.Equal(Math.Abs(perSeed[0] - perSeed[1]) / Math.Sqrt(2), stats.GetProperty("std").GetDouble(), 12);
            // The summary is itself an input of 'sea compare', paired by seed.
            Assert.Equal([3UL, 4UL], CompareCommand.Read(Path.Combine(folder, "metrics.json")).Keys.Order());
        }
        finally
        {
            if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public void Seeds_run_again_continue_their_runs_and_add_new_seeds()
    {
        var (grown, fresh) = (Path.Combine(Path.GetTempPath(), $"sea-seeds-{Guid.NewGuid():N}"), Path.Combine(Path.GetTempPath(), $"sea-seeds-{Guid.NewGuid():N}"));
        try
        {
            var config = new Engine.Training.RunConfig { Model = "lightgcn", Epochs = 2, Layers = 1, Patience = 50 };
            Assert.Equal(CliErrors.Ok, TrainCommand.RunSeeds(config, [3], "cpu", grown));
            // More epochs and one more seed: seed 3 goes on from epoch 2, seed 4 starts.
            Assert.Equal(CliErrors.Ok, TrainCommand.RunSeeds(config with { Epochs = 4 }, [3, 4], "cpu", grown));
            Assert.Equal(CliErrors.Ok, TrainCommand.RunSeeds(config with { Epochs = 4 }, [3, 4], "cpu", fresh));
            foreach (var seed in new[] { 3, 4 })
                Assert.Equal(File.ReadAllText(Path.Combine(fresh, $"seed-{seed}", "epochs.jsonl")).Split('\n').Select(Metrics),
                             File.ReadAllText(Path.Combine(grown, $"seed-{seed}", "epochs.jsonl")).Split('\n').Select(Metrics));
            Assert.Equal(4, File.ReadAllLines(Path.Combine(grown, "seed-3", "epochs.jsonl")).Length);
            // A continued seed must be the same run: another setting in the same folder is refused.
            Assert.ThrowsAny<Exception>(() => TrainCommand.RunSeeds(config with { Epochs = 4, Layers = 2 }, [3], "cpu", grown));
        }
        finally
        {
            foreach (var folder in new[] { grown, fresh })
                if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true);
        }

        // An epoch's line without its wall-clock seconds, which differ between runs.
        static string Metrics(string line) => line.Length == 0 ? "" :
            string.Join(",", JsonDocument.Parse(line).RootElement.EnumerateObject().Where(p => !p.Name.Contains("seconds")).Select(p => p.ToString()));
    }

    [Fact]
    public void Seeds_must_be_distinct_numbers()
    {
        Assert.Equal([999UL, 1UL, 2UL], SeedSummary.ParseSeeds("999, 1,2"));
        Assert.Throws<FormatException>(() => SeedSummary.ParseSeeds("1,x"));
        Assert.Throws<FormatException>(() => SeedSummary.ParseSeeds("1,1"));
    }
}

public class ConfigFileTests
{
    [Fact]
    public void Yaml_and_json_files_set_options_and_unknown_keys_are_errors()
    {
        var folder = Directory.CreateTempSubdirectory("sea-config-").FullName;
        try
        {
            var yaml = Path.Combine(folder, "run.yaml");
            File.WriteAllText(yaml, "model: lightgcn\nlayers: 3\nreg: 1e-3\nlr: 0.005\nseed: 7\n");
            var c = Engine.Training.RunConfigFile.Load(yaml);
            Assert.Equal(("lightgcn", 3, 1e-3, 0.005, 7UL), (c.Model, c.Layers, c.Reg, c.LearningRate!.Value, c.Seed));

            var json = Path.Combine(folder, "run.json");
            File.WriteAllText(json, """{ "alpha": 0.1, "knn-k": 5, "reassociate": false, "club_pairing": "paper", "distance": "l2", "model": "sea" }""");
            var j = Engine.Training.RunConfigFile.Load(json);
            Assert.Equal(("sea", 0.1, 5, false), (j.Model, j.Sea.Alpha, j.Sea.KnnK, j.Sea.Reassociate));
            Assert.Equal(Engine.Training.Models.ClubPairing.Paper, j.Sea.ClubPairing);
            Assert.Equal(Engine.Training.Models.Distance.L2, j.Sea.Distance); // applied after the model, which comes last in the file

            File.WriteAllText(yaml, "layerz: 3\n");
            var e = Assert.Throws<Engine.Training.Data.DataFormatException>(() => Engine.Training.RunConfigFile.Load(yaml));
            Assert.Contains("layerz", e.Message);
            Assert.Contains("run.yaml", e.Message);
            File.WriteAllText(yaml, "layers: many\n");
            Assert.Contains("layers", Assert.Throws<Engine.Training.Data.DataFormatException>(() => Engine.Training.RunConfigFile.Load(yaml)).Message);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}
