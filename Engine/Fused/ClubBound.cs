namespace Engine.Fused;

/// <summary>
/// <see cref="Backend.ClubBoundRows"/> and its backward composed from primitives: the definition the kernels are held
/// to. With a = μ − y_π, b = μ − y and w = scale / (2·exp(ℓ)): dμ += 2(a − b)·w, dℓ += −(a² − b²)·w,
/// dy += 2b·w, and dy_π(i) −= 2a_i·w_i.
/// </summary>
internal static class ClubBound
{
    public static void Rows(Backend b, Tensor mu, Tensor logVariance, Tensor y, Tensor permutation, Tensor rowTerm)
    {
        using var t = new Temporaries(b, mu);
        var (gap, variance, twiceVariance, ratio) = (t.Next(), t.Next(), t.Next(), t.Next());
        var (a, own) = Differences(b, t, mu, y, permutation);
        Gap(b, t, a, own, gap);
        b.Unary(UnaryOp.Exp, logVariance, variance);
        b.Unary(UnaryOp.Scale, variance, twiceVariance, 2);
        b.Binary(BinaryOp.Div, gap, twiceVariance, ratio);
        b.Reduce(ReduceOp.Sum, ratio, rowTerm, dim: 1);
    }

    public static void RowsBackward(Backend b, Tensor mu, Tensor logVariance, Tensor y, Tensor permutation, double scale,
        Tensor? dMu, Tensor? dLogVariance, Tensor? dY)
    {
        using var t = new Temporaries(b, mu);
        // w = (scale/2)·exp(−ℓ)
        var (negated, precision, w) = (t.Next(), t.Next(), t.Next());
        b.Unary(UnaryOp.Neg, logVariance, negated);
        b.Unary(UnaryOp.Exp, negated, precision);
        b.Unary(UnaryOp.Scale, precision, w, scale / 2);
        var (a, own) = Differences(b, t, mu, y, permutation);
        var product = t.Next();
        if (dMu is not null)
        {
            var difference = t.Next();
            b.Binary(BinaryOp.Sub, a, own, difference);
            b.Binary(BinaryOp.Mul, difference, w, product);
            b.AddScaled(product, 2, dMu);
        }
        if (dLogVariance is not null)
        {
            var gap = t.Next();
            Gap(b, t, a, own, gap);
            b.Binary(BinaryOp.Mul, gap, w, product);
            b.AddScaled(product, -1, dLogVariance);
        }
        if (dY is not null)
        {
            b.Binary(BinaryOp.Mul, own, w, product);
            b.AddScaled(product, 2, dY);
            var toPartner = t.Next();
            b.Binary(BinaryOp.Mul, a, w, product);
            b.Unary(UnaryOp.Scale, product, toPartner, -2);
            b.ScatterAddRows(toPartner, permutation, dY);
        }
    }

    /// <summary>a = μ − y_π and own = μ − y.</summary>
    private static (Tensor A, Tensor Own) Differences(Backend b, Temporaries t, Tensor mu, Tensor y, Tensor permutation)
    {
        var (shuffled, a, own) = (t.Next(), t.Next(), t.Next());
        b.GatherRows(y, permutation, shuffled);
        b.Binary(BinaryOp.Sub, mu, shuffled, a);
        b.Binary(BinaryOp.Sub, mu, y, own);
        return (a, own);
    }

    /// <summary>gap = a² − own², from <see cref="Differences"/>.</summary>
    private static void Gap(Backend b, Temporaries t, Tensor a, Tensor own, Tensor gap)
    {
        var (squaredA, squaredOwn) = (t.Next(), t.Next());
        b.Unary(UnaryOp.Square, a, squaredA);
        b.Unary(UnaryOp.Square, own, squaredOwn);
        b.Binary(BinaryOp.Sub, squaredA, squaredOwn, gap);
    }
}
