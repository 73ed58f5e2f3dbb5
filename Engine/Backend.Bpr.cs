namespace Engine;

public abstract partial class Backend
{
    /// <summary>
    /// BPR's per-row loss, fused: loss_i = −log σ(pos_i − neg_i), computed stably; all three are b×1. The mean (and
    /// a base-2 loss's 1/ln 2) is the caller's.
    /// </summary>
    public void BprRows(Tensor positive, Tensor negative, Tensor loss)
    {
        const string name = nameof(BprRows);
        CheckScores(name, positive, negative, loss);
        using var counted = Count(OpKind.BprRows, 0, B(positive) + B(negative) + B(loss));
        if (positive.Rows == 0) return;
        if (ComposedOnly || !BprRowsCore(positive, negative, loss)) Fused.Bpr.Rows(this, positive, negative, loss);
    }

    /// <summary>
    /// The gradient of Σ_i scale·loss_i, accumulated: dPos −= scale·σ(neg − pos), dNeg += scale·σ(neg − pos). The
    /// mean's 1/b and any factor on the loss are folded into <paramref name="scale"/>. Either gradient may be null.
    /// </summary>
    public void BprRowsBackward(Tensor positive, Tensor negative, double scale, Tensor? dPositive, Tensor? dNegative)
    {
        const string name = nameof(BprRowsBackward);
        CheckScores(name, positive, negative);
        if (dPositive is not null) CheckScores(name, positive, dPositive);
        if (dNegative is not null) CheckScores(name, positive, dNegative);
        using var counted = Count(OpKind.BprRowsBackward, 0, B(positive) + B(negative) + 2 * (B(dPositive) + B(dNegative)));
        if (positive.Rows == 0 || (dPositive is null && dNegative is null)) return;
        if (ComposedOnly || !BprRowsBackwardCore(positive, negative, scale, dPositive, dNegative))
            Fused.Bpr.RowsBackward(this, positive, negative, scale, dPositive, dNegative);
    }

    /// <summary>The backend's BPR kernel: false where it does not take these arguments (the composed reference runs).</summary>
    protected abstract bool BprRowsCore(Tensor positive, Tensor negative, Tensor loss);

    /// <summary>The backend's BPR backward kernel: false where it does not take these arguments.</summary>
    protected abstract bool BprRowsBackwardCore(Tensor positive, Tensor negative, double scale, Tensor? dPositive, Tensor? dNegative);

    /// <summary>Scores and what goes with them: floating, one dtype, b×1.</summary>
    private void CheckScores(string op, params Tensor[] ts)
    {
        Floating(op, ts);
        SameDType(op, ts);
        SameShape(op, ts);
        if (ts[0].Cols != 1)
            throw new EngineException(op, $"scores must be b×1, got {ts[0].Shape}");
    }
}
