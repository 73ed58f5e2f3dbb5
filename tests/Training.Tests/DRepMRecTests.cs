using System.Text.Json;
using Engine.Cpu;
using Engine.Training.Data;
using Engine.Training.Graph;
using Engine.Training.Models;
using static Engine.Training.Tests.TwoLineReference;

namespace Engine.Training.Tests;

public class DRepMRecTests
{
    private static readonly Backend B = CpuBackend.Shared;

    /// <summary>
    /// Z and each of bpr, reg, intra, inter and sim against MODELS.md §5 written out in dense doubles, for the default
    /// (self-gate, mean of modalities) and the alternatives, with both Φ moved away from the original features first.
    /// </summary>
    [Theory]
    [InlineData(FilterGate.Self, ModalityCombine.Mean)]
    [InlineData(FilterGate.Purifier, ModalityCombine.Sum)]
    public void Scores_and_every_loss_term_match_the_reconstruction_computed_directly(FilterGate gate, ModalityCombine combine)
    {
        var rng = new Rng(4);
        var (adjacency, image, text, batch) = ModelGradCheckCases.TinyProblem(B, rng);
        var userItem = ModelGradCheckCases.TinyUserItemBlock(B);
        var graphs = new[] { image, text }.Select(f => ItemKnnGraph.BuildCosine(B, f, 2, DType.Float64, null, out _)).ToArray();
        var o = new DRepMRecOptions
        {
            Embedding = 3, KnnK = 2, IntraWeight = 0.3, InterWeight = 0.6, SimilarityWeight = 0.7, RegWeight = 0.4, Gate = gate, Combine = combine,
        };
        using var model = new DRepMRec(B, 5, 6, adjacency, userItem, [("image", image, graphs[0]), ("text", text, graphs[1])],
            ModelGradCheckCases.TinyBatchSize, o, rng, DType.Float64);
        foreach (var name in new[] { "image_embedding", "text_embedding" })
        {
            var phi = model.Parameters.Single(p => p.Name == name).Value;
            B.Upload<double>(phi.ToArray<double>().Select(v => v + 0.5 * rng.Normal()).ToArray(), phi);
        }

        Modality[] branches = [Branch(model, "image", image, graphs[0]), Branch(model, "text", text, graphs[1])];
        var expected = Forward(model, Dense(adjacency), Dense(userItem), branches, gate == FilterGate.Purifier, combine == ModalityCombine.Mean);
        var (users, items) = model.RankingEmbeddings();
        Assert.True((Dense(users).Stack(Dense(items)) - expected.Z).Enumerate().All(v => Math.Abs(v) < 1e-12));

        int u = model.Users;
        var z = expected.Z;
        var positiveNodes = Offset(batch.PositiveItems, u);
        var (modalItems, behaviourItems) = (Rows(expected.Modal, positiveNodes), Rows(expected.Behaviour, positiveNodes));
        var (modalUsers, behaviourUsers) = (Rows(expected.Modal, batch.Users), Rows(expected.Behaviour, batch.Users));
        var want = new Dictionary<string, double>
        {
            ["bpr"] = Bpr(z, batch, u),
            ["reg"] = 0.4 * HalfSquaredNorms(z, batch, u, ModelGradCheckCases.TinyBatchSize),
            ["intra"] = 0.3 * (InfoNce(modalItems, behaviourItems, 0.2) + InfoNce(modalUsers, behaviourUsers, 0.2)),
            ["inter"] = 0.6 * (InfoNce(behaviourUsers, modalItems, 0.2) + InfoNce(modalUsers, behaviourItems, 0.2)),
            ["sim"] = 0.7 * (Similarity(expected.H[0], branches[0].Original, batch.PositiveItems) +
                             Similarity(expected.H[1], branches[1].Original, batch.PositiveItems)),
        };
        var (terms, loss) = Terms(model, batch);
        Assert.Equal(want.Keys.Order(), terms.Keys.Order());
        foreach (var (name, value) in want) Assert.True(Math.Abs(value - terms[name]) < 1e-10, $"{name}: expected {value}, got {terms[name]}");
        Assert.Equal(want.Values.Sum(), loss, 1e-10);
    }

    /// <summary>MODELS.md §6: 33,574,848 parameters at Baby's shapes (U 19,445, I 7,050, F_v 4096, F_t 384), feature tables included.</summary>
    [Fact]
    public void Parameter_count_at_Babys_shapes_is_33_574_848()
    {
        const int users = 19_445, items = 7_050;
        var graph = AlignRecTests.Empty(items, items);
        using var model = new DRepMRec(B, users, items, AlignRecTests.Empty(users + items, users + items), AlignRecTests.Empty(users, items),
            [("image", new FeatureMatrix(items, 4096, new float[items * 4096]), graph), ("text", new FeatureMatrix(items, 384, new float[items * 384]), graph)],
            2048, new DRepMRecOptions(), new Rng(1));
        Assert.Equal(33_574_848L, model.Parameters.Sum(p => (long)p.Value.Length));
    }

    [Fact]
    public void Metrics_json_says_the_model_is_a_reconstruction()
    {
        var data = SyntheticInteractions.Generate(users: 60, items: 40, groups: 3, seed: 2);
        var features = FeatureSynthesizer.Synthesize(data.Users, data.Items, data.Train,
            new SynthesisOptions(ImageDim: 16, TextDim: 8, GenericRank: 2, UniqueRank: 1, Noise: 0.1, Seed: 3));
        data = new Dataset(data.Name, data.Folder, data.Users, data.Items, data.Train, data.Valid, data.Test, features.Image, features.Text);
        string Report(string model)
        {
            using var run = Recommender.Create(new RunConfig { Model = model, Epochs = 1 }, data: data);
            return JsonSerializer.Serialize(run.Report(run.Train(cancel: TestContext.Current.CancellationToken)), TrainingJson.Indented);
        }
        Assert.Contains("\"note\": \"DRepMRec is our reconstruction", Report("drepmrec"));
        Assert.DoesNotContain("\"note\"", Report("mostpop"));
    }

    [Fact]
    public void The_same_seed_gives_the_same_metrics_and_another_seed_does_not() => SameSeed.Check("drepmrec");

    [Fact]
    public void A_dataset_without_image_and_text_features_is_refused_naming_the_missing_files()
    {
        var d = SyntheticInteractions.Generate(users: 50, items: 30, seed: 1);
        var e = Assert.Throws<InvalidOperationException>(() => new RunConfig { Model = "drepmrec" }.BuildModel(d, B));
        Assert.Contains("DRepMRec needs both image_feat.npy and text_feat.npy", e.Message);
        Assert.Contains("sea synth-features", e.Message);
    }
}
