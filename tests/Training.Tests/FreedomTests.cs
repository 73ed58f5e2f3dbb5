using Engine.Autograd;
using Engine.Cpu;
using Engine.Training.Data;
using Engine.Training.Graph;
using Engine.Training.Models;
using Engine.Training.Optim;
using Engine.Training.Sampling;

namespace Engine.Training.Tests;

public class FreedomTests
{
    private static readonly Backend B = CpuBackend.Shared;
    private static readonly Dataset BuiltIn = SyntheticInteractions.BuiltIn();
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>FREEDOM on the tiny gradient-check problem, float64, width 3.</summary>
    private static Freedom Tiny(FreedomOptions options, ulong seed = 3, Func<FreedomArgs, Freedom>? create = null)
    {
        var rng = new Rng(seed);
        var (_, image, text, _) = ModelGradCheckCases.TinyProblem(B, rng);
        var graph = ItemKnnGraph.Build(B, [(image, options.ImageWeight), (text, 1 - options.ImageWeight)], 2, DType.Float64, null, out _);
        var args = new FreedomArgs(graph, image, text, options, rng);
        return create?.Invoke(args) ?? new Freedom(B, 5, 6, ModelGradCheckCases.TinyPairs, graph, image, text, options, 2, rng, 3, DType.Float64);
    }

    public sealed record FreedomArgs(CsrMatrix ItemGraph, FeatureMatrix Image, FeatureMatrix Text, FreedomOptions Options, Rng Rng);

    private static TrainingBatch TinyBatch => ModelGradCheckCases.TinyProblem(B, new Rng(3)).Batch;

    private static double[][] Values(RecommenderModel model) => model.Parameters.Select(p => p.Value.ToArray<double>()).ToArray();

    /// <summary>A few Adam steps on the tiny batch, a fresh pruned graph before each (as epochs would).</summary>
    private static void Steps(Freedom model, int steps)
    {
        var adam = new Adam(model.Parameters, 1e-2);
        for (int s = 1; s <= steps; s++)
        {
            model.BeforeEpoch(s);
            adam.ZeroGrad();
            using (var tape = Tape.Begin()) tape.Backward(model.Loss(TinyBatch));
            adam.Step();
        }
    }

    /// <summary>FREEDOM that computes the modality terms even at λ = 0 (they then enter the loss multiplied by 0).</summary>
    private sealed class ComputedAnyway(FreedomArgs a)
        : Freedom(B, 5, 6, ModelGradCheckCases.TinyPairs, a.ItemGraph, a.Image, a.Text, a.Options, 2, a.Rng, 3, DType.Float64)
    {
        protected override Var ComputeLoss(TrainingBatch batch) => FreedomLoss(batch, Projections());
    }

    [Fact]
    public void With_lambda_0_skipping_the_projections_trains_exactly_as_computing_them()
    {
        var options = new FreedomOptions { RegWeight = 0, EdgeDropout = 0.5 };
        using var skipping = Tiny(options);
        using var computing = Tiny(options, create: a => new ComputedAnyway(a));
        var initial = Values(skipping);
        Assert.Equal(initial, Values(computing));
        Steps(skipping, 3);
        Steps(computing, 3);

        Assert.Equal(Values(computing), Values(skipping)); // bit for bit: the computed terms' gradients are exactly 0
        var after = Values(skipping);
        Assert.NotEqual(initial[0], after[0]); // E_u and E_i trained
        Assert.NotEqual(initial[1], after[1]);
        Assert.Equal(initial[2..], after[2..]); // Φ_v, T_v, Φ_t, T_t untouched
        Assert.All(skipping.Parameters.Skip(2), p => Assert.Null(p.Grad)); // and never given a gradient
        Assert.All(computing.Parameters.Skip(2), p => Assert.NotNull(p.Grad));
    }

    [Fact]
    public void With_lambda_above_0_the_feature_copies_train_and_the_features_stay()
    {
        using var model = Tiny(new FreedomOptions { RegWeight = 0.1 });
        var (_, image, _, _) = ModelGradCheckCases.TinyProblem(B, new Rng(3));
        var imageTable = model.Parameters[2];
        Assert.Equal("image_embedding", imageTable.Name);
        Assert.Equal(image.Data.Select(v => (double)v), imageTable.Value.ToArray<double>()); // Φ_v starts as a copy of F_v
        var initial = Values(model);
        Steps(model, 2);
        var after = Values(model);
        Assert.All(Enumerable.Range(0, initial.Length), p => Assert.NotEqual(initial[p], after[p])); // every parameter moved
        Assert.Equal(["bpr", "modality_bpr"], model.LossTerms.Select(t => t.Name));
    }

    [Fact]
    public void Training_graphs_change_every_epoch_while_ranking_always_uses_the_full_graph()
    {
        using var pruned = Tiny(new FreedomOptions { EdgeDropout = 0.5 });
        using var full = Tiny(new FreedomOptions { EdgeDropout = 0 });
        Assert.Contains("BeforeEpoch", Assert.Throws<InvalidOperationException>(() => pruned.Loss(TinyBatch)).Message);

        double Loss(Freedom m) { using var tape = Tape.Begin(); return m.Loss(TinyBatch).Value.Item(); }
        var ranking = full.RankingEmbeddings();
        var epochLosses = new List<double>();
        for (int epoch = 1; epoch <= 4; epoch++)
        {
            pruned.BeforeEpoch(epoch);
            Assert.Equal(8, pruned.TrainingGraph.NonZeros); // int(8 × 0.5) pairs and their mirrors
            epochLosses.Add(Loss(pruned));
            var (users, items) = pruned.RankingEmbeddings();
            Assert.Equal(ranking.Users.ToArray<double>(), users.ToArray<double>());
            Assert.Equal(ranking.Items.ToArray<double>(), items.ToArray<double>());
            users.Dispose();
            items.Dispose();
        }
        Assert.True(epochLosses.Distinct().Count() > 1, "every epoch drew the same graph");
        Assert.DoesNotContain(Loss(full), epochLosses);
        ranking.Users.Dispose();
        ranking.Items.Dispose();
    }

    /// <summary>Records the order of the trainer's calls.</summary>
    private sealed class Recording(FreedomArgs a, List<string> events)
        : Freedom(B, 5, 6, ModelGradCheckCases.TinyPairs, a.ItemGraph, a.Image, a.Text, a.Options, 2, a.Rng, 3, DType.Float64)
    {
        public override void BeforeEpoch(int epoch)
        {
            events.Add($"epoch {epoch}");
            base.BeforeEpoch(epoch);
        }

        protected override Var ComputeLoss(TrainingBatch batch)
        {
            events.Add("batch");
            return base.ComputeLoss(batch);
        }
    }

    [Fact]
    public void The_trainer_calls_BeforeEpoch_before_each_epochs_batches()
    {
        var events = new List<string>();
        var pairs = ModelGradCheckCases.TinyPairs;
        var data = new Dataset("tiny", "(test)", 5, 6, pairs, new InteractionSet([0, 1], [2, 3]), new InteractionSet([2, 3], [0, 0]), null, null);
        using var model = Tiny(new FreedomOptions(), create: a => new Recording(a, events));
        new Trainer(data, model, new TrainerOptions { MaxEpochs = 3, BatchSize = 4, Ks = [5], ValidMetric = "recall@5" }).Train(cancel: Ct);
        Assert.Equal(["epoch 1", "batch", "batch", "epoch 2", "batch", "batch", "epoch 3", "batch", "batch"], events);
    }

    [Fact]
    public void Baby_shapes_have_33566528_parameters()
    {
        const int users = 19_445, items = 7_050;
        var pairs = new InteractionSet(Enumerable.Range(0, items).ToArray(), Enumerable.Range(0, items).ToArray());
        var diagonal = Enumerable.Range(0, items).ToArray();
        using var itemGraph = CsrMatrix.FromCoo(B, items, items, diagonal, diagonal, Enumerable.Repeat(1.0, items).ToArray(), DType.Float32);
        using var model = new Freedom(B, users, items, pairs, itemGraph, new FeatureMatrix(items, 4096, new float[items * 4096]),
            new FeatureMatrix(items, 384, new float[items * 384]), new FreedomOptions(), 2, new Rng(1));
        Assert.Equal(33_566_528, model.Parameters.Sum(p => (long)p.Value.Length));
        Assert.Equal(28_876_800, model.Parameters.Single(p => p.Name == "image_embedding").Value.Length);
    }

    [Fact]
    public void The_item_graph_FREEDOM_builds_has_rows_summing_to_1()
    {
        var o = new FreedomOptions();
        using var s = ItemKnnGraph.Build(B, [(BuiltIn.Image!, o.ImageWeight), (BuiltIn.Text!, 1 - o.ImageWeight)], o.KnnK, DType.Float64, null, out _);
        for (int r = 0; r < s.Rows; r++)
        {
            int from = s.HostRowPtr[r], to = s.HostRowPtr[r + 1];
            Assert.InRange(to - from, o.KnnK, 2 * o.KnnK); // each modality's 10, shared neighbours merged
            double sum = 0;
            for (int e = from; e < to; e++) sum += s.HostValues[e];
            Assert.True(Math.Abs(sum - 1) <= 1e-7, $"row {r} sums to {sum:G17}");
        }
    }

    private static TrainingResult Train(RunConfig config)
    {
        using var run = Recommender.Create(config, data: BuiltIn);
        return run.Train(cancel: Ct);
    }

    [Fact]
    public void The_same_seed_gives_the_same_metrics_and_another_seed_does_not()
    {
        var config = new RunConfig { Model = "freedom", Epochs = 2, Freedom = new FreedomOptions { RegWeight = 1e-3 } };
        var first = Train(config with { Seed = 5 });
        var again = Train(config with { Seed = 5 });
        var other = Train(config with { Seed = 6 });
        Assert.Equal(first.Test, again.Test);
        Assert.Equal(first.History.Select(h => h.MeanLoss), again.History.Select(h => h.MeanLoss));
        Assert.NotEqual(first.History[0].MeanLoss, other.History[0].MeanLoss);
    }

    [Fact]
    public void Missing_features_are_named_in_one_line()
    {
        var interactionsOnly = new Dataset("plain", "/data/plain", BuiltIn.Users, BuiltIn.Items, BuiltIn.Train, BuiltIn.Valid, BuiltIn.Test, null, BuiltIn.Text);
        var e = Assert.Throws<InvalidOperationException>(() => new RunConfig { Model = "freedom" }.BuildModel(interactionsOnly, B));
        Assert.StartsWith("FREEDOM needs both image_feat.npy and text_feat.npy in /data/plain (missing: image_feat.npy)", e.Message);
        Assert.DoesNotContain('\n', e.Message);
        Assert.Equal("FREEDOM's λ (reg weight) must be finite and ≥ 0, got -1",
            Assert.Throws<ArgumentException>(() => Tiny(new FreedomOptions { RegWeight = -1 })).Message);
    }
}
