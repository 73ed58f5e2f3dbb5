using Engine.Cpu;

namespace Engine.Autograd.Tests;

/// <summary>Loss values against formulas computed directly in double.</summary>
public class LossTests
{
    private static readonly Backend B = CpuBackend.Shared;

    private static Var Matrix(double[] values, int rows, int cols) => Var.Constant(B.FromArray(values, rows, cols));

    [Fact]
    public void Bpr_in_natural_log_and_log2()
    {
        double[] pos = [2.0, -1.0, 0.5], neg = [1.0, 0.5, 0.5];
        double expected = -Enumerable.Range(0, 3).Average(i => Math.Log(1 / (1 + Math.Exp(-(pos[i] - neg[i])))));
        var p = Matrix(pos, 3, 1);
        var n = Matrix(neg, 3, 1);
        Assert.Equal(expected, Losses.Bpr(p, n).Value.Item(), 12);
        Assert.Equal(expected / Math.Log(2), Losses.Bpr(p, n, base2: true).Value.Item(), 12);
    }

    /// <summary>AlignRec's L5, its user–item alignment and L8 against their formulas, computed directly.</summary>
    [Fact]
    public void Half_squared_norms_cosine_distance_and_similarity_preservation_match_their_formulas()
    {
        double[] x = [1, 2, -2, 0.5], y = [3, -1, 0, 2], target = [1, 0.2, 0.2, 1];
        var a = Matrix(x, 2, 2);
        var c = Matrix(y, 2, 2);
        Assert.Equal(0.5 * (x.Sum(v => v * v) + y.Sum(v => v * v)) / 8, Losses.HalfSquaredNorms(8, a, c).Value.Item(), 12);

        double Cos(int r) => (x[2 * r] * y[2 * r] + x[2 * r + 1] * y[2 * r + 1]) /
                             Math.Sqrt((x[2 * r] * x[2 * r] + x[2 * r + 1] * x[2 * r + 1]) * (y[2 * r] * y[2 * r] + y[2 * r + 1] * y[2 * r + 1]));
        Assert.Equal(1 - (Cos(0) + Cos(1)) / 2, Losses.CosineDistance(a, c).Value.Item(), 12);

        // H Hᵀ for H = [[1, 2], [-2, 0.5]] is [[5, -1], [-1, 4.25]].
        double[] gram = [5, -1, -1, 4.25];
        double expected = Math.Sqrt(gram.Zip(target, (g, t) => (g - t) * (g - t)).Sum()) / 2;
        Assert.Equal(expected, Losses.SimilarityPreservation(a, Matrix(target, 2, 2)).Value.Item(), 12);
    }

    [Fact]
    public void Bpr_is_finite_for_huge_score_gaps()
    {
        var p = Matrix([-1000.0], 1, 1);
        var n = Matrix([1000.0], 1, 1);
        Assert.Equal(2000.0, Losses.Bpr(p, n).Value.Item(), 9);
    }

    [Fact]
    public void Bpr_with_epsilon_is_mmrecs_formula_and_caps_a_rows_loss()
    {
        double[] pos = [2.0, -1.0, -300.0], neg = [1.0, 0.5, 0.0];
        double expected = -Enumerable.Range(0, 3).Average(i => Math.Log(1e-10 + 1 / (1 + Math.Exp(-(pos[i] - neg[i])))));
        var loss = Losses.BprWithEpsilon(Matrix(pos, 3, 1), Matrix(neg, 3, 1)).Value.Item();
        Assert.Equal(expected, loss, 12);
        // The third row's σ(−300) ≈ 5e-131 is far below ε: its loss is −ln(1e-10), not the 300 plain BPR gives.
        double firstTwo = Losses.BprWithEpsilon(Matrix(pos[..2], 2, 1), Matrix(neg[..2], 2, 1)).Value.Item();
        Assert.Equal(-Math.Log(1e-10), 3 * loss - 2 * firstTwo, 9);
    }

    [Fact]
    public void InfoNce_equals_a_direct_log_softmax_of_the_diagonal()
    {
        var rng = new Rng(7);
        int n = 6, d = 4;
        double tau = 0.2;
        var a = rng.NormalArray(n * d, 0, 1);
        var c = rng.NormalArray(n * d, 0, 1);
        double expected = 0;
        for (int i = 0; i < n; i++)
        {
            var logits = new double[n];
            for (int j = 0; j < n; j++)
                for (int k = 0; k < d; k++) logits[j] += a[i * d + k] * c[j * d + k] / tau;
            double lse = Math.Log(logits.Sum(Math.Exp));
            expected -= (logits[i] - lse) / n;
        }
        Assert.Equal(expected, Losses.InfoNce(Matrix(a, n, d), Matrix(c, n, d), tau).Value.Item(), 10);
    }

    /// <summary>
    /// The loss and both gradients through the CPU's streamed kernel against the composed reference (the n×n logits,
    /// <see cref="Backend.ComposedOnly"/>), in float64, with dL/dloss = 0.7 so the upstream gradient is applied.
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void InfoNce_kernel_and_composed_reference_agree_in_float64(bool symmetric)
    {
        var rng = new Rng(11);
        int n = 600, d = 17; // more than one tile of 512 candidates, and a block of 192 rows cut short
        var a = rng.NormalArray(n * d, 0, 1);
        var c = rng.NormalArray(n * d, 0, 1);
        var (kernelLoss, kernelGrads) = InfoNceWithGradients(new CpuBackend(), a, c, n, d, symmetric);
        var (composedLoss, composedGrads) = InfoNceWithGradients(new CpuBackend { ComposedOnly = true }, a, c, n, d, symmetric);
        Assert.Equal(composedLoss, kernelLoss, 1e-12);
        for (int g = 0; g < 2; g++)
            for (int i = 0; i < n * d; i++)
                Assert.True(Math.Abs(composedGrads[g][i] - kernelGrads[g][i]) <= 1e-12, $"gradient {g}[{i}]: composed {composedGrads[g][i]:R}, kernel {kernelGrads[g][i]:R}");
    }

    private static (double Loss, double[][] Grads) InfoNceWithGradients(Backend backend, double[] a, double[] c, int n, int d, bool symmetric)
    {
        var anchors = Var.Parameter(backend.FromArray(a, n, d));
        var candidates = Var.Parameter(backend.FromArray(c, n, d));
        using var tape = Tape.Begin();
        var loss = Losses.InfoNce(anchors.RowL2Normalize(), candidates.RowL2Normalize(), 0.2, symmetric) * 0.7;
        tape.Backward(loss);
        return (loss.Value.Item(), [anchors.Grad!.ToArray<double>(), candidates.Grad!.ToArray<double>()]);
    }

    [Fact]
    public void Gaussian_log_likelihood_matches_its_formula()
    {
        double[] mu = [0.5, -1, 2, 0], logVar = [0.1, -0.3, 0, 1], y = [1, -1, 0.5, 2];
        double expected = 0;
        for (int r = 0; r < 2; r++)
            for (int c = 0; c < 2; c++)
            {
                int i = r * 2 + c;
                expected += (-(mu[i] - y[i]) * (mu[i] - y[i]) / (2 * Math.Exp(logVar[i])) - logVar[i] / 2) / 2;
            }
        var value = Losses.GaussianLogLikelihood(Matrix(mu, 2, 2), Matrix(logVar, 2, 2), Matrix(y, 2, 2)).Value.Item();
        Assert.Equal(expected, value, 12);
    }

    [Fact]
    public void Mean_squared_error()
    {
        var value = Losses.MeanSquaredError(Matrix([1, 2, 3, 4], 2, 2), Matrix([1, 0, 3, 1], 2, 2)).Value.Item();
        Assert.Equal((0 + 4 + 0 + 9) / 4.0, value, 12);
    }
}

public class ClubBoundTests
{
    /// <summary>
    /// Two rows, one dimension: μ = [1, 2], y = [1, 4], ℓ = [0, ln 2], π = [1, 0] (y_π = [4, 1]).
    /// Row 0: ((1−4)² − (1−1)²) / (2·1) = 4.5. Row 1: ((2−1)² − (2−4)²) / (2·2) = −0.75.
    /// Bound = max(0, ½ · mean(4.5, −0.75)) = ½ · 1.875 = 0.9375.
    /// </summary>
    [Fact]
    public void Club_upper_bound_matches_a_hand_computed_value()
    {
        var b = Engine.Cpu.CpuBackend.Shared;
        var mu = Var.Constant(b.FromArray(new[] { 1.0, 2.0 }, 2, 1));
        var y = Var.Constant(b.FromArray(new[] { 1.0, 4.0 }, 2, 1));
        var logVar = Var.Constant(b.FromArray(new[] { 0.0, Math.Log(2) }, 2, 1));
        var permutation = b.FromArray(new[] { 1, 0 }, 2, 1);
        Assert.Equal(0.9375, Losses.ClubUpperBound(mu, logVar, y, permutation).Value.Item(), 12);
    }

    [Fact]
    public void Club_upper_bound_is_clamped_at_zero()
    {
        var b = Engine.Cpu.CpuBackend.Shared;
        // μ equals the shuffled partner, so the unpaired term is 0 and the bound would be negative.
        var mu = Var.Constant(b.FromArray(new[] { 4.0, 1.0 }, 2, 1));
        var y = Var.Constant(b.FromArray(new[] { 1.0, 4.0 }, 2, 1));
        var logVar = Var.Constant(b.FromArray(new[] { 0.0, 0.0 }, 2, 1));
        Assert.Equal(0.0, Losses.ClubUpperBound(mu, logVar, y, b.FromArray(new[] { 1, 0 }, 2, 1)).Value.Item());
    }

    /// <summary>The clamp is part of the node: where the bound is 0, nothing flows back to μ, ℓ or y.</summary>
    [Fact]
    public void Club_upper_bound_sends_no_gradient_where_clamped()
    {
        var b = Engine.Cpu.CpuBackend.Shared;
        var mu = Var.Parameter(b.FromArray(new[] { 4.0, 1.0 }, 2, 1), "mu");
        var y = Var.Parameter(b.FromArray(new[] { 1.0, 4.0 }, 2, 1), "y");
        var logVar = Var.Parameter(b.FromArray(new[] { 0.0, 0.0 }, 2, 1), "logvar");
        using var tape = Tape.Begin();
        // Through a product, so the bound's upstream gradient is not 1: the clamp, not the scale, must stop it.
        tape.Backward(Losses.ClubUpperBound(mu, logVar, y, b.FromArray(new[] { 1, 0 }, 2, 1)) * 3.0);
        foreach (var v in new[] { mu, y, logVar })
            Assert.All(v.Grad?.ToArray<double>() ?? [0.0], g => Assert.Equal(0.0, g));
    }
}
