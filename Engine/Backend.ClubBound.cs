namespace Engine;

public abstract partial class Backend
{
    /// <summary>
    /// CLUB's bound per row, fused (Cheng et al., 2020): rowTerm_i = Σ_k [(μ_ik − y_π(i),k)² − (μ_ik − y_ik)²] / (2·exp(ℓ_ik)),
    /// for μ, ℓ (q's log-variance) and y rows×d, the permutation π of the rows (int32 rows×1) and rowTerm rows×1.
    /// The bound, max(0, ½·mean_i rowTerm_i), is the caller's.
    /// </summary>
    public void ClubBoundRows(Tensor mu, Tensor logVariance, Tensor y, Tensor permutation, Tensor rowTerm)
    {
        const string name = nameof(ClubBoundRows);
        CheckClub(name, mu, logVariance, y, permutation);
        Floating(name, rowTerm);
        SameDType(name, mu, rowTerm);
        if (rowTerm.Rows != mu.Rows || rowTerm.Cols != 1)
            throw new EngineException(name, $"μ is {mu.Shape}, so the row terms must be {mu.Rows}×1; got {rowTerm.Shape}");
        using var counted = Count(OpKind.ClubBoundRows, 0, B(mu) + B(logVariance) + B(y) + B(permutation) + B(rowTerm));
        if (mu.Rows == 0) return;
        if (ComposedOnly || !ClubBoundRowsCore(mu, logVariance, y, permutation, rowTerm))
            Fused.ClubBound.Rows(this, mu, logVariance, y, permutation, rowTerm);
    }

    /// <summary>
    /// The gradients of Σ_i scale·rowTerm_i with respect to μ, ℓ and y, accumulated; any may be null. π must be a
    /// permutation. <paramref name="inverse"/> is π's inverse where the caller has it (drawn together on the host, as
    /// <see cref="RandomTensors.PermutationAndInverse"/> does); the CUDA kernel needs it for dy, and without it reads π
    /// back to the host to invert (and check) it, a wait in every step.
    /// </summary>
    public void ClubBoundRowsBackward(Tensor mu, Tensor logVariance, Tensor y, Tensor permutation, double scale,
        Tensor? dMu, Tensor? dLogVariance, Tensor? dY, Tensor? inverse = null)
    {
        const string name = nameof(ClubBoundRowsBackward);
        CheckClub(name, mu, logVariance, y, permutation);
        if (inverse is not null) CheckPermutation(name, mu, inverse);
        foreach (var g in new[] { dMu, dLogVariance, dY })
            if (g is not null) { Floating(name, g); SameDType(name, mu, g); SameShape(name, mu, g); }
        using var counted = Count(OpKind.ClubBoundRowsBackward, 0,
            B(mu) + B(logVariance) + B(y) + B(permutation) + 2 * (B(dMu) + B(dLogVariance) + B(dY)));
        if (mu.Length == 0 || (dMu is null && dLogVariance is null && dY is null)) return;
        if (ComposedOnly || !ClubBoundRowsBackwardCore(mu, logVariance, y, permutation, inverse, scale, dMu, dLogVariance, dY))
            Fused.ClubBound.RowsBackward(this, mu, logVariance, y, permutation, scale, dMu, dLogVariance, dY);
    }

    /// <summary>The backend's CLUB kernel: false where it does not take these arguments (the composed reference runs).</summary>
    protected abstract bool ClubBoundRowsCore(Tensor mu, Tensor logVariance, Tensor y, Tensor permutation, Tensor rowTerm);

    /// <summary>The backend's CLUB backward kernel (π's inverse where the caller gave it): false where it does not take these arguments.</summary>
    protected abstract bool ClubBoundRowsBackwardCore(Tensor mu, Tensor logVariance, Tensor y, Tensor permutation, Tensor? inverse,
        double scale, Tensor? dMu, Tensor? dLogVariance, Tensor? dY);

    private void CheckClub(string op, Tensor mu, Tensor logVariance, Tensor y, Tensor permutation)
    {
        Floating(op, mu, logVariance, y);
        SameDType(op, mu, logVariance, y);
        SameShape(op, mu, logVariance, y);
        CheckPermutation(op, mu, permutation);
    }

    private void CheckPermutation(string op, Tensor mu, Tensor permutation)
    {
        Own(op, permutation);
        if (permutation.DType != DType.Int32 || permutation.Rows != mu.Rows || permutation.Cols != 1)
            throw new EngineException(op, $"μ is {mu.Shape}, so the permutation must be an int32 {mu.Rows}×1 tensor; got {permutation.DType.Name()} {permutation.Shape}");
    }
}
