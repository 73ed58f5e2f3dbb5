namespace Engine.Tests;

/// <summary>TopK's selection on host arrays: the one implementation of the order that Backend.TopKRows runs on the CPU.</summary>
public class TopKTests
{
    /// <summary>
    /// The order TopK promises, by a full stable sort: numbers before NaN, then higher score first; the sort is stable
    /// over indices taken in ascending order, so equal scores (−0 and +0 included) keep the lower index first.
    /// </summary>
    private static int[] Reference(double[] scores, int[] excluded, int k)
    {
        var skip = excluded.ToHashSet();
        var order = Enumerable.Range(0, scores.Length).Where(i => !skip.Contains(i))
            .OrderBy(i => double.IsNaN(scores[i]) ? 1 : 0)
            .ThenByDescending(i => double.IsNaN(scores[i]) ? 0 : scores[i])
            .ToList();
        return [.. order.Take(k), .. Enumerable.Repeat(-1, Math.Max(0, k - order.Count))];
    }

    private static readonly double[] Pool = [-2, -1, -0.0, 0, 0.5, 1, double.PositiveInfinity, double.NegativeInfinity, double.NaN];

    /// <summary>Scores in one of three styles: few distinct values (many ties, NaN, ±∞, ±0), continuous, or a mix.</summary>
    private static double[] RandomScores(Random rng, int n)
    {
        int style = rng.Next(3);
        var s = new double[n];
        for (int i = 0; i < n; i++)
            s[i] = style == 0 || (style == 2 && rng.Next(4) == 0) ? Pool[rng.Next(Pool.Length)] : rng.NextDouble() * 4 - 2;
        return s;
    }

    /// <summary>A random ascending subset of 0..n−1, about a <paramref name="fraction"/> of it.</summary>
    private static int[] RandomExcluded(Random rng, int n, double fraction) =>
        Enumerable.Range(0, n).Where(_ => rng.NextDouble() < fraction).ToArray();

    private static void CheckBoth(double[] scores, int[] excluded, int k, string what)
    {
        var expected = Reference(scores, excluded, k);
        var result = new int[k];
        TopK.Select(scores, excluded, k, result);
        Assert.True(expected.SequenceEqual(result), $"{what} (double): expected [{string.Join(",", expected)}], got [{string.Join(",", result)}]");

        var floats = scores.Select(v => (float)v).ToArray();
        var expectedF = Reference(floats.Select(v => (double)v).ToArray(), excluded, k);
        Array.Fill(result, 12345);
        TopK.Select(floats, excluded, k, result);
        Assert.True(expectedF.SequenceEqual(result), $"{what} (float): expected [{string.Join(",", expectedF)}], got [{string.Join(",", result)}]");
    }

    [Fact]
    public void Matches_a_full_stable_sort_for_every_k_on_small_random_rows()
    {
        for (int seed = 0; seed < 300; seed++)
        {
            var rng = new Random(seed);
            int n = rng.Next(1, 80);
            var scores = RandomScores(rng, n);
            var excluded = RandomExcluded(rng, n, rng.Next(3) * 0.2);
            for (int k = 1; k <= n + 2; k++) CheckBoth(scores, excluded, k, $"seed {seed}, n {n}, k {k}");
        }
    }

    [Fact]
    public void Matches_a_full_stable_sort_on_long_rows()
    {
        // Long enough for the vector scan and the floor (n ≥ 64k); some rows open with a run of NaN so the heap starts
        // full of them, some rise so that nearly every item enters the heap.
        for (int seed = 0; seed < 40; seed++)
        {
            var rng = new Random(1000 + seed);
            int n = rng.Next(500, 4000);
            var scores = RandomScores(rng, n);
            if (seed % 4 == 0) Array.Fill(scores, double.NaN, 0, rng.Next(1, 200));
            if (seed % 4 == 1) Array.Sort(scores, (a, b) => a.CompareTo(b));
            var excluded = RandomExcluded(rng, n, 0.05);
            foreach (int k in new[] { 1, 7, 8, 20, 50, 300, n - excluded.Length, n })
                CheckBoth(scores, excluded, k, $"seed {seed}, n {n}, k {k}");
        }
    }

    /// <summary>
    /// Rows shaped against the floor TopK takes from the maxima of 2k slices: one peak per 32-item slice (rows of 64k
    /// items, the shortest that get a floor) over low noise, peaks drawn from a few values so that the top k ends in a
    /// tie with the floor, and some peaks excluded, as a user's training items (the best-scored, often) would be.
    /// </summary>
    [Fact]
    public void Items_at_the_floor_and_excluded_slice_maxima_are_handled()
    {
        for (int seed = 0; seed < 60; seed++)
        {
            var rng = new Random(2000 + seed);
            int k = new[] { 8, 10, 16 }[seed % 3], n = 64 * k, slice = 32;
            var scores = new double[n];
            for (int i = 0; i < n; i++) scores[i] = rng.NextDouble();
            var peaks = Enumerable.Range(0, 2 * k).Select(g => g * slice + rng.Next(slice)).ToArray();
            foreach (int p in peaks) scores[p] = 10 + rng.Next(6);
            var excluded = peaks.Where(_ => rng.Next(4) == 0).ToArray();
            CheckBoth(scores, excluded, k, $"seed {seed}, k {k}");
        }
    }

    [Fact]
    public void Equal_scores_rank_by_lower_index()
    {
        var result = new int[3];
        TopK.Select(new float[] { 1, 1, 1, 1 }, [], 3, result);
        Assert.Equal([0, 1, 2], result);

        TopK.Select(new float[] { 1, 1, 1, 1 }, [1], 3, result);
        Assert.Equal([0, 2, 3], result);

        // 0.9 at 1, 3 and 5; 1 excluded; then 0.5 at 0 before 0.5 at 2; +0 and −0 are equal too.
        var four = new int[4];
        TopK.Select(new double[] { 0.5, 0.9, 0.5, 0.9, 0.1, 0.9 }, [1], 4, four);
        Assert.Equal([3, 5, 0, 2], four);
        TopK.Select(new double[] { -0.0, 0.0, -0.0, -1 }, [], 4, four);
        Assert.Equal([0, 1, 2, 3], four);
    }

    [Fact]
    public void NaN_ranks_below_minus_infinity_and_excluded_items_never_appear()
    {
        var result = new int[4];
        TopK.Select(new float[] { float.NaN, float.NegativeInfinity, 3, float.NaN, float.PositiveInfinity }, [4], 4, result);
        Assert.Equal([2, 1, 0, 3], result);
    }

    [Fact]
    public void Fewer_candidates_than_k_are_padded_with_minus_one()
    {
        var result = new int[5];
        TopK.Select(new float[] { 0.1f, 0.4f, 0.3f, float.NaN }, [0, 2], 5, result);
        Assert.Equal([1, 3, -1, -1, -1], result);

        TopK.Select(new double[] { 2, 1 }, [0, 0, 1], 5, result); // repeated exclusions are harmless
        Assert.Equal([-1, -1, -1, -1, -1], result);
    }

    [Fact]
    public void Writes_only_the_first_k_entries_of_result()
    {
        var result = new[] { 9, 9, 9, 9 };
        TopK.Select(new float[] { 1, 3, 2 }, [], 2, result);
        Assert.Equal([1, 2, 9, 9], result);
        TopK.Select(new float[] { 1, 3, 2 }, [], 0, result);
        Assert.Equal([1, 2, 9, 9], result);
    }

    [Fact]
    public void Bad_arguments_are_rejected()
    {
        var scores = new float[] { 1, 2, 3 };
        Assert.Throws<ArgumentException>(() => TopK.Select(scores, [2, 1], 2, new int[2]));
        Assert.Throws<ArgumentException>(() => TopK.Select(scores, [3], 2, new int[2]));
        Assert.Throws<ArgumentException>(() => TopK.Select(scores, [-1], 2, new int[2]));
        Assert.Throws<ArgumentException>(() => TopK.Select(scores, [], 3, new int[2]));
        Assert.Throws<ArgumentOutOfRangeException>(() => TopK.Select(scores, [], -1, new int[2]));
        Assert.Throws<ArgumentException>(() => TopK.SelectRows(scores, 2, 2, null, 1));
    }

    [Fact]
    public void SelectRows_matches_Select_row_by_row_and_repeats_exactly()
    {
        var rng = new Random(7);
        int rows = 97, cols = 613, k = 50;
        var scores = new float[rows * cols + 5]; // a reused buffer may be longer than the block
        for (int i = 0; i < scores.Length; i++) scores[i] = (float)Math.Round(rng.NextDouble(), 2); // plenty of ties
        var excluded = Enumerable.Range(0, rows).Select(_ => RandomExcluded(rng, cols, 0.1)).ToArray();

        var top = TopK.SelectRows(scores, rows, cols, r => excluded[r], k);
        var again = TopK.SelectRows(scores, rows, cols, r => excluded[r], k);
        var noExclusions = TopK.SelectRows(scores, rows, cols, null, k);
        Assert.Equal(top, again);
        var expected = new int[k];
        for (int r = 0; r < rows; r++)
        {
            var row = scores.AsSpan(r * cols, cols);
            TopK.Select(row, excluded[r], k, expected);
            Assert.Equal(expected, Enumerable.Range(0, k).Select(j => top[r, j]));
            TopK.Select(row, [], k, expected);
            Assert.Equal(expected, Enumerable.Range(0, k).Select(j => noExclusions[r, j]));
        }
    }

    [Fact]
    public void SelectRows_pads_short_rows_and_handles_empty_shapes()
    {
        var top = TopK.SelectRows(new double[] { 1, 2, 4, 3 }, 2, 2, r => r == 0 ? [1] : [], 3);
        Assert.Equal(new[,] { { 0, -1, -1 }, { 0, 1, -1 } }, top);
        Assert.Equal(0, TopK.SelectRows(new float[6], 2, 3, null, 0).GetLength(1));
        Assert.Equal(0, TopK.SelectRows(Array.Empty<float>(), 0, 3, null, 5).GetLength(0));
    }
}
