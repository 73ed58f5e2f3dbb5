namespace Engine.Training.Models;

/// <summary>
/// FREEDOM+SEA's options (MODELS.md §3.2, our reconstruction of the SEA authors' logged XFREEDOM run): FREEDOM's own at
/// the logged (ρ 0.8, λ 0), and SEA's terms on FREEDOM's projections. α, τ and β were not logged; the defaults are SEA's
/// command-line defaults, from which the log's head widths 33 and 63 came too.
/// </summary>
public sealed record FreedomSeaOptions
{
    /// <summary>FREEDOM's options: ρ (<c>EdgeDropout</c>) 0.8 and λ (<c>RegWeight</c>) 0 as the FREEDOM+SEA log, k 10, image weight 0.1.</summary>
    public FreedomOptions Freedom { get; init; } = new();

    /// <summary>α, the weight of SoloSim: InfoNCE of the text head's outputs over the image head's, all items.</summary>
    public double Alpha { get; init; } = 0.012;

    /// <summary>τ, SoloSim's temperature (SEA's command-line default; the log's config has no <c>temp</c>).</summary>
    public double Temperature { get; init; } = 0.046;

    /// <summary>β, the distancing term's weight, as β/2 · (text + image).</summary>
    public double Beta { get; init; } = 0.006;

    /// <summary>The distancing between each modality's generic and unique halves: CLUB (default) or SEA's −MSE alternative.</summary>
    public Distance Distance { get; init; } = Distance.Club;

    /// <summary>Adam steps of CLUB's network per batch (SEA's trainer).</summary>
    public int ClubSteps { get; init; } = 50;

    /// <summary>The learning rate of CLUB's own Adam (the run's lr, 1e-3: SEA's trainer gives q the model's learning rate).</summary>
    public double ClubLearningRate { get; init; } = 1e-3;

    /// <summary>Hidden width of CLUB's network (SEA's 8).</summary>
    public int ClubHidden { get; init; } = 8;

    /// <summary>Hidden width of the two projection heads (the log's ProjectHead(32 → 33 → 33 → 63)).</summary>
    public int ProjectionHidden { get; init; } = 33;

    /// <summary>Output width of the two projection heads (the log's 63).</summary>
    public int ProjectionOut { get; init; } = 63;
}
