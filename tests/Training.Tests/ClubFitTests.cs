using Engine.Cpu;

namespace Engine.Training.Tests;

/// <summary>
/// <see cref="Backend.ClubFit"/>'s CPU kernel (CLUB's whole inner loop in one op) held to its composed reference (the
/// same loop from the backend's primitives, <see cref="Backend.ComposedOnly"/>): q's parameters and Adam's moments
/// after several steps.
/// </summary>
public class ClubFitTests
{
    private static readonly Backend Cpu = new CpuBackend(GemmProvider.Managed);
    private static readonly Backend Composed = new CpuBackend(GemmProvider.Managed) { ComposedOnly = true };

    /// <summary>Random stacked pairs and a random q, as doubles.</summary>
    private sealed record Problem(ClubLayout Layout, int Pairs, int Rows, double[] X, double[] Y, double[] Parameters)
    {
        public static Problem Random(ClubLayout layout, int pairs, int rows, int seed)
        {
            var rng = new Random(seed);
            double[] Draw(int n, double scale) => Enumerable.Range(0, n).Select(_ => (rng.NextDouble() * 2 - 1) * scale).ToArray();
            int n = pairs * rows * layout.Width;
            return new Problem(layout, pairs, rows, Draw(n, 1), Draw(n, 1), Draw(layout.Length, 0.5));
        }
    }

    private sealed record Fitted(double[] Parameters, double[] First, double[] Second);

    private static Fitted Fit(Backend backend, Problem problem, DType dtype, int steps, double lr, Fitted? from = null, int step0 = 0,
        double weightDecay = 0)
    {
        int rows = problem.Pairs * problem.Rows, length = problem.Layout.Length;
        using var x = backend.FromDoubles(problem.X, rows, problem.Layout.Width, dtype);
        using var y = backend.FromDoubles(problem.Y, rows, problem.Layout.Width, dtype);
        using var p = backend.FromDoubles(from?.Parameters ?? problem.Parameters, 1, length, dtype);
        using var m = backend.FromDoubles(from?.First ?? new double[length], 1, length, dtype);
        using var v = backend.FromDoubles(from?.Second ?? new double[length], 1, length, dtype);
        backend.ClubFit(x, y, problem.Pairs, problem.Layout, p, m, v, steps, step0, lr, 0.9, 0.999, 1e-8, weightDecay);
        return new Fitted(p.ToArray<double>(), m.ToArray<double>(), v.ToArray<double>());
    }

    private static Fitted Fused(Problem problem, DType dtype, int steps, double lr, Fitted? from = null, int step0 = 0) =>
        Fit(Cpu, problem, dtype, steps, lr, from, step0);

    private static void AssertClose(double[] expected, double[] actual, double tolerance, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= tolerance * (1 + Math.Abs(expected[i])),
                $"{what}[{i}]: expected {expected[i]:G17}, got {actual[i]:G17}");
    }

    [Theory]
    [InlineData(32, 8, 2, 50)]    // SEA's widths, both pairs
    [InlineData(5, 3, 1, 9)]      // widths that are not whole vectors: the padding must stay inert
    [InlineData(32, 8, 2, 700)]   // more rows than one chunk: the chunks run in parallel and are summed in order
    public void Fused_fit_equals_the_composed_loop_in_float64(int width, int hidden, int pairs, int rows)
    {
        var problem = Problem.Random(new ClubLayout(width, hidden), pairs, rows, seed: width + rows);
        var expected = Fit(Composed, problem, DType.Float64, steps: 6, lr: 1e-2);
        var actual = Fused(problem, DType.Float64, steps: 6, lr: 1e-2);
        Assert.NotEqual(problem.Parameters, actual.Parameters); // it moved
        AssertClose(expected.Parameters, actual.Parameters, 1e-11, "parameter");
        AssertClose(expected.First, actual.First, 1e-11, "first moment");
        AssertClose(expected.Second, actual.Second, 1e-11, "second moment");
    }

    [Fact]
    public void Fused_fit_continues_from_moments_with_weight_decay_as_the_reference_does()
    {
        var problem = Problem.Random(new ClubLayout(32, 8), 2, 50, seed: 9);
        var start = Fused(problem, DType.Float64, steps: 3, lr: 1e-2);
        var expected = Fit(Composed, problem, DType.Float64, steps: 4, lr: 1e-2, start, step0: 3, weightDecay: 0.05);
        var actual = Fit(Cpu, problem, DType.Float64, steps: 4, lr: 1e-2, start, step0: 3, weightDecay: 0.05);
        AssertClose(expected.Parameters, actual.Parameters, 1e-11, "parameter");
        AssertClose(expected.First, actual.First, 1e-11, "first moment");
        AssertClose(expected.Second, actual.Second, 1e-11, "second moment");
    }

    [Fact]
    public void Steps_split_over_calls_continue_exactly_and_repeat_bit_for_bit()
    {
        var problem = Problem.Random(new ClubLayout(32, 8), 2, 600, seed: 3);
        var whole = Fused(problem, DType.Float32, steps: 7, lr: 1e-3);
        var split = Fused(problem, DType.Float32, steps: 4, lr: 1e-3, Fused(problem, DType.Float32, steps: 3, lr: 1e-3), step0: 3);
        Assert.Equal(whole, split, (a, b) => a.Parameters.SequenceEqual(b.Parameters) && a.First.SequenceEqual(b.First) && a.Second.SequenceEqual(b.Second));
        Assert.Equal(whole.Parameters, Fused(problem, DType.Float32, steps: 7, lr: 1e-3).Parameters);
    }

    [Fact]
    public void Float32_follows_float64()
    {
        var problem = Problem.Random(new ClubLayout(32, 8), 2, 300, seed: 5);
        AssertClose(Fused(problem, DType.Float64, 20, 1e-3).Parameters, Fused(problem, DType.Float32, 20, 1e-3).Parameters, 1e-5, "parameter");
    }

    [Fact]
    public void Bad_arguments_are_named()
    {
        var layout = new ClubLayout(32, 8);
        using var x = Cpu.Allocate(10, 32, DType.Float32);
        using var p = Cpu.Allocate(1, layout.Length, DType.Float32);
        using var m = Cpu.Allocate(1, layout.Length, DType.Float32);
        using var wrong = Cpu.Allocate(1, layout.Length - 1, DType.Float32);
        var e = Assert.Throws<EngineException>(() => Cpu.ClubFit(x, x, 3, layout, p, m, m, 1, 0, 1e-3, 0.9, 0.999, 1e-8, 0));
        Assert.Contains("3 pair(s)", e.Message);
        e = Assert.Throws<EngineException>(() => Cpu.ClubFit(x, x, 2, layout, wrong, wrong, wrong, 1, 0, 1e-3, 0.9, 0.999, 1e-8, 0));
        Assert.Contains($"1×{layout.Length}", e.Message);
        e = Assert.Throws<EngineException>(() => Cpu.ClubFit(x, x, 2, new ClubLayout(16, 8), p, m, m, 1, 0, 1e-3, 0.9, 0.999, 1e-8, 0));
        Assert.Contains("width must be 32", e.Message);
    }
}
