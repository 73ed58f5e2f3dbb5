using Engine.Autograd;
using Engine.Cpu;
using Engine.Training.Checkpoints;
using Engine.Training.Data;
using Engine.Training.Graph;
using Engine.Training.Models;
using static Engine.Training.Tests.TwoLineReference;

namespace Engine.Training.Tests;

public class AlignRecTests
{
    private static readonly Backend B = CpuBackend.Shared;

    /// <summary>
    /// Z and each of bpr, reg, uia, cca and sim against MODELS.md §4 written out in dense doubles, with Φ moved away
    /// from the original features first: the graph and the similarity targets must come from the originals.
    /// </summary>
    [Fact]
    public void Scores_and_every_loss_term_match_the_spec_computed_directly()
    {
        var rng = new Rng(3);
        var (adjacency, features, _, batch) = ModelGradCheckCases.TinyProblem(B, rng);
        var userItem = ModelGradCheckCases.TinyUserItemBlock(B);
        var itemGraph = ItemKnnGraph.BuildCosine(B, features, 2, DType.Float64, null, out _);
        var o = new AlignRecOptions { Embedding = 3, KnnK = 2, ContrastWeight = 0.3, SimilarityWeight = 0.7, UserItemAlignmentWeight = 0.2, RegWeight = 0.4 };
        using var model = new AlignRec(B, 5, 6, adjacency, userItem, itemGraph, features, ModelGradCheckCases.TinyBatchSize, o, rng, DType.Float64);
        var phi = model.Parameters.Single(p => p.Name == "mm_embedding").Value;
        B.Upload<double>(phi.ToArray<double>().Select(v => v + 0.5 * rng.Normal()).ToArray(), phi);

        var mm = Branch(model, "mm", features, itemGraph);
        var expected = Forward(model, Dense(adjacency), Dense(userItem), [mm], purifier: true, mean: false);
        var (users, items) = model.RankingEmbeddings();
        Assert.True((Dense(users).Stack(Dense(items)) - expected.Z).Enumerate().All(v => Math.Abs(v) < 1e-12));

        int u = model.Users;
        var z = expected.Z;
        var (userRows, positiveRows) = (Rows(z, batch.Users), Rows(z, Offset(batch.PositiveItems, u)));
        var positiveNodes = Offset(batch.PositiveItems, u);
        var want = new Dictionary<string, double>
        {
            ["bpr"] = Bpr(z, batch, u),
            ["reg"] = 0.4 * HalfSquaredNorms(z, batch, u, ModelGradCheckCases.TinyBatchSize),
            ["uia"] = 0.2 * OneMinusMeanCosine(userRows, positiveRows),
            ["cca"] = 0.3 * (InfoNce(Rows(expected.Modal, positiveNodes), Rows(expected.Behaviour, positiveNodes), 0.2) +
                             InfoNce(Rows(expected.Modal, batch.Users), Rows(expected.Behaviour, batch.Users), 0.2)),
            ["sim"] = 0.7 * Similarity(expected.H[0], mm.Original, batch.PositiveItems),
        };
        var (terms, loss) = Terms(model, batch);
        Assert.Equal(want.Keys.Order(), terms.Keys.Order());
        foreach (var (name, value) in want) Assert.True(Math.Abs(value - terms[name]) < 1e-10, $"{name}: expected {value}, got {terms[name]}");
        Assert.Equal(want.Values.Sum(), loss, 1e-10);
    }

    /// <summary>The released code's unused layers are allocated and counted but get no gradient, so Adam leaves them alone.</summary>
    [Fact]
    public void The_unused_layers_get_no_gradient()
    {
        using var model = ModelGradCheckCases.TinyAlignRec(B, new Rng(1));
        foreach (var p in model.Parameters) p.ZeroGrad();
        using (var tape = Tape.Begin()) tape.Backward(model.Loss(new Sampling.TrainingBatch([0, 2], [1, 3], [2, 0])));
        var unused = model.Parameters.Where(p => p.Name!.StartsWith("query_common", StringComparison.Ordinal) || p.Name.StartsWith("gate_mm_prefer", StringComparison.Ordinal)).ToList();
        Assert.Equal(5, unused.Count);
        Assert.All(unused, p => Assert.True(p.Grad is null || p.Grad.ToArray<double>().All(v => v == 0), p.Name));
        Assert.All(model.Parameters.Except(unused), p => Assert.Contains(p.Grad!.ToArray<double>(), v => v != 0));
    }

    /// <summary>MODELS.md §6: 7,171,840 parameters at Baby's shapes with a 768-wide multimodal feature (unused layers included).</summary>
    [Fact]
    public void Parameter_count_at_Babys_shapes_with_768_wide_features_is_7_171_840()
    {
        const int users = 19_445, items = 7_050;
        var features = new FeatureMatrix(items, 768, new float[items * 768]);
        using var model = new AlignRec(B, users, items, Empty(users + items, users + items), Empty(users, items), Empty(items, items),
            features, 2048, new AlignRecOptions(), new Rng(1));
        Assert.Equal(7_171_840L, model.Parameters.Sum(p => (long)p.Value.Length));
    }

    [Fact]
    public void Layer_norm_adds_its_768_gains_and_biases_and_normalises_each_row()
    {
        const int users = 19_445, items = 7_050;
        var features = new FeatureMatrix(items, 768, new float[items * 768]);
        using var model = new AlignRec(B, users, items, Empty(users + items, users + items), Empty(users, items), Empty(items, items),
            features, 2048, new AlignRecOptions { LayerNorm = true }, new Rng(1));
        Assert.Equal(7_171_840L + 2 * 768, model.Parameters.Sum(p => (long)p.Value.Length));

        var norm = new Layers.LayerNorm(B, 4, DType.Float64, "ln");
        using var x = B.FromArray(new double[] { 1, 2, 3, 6, -1, -1, -1, 3 }, 2, 4);
        var y = norm.Forward(Var.Constant(x)).Value.ToArray<double>();
        // Row 1: mean 3, variance (4 + 1 + 0 + 9)/4 = 3.5; row 2: mean 0, variance 3.
        double[] expected = [.. new[] { -2.0, -1, 0, 3 }.Select(v => v / Math.Sqrt(3.5 + Layers.LayerNorm.Eps)),
                             .. new[] { -1.0, -1, -1, 3 }.Select(v => v / Math.Sqrt(3 + Layers.LayerNorm.Eps))];
        for (int i = 0; i < 8; i++) Assert.Equal(expected[i], y[i], 12);
    }

    /// <summary>
    /// <c>--warmup-ui</c>: epochs 1–10 train without BPR and the user–item alignment at epoch/10 of the scheduled learning
    /// rate; from epoch 11 both terms are back and the schedule alone sets the rate.
    /// </summary>
    [Fact]
    public void The_warm_up_leaves_out_bpr_and_alignment_and_ramps_the_learning_rate_for_ten_epochs()
    {
        var d = SyntheticInteractions.Generate(users: 120, items: 60, groups: 4, seed: 5);
        var f = FeatureSynthesizer.Synthesize(d.Users, d.Items, d.Train, new SynthesisOptions(ImageDim: 8, TextDim: 8, GenericRank: 2, UniqueRank: 1, MultimodalDim: 12, Seed: 5));
        var data = new Dataset(d.Name, d.Folder, d.Users, d.Items, d.Train, d.Valid, d.Test, multimodal: f.Multimodal);
        var config = new RunConfig { Model = "alignrec", Epochs = 11, Patience = 100, AlignRec = new AlignRecOptions { WarmupUserItem = true } };
        using var run = Recommender.Create(config, data: data);
        var history = run.Train(cancel: TestContext.Current.CancellationToken).History;
        var defaults = RunConfig.DefaultsOf("alignrec");
        double Scheduled(int epoch) => defaults.LearningRate * Math.Pow(defaults.LearningRateFactor, (epoch - 1) / 50.0);
        for (int epoch = 1; epoch <= 10; epoch++)
        {
            var e = history[epoch - 1];
            Assert.Equal(["cca", "reg", "sim"], e.LossTerms.Keys.Order());
            Assert.Equal(Scheduled(epoch) * epoch / 10, e.LearningRate, 12);
        }
        Assert.Equal(["bpr", "cca", "reg", "sim", "uia"], history[10].LossTerms.Keys.Order());
        Assert.Equal(Scheduled(11), history[10].LearningRate, 12);
    }

    internal static CsrMatrix Empty(int rows, int cols) => CsrMatrix.FromCoo(B, rows, cols, [], [], [], DType.Float32);

    [Fact]
    public void A_dataset_without_multimodal_features_is_refused_saying_what_is_needed_and_how_to_make_it()
    {
        var d = SyntheticInteractions.Generate(users: 50, items: 30, seed: 1);
        var e = Assert.Throws<InvalidOperationException>(() => new RunConfig { Model = "alignrec" }.BuildModel(d, B));
        Assert.Contains(Dataset.MultimodalFeatureFile, e.Message);
        Assert.Contains("--mm-features", e.Message);
        Assert.Contains("sea synth-features", e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    /// <summary>
    /// The run's own file replaces mm_feat.npy (a wrong row count is refused naming the file), and the checkpoint
    /// fingerprint covers the multimodal features for AlignRec only.
    /// </summary>
    [Fact]
    public void The_multimodal_file_can_be_given_and_is_part_of_alignrecs_fingerprint_only()
    {
        using var tmp = new TempFolder("synthetic");
        var d = SyntheticInteractions.Generate(users: 60, items: 40, seed: 2);
        tmp.Write("synthetic.inter", FeatureSynthesizerTests.InterText(d));
        var own = new FeatureMatrix(40, 3, Enumerable.Range(0, 120).Select(v => (float)v).ToArray());
        var ownPath = Path.Combine(tmp.Folder, "own.npy");
        NpyFile.Write(ownPath, own);
        NpyFile.Write(Path.Combine(tmp.Folder, Dataset.MultimodalFeatureFile), new FeatureMatrix(40, 2, new float[80]));

        var config = new RunConfig { Model = "alignrec", Data = tmp.Folder };
        Assert.Equal(2, config.LoadData().Multimodal!.Cols);
        var given = (config with { MultimodalFeatures = ownPath }).LoadData();
        Assert.Equal(own.Data, given.Multimodal!.Data);
        Assert.Null(new RunConfig { Model = "sea", Data = tmp.Folder }.LoadData().Multimodal);

        var shortPath = Path.Combine(tmp.Folder, "short.npy");
        NpyFile.Write(shortPath, new FeatureMatrix(39, 3, new float[117]));
        var e = Assert.Throws<DataFormatException>(() => (config with { MultimodalFeatures = shortPath }).LoadData());
        Assert.Contains(shortPath, e.Message);
        Assert.Contains("39 rows", e.Message);

        var loaded = config.LoadData();
        Assert.NotEqual(DatasetFingerprint.Of(loaded, false, includeMultimodal: true), DatasetFingerprint.Of(given, false, includeMultimodal: true));
        Assert.Equal(DatasetFingerprint.Of(loaded, true), DatasetFingerprint.Of(given, true));
    }

    [Fact]
    public void Three_epochs_on_the_built_in_dataset_beat_MostPop()
    {
        var data = SyntheticInteractions.BuiltIn();
        TrainingResult Train(string model)
        {
            using var run = Recommender.Create(new RunConfig { Model = model, Epochs = 3 }, data: data);
            return run.Train(cancel: TestContext.Current.CancellationToken);
        }
        var alignRec = Train("alignrec");
        var mostPop = Train("mostpop");
        Assert.True(alignRec.Test["recall@20"] > mostPop.Test["recall@20"], $"AlignRec recall@20 {alignRec.Test["recall@20"]:0.0000} vs MostPop {mostPop.Test["recall@20"]:0.0000}");
        Assert.True(alignRec.Test["ndcg@20"] > mostPop.Test["ndcg@20"], $"AlignRec ndcg@20 {alignRec.Test["ndcg@20"]:0.0000} vs MostPop {mostPop.Test["ndcg@20"]:0.0000}");
        Assert.Equal(["bpr", "cca", "reg", "sim", "uia"], alignRec.History[0].LossTerms.Keys.Order());
    }

    [Fact]
    public void The_same_seed_gives_the_same_metrics_and_another_seed_does_not() => SameSeed.Check("alignrec");
}
