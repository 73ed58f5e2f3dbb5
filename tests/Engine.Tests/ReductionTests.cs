namespace Engine.Tests;

/// <summary>Reduce (sum, mean, max over everything, rows or columns), its backward, log-sum-exp and softmax rows.</summary>
public class ReductionTests
{
    private readonly Backend b = H.NewBackend();

    /// <summary>Reduces x over dim into a correctly shaped, NaN-filled output (forwards overwrite) and returns it.</summary>
    private Tensor Reduce(ReduceOp op, Tensor x, int? dim)
    {
        var (rows, cols) = dim switch { null => (1, 1), 0 => (1, x.Cols), _ => (x.Rows, 1) };
        var y = b.Full(x.DType, rows, cols, double.NaN);
        b.Reduce(op, x, y, dim);
        return y;
    }

    // x = [[1, 5, 3],
    //      [4, 2, 6]]
    [Theory]
    [InlineData(DType.Float64)]
    [InlineData(DType.Float32)]
    public void ReduceHandComputed(DType dtype)
    {
        var x = b.T(dtype, 2, 3, 1, 5, 3, 4, 2, 6);

        Assert.Equal([21], Reduce(ReduceOp.Sum, x, null).D());
        Assert.Equal([5, 7, 9], Reduce(ReduceOp.Sum, x, 0).D());   // per column
        Assert.Equal([9, 12], Reduce(ReduceOp.Sum, x, 1).D());     // per row

        Assert.Equal([3.5], Reduce(ReduceOp.Mean, x, null).D());
        Assert.Equal([2.5, 3.5, 4.5], Reduce(ReduceOp.Mean, x, 0).D());
        Assert.Equal([3, 4], Reduce(ReduceOp.Mean, x, 1).D());

        Assert.Equal([6], Reduce(ReduceOp.Max, x, null).D());
        Assert.Equal([4, 5, 6], Reduce(ReduceOp.Max, x, 0).D());
        Assert.Equal([5, 6], Reduce(ReduceOp.Max, x, 1).D());
    }

    [Theory]
    [InlineData(DType.Float64)]
    [InlineData(DType.Float32)]
    public void MaxOfNegativeValuesIsNotZero(DType dtype)
    {
        var x = b.T(dtype, 2, 2, -3, -1, -2, -5);
        Assert.Equal([-1], Reduce(ReduceOp.Max, x, null).D());
        Assert.Equal([-2, -1], Reduce(ReduceOp.Max, x, 0).D());
        Assert.Equal([-1, -2], Reduce(ReduceOp.Max, x, 1).D());
    }

    public static TheoryData<ReduceOp, int, DType> ReduceCases()
    {
        var data = new TheoryData<ReduceOp, int, DType>();
        foreach (var op in Enum.GetValues<ReduceOp>())
            foreach (int dim in new[] { -1, 0, 1 }) // −1 stands for null (everything)
                foreach (var dtype in new[] { DType.Float64, DType.Float32 })
                    data.Add(op, dim, dtype);
        return data;
    }

    [Theory]
    [MemberData(nameof(ReduceCases))]
    public void ReduceMatchesLoopReference(ReduceOp op, int dimCode, DType dtype)
    {
        int? dim = dimCode < 0 ? null : dimCode;
        // 300×230 (69 000 elements): parallel chunks, vector bodies and tails.
        foreach (var (m, n) in new[] { (300, 230), (7, 3), (1, 1), (1, 45), (45, 1) })
        {
            var values = H.Stored(H.Random(20 + m, m, n, 0, 1), dtype);
            var x = b.T(dtype, m, n, values);
            var y = Reduce(op, x, dim);
            var expected = LoopReduce(op, values, m, n, dim);
            // float32 sums of up to 69 000 values in [0, 1): allow a few ulps of the result per thousand terms.
            H.Close(expected, y, scale: op == ReduceOp.Max ? 0 : 10, what: $"{op} over {dim?.ToString() ?? "all"} of {m}×{n}");
        }
    }

    private static double[] LoopReduce(ReduceOp op, double[] x, int m, int n, int? dim)
    {
        var groups = new List<double>[dim switch { null => 1, 0 => n, _ => m }];
        for (int g = 0; g < groups.Length; g++) groups[g] = [];
        for (int r = 0; r < m; r++)
            for (int c = 0; c < n; c++)
                groups[dim switch { null => 0, 0 => c, _ => r }].Add(x[r * n + c]);
        return groups.Select(g => op switch
        {
            ReduceOp.Sum => g.Sum(),
            ReduceOp.Mean => g.Sum() / g.Count,
            _ => g.Max(),
        }).ToArray();
    }

    [Theory]
    [InlineData(DType.Float64)]
    [InlineData(DType.Float32)]
    public void SumOfAMillionValuesIsBitIdenticalAndAccurate(DType dtype)
    {
        const int count = 1_000_003;
        var values = H.Stored(new Rng(2024).UniformArray(count, 0, 1), dtype);
        var x = b.T(dtype, 1, count, values);
        var first = Reduce(ReduceOp.Sum, x, null).D()[0];
        var second = Reduce(ReduceOp.Sum, x, null).D()[0];
        Assert.Equal(BitConverter.DoubleToInt64Bits(first), BitConverter.DoubleToInt64Bits(second));

        // The same values in another allocation (other alignment, on another backend instance) give the same bits too.
        var other = H.NewBackend();
        var copy = other.T(dtype, count, 1, values);
        var y = other.Allocate(1, 1, dtype);
        other.Reduce(ReduceOp.Sum, copy, y);
        Assert.Equal(BitConverter.DoubleToInt64Bits(first), BitConverter.DoubleToInt64Bits(y.Item()));

        double reference = 0;
        foreach (var v in values) reference += v;
        H.Close([reference], [first], dtype, scale: 5, what: "sum");

        var mean = Reduce(ReduceOp.Mean, x, null).Item();
        H.Close([reference / count], [mean], dtype, scale: 5, what: "mean");
    }

    [Theory]
    [InlineData(DType.Float64)]
    [InlineData(DType.Float32)]
    public void RowSumsAreDeterministic(DType dtype)
    {
        var x = b.T(dtype, 2000, 333, H.Random(30, 2000, 333));
        Assert.Equal(Reduce(ReduceOp.Sum, x, 1).D(), Reduce(ReduceOp.Sum, x, 1).D());
        Assert.Equal(Reduce(ReduceOp.Sum, x, 0).D(), Reduce(ReduceOp.Sum, x, 0).D());
    }

    [Theory]
    [InlineData(DType.Float64)]
    [InlineData(DType.Float32)]
    public void SumOfAnEmptyTensorIsZero(DType dtype)
    {
        var x = b.Allocate(0, 3, dtype);
        Assert.Equal([0], Reduce(ReduceOp.Sum, x, null).D());
        Assert.Equal([0, 0, 0], Reduce(ReduceOp.Sum, x, 0).D());
    }

    // ---------------------------------------------------------------- backward

    [Theory]
    [InlineData(DType.Float64)]
    [InlineData(DType.Float32)]
    public void ReduceBackwardMaxGoesToTheFirstMaximalElement(DType dtype)
    {
        // x = [[3, 5, 5],
        //      [7, 7, 1]]
        var x = b.T(dtype, 2, 3, 3, 5, 5, 7, 7, 1);
        double[] Backward(int? dim, params double[] dyValues)
        {
            var y = Reduce(ReduceOp.Max, x, dim);
            var dy = b.T(dtype, y.Rows, y.Cols, dyValues);
            var dx = b.Full(dtype, 2, 3, 1); // accumulates onto ones
            b.ReduceBackward(ReduceOp.Max, x, y, dy, dx, dim);
            return dx.D();
        }
        // Overall max 7: first at (1, 0).
        Assert.Equal([1, 1, 1, 11, 1, 1], Backward(null, 10));
        // Column maxima 7, 7, 5 at (1, 0), (1, 1), (0, 2).
        Assert.Equal([1, 1, 31, 11, 21, 1], Backward(0, 10, 20, 30));
        // Row maxima 5 (first at (0, 1)) and 7 (first at (1, 0)).
        Assert.Equal([1, 11, 1, 21, 1, 1], Backward(1, 10, 20));
    }

    [Theory]
    [InlineData(DType.Float64)]
    [InlineData(DType.Float32)]
    public void ReduceBackwardSumAndMeanBroadcastAndAccumulate(DType dtype)
    {
        var x = b.T(dtype, 2, 2, 1, 2, 3, 4);
        double[] Backward(ReduceOp op, int? dim, params double[] dyValues)
        {
            var y = Reduce(op, x, dim);
            var dy = b.T(dtype, y.Rows, y.Cols, dyValues);
            var dx = b.T(dtype, 2, 2, 1, 2, 3, 4);
            b.ReduceBackward(op, x, y, dy, dx, dim);
            return dx.D();
        }
        Assert.Equal([9, 10, 11, 12], Backward(ReduceOp.Sum, null, 8));
        Assert.Equal([11, 22, 13, 24], Backward(ReduceOp.Sum, 0, 10, 20));
        Assert.Equal([11, 12, 23, 24], Backward(ReduceOp.Sum, 1, 10, 20));
        Assert.Equal([3, 4, 5, 6], Backward(ReduceOp.Mean, null, 8));       // 8 / 4 each
        Assert.Equal([6, 12, 8, 14], Backward(ReduceOp.Mean, 0, 10, 20));   // over 2 rows
        Assert.Equal([6, 7, 13, 14], Backward(ReduceOp.Mean, 1, 10, 20));   // over 2 columns
    }

    // ---------------------------------------------------------------- log-sum-exp and softmax

    [Theory]
    [InlineData(DType.Float64)]
    [InlineData(DType.Float32)]
    public void LogSumExpRowsIsStableForLargeValues(DType dtype)
    {
        var x = b.T(dtype, 4, 2,
            1000, 1000,   // 1000 + ln 2
            -1000, -1000, // −1000 + ln 2
            0, Math.Log(3), // ln(1 + 3) = ln 4
            800, -800);   // 800 + ln(1 + e⁻¹⁶⁰⁰) = 800
        var y = b.Full(dtype, 4, 1, double.NaN);
        b.LogSumExpRows(x, y);
        var got = y.D();
        Assert.All(got, v => Assert.True(double.IsFinite(v)));
        H.Close([1000 + Math.Log(2), -1000 + Math.Log(2), Math.Log(4), 800], got, dtype);
    }

    [Theory]
    [InlineData(DType.Float64)]
    [InlineData(DType.Float32)]
    public void LogSumExpRowsMatchesReference(DType dtype)
    {
        const int m = 400, n = 90;
        var values = H.Stored(H.Random(40, m, n, -5, 5), dtype);
        var y = b.Allocate(m, 1, dtype);
        b.LogSumExpRows(b.T(dtype, m, n, values), y);
        var expected = new double[m];
        for (int r = 0; r < m; r++)
        {
            double s = 0;
            for (int c = 0; c < n; c++) s += Math.Exp(values[r * n + c]);
            expected[r] = Math.Log(s);
        }
        H.Close(expected, y, scale: 5);
    }

    [Theory]
    [InlineData(DType.Float64)]
    [InlineData(DType.Float32)]
    public void SoftmaxRowsHandComputedAndStable(DType dtype)
    {
        var x = b.T(dtype, 3, 3,
            0, Math.Log(3), double.NegativeInfinity, // [1, 3, 0] / 4
            -1000, 0, -1000,                         // all the mass on the middle
            1000, 1000, 1000);                       // uniform, without overflow
        var y = b.Full(dtype, 3, 3, double.NaN);
        b.SoftmaxRows(x, y, log: false);
        var p = y.D();
        H.Close([0.25, 0.75, 0, 0, 1, 0], p[..6], dtype);
        // Stable: no overflow to NaN or ∞ for logits of 1000 (accuracy there is the next test's subject).
        Assert.All(p[6..], v => Assert.InRange(v, 1.0 / 3 - 1e-4, 1.0 / 3 + 1e-4));

        b.SoftmaxRows(x, y, log: true);
        var logp = y.D();
        H.Close([Math.Log(0.25), Math.Log(0.75), double.NegativeInfinity, -1000, 0, -1000], logp[..6], dtype, scale: 2);
        Assert.All(logp[6..], v => Assert.InRange(v, -Math.Log(3) - 1e-4, -Math.Log(3) + 1e-4));
    }

    /// <summary>
    /// exp(x − max) / Σ exp(x − max) is accurate to a few ulps whatever the logits' magnitude; exp(x − lse) is not,
    /// because lse = max + log Σ… is rounded at the magnitude of max before the subtraction.
    /// </summary>
    [Theory]
    [InlineData(DType.Float64)]
    [InlineData(DType.Float32)]
    public void SoftmaxOfLargeLogitsIsAccurate(DType dtype)
    {
        var x = b.T(dtype, 2, 3, 1000, 1000, 1000, -3000, -3000 + Math.Log(2), -3000 + Math.Log(5));
        var y = b.Allocate(2, 3, dtype);
        b.SoftmaxRows(x, y, log: false);
        // Row 0 is uniform; row 1 (large negative logits) must still sum to 1.
        H.Close([1.0 / 3, 1.0 / 3, 1.0 / 3], y.D()[..3], dtype, scale: 2);
        var sums = b.Allocate(2, 1, dtype);
        b.Reduce(ReduceOp.Sum, y, sums, 1);
        H.Close([1, 1], sums, scale: 2);

        // log-softmax: x − max is exact here, so −ln 3 to a few ulps.
        b.SoftmaxRows(x, y, log: true);
        H.Close([-Math.Log(3), -Math.Log(3), -Math.Log(3)], y.D()[..3], dtype, scale: 2);
    }

    [Theory]
    [InlineData(DType.Float64)]
    [InlineData(DType.Float32)]
    public void SoftmaxRowsOfEmptyRowsIsANoOpOrAnEngineException(DType dtype)
    {
        var x = b.Allocate(3, 0, dtype);
        var y = b.Allocate(3, 0, dtype);
        var e = Record.Exception(() => b.SoftmaxRows(x, y, log: false));
        Assert.True(e is null or EngineException, $"threw {e?.GetType().Name}: {e?.Message}");
    }

    [Theory]
    [InlineData(DType.Float64)]
    [InlineData(DType.Float32)]
    public void SoftmaxRowsSumToOneAndLogSoftmaxIsItsLogarithm(DType dtype)
    {
        const int m = 500, n = 77;
        var x = b.T(dtype, m, n, H.Random(41, m, n, -20, 20));
        var p = b.Allocate(m, n, dtype);
        var logp = b.Allocate(m, n, dtype);
        b.SoftmaxRows(x, p, log: false);
        b.SoftmaxRows(x, logp, log: true);

        var rowSums = b.Allocate(m, 1, dtype);
        b.Reduce(ReduceOp.Sum, p, rowSums, 1);
        H.Close(Enumerable.Repeat(1.0, m).ToArray(), rowSums, scale: 5, what: "row sums");
        Assert.All(p.D(), v => Assert.True(v >= 0 && v <= 1));

        // Where p is not tiny, log p = log-softmax; everywhere, exp(log-softmax) = p.
        var pv = p.D();
        var lv = logp.D();
        var expOfLog = lv.Select(Math.Exp).ToArray();
        H.Close(pv, expOfLog, dtype, scale: 50, what: "exp(log-softmax)");
        for (int i = 0; i < pv.Length; i++)
            if (pv[i] > 1e-6)
                Assert.True(Math.Abs(Math.Log(pv[i]) - lv[i]) <= H.Tol(dtype) * 50 * Math.Max(1, Math.Abs(lv[i])),
                    $"[{i}]: log p = {Math.Log(pv[i])}, log-softmax = {lv[i]}");
    }
}
