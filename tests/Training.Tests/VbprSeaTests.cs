using Engine.Autograd;
using Engine.Cpu;
using Engine.Training.Models;
using Engine.Training.Sampling;

namespace Engine.Training.Tests;

public class VbprSeaTests
{
    private static readonly Backend B = CpuBackend.Shared;
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public void At_babys_shapes_it_has_the_logged_runs_3531008_parameters_including_the_unused_item_linear()
    {
        var (users, items, image, text) = VbprTests.BabyShapes();
        using var model = new VbprSea(B, users, items, image, text, new VbprSeaOptions(), new Rng(1));
        Assert.Equal(3_531_008, model.Parameters.Sum(p => p.Value.Length));
        var shapes = model.Parameters.ToDictionary(p => p.Name!, p => (p.Rows, p.Cols));
        Assert.Equal((19_445, 128), shapes["u_embedding"]);
        Assert.Equal((64, 4_480), shapes["item_linear.weight"]);
        Assert.Equal((64, 384), shapes["t_item_linear.weight"]);
        Assert.Equal((64, 4_096), shapes["v_item_linear.weight"]);
        Assert.Equal((64, 32), shapes["t_proj.0.weight"]);
        Assert.Equal((32, 64), shapes["v_proj.6.weight"]);
    }

    [Fact]
    public void Item_linear_gets_no_gradient_but_the_modality_maps_and_tables_do()
    {
        var (model, batch) = Tiny(new VbprSeaOptions());
        using var tape = Tape.Begin();
        tape.Backward(model.Loss(batch));
        bool Moved(string name) => model.Parameters.Single(p => p.Name == name).Grad is { } g && g.ToArray<double>().Any(v => v != 0);
        Assert.False(Moved("item_linear.weight"));
        Assert.False(Moved("item_linear.bias"));
        Assert.All(["u_embedding", "i_embedding", "t_item_linear.weight", "v_item_linear.weight", "t_proj.0.weight", "v_proj.6.bias"],
            name => Assert.True(Moved(name), name));
    }

    /// <summary>The terms of both distancings, on the gradient checks' own problems: CLUB's bound there is above its clamp, so they check its gradient.</summary>
    [Fact]
    public void The_loss_has_every_term_and_the_gradient_checks_problem_keeps_clubs_bound_active()
    {
        var (club, batch) = ModelGradCheckCases.TinyVbprSea(B, new Rng(GradCheckCase.DefaultSeed), new VbprSeaOptions());
        var (mse, _) = ModelGradCheckCases.TinyVbprSea(B, new Rng(GradCheckCase.DefaultSeed), new VbprSeaOptions { Distance = Distance.L2 });
        using var tape = Tape.Begin();
        club.Loss(batch);
        Assert.Equal(["bpr", "reg", "solosim", "club"], club.LossTerms.Select(t => t.Name));
        Assert.True(club.LossTerms[3].Value.Value.Item() > 0, "CLUB's bound is clamped at 0: the gradient check would not reach it");
        mse.Loss(batch);
        Assert.Equal(["bpr", "reg", "solosim", "l2"], mse.LossTerms.Select(t => t.Name));
        Assert.True(mse.LossTerms[3].Value.Value.Item() < 0);
    }

    [Theory]
    [InlineData(Distance.Club)]
    [InlineData(Distance.L2)]
    public void Clubs_inner_loop_changes_only_clubs_network_and_only_with_club_distancing(Distance distance)
    {
        var (model, batch) = Tiny(new VbprSeaOptions { Distance = distance, ClubSteps = 5 });
        var club = model.ClubParameters;
        using (var tape = Tape.Begin()) tape.Backward(model.Loss(batch));
        var before = model.Parameters.Select(p => p.Value.ToArray<double>()).ToArray();
        var clubBefore = club.Select(p => p.Value.ToArray<double>()).ToArray();
        model.AfterBackward(batch);
        Assert.Equal(before, model.Parameters.Select(p => p.Value.ToArray<double>()).ToArray());
        bool clubMoved = Enumerable.Range(0, club.Count).Any(i => !clubBefore[i].SequenceEqual(club[i].Value.ToArray<double>()));
        Assert.Equal(distance == Distance.Club, clubMoved);
    }

    [Fact]
    public void Evaluation_uses_the_heads_running_statistics_which_only_training_moves()
    {
        var (model, batch) = Tiny(new VbprSeaOptions { DropoutAtEvaluation = false });
        var statistics = RunningStatistics(model);
        var first = Items(model);
        Assert.Equal(first, Items(model)); // no dropout, no update: evaluation is deterministic
        Assert.Equal(statistics, RunningStatistics(model));

        using (Tape.Begin()) model.Loss(batch); // training mode: the statistics move, the parameters do not
        Assert.NotEqual(statistics, RunningStatistics(model));
        Assert.NotEqual(first, Items(model));
    }

    [Fact]
    public void Dropout_at_evaluation_is_on_by_default_and_only_zeroes_or_rescales_entries()
    {
        var (noisy, _) = Tiny(new VbprSeaOptions());
        var (clean, _) = Tiny(new VbprSeaOptions { DropoutAtEvaluation = false }); // same seed: the same parameters
        var reference = Items(clean);
        var once = Items(noisy);
        Assert.NotEqual(once, Items(noisy)); // fresh masks at every evaluation
        double keep = 1 / (1 - ModelGradCheckCases.Tiny(new VbprSeaOptions()).Dropout);
        for (int i = 0; i < once.Length; i++)
            Assert.True(once[i] == 0 || Math.Abs(once[i] - keep * reference[i]) <= 1e-12, $"[{i}]: {once[i]} from {reference[i]}");
        Assert.Contains(once, v => v == 0);
    }

    [Fact]
    public void The_same_seed_gives_the_same_metrics_with_random_evaluation_and_another_seed_does_not()
    {
        var first = VbprTests.TrainSmall("vbpr-sea", seed: 5);
        Assert.Equal(first.Test, VbprTests.TrainSmall("vbpr-sea", seed: 5).Test);
        Assert.NotEqual(first.History[0].MeanLoss, VbprTests.TrainSmall("vbpr-sea", seed: 6).History[0].MeanLoss);
    }

    private static (VbprSea Model, TrainingBatch Batch) Tiny(VbprSeaOptions options) => ModelGradCheckCases.TinyVbprSea(B, new Rng(3), options);

    private static double[] Items(VbprSea model)
    {
        var (users, items) = model.RankingEmbeddings();
        users.Dispose();
        using (items) return items.ToArray<double>();
    }

    private static Dictionary<string, double[]> RunningStatistics(VbprSea model)
    {
        var collector = new LayerTests.TensorCollector();
        model.VisitState(collector);
        return collector.Tensors.Where(t => t.Key.Contains("running", StringComparison.Ordinal)).ToDictionary();
    }
}
