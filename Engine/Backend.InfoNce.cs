namespace Engine;

// InfoNCE, streamed: a fused op (see Backend.Fused.cs). Its composed reference is Engine/Fused/InfoNce.cs.
public abstract partial class Backend
{
    /// <summary>
    /// The two halves of InfoNCE over anchors a and candidates c (both n×d), with logit_ij = ⟨a_i, c_j⟩·s and
    /// s = <paramref name="invTemperature"/>: lse_i = log Σ_j exp(logit_ij) and positive_i = logit_ii (both n×1). The
    /// loss mean_i (lse_i − positive_i) is the caller's to finish. Kernels never store the n×n logits.
    /// </summary>
    /// <remarks>
    /// Given <paramref name="da"/> or <paramref name="dc"/>, the same call also writes (overwrites) the gradients of
    /// Σ_i (lse_i − positive_i): da_i = s·(Σ_j p_ij c_j − c_i), dc_j = s·(Σ_i p_ij a_i − a_j), with p_ij =
    /// exp(logit_ij − lse_i). Training takes them here and scales them in its backward, so that a kernel that can
    /// computes each logit once per step; elsewhere this runs the forward, then the backward with scale 1.
    /// </remarks>
    public void InfoNceForward(Tensor a, Tensor c, double invTemperature, Tensor lse, Tensor positive, Tensor? da = null, Tensor? dc = null)
    {
        const string name = nameof(InfoNceForward);
        CheckInfoNce(name, a, c, invTemperature, lse);
        Floating(name, positive);
        SameDType(name, a, positive);
        if (positive.Rows != a.Rows || positive.Cols != 1)
            throw new EngineException(name, $"a is {a.Shape}, so positive must be {a.Rows}×1; got {positive.Shape}");
        CheckInfoNceGradients(name, a, da, dc);
        long n = a.Rows, gradients = (da is null ? 0 : 1) + (dc is null ? 0 : 1);
        using var counted = Count(OpKind.InfoNceForward, (1 + gradients) * 2 * n * n * a.Cols,
            B(a) + B(c) + B(lse) + B(positive) + B(da) + B(dc));
        if (gradients > 0 && !ComposedOnly && InfoNceForwardAndGradientsCore(a, c, invTemperature, lse, positive, da, dc))
            return;
        if (ComposedOnly || !InfoNceForwardCore(a, c, invTemperature, lse, positive))
            Fused.InfoNce.Forward(this, a, c, invTemperature, lse, positive);
        if (gradients == 0) return;
        foreach (var g in new[] { da, dc })
            if (g is not null) FillCore(g, 0);
        if (ComposedOnly || !InfoNceBackwardCore(a, c, invTemperature, lse, 1, da, dc))
            Fused.InfoNce.Backward(this, a, c, invTemperature, lse, 1, da, dc);
    }

    /// <summary>
    /// With p_ij = exp(logit_ij − lse_i) (recomputed from the forward's lse): da_i += scale·s·(Σ_j p_ij c_j − c_i) and
    /// dc_j += scale·s·(Σ_i p_ij a_i − a_j). For the loss's mean, scale = dL/dloss / n. Either gradient may be null.
    /// </summary>
    public void InfoNceBackward(Tensor a, Tensor c, double invTemperature, Tensor lse, double scale, Tensor? da, Tensor? dc)
    {
        const string name = nameof(InfoNceBackward);
        CheckInfoNce(name, a, c, invTemperature, lse);
        if (!double.IsFinite(scale))
            throw new EngineException(name, $"scale must be finite, got {scale}");
        CheckInfoNceGradients(name, a, da, dc);
        long n = a.Rows, wanted = (da is null ? 0 : 1) + (dc is null ? 0 : 1);
        using var counted = Count(OpKind.InfoNceBackward, wanted * 2 * n * n * a.Cols, B(a) + B(c) + B(lse) + 2 * (B(da) + B(dc)));
        if (wanted == 0) return;
        if (ComposedOnly || !InfoNceBackwardCore(a, c, invTemperature, lse, scale, da, dc))
            Fused.InfoNce.Backward(this, a, c, invTemperature, lse, scale, da, dc);
    }

    /// <summary>Runs the backend's forward kernel and returns true, or returns false where it does not take these shapes.</summary>
    protected virtual bool InfoNceForwardCore(Tensor a, Tensor c, double invTemperature, Tensor lse, Tensor positive) => false;

    /// <summary>
    /// Runs the backend's kernel for the forward and the gradients in one pass and returns true, or returns false where
    /// it has none for these shapes (then the forward and backward kernels run one after the other).
    /// </summary>
    protected virtual bool InfoNceForwardAndGradientsCore(Tensor a, Tensor c, double invTemperature, Tensor lse, Tensor positive, Tensor? da, Tensor? dc) => false;

    /// <summary>Runs the backend's backward kernel and returns true, or returns false where it does not take these shapes.</summary>
    protected virtual bool InfoNceBackwardCore(Tensor a, Tensor c, double invTemperature, Tensor lse, double scale, Tensor? da, Tensor? dc) => false;

    /// <summary>Gradients, where given, are floating tensors of a's dtype and shape.</summary>
    private void CheckInfoNceGradients(string name, Tensor a, Tensor? da, Tensor? dc)
    {
        foreach (var g in new[] { da, dc })
        {
            if (g is null) continue;
            Floating(name, g);
            SameDType(name, a, g);
            if (!g.SameShape(a))
                throw new EngineException(name, $"a gradient must be shaped like a and c ({a.Shape}); got {g.Shape}");
        }
    }

    /// <summary>What both halves take: a and c n×d alike (n ≥ 1), a positive finite 1/τ, lse n×1.</summary>
    private void CheckInfoNce(string name, Tensor a, Tensor c, double invTemperature, Tensor lse)
    {
        Floating(name, a, c, lse);
        SameDType(name, a, c, lse);
        if (!a.SameShape(c))
            throw new EngineException(name, $"anchors {a.Shape} and candidates {c.Shape} must have the same shape (pairs on the diagonal)");
        if (a.Rows == 0 || a.Cols == 0)
            throw new EngineException(name, $"anchors are {a.Shape}: InfoNCE needs at least one pair of at least one dimension");
        if (!(invTemperature > 0) || !double.IsFinite(invTemperature))
            throw new EngineException(name, $"1/τ must be positive and finite, got {invTemperature}");
        if (lse.Rows != a.Rows || lse.Cols != 1)
            throw new EngineException(name, $"a is {a.Shape}, so lse must be {a.Rows}×1; got {lse.Shape}");
    }
}
