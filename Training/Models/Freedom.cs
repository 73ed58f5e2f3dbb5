using Engine.Autograd;
using Engine.Training.Checkpoints;
using Engine.Training.Data;
using Engine.Training.Graph;
using Engine.Training.Layers;
using Engine.Training.Sampling;

namespace Engine.Training.Models;

/// <summary>
/// FREEDOM (Zhou &amp; Shen, MM'23, "A Tale of Two Graphs: Freezing and Denoising Graph Structures for Multimodal
/// Recommendation") as MMRec's freedom.py computes it; MODELS.md §2 is the reference. Users and items are ID tables
/// propagated LightGCN-mean over a user–item graph that is degree-sensitively pruned anew before every epoch (the full
/// Â at evaluation); items add one hop over the frozen item kNN graph S. The features live in trainable copies Φ_m
/// whose projections T_m(Φ_m) only enter the loss, as λ-weighted BPR terms against the propagated users.
/// Not sealed, so that a model built on it (FREEDOM+SEA) can add terms to <see cref="FreedomLoss"/> and reuse
/// <see cref="Projections"/> and <see cref="Forward"/>.
/// </summary>
public class Freedom : RecommenderModel
{
    private readonly CsrMatrix adjacency;
    private readonly CsrMatrix itemGraph;
    private readonly DegreeSensitivePruning? pruning;
    private readonly Var userEmbedding;
    private readonly Var itemEmbedding;
    private readonly Var imageFeatures;
    private readonly Var textFeatures;
    private readonly Linear imageProjection;
    private readonly Linear textProjection;
    private CsrMatrix? prunedGraph;

    /// <param name="train">the training pairs: the graphs Â and Â_prune are built from them</param>
    /// <param name="itemGraph">S, the item kNN graph (G3) of the original features</param>
    /// <param name="layers">propagation layers over the user–item graph (MMRec's <c>n_ui_layers</c>)</param>
    public Freedom(Backend backend, int users, int items, InteractionSet train, CsrMatrix itemGraph, FeatureMatrix image,
        FeatureMatrix text, FreedomOptions options, int layers, Rng rng, int dimension = 64, DType dtype = DType.Float32)
    {
        if (itemGraph.Rows != items) throw new ArgumentException($"the item graph has {itemGraph.Rows} rows, not {items}");
        if (image.Rows != items || text.Rows != items)
            throw new ArgumentException($"the features have {image.Rows} (image) and {text.Rows} (text) rows, not {items}");
        if (layers < 0) throw new ArgumentOutOfRangeException(nameof(layers), layers, "cannot be negative");
        if (!(options.RegWeight >= 0 && double.IsFinite(options.RegWeight)))
            throw new ArgumentException($"FREEDOM's λ (reg weight) must be finite and ≥ 0, got {options.RegWeight}");
        Users = users;
        Items = items;
        Layers = layers;
        Options = options;
        this.itemGraph = itemGraph;
        adjacency = InteractionGraph.NormalizedAdjacency(backend, users, items, train.Users, train.Items, dtype,
            DegreeSensitivePruning.DegreeOffset);
        if (options.EdgeDropout != 0)
            pruning = new DegreeSensitivePruning(users, items, train.Users, train.Items, options.EdgeDropout);
        userEmbedding = Var.Parameter(Init.XavierUniform(backend, users, dimension, dtype, rng), "user_embedding");
        itemEmbedding = Var.Parameter(Init.XavierUniform(backend, items, dimension, dtype, rng), "item_id_embedding");
        imageFeatures = Var.Parameter(image.ToTensor(backend, dtype), "image_embedding");
        imageProjection = new Linear(backend, image.Cols, dimension, dtype, rng, "image_trs");
        textFeatures = Var.Parameter(text.ToTensor(backend, dtype), "text_embedding");
        textProjection = new Linear(backend, text.Cols, dimension, dtype, rng, "text_trs");
        PruningRng = new Rng(rng.NextUInt64());
    }

    public override string Name => "freedom";
    public int Users { get; }
    public int Items { get; }
    public int Layers { get; }
    public FreedomOptions Options { get; }

    /// <summary>Draws every epoch's pruned graph; part of the training state, so a resumed run draws the same graphs.</summary>
    public Rng PruningRng { get; }

    /// <summary>The graph this epoch's batches propagate over: the epoch's pruned graph, or Â when ρ = 0.</summary>
    public CsrMatrix TrainingGraph => pruning is null ? adjacency
        : prunedGraph ?? throw new InvalidOperationException("FREEDOM draws its pruned graph in BeforeEpoch: call it before the epoch's first loss");

    public override IReadOnlyList<Var> Parameters =>
        [userEmbedding, itemEmbedding, imageFeatures, .. imageProjection.Parameters, textFeatures, .. textProjection.Parameters];

    /// <summary>A fresh Â_prune for the epoch (MMRec's pre_epoch_processing); nothing when ρ = 0.</summary>
    public override void BeforeEpoch(int epoch)
    {
        if (pruning is null) return;
        prunedGraph?.Dispose();
        prunedGraph = pruning.Draw(userEmbedding.Backend, PruningRng, userEmbedding.DType);
    }

    /// <summary>
    /// FREEDOM's loss; with λ = 0 the projections are not computed: their gradients, and so Adam's updates of Φ_m and
    /// T_m, would be exactly zero.
    /// </summary>
    protected override Var ComputeLoss(TrainingBatch batch) =>
        FreedomLoss(batch, Options.RegWeight == 0 ? null : Projections());

    /// <summary>
    /// BPR on the propagated users and items over <see cref="TrainingGraph"/>, plus, given the projections, λ times the
    /// BPR of the same users against each modality's projected items.
    /// </summary>
    protected Var FreedomLoss(TrainingBatch batch, (Var Text, Var Image)? projections)
    {
        var (user, item) = Forward(TrainingGraph);
        var u = user.GatherRows(Index(user.Backend, batch.Users));
        var loss = Term("bpr", Bpr(u, item, batch));
        if (projections is not { } g) return loss;
        return loss + Term("modality_bpr", (Bpr(u, g.Text, batch) + Bpr(u, g.Image, batch)) * Options.RegWeight);
    }

    /// <summary>G_t = T_t(Φ_t) and G_v = T_v(Φ_v), I × d each.</summary>
    protected (Var Text, Var Image) Projections() => (textProjection.Forward(textFeatures), imageProjection.Forward(imageFeatures));

    /// <summary>Users: LightGCN-mean over <paramref name="graph"/>. Items: the same plus one hop of the ID table over S.</summary>
    protected (Var Users, Var Items) Forward(CsrMatrix graph)
    {
        var propagated = Propagation.LayerMean(graph, userEmbedding, itemEmbedding, Layers);
        var items = propagated.SliceRows(Users, Items) + itemGraph.Spmm(itemEmbedding);
        return (propagated.SliceRows(0, Users), items);
    }

    /// <summary>L1 BPR of the gathered users <paramref name="u"/> against the batch's positives and negatives in <paramref name="items"/>.</summary>
    private static Var Bpr(Var u, Var items, TrainingBatch batch)
    {
        var positive = (u * items.GatherRows(Index(u.Backend, batch.PositiveItems))).Sum(dim: 1);
        var negative = (u * items.GatherRows(Index(u.Backend, batch.NegativeItems))).Sum(dim: 1);
        return Losses.Bpr(positive, negative);
    }

    /// <summary>Ranks over the full Â, not the epoch's pruned graph.</summary>
    public override (Tensor Users, Tensor Items) RankingEmbeddings()
    {
        using var scope = Tape.Begin();
        using var noGrad = Tape.NoGrad();
        var (user, item) = Forward(adjacency);
        return (user.Value.Clone(), item.Value.Clone());
    }

    /// <summary>The parameters, then the generator of the pruned graphs (the graph itself is redrawn each epoch).</summary>
    public override void VisitState(IStateVisitor visitor)
    {
        base.VisitState(visitor);
        visitor.Rng("pruning_rng", PruningRng);
    }

    public override void Dispose()
    {
        prunedGraph?.Dispose();
        adjacency.Dispose();
        base.Dispose();
    }
}
