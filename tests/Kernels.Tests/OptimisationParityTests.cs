namespace Engine.Kernels.Tests;

/// <summary>CUDA's Adam step, CLUB fit and top-K selection held to the CPU backend's (see <see cref="Parity"/>).</summary>
[Trait("Category", Category.Cuda)]
public class OptimisationParityTests
{
    [Theory]
    [InlineData(DType.Float32)]
    [InlineData(DType.Float64)]
    public void Adam_step_agrees_with_and_without_weight_decay(DType dtype)
    {
        using var p = Parity.OnCuda();
        var rng = new Random(41);
        foreach (var (rows, cols) in Parity.Shapes)
            foreach (double weightDecay in new[] { 0.0, 0.01 })
                foreach (int step in new[] { 1, 7 })
                {
                    int n = rows * cols;
                    // A large learning rate, so that the step (not the parameter) dominates the comparison.
                    p.Check($"AdamStep {rows}×{cols} step {step} weight decay {weightDecay}", dtype,
                        (b, t) => b.AdamStep(t[0], t[1], t[2], t[3], 0.1, 0.9, 0.999, 1e-8, weightDecay, step),
                        [new("param", rows, cols, Parity.Uniform(rng, n)), new("grad", rows, cols, Parity.Uniform(rng, n)),
                         new("m", rows, cols, Parity.Uniform(rng, n, -0.1, 0.1)), new("v", rows, cols, Parity.Uniform(rng, n, 0, 0.01))]);
                }
    }

    [Theory]
    [InlineData(DType.Float32)]
    [InlineData(DType.Float64)]
    public void Club_fit_agrees_on_small_batches(DType dtype)
    {
        using var p = Parity.OnCuda();
        var rng = new Random(42);
        var layout = new ClubLayout(32, 8);
        int length = layout.Length;
        // One row, rows fewer than the kernel's 512 threads, and more; one pair and two; with and without weight decay.
        foreach (var (pairs, rowsPerPair, step0, weightDecay) in new[] { (1, 1, 0, 0.0), (2, 37, 10, 1e-3), (1, 600, 3, 0.0) })
        {
            int rows = pairs * rowsPerPair;
            // The gradients are means over the rows, so the moments sum that many terms.
            p.Check($"ClubFit {pairs} pair(s) of {rowsPerPair} row(s), from step {step0}, weight decay {weightDecay}", dtype,
                (b, t) => b.ClubFit(t[0], t[1], pairs, layout, t[2], t[3], t[4], 3, step0, 1e-3, 0.9, 0.999, 1e-8, weightDecay),
                [new("x", rows, 32, Parity.Uniform(rng, rows * 32)), new("y", rows, 32, Parity.Uniform(rng, rows * 32)),
                 new("parameters", 1, length, Parity.Uniform(rng, length, -0.5, 0.5)),
                 new("m", 1, length, Parity.Uniform(rng, length, -1e-3, 1e-3), Terms: rows), new("v", 1, length, Parity.Uniform(rng, length, 0, 1e-3), Terms: rows)]);
        }
    }

    [Theory]
    [InlineData(DType.Float32)]
    [InlineData(DType.Float64)]
    public void Top_k_rows_agrees_exactly_with_and_without_a_mask(DType dtype)
    {
        using var p = Parity.OnCuda();
        var rng = new Random(43);
        double[] special = [double.NaN, double.NegativeInfinity, double.PositiveInfinity, -0.0, 0];
        // One column, k beyond the row (−1 padding), rows shorter than a warp, k past the block's 256 threads.
        foreach (var (rows, cols, k) in new[] { (1, 1, 1), (3, 5, 10), (37, 33, 5), (5, 300, 257), (40, 1000, 20) })
        {
            // Scores on a grid of hundredths (ties broken by the lower column), a tenth NaN, ±∞ or ±0.
            var scores = Parity.Uniform(rng, rows * cols).Select(v => rng.Next(10) == 0 ? special[rng.Next(special.Length)] : Math.Round(v, 2)).ToArray();
            // Each row masks a random, unsorted fifth of its columns, some twice; the last row masks every column.
            var (rowPtr, masked) = (new int[rows + 1], new List<int>());
            for (int r = 0; r < rows; r++)
            {
                var row = Enumerable.Range(0, cols).Where(_ => r == rows - 1 || rng.Next(5) == 0).ToList();
                row.AddRange(row.Take(2));
                masked.AddRange(row.OrderBy(_ => rng.Next()));
                rowPtr[r + 1] = masked.Count;
            }
            var what = $"TopKRows k={k} of {rows}×{cols}";
            p.Check(what, dtype, (b, t) => b.TopKRows(t[0], null, null, k, t[1]),
                [new("scores", rows, cols, scores), new("result", rows, k, Enumerable.Repeat(-7.0, rows * k).ToArray(), DType.Int32)]);
            p.Check($"{what}, masked", dtype, (b, t) => b.TopKRows(t[0], t[1], t[2], k, t[3]),
                [new("scores", rows, cols, scores), Arg.Index("maskRowPtr", rowPtr), Arg.Index("maskCols", [.. masked]),
                 new("result", rows, k, Enumerable.Repeat(-7.0, rows * k).ToArray(), DType.Int32)]);
        }
    }
}
