namespace Engine.Autograd;

/// <summary>The losses the recommenders train with: BPR and CLUB as fused nodes, the others composed from differentiable ops.</summary>
public static class Losses
{
    /// <summary>
    /// Bayesian personalised ranking: −mean_b log σ(pos_b − neg_b), in natural log, or in log base 2 when
    /// <paramref name="base2"/> (as SEA's released code). Scores are b×1. One node over the fused
    /// <see cref="Backend.BprRows"/>; its backward reads the 1×1 upstream gradient on the host, as the kernel takes its
    /// scale as a number (a training step has already waited for its loss).
    /// </summary>
    public static Var Bpr(Var positiveScores, Var negativeScores, bool base2 = false)
    {
        var backend = positiveScores.Backend;
        int rows = positiveScores.Rows;
        double factor = (base2 ? 1 / Math.Log(2) : 1) / rows; // the mean's 1/b and the change of base
        var loss = Tape.Output(backend.Allocate(1, 1, positiveScores.DType), positiveScores, negativeScores);
        using (var perRow = backend.Allocate(rows, 1, positiveScores.DType))
        using (var sum = backend.Allocate(1, 1, positiveScores.DType))
        {
            backend.BprRows(positiveScores.Value, negativeScores.Value, perRow);
            backend.Reduce(ReduceOp.Sum, perRow, sum);
            backend.Unary(UnaryOp.Scale, sum, loss.Value, factor);
        }
        Tape.Record(loss, () =>
        {
            using var dPositive = Scratch(positiveScores);
            using var dNegative = Scratch(negativeScores);
            backend.BprRowsBackward(positiveScores.Value, negativeScores.Value, factor, dPositive, dNegative);
            AccumulateTimes(positiveScores, dPositive, loss.Grad!);
            AccumulateTimes(negativeScores, dNegative, loss.Grad!);
        });
        return loss;
    }

    /// <summary>
    /// MMRec's BPRLoss (common/loss.py), which VBPR trains with: −mean_b ln(ε + σ(pos_b − neg_b)), ε = 1e-10, in
    /// natural log. Unlike <see cref="Bpr"/>'s log-sigmoid, ε caps a row's loss near −ln ε ≈ 23 (and its gradient at 0)
    /// where σ underflows. Composed from differentiable ops. Scores are b×1.
    /// </summary>
    public static Var BprWithEpsilon(Var positiveScores, Var negativeScores, double epsilon = 1e-10) =>
        -((positiveScores - negativeScores).Sigmoid() + epsilon).Log().Mean();

    /// <summary>
    /// InfoNCE: row i of <paramref name="anchors"/> should pick row i of <paramref name="candidates"/> among all
    /// candidate rows. L = mean_i [ log Σ_j exp(⟨a_i, c_j⟩/τ) − ⟨a_i, c_i⟩/τ ]; <paramref name="symmetric"/> takes the
    /// mean of that and the same with the roles swapped (candidates picking anchors). One node on the tape, over the
    /// fused <see cref="Backend.InfoNceForward"/> (with its gradients when they are wanted): no n×n logits are stored.
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
        // With gradients wanted, the forward computes them too (each logit once), for the loss's mean; the backward
        // only scales them by the upstream gradient.
        var (gradAnchors, gradCandidates) = loss.RequiresGrad ? (Scratch(anchors), Scratch(candidates)) : (null, null);
        using (var perRow = b.Allocate(n, 1, anchors.DType))
        using (var lse = b.Allocate(n, 1, anchors.DType))
        using (var positive = b.Allocate(n, 1, anchors.DType))
        using (var da = loss.RequiresGrad ? b.Allocate(n, anchors.Cols, anchors.DType) : null)
        using (var dc = loss.RequiresGrad ? b.Allocate(n, anchors.Cols, anchors.DType) : null)
        {
            for (int k = 0; k < directions.Length; k++)
            {
                var (toAnchors, toCandidates) = k == 0 ? (gradAnchors, gradCandidates) : (gradCandidates, gradAnchors);
                b.InfoNceForward(directions[k].Anchors.Value, directions[k].Candidates.Value, s, lse, positive,
                    toAnchors is null ? null : da, toCandidates is null ? null : dc);
                b.AddScaled(lse, weight, perRow);
                b.AddScaled(positive, -weight, perRow);
                if (toAnchors is not null) b.AddScaled(da!, weight / n, toAnchors);
                if (toCandidates is not null) b.AddScaled(dc!, weight / n, toCandidates);
            }
            b.Reduce(ReduceOp.Mean, perRow, loss.Value);
        }
        if (!loss.RequiresGrad) return loss;
        foreach (var t in new[] { gradAnchors, gradCandidates })
            if (t is not null) Tape.Scoped(t);
        Tape.Record(loss, () =>
        {
            AccumulateTimes(anchors, gradAnchors, loss.Grad!);
            AccumulateTimes(candidates, gradCandidates, loss.Grad!);
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
    /// max(0, ½ · mean_i Σ_d [(μ_id − y_π(i),d)² − (μ_id − y_id)²] / (2·exp(ℓ_id))). One node over the fused
    /// <see cref="Backend.ClubBoundRows"/>, the clamp included: where the bound is 0 no gradient flows. Pass π's
    /// <paramref name="inverse"/> where it was drawn with π, so that a GPU need not read π back in the backward.
    /// </summary>
    public static Var ClubUpperBound(Var mu, Var logVariance, Var y, Tensor permutation, Tensor? inverse = null)
    {
        var backend = mu.Backend;
        double factor = 0.5 / mu.Rows; // ½ · mean
        var bound = Tape.Output(backend.Allocate(1, 1, mu.DType), mu, logVariance, y);
        var unclamped = backend.Allocate(1, 1, mu.DType);
        using (var perRow = backend.Allocate(mu.Rows, 1, mu.DType))
        using (var sum = backend.Allocate(1, 1, mu.DType))
        {
            backend.ClubBoundRows(mu.Value, logVariance.Value, y.Value, permutation, perRow);
            backend.Reduce(ReduceOp.Sum, perRow, sum);
            backend.Unary(UnaryOp.Scale, sum, unclamped, factor);
            backend.Unary(UnaryOp.Relu, unclamped, bound.Value);
        }
        if (!bound.RequiresGrad)
        {
            unclamped.Dispose();
            return bound;
        }
        Tape.Scoped(unclamped); // the backward's clamp needs it
        Tape.Record(bound, () =>
        {
            // dL/d(unclamped): the upstream gradient where the bound is positive, 0 where the clamp holds.
            using var upstream = backend.Allocate(1, 1, mu.DType);
            backend.UnaryBackward(UnaryOp.Relu, unclamped, bound.Value, bound.Grad!, upstream);
            using var dMu = Scratch(mu);
            using var dLogVariance = Scratch(logVariance);
            using var dY = Scratch(y);
            backend.ClubBoundRowsBackward(mu.Value, logVariance.Value, y.Value, permutation, factor, dMu, dLogVariance, dY, inverse);
            AccumulateTimes(mu, dMu, upstream);
            AccumulateTimes(logVariance, dLogVariance, upstream);
            AccumulateTimes(y, dY, upstream);
        });
        return bound;
    }

    /// <summary>
    /// MMRec's EmbLoss (common/loss.py): (‖X₁‖_F + ‖X₂‖_F + …) / rows of the last X, with unsquared Frobenius norms.
    /// </summary>
    public static Var EmbeddingNorms(params Var[] tables)
    {
        if (tables.Length == 0) throw new ArgumentException("EmbeddingNorms needs at least one table");
        var sum = tables[0].Square().Sum().Sqrt();
        for (int i = 1; i < tables.Length; i++) sum += tables[i].Square().Sum().Sqrt();
        return sum * (1.0 / tables[^1].Rows);
    }

    /// <summary>
    /// InfoNCE over L2-normalised rows (MODELS.md's L6): cosine logits ⟨a_i, c_j⟩/(‖a_i‖‖c_j‖τ), row i of
    /// <paramref name="anchors"/> picking row i of <paramref name="candidates"/>. AlignRec and DRepMRec align their
    /// behaviour and modal lines with it, candidates being the batch's rows.
    /// </summary>
    public static Var NormalizedInfoNce(Var anchors, Var candidates, double temperature) =>
        InfoNce(anchors.RowL2Normalize(), candidates.RowL2Normalize(), temperature);

    /// <summary>
    /// ½ (‖X₁‖²_F + ‖X₂‖²_F + …) / <paramref name="divisor"/>: AlignRec's L2 penalty (MODELS.md's L5), divided by
    /// the configured batch size even for a short last batch.
    /// </summary>
    public static Var HalfSquaredNorms(double divisor, params Var[] tables)
    {
        if (tables.Length == 0) throw new ArgumentException("HalfSquaredNorms needs at least one table");
        var sum = tables[0].Square().Sum();
        for (int i = 1; i < tables.Length; i++) sum += tables[i].Square().Sum();
        return sum * (0.5 / divisor);
    }

    /// <summary>mean_b (1 − cos(a_b, b_b)) over paired rows: AlignRec's user–item alignment before its weight.</summary>
    public static Var CosineDistance(Var a, Var b) => -(a.RowL2Normalize() * b.RowL2Normalize()).Sum(dim: 1).Mean() + 1.0;

    /// <summary>
    /// ‖H·Hᵀ − C‖_F / rows of H (MODELS.md's L8, through <see cref="EmbeddingNorms"/>): keeps the similarities of
    /// learned embeddings H (B × d) close to <paramref name="targetSimilarity"/> C (B × B, usually a constant), the
    /// cosines of the same items' original features.
    /// </summary>
    public static Var SimilarityPreservation(Var embeddings, Var targetSimilarity) =>
        EmbeddingNorms(embeddings.MatMul(embeddings, transB: true) - targetSimilarity);

    /// <summary>Mean squared error: mean((a − b)²).</summary>
    public static Var MeanSquaredError(Var a, Var b) => (a - b).Square().Mean();

    // The fused backwards take their scale as a host number, while dL/dloss lives on the device: so they write the
    // gradients for dL/dloss = 1 into scratch tensors, which are then multiplied by the real one there. No host read.

    /// <summary>A zeroed tensor shaped like <paramref name="v"/> for the fused backward to add into, or null where no gradient is wanted.</summary>
    private static Tensor? Scratch(Var v) => v.RequiresGrad ? v.Backend.Allocate(v.Rows, v.Cols, v.DType) : null;

    /// <summary>v.grad += <paramref name="scratch"/> · <paramref name="upstream"/> (1×1, on the device).</summary>
    private static void AccumulateTimes(Var v, Tensor? scratch, Tensor upstream)
    {
        if (scratch is not null) v.Backend.BinaryBackward(BinaryOp.Mul, scratch, upstream, scratch, v.GradForAccumulation(), null);
    }
}
