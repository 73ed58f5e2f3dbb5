namespace Engine.Training.Models;

/// <summary>
/// AlignRec's options (MODELS.md §4; source: sjtulyf123/AlignRec_CIKM24, src/configs/model/ALIGNREC.yaml and
/// src/scripts.sh). Defaults are Baby's; the learning rate (5e-4), its schedule (0.96 per 50 epochs) and the
/// patience (30) are in <see cref="RunConfig.DefaultsOf"/>.
/// </summary>
public sealed record AlignRecOptions
{
    /// <summary>
    /// λ_cl, the weight of the content–category alignment (in-batch InfoNCE between the modal and behaviour lines).
    /// The yaml's commented-out single value 0.01, our one-run default (its grid: 1e-4, 1e-3, 5e-3, 1e-2, 0.1).
    /// </summary>
    public double ContrastWeight { get; init; } = 0.01;

    /// <summary>λ_sim, the weight of the similarity term (L8). 0.1, the lowest of the grid (0.1 … 0.5), our one-run default.</summary>
    public double SimilarityWeight { get; init; } = 0.1;

    /// <summary>Weight of the user–item alignment 1 − mean cos(user, positive item) (scripts.sh turns it on at 0.1).</summary>
    public double UserItemAlignmentWeight { get; init; } = 0.1;

    /// <summary>Weight of the L2 penalty ½(‖Z_u‖² + ‖Z_p‖² + ‖Z_n‖²)/(configured batch size) (reg_weight 1e-4).</summary>
    public double RegWeight { get; init; } = 1e-4;

    /// <summary>InfoNCE temperature τ (0.2).</summary>
    public double Temperature { get; init; } = 0.2;

    /// <summary>LayerNorm over the multimodal features before T (the code's <c>--use_ln</c>; off in its scripts).</summary>
    public bool LayerNorm { get; init; }

    /// <summary>
    /// The code's <c>--warmup_ui</c> (off in its scripts): for the first <see cref="WarmupEpochs"/> epochs the loss
    /// leaves out BPR and the user–item alignment, and the learning rate is scaled by epoch / <see cref="WarmupEpochs"/>.
    /// </summary>
    public bool WarmupUserItem { get; init; }

    public const int WarmupEpochs = 10;

    /// <summary>Neighbours per item in the weighted item graph S_cos (knn_k 10).</summary>
    public int KnnK { get; init; } = 10;

    // Widths and depth (RunConfig's --dimension and --layers replace them in a run; small values make float64 gradient checks cheap).
    public int Embedding { get; init; } = 64;
    public int Layers { get; init; } = 2;
}
