namespace Engine;

public abstract partial class Backend
{
    /// <summary>
    /// <paramref name="steps"/> steps of Adam on CLUB's variational network q alone (its inner loop: q fitted to the pairs), on
    /// fixed pairs: x and y are (pairs·rows)×width, pair after pair. Each step computes afresh the gradient of
    /// L = Σ_p −mean_i Σ_k [−(μ(x)_ik − y_ik)² / (2·exp(ℓ(x)_ik)) − ℓ(x)_ik / 2] with respect to q's packed
    /// <paramref name="parameters"/> (1×<see cref="ClubLayout.Length"/>, <paramref name="layout"/>) and applies
    /// <see cref="AdamStep"/>'s arithmetic with t = step0 + 1, step0 + 2, …; m and v are packed the same way. The
    /// backend's kernel where it takes <paramref name="layout"/>, else the composed reference
    /// (<see cref="Fused.ClubFit"/>): the same arithmetic to rounding, in one op instead of about thirty per step.
    /// </summary>
    public void ClubFit(Tensor x, Tensor y, int pairs, ClubLayout layout, Tensor parameters, Tensor m, Tensor v, int steps, int step0,
        double lr, double beta1, double beta2, double eps, double weightDecay)
    {
        const string name = nameof(ClubFit);
        Floating(name, x, y, parameters, m, v);
        SameDType(name, x, y, parameters, m, v);
        SameShape(name, x, y);
        SameShape(name, parameters, m, v);
        if (pairs < 1 || x.Rows % pairs != 0)
            throw new EngineException(name, $"x ({x.Shape}) must hold {pairs} pair(s) of equal row counts, stacked");
        if (x.Rows == 0)
            throw new EngineException(name, "the pairs have no rows: the likelihood's mean is undefined");
        if (layout.Width != x.Cols || layout.Hidden < 1)
            throw new EngineException(name, $"x is {x.Shape}, so the layout's width must be {x.Cols} (got {layout.Width}) and its hidden width at least 1 (got {layout.Hidden})");
        if (parameters.Rows != 1 || parameters.Cols != layout.Length)
            throw new EngineException(name, $"the packed parameters must be 1×{layout.Length} for widths {layout.Width}/{layout.Hidden}, got {parameters.Shape}");
        if (steps < 0 || step0 < 0)
            throw new EngineException(name, $"steps and step0 must be 0 or more, got {steps} and {step0}");
        long flops = 2L * steps * x.Rows * 5 * 2 * layout.Width * layout.Hidden; // per branch: 2 products forward, 3 backward
        using var counted = Count(OpKind.ClubFit, flops, (long)steps * (B(x) + B(y)) + 7 * B(parameters));
        if (steps == 0) return;
        if (!ComposedOnly && ClubFitTakes(layout)) ClubFitCore(x, y, pairs, layout, parameters, m, v, steps, step0, lr, beta1, beta2, eps, weightDecay);
        else Fused.ClubFit.Run(x, y, pairs, layout, parameters, m, v, steps, step0, lr, beta1, beta2, eps, weightDecay);
    }

    /// <summary>Whether <see cref="ClubFitCore"/> takes q's widths; where it does not, the composed reference runs.</summary>
    protected virtual bool ClubFitTakes(ClubLayout layout) => true;

    protected abstract void ClubFitCore(Tensor x, Tensor y, int pairs, ClubLayout layout, Tensor parameters, Tensor m, Tensor v, int steps, int step0,
        double lr, double beta1, double beta2, double eps, double weightDecay);
}
