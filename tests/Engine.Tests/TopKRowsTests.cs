namespace Engine.Tests;

/// <summary>
/// <see cref="Backend.TopKRows"/> on the CPU: every row against a full sort, with and without masks, in both dtypes;
/// its byte count; and the arguments it refuses.
/// </summary>
public class TopKRowsTests
{
    private readonly Backend b = H.NewBackend();

    /// <summary>The op's order as a comparison: numbers above NaN, higher scores first, ties (two NaNs too) by lower column.</summary>
    private static int Order(double[] row, int x, int y)
    {
        double sx = row[x], sy = row[y];
        if (double.IsNaN(sx) != double.IsNaN(sy)) return double.IsNaN(sx) ? 1 : -1;
        if (sx > sy) return -1;
        if (sx < sy) return 1;
        return x.CompareTo(y); // equal numbers (−0 and +0 included) or two NaNs
    }

    /// <summary>Each row's unmasked columns sorted in full, the first k kept, −1 after.</summary>
    private static int[] Expected(double[] scores, int rows, int cols, int[][]? mask, int k)
    {
        var result = new int[rows * k];
        for (int r = 0; r < rows; r++)
        {
            var row = scores[(r * cols)..((r + 1) * cols)];
            var kept = Enumerable.Range(0, cols).Except(mask?[r] ?? []).ToList();
            kept.Sort((x, y) => Order(row, x, y));
            for (int j = 0; j < k; j++) result[r * k + j] = j < kept.Count ? kept[j] : -1;
        }
        return result;
    }

    /// <summary>TopKRows on a fresh rows×k result filled with junk first, so that every entry must be written.</summary>
    private int[] Run(DType dtype, double[] scores, int rows, int cols, int[][]? mask, int k)
    {
        using var s = b.FromDoubles(scores, rows, cols, dtype);
        using var result = b.Allocate(rows, k, DType.Int32);
        b.Fill(result, 12345);
        if (mask is null)
        {
            b.TopKRows(s, null, null, k, result);
            return result.ToArray<int>();
        }
        var rowPtr = new int[rows + 1];
        for (int r = 0; r < rows; r++) rowPtr[r + 1] = rowPtr[r] + mask[r].Length;
        var masked = mask.SelectMany(m => m).ToArray();
        using var maskRowPtr = b.FromArray(rowPtr, rows + 1, 1);
        using var maskCols = b.FromArray(masked, masked.Length, 1);
        b.TopKRows(s, maskRowPtr, maskCols, k, result);
        return result.ToArray<int>();
    }

    private void Check(DType dtype, double[] scores, int rows, int cols, int[][]? mask, int k, string what)
    {
        var expected = Expected(H.Stored(scores, dtype), rows, cols, mask, k);
        var actual = Run(dtype, scores, rows, cols, mask, k);
        Assert.True(expected.SequenceEqual(actual),
            $"{what}, {dtype.Name()}: expected [{string.Join(",", expected)}], got [{string.Join(",", actual)}]");
    }

    private static readonly double[] Special = [double.NaN, double.NegativeInfinity, double.PositiveInfinity, -0.0, 0, 1, -1, 0.5];

    /// <summary>Uniform scores, a fifth (or, in some rows, all) of them drawn from a few values: ties, NaN, ±∞ and ±0.</summary>
    private static double[] Scores(Random rng, int rows, int cols)
    {
        var s = new double[rows * cols];
        double special = rng.Next(3) == 0 ? 1 : 0.2;
        for (int i = 0; i < s.Length; i++)
            s[i] = rng.NextDouble() < special ? Special[rng.Next(Special.Length)] : Math.Round(rng.NextDouble() * 4 - 2, 3);
        return s;
    }

    /// <summary>
    /// Per row, a random subset of the columns in random order with some repeated; row 0 masks every column and the
    /// last row none.
    /// </summary>
    private static int[][] Mask(Random rng, int rows, int cols)
    {
        var mask = new int[rows][];
        for (int r = 0; r < rows; r++)
        {
            var chosen = Enumerable.Range(0, cols).Where(_ => r == 0 || (r < rows - 1 && rng.NextDouble() < 0.3)).ToList();
            chosen.AddRange(chosen.Where(_ => rng.Next(4) == 0).ToList());
            mask[r] = chosen.OrderBy(_ => rng.Next()).ToArray();
        }
        return mask;
    }

    [Theory]
    [InlineData(DType.Float32)]
    [InlineData(DType.Float64)]
    public void Matches_a_full_sort_with_and_without_masks(DType dtype)
    {
        for (int seed = 0; seed < 60; seed++)
        {
            var rng = new Random(seed);
            int rows = rng.Next(1, 7), cols = rng.Next(1, 200);
            var scores = Scores(rng, rows, cols);
            var mask = Mask(rng, rows, cols);
            foreach (int k in new[] { 0, 1, 5, cols - 1, cols, cols + 3 })
            {
                Check(dtype, scores, rows, cols, null, k, $"seed {seed}, {rows}×{cols}, k {k}, no mask");
                Check(dtype, scores, rows, cols, mask, k, $"seed {seed}, {rows}×{cols}, k {k}, masked");
            }
        }
    }

    [Theory]
    [InlineData(DType.Float32)]
    [InlineData(DType.Float64)]
    public void Long_rows_match_a_full_sort(DType dtype)
    {
        // Long enough for TopK's vector scan and its floor (cols ≥ 64k), which a masked slice maximum must not fool.
        for (int seed = 0; seed < 6; seed++)
        {
            var rng = new Random(100 + seed);
            int rows = 5, cols = rng.Next(3200, 5000);
            var scores = Scores(rng, rows, cols);
            var mask = Mask(rng, rows, cols);
            foreach (int k in new[] { 8, 20, 50 })
            {
                Check(dtype, scores, rows, cols, null, k, $"seed {seed}, {rows}×{cols}, k {k}, no mask");
                Check(dtype, scores, rows, cols, mask, k, $"seed {seed}, {rows}×{cols}, k {k}, masked");
            }
        }
    }

    [Fact]
    public void Masked_rows_and_short_rows_pad_with_minus_one()
    {
        // Row 0 masks all three columns (1 twice, out of order); row 1 masks column 1 and keeps NaN below −∞.
        double[] scores = [3, 1, 2, double.NaN, 5, double.NegativeInfinity];
        int[][] mask = [[2, 1, 0, 1], [1]];
        Assert.Equal([-1, -1, -1, -1, 2, 0, -1, -1], Run(DType.Float32, scores, 2, 3, mask, 4));
        Assert.Equal([0, 2, 1, -1, 1, 2, 0, -1], Run(DType.Float64, scores, 2, 3, null, 4));
        Assert.Equal([1, 2, -1, -1], Run(DType.Float32, [1, 3, 2, 0], 1, 4, [[0, 3]], 4));
    }

    [Fact]
    public void Zero_k_and_empty_shapes_write_nothing_and_do_not_fail()
    {
        Assert.Empty(Run(DType.Float32, [1, 2, 3, 4], 2, 2, null, 0));
        Assert.Empty(Run(DType.Float64, [], 0, 5, [], 3));
        Assert.Equal([-1, -1, -1, -1], Run(DType.Float32, [], 2, 0, null, 2));
    }

    [Fact]
    public void Counts_the_scores_and_mask_read_and_the_result_written()
    {
        using var scores = b.Allocate(3, 10, DType.Float64);
        using var rowPtr = b.FromArray(new[] { 0, 2, 2, 3 }, 4, 1);
        using var cols = b.FromArray(new[] { 1, 4, 9 }, 3, 1);
        using var result = b.Allocate(3, 5, DType.Int32);
        b.Counters.Enabled = true;
        b.TopKRows(scores, rowPtr, cols, 5, result);
        b.TopKRows(scores, null, null, 5, result);
        var top = b.Counters.Snapshot()[OpKind.TopKRows];
        Assert.Equal(2, top.Calls);
        Assert.Equal(0, top.Flops);
        Assert.Equal((30 * 8 + 4 * 4 + 3 * 4 + 15 * 4) + (30 * 8 + 15 * 4), top.Bytes);
    }

    [Fact]
    public void Bad_arguments_are_refused_with_the_shapes()
    {
        using var f32 = b.Allocate(2, 3, DType.Float32);
        using var i32 = b.Allocate(2, 3, DType.Int32);
        using var result = b.Allocate(2, 2, DType.Int32);
        using var rowPtr = b.FromArray(new[] { 0, 1, 2 }, 3, 1);
        using var cols = b.FromArray(new[] { 0, 2 }, 2, 1);
        const string op = nameof(Backend.TopKRows);

        H.Throws(() => b.TopKRows(i32, null, null, 2, result), op, "float32 or float64", "int32 2×3");
        H.Throws(() => b.TopKRows(f32, null, null, -1, b.Allocate(2, 0, DType.Int32)), op, "k must be 0 or more", "-1");
        H.Throws(() => b.TopKRows(f32, null, null, 2, b.Allocate(2, 2, DType.Float32)), op, "scores are 2×3", "int32 2×2", "float32 2×2");
        H.Throws(() => b.TopKRows(f32, null, null, 3, result), op, "k is 3", "int32 2×3", "got int32 2×2");
        H.Throws(() => b.TopKRows(f32, null, null, 2, b.Allocate(3, 2, DType.Int32)), op, "int32 2×2", "got int32 3×2");

        H.Throws(() => b.TopKRows(f32, rowPtr, null, 2, result), op, "both", "only the row pointers");
        H.Throws(() => b.TopKRows(f32, null, cols, 2, result), op, "both", "only the columns");
        H.Throws(() => b.TopKRows(f32, b.FromArray(new[] { 0, 2 }, 2, 1), cols, 2, result), op, "int32 3×1", "got int32 2×1");
        H.Throws(() => b.TopKRows(f32, b.Allocate(3, 1, DType.Float32), cols, 2, result), op, "int32 3×1", "got float32 3×1");
        H.Throws(() => b.TopKRows(f32, rowPtr, b.FromArray(new[] { 0, 2 }, 1, 2), 2, result), op, "nnz×1", "got int32 1×2");
        H.Throws(() => b.TopKRows(f32, rowPtr, b.Allocate(2, 1, DType.Float64), 2, result), op, "nnz×1", "got float64 2×1");

        // Another backend's tensor, and a freed one.
        var other = H.NewBackend();
        H.Throws(() => b.TopKRows(f32, null, null, 2, other.Allocate(2, 2, DType.Int32)), op, "2×2", "this op runs on");
        H.Throws(() => b.TopKRows(f32, other.FromArray(new[] { 0, 1, 2 }, 3, 1), cols, 2, result), op, "3×1", "this op runs on");
        var freed = b.Allocate(2, 3, DType.Float32);
        freed.Dispose();
        H.Throws(() => b.TopKRows(freed, null, null, 2, result), op, "disposed");

        // The mask's values, which only the CPU backend reads: row pointers that fall or overrun, columns out of range.
        H.Throws(() => b.TopKRows(f32, b.FromArray(new[] { 0, 2, 1 }, 3, 1), cols, 2, result), op, "mask row 1 spans columns 2..1");
        H.Throws(() => b.TopKRows(f32, b.FromArray(new[] { 0, 1, 3 }, 3, 1), cols, 2, result), op, "mask row 1 spans columns 1..3", "2 columns");
        H.Throws(() => b.TopKRows(f32, rowPtr, b.FromArray(new[] { 0, 3 }, 2, 1), 2, result), op, "mask column [1] = 3 (row 1)", "3 columns");
        H.Throws(() => b.TopKRows(f32, rowPtr, b.FromArray(new[] { -1, 0 }, 2, 1), 2, result), op, "mask column [0] = -1 (row 0)");
    }
}
