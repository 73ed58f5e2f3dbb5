namespace Engine.Training.Models;

/// <summary>
/// VBPR+SEA's options (MODELS.md §3.1): the released XVBPR's settings as its Baby run logged them (VBPR+SEA.log,
/// MM_OOD's XVBPR.yaml), with CLUB as the distancing term as that run used it (reconstructed; −MSE is the released code).
/// </summary>
public sealed record VbprSeaOptions
{
    /// <summary>λ (`reg_weight`), the weight of MMRec's EmbLoss on the batch's user, positive and negative rows after dropout (2.0 in the log).</summary>
    public double RegWeight { get; init; } = 2.0;

    /// <summary>α (`alpha_contrast`), the weight of SoloSim: InfoNCE of the text head's outputs over the image head's, all items.</summary>
    public double Alpha { get; init; } = 0.1;

    /// <summary>τ (`temp`), SoloSim's temperature.</summary>
    public double Temperature { get; init; } = 0.1;

    /// <summary>The distancing term between each modality's generic and unique halves: CLUB (the logged run, default) or −MSE (L2, the released code).</summary>
    public Distance Distance { get; init; } = Distance.Club;

    /// <summary>β, CLUB's weight, as β/2 · (text + image). Not logged: SEA's command-line default.</summary>
    public double Beta { get; init; } = 0.006;

    /// <summary>c (`explore_loss_coeff`), the −MSE term's weight, as c/2 · (text + image).</summary>
    public double MseWeight { get; init; } = 0.01;

    /// <summary>Adam steps of CLUB's network per batch (SEA's trainer).</summary>
    public int ClubSteps { get; init; } = 50;

    /// <summary>The learning rate of CLUB's own Adam (the run's lr, 1e-3).</summary>
    public double ClubLearningRate { get; init; } = 1e-3;

    /// <summary>Hidden width of CLUB's network (SEA's 8).</summary>
    public int ClubHidden { get; init; } = 8;

    /// <summary>Hidden width of the two projection heads (`hidden_dim`).</summary>
    public int ProjectionHidden { get; init; } = 64;

    /// <summary>Output width of the two projection heads (`out_dim`); the user table is d + 2 × this wide.</summary>
    public int ProjectionOut { get; init; } = 32;

    /// <summary>Dropout on the user and item tables (the code's 0.01), inverted.</summary>
    public double Dropout { get; init; } = 0.01;

    /// <summary>Dropout also at evaluation, as the code does (its call ignores the train/eval mode): evaluation scores are then random.</summary>
    public bool DropoutAtEvaluation { get; init; } = true;
}
