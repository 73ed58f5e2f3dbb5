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
    /// InfoNCE: row i of <paramref name="anchors"/> should pick row i of <paramref name="candidates"/> among all
    /// candidate rows. L = mean_i [ log Σ_j exp(⟨a_i, c_j⟩/τ) − ⟨a_i, c_i⟩/τ ]; <paramref name="symmetric"/> takes the
    /// mean of that and the same with the roles swapped (candidates picking anchors). One node on the tape, over the
    /// fused <see cref="Backend.InfoNceForward"/> and <see cref="Backend.InfoNceBackward"/>: no n×n logits are stored.
    /// </summary>
    public static Var InfoNce(Var anchors, Var candidates, double temperature, bool symmetric = false)
    {
        if (anchors.Rows != candidates.Rows || anchors.Cols != candidates.Cols)
            throw new EngineException(nameof(InfoNce), $"anchors {anchors.Shape} and candidates {candidates.Shape} must have the same shape (pairs on the diagonal)");
        var b = anchors.Backend;
        int n = anchors.Rows;
        double s = 1 / temperature, weight = symmetric ? 0.5 : 1;
        (Var Anchors, Var Candidates)[] directions = symmetric ? [(anchors, candidates), (candidates, anchors)] : [(anchors, candidates)];
        var loss = Tape.Output(b.Allocate(1, 1, anchors.DType), anchors, candidates);
        var lse = new Tensor[directions.Length];
        using (var perRow = b.Allocate(n, 1, anchors.DType))
        using (var positive = b.Allocate(n, 1, anchors.DType))
        {
            for (int k = 0; k < directions.Length; k++)
            {
                lse[k] = b.Allocate(n, 1, anchors.DType);
                b.InfoNceForward(directions[k].Anchors.Value, directions[k].Candidates.Value, s, lse[k], positive);
                b.AddScaled(lse[k], weight, perRow);
                b.AddScaled(positive, -weight, perRow);
            }
            b.Reduce(ReduceOp.Mean, perRow, loss.Value);
        }
        if (!loss.RequiresGrad)
        {
            foreach (var t in lse) t.Dispose();
            return loss;
        }
        foreach (var t in lse) Tape.Scoped(t); // the backward needs them
        Tape.Record(loss, () =>
        {
            // The fused backward takes its scale on the host; dL/dloss is on the device. So the gradients for
            // dL/dloss = 1 go to scratch tensors, then are multiplied by the real one there (no host read mid-backward).
            using var gradAnchors = anchors.RequiresGrad ? b.Allocate(n, anchors.Cols, anchors.DType) : null;
            using var gradCandidates = candidates.RequiresGrad ? b.Allocate(n, anchors.Cols, anchors.DType) : null;
            for (int k = 0; k < directions.Length; k++)
            {
                var (da, dc) = k == 0 ? (gradAnchors, gradCandidates) : (gradCandidates, gradAnchors);
                b.InfoNceBackward(directions[k].Anchors.Value, directions[k].Candidates.Value, s, lse[k], weight / n, da, dc);
            }
            foreach (var (v, g) in new[] { (anchors, gradAnchors), (candidates, gradCandidates) })
                if (g is not null) b.BinaryBackward(BinaryOp.Mul, g, loss.Grad!, g, v.GradForAccumulation(), null); // grad += g·dL/dloss
        });
        return loss;
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
