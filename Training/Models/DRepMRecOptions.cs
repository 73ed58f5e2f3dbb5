namespace Engine.Training.Models;

/// <summary>How DRepMRec's modal-specific filter gate is fed (MODELS.md §5, "filter gate").</summary>
public enum FilterGate
{
    /// <summary>X ⊙ σ(G·X) on the projected features X = T(Φ): the two lines share no parameter (our default).</summary>
    Self,

    /// <summary>AlignRec's and MGCN's purifier E_i ⊙ σ(G·X): the modal line gates the behaviour line's item ID embeddings.</summary>
    Purifier,
}

/// <summary>How DRepMRec combines its modalities' modal embeddings.</summary>
public enum ModalityCombine
{
    Mean,
    Sum,
}

/// <summary>
/// DRepMRec's options. DRepMRec (arXiv 2404.11119; v2 "DREAM") has no public code: this is our reconstruction
/// (MODELS.md §5), built from AlignRec's pieces; every default below is our choice within §5's table and grids.
/// The learning rate (5e-4, the middle of §5's grid, as AlignRec's one-run default), its schedule (0.96 per 50
/// epochs) and the patience (30) are in <see cref="RunConfig.DefaultsOf"/>.
/// </summary>
public sealed record DRepMRecOptions
{
    /// <summary>λ_intra, weight of the Intra-Alignment (same user or item across the two lines); 0.01 of {1e-3, 1e-2, 0.1}.</summary>
    public double IntraWeight { get; init; } = 0.01;

    /// <summary>λ_inter, weight of the Inter-Alignment (user against interacted item across the lines); 0.01 of {1e-3, 1e-2, 0.1}.</summary>
    public double InterWeight { get; init; } = 0.01;

    /// <summary>λ_S, weight of the Similarity Supervised Signal (L8 per modality, summed); 0.1 of {0.1, 0.3, 0.5}.</summary>
    public double SimilarityWeight { get; init; } = 0.1;

    /// <summary>Weight of the L2 penalty ½(‖Z_u‖² + ‖Z_p‖² + ‖Z_n‖²)/(configured batch size), 1e-4 as AlignRec.</summary>
    public double RegWeight { get; init; } = 1e-4;

    /// <summary>InfoNCE temperature τ, 0.2 as AlignRec.</summary>
    public double Temperature { get; init; } = 0.2;

    /// <summary>Neighbours per item in each modality's weighted item graph S_cos, 10 as AlignRec.</summary>
    public int KnnK { get; init; } = 10;

    /// <summary>The filter gate: self-gate (default) or AlignRec's purifier.</summary>
    public FilterGate Gate { get; init; } = FilterGate.Self;

    /// <summary>Whether Adam trains the feature tables Φ_m (default; the similarity signal exists to anchor them) or they stay constant.</summary>
    public bool TrainFeatures { get; init; } = true;

    /// <summary>How the modalities' modal embeddings are combined: mean (default) or sum.</summary>
    public ModalityCombine Combine { get; init; } = ModalityCombine.Mean;

    // Widths and depth (RunConfig's --dimension and --layers replace them in a run; small values make float64 gradient checks cheap).
    public int Embedding { get; init; } = 64;
    public int Layers { get; init; } = 2;
}
