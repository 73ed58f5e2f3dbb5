namespace Engine.Training.Models;

/// <summary>How q, the CLUB network, is fitted inside every batch (SEA.md, "Training the CLUB network").</summary>
public enum ClubPairing
{
    /// <summary>The released code (behind the published numbers): cross-modal pairs, text-generic → image-generic and text-unique → image-unique.</summary>
    Released,

    /// <summary>The paper's text: generic → unique within each modality.</summary>
    Paper,
}

/// <summary>The distancing term between generic and unique parts.</summary>
public enum Distance
{
    /// <summary>The CLUB upper bound of their mutual information.</summary>
    Club,

    /// <summary>The paper's lightweight alternative: −mean (x − y)².</summary>
    L2,
}

/// <summary>Where ranking embeddings come from at evaluation.</summary>
public enum EvalEmbeddings
{
    /// <summary>A fresh forward pass with the current parameters (the engine's default).</summary>
    Recompute,

    /// <summary>The last training batch's forward, one optimiser step stale (what the released code ranks with).</summary>
    LastForward,
}

/// <summary>SEA's options; defaults are SEA.md's.</summary>
public sealed record SeaOptions
{
    /// <summary>Weight of the SoloSim alignment (InfoNCE) term.</summary>
    public double Alpha { get; init; } = 0.012;

    /// <summary>Weight of the distancing term, applied as β/2 · (term_text + term_image) (the code's ureg).</summary>
    public double Beta { get; init; } = 0.006;

    /// <summary>InfoNCE temperature.</summary>
    public double Temperature { get; init; } = 0.2;

    /// <summary>Neighbours per item in the item–item graph.</summary>
    public int KnnK { get; init; } = 10;

    /// <summary>Weight of the image graph in S = w·S_image + (1 − w)·S_text.</summary>
    public double ImageWeight { get; init; } = 0.1;

    public ClubPairing ClubPairing { get; init; } = ClubPairing.Released;
    public Distance Distance { get; init; } = Distance.Club;

    /// <summary>Adam steps of the CLUB network per batch.</summary>
    public int ClubSteps { get; init; } = 50;
    public double ClubLearningRate { get; init; } = 1e-4;

    /// <summary>
    /// Computes the linear chain over the constant features reassociated, F·(C·W)ᵀ instead of (F·Wᵀ)·Cᵀ: the same
    /// function and gradients with several times fewer FLOP (SEA.md, "What a batch costs").
    /// </summary>
    public bool Reassociate { get; init; } = true;

    public EvalEmbeddings EvalEmbeddings { get; init; } = EvalEmbeddings.Recompute;

    // Widths (SEA.md's; small values make float64 gradient checks cheap).
    public int Embedding { get; init; } = 64;
    public int MlpHidden { get; init; } = 256;
    public int ProjectionHidden { get; init; } = 64;
    public int ProjectionOut { get; init; } = 32;
    public int MiWidth { get; init; } = 32;
    public int ClubHidden { get; init; } = 8;
    public int Layers { get; init; } = 2;
}
