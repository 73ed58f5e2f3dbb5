using Engine.Autograd;
using Engine.Cpu;
using Engine.Training.Checkpoints;
using Engine.Training.Layers;

namespace Engine.Training.Tests;

/// <summary>The shared layers SEA and its plug-ins are built from: BatchNorm's running statistics, ProjectHead, Xavier-normal Linear, Dropout.</summary>
public class LayerTests
{
    private static readonly Backend B = CpuBackend.Shared;
    private const DType F64 = DType.Float64;

    /// <summary>Every tensor a component's VisitState walks, by name, as doubles.</summary>
    internal sealed class TensorCollector : IStateVisitor
    {
        public Dictionary<string, double[]> Tensors { get; } = [];
        public void Tensor(string name, Tensor tensor) => Tensors[name] = tensor.ToArray<double>();
        public T Value<T>(string name, T value) => value;
    }

    [Fact]
    public void BatchNorm_keeps_pytorchs_running_statistics_and_normalises_with_them_in_evaluation_mode()
    {
        var rng = new Rng(4);
        int rows = 5, cols = 3;
        var norm = new BatchNorm(B, cols, F64, "bn");
        B.Upload<double>([0.5, 1.5, 2.0], norm.Gamma.Value);
        B.Upload<double>([0.1, -0.2, 0.3], norm.Beta.Value);
        double[] mean = [0, 0, 0], variance = [1, 1, 1];
        for (int step = 0; step < 3; step++)
        {
            var x = rng.NormalArray(rows * cols, 1, 2);
            using (Tape.Begin()) norm.Forward(Var.Constant(B.FromArray(x, rows, cols)), training: true);
            for (int c = 0; c < cols; c++)
            {
                var column = Enumerable.Range(0, rows).Select(r => x[r * cols + c]).ToArray();
                double m = column.Average();
                double unbiased = column.Sum(v => (v - m) * (v - m)) / (rows - 1);
                mean[c] = 0.9 * mean[c] + 0.1 * m;
                variance[c] = 0.9 * variance[c] + 0.1 * unbiased;
            }
        }
        AssertClose(mean, norm.RunningMean.ToArray<double>(), 1e-12);
        AssertClose(variance, norm.RunningVariance.ToArray<double>(), 1e-12);

        var (runningMean, runningVariance) = (norm.RunningMean.ToArray<double>(), norm.RunningVariance.ToArray<double>());
        var input = rng.NormalArray(rows * cols, 0, 3);
        double[] y;
        using (Tape.Begin()) y = norm.Forward(Var.Constant(B.FromArray(input, rows, cols)), training: false).Value.ToArray<double>();
        double[] gamma = [0.5, 1.5, 2.0], beta = [0.1, -0.2, 0.3];
        var expected = input.Select((v, i) => gamma[i % cols] * (v - mean[i % cols]) / Math.Sqrt(variance[i % cols] + 1e-5) + beta[i % cols]).ToArray();
        AssertClose(expected, y, 1e-12);
        Assert.Equal(runningMean, norm.RunningMean.ToArray<double>()); // evaluation leaves them alone
        Assert.Equal(runningVariance, norm.RunningVariance.ToArray<double>());
    }

    [Fact]
    public void BatchNorm_in_training_mode_refuses_a_single_row()
    {
        var norm = new BatchNorm(B, 2, F64, "heads.bn");
        using var tape = Tape.Begin();
        var e = Assert.Throws<ArgumentException>(() => norm.Forward(Var.Constant(B.FromArray(new[] { 1.0, 2.0 }, 1, 2)), training: true));
        Assert.Contains("'heads.bn'", e.Message);
    }

    [Fact]
    public void ProjectHead_gives_unit_rows_and_its_evaluation_mode_differs_from_training_without_touching_the_running_statistics()
    {
        var head = new ProjectHead(B, 4, 6, 3, F64, new Rng(1), "h");
        Assert.Equal(["h.0.weight", "h.0.bias", "h.1.gamma", "h.1.beta", "h.3.weight", "h.3.bias", "h.4.gamma", "h.4.beta", "h.6.weight", "h.6.bias"],
            head.Parameters.Select(p => p.Name));
        var x = Var.Constant(B.Normal(10, 4, F64, new Rng(2), 0.5, 2));
        using var tape = Tape.Begin();

        var initial = RunningStatistics(head);
        Assert.Equal(["h.1.running_mean", "h.1.running_var", "h.4.running_mean", "h.4.running_var"], initial.Keys);
        var evaluated = head.Forward(x, training: false).Value.ToArray<double>();
        Assert.Equal(initial, RunningStatistics(head));

        var trained = head.Forward(x, training: true).Value.ToArray<double>();
        var updated = RunningStatistics(head);
        Assert.All(initial.Keys, k => Assert.NotEqual(initial[k], updated[k]));
        var evaluatedAfter = head.Forward(x, training: false).Value.ToArray<double>();
        Assert.True(trained.Zip(evaluatedAfter).Max(p => Math.Abs(p.First - p.Second)) > 1e-3, "evaluation mode gave the training output");
        Assert.NotEqual(evaluated, evaluatedAfter); // the running statistics moved between them

        foreach (var output in new[] { evaluated, trained, evaluatedAfter })
            for (int r = 0; r < 10; r++)
                Assert.Equal(1, Math.Sqrt(output.Skip(r * 3).Take(3).Sum(v => v * v)), 12);
    }

    [Fact]
    public void Xavier_normal_linear_has_zero_bias_and_xavier_spread_weights()
    {
        var layer = new Linear(B, 4480, 64, F64, new Rng(3), "item_linear", LinearInit.XavierNormal);
        Assert.All(layer.Bias.Value.ToArray<double>(), b => Assert.Equal(0, b));
        var w = layer.Weight.Value.ToArray<double>();
        double std = Math.Sqrt(w.Sum(v => v * v) / w.Length);
        Assert.Equal(Math.Sqrt(2.0 / (4480 + 64)), std, 0.0003); // ≈ 0.0210, from 286,720 draws
        Assert.Equal(64, layer.Out);
    }

    [Fact]
    public void Dropout_zeroes_about_p_and_scales_the_survivors_reproducibly()
    {
        var ones = B.Allocate(200, 100, F64);
        B.Fill(ones, 1);
        var x = Var.Constant(ones);
        double[] Draw(ulong seed) => new Dropout(0.2, new Rng(seed)).Apply(x).Value.ToArray<double>();
        var mask = Draw(5);
        Assert.InRange(mask.Count(v => v == 0) / (double)mask.Length, 0.19, 0.21); // 20,000 draws: ±4 standard deviations
        Assert.All(mask, v => Assert.True(v == 0 || v == 1 / 0.8, $"{v}"));
        Assert.Equal(mask, Draw(5));
        Assert.NotEqual(mask, Draw(6));

        var rng = new Rng(7);
        var state = rng.State;
        Assert.Same(x, new Dropout(0, rng).Apply(x));
        Assert.Equal(state, rng.State); // p = 0 draws nothing
        Assert.Throws<ArgumentOutOfRangeException>(() => new Dropout(1, rng));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Dropout(-0.1, rng));
    }

    private static Dictionary<string, double[]> RunningStatistics(ProjectHead head)
    {
        var collector = new TensorCollector();
        head.VisitState(collector);
        return collector.Tensors;
    }

    private static void AssertClose(double[] expected, double[] actual, double tolerance)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= tolerance * Math.Max(1, Math.Abs(expected[i])), $"[{i}]: expected {expected[i]:G17}, got {actual[i]:G17}");
    }
}
