using Engine.Autograd;
using Engine.Training.Data;
using Engine.Training.Layers;

namespace Engine.Training.Models;

/// <summary>
/// AlignRec's stage 2 ("AlignRec: Aligning and Training in Multimodal Recommendations", CIKM 2024, arXiv 2403.12384) as its
/// released code computes it; shared/spec/MODELS.md §4 is the reference. One fused multimodal feature vector per item
/// (BEiT-3's in the paper) is projected by T and purifies the item ID embeddings, E_i ⊙ σ(G·T(Φ)); one hop over
/// the weighted item graph S_cos gives the items' modal embeddings H and R·H the users'. The behaviour line is
/// LightGCN-mean over Â; Z = behaviour + modal. Loss: BPR + 0.1·(1 − cos(user, positive)) + reg·L5
/// + λ_cl·(in-batch InfoNCE of modal against behaviour rows, items and users) + λ_sim·L8 on H.
/// </summary>
public sealed class AlignRec : TwoLineModel
{
    private readonly AlignRecOptions options;
    private readonly ModalBranch multimodal;
    private readonly Var[] unused;

    public AlignRec(Backend backend, int users, int items, CsrMatrix adjacency, CsrMatrix userItem, CsrMatrix itemGraph,
        FeatureMatrix features, int batchSize, AlignRecOptions options, Rng rng, DType dtype = DType.Float32)
        : base(backend, users, items, adjacency, userItem, options.Layers, options.Embedding, batchSize, options.RegWeight,
            options.SimilarityWeight, dtype, rng)
    {
        if (features.Rows != items) throw new ArgumentException($"the multimodal features have {features.Rows} rows, not {items}");
        this.options = options;
        int d = options.Embedding;
        multimodal = new ModalBranch("mm", backend, features, itemGraph, d, trainable: true, dtype, rng, options.LayerNorm);
        // The released model builds these and never calls them; they are kept so that the parameter count and the
        // random draws before them match it (query_common: Linear d→d, tanh, Linear d→1 without bias; gate_mm_prefer).
        var queryCommon = new Linear(backend, d, d, dtype, rng, "query_common.0");
        var queryWeight = Var.Parameter(Init.LinearDefault(backend, 1, d, d, dtype, rng), "query_common.2.weight");
        var preferenceGate = new Linear(backend, d, d, dtype, rng, "gate_mm_prefer.0");
        unused = [.. queryCommon.Parameters, queryWeight, .. preferenceGate.Parameters];
    }

    public override string Name => "alignrec";
    public AlignRecOptions Options => options;

    public override IReadOnlyList<Var> Parameters => [UserEmbedding, ItemEmbedding, .. multimodal.Parameters, .. unused];

    /// <summary>Whether this epoch is in <see cref="AlignRecOptions.WarmupUserItem"/>'s warm-up.</summary>
    private bool warmingUp;

    public override void BeforeEpoch(int epoch) => warmingUp = InWarmup(epoch);

    /// <summary>epoch / 10 during the warm-up (the code's (e + 1)/10 with e from 0), else 1.</summary>
    public override double LearningRateScale(int epoch) => InWarmup(epoch) ? epoch / (double)AlignRecOptions.WarmupEpochs : 1;

    protected override bool RankingLoss => !warmingUp;

    private bool InWarmup(int epoch) => options.WarmupUserItem && epoch <= AlignRecOptions.WarmupEpochs;

    /// <summary>Purifier, then one hop over S_cos: H = S·(E_i ⊙ σ(G·T(Φ))); modal line [R·H; H].</summary>
    protected override Lines Forward()
    {
        var h = multimodal.GateAndPropagate(ItemEmbedding, multimodal.Project());
        return new Lines(BehaviourLine(), WithUsers(h), [(multimodal, h)]);
    }

    protected override IEnumerable<Var> AlignmentTerms(Lines lines, BatchRows rows, Var user, Var positive)
    {
        if (options.UserItemAlignmentWeight != 0 && !warmingUp)
            yield return Term("uia", Losses.CosineDistance(user, positive) * options.UserItemAlignmentWeight);
        if (options.ContrastWeight != 0)
            yield return Term("cca", SameEntityAlignment(lines, rows, options.Temperature) * options.ContrastWeight);
    }
}
