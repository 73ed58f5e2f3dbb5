namespace Engine.Tests;

/// <summary>Row gathers and scatters, block copies, row normalisation and batch normalisation.</summary>
public class RowOpTests
{
    private readonly Backend b = H.NewBackend();

    // ---------------------------------------------------------------- gather and scatter

    [Theory]
    [InlineData(DType.Float64)]
    [InlineData(DType.Float32)]
    public void GatherRowsCopiesIndexedRowsWithRepeats(DType dtype)
    {
        var src = b.T(dtype, 4, 2, 0, 1, 10, 11, 20, 21, 30, 31);
        var dst = b.Full(dtype, 5, 2, double.NaN);
        b.GatherRows(src, b.Index(2, 0, 2, 3, 2), dst);
        Assert.Equal([20, 21, 0, 1, 20, 21, 30, 31, 20, 21], dst.D());
    }

    [Theory]
    [InlineData(DType.Float64)]
    [InlineData(DType.Float32)]
    public void ScatterAddRowsAddsRepeatedIndicesAndAccumulates(DType dtype)
    {
        var src = b.T(dtype, 5, 2, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10);
        var dst = b.T(dtype, 4, 2, 100, 100, 200, 200, 300, 300, 400, 400);
        b.ScatterAddRows(src, b.Index(1, 0, 1, 1, 3), dst);
        // Row 0 += [3, 4]; row 1 += [1, 2] + [5, 6] + [7, 8]; row 2 untouched; row 3 += [9, 10].
        Assert.Equal([103, 104, 213, 216, 300, 300, 409, 410], dst.D());
    }

    [Theory]
    [InlineData(DType.Float64)]
    [InlineData(DType.Float32)]
    public void GatherThenScatterOfAPermutationRestoresTheTable(DType dtype)
    {
        const int rows = 5000, cols = 17; // large enough for GatherRows to run in parallel blocks
        var values = H.Stored(H.Random(50, rows, cols), dtype);
        var table = b.T(dtype, rows, cols, values);
        var perm = b.Permutation(rows, new Rng(3));
        var gathered = b.Allocate(rows, cols, dtype);
        b.GatherRows(table, perm, gathered);
        var p = perm.ToArray<int>();
        var g = gathered.D();
        for (int i = 0; i < rows; i += 97)
            for (int c = 0; c < cols; c++)
                Assert.Equal(values[p[i] * cols + c], g[i * cols + c]);
        var restored = b.Allocate(rows, cols, dtype);
        b.ScatterAddRows(gathered, perm, restored);
        Assert.Equal(values, restored.D());
    }

    [Fact]
    public void GatherRowsRejectsAnOutOfRangeIndexNamingIt()
    {
        var src = b.Allocate(4, 2, DType.Float32);
        var dst = b.Allocate(3, 2, DType.Float32);
        H.Throws(() => b.GatherRows(src, b.Index(0, 4, 1), dst), "GatherRows", "index[1] = 4", "4 rows");
        H.Throws(() => b.GatherRows(src, b.Index(0, 1, -1), dst), "GatherRows", "index[2] = -1");
    }

    [Fact]
    public void ScatterAddRowsRejectsAnOutOfRangeIndexNamingIt()
    {
        var src = b.Allocate(2, 3, DType.Float64);
        var dst = b.Allocate(5, 3, DType.Float64);
        H.Throws(() => b.ScatterAddRows(src, b.Index(-3, 0), dst), "ScatterAddRows", "index[0] = -3", "5 rows");
        H.Throws(() => b.ScatterAddRows(src, b.Index(2, 5), dst), "ScatterAddRows", "index[1] = 5");
    }

    // ---------------------------------------------------------------- CopyBlock

    // src = [[ 0,  1,  2,  3],
    //        [10, 11, 12, 13],
    //        [20, 21, 22, 23]]
    private Tensor BlockSource(DType dtype) => b.T(dtype, 3, 4, 0, 1, 2, 3, 10, 11, 12, 13, 20, 21, 22, 23);

    [Theory]
    [InlineData(DType.Float64)]
    [InlineData(DType.Float32)]
    public void CopyBlockOverwritesOnlyTheBlock(DType dtype)
    {
        var dst = b.Full(dtype, 3, 3, -1);
        // The 2×2 block at (1, 1) — [[11, 12], [21, 22]] — to (0, 1).
        b.CopyBlock(BlockSource(dtype), 1, 1, dst, 0, 1, 2, 2, accumulate: false);
        Assert.Equal([-1, 11, 12, -1, 21, 22, -1, -1, -1], dst.D());
    }

    [Theory]
    [InlineData(DType.Float64)]
    [InlineData(DType.Float32)]
    public void CopyBlockAccumulates(DType dtype)
    {
        var dst = b.Full(dtype, 3, 3, 100);
        // The 3×1 column at (0, 3) — [3, 13, 23] — added to column 2 of dst, twice.
        b.CopyBlock(BlockSource(dtype), 0, 3, dst, 0, 2, 3, 1, accumulate: true);
        b.CopyBlock(BlockSource(dtype), 0, 3, dst, 0, 2, 3, 1, accumulate: true);
        Assert.Equal([100, 100, 106, 100, 100, 126, 100, 100, 146], dst.D());
    }

    [Theory]
    [InlineData(DType.Float64)]
    [InlineData(DType.Float32)]
    public void CopyBlockConcatenatesAndSlices(DType dtype)
    {
        // Concatenate a 2×2 and a 2×1 along columns, then slice the second back out.
        var left = b.T(dtype, 2, 2, 1, 2, 3, 4);
        var right = b.T(dtype, 2, 1, 5, 6);
        var cat = b.Allocate(2, 3, dtype);
        b.CopyBlock(left, 0, 0, cat, 0, 0, 2, 2, false);
        b.CopyBlock(right, 0, 0, cat, 0, 2, 2, 1, false);
        Assert.Equal([1, 2, 5, 3, 4, 6], cat.D());
        var slice = b.Allocate(2, 1, dtype);
        b.CopyBlock(cat, 0, 2, slice, 0, 0, 2, 1, false);
        Assert.Equal([5, 6], slice.D());
    }

    [Theory]
    [InlineData(1, 0, 0, 0, 3, 4)]  // too many source rows
    [InlineData(0, 1, 0, 0, 3, 4)]  // too many source columns
    [InlineData(0, 0, 1, 0, 3, 3)]  // past the destination's rows
    [InlineData(0, 0, 0, 2, 2, 2)]  // past the destination's columns
    [InlineData(-1, 0, 0, 0, 1, 1)] // negative offset
    [InlineData(0, 0, 0, 0, -1, 1)] // negative size
    public void CopyBlockRejectsBlocksThatDoNotFit(int srcRow, int srcCol, int dstRow, int dstCol, int rows, int cols)
    {
        var src = b.Allocate(3, 4, DType.Float64);
        var dst = b.Allocate(3, 3, DType.Float64);
        H.Throws(() => b.CopyBlock(src, srcRow, srcCol, dst, dstRow, dstCol, rows, cols, false),
            "CopyBlock", $"{rows}×{cols} block from ({srcRow}, {srcCol}) of 3×4 to ({dstRow}, {dstCol}) of 3×3", "does not fit");
    }

    [Fact]
    public void CopyBlockRejectsABlockWhoseEndOverflowsInt32()
    {
        // srcRow + rows and dstRow + rows wrap around to negative numbers, so a bounds check written as
        // `srcRow + rows > src.Rows` passes. The block still does not fit and must be refused up front.
        var src = b.Full(DType.Float64, 3, 4, 1);
        var dst = b.Full(DType.Float64, 3, 3, 0);
        H.Throws(() => b.CopyBlock(src, 1, 0, dst, 1, 0, int.MaxValue, 1, false), "CopyBlock", "does not fit");
        Assert.All(dst.D(), v => Assert.Equal(0, v)); // nothing written
    }

    [Fact]
    public void CopyBlockOfAnEmptyBlockAtTheEdgeIsAllowed()
    {
        var src = b.Full(DType.Float32, 2, 2, 1);
        var dst = b.Full(DType.Float32, 2, 2, 7);
        b.CopyBlock(src, 2, 0, dst, 2, 0, 0, 2, false);
        b.CopyBlock(src, 0, 2, dst, 0, 2, 2, 0, true);
        Assert.Equal([7, 7, 7, 7], dst.D());
    }

    // ---------------------------------------------------------------- RowL2Normalize

    [Theory]
    [InlineData(DType.Float64)]
    [InlineData(DType.Float32)]
    public void RowL2NormalizeHandComputed(DType dtype)
    {
        var x = b.T(dtype, 4, 2,
            3, 4,      // norm 5
            0, 0,      // stays zero
            1, -1,     // norm √2
            1e-13, 0); // norm below ε = 1e−12: divided by ε instead, giving 0.1
        var y = b.Full(dtype, 4, 2, double.NaN);
        b.RowL2Normalize(x, y);
        double s = 1 / Math.Sqrt(2);
        H.Close([0.6, 0.8, 0, 0, s, -s, 0.1, 0], y, scale: 2);
        Assert.Equal([0, 0], y.D()[2..4]);
    }

    [Theory]
    [InlineData(DType.Float64)]
    [InlineData(DType.Float32)]
    public void RowL2NormalizeGivesUnitRowsInTheSameDirection(DType dtype)
    {
        const int m = 3000, n = 33;
        var values = H.Stored(H.Random(60, m, n, -10, 10), dtype);
        for (int c = 0; c < n; c++) values[17 * n + c] = 0; // one zero row
        var y = b.Allocate(m, n, dtype);
        b.RowL2Normalize(b.T(dtype, m, n, values), y);
        var got = y.D();
        for (int r = 0; r < m; r++)
        {
            double norm = 0, normY = 0;
            for (int c = 0; c < n; c++) norm += values[r * n + c] * values[r * n + c];
            norm = Math.Sqrt(norm);
            for (int c = 0; c < n; c++) normY += got[r * n + c] * got[r * n + c];
            if (r == 17)
            {
                Assert.Equal(0, normY);
                continue;
            }
            H.Close([1], [Math.Sqrt(normY)], dtype, scale: 5, what: "norm of a row");
            H.Close(values.AsSpan(r * n, n).ToArray().Select(v => v / norm).ToArray(), got.AsSpan(r * n, n).ToArray(), dtype, scale: 5, what: $"row {r}");
        }
    }

    // ---------------------------------------------------------------- BatchNorm

    [Theory]
    [InlineData(DType.Float64)]
    [InlineData(DType.Float32)]
    public void BatchNormHandComputed(DType dtype)
    {
        // Columns [1, 3] and [10, 30]: means 2 and 20, biased variances 1 and 100, so with ε = 0 invStd is 1 and
        // 0.1 and x̂ = [[−1, −1], [1, 1]]. Then y = γ·x̂ + β with γ = [2, −1], β = [0.5, 3].
        var x = b.T(dtype, 2, 2, 1, 10, 3, 30);
        var gamma = b.T(dtype, 1, 2, 2, -1);
        var beta = b.T(dtype, 1, 2, 0.5, 3);
        var y = b.Full(dtype, 2, 2, double.NaN);
        var mean = b.Full(dtype, 1, 2, double.NaN);
        var invStd = b.Full(dtype, 1, 2, double.NaN);
        b.BatchNorm(x, gamma, beta, y, mean, invStd, eps: 0);
        Assert.Equal([2, 20], mean.D());
        H.Close([1, 0.1], invStd);
        H.Close([-1.5, 4, 2.5, 2], y);

        // With the default ε = 1e−5: invStd = 1/√(var + ε).
        b.BatchNorm(x, gamma, beta, y, mean, invStd);
        H.Close([1 / Math.Sqrt(1 + 1e-5), 1 / Math.Sqrt(100 + 1e-5)], invStd);
    }

    [Theory]
    [InlineData(DType.Float64)]
    [InlineData(DType.Float32)]
    public void BatchNormNormalisesEachColumn(DType dtype)
    {
        const int m = 257, n = 6;
        var values = H.Random(70, m, n);
        for (int i = 0; i < values.Length; i++) values[i] = values[i] * (1 + i % n) + 3 * (i % n) - 5; // per-column scale and shift
        values = H.Stored(values, dtype);
        var x = b.T(dtype, m, n, values);
        var y = b.Allocate(m, n, dtype);
        var mean = b.Allocate(1, n, dtype);
        var invStd = b.Allocate(1, n, dtype);
        b.BatchNorm(x, b.Full(dtype, 1, n, 1), b.Full(dtype, 1, n, 0), y, mean, invStd, eps: 0);

        // Reference statistics in float64.
        var refMean = new double[n];
        var refVar = new double[n];
        for (int i = 0; i < values.Length; i++) refMean[i % n] += values[i] / m;
        for (int i = 0; i < values.Length; i++) refVar[i % n] += (values[i] - refMean[i % n]) * (values[i] - refMean[i % n]) / m;
        H.Close(refMean, mean, scale: 20, what: "mean");
        H.Close(refVar.Select(v => 1 / Math.Sqrt(v)).ToArray(), invStd, scale: 20, what: "invStd");

        // y has per-column mean 0 and biased variance 1.
        var yv = y.D();
        for (int c = 0; c < n; c++)
        {
            var column = Enumerable.Range(0, m).Select(r => yv[r * n + c]).ToArray();
            double mu = column.Average();
            double variance = column.Select(v => (v - mu) * (v - mu)).Average();
            Assert.True(Math.Abs(mu) < H.Tol(dtype) * 50, $"column {c}: mean {mu}");
            Assert.True(Math.Abs(variance - 1) < H.Tol(dtype) * 50, $"column {c}: variance {variance}");
        }

        // γ and β apply per column: y' = γ·y + β.
        double[] g = [2, -1, 0.5, 0, 1, 3], be = [1, 0, -3, 7, 0.25, -1];
        var y2 = b.Allocate(m, n, dtype);
        b.BatchNorm(x, b.T(dtype, 1, n, g), b.T(dtype, 1, n, be), y2, mean, invStd, eps: 0);
        H.Close(yv.Select((v, i) => g[i % n] * v + be[i % n]).ToArray(), y2, scale: 10, what: "γ·x̂ + β");
    }
}
