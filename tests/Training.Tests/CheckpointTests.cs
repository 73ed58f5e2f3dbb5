using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Engine.Autograd;
using Engine.Cpu;
using Engine.Training.Checkpoints;
using Engine.Training.Data;
using Engine.Training.Models;
using Engine.Training.Sampling;

namespace Engine.Training.Tests;

public sealed class CheckpointTests : IDisposable
{
    private static readonly Dataset Small = SyntheticInteractions.Generate(users: 300, items: 150, groups: 6, seed: 5);

    /// <summary>Small with semi-synthetic features, for SEA, FREEDOM, AlignRec and DRepMRec.</summary>
    internal static readonly Dataset SmallWithFeatures = WithFeatures(Small);

    private readonly string folder = Path.Combine(Path.GetTempPath(), $"sea-ckpt-{Guid.NewGuid():N}");

    public void Dispose()
    {
        if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true);
    }

    private static Dataset WithFeatures(Dataset d)
    {
        var f = FeatureSynthesizer.Synthesize(d.Users, d.Items, d.Train,
            new SynthesisOptions(ImageDim: 32, TextDim: 16, GenericRank: 4, UniqueRank: 2, Noise: 0.1, Seed: 3, MultimodalDim: 24));
        return new Dataset(d.Name, d.Folder, d.Users, d.Items, d.Train, d.Valid, d.Test, f.Image, f.Text, multimodal: f.Multimodal);
    }

    private static RunConfig LightGcnConfig(int epochs = 6) =>
        new() { Model = "lightgcn", Layers = 2, Reg = 1e-3, LearningRate = 5e-3, Epochs = epochs, Batch = 256, Patience = 50, Seed = 7 };

    private static RunConfig SeaConfig(int epochs = 4) =>
        new() { Model = "sea", Layers = 1, LearningRate = 1e-3, Epochs = epochs, Batch = 512, Patience = 50, Seed = 7, Sea = new SeaOptions { ClubSteps = 3, KnnK = 5 } };

    /// <summary>
    /// VBPR and VBPR+SEA at their own defaults but for CLUB's inner steps: VBPR+SEA's state then includes the heads'
    /// running statistics, CLUB, and the dropout generator that evaluation draws from as well.
    /// </summary>
    private static RunConfig VbprConfig(string model, int epochs = 4) =>
        new() { Model = model, LearningRate = 5e-3, Epochs = epochs, Batch = 512, Patience = 50, Seed = 7, VbprSea = new VbprSeaOptions { ClubSteps = 3 } };

    /// <summary>FREEDOM with λ > 0, so the feature copies and projections train (and their optimiser state matters).</summary>
    private static RunConfig FreedomConfig(int epochs = 4) =>
        new() { Model = "freedom", LearningRate = 1e-3, Epochs = epochs, Batch = 512, Patience = 50, Seed = 7, Freedom = new FreedomOptions { RegWeight = 1e-3, KnnK = 5 } };

    /// <summary>
    /// FREEDOM+SEA with λ > 0 (SEA's terms then reach the metrics) and a short inner CLUB loop: its state adds the heads'
    /// running statistics and CLUB's network, optimiser and permutations to FREEDOM's.
    /// </summary>
    private static RunConfig FreedomSeaConfig(int epochs = 4) =>
        new()
        {
            Model = "freedom-sea", LearningRate = 1e-3, Epochs = epochs, Batch = 512, Patience = 50, Seed = 7,
            FreedomSea = new FreedomSeaOptions { Freedom = new FreedomOptions { RegWeight = 1e-3, KnnK = 5 }, ClubSteps = 3 },
        };

    /// <summary>AlignRec or DRepMRec with a learning rate that moves them visibly in a few epochs.</summary>
    private static RunConfig TwoLineConfig(string model, int epochs = 4) =>
        new() { Model = model, LearningRate = 5e-3, Epochs = epochs, Batch = 256, Patience = 50, Seed = 7, AlignRec = new() { KnnK = 5 }, DRepMRec = new() { KnnK = 5 } };

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private string Run(string name) => Path.Combine(folder, name);

    /// <summary>Everything an epoch reports except its timings, which legitimately differ between runs.</summary>
    private static string Outcome(IEnumerable<EpochReport> history) =>
        JsonSerializer.Serialize(history.Select(h => h with { TrainSeconds = 0, EvalSeconds = 0 }), TrainingJson.Compact);

    /// <summary>Throws from the first batch of <paramref name="epoch"/>: a crash after the previous epoch's checkpoint.</summary>
    private sealed class CrashAt(int epoch) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value)
        {
            if (value.Epoch == epoch && value.Batch == 1 && value.LastEpoch?.Epoch != epoch) throw new OperationCanceledException("killed");
        }
    }

    public static TheoryData<string, int, int> KillPoints => new()
    {
        { "lightgcn", 1, 1 }, { "lightgcn", 3, 1 }, { "lightgcn", 5, 1 }, { "sea", 1, 1 }, { "sea", 3, 1 }, { "freedom", 1, 1 }, { "freedom", 3, 1 },
        { "vbpr", 2, 1 }, { "vbpr-sea", 1, 1 }, { "vbpr-sea", 3, 1 }, { "freedom-sea", 1, 1 }, { "freedom-sea", 3, 1 },
        { "lightgcn", 5, 4 }, // checkpoints every 4 epochs (and at improvements): the resumed run repeats the epochs since
        { "alignrec", 1, 1 }, { "alignrec", 3, 1 }, { "drepmrec", 2, 1 },
    };

    [Theory]
    [MemberData(nameof(KillPoints))]
    public void A_run_killed_after_an_epoch_and_resumed_ends_exactly_as_the_uninterrupted_run(string model, int killedAfter, int checkpointEvery)
    {
        var config = model switch
        {
            "sea" => SeaConfig(), "freedom" => FreedomConfig(), "freedom-sea" => FreedomSeaConfig(), "vbpr" or "vbpr-sea" => VbprConfig(model),
            "lightgcn" => LightGcnConfig(), _ => TwoLineConfig(model),
        };
        var data = model == "lightgcn" ? Small : SmallWithFeatures;
        TrainingResult straight;
        using (var run = Recommender.Create(config, data: data)) straight = run.Train(Run("straight"), cancel: Ct);

        using (var run = Recommender.Create(config, data: data))
            Assert.Throws<OperationCanceledException>(() => run.Train(Run("killed"), new CrashAt(killedAfter + 1), Ct, checkpointEvery: checkpointEvery));
        int saved = Checkpoint.Load(Path.Combine(Run("killed"), Recommender.LastCheckpoint)).Header.Epoch;
        if (checkpointEvery == 1) Assert.Equal(killedAfter, saved);
        else Assert.InRange(saved, 1, killedAfter);

        TrainingResult resumed;
        using (var run = Recommender.Load(Run("killed"), data: data, latest: true))
        {
            Assert.Equal(saved, run.Trainer.EpochsDone);
            resumed = run.Train(Run("killed"), cancel: Ct);
        }
        Assert.Equal(Outcome(straight.History), Outcome(resumed.History));
        Assert.Equal(straight.BestEpoch, resumed.BestEpoch);
        Assert.Equal(straight.Test, resumed.Test);
        // The log of the resumed folder is the uninterrupted run's, line for line (timings aside).
        var log = File.ReadAllLines(Path.Combine(Run("killed"), Recommender.EpochLog))
            .Select(l => JsonSerializer.Deserialize<EpochReport>(l, TrainingJson.Compact)!);
        Assert.Equal(Outcome(straight.History), Outcome(log));
    }

    [Fact]
    public void Best_checkpoint_holds_the_best_valid_epoch_and_reproduces_its_metrics()
    {
        TrainingResult result;
        using (var run = Recommender.Create(LightGcnConfig(), data: Small)) result = run.Train(Run("a"), cancel: Ct);
        var best = Checkpoint.Load(Path.Combine(Run("a"), Recommender.BestCheckpoint));
        Assert.Equal(result.BestEpoch, best.Header.Epoch);
        using var loaded = Recommender.Load(Run("a"), data: Small);
        var (valid, test) = loaded.Evaluate();
        Assert.Equal(result.Valid, valid);
        Assert.Equal(result.Test, test);
    }

    [Fact]
    public void Restoring_the_best_epoch_makes_the_model_reproduce_the_reported_metrics()
    {
        // A learning rate high enough to overfit this small set: the best epoch comes well before the last.
        var config = LightGcnConfig(12) with { LearningRate = 0.05 };
        using var run = Recommender.Create(config, data: Small);
        var result = run.Train(cancel: Ct, restoreBest: true);
        Assert.True(result.BestEpoch < result.EpochsRun, $"best epoch {result.BestEpoch} of {result.EpochsRun}: nothing to restore");
        var (valid, test) = run.Evaluate();
        Assert.Equal(result.Valid, valid);
        Assert.Equal(result.Test, test);
    }

    [Fact]
    public void A_corrupted_checkpoint_is_refused()
    {
        using (var run = Recommender.Create(LightGcnConfig(2), data: Small)) run.Train(Run("a"), cancel: Ct);
        var path = Path.Combine(Run("a"), Recommender.LastCheckpoint);
        var bytes = File.ReadAllBytes(path);
        bytes[bytes.Length / 2] ^= 0x40;
        File.WriteAllBytes(path, bytes);
        var e = Assert.Throws<CheckpointException>(() => Checkpoint.Load(path));
        Assert.Contains("corrupted", e.Message);
        Assert.Contains(path, e.Message);

        File.WriteAllBytes(path, bytes.AsSpan(0, bytes.Length - 100).ToArray());
        Assert.Contains("corrupted", Assert.Throws<CheckpointException>(() => Checkpoint.Load(path)).Message);

        File.WriteAllText(path, "userID\titemID\tx_label\n0\t1\t0\n");
        Assert.Contains("not a sea checkpoint", Assert.Throws<CheckpointException>(() => Checkpoint.Load(path)).Message);
    }

    [Fact]
    public void A_checkpoint_of_another_dataset_model_or_engine_version_is_refused()
    {
        using (var run = Recommender.Create(LightGcnConfig(1), data: Small)) run.Train(Run("a"), cancel: Ct);
        var path = Path.Combine(Run("a"), Recommender.LastCheckpoint);

        var other = SyntheticInteractions.Generate(users: 300, items: 150, groups: 6, seed: 6);
        Assert.Contains("trained on dataset", Assert.Throws<CheckpointException>(() => Recommender.Load(path, data: other)).Message);

        var e = Assert.Throws<CheckpointException>(() => Checkpoint.Load(path).CheckMatches("sea", Small.Name, "x"));
        Assert.Contains("is a checkpoint of model 'lightgcn', not 'sea'", e.Message);
        Assert.Contains("belongs to another run", Assert.Throws<CheckpointException>(() =>
            Recommender.Load(path, data: Small, config: LightGcnConfig(1) with { Layers = 3 })).Message);

        RewriteHeader(path, header => header["engine_version"] = "0.0.1");
        var version = Assert.Throws<CheckpointException>(() => Checkpoint.Load(path));
        Assert.Contains("engine version 0.0.1", version.Message);
        Assert.Contains(Checkpoint.EngineVersion, version.Message);
    }

    /// <summary>Edits a checkpoint's header as a foreign writer would, with a valid checksum (the documented layout).</summary>
    private static void RewriteHeader(string path, Action<JsonObject> edit)
    {
        var bytes = File.ReadAllBytes(path);
        int length = BitConverter.ToInt32(bytes, 8);
        var header = JsonNode.Parse(bytes.AsSpan(12, length))!.AsObject();
        edit(header);
        var json = Encoding.UTF8.GetBytes(header.ToJsonString());
        var body = bytes.AsSpan(0, 8).ToArray().Concat(BitConverter.GetBytes(json.Length)).Concat(json)
            .Concat(bytes.AsSpan(12 + length, bytes.Length - 12 - length - 32).ToArray()).ToArray();
        File.WriteAllBytes(path, body.Concat(SHA256.HashData(body)).ToArray());
    }

    [Fact]
    public void Divergence_stops_training_naming_epoch_and_batch_and_keeps_the_last_good_checkpoint()
    {
        // The schedule multiplies the learning rate by 1e30 from epoch 2: the first epoch is fine, the second explodes.
        var config = LightGcnConfig(5) with { LearningRateFactor = 1e30, LearningRateStep = 1 };
        using var run = Recommender.Create(config, data: Small);
        var e = Assert.Throws<TrainingDivergedException>(() => run.Train(Run("a"), cancel: Ct));
        Assert.Equal(2, e.Epoch);
        Assert.Contains("epoch 2, batch", e.Message);
        Assert.Contains("the last good checkpoint (epoch 1)", e.Message);
        Assert.Equal(1, Checkpoint.Load(Path.Combine(Run("a"), Recommender.LastCheckpoint)).Header.Epoch);
        Assert.False(File.Exists(Path.Combine(Run("a"), Recommender.MetricsFile)));
    }

    [Fact]
    public void A_non_finite_loss_term_is_named_with_its_epoch_and_batch()
    {
        var config = LightGcnConfig(3);
        using var inner = (LightGcn)config.BuildModel(Small, CpuBackend.Shared);
        using var poisoned = new PoisonedAt(inner, epochBatch: 10);
        var trainer = new Trainer(Small, poisoned, config.TrainerOptions);
        int batchesPerEpoch = (Small.Train.Count + config.Batch - 1) / config.Batch;
        var e = Assert.Throws<TrainingDivergedException>(() => trainer.Train(cancel: Ct));
        Assert.Equal((10 - 1) / batchesPerEpoch + 1, e.Epoch);
        Assert.Equal((10 - 1) % batchesPerEpoch + 1, e.Batch);
        Assert.Contains("loss term 'poison' became NaN", e.Message);
    }

    [Fact]
    public void A_parameter_that_stops_being_finite_is_named_with_its_epoch_and_batch()
    {
        var config = LightGcnConfig(3);
        using var inner = (LightGcn)config.BuildModel(Small, CpuBackend.Shared);
        using var poisoned = new PoisonedAt(inner, epochBatch: int.MaxValue, parameterAt: 4);
        var e = Assert.Throws<TrainingDivergedException>(() => new Trainer(Small, poisoned, config.TrainerOptions).Train(cancel: Ct));
        Assert.Equal((1, 4), (e.Epoch, e.Batch));
        Assert.Contains("parameter 'item_embedding' stopped being finite after the update", e.Message);
    }

    /// <summary>LightGCN whose n-th loss gets a NaN term, or whose item table gets an ∞ after the m-th backward.</summary>
    private sealed class PoisonedAt(LightGcn inner, int epochBatch, int parameterAt = int.MaxValue) : RecommenderModel
    {
        private int calls, backwards;
        public override string Name => "poisoned";
        public override IReadOnlyList<Var> Parameters => inner.Parameters;
        public override (Tensor Users, Tensor Items) RankingEmbeddings() => inner.RankingEmbeddings();

        protected override Var ComputeLoss(TrainingBatch batch)
        {
            var loss = inner.Loss(batch);
            return ++calls == epochBatch ? loss + Term("poison", loss * double.NaN) : loss;
        }

        public override void AfterBackward(TrainingBatch batch)
        {
            if (++backwards == parameterAt) inner.Parameters[1].Value.Backend.Fill(inner.Parameters[1].Value, double.PositiveInfinity);
        }
    }

    [Fact]
    public void Recommendations_exclude_training_items_and_are_the_top_scores()
    {
        using var run = Recommender.Create(LightGcnConfig(2), data: Small);
        run.Train(cancel: Ct);
        var users = new[] { 0, 17, 299 };
        var lists = run.Recommend(users, 20);
        var trained = Small.Train.ItemsByUser(Small.Users);
        var (u, i) = run.Model.RankingEmbeddings();
        using (u)
        using (i)
        {
            var userTable = u.ToArray<float>();
            var itemTable = i.ToArray<float>();
            for (int r = 0; r < users.Length; r++)
            {
                var expected = Enumerable.Range(0, Small.Items).Except(trained[users[r]])
                    .Select(item => (Item: item, Score: Score(userTable, itemTable, users[r], item, u.Cols)))
                    .OrderByDescending(x => x.Score).ThenBy(x => x.Item).Take(20).ToList();
                Assert.Equal(expected.Select(x => x.Item), lists[r].Select(x => x.Item));
                Assert.Empty(lists[r].Select(x => x.Item).Intersect(trained[users[r]]));
                Assert.Equal(expected.Select(x => x.Score), lists[r].Select(x => x.Score), (a, b) => Math.Abs(a - b) <= 1e-5f * Math.Max(1, Math.Abs(a)));
            }
        }
        Assert.Throws<ArgumentException>(() => run.Recommend([Small.Users], 5));
    }

    private static float Score(float[] users, float[] items, int user, int item, int d)
    {
        double s = 0;
        for (int c = 0; c < d; c++) s += (double)users[user * d + c] * items[item * d + c];
        return (float)s;
    }
}
