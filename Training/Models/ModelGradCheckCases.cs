using Engine.Autograd;
using Engine.Training.Data;
using Engine.Training.Graph;
using Engine.Training.Sampling;

namespace Engine.Training.Models;

/// <summary>
/// Gradient checks of every model loss on a tiny problem in float64, with every parameter as an input: SEA with its
/// variants (reassociated or plain first layers, CLUB or negative-ℓ2 distancing, the α = β = 0 backbone), LightGCN,
/// FREEDOM (on a pruned graph with the modality terms, and on the full graph without them), VBPR, VBPR+SEA (CLUB or
/// −MSE distancing), FREEDOM+SEA (λ > 0 or λ = 0, CLUB or −MSE distancing), AlignRec (also with LayerNorm, warming up), and DRepMRec in its default and
/// its alternative gate, combination and frozen features.
/// </summary>
public static class ModelGradCheckCases
{
    private const int Users = 5, Items = 6;

    /// <summary>The configured batch size the tiny two-line models divide their L2 penalty by (the batch has 4 rows).</summary>
    public const int TinyBatchSize = 8;

    public static IReadOnlyList<GradCheckCase> All { get; } =
    [
        Sea("sea_loss", new SeaOptions()),
        Sea("sea_loss_plain_first_layers", new SeaOptions { Reassociate = false }),
        Sea("sea_loss_l2_distance", new SeaOptions { Distance = Distance.L2 }),
        Sea("sea_backbone_alpha_beta_0", new SeaOptions { Alpha = 0, Beta = 0 }),
        LightGcn("lightgcn_loss", RegForm.Squared),
        LightGcn("lightgcn_loss_mmrec_norm_penalty", RegForm.Norm),
        Freedom("freedom_loss", new FreedomOptions { EdgeDropout = 0.5, RegWeight = 0.5, KnnK = 2 }),
        Freedom("freedom_loss_full_graph_lambda_0", new FreedomOptions { EdgeDropout = 0, RegWeight = 0, KnnK = 2 }),
        Vbpr("vbpr_loss"),
        VbprSea("vbpr_sea_loss", new VbprSeaOptions()),
        VbprSea("vbpr_sea_loss_mse_distance", new VbprSeaOptions { Distance = Distance.L2 }),
        FreedomSea("freedom_sea_loss", new FreedomSeaOptions { Freedom = new FreedomOptions { RegWeight = 0.5 } }),
        FreedomSea("freedom_sea_loss_lambda_0", new FreedomSeaOptions()),
        FreedomSea("freedom_sea_loss_l2_distance", new FreedomSeaOptions { Distance = Distance.L2 }),
        new("alignrec_loss", (backend, rng) =>
        {
            var model = TinyAlignRec(backend, rng);
            return new GradCheckProblem(model.Parameters, () => model.Loss(TinyBatch));
        }),
        new("alignrec_loss_layer_norm_warming_up", (backend, rng) =>
        {
            var model = TinyAlignRec(backend, rng, TinyAlignRecWeights with { LayerNorm = true, WarmupUserItem = true });
            model.BeforeEpoch(1);
            return new GradCheckProblem(model.Parameters, () => model.Loss(TinyBatch));
        }),
        DRepMRec("drepmrec_loss", new DRepMRecOptions()),
        DRepMRec("drepmrec_loss_purifier_sum_frozen_features",
            new DRepMRecOptions { Gate = FilterGate.Purifier, Combine = ModalityCombine.Sum, TrainFeatures = false }),
    ];

    /// <summary>
    /// FREEDOM+SEA at toy widths (projections 4 wide, halves 2, heads 2 → 8 → 2, CLUB's network 2 wide), the given λ,
    /// half the edges pruned, α and β large enough that every term shows.
    /// </summary>
    public static FreedomSeaOptions Tiny(FreedomSeaOptions o) => o with
    {
        Freedom = o.Freedom with { EdgeDropout = 0.5, KnnK = 2 },
        Alpha = 0.5,
        Beta = 0.5,
        ProjectionHidden = 8,
        ProjectionOut = 2,
        ClubHidden = 2,
    };

    /// <summary>FREEDOM+SEA at <see cref="Tiny(FreedomSeaOptions)"/>'s widths on <see cref="TinyProblem"/>, float64, the first epoch's pruned graph drawn.</summary>
    public static (FreedomSea Model, TrainingBatch Batch) TinyFreedomSea(Backend backend, Rng rng, FreedomSeaOptions options)
    {
        var (_, image, text, batch) = TinyProblem(backend, rng);
        var o = Tiny(options);
        var itemGraph = ItemKnnGraph.Build(backend, [(image, o.Freedom.ImageWeight), (text, 1 - o.Freedom.ImageWeight)], o.Freedom.KnnK, DType.Float64, null, out _);
        var model = new FreedomSea(backend, Users, Items, TinyPairs, itemGraph, image, text, o, layers: 2, rng, dimension: 4, DType.Float64);
        model.BeforeEpoch(1);
        return (model, batch);
    }

    private static GradCheckCase FreedomSea(string name, FreedomSeaOptions options) => new(name, (backend, rng) =>
    {
        var (model, batch) = TinyFreedomSea(backend, rng, options);
        var permutations = model.PermutationRng.State;
        return new GradCheckProblem(model.Parameters, () =>
        {
            model.PermutationRng.State = permutations; // the same shuffles at every evaluation
            return model.Loss(batch);
        });
    });

    private static GradCheckCase Vbpr(string name) => new(name, (backend, rng) =>
    {
        var (_, image, text, batch) = TinyProblem(backend, rng);
        var model = new Vbpr(backend, Users, Items, image, text, new VbprOptions { RegWeight = 0.5 }, rng, dimension: 3, DType.Float64);
        return new GradCheckProblem(model.Parameters, () => model.Loss(batch));
    });

    /// <summary>VBPR+SEA at toy widths (projections 4 wide, halves 2, heads 2 → 8 → 2), every term weighted to show, dropout high enough to zero some rows' entries.</summary>
    public static VbprSeaOptions Tiny(VbprSeaOptions o) => o with
    {
        RegWeight = 0.5,
        Alpha = 0.5,
        Beta = 0.5,
        MseWeight = 0.5,
        ProjectionHidden = 8, // wide enough that no item's ReLUs are all 0 (a zero row before the rownorm has no usable gradient)
        ProjectionOut = 2,
        ClubHidden = 2,
        Dropout = 0.3,
    };

    /// <summary>VBPR+SEA at <see cref="Tiny(VbprSeaOptions)"/>'s widths on <see cref="TinyProblem"/>, float64, as its gradient checks build it.</summary>
    public static (VbprSea Model, TrainingBatch Batch) TinyVbprSea(Backend backend, Rng rng, VbprSeaOptions options)
    {
        var (_, image, text, batch) = TinyProblem(backend, rng);
        return (new VbprSea(backend, Users, Items, image, text, Tiny(options), rng, dimension: 4, DType.Float64), batch);
    }

    private static GradCheckCase VbprSea(string name, VbprSeaOptions options) => new(name, (backend, rng) =>
    {
        var (model, batch) = TinyVbprSea(backend, rng, options);
        var (permutations, masks) = (model.PermutationRng.State, model.DropoutRng.State);
        return new GradCheckProblem(model.Parameters, () =>
        {
            (model.PermutationRng.State, model.DropoutRng.State) = (permutations, masks); // the same draws at every evaluation
            return model.Loss(batch);
        });
    });

    private static AlignRecOptions TinyAlignRecWeights =>
        new() { ContrastWeight = 0.5, SimilarityWeight = 0.5, UserItemAlignmentWeight = 0.5, RegWeight = 0.5 };

    /// <summary>AlignRec at toy widths on <see cref="TinyProblem"/> (the image features as its multimodal ones), every weight large enough to show.</summary>
    public static AlignRec TinyAlignRec(Backend backend, Rng rng, AlignRecOptions? options = null)
    {
        var (adjacency, features, _, _) = TinyProblem(backend, rng);
        var o = (options ?? TinyAlignRecWeights) with { Embedding = 3, KnnK = 2 };
        var itemGraph = ItemKnnGraph.BuildCosine(backend, features, o.KnnK, DType.Float64, null, out _);
        return new AlignRec(backend, Users, Items, adjacency, TinyUserItemBlock(backend), itemGraph, features, TinyBatchSize, o, rng, DType.Float64);
    }

    /// <summary>DRepMRec at toy widths on <see cref="TinyProblem"/>'s image and text features, every weight large enough to show.</summary>
    public static DRepMRec TinyDRepMRec(Backend backend, Rng rng, DRepMRecOptions options)
    {
        var (adjacency, image, text, _) = TinyProblem(backend, rng);
        var o = options with { IntraWeight = 0.5, InterWeight = 0.5, SimilarityWeight = 0.5, RegWeight = 0.5, Embedding = 3, KnnK = 2 };
        var modalities = new[] { ("image", image), ("text", text) }
            .Select(m => (m.Item1, m.Item2, ItemKnnGraph.BuildCosine(backend, m.Item2, o.KnnK, DType.Float64, null, out _))).ToArray();
        return new DRepMRec(backend, Users, Items, adjacency, TinyUserItemBlock(backend), modalities, TinyBatchSize, o, rng, DType.Float64);
    }

    private static GradCheckCase DRepMRec(string name, DRepMRecOptions options) => new(name, (backend, rng) =>
    {
        var model = TinyDRepMRec(backend, rng, options);
        return new GradCheckProblem(model.Parameters, () => model.Loss(TinyBatch));
    });

    private static GradCheckCase LightGcn(string name, RegForm form) => new(name, (backend, rng) =>
    {
        var (adjacency, _, _, batch) = TinyProblem(backend, rng);
        var model = new LightGcn(backend, Users, Items, adjacency, layers: 2, regWeight: 0.1, rng, dimension: 3, DType.Float64, form);
        return new GradCheckProblem(model.Parameters, () => model.Loss(batch));
    });

    /// <summary>FREEDOM at width 3; the epoch's pruned graph is drawn once, so every evaluation sees the same one.</summary>
    private static GradCheckCase Freedom(string name, FreedomOptions options) => new(name, (backend, rng) =>
    {
        var (_, image, text, batch) = TinyProblem(backend, rng);
        var itemGraph = ItemKnnGraph.Build(backend, [(image, options.ImageWeight), (text, 1 - options.ImageWeight)], options.KnnK, DType.Float64, null, out _);
        var model = new Freedom(backend, Users, Items, TinyPairs, itemGraph, image, text, options, layers: 2, rng, dimension: 3, DType.Float64);
        model.BeforeEpoch(1);
        return new GradCheckProblem(model.Parameters, () => model.Loss(batch));
    });

    /// <summary>SEA.md's architecture at toy widths, with α and β large enough that every term shows in the gradient.</summary>
    public static SeaOptions Tiny(SeaOptions o) => o with
    {
        Alpha = o.Alpha == 0 ? 0 : 0.5,
        Beta = o.Beta == 0 ? 0 : 0.5,
        KnnK = 2,
        Embedding = 4,
        MlpHidden = 6,
        ProjectionHidden = 4,
        ProjectionOut = 3,
        MiWidth = 3,
        ClubHidden = 2,
    };

    private static GradCheckCase Sea(string name, SeaOptions options) => new(name, (backend, rng) =>
    {
        var (adjacency, image, text, batch) = TinyProblem(backend, rng);
        var o = Tiny(options);
        var itemGraph = ItemKnnGraph.Build(backend, [(image, o.ImageWeight), (text, 1 - o.ImageWeight)], o.KnnK, DType.Float64, null, out _);
        var model = new Sea(backend, Users, Items, adjacency, itemGraph, image, text, o, rng, DType.Float64);
        var permutations = model.PermutationRng.State;
        return new GradCheckProblem(model.Parameters, () =>
        {
            model.PermutationRng.State = permutations; // the same shuffles at every evaluation
            return model.Loss(batch);
        });
    });

    private static TrainingBatch TinyBatch => new([0, 2, 3, 4], [1, 3, 4, 5], [2, 0, 1, 3]);

    /// <summary>The tiny problem's training pairs.</summary>
    public static InteractionSet TinyPairs => new([0, 0, 1, 2, 2, 3, 4, 4], [0, 1, 2, 1, 3, 4, 5, 0]);

    /// <summary>Five users, six items, a few interactions, random image (8 wide) and text (6 wide) features.</summary>
    public static (CsrMatrix Adjacency, FeatureMatrix Image, FeatureMatrix Text, TrainingBatch Batch) TinyProblem(Backend backend, Rng rng)
    {
        var pairs = TinyPairs;
        var adjacency = InteractionGraph.NormalizedAdjacency(backend, Users, Items, pairs.Users, pairs.Items, DType.Float64);
        var image = new FeatureMatrix(Items, 8, Array.ConvertAll(rng.NormalArray(Items * 8, 0, 1), v => (float)v));
        var text = new FeatureMatrix(Items, 6, Array.ConvertAll(rng.NormalArray(Items * 6, 0, 1), v => (float)v));
        return (adjacency, image, text, TinyBatch);
    }

    /// <summary>R, the user–item block of <see cref="TinyProblem"/>'s adjacency.</summary>
    public static CsrMatrix TinyUserItemBlock(Backend backend) =>
        InteractionGraph.UserItemBlock(backend, Users, Items, TinyPairs.Users, TinyPairs.Items, DType.Float64);
}
