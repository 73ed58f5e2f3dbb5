namespace Engine.Training.Models;

/// <summary>FREEDOM's options; defaults are MODELS.md §2's Baby settings (MMRec's FREEDOM.yaml).</summary>
public sealed record FreedomOptions
{
    /// <summary>
    /// ρ (MMRec's <c>dropout</c>): the share of training pairs pruned away before every epoch, in [0, 1); 0 trains on
    /// the full Â. FREEDOM's grid is {0.8, 0.9}; 0.8 is the value SEA's authors ran.
    /// </summary>
    public double EdgeDropout { get; init; } = 0.8;

    /// <summary>
    /// λ (MMRec's <c>reg_weight</c>): weight of the two modality BPR terms that score the batch's items by their
    /// projected features T_m(Φ_m) against the propagated users; ≥ 0. FREEDOM's grid is {0, 1e-5, 1e-4, 1e-3} and its
    /// published choice is not recorded; 0 is the one recorded Baby run of this model family (SEA's authors' FREEDOM+SEA
    /// log at ρ 0.8, R@20 .1013 against FREEDOM's published .0992), and it skips the feature projections.
    /// </summary>
    public double RegWeight { get; init; } = 0;

    /// <summary>Neighbours per item in the item–item graph S (MMRec's <c>knn_k</c>).</summary>
    public int KnnK { get; init; } = 10;

    /// <summary>Weight of the image graph in S = w·S_image + (1 − w)·S_text (MMRec's <c>mm_image_weight</c>).</summary>
    public double ImageWeight { get; init; } = 0.1;
}
