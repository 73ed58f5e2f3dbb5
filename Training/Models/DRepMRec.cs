using Engine.Autograd;
using Engine.Training.Data;

namespace Engine.Training.Models;

/// <summary>
/// DRepMRec ("DREAM" in v2; arXiv 2404.11119) as <b>our reconstruction</b>: no code is public, and every choice
/// beyond the paper's outline is ours (shared/spec/MODELS.md §5). A behaviour line (LightGCN-mean over Â from ID
/// embeddings) and a modal line kept apart: per modality, the trainable features Φ_m through T_m, a filter gate
/// X_m ⊙ σ(G_m·X_m), one hop over the modality's weighted item graph S_cos; users get R·H_m; the modalities are
/// averaged. Z = behaviour + modal. Loss: BPR + reg·L5 + λ_intra·(InfoNCE of the same item and the same user across
/// the lines) + λ_inter·(InfoNCE of users against their positive items across the lines) + λ_S·Σ_m L8(H_m).
/// </summary>
public sealed class DRepMRec : TwoLineModel
{
    private readonly DRepMRecOptions options;
    private readonly ModalBranch[] modalities;

    /// <param name="modalities">each modality's features and weighted item graph (image, then text)</param>
    public DRepMRec(Backend backend, int users, int items, CsrMatrix adjacency, CsrMatrix userItem,
        IReadOnlyList<(string Name, FeatureMatrix Features, CsrMatrix ItemGraph)> modalities, int batchSize, DRepMRecOptions options,
        Rng rng, DType dtype = DType.Float32)
        : base(backend, users, items, adjacency, userItem, options.Layers, options.Embedding, batchSize, options.RegWeight,
            options.SimilarityWeight, dtype, rng)
    {
        if (modalities.Count == 0) throw new ArgumentException("DRepMRec needs at least one modality");
        foreach (var (name, features, _) in modalities)
            if (features.Rows != items) throw new ArgumentException($"the {name} features have {features.Rows} rows, not {items}");
        this.options = options;
        this.modalities = modalities.Select(m =>
            new ModalBranch(m.Name, backend, m.Features, m.ItemGraph, options.Embedding, options.TrainFeatures, dtype, rng)).ToArray();
    }

    public override string Name => "drepmrec";
    public DRepMRecOptions Options => options;

    public override string? Note =>
        "DRepMRec is our reconstruction (MODELS.md §5): no code of DRepMRec/DREAM is public, and every choice beyond the paper's outline is ours";

    public override IReadOnlyList<Var> Parameters => [UserEmbedding, ItemEmbedding, .. modalities.SelectMany(m => m.Parameters)];

    protected override Lines Forward()
    {
        var propagated = new (ModalBranch Branch, Var Items)[modalities.Length];
        for (int m = 0; m < modalities.Length; m++)
        {
            var x = modalities[m].Project();
            propagated[m] = (modalities[m], modalities[m].GateAndPropagate(options.Gate == FilterGate.Self ? x : ItemEmbedding, x));
        }
        // R is linear: combine the items first, so the users take one R·H, not one per modality.
        var items = propagated[0].Items;
        for (int m = 1; m < modalities.Length; m++) items += propagated[m].Items;
        if (options.Combine == ModalityCombine.Mean && modalities.Length > 1) items *= 1.0 / modalities.Length;
        return new Lines(BehaviourLine(), WithUsers(items), propagated);
    }

    protected override IEnumerable<Var> AlignmentTerms(Lines lines, BatchRows rows, Var user, Var positive)
    {
        if (options.IntraWeight != 0)
            yield return Term("intra", SameEntityAlignment(lines, rows, options.Temperature) * options.IntraWeight);
        if (options.InterWeight != 0)
        {
            // A user against its positive item, across the lines both ways.
            double tau = options.Temperature;
            var inter = Losses.NormalizedInfoNce(lines.Behaviour.GatherRows(rows.Users), lines.Modal.GatherRows(rows.PositiveNodes), tau) +
                        Losses.NormalizedInfoNce(lines.Modal.GatherRows(rows.Users), lines.Behaviour.GatherRows(rows.PositiveNodes), tau);
            yield return Term("inter", inter * options.InterWeight);
        }
    }
}
