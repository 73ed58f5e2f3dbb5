namespace Engine.Fused;

/// <summary>
/// InfoNCE's composed reference, from the primitives alone: the definition the kernels are held to, and the fallback
/// where a backend's kernel does not take the shapes. It materialises the n×n logits (and, backward, the n×n
/// softmax weights), which is what the kernels exist to avoid.
/// </summary>
internal static class InfoNce
{
    /// <summary>lse = LogSumExpRows(s·a·cᵀ), positive = s·Σ_k a_ik·c_ik.</summary>
    public static void Forward(Backend b, Tensor a, Tensor c, double invTemperature, Tensor lse, Tensor positive)
    {
        using (var logits = Logits(b, a, c, invTemperature))
            b.LogSumExpRows(logits, lse);
        using var products = b.Allocate(a.Rows, a.Cols, a.DType);
        b.Binary(BinaryOp.Mul, a, c, products);
        b.Reduce(ReduceOp.Sum, products, positive, dim: 1);
        b.Unary(UnaryOp.Scale, positive, positive, invTemperature);
    }

    /// <summary>
    /// G = scale·s·softmax(logits) (LogSumExpRows's backward with dy = scale·s), then da += G·c − scale·s·c and
    /// dc += Gᵀ·a − scale·s·a.
    /// </summary>
    public static void Backward(Backend b, Tensor a, Tensor c, double invTemperature, Tensor lse, double scale, Tensor? da, Tensor? dc)
    {
        double factor = scale * invTemperature;
        using var weights = b.Allocate(a.Rows, a.Rows, a.DType);
        using (var logits = Logits(b, a, c, invTemperature))
        using (var dy = b.Allocate(a.Rows, 1, a.DType))
        {
            b.Fill(dy, factor);
            b.LogSumExpRowsBackward(logits, lse, dy, weights);
        }
        if (da is not null)
        {
            b.Gemm(false, false, 1, weights, c, 1, da);
            b.AddScaled(c, -factor, da);
        }
        if (dc is not null)
        {
            b.Gemm(true, false, 1, weights, a, 1, dc);
            b.AddScaled(a, -factor, dc);
        }
    }

    private static Tensor Logits(Backend b, Tensor a, Tensor c, double invTemperature)
    {
        var logits = b.Allocate(a.Rows, a.Rows, a.DType);
        b.Gemm(false, true, invTemperature, a, c, 0, logits);
        return logits;
    }
}
