namespace Engine.Kernels.Tests;

/// <summary>CUDA's reductions and log-sum-exp held to the CPU backend's (see <see cref="Parity"/>).</summary>
[Trait("Category", Category.Cuda)]
public class ReductionParityTests
{
    private static readonly int?[] Dims = [null, 0, 1];

    /// <summary>y's shape and how many elements each entry reduces.</summary>
    private static (int Rows, int Cols, int Terms) Reduced(int rows, int cols, int? dim) =>
        dim switch { null => (1, 1, rows * cols), 0 => (1, cols, rows), _ => (rows, 1, cols) };

    /// <summary>
    /// For Max: values on a grid of quarters, so that maxima tie (−0 against +0 included); with
    /// <paramref name="special"/>, about one in twenty NaN or ±∞.
    /// </summary>
    private static double[] MaxInput(Random rng, int n, bool special)
    {
        double[] specials = [double.NaN, double.PositiveInfinity, double.NegativeInfinity];
        return Parity.Uniform(rng, n).Select(v => special && rng.Next(20) == 0 ? specials[rng.Next(3)] : Math.Round(v * 4) / 4).ToArray();
    }

    private static void CheckReduction(Parity p, DType dtype, ReduceOp op, int rows, int cols, int? dim, double[] x, Random rng, string variant = "")
    {
        var (yRows, yCols, terms) = Reduced(rows, cols, dim);
        var what = $"{op} over {(dim is null ? "all" : $"dim {dim}")} of {rows}×{cols}{variant}";
        p.Check(what, dtype, (b, t) => b.Reduce(op, t[0], t[1], dim), [new("x", rows, cols, x), Arg.Out("y", yRows, yCols, terms)]);
        var y = p.OnCpu(dtype, (b, t) => b.Reduce(op, t[0], t[1], dim), new("x", rows, cols, x), Arg.Out("y", yRows, yCols))[1];
        p.Check($"{what} backward", dtype, (b, t) => b.ReduceBackward(op, t[0], t[1], t[2], t[3], dim),
            [new("x", rows, cols, x), new("y", yRows, yCols, y), new("dy", yRows, yCols, Parity.Uniform(rng, yRows * yCols)),
             new("dx", rows, cols, Parity.Uniform(rng, rows * cols))]);
    }

    [Theory]
    [InlineData(DType.Float32)]
    [InlineData(DType.Float64)]
    public void Sum_and_mean_agree_over_all_rows_and_columns(DType dtype)
    {
        using var p = Parity.OnCuda();
        var rng = new Random(11);
        // Empty tensors too: their sum is 0 and their mean NaN on the CPU.
        foreach (var (rows, cols) in Parity.Shapes.Append((0, 5)).Append((4, 0)))
            foreach (var op in new[] { ReduceOp.Sum, ReduceOp.Mean })
                foreach (var dim in Dims)
                    CheckReduction(p, dtype, op, rows, cols, dim, Parity.Uniform(rng, rows * cols), rng);
    }

    [Theory]
    [InlineData(DType.Float32)]
    [InlineData(DType.Float64)]
    public void Max_agrees_with_ties_going_to_the_first_and_NaN_propagating(DType dtype)
    {
        using var p = Parity.OnCuda();
        var rng = new Random(12);
        foreach (var (rows, cols) in Parity.Shapes)
            foreach (var dim in Dims)
                foreach (bool special in new[] { false, true })
                    CheckReduction(p, dtype, ReduceOp.Max, rows, cols, dim, MaxInput(rng, rows * cols, special), rng, special ? " with NaN and ±∞" : " with ties");
    }

    [Theory]
    [InlineData(DType.Float32)]
    [InlineData(DType.Float64)]
    public void Row_log_sum_exp_and_its_backward_agree(DType dtype)
    {
        using var p = Parity.OnCuda();
        var rng = new Random(13);
        foreach (var (rows, cols) in Parity.Shapes)
        {
            var x = Parity.Uniform(rng, rows * cols, -3, 3);
            if (rows >= 4)
            {
                // A row of −∞, a row with +∞, a row with NaN, and a row of large logits (no overflow).
                for (int c = 0; c < cols; c++) x[c] = double.NegativeInfinity;
                x[cols] = double.PositiveInfinity;
                x[2 * cols] = double.NaN;
                for (int c = 0; c < cols; c++) x[3 * cols + c] += 300;
            }
            var what = $"LogSumExpRows {rows}×{cols}";
            p.Check(what, dtype, (b, t) => b.LogSumExpRows(t[0], t[1]), [new("x", rows, cols, x), Arg.Out("y", rows, 1, cols)]);
            var y = p.OnCpu(dtype, (b, t) => b.LogSumExpRows(t[0], t[1]), new("x", rows, cols, x), Arg.Out("y", rows, 1))[1];
            p.Check($"{what} backward", dtype, (b, t) => b.LogSumExpRowsBackward(t[0], t[1], t[2], t[3]),
                [new("x", rows, cols, x), new("y", rows, 1, y), new("dy", rows, 1, Parity.Uniform(rng, rows)), new("dx", rows, cols, Parity.Uniform(rng, rows * cols))]);
        }
    }
}
