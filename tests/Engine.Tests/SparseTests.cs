using MathNet.Numerics.LinearAlgebra;

namespace Engine.Tests;

/// <summary>CSR construction (COO with duplicates, transposes) and the sparse-dense product, against MathNet's dense products.</summary>
public class SparseTests
{
    private readonly Backend b = H.NewBackend();

    private static Matrix<double> Dense(double[] rowMajor, int rows, int cols) =>
        Matrix<double>.Build.DenseOfRowMajor(rows, cols, rowMajor);

    private static double[] RowMajor(Matrix<double> m) => m.ToRowMajorArray();

    /// <summary>A random sparse matrix (about 15 % full) whose rows listed in <paramref name="emptyRows"/> have no entries, given as shuffled COO triples with some duplicates.</summary>
    private static (int[] Rows, int[] Cols, double[] Values, double[] Dense) RandomCoo(int seed, int rows, int cols, params int[] emptyRows)
    {
        var rng = new Random(seed);
        var (ri, ci, v) = (new List<int>(), new List<int>(), new List<double>());
        var dense = new double[rows * cols];
        for (int r = 0; r < rows; r++)
        {
            if (emptyRows.Contains(r)) continue;
            for (int c = 0; c < cols; c++)
            {
                if (rng.NextDouble() > 0.15) continue;
                // Some entries as two triples that add up.
                int parts = rng.Next(3) == 0 ? 2 : 1;
                for (int p = 0; p < parts; p++)
                {
                    double value = Math.Round(rng.NextDouble() * 4 - 2, 3);
                    ri.Add(r);
                    ci.Add(c);
                    v.Add(value);
                    dense[r * cols + c] += value;
                }
            }
        }
        var order = Enumerable.Range(0, ri.Count).OrderBy(_ => rng.Next()).ToArray();
        return (order.Select(i => ri[i]).ToArray(), order.Select(i => ci[i]).ToArray(), order.Select(i => v[i]).ToArray(), dense);
    }

    [Fact]
    public void FromCooSumsDuplicatesAndSortsColumns()
    {
        // Triples in no order; (0, 2) and (2, 3) appear twice.
        int[] rows = [2, 0, 0, 2, 0, 2];
        int[] cols = [3, 2, 0, 1, 2, 3];
        double[] vals = [1, 2, 3, 4, 5, 0.5];
        using var a = CsrMatrix.FromCoo(b, 3, 4, rows, cols, vals, DType.Float64);
        // Row 0: (0, 0) = 3, (0, 2) = 2 + 5; row 1 empty; row 2: (2, 1) = 4, (2, 3) = 1 + 0.5.
        Assert.Equal((3, 4, 4), (a.Rows, a.Cols, a.NonZeros));
        Assert.Equal([0, 2, 2, 4], a.HostRowPtr);
        Assert.Equal([0, 2, 1, 3], a.HostColIdx);
        Assert.Equal([3, 7, 4, 1.5], a.HostValues);
        // The device tensors hold the same.
        Assert.Equal([0, 2, 2, 4], a.RowPtr.ToArray<int>());
        Assert.Equal([0, 2, 1, 3], a.ColIdx.ToArray<int>());
        Assert.Equal([3, 7, 4, 1.5], a.Values.D());
        Assert.Equal(DType.Float64, a.DType);
        Assert.Equal([3, 0, 7, 0, 0, 0, 0, 0, 0, 4, 0, 1.5], a.ToDense());
    }

    [Fact]
    public void FromCooOfRandomTriplesMatchesTheDenseSum()
    {
        var (ri, ci, v, dense) = RandomCoo(1, 20, 15, 3, 7);
        using var a = CsrMatrix.FromCoo(b, 20, 15, ri, ci, v, DType.Float32);
        Assert.Equal(DType.Float32, a.Values.DType);
        var got = a.ToDense();
        for (int i = 0; i < dense.Length; i++) Assert.Equal(dense[i], got[i], 12);
        for (int r = 0; r < a.Rows; r++)
            for (int e = a.HostRowPtr[r] + 1; e < a.HostRowPtr[r + 1]; e++)
                Assert.True(a.HostColIdx[e - 1] < a.HostColIdx[e], $"row {r}: columns not strictly increasing");
        Assert.Equal(a.HostRowPtr[3], a.HostRowPtr[4]); // the empty rows
        Assert.Equal(a.HostRowPtr[7], a.HostRowPtr[8]);
    }

    [Theory]
    [InlineData(3, 0)]
    [InlineData(0, 4)]
    [InlineData(-1, 0)]
    [InlineData(0, -1)]
    public void FromCooRejectsEntriesOutsideTheMatrix(int row, int col)
    {
        H.Throws(() => CsrMatrix.FromCoo(b, 3, 4, [0, row], [1, col], [1.0, 2.0], DType.Float64),
            "FromCoo", "entry 1", $"({row}, {col})", "3×4");
    }

    [Fact]
    public void FromCooRejectsMismatchedLengthsAndIntegerValues()
    {
        H.Throws(() => CsrMatrix.FromCoo(b, 3, 4, [0, 1], [1], [1.0, 2.0], DType.Float64), "FromCoo", "2 row indices, 1 column indices and 2 values");
        H.Throws(() => CsrMatrix.FromCoo(b, 3, 4, [0], [1], [1.0], DType.Int32), "FromCoo", "int32");
    }

    [Fact]
    public void TransposeEqualsTheDenseTransposeAndIsCached()
    {
        var (ri, ci, v, dense) = RandomCoo(2, 9, 13, 0, 8);
        using var a = CsrMatrix.FromCoo(b, 9, 13, ri, ci, v, DType.Float64);
        var t = a.Transpose();
        Assert.Equal((13, 9), (t.Rows, t.Cols));
        Assert.Equal(a.NonZeros, t.NonZeros);
        Assert.Equal(RowMajor(Dense(dense, 9, 13).Transpose()), t.ToDense());
        Assert.Same(t, a.Transpose());
        Assert.Same(a, t.Transpose());
        Assert.Equal(DType.Float64, t.DType);
        // Its columns are sorted too.
        for (int r = 0; r < t.Rows; r++)
            for (int e = t.HostRowPtr[r] + 1; e < t.HostRowPtr[r + 1]; e++)
                Assert.True(t.HostColIdx[e - 1] < t.HostColIdx[e]);
    }

    [Fact]
    public void FromDenseKeepsTheNonZeros()
    {
        using var a = CsrMatrix.FromDense(b, [0, 1.5, 0, -2, 0, 0], 2, 3, DType.Float32);
        Assert.Equal([0, 1, 2], a.HostRowPtr);
        Assert.Equal([1, 0], a.HostColIdx);
        Assert.Equal([1.5, -2], a.Values.D());
    }

    // ---------------------------------------------------------------- Spmm

    [Theory]
    [InlineData(DType.Float64)]
    [InlineData(DType.Float32)]
    public void SpmmHandComputed(DType dtype)
    {
        // a = [[1, 0, 2],      x = [[1, 2],     a·x = [[1 + 10, 2 + 12],   = [[11, 14],
        //      [0, 0, 0],           [3, 4],            [0, 0],                [0, 0],
        //      [0, 3, 0]]           [5, 6]]            [9, 12]]               [9, 12]]
        using var a = CsrMatrix.FromDense(b, [1, 0, 2, 0, 0, 0, 0, 3, 0], 3, 3, dtype);
        var x = b.T(dtype, 3, 2, 1, 2, 3, 4, 5, 6);
        var y = b.Full(dtype, 3, 2, double.NaN); // β = 0 ignores what y held, NaN included
        b.Spmm(a, x, 0, y);
        Assert.Equal([11, 14, 0, 0, 9, 12], y.D());

        b.Spmm(a, x, 1, y); // accumulate: 2·(a·x)
        Assert.Equal([22, 28, 0, 0, 18, 24], y.D());

        b.Spmm(a, x, -0.5, y); // a·x − ½·2·(a·x) = 0
        Assert.Equal([0, 0, 0, 0, 0, 0], y.D());
    }

    public static TheoryData<double, DType> SpmmCases()
    {
        var data = new TheoryData<double, DType>();
        foreach (var beta in new[] { 0.0, 1.0, 0.5 })
            foreach (var dtype in new[] { DType.Float64, DType.Float32 })
                data.Add(beta, dtype);
        return data;
    }

    [Theory]
    [MemberData(nameof(SpmmCases))]
    public void SpmmMatchesMathNetDenseProduct(double beta, DType dtype)
    {
        foreach (var (rows, inner, n) in new[] { (40, 30, 7), (1, 5, 1), (300, 200, 129) })
        {
            var (ri, ci, v, dense) = RandomCoo(rows + inner, rows, inner, 0, rows / 2, rows - 1); // empty first, middle and last rows
            using var a = CsrMatrix.FromCoo(b, rows, inner, ri, ci, v, dtype);
            var xValues = H.Stored(H.Random(3, inner, n), dtype);
            var y0 = H.Stored(H.Random(4, rows, n, 5, 10), dtype);
            var x = b.T(dtype, inner, n, xValues);
            var y = beta == 0 ? b.Full(dtype, rows, n, double.NaN) : b.T(dtype, rows, n, y0);
            b.Spmm(a, x, beta, y);

            var aStored = H.Stored(dense, dtype);
            var expected = Dense(aStored, rows, inner) * Dense(xValues, inner, n);
            if (beta != 0) expected += beta * Dense(y0, rows, n);
            H.Close(RowMajor(expected), y, scale: 20, what: $"{rows}×{inner} · {inner}×{n}, β = {beta}");

            // Empty rows hold exactly β·y0 (0 when β = 0; β is a power of two, so the product is exact).
            var got = y.D();
            foreach (var r in new[] { 0, rows / 2, rows - 1 })
                for (int c = 0; c < n; c++)
                    Assert.Equal(beta == 0 ? 0 : beta * y0[r * n + c], got[r * n + c]);
        }
    }

    [Theory]
    [InlineData(DType.Float64)]
    [InlineData(DType.Float32)]
    public void SpmmWithTheTransposeEqualsTheTransposedDenseProduct(DType dtype)
    {
        var (ri, ci, v, dense) = RandomCoo(5, 25, 18, 4);
        using var a = CsrMatrix.FromCoo(b, 25, 18, ri, ci, v, dtype);
        var xValues = H.Stored(H.Random(6, 25, 3), dtype);
        var y = b.Allocate(18, 3, dtype);
        b.Spmm(a.Transpose(), b.T(dtype, 25, 3, xValues), 0, y);
        var expected = Dense(H.Stored(dense, dtype), 25, 18).TransposeThisAndMultiply(Dense(xValues, 25, 3));
        H.Close(RowMajor(expected), y, scale: 20);
    }

    [Theory]
    [InlineData(DType.Float64)]
    [InlineData(DType.Float32)]
    public void SpmmAddsEachElementsTermsInOrderToTheBit(DType dtype)
    {
        const int rows = 60, inner = 50, n = 69; // 69 columns: whole blocks of vectors and a remainder, in both dtypes
        var (ri, ci, v, _) = RandomCoo(9, rows, inner, 7);
        using var a = CsrMatrix.FromCoo(b, rows, inner, ri, ci, v, dtype);
        var x = b.T(dtype, inner, n, H.Random(10, inner, n));
        var y = b.T(dtype, rows, n, H.Random(11, rows, n));
        var expected = dtype == DType.Float32 ? ScalarSpmm<float>(a, x, 0.5, y) : ScalarSpmm<double>(a, x, 0.5, y);
        b.Spmm(a, x, 0.5, y);
        Assert.Equal(expected, y.D());
    }

    /// <summary>β·y, then each stored entry's a[r, c]·x[c, j] added in CSR order, one element at a time in <typeparamref name="T"/>.</summary>
    private static double[] ScalarSpmm<T>(CsrMatrix a, Tensor x, double beta, Tensor y) where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        int[] rowPtr = a.RowPtr.ToArray<int>(), colIdx = a.ColIdx.ToArray<int>();
        T[] values = a.Values.ToArray<T>(), xs = x.ToArray<T>(), ys = y.ToArray<T>();
        int n = x.Cols;
        for (int r = 0; r < a.Rows; r++)
            for (int j = 0; j < n; j++)
            {
                T sum = T.CreateTruncating(beta) * ys[r * n + j];
                for (int e = rowPtr[r]; e < rowPtr[r + 1]; e++) sum += values[e] * xs[colIdx[e] * n + j];
                ys[r * n + j] = sum;
            }
        return ys.Select(double.CreateTruncating).ToArray();
    }

    [Fact]
    public void SpmmIsDeterministic()
    {
        var (ri, ci, v, _) = RandomCoo(7, 500, 400);
        using var a = CsrMatrix.FromCoo(b, 500, 400, ri, ci, v, DType.Float32);
        var x = b.T(DType.Float32, 400, 64, H.Random(8, 400, 64));
        var y1 = b.Allocate(500, 64, DType.Float32);
        var y2 = b.Allocate(500, 64, DType.Float32);
        b.Spmm(a, x, 0, y1);
        b.Spmm(a, x, 0, y2);
        Assert.Equal(y1.ToArray<float>(), y2.ToArray<float>());
    }
}
