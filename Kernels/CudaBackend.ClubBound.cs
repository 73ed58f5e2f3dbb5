namespace Engine.Kernels;

// kernels.cu section 11: club_forward (a warp per row) and club_backward (elementwise over rows×d).
public sealed partial class CudaBackend
{
    protected override bool ClubBoundRowsCore(Tensor mu, Tensor logVariance, Tensor y, Tensor permutation, Tensor rowTerm)
    {
        Launch("club_forward", mu.DType, WarpPerRow(mu.Rows), mu.Rows, mu.Cols, Ptr(mu), Ptr(logVariance), Ptr(y), Ptr(permutation), Ptr(rowTerm));
        return true;
    }

    protected override bool ClubBoundRowsBackwardCore(Tensor mu, Tensor logVariance, Tensor y, Tensor permutation, Tensor? inverse,
        double scale, Tensor? dMu, Tensor? dLogVariance, Tensor? dY)
    {
        // dY's rows each have one writer only through π's inverse: the caller's, or made on the host here (a wait: the
        // permutation is read back).
        using var inverted = dY is null || inverse is not null ? null : Inverse(permutation);
        Launch("club_backward", mu.DType, Blocks(mu.Length), mu.Rows, mu.Cols, Ptr(mu), Ptr(logVariance), Ptr(y), Ptr(permutation),
            PtrOrNull(dY is null ? null : inverse ?? inverted), Scalar(mu.DType, scale), PtrOrNull(dMu), PtrOrNull(dLogVariance), PtrOrNull(dY));
        return true;
    }

    private Tensor Inverse(Tensor permutation)
    {
        var forward = permutation.ToArray<int>();
        var inverse = new int[forward.Length];
        Array.Fill(inverse, -1);
        for (int i = 0; i < forward.Length; i++)
        {
            int j = forward[i];
            if ((uint)j >= (uint)forward.Length || inverse[j] >= 0)
                throw new EngineException(nameof(ClubBoundRowsBackward), $"the index is not a permutation of 0..{forward.Length - 1}: row {i} draws {j}");
            inverse[j] = i;
        }
        return FromArray(inverse, forward.Length, 1);
    }
}
