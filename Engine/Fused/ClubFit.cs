namespace Engine.Fused;

/// <summary>
/// The composed reference of <see cref="Backend.ClubFit"/>, from the backend's primitives alone: q's branches
/// μ = L2(ReLU(L1 x)) and ℓ = tanh(L4(ReLU(L3 x))) as products over all stacked rows, the gradient of the negative
/// Gaussian log-likelihood written out by hand, and one <see cref="Backend.AdamStep"/> per parameter tensor. The
/// definition the kernels are held to, and the fallback for widths a backend's kernel does not take.
/// </summary>
internal static class ClubFit
{
    public static void Run(Tensor x, Tensor y, int pairs, ClubLayout layout, Tensor parameters, Tensor m, Tensor v, int steps, int step0,
        double lr, double beta1, double beta2, double eps, double weightDecay)
    {
        var backend = x.Backend;
        using var temporaries = new Temporaries(backend, x);
        Tensor New(int rows, int cols) => temporaries.Next(rows, cols);
        Tensor[] Unpacked(Tensor packed)
        {
            var parts = layout.Shapes.Select(shape => New(shape.Rows, shape.Cols)).ToArray();
            ClubLayout.Unpack(packed, parts);
            return parts;
        }
        // q's tensors in ClubLayout.Shapes' order: per branch L1 weight, L1 bias, L2 weight, L2 bias.
        Tensor[] q = Unpacked(parameters), first = Unpacked(m), second = Unpacked(v);
        var gradients = layout.Shapes.Select(shape => New(shape.Rows, shape.Cols)).ToArray();
        int n = x.Rows, width = layout.Width, hidden = layout.Hidden;
        // Pairs have equal row counts, so Σ_pairs mean_rows is one sum over every stacked row, scaled.
        double meanScale = (double)pairs / n;
        // Per branch: L1's output, its bias added, ReLU of that, L2's output, its bias added (μ, or ℓ before tanh).
        var branches = Enumerable.Range(0, 2).Select(_ => (Product1: New(n, hidden), Pre: New(n, hidden), Act: New(n, hidden),
            Product2: New(n, width), Out: New(n, width), DOut: New(n, width))).ToArray();
        Tensor logVar = New(n, width), negLogVar = New(n, width), precision = New(n, width), delta = New(n, width);
        Tensor deltaPrecision = New(n, width), squarePrecision = New(n, width), scaled = New(n, width), dLogVar = New(n, width);
        Tensor dAct = New(n, hidden), dPre = New(n, hidden);
        for (int step = 0; step < steps; step++)
        {
            for (int b = 0; b < 2; b++)
            {
                var (product1, pre, act, product2, output, _) = branches[b];
                backend.Gemm(false, true, 1, x, q[4 * b], 0, product1);
                backend.Binary(BinaryOp.Add, product1, q[4 * b + 1], pre);
                backend.Unary(UnaryOp.Relu, pre, act);
                backend.Gemm(false, true, 1, act, q[4 * b + 2], 0, product2);
                backend.Binary(BinaryOp.Add, product2, q[4 * b + 3], output);
            }
            // With e = exp(−ℓ) and δ = μ − y: ∂L/∂μ = δ·e/rows, ∂L/∂ℓ = (½ − ½·δ²·e)/rows, then through tanh.
            var (mu, z) = (branches[0].Out, branches[1].Out);
            backend.Unary(UnaryOp.Tanh, z, logVar);
            backend.Unary(UnaryOp.Neg, logVar, negLogVar);
            backend.Unary(UnaryOp.Exp, negLogVar, precision);
            backend.Binary(BinaryOp.Sub, mu, y, delta);
            backend.Binary(BinaryOp.Mul, delta, precision, deltaPrecision);
            backend.Unary(UnaryOp.Scale, deltaPrecision, branches[0].DOut, meanScale);
            backend.Binary(BinaryOp.Mul, delta, deltaPrecision, squarePrecision);
            backend.Unary(UnaryOp.Scale, squarePrecision, scaled, -0.5 * meanScale);
            backend.Unary(UnaryOp.AddScalar, scaled, dLogVar, 0.5 * meanScale);
            backend.Fill(branches[1].DOut, 0);
            backend.UnaryBackward(UnaryOp.Tanh, z, logVar, dLogVar, branches[1].DOut);
            for (int b = 0; b < 2; b++)
            {
                var (_, pre, act, _, _, dOut) = branches[b];
                backend.Gemm(true, false, 1, dOut, act, 0, gradients[4 * b + 2]);
                backend.Reduce(ReduceOp.Sum, dOut, gradients[4 * b + 3], dim: 0);
                backend.Gemm(false, false, 1, dOut, q[4 * b + 2], 0, dAct);
                backend.Fill(dPre, 0);
                backend.UnaryBackward(UnaryOp.Relu, pre, act, dAct, dPre);
                backend.Gemm(true, false, 1, dPre, x, 0, gradients[4 * b]);
                backend.Reduce(ReduceOp.Sum, dPre, gradients[4 * b + 1], dim: 0);
            }
            for (int i = 0; i < q.Length; i++)
                backend.AdamStep(q[i], gradients[i], first[i], second[i], lr, beta1, beta2, eps, weightDecay, step0 + step + 1);
        }
        ClubLayout.Pack(q, parameters);
        ClubLayout.Pack(first, m);
        ClubLayout.Pack(second, v);
    }
}
