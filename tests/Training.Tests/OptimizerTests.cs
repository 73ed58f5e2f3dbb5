using Engine.Autograd;
using Engine.Cpu;
using Engine.Training.Optim;

namespace Engine.Training.Tests;

public class OptimizerTests
{
    private static readonly Backend B = CpuBackend.Shared;

    /// <summary>
    /// Two Adam steps worked by hand with PyTorch's formulas (lr 0.1, β₁ 0.9, β₂ 0.999, ε 1e-8), for p = 1 and
    /// gradients 2 then −1:
    /// step 1: m = 0.2, v = 0.004, m̂ = 0.2/0.1 = 2, v̂ = 0.004/0.001 = 4, p = 1 − 0.1·2/(2 + 1e-8) = 0.900000000005
    /// step 2: m = 0.18 − 0.1 = 0.08, v = 0.003996 + 0.001 = 0.004996, m̂ = 0.08/0.19, v̂ = 0.004996/0.001999,
    ///         p = 0.900000000005 − 0.1·m̂/(sqrt(v̂) + 1e-8)
    /// </summary>
    [Theory]
    [InlineData(DType.Float64, 1e-12)]
    [InlineData(DType.Float32, 1e-6)]
    public void Adam_matches_hand_computed_steps(DType dtype, double tolerance)
    {
        var p = Var.Parameter(B.FromDoubles([1.0], 1, 1, dtype));
        var adam = new Adam([p], learningRate: 0.1);
        SetGrad(p, 2.0);
        adam.Step();
        double expected1 = 1 - 0.1 * 2 / (2 + 1e-8);
        Assert.Equal(expected1, p.Value.Item(), tolerance);

        SetGrad(p, -1.0);
        adam.Step();
        double mHat = 0.08 / (1 - 0.9 * 0.9), vHat = 0.004996 / (1 - 0.999 * 0.999);
        double expected2 = expected1 - 0.1 * mHat / (Math.Sqrt(vHat) + 1e-8);
        Assert.Equal(expected2, p.Value.Item(), tolerance);
        Assert.Equal(2, adam.StepCount);
    }

    /// <summary>Long tensors take the vectorised path; every element must follow the scalar formula.</summary>
    [Theory]
    [InlineData(DType.Float64, 1e-12)]
    [InlineData(DType.Float32, 1e-5)]
    public void Adam_vectorised_steps_match_the_formula_elementwise(DType dtype, double tolerance)
    {
        const int n = 37; // several vectors and a tail
        var rng = new Rng(3);
        var p0 = rng.NormalArray(n, 0, 1);
        var grads = new[] { rng.NormalArray(n, 0, 1), rng.NormalArray(n, 0, 1), rng.NormalArray(n, 0, 1) };
        var p = Var.Parameter(B.FromDoubles(p0, 1, n, dtype));
        var adam = new Adam([p], learningRate: 0.01, weightDecay: 0.1);
        var (expected, m, v) = ((double[])p0.Clone(), new double[n], new double[n]);
        for (int t = 1; t <= grads.Length; t++)
        {
            p.ZeroGrad();
            using (var tape = Tape.Begin())
                tape.Backward((p * Var.Constant(B.FromDoubles(grads[t - 1], 1, n, dtype))).Sum());
            adam.Step();
            for (int i = 0; i < n; i++)
            {
                double g = grads[t - 1][i] + 0.1 * expected[i];
                m[i] = 0.9 * m[i] + 0.1 * g;
                v[i] = 0.999 * v[i] + 0.001 * g * g;
                expected[i] -= 0.01 * (m[i] / (1 - Math.Pow(0.9, t))) / (Math.Sqrt(v[i] / (1 - Math.Pow(0.999, t))) + 1e-8);
            }
        }
        Assert.Equal(expected, p.Value.ToArray<double>(), new Tolerance(tolerance));
    }

    [Fact]
    public void Adam_weight_decay_adds_to_the_gradient()
    {
        // g = 0 + 0.5·p = 1 for p = 2: the first step moves p by lr (m̂/sqrt(v̂) = 1 whatever g's size).
        var p = Var.Parameter(B.FromArray(new[] { 2.0 }, 1, 1));
        var adam = new Adam([p], learningRate: 0.01, weightDecay: 0.5);
        SetGrad(p, 0.0);
        adam.Step();
        Assert.Equal(2 - 0.01 * 1 / (1 + 1e-8), p.Value.Item(), 12);
    }

    [Fact]
    public void Adam_leaves_parameters_without_gradients_alone()
    {
        var p = Var.Parameter(B.FromArray(new[] { 2.0 }, 1, 1));
        new Adam([p]).Step();
        Assert.Equal(2.0, p.Value.Item());
    }

    [Fact]
    public void Sgd_steps_against_the_gradient_with_weight_decay()
    {
        var p = Var.Parameter(B.FromArray(new[] { 1.0, -2.0 }, 1, 2));
        SetGrad(p, 0.5);
        new Sgd([p], learningRate: 0.1, weightDecay: 0.2).Step();
        // p − 0.1·(0.5 + 0.2·p)
        Assert.Equal([1 - 0.1 * (0.5 + 0.2), -2 - 0.1 * (0.5 - 0.4)], p.Value.ToArray<double>(), new Tolerance(1e-12));
    }

    [Fact]
    public void Adam_minimises_a_quadratic()
    {
        var target = Var.Constant(B.FromArray(new[] { 3.0, -1.0, 0.5 }, 1, 3));
        var p = Var.Parameter(B.Allocate(1, 3, DType.Float64));
        var adam = new Adam([p], learningRate: 0.05);
        for (int step = 0; step < 600; step++)
        {
            adam.ZeroGrad();
            using var tape = Tape.Begin();
            tape.Backward(Losses.MeanSquaredError(p, target));
            adam.Step();
        }
        Assert.Equal(target.Value.ToArray<double>(), p.Value.ToArray<double>(), new Tolerance(1e-3));
    }

    [Fact]
    public void Optimisers_refuse_constants()
    {
        var c = Var.Constant(B.Allocate(1, 1, DType.Float64));
        Assert.Throws<EngineException>(() => new Adam([c]));
    }

    private static void SetGrad(Var p, double value)
    {
        // A backward pass of value·Σp leaves exactly `value` in every entry of p's (zeroed) gradient.
        p.ZeroGrad();
        using var tape = Tape.Begin();
        tape.Backward(p.Sum().Scale(value));
    }

    private sealed class Tolerance(double tolerance) : IEqualityComparer<double>
    {
        public bool Equals(double x, double y) => Math.Abs(x - y) <= tolerance;
        public int GetHashCode(double obj) => 0;
    }
}
