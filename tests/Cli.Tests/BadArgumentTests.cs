using Engine.Training;
using Engine.Training.Data;
using Engine.Training.Options;

namespace Engine.Cli.Tests;

/// <summary>
/// Every bad argument is refused before any work, in one line naming the option, the value and the valid range,
/// with the usage exit code; the command line and configuration files share one table of options.
/// </summary>
public sealed class BadArgumentTests : IDisposable
{
    private readonly string folder = Directory.CreateTempSubdirectory("sea-args-").FullName;

    public void Dispose() => Directory.Delete(folder, recursive: true);

    public static TheoryData<string[], string> Refused => new()
    {
        { ["train", "--epochs", "-1"], "--epochs -1: out of range (expected ≥ 1)" },
        { ["train", "--patience", "-1"], "--patience -1: out of range (expected ≥ 0)" },
        { ["train", "--lr", "-1"], "--lr -1: out of range (expected > 0)" },
        { ["train", "--lr", "abc"], "--lr abc: not a finite number (expected a number > 0)" },
        { ["train", "--lr", "nan"], "--lr nan: not a finite number" },
        { ["train", "--reg", "-5", "--model", "lightgcn"], "--reg -5: out of range (expected ≥ 0)" },
        { ["train", "--layers", "-1"], "--layers -1: out of range (expected [0, 16])" },
        { ["train", "--tau", "0"], "--tau 0: out of range" },
        { ["train", "--batch", "0"], "--batch 0: out of range (expected ≥ 1)" },
        { ["train", "--knn-k", "0"], "--knn-k 0: out of range (expected ≥ 1)" },
        { ["train", "--checkpoint-every", "0"], "--checkpoint-every 0: out of range (expected ≥ 1)" },
        { ["train", "--image-weight", "1.5"], "--image-weight 1.5: out of range (expected [0, 1])" },
        { ["train", "--seed", "-3"], "--seed -3: not a seed" },
        { ["train", "--model", "bpr"], $"--model bpr: expected one of {string.Join(", ", RunConfig.Models)}" },
        { ["train", "--distance", "cosine"], "--distance cosine: expected one of club, l2" },
        { ["train", "--eval-embeddings", "stale"], "--eval-embeddings stale: expected one of recompute, last-forward" },
        { ["train", "--reassociate", "maybe"], "--reassociate maybe: expected true or false" },
        { ["train", "--model", "lightgcn", "--alpha", "1"], "--alpha 1: lightgcn does not read this option (only sea, vbpr-sea, freedom-sea do)" },
        { ["train", "--model", "sea", "--warmup-ui", "true"], "--warmup-ui true: sea does not read this option (only alignrec does)" },
        { ["train", "--no-such-option"], "Unrecognized command or argument '--no-such-option'" },
        { ["train", "--lr"], "--lr" },
        { ["recommend", "--checkpoint", "x", "--out", "y", "--top", "0"], "--top 0: out of range (expected [1, 100000])" },
        { ["bench", "train", "--model", "sea", "--epochs", "0"], "--epochs 0: out of range (expected ≥ 1)" },
        { ["synth-features", "--data", "x", "--out", "y", "--noise", "-1"], "--noise -1: out of range (expected ≥ 0)" },
    };

    [Theory]
    [MemberData(nameof(Refused))]
    public void A_bad_argument_gets_one_line_and_the_usage_exit_code(string[] args, string expected)
    {
        var (exit, output) = InProcess.Sea(args);
        Assert.Equal(CliErrors.BadInput, exit);
        var line = Assert.Single(output.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("sea: error: ", line);
        Assert.Contains(expected, line);
    }

    /// <summary>An output the write would refuse is refused first: here before the (missing) checkpoint is even read.</summary>
    [Theory]
    [InlineData("recommend", "--checkpoint", "/no/such/run", "--out", "/dev/null")]
    [InlineData("bench", "sea", "--data", "/no/such/data", "--out", "/dev/null")]
    [InlineData("compare", "/no/such/a.json", "/no/such/b.json", "--markdown", "/dev/null")]
    public void An_output_that_would_be_refused_is_refused_before_any_work(params string[] args)
    {
        var (exit, output) = InProcess.Sea(args);
        Assert.Equal(CliErrors.BadInput, exit);
        Assert.Equal("sea: error: /dev/null: is a character device, not a regular file; refusing to replace it", output.Trim());
    }

    [Fact]
    public void A_configuration_file_is_checked_by_the_same_table()
    {
        var file = Path.Combine(folder, "run.yaml");
        File.WriteAllText(file, "epochs: -1\n");
        var (exit, output) = InProcess.Sea("train", "--config", file);
        Assert.Equal(CliErrors.BadInput, exit);
        Assert.Equal($"sea: error: {file}: option 'epochs' -1: out of range (expected ≥ 1)", output.Trim());

        File.WriteAllText(file, "dimension: 0\n");
        Assert.Contains("option 'dimension' 0: out of range (expected ≥ 1)", InProcess.Sea("train", "--config", file).Output);
    }

    [Fact]
    public void Values_set_in_code_are_refused_by_the_same_checks()
    {
        var e = Assert.Throws<OptionException>(() => Recommender.Create(new RunConfig { Model = "lightgcn", Epochs = 0 }));
        Assert.Equal("epochs 0: out of range (expected ≥ 1)", e.Message);
    }

    [Fact]
    public void Every_option_round_trips_through_its_printed_value_and_is_in_the_help()
    {
        var (_, help) = InProcess.Sea("train", "--help");
        foreach (var option in RunOptions.All)
        {
            Assert.Contains($"--{option.Name}", help);
            foreach (var model in option.Models ?? RunConfig.Models)
            {
                var config = new RunConfig { Model = model };
                if (option.Show(config) is not { } shown) continue;
                Assert.Equal(shown, option.Show(option.Apply(config, option.Name, shown)));
            }
        }
        Assert.Contains("<squared|norm>", help); // enums print as they are typed
        Assert.Contains("last-forward", help);
    }

    [Fact]
    public void Every_setting_of_a_run_is_an_option_of_the_table()
    {
        // A RunConfig property missing from the table could not be set from the command line or a file.
        var covered = RunOptions.All.Select(o => o.Name.Replace("-", "")).ToHashSet();
        var aliases = new Dictionary<string, string>
        {
            ["learningrate"] = "lr", ["learningratefactor"] = "lrfactor", ["learningratestep"] = "lrstep", ["multimodalfeatures"] = "mmfeatures",
        };
        foreach (var property in typeof(RunConfig).GetProperties().Where(p => p.SetMethod is not null))
        {
            if (property.PropertyType.Name.EndsWith("Options")) continue; // a model's own record: its fields are options of their own
            string name = property.Name.ToLowerInvariant();
            Assert.Contains(aliases.GetValueOrDefault(name, name), covered);
        }
    }

    /// <summary>Each model's options record: every field is set by some option (SEA's fixed widths excepted); a record nested in it (FREEDOM+SEA's FREEDOM options) field by field.</summary>
    [Fact]
    public void Every_field_of_a_models_options_is_reachable_from_the_table()
    {
        string[] fixedWidths = ["Embedding", "MlpHidden", "ProjectionHidden", "ProjectionOut", "MiWidth", "ClubHidden", "Layers", "ClubLearningRate"];
        string[] candidates = ["0.5", "0.25", "3", "7", "true", "false", "0", "1e-3"];
        foreach (var record in typeof(RunConfig).GetProperties().Where(p => p.SetMethod is not null && p.PropertyType.Name.EndsWith("Options")))
        {
            string model = RunConfig.Models.Single(m => m.Replace("-", "") == record.Name.ToLowerInvariant()); // VbprSea: vbpr-sea
            var start = new RunConfig { Model = model };
            var reached = new HashSet<string>();
            foreach (var option in RunOptions.All.Where(o => o.AppliesTo(model)))
                foreach (var text in candidates.Concat(option.ValueHint.Split('|')))
                {
                    RunConfig changed;
                    try { changed = option.Apply(start, option.Name, text); }
                    catch (OptionException) { continue; }
                    foreach (var (field, get) in Fields(record.PropertyType))
                        if (!Equals(get(record.GetValue(start)!), get(record.GetValue(changed)!))) reached.Add(field);
                }
            var missing = Fields(record.PropertyType).Select(f => f.Name).Except(reached).Except(fixedWidths).ToList();
            Assert.True(missing.Count == 0, $"{record.Name}: no option sets {string.Join(", ", missing)}");
        }

        static IEnumerable<(string Name, Func<object, object?> Get)> Fields(Type record) => record.GetProperties().SelectMany(f =>
            f.PropertyType.Name.EndsWith("Options")
                ? Fields(f.PropertyType).Select(inner => ($"{f.Name}.{inner.Name}", (Func<object, object?>)(o => inner.Get(f.GetValue(o)!))))
                : [(f.Name, o => f.GetValue(o))]);
    }

    [Fact]
    public void Enum_values_and_the_model_are_accepted_in_any_case()
    {
        var config = RunOptions.Find("reg-form")!.Apply(new RunConfig(), "--reg-form", "NORM");
        Assert.Equal(Engine.Training.Models.RegForm.Norm, config.RegForm);
        config = RunOptions.Find("eval_embeddings")!.Apply(config, "eval_embeddings", "Last_Forward");
        Assert.Equal(Engine.Training.Models.EvalEmbeddings.LastForward, config.Sea.EvalEmbeddings);
        Assert.Equal("lightgcn", RunOptions.Find("model")!.Apply(config, "--model", "LightGCN").Model);
    }

    [Fact]
    public void Train_out_into_a_finished_run_is_refused_unless_overwrite_or_resume()
    {
        var data = Path.Combine(folder, "tiny");
        Directory.CreateDirectory(data);
        var d = SyntheticInteractions.Generate(users: 60, items: 40, groups: 3, seed: 2);
        using (var w = new StreamWriter(Path.Combine(data, "tiny.inter")))
        {
            w.Write("userID\titemID\tx_label\n");
            foreach (var (set, label) in new[] { (d.Train, 0), (d.Valid, 1), (d.Test, 2) })
                for (int r = 0; r < set.Count; r++) w.Write($"{set.Users[r]}\t{set.Items[r]}\t{label}\n");
        }
        var run = Path.Combine(folder, "run");
        string[] train = ["train", "--model", "lightgcn", "--data", data, "--epochs", "1", "--out", run];
        var (first, log) = InProcess.Sea(train);
        Assert.Equal(CliErrors.Ok, first);
        Assert.Contains("device: CPU, ", log); // train says where it runs and which GEMM it uses, before the first epoch
        Assert.Contains(", GEMM by ", log.Split("epoch    1")[0]);
        var metrics = File.ReadAllText(Path.Combine(run, Recommender.MetricsFile));

        var (exit, output) = InProcess.Sea([.. train, "--seed", "5"]);
        Assert.Equal(CliErrors.BadInput, exit);
        Assert.Contains($"--out {run} already holds a run (metrics.json): continue it with --resume {run}, or replace it with --overwrite", output);
        Assert.Equal(metrics, File.ReadAllText(Path.Combine(run, Recommender.MetricsFile)));

        Assert.Equal(CliErrors.Ok, InProcess.Sea([.. train, "--seed", "5", "--overwrite"]).Exit);
        Assert.NotEqual(metrics, File.ReadAllText(Path.Combine(run, Recommender.MetricsFile)));
        Assert.Equal(CliErrors.Ok, InProcess.Sea("train", "--resume", run, "--epochs", "2").Exit);
    }

    [Fact]
    public void Resuming_with_another_value_names_the_option()
    {
        var run = Path.Combine(folder, "run");
        Assert.Equal(CliErrors.Ok, InProcess.Sea("train", "--model", "lightgcn", "--epochs", "1", "--layers", "1", "--out", run).Exit);
        var (exit, output) = InProcess.Sea("train", "--resume", run, "--layers", "2");
        Assert.Equal(CliErrors.BadInput, exit);
        Assert.Contains("--layers is 1 in the checkpoint, 2 here", output);
    }
}
