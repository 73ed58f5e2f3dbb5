using Engine.Autograd;
using Engine.Cpu;
using Engine.Training.Data;
using Engine.Training.Graph;
using Engine.Training.Layers;
using Engine.Training.Models;
using Engine.Training.Sampling;

namespace Engine.Training.Tests;

public class FreedomSeaTests
{
    private static readonly Backend B = CpuBackend.Shared;
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>300 users × 150 items with small semi-synthetic features: seconds per run.</summary>
    private static readonly Dataset Small = SmallDataset();

    private static Dataset SmallDataset()
    {
        var d = SyntheticInteractions.Generate(users: 300, items: 150, groups: 6, seed: 5);
        var f = FeatureSynthesizer.Synthesize(d.Users, d.Items, d.Train, new SynthesisOptions(ImageDim: 32, TextDim: 16, GenericRank: 4, UniqueRank: 2, Noise: 0.1, Seed: 3));
        return new Dataset(d.Name, d.Folder, d.Users, d.Items, d.Train, d.Valid, d.Test, f.Image, f.Text);
    }

    [Fact]
    public void Babys_shapes_have_the_logged_33575498_parameters_freedoms_and_two_heads()
    {
        var (users, items, image, text) = VbprTests.BabyShapes();
        var pairs = new InteractionSet(Enumerable.Range(0, items).ToArray(), Enumerable.Range(0, items).ToArray());
        var diagonal = Enumerable.Range(0, items).ToArray();
        using var itemGraph = CsrMatrix.FromCoo(B, items, items, diagonal, diagonal, Enumerable.Repeat(1.0, items).ToArray(), DType.Float32);
        using var model = new FreedomSea(B, users, items, pairs, itemGraph, image, text, new FreedomSeaOptions(), 2, new Rng(1));
        Assert.Equal(33_575_498, model.Parameters.Sum(p => (long)p.Value.Length));
        Assert.Equal(2 * 4_485, model.Parameters.Where(p => p.Name!.Contains("_proj.")).Sum(p => p.Value.Length));
        var shapes = model.Parameters.ToDictionary(p => p.Name!, p => (p.Rows, p.Cols));
        Assert.Equal((33, 32), shapes["t_proj.0.weight"]); // ProjectHead(32 → 33 → 33 → 63), as the log prints it
        Assert.Equal((33, 33), shapes["v_proj.3.weight"]);
        Assert.Equal((63, 33), shapes["v_proj.6.weight"]);
    }

    [Fact]
    public void The_heads_draw_from_the_generator_before_freedoms_layers_and_clubs_network_after()
    {
        var options = new FreedomSeaOptions();
        var (model, _) = ModelGradCheckCases.TinyFreedomSea(B, new Rng(3), options);

        // The same draws in the order the log lists the modules: t_proj, v_proj, then FREEDOM's, then CLUB's network.
        var rng = new Rng(3);
        var (_, image, text, _) = ModelGradCheckCases.TinyProblem(B, rng);
        var o = ModelGradCheckCases.Tiny(options);
        var textHead = new ProjectHead(B, 2, o.ProjectionHidden, o.ProjectionOut, DType.Float64, rng, "t_proj");
        var imageHead = new ProjectHead(B, 2, o.ProjectionHidden, o.ProjectionOut, DType.Float64, rng, "v_proj");
        var itemGraph = ItemKnnGraph.Build(B, [(image, o.Freedom.ImageWeight), (text, 1 - o.Freedom.ImageWeight)], o.Freedom.KnnK, DType.Float64, null, out _);
        using var freedom = new Freedom(B, 5, 6, ModelGradCheckCases.TinyPairs, itemGraph, image, text, o.Freedom, 2, rng, 4, DType.Float64);
        using var club = new ClubEstimator(B, 2, o.ClubHidden, o.ClubLearningRate, DType.Float64, rng);

        Var[] expected = [.. textHead.Parameters, .. imageHead.Parameters, .. freedom.Parameters];
        Assert.Equal(expected.Select(p => p.Name), model.Parameters.Select(p => p.Name));
        Assert.Equal(expected.Select(p => p.Value.ToArray<double>()), model.Parameters.Select(p => p.Value.ToArray<double>()));
        Assert.Equal(club.Parameters.Select(p => p.Value.ToArray<double>()), model.ClubParameters.Select(p => p.Value.ToArray<double>()));
        freedom.BeforeEpoch(1); // as TinyFreedomSea did
        Assert.Equal(freedom.PruningRng.State, model.PruningRng.State);
        model.Dispose();
    }

    /// <summary>The terms of each gradient-check problem; CLUB's bound there is above its clamp, so the checks reach its gradient.</summary>
    [Fact]
    public void The_loss_has_freedoms_terms_and_seas_and_the_gradient_checks_problem_keeps_clubs_bound_active()
    {
        string[] Terms(FreedomSeaOptions options, out double last)
        {
            var (model, batch) = ModelGradCheckCases.TinyFreedomSea(B, new Rng(GradCheckCase.DefaultSeed), options);
            using var tape = Tape.Begin();
            model.Loss(batch);
            last = model.LossTerms[^1].Value.Value.Item();
            return model.LossTerms.Select(t => t.Name).ToArray();
        }

        Assert.Equal(["bpr", "modality_bpr", "solosim", "club"], Terms(new FreedomSeaOptions { Freedom = new FreedomOptions { RegWeight = 0.5 } }, out double club));
        Assert.True(club > 0, "CLUB's bound is clamped at 0: the gradient check would not reach it");
        Assert.Equal(["bpr", "solosim", "club"], Terms(new FreedomSeaOptions(), out club));
        Assert.True(club > 0, "CLUB's bound is clamped at 0 at λ = 0");
        Assert.Equal(["bpr", "solosim", "l2"], Terms(new FreedomSeaOptions { Distance = Distance.L2 }, out double l2));
        Assert.True(l2 < 0);
    }

    [Fact]
    public void Clubs_inner_loop_changes_only_clubs_network()
    {
        var (model, batch) = ModelGradCheckCases.TinyFreedomSea(B, new Rng(3), new FreedomSeaOptions { ClubSteps = 5 });
        using (var tape = Tape.Begin()) tape.Backward(model.Loss(batch));
        var before = model.Parameters.Select(p => p.Value.ToArray<double>()).ToArray();
        var clubBefore = model.ClubParameters.Select(p => p.Value.ToArray<double>()).ToArray();
        model.AfterBackward(batch);
        Assert.Equal(before, model.Parameters.Select(p => p.Value.ToArray<double>()).ToArray());
        Assert.NotEqual(clubBefore, model.ClubParameters.Select(p => p.Value.ToArray<double>()).ToArray());
        model.Dispose();
    }

    /// <summary>
    /// MODELS.md §3.2's consequence: FREEDOM's projections reach the scores only through the λ-weighted modality terms,
    /// so at λ = 0 SEA's terms change no ranking. FREEDOM+SEA is started from FREEDOM's parameters and pruning generator
    /// and trained with the same batches; at λ = 0 it ranks bit for bit as FREEDOM although SEA's terms moved the
    /// projections; at λ > 0 it ranks differently.
    /// </summary>
    [Theory]
    [InlineData(0.0)]
    [InlineData(1e-3)]
    public void At_lambda_0_it_ranks_exactly_as_freedom_from_the_same_start_and_at_lambda_above_0_it_does_not(double lambda)
    {
        var freedomConfig = new RunConfig { Model = "freedom", Epochs = 3, Batch = 256, Seed = 5, Freedom = new FreedomOptions { RegWeight = lambda } };
        var seaConfig = freedomConfig with { Model = "freedom-sea", FreedomSea = new FreedomSeaOptions { Freedom = freedomConfig.Freedom } };
        using var freedom = (Freedom)freedomConfig.BuildModel(Small, B);
        using var sea = (FreedomSea)seaConfig.BuildModel(Small, B);
        Assert.NotEqual(Values(freedom, "user_embedding"), Values(sea, "user_embedding")); // the heads drew first
        foreach (var p in freedom.Parameters) B.Upload<float>(p.Value.ToArray<float>(), sea.Parameters.Single(q => q.Name == p.Name).Value);
        sea.PruningRng.State = freedom.PruningRng.State;
        var textProjection = Values(sea, "text_trs.weight");

        var freedomRun = new Trainer(Small, freedom, freedomConfig.TrainerOptions).Train(cancel: Ct);
        var seaRun = new Trainer(Small, sea, seaConfig.TrainerOptions).Train(cancel: Ct);

        Assert.Contains("club", seaRun.History[0].LossTerms.Keys); // SEA's terms were there and moved the projections
        Assert.Contains("solosim", seaRun.History[0].LossTerms.Keys);
        Assert.NotEqual(textProjection, Values(sea, "text_trs.weight"));
        var (freedomUsers, freedomItems) = Ranking(freedom);
        var (seaUsers, seaItems) = Ranking(sea);
        if (lambda == 0)
        {
            Assert.Equal(freedomUsers, seaUsers);
            Assert.Equal(freedomItems, seaItems);
            Assert.Equal(freedomRun.History.Select(h => h.Valid), seaRun.History.Select(h => h.Valid));
            Assert.Equal(freedomRun.Test, seaRun.Test);
        }
        else
        {
            Assert.NotEqual(freedomUsers, seaUsers);
            Assert.NotEqual(freedomItems, seaItems);
        }
    }

    private static float[] Values(RecommenderModel model, string name) => model.Parameters.Single(p => p.Name == name).Value.ToArray<float>();

    private static (float[] Users, float[] Items) Ranking(RecommenderModel model)
    {
        var (users, items) = model.RankingEmbeddings();
        using (users)
        using (items)
            return (users.ToArray<float>(), items.ToArray<float>());
    }

    private static TrainingResult TrainOnSmall(RunConfig config)
    {
        using var run = Recommender.Create(config, data: Small);
        return run.Train(cancel: Ct);
    }

    [Fact]
    public void The_same_seed_gives_the_same_metrics_and_another_seed_does_not()
    {
        // λ > 0, so that SEA's terms (and CLUB's permutations) reach the metrics.
        var config = new RunConfig { Model = "freedom-sea", Epochs = 2, Batch = 256, FreedomSea = new FreedomSeaOptions { Freedom = new FreedomOptions { RegWeight = 1e-3 } } };
        var first = TrainOnSmall(config with { Seed = 5 });
        var again = TrainOnSmall(config with { Seed = 5 });
        var other = TrainOnSmall(config with { Seed = 6 });
        Assert.Equal(first.Test, again.Test);
        Assert.Equal(first.History.Select(h => h.LossTerms), again.History.Select(h => h.LossTerms));
        Assert.NotEqual(first.History[0].MeanLoss, other.History[0].MeanLoss);
    }

    [Fact]
    public void Bad_input_is_named_in_one_line()
    {
        var interactionsOnly = new Dataset("plain", "/data/plain", Small.Users, Small.Items, Small.Train, Small.Valid, Small.Test, Small.Image, null);
        var e = Assert.Throws<InvalidOperationException>(() => new RunConfig { Model = "freedom-sea" }.BuildModel(interactionsOnly, B));
        Assert.StartsWith("FREEDOM+SEA needs both image_feat.npy and text_feat.npy in /data/plain (missing: text_feat.npy)", e.Message);
        Assert.DoesNotContain('\n', e.Message);
        Assert.Equal("FREEDOM+SEA splits its 5-wide projections in halves: the width must be even",
            Assert.Throws<ArgumentException>(() => new RunConfig { Model = "freedom-sea", Dimension = 5 }.BuildModel(Small, B)).Message);
    }
}
