namespace Engine.Fused;

/// <summary><see cref="Backend.BprRows"/> and its backward composed from primitives: the definition the kernels are held to.</summary>
internal static class Bpr
{
    public static void Rows(Backend b, Tensor positive, Tensor negative, Tensor loss)
    {
        using var gap = b.Allocate(positive.Rows, 1, positive.DType);
        using var logSigmoid = b.Allocate(positive.Rows, 1, positive.DType);
        b.Binary(BinaryOp.Sub, positive, negative, gap);
        b.Unary(UnaryOp.LogSigmoid, gap, logSigmoid);
        b.Unary(UnaryOp.Neg, logSigmoid, loss);
    }

    public static void RowsBackward(Backend b, Tensor positive, Tensor negative, double scale, Tensor? dPositive, Tensor? dNegative)
    {
        // d(−log σ(p − n))/dp = −σ(n − p), and +σ(n − p) for n.
        using var gap = b.Allocate(positive.Rows, 1, positive.DType);
        using var sigmoid = b.Allocate(positive.Rows, 1, positive.DType);
        b.Binary(BinaryOp.Sub, negative, positive, gap);
        b.Unary(UnaryOp.Sigmoid, gap, sigmoid);
        if (dPositive is not null) b.AddScaled(sigmoid, -scale, dPositive);
        if (dNegative is not null) b.AddScaled(sigmoid, scale, dNegative);
    }
}
