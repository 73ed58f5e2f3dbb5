using System.Text.Json.Serialization;
using Engine.Training.Data;
using Engine.Training.Graph;
using Engine.Training.Models;

namespace Engine.Training;

/// <summary>Everything that defines a training run; written back whole into metrics.json.</summary>
public sealed record RunConfig
{
    /// <summary>One of <see cref="Models"/>.</summary>
    public string Model { get; init; } = "sea";

    /// <summary>A MMRec dataset folder, or null for the built-in synthetic dataset.</summary>
    public string? Data { get; init; }

    /// <summary>A .npy of fused multimodal item features for AlignRec, in place of the dataset's mm_feat.npy; null: that file.</summary>
    public string? MultimodalFeatures { get; init; }

    public int Layers { get; init; } = 2;
    public double Reg { get; init; } = 1e-4;

    /// <summary>LightGCN's penalty: EVAL.md's squared norms (default) or MMRec's code's unsquared norms.</summary>
    public RegForm RegForm { get; init; } = RegForm.Squared;
    public int Dimension { get; init; } = 64;
    /// <summary>Adam's learning rate; null means the model's published default (<see cref="DefaultsOf"/>).</summary>
    public double? LearningRate { get; init; }

    [JsonIgnore]
    public double EffectiveLearningRate => LearningRate ?? DefaultsOf(Model).LearningRate;
    /// <summary>At most this many epochs; null means 1000 on a real dataset (MMRec's cap) and 10 on the built-in one.</summary>
    public int? Epochs { get; init; }

    [JsonIgnore]
    public int EffectiveEpochs => Epochs ?? (Data is null ? 10 : 1000);
    /// <summary>Early-stopping patience; null means the model's published one.</summary>
    public int? Patience { get; init; }

    [JsonIgnore]
    public int EffectivePatience => Patience ?? DefaultsOf(Model).Patience;

    /// <summary>
    /// MMRec's learning_rate_scheduler [factor, step]: lr · factor^(epoch/step); factor 1 keeps it constant; null means
    /// the model's published schedule.
    /// </summary>
    public double? LearningRateFactor { get; init; }

    [JsonIgnore]
    public double EffectiveLearningRateFactor => LearningRateFactor ?? DefaultsOf(Model).LearningRateFactor;
    public int LearningRateStep { get; init; } = 50;
    public int Batch { get; init; } = 2048;
    public ulong Seed { get; init; } = 999;

    /// <summary>SEA's own options (ignored by the other models).</summary>
    public SeaOptions Sea { get; init; } = new();

    /// <summary>FREEDOM's own options (ignored by the other models).</summary>
    public FreedomOptions Freedom { get; init; } = new();

    /// <summary>VBPR's own options (ignored by the other models).</summary>
    public VbprOptions Vbpr { get; init; } = new();

    /// <summary>VBPR+SEA's own options (ignored by the other models).</summary>
    public VbprSeaOptions VbprSea { get; init; } = new();

    /// <summary>FREEDOM+SEA's own options, FREEDOM's among them (ignored by the other models).</summary>
    public FreedomSeaOptions FreedomSea { get; init; } = new();

    /// <summary>AlignRec's own options (ignored by the other models).</summary>
    [JsonPropertyName("alignrec")]
    public AlignRecOptions AlignRec { get; init; } = new();

    /// <summary>DRepMRec's own options (ignored by the other models).</summary>
    [JsonPropertyName("drepmrec")]
    public DRepMRecOptions DRepMRec { get; init; } = new();

    public static readonly string[] Models = ["sea", "lightgcn", "mostpop", "freedom", "vbpr", "vbpr-sea", "freedom-sea", "alignrec", "drepmrec"];

    /// <summary>A model's published training settings, used where the run leaves them unset.</summary>
    public sealed record ModelDefaults(double LearningRate, double LearningRateFactor = 1.0, int Patience = 20);

    public static ModelDefaults DefaultsOf(string model) => model switch
    {
        "sea" => new(LearningRate: 1e-4),
        "freedom" or "freedom-sea" => new(LearningRate: 1e-3), // MMRec's FREEDOM.yaml; the FREEDOM+SEA log
        "vbpr" or "vbpr-sea" => new(LearningRate: 1e-3), // MMRec's overall.yaml; the VBPR+SEA log
        "alignrec" or "drepmrec" => new(LearningRate: 5e-4, LearningRateFactor: 0.96, Patience: 30),
        _ => new(LearningRate: 1e-3),
    };

    [JsonIgnore]
    public TrainerOptions TrainerOptions => new()
    {
        MaxEpochs = EffectiveEpochs,
        Patience = EffectivePatience,
        BatchSize = Batch,
        LearningRate = EffectiveLearningRate,
        LearningRateFactor = EffectiveLearningRateFactor,
        LearningRateStep = LearningRateStep,
        Seed = Seed,
    };

    /// <summary>Whether the model reads the dataset's image and text feature files (they are then loaded and part of the checkpoint's fingerprint).</summary>
    [JsonIgnore]
    public bool NeedsFeatures => Model is not ("lightgcn" or "mostpop" or "alignrec");

    /// <summary>Whether the model reads the multimodal features (mm_feat.npy or <see cref="MultimodalFeatures"/>), as <see cref="NeedsFeatures"/>.</summary>
    [JsonIgnore]
    public bool NeedsMultimodalFeatures => Model == "alignrec";

    /// <summary>The dataset the run trains on.</summary>
    public Dataset LoadData()
    {
        var data = Data is null ? SyntheticInteractions.BuiltIn()
            : Dataset.Load(Data, loadFeatures: NeedsFeatures, loadMultimodal: NeedsMultimodalFeatures && MultimodalFeatures is null);
        return NeedsMultimodalFeatures && MultimodalFeatures is not null ? data.WithMultimodalFeatures(MultimodalFeatures) : data;
    }

    /// <summary>
    /// The model, initialised from <see cref="Seed"/> (the sampler draws from its own stream, seeded from Seed + 1).
    /// The caller disposes it.
    /// </summary>
    public RecommenderModel BuildModel(Dataset data, Backend backend) => Model switch
    {
        "sea" => BuildSea(data, backend),
        "lightgcn" => new LightGcn(backend, data.Users, data.Items, Adjacency(data, backend), Layers, Reg, new Rng(Seed), Dimension, regForm: RegForm),
        "mostpop" => new MostPop(backend, data.Users, data.Items, data.Train.Items),
        "freedom" => BuildFreedom(data, backend),
        "vbpr" => BuildVbpr(data, backend),
        "vbpr-sea" => BuildVbprSea(data, backend),
        "freedom-sea" => BuildFreedomSea(data, backend),
        "alignrec" => BuildAlignRec(data, backend),
        "drepmrec" => BuildDRepMRec(data, backend),
        _ => throw new ArgumentException($"unknown model '{Model}': expected one of {string.Join(", ", Models)}"),
    };

    private static CsrMatrix Adjacency(Dataset data, Backend backend) =>
        InteractionGraph.NormalizedAdjacency(backend, data.Users, data.Items, data.Train.Users, data.Train.Items, DType.Float32);

    private static CsrMatrix UserItemBlock(Dataset data, Backend backend) =>
        InteractionGraph.UserItemBlock(backend, data.Users, data.Items, data.Train.Users, data.Train.Items, DType.Float32);

    /// <summary>The dataset's image and text features, or an error naming the model and the missing files.</summary>
    private static (FeatureMatrix Image, FeatureMatrix Text) BothFeatures(Dataset data, string model)
    {
        if (data.Image is null || data.Text is null)
            throw new InvalidOperationException(
                $"{model} needs both {Dataset.ImageFeatureFile} and {Dataset.TextFeatureFile} in {data.Folder} " +
                $"(missing: {string.Join(", ", new[] { data.Image is null ? Dataset.ImageFeatureFile : null, data.Text is null ? Dataset.TextFeatureFile : null }.OfType<string>())}); " +
                "'sea synth-features' makes semi-synthetic ones");
        return (data.Image, data.Text);
    }

    private Sea BuildSea(Dataset data, Backend backend)
    {
        var (image, text) = BothFeatures(data, "SEA");
        var o = Sea with { Layers = Layers, Embedding = Dimension };
        var itemGraph = ItemGraph(backend, image, text, o.ImageWeight, o.KnnK);
        return new Sea(backend, data.Users, data.Items, Adjacency(data, backend), itemGraph, image, text, o, new Rng(Seed));
    }

    private Freedom BuildFreedom(Dataset data, Backend backend)
    {
        var (image, text) = BothFeatures(data, "FREEDOM");
        var itemGraph = ItemGraph(backend, image, text, Freedom.ImageWeight, Freedom.KnnK);
        return new Freedom(backend, data.Users, data.Items, data.Train, itemGraph, image, text, Freedom, Layers, new Rng(Seed), Dimension);
    }

    private FreedomSea BuildFreedomSea(Dataset data, Backend backend)
    {
        var (image, text) = BothFeatures(data, "FREEDOM+SEA");
        var itemGraph = ItemGraph(backend, image, text, FreedomSea.Freedom.ImageWeight, FreedomSea.Freedom.KnnK);
        return new FreedomSea(backend, data.Users, data.Items, data.Train, itemGraph, image, text, FreedomSea, Layers, new Rng(Seed), Dimension);
    }

    /// <summary>The item–item kNN graph of the image and text features, weighted w and 1 − w (SEA's, FREEDOM's S), cached on disk.</summary>
    private static CsrMatrix ItemGraph(Backend backend, FeatureMatrix image, FeatureMatrix text, double imageWeight, int knnK) =>
        ItemKnnGraph.Build(backend, [(image, imageWeight), (text, 1 - imageWeight)], knnK, DType.Float32, ItemKnnGraph.DefaultCacheFolder, out _);

    private Vbpr BuildVbpr(Dataset data, Backend backend)
    {
        var (image, text) = BothFeatures(data, "VBPR");
        return new Vbpr(backend, data.Users, data.Items, image, text, Vbpr, new Rng(Seed), Dimension);
    }

    private VbprSea BuildVbprSea(Dataset data, Backend backend)
    {
        var (image, text) = BothFeatures(data, "VBPR+SEA");
        return new VbprSea(backend, data.Users, data.Items, image, text, VbprSea, new Rng(Seed), Dimension);
    }

    private AlignRec BuildAlignRec(Dataset data, Backend backend)
    {
        var features = data.Multimodal ?? throw new InvalidOperationException(
            $"AlignRec needs one fused image + text feature vector per item: {Dataset.MultimodalFeatureFile} in {data.Folder} " +
            "(the released runs use 768-d BEiT-3 features) or a .npy given as --mm-features; 'sea synth-features' makes a semi-synthetic one");
        var o = AlignRec with { Layers = Layers, Embedding = Dimension };
        var itemGraph = ItemKnnGraph.BuildCosine(backend, features, o.KnnK, DType.Float32, ItemKnnGraph.DefaultCacheFolder, out _);
        return new AlignRec(backend, data.Users, data.Items, Adjacency(data, backend), UserItemBlock(data, backend), itemGraph, features,
            Batch, o, new Rng(Seed));
    }

    private DRepMRec BuildDRepMRec(Dataset data, Backend backend)
    {
        var (image, text) = BothFeatures(data, "DRepMRec");
        var o = DRepMRec with { Layers = Layers, Embedding = Dimension };
        var modalities = new[] { ("image", image), ("text", text) }.Select(m =>
            (m.Item1, m.Item2, ItemKnnGraph.BuildCosine(backend, m.Item2, o.KnnK, DType.Float32, ItemKnnGraph.DefaultCacheFolder, out _))).ToArray();
        return new DRepMRec(backend, data.Users, data.Items, Adjacency(data, backend), UserItemBlock(data, backend), modalities, Batch, o, new Rng(Seed));
    }
}
