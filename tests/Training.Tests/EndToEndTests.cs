using Engine.Cpu;
using Engine.Training.Data;
using Engine.Training.Graph;
using Engine.Training.Models;
using Engine.Training.Sampling;

namespace Engine.Training.Tests;

public class EndToEndTests
{
    private static readonly Dataset Small = SyntheticInteractions.Generate(users: 600, items: 300, groups: 10, seed: 11);

    private static TrainingResult Train(string model, ulong seed = 999, int epochs = 15)
    {
        var config = new RunConfig { Model = model, Layers = 2, Reg = 1e-4, LearningRate = 5e-3, Epochs = epochs, Batch = 512, Seed = seed };
        using var m = config.BuildModel(Small, CpuBackend.Shared);
        return new Trainer(Small, m, config.TrainerOptions).Train(cancel: TestContext.Current.CancellationToken);
    }

    private static readonly Lazy<TrainingResult> MostPopOnBuiltIn = new(() => TrainOnBuiltIn("mostpop"));

    private static TrainingResult TrainOnBuiltIn(string model)
    {
        using var run = Recommender.Create(new RunConfig { Model = model, Epochs = 3 });
        return run.Train(cancel: TestContext.Current.CancellationToken);
    }

    public static TheoryData<string> TrainedModels => new(RunConfig.Models.Where(m => m != "mostpop"));

    /// <summary>`sea train --model M --epochs 3` on the built-in dataset, each model at its published defaults.</summary>
    [Theory]
    [MemberData(nameof(TrainedModels))]
    public void Three_epochs_on_the_built_in_dataset_beat_MostPop(string model)
    {
        var result = TrainOnBuiltIn(model);
        var mostPop = MostPopOnBuiltIn.Value;
        foreach (var metric in new[] { "recall@20", "ndcg@20" })
            Assert.True(result.Test[metric] > mostPop.Test[metric], $"{model} test {metric} {result.Test[metric]:0.0000} vs MostPop {mostPop.Test[metric]:0.0000}");
    }

    [Fact]
    public void LightGcn_beats_MostPop_by_a_clear_margin()
    {
        var lightGcn = Train("lightgcn");
        var mostPop = Train("mostpop");
        Assert.True(lightGcn.Test["recall@20"] > 2 * mostPop.Test["recall@20"],
            $"LightGCN test recall@20 {lightGcn.Test["recall@20"]:0.0000} vs MostPop {mostPop.Test["recall@20"]:0.0000}");
        Assert.True(lightGcn.Test["ndcg@20"] > 2 * mostPop.Test["ndcg@20"]);
    }

    [Fact]
    public void The_same_seed_gives_the_same_metrics_and_another_seed_does_not()
    {
        var first = Train("lightgcn", seed: 5, epochs: 3);
        var again = Train("lightgcn", seed: 5, epochs: 3);
        var other = Train("lightgcn", seed: 6, epochs: 3);
        Assert.Equal(first.Test, again.Test);
        Assert.Equal(first.History.Select(h => h.MeanLoss), again.History.Select(h => h.MeanLoss));
        Assert.NotEqual(first.History[0].MeanLoss, other.History[0].MeanLoss);
    }

    [Fact]
    public void Early_stopping_reports_the_test_metrics_of_the_best_valid_epoch()
    {
        var result = Train("lightgcn", epochs: 12);
        var best = result.History.Single(h => h.Epoch == result.BestEpoch);
        Assert.Equal(result.History.Max(h => h.Valid["recall@20"]), best.Valid["recall@20"]);
        Assert.Equal(best.Test, result.Test);
        // The first epoch reaching the maximum wins: later ties are not improvements.
        Assert.Equal(result.History.First(h => h.Valid["recall@20"] == best.Valid["recall@20"]).Epoch, result.BestEpoch);
    }

    [Fact]
    public void The_learning_rate_follows_mmrecs_factor_schedule()
    {
        var config = new RunConfig { Model = "lightgcn", Layers = 1, LearningRate = 0.01, LearningRateFactor = 0.5, LearningRateStep = 2, Epochs = 3, Batch = 4096 };
        using var model = config.BuildModel(Small, CpuBackend.Shared);
        var history = new Trainer(Small, model, config.TrainerOptions).Train(cancel: TestContext.Current.CancellationToken).History;
        Assert.Equal([0.01, 0.01 * Math.Pow(0.5, 0.5), 0.005], history.Select(h => h.LearningRate), new Tolerance());
    }

    private sealed class Tolerance : IEqualityComparer<double>
    {
        public bool Equals(double x, double y) => Math.Abs(x - y) <= 1e-15;
        public int GetHashCode(double obj) => 0;
    }

    [Fact]
    public void Training_stops_after_patience_epochs_without_improvement()
    {
        var config = new RunConfig { Model = "lightgcn", Layers = 1, LearningRate = 0.5, Epochs = 200, Patience = 2, Batch = 4096, Seed = 1 };
        using var model = config.BuildModel(Small, CpuBackend.Shared);
        var result = new Trainer(Small, model, config.TrainerOptions).Train(cancel: TestContext.Current.CancellationToken);
        Assert.True(result.EpochsRun < 200);
        Assert.Equal(result.BestEpoch + 3, result.EpochsRun); // MMRec stops once more than `patience` epochs fail to improve
    }
}

public class SamplerAndGraphTests
{
    [Fact]
    public void Sampler_covers_every_pair_once_per_epoch_with_valid_negatives()
    {
        var d = SyntheticInteractions.Generate(users: 200, items: 100, seed: 3);
        var sampler = new BprSampler(d.Users, d.Train.Users, d.Train.Items, 64, new Rng(1));
        var trained = d.Train.ItemsByUser(d.Users);
        var seenItems = d.Train.Items.ToHashSet();
        var pairs = new List<(int, int)>();
        foreach (var batch in sampler.Epoch())
        {
            Assert.True(batch.Count <= 64);
            for (int b = 0; b < batch.Count; b++)
            {
                pairs.Add((batch.Users[b], batch.PositiveItems[b]));
                Assert.DoesNotContain(batch.NegativeItems[b], trained[batch.Users[b]]);
                Assert.Contains(batch.NegativeItems[b], seenItems);
            }
        }
        var expected = d.Train.Users.Zip(d.Train.Items).Order().ToList();
        Assert.Equal(expected, pairs.Order().ToList());
        Assert.Equal(sampler.BatchesPerEpoch, (d.Train.Count + 63) / 64);
    }

    [Fact]
    public void Sampler_is_reproducible_from_its_seed()
    {
        var d = SyntheticInteractions.Generate(users: 100, items: 80, seed: 4);
        List<int> Draw(ulong seed) => new BprSampler(d.Users, d.Train.Users, d.Train.Items, 32, new Rng(seed))
            .Epoch().SelectMany(b => b.NegativeItems.Concat(b.Users)).ToList();
        Assert.Equal(Draw(9), Draw(9));
        Assert.NotEqual(Draw(9), Draw(10));
    }

    [Fact]
    public void Normalized_adjacency_matches_its_definition_with_an_isolated_item()
    {
        // Users 0, 1; items 0, 1, 2 (item 2 never trained). Pairs (0,0), (0,1), (1,0).
        // Degrees: u0 2, u1 1, i0 2, i1 1, i2 0. Â[u0,i0] = 1/sqrt(2·2), Â[u0,i1] = 1/sqrt(2·1), Â[u1,i0] = 1/sqrt(1·2).
        var a = InteractionGraph.NormalizedAdjacency(CpuBackend.Shared, 2, 3, [0, 0, 1], [0, 1, 0], DType.Float64);
        var dense = a.ToDense();
        double At(int r, int c) => dense[r * 5 + c];
        Assert.Equal(0.5, At(0, 2), 15);
        Assert.Equal(1 / Math.Sqrt(2), At(0, 3), 15);
        Assert.Equal(1 / Math.Sqrt(2), At(1, 2), 15);
        for (int r = 0; r < 5; r++)
            for (int c = 0; c < 5; c++)
                Assert.Equal(At(r, c), At(c, r)); // symmetric
        Assert.All(Enumerable.Range(0, 5), k => Assert.Equal(0, At(4, k))); // the isolated item: empty row
        Assert.Equal(6, a.NonZeros);
    }

    /// <summary>R (G2) is Â's user × item block entry for entry, on a synthetic dataset and on Baby's training pairs.</summary>
    [Fact]
    public void User_item_block_is_the_user_rows_of_the_adjacency()
    {
        var d = SyntheticInteractions.Generate(users: 120, items: 60, seed: 8);
        AssertBlock(d);
        Assert.Equal(d.Train.Count, InteractionGraph.UserItemBlock(CpuBackend.Shared, d.Users, d.Items, d.Train.Users, d.Train.Items, DType.Float64).NonZeros);
    }

    [Fact]
    public void User_item_block_on_Baby_has_one_entry_per_training_pair_equal_to_the_adjacency()
    {
        var baby = Dataset.Load(SharedData.FindOrSkip("baby"), loadFeatures: false);
        var r = AssertBlock(baby);
        Assert.Equal(118_551, r.NonZeros);
    }

    private static CsrMatrix AssertBlock(Dataset d)
    {
        var a = InteractionGraph.NormalizedAdjacency(CpuBackend.Shared, d.Users, d.Items, d.Train.Users, d.Train.Items, DType.Float64);
        var r = InteractionGraph.UserItemBlock(CpuBackend.Shared, d.Users, d.Items, d.Train.Users, d.Train.Items, DType.Float64);
        Assert.Equal((d.Users, d.Items), (r.Rows, r.Cols));
        for (int u = 0; u < d.Users; u++)
        {
            var (start, end) = (r.HostRowPtr[u], r.HostRowPtr[u + 1]);
            Assert.Equal(a.HostRowPtr[u + 1] - a.HostRowPtr[u], end - start);
            for (int e = start, f = a.HostRowPtr[u]; e < end; e++, f++)
            {
                Assert.Equal(a.HostColIdx[f] - d.Users, r.HostColIdx[e]);
                Assert.Equal(a.HostValues[f], r.HostValues[e]);
            }
        }
        return r;
    }

    [Fact]
    public void Mmrec_split_sizes_follow_the_rule()
    {
        Assert.Equal((3, 1), SyntheticInteractions.SplitSizes(5));
        Assert.Equal((7, 1), SyntheticInteractions.SplitSizes(9));
        Assert.Equal((8, 1), SyntheticInteractions.SplitSizes(10)); // vt = 2: valid 1, test 1
        Assert.Equal((20, 2), SyntheticInteractions.SplitSizes(25)); // vt = 5: valid 2, test 3
    }
}
