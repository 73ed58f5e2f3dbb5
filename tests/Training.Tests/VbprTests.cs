using Engine.Autograd;
using Engine.Cpu;
using Engine.Training.Data;
using Engine.Training.Models;
using Engine.Training.Sampling;

namespace Engine.Training.Tests;

public class VbprTests
{
    private static readonly Backend B = CpuBackend.Shared;
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>Baby's shapes (MODELS.md §6): U 19,445, I 7,050, image 4,096 wide, text 384.</summary>
    internal static (int Users, int Items, FeatureMatrix Image, FeatureMatrix Text) BabyShapes() =>
        (19_445, 7_050, new FeatureMatrix(7_050, 4_096, new float[7_050 * 4_096]), new FeatureMatrix(7_050, 384, new float[7_050 * 384]));

    [Fact]
    public void At_babys_shapes_it_has_mmrecs_3226944_parameters()
    {
        var (users, items, image, text) = BabyShapes();
        using var model = new Vbpr(B, users, items, image, text, new VbprOptions(), new Rng(1));
        Assert.Equal(3_226_944, model.Parameters.Sum(p => p.Value.Length));
        Assert.Equal([("u_embedding", 19_445, 128), ("i_embedding", 7_050, 64), ("item_linear.weight", 64, 4_480), ("item_linear.bias", 1, 64)],
            model.Parameters.Select(p => (p.Name!, p.Rows, p.Cols)));
        double bound = Math.Sqrt(6.0 / (128 + 19_445)); // Xavier uniform, a bare table
        Assert.InRange(model.Parameters[0].Value.ToArray<float>().Max(Math.Abs), 0.99 * bound, (float)bound);
    }

    [Fact]
    public void Items_are_the_id_table_beside_the_projected_text_then_image_features()
    {
        var (model, image, text, _) = Tiny();
        var (users, items) = model.RankingEmbeddings();
        var p = model.Parameters.Select(v => v.Value.ToArray<double>()).ToArray();
        var (q, w, bias) = (p[1], p[2], p[3]);
        int d = 3, width = text.Cols + image.Cols;
        var expected = new double[6 * 2 * d];
        for (int i = 0; i < 6; i++)
        {
            var x = text.Row(i).ToArray().Concat(image.Row(i).ToArray()).Select(v => (double)v).ToArray(); // text first
            for (int c = 0; c < d; c++)
            {
                expected[i * 2 * d + c] = q[i * d + c];
                expected[i * 2 * d + d + c] = bias[c] + Enumerable.Range(0, width).Sum(k => w[c * width + k] * x[k]);
            }
        }
        AssertClose(expected, items.ToArray<double>(), 1e-12);
        Assert.Equal(p[0], users.ToArray<double>());
    }

    [Fact]
    public void The_loss_is_bpr_with_epsilon_plus_lambda_times_the_unsquared_norms_of_the_ranking_rows()
    {
        var (model, _, _, batch) = Tiny();
        var (users, items) = model.RankingEmbeddings();
        var (u, it) = (users.ToArray<double>(), items.ToArray<double>());
        int w = users.Cols;
        double Dot(int user, int item) => Enumerable.Range(0, w).Sum(c => u[user * w + c] * it[item * w + c]);
        double Norm(double[] table, int[] rows) => Math.Sqrt(rows.Sum(r => Enumerable.Range(0, w).Sum(c => table[r * w + c] * table[r * w + c])));
        double bpr = -Enumerable.Range(0, batch.Count).Average(b =>
            Math.Log(1e-10 + 1 / (1 + Math.Exp(-(Dot(batch.Users[b], batch.PositiveItems[b]) - Dot(batch.Users[b], batch.NegativeItems[b]))))));
        double reg = 0.5 * (Norm(u, batch.Users) + Norm(it, batch.PositiveItems) + Norm(it, batch.NegativeItems)) / batch.Count;
        using var tape = Tape.Begin();
        Assert.Equal(bpr + reg, model.Loss(batch).Value.Item(), 12);
        Assert.Equal(reg, model.LossTerms.Single(t => t.Name == "reg").Value.Value.Item(), 12);
    }

    [Fact]
    public void The_same_seed_gives_the_same_metrics_and_another_seed_does_not()
    {
        var first = TrainSmall("vbpr", seed: 5);
        Assert.Equal(first.Test, TrainSmall("vbpr", seed: 5).Test);
        Assert.NotEqual(first.History[0].MeanLoss, TrainSmall("vbpr", seed: 6).History[0].MeanLoss);
    }

    /// <summary>Two epochs on a 300-user dataset with semi-synthetic features.</summary>
    internal static TrainingResult TrainSmall(string model, ulong seed)
    {
        var d = SyntheticInteractions.Generate(users: 300, items: 150, groups: 6, seed: 5);
        var f = FeatureSynthesizer.Synthesize(d.Users, d.Items, d.Train, new SynthesisOptions(ImageDim: 32, TextDim: 16, GenericRank: 4, UniqueRank: 2, Noise: 0.1, Seed: 3));
        var data = new Dataset(d.Name, d.Folder, d.Users, d.Items, d.Train, d.Valid, d.Test, f.Image, f.Text);
        using var run = Recommender.Create(new RunConfig { Model = model, Epochs = 2, Batch = 256, Seed = seed, VbprSea = new VbprSeaOptions { ClubSteps = 3 } }, data: data);
        return run.Train(cancel: TestContext.Current.CancellationToken);
    }

    private static (Vbpr Model, FeatureMatrix Image, FeatureMatrix Text, TrainingBatch Batch) Tiny()
    {
        var rng = new Rng(3);
        var (_, image, text, batch) = ModelGradCheckCases.TinyProblem(B, rng);
        return (new Vbpr(B, 5, 6, image, text, new VbprOptions { RegWeight = 0.5 }, rng, dimension: 3, DType.Float64), image, text, batch);
    }

    private static void AssertClose(double[] expected, double[] actual, double tolerance)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= tolerance * Math.Max(1, Math.Abs(expected[i])), $"[{i}]: expected {expected[i]:G17}, got {actual[i]:G17}");
    }
}
