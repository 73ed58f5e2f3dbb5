namespace Engine.Training.Models;

/// <summary>VBPR's options (MODELS.md §1; MMRec's VBPR.yaml).</summary>
public sealed record VbprOptions
{
    /// <summary>
    /// λ (`reg_weight`), the weight of MMRec's EmbLoss on the batch's user, positive and negative rows. MMRec's grid is
    /// {2.0, 1.0, 0.1, 0.01, 1e-3, 1e-4, 1e-5} and the published row's choice is not recorded; 2.0 is the one value on
    /// record for a VBPR run on Baby (the SEA authors' VBPR+SEA log), so VBPR and VBPR+SEA compare at the same λ.
    /// </summary>
    public double RegWeight { get; init; } = 2.0;
}
