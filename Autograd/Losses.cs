namespace Engine.Autograd;

/// <summary>The losses the recommenders train with, composed from differentiable ops.</summary>
public static class Losses
{
    /// <summary>
    /// Bayesian personalised ranking: −mean_b log σ(pos_b − neg_b), in natural log, or in log base 2 when
    /// <paramref name="base2"/> (as SEA's released code). Scores are b×1.
    /// </summary>
    public static Var Bpr(Var positiveScores, Var negativeScores, bool base2 = false)
    {
        var loss = -(positiveScores - negativeScores).LogSigmoid().Mean();
        return base2 ? loss * (1 / Math.Log(2)) : loss;
    }

    /// <summary>
    /// One-directional InfoNCE: row i of <paramref name="anchors"/> should pick row i of <paramref name="candidates"/>
    /// among all candidate rows. L = mean_i [ log Σ_j exp(⟨a_i, c_j⟩/τ) − ⟨a_i, c_i⟩/τ ].
    /// </summary>
    public static Var InfoNce(Var anchors, Var candidates, double temperature)
    {
        if (anchors.Rows != candidates.Rows || anchors.Cols != candidates.Cols)
            throw new EngineException(nameof(InfoNce), $"anchors {anchors.Shape} and candidates {candidates.Shape} must have the same shape (pairs on the diagonal)");
        // 1/τ scales the anchors (n × d) rather than the n × n logits: one pass over n·d values instead of n².
        var scaled = anchors * (1 / temperature);
        var logits = scaled.MatMul(candidates, transB: true);
        var positive = (scaled * candidates).Sum(dim: 1);
        return logits.LogSumExpRows().Mean() - positive.Mean();
    }

    /// <summary>
    /// The Gaussian log-likelihood of y under N(μ, exp(logVar)), without the constant: mean over rows of
    /// Σ_d [ −(μ − y)² / (2·exp(logVar)) − logVar/2 ]. The CLUB estimator's network maximises it.
    /// </summary>
    public static Var GaussianLogLikelihood(Var mu, Var logVar, Var y)
    {
        var squared = (mu - y).Square() / logVar.Exp() * -0.5;
        return (squared - logVar * 0.5).Sum(dim: 1).Mean();
    }

    /// <summary>
    /// The CLUB estimate of an upper bound on the mutual information between paired rows x_i and y_i, given q's
    /// prediction of y from x (mean μ, log-variance ℓ) and a permutation π of the rows (the unpaired samples):
    /// max(0, ½ · mean_i Σ_d [(μ_id − y_π(i),d)² − (μ_id − y_id)²] / (2·exp(ℓ_id))).
    /// </summary>
    public static Var ClubUpperBound(Var mu, Var logVariance, Var y, Tensor permutation)
    {
        var shuffled = y.GatherRows(permutation);
        var gap = (mu - shuffled).Square() - (mu - y).Square();
        return (gap / (logVariance.Exp() * 2.0)).Sum(dim: 1).Mean().Scale(0.5).Relu();
    }

    /// <summary>Mean squared error: mean((a − b)²).</summary>
    public static Var MeanSquaredError(Var a, Var b) => (a - b).Square().Mean();
}
