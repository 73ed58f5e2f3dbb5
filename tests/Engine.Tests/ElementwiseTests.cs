namespace Engine.Tests;

/// <summary>Unary, binary and scaled-add ops of the CPU backend, forward (and the accumulating backwards), in float64 and float32.</summary>
public class ElementwiseTests
{
    private readonly Backend b = H.NewBackend();

    // ---------------------------------------------------------------- unary

    public static TheoryData<UnaryOp, DType> AllUnaryOps()
    {
        var data = new TheoryData<UnaryOp, DType>();
        foreach (var op in Enum.GetValues<UnaryOp>())
            foreach (var dtype in new[] { DType.Float64, DType.Float32 })
                data.Add(op, dtype);
        return data;
    }

    private const double Alpha = 0.1;

    /// <summary>Inputs inside each op's domain: positive for Log and Sqrt, mixed signs (including 0) otherwise.</summary>
    private static double[] UnaryInputs(UnaryOp op) => op is UnaryOp.Log or UnaryOp.Sqrt
        ? [0.25, 0.5, 1, 2, 9, 100, 1e-3]
        : [-3, -1.5, -0.25, 0, 0.25, 1.5, 3, 7.5];

    /// <summary>The float64 reference, written with System.Math (independent of the backend's vector primitives).</summary>
    private static double UnaryReference(UnaryOp op, double x, double alpha) => op switch
    {
        UnaryOp.Neg => -x,
        UnaryOp.Scale => alpha * x,
        UnaryOp.AddScalar => x + alpha,
        UnaryOp.Exp => Math.Exp(x),
        UnaryOp.Log => Math.Log(x),
        UnaryOp.Sigmoid => 1 / (1 + Math.Exp(-x)),
        UnaryOp.LogSigmoid => Math.Log(1 / (1 + Math.Exp(-x))),
        UnaryOp.Tanh => Math.Tanh(x),
        UnaryOp.Relu => x > 0 ? x : 0,
        UnaryOp.LeakyRelu => x > 0 ? x : alpha * x,
        UnaryOp.Square => x * x,
        UnaryOp.Sqrt => Math.Sqrt(x),
        _ => throw new InvalidOperationException($"no reference for {op}: add one"),
    };

    [Theory]
    [MemberData(nameof(AllUnaryOps))]
    public void UnaryMatchesFloat64Reference(UnaryOp op, DType dtype)
    {
        var input = H.Stored(UnaryInputs(op), dtype);
        var x = b.T(dtype, 2, input.Length / 2, input.Take(input.Length / 2 * 2).ToArray());
        var y = b.Full(dtype, x.Rows, x.Cols, double.NaN); // forwards overwrite
        b.Unary(op, x, y, Alpha);
        var expected = x.D().Select(v => UnaryReference(op, v, dtype == DType.Float32 ? (float)Alpha : Alpha)).ToArray();
        H.Close(expected, y, scale: 2, what: $"{op}");
    }

    [Theory]
    [MemberData(nameof(AllUnaryOps))]
    public void UnaryOnALargeTensorMatchesReference(UnaryOp op, DType dtype)
    {
        // 70 000 elements: several parallel chunks, with vector bodies and tails.
        var values = H.Random(1, 1, 70_001, -4, 4);
        if (op is UnaryOp.Log or UnaryOp.Sqrt) values = values.Select(v => Math.Abs(v) + 0.01).ToArray();
        var x = b.T(dtype, 1, values.Length, values);
        var y = b.Allocate(1, values.Length, dtype);
        b.Unary(op, x, y, Alpha);
        var expected = x.D().Select(v => UnaryReference(op, v, dtype == DType.Float32 ? (float)Alpha : Alpha)).ToArray();
        H.Close(expected, y, scale: 2, what: $"{op}");
    }

    [Theory]
    [InlineData(DType.Float64)]
    [InlineData(DType.Float32)]
    public void UnaryHandComputedValues(DType dtype)
    {
        var x = b.T(dtype, 1, 5, -2, -0.5, 0, 0.5, 4);
        double[] Run(UnaryOp op, double alpha = 0)
        {
            var y = b.Allocate(1, 5, dtype);
            b.Unary(op, x, y, alpha);
            return y.D();
        }
        // All of these are exact in both dtypes.
        Assert.Equal([2, 0.5, 0, -0.5, -4], Run(UnaryOp.Neg));
        Assert.Equal([-6, -1.5, 0, 1.5, 12], Run(UnaryOp.Scale, 3));
        Assert.Equal([-4.5, -3, -2.5, -2, 1.5], Run(UnaryOp.AddScalar, -2.5));
        Assert.Equal([0, 0, 0, 0.5, 4], Run(UnaryOp.Relu));
        Assert.Equal([-0.5, -0.125, 0, 0.5, 4], Run(UnaryOp.LeakyRelu, 0.25)); // negative slope 0.25
        Assert.Equal([-2, -0.5, 0, 0.5, 4], Run(UnaryOp.LeakyRelu, 1));        // slope 1 is the identity
        Assert.Equal([4, 0.25, 0, 0.25, 16], Run(UnaryOp.Square));
        Assert.Equal(2, Run(UnaryOp.Sqrt)[4]);
        Assert.Equal(0.5, Run(UnaryOp.Sigmoid)[2]);
        H.Close([1], [Run(UnaryOp.Exp)[2]], dtype); // float32's vectorised exp(0) is 1 + 2⁻²³: one ulp off, within tolerance
        // log σ(0) = −ln 2
        H.Close([-Math.Log(2)], [Run(UnaryOp.LogSigmoid)[2]], dtype);
    }

    [Theory]
    [InlineData(DType.Float64)]
    [InlineData(DType.Float32)]
    public void LogSigmoidAndSigmoidStayFiniteForHugeInputs(DType dtype)
    {
        var x = b.T(dtype, 1, 6, -1000, 1000, -30, 30, -100, 100);
        var y = b.Allocate(1, 6, dtype);
        b.Unary(UnaryOp.LogSigmoid, x, y);
        var ls = y.D();
        Assert.All(ls, v => Assert.True(double.IsFinite(v), $"log σ gave {v}"));
        // log σ(x) = x − log(1 + eˣ) for x < 0, −log(1 + e⁻ˣ) for x ≥ 0.
        H.Close([-1000, 0, -30 - Math.Log(1 + Math.Exp(-30)), -Math.Log(1 + Math.Exp(-30)), -100, -Math.Exp(-100)], ls, dtype);
        Assert.True(ls[3] <= 0 && ls[3] > -1e-12); // −9.36e−14 (or −0), never positive

        b.Unary(UnaryOp.Sigmoid, x, y);
        var s = y.D();
        Assert.All(s, v => Assert.True(double.IsFinite(v) && v >= 0 && v <= 1, $"σ gave {v}"));
        Assert.Equal(0, s[0]);
        Assert.Equal(1, s[1]);
    }

    /// <summary>
    /// tanh is odd and tanh(x) ≈ x near 0, so a correctly rounded (or few-ulp) tanh gives 0 at 0 and a small relative
    /// error for small x, whatever the tensor's length.
    /// </summary>
    [Theory]
    [InlineData(DType.Float64)]
    [InlineData(DType.Float32)]
    public void TanhIsAccurateNearZero(DType dtype)
    {
        double[] small = [0, 1e-6, -1e-6, 1e-4, 1e-3, -1e-3, 0.01, 0.02];
        var x = b.T(dtype, 1, small.Length, small);
        var y = b.Allocate(1, small.Length, dtype);
        b.Unary(UnaryOp.Tanh, x, y);
        var got = y.D();
        Assert.Equal(0, got[0]);
        var stored = x.D();
        for (int i = 1; i < small.Length; i++)
        {
            double expected = Math.Tanh(stored[i]);
            Assert.True(Math.Abs(got[i] - expected) <= 4 * H.Tol(dtype) * Math.Abs(expected),
                $"tanh({stored[i]:R}) = {got[i]:R}, expected {expected:R}");
        }
    }

    /// <summary>op'(x) in float64.</summary>
    private static double UnaryDerivative(UnaryOp op, double x, double alpha) => op switch
    {
        UnaryOp.Neg => -1,
        UnaryOp.Scale => alpha,
        UnaryOp.AddScalar => 1,
        UnaryOp.Exp => Math.Exp(x),
        UnaryOp.Log => 1 / x,
        UnaryOp.Sigmoid => Math.Exp(-x) / ((1 + Math.Exp(-x)) * (1 + Math.Exp(-x))),
        UnaryOp.LogSigmoid => 1 / (1 + Math.Exp(x)),
        UnaryOp.Tanh => 1 - Math.Tanh(x) * Math.Tanh(x),
        UnaryOp.Relu => x > 0 ? 1 : 0,
        UnaryOp.LeakyRelu => x > 0 ? 1 : alpha,
        UnaryOp.Square => 2 * x,
        UnaryOp.Sqrt => 0.5 / Math.Sqrt(x),
        _ => throw new InvalidOperationException($"no derivative for {op}: add one"),
    };

    [Theory]
    [MemberData(nameof(AllUnaryOps))]
    public void UnaryBackwardAccumulatesIntoDx(UnaryOp op, DType dtype)
    {
        var input = H.Stored(UnaryInputs(op), dtype);
        int n = input.Length;
        var x = b.T(dtype, 1, n, input);
        var y = b.Allocate(1, n, dtype);
        b.Unary(op, x, y, 0.2);
        var dyValues = H.Stored(Enumerable.Range(0, n).Select(i => 0.5 + 0.25 * i).ToArray(), dtype);
        var dxBefore = H.Stored(Enumerable.Range(0, n).Select(i => 10.0 - 3 * i).ToArray(), dtype);
        var dy = b.T(dtype, 1, n, dyValues);
        var dx = b.T(dtype, 1, n, dxBefore);
        b.UnaryBackward(op, x, y, dy, dx, 0.2);
        double alpha = dtype == DType.Float32 ? 0.2f : 0.2;
        var expected = Enumerable.Range(0, n).Select(i => dxBefore[i] + dyValues[i] * UnaryDerivative(op, input[i], alpha)).ToArray();
        H.Close(expected, dx, scale: 4, what: $"{op}Backward");
    }

    [Theory]
    [InlineData(DType.Float64)]
    [InlineData(DType.Float32)]
    public void UnaryBackwardHandComputedAccumulation(DType dtype)
    {
        var x = b.T(dtype, 1, 3, -1, 2, 3);
        var y = b.Allocate(1, 3, dtype);
        var dy = b.T(dtype, 1, 3, 1, 0.5, -2);

        // Square: dx += 2x·dy = [−2, 2, −12] on top of [1, 1, 1].
        b.Unary(UnaryOp.Square, x, y);
        var dx = b.Full(dtype, 1, 3, 1);
        b.UnaryBackward(UnaryOp.Square, x, y, dy, dx);
        Assert.Equal([-1, 3, -11], dx.D());

        // Relu on the same dx: adds [0, 0.5, −2].
        b.Unary(UnaryOp.Relu, x, y);
        b.UnaryBackward(UnaryOp.Relu, x, y, dy, dx);
        Assert.Equal([-1, 3.5, -13], dx.D());

        // LeakyRelu with slope 0.5: adds [0.5, 0.5, −2].
        b.Unary(UnaryOp.LeakyRelu, x, y, 0.5);
        b.UnaryBackward(UnaryOp.LeakyRelu, x, y, dy, dx, 0.5);
        Assert.Equal([-0.5, 4, -15], dx.D());
    }

    // ---------------------------------------------------------------- binary

    /// <summary>b's shapes for a 3×4 a: same, 1×n, m×1, 1×1.</summary>
    public static TheoryData<BinaryOp, int, int, DType> BinaryCases()
    {
        var data = new TheoryData<BinaryOp, int, int, DType>();
        foreach (var op in Enum.GetValues<BinaryOp>())
            foreach (var (r, c) in new[] { (3, 4), (1, 4), (3, 1), (1, 1) })
                foreach (var dtype in new[] { DType.Float64, DType.Float32 })
                    data.Add(op, r, c, dtype);
        return data;
    }

    private static double BinaryReference(BinaryOp op, double a, double b) => op switch
    {
        BinaryOp.Add => a + b,
        BinaryOp.Sub => a - b,
        BinaryOp.Mul => a * b,
        BinaryOp.Div => a / b,
        _ => throw new InvalidOperationException($"no reference for {op}: add one"),
    };

    /// <summary>Index into b (bRows×bCols) of the element broadcast to (r, c).</summary>
    private static int BIndex(int r, int c, int bRows, int bCols) => (bRows == 1 ? 0 : r) * bCols + (bCols == 1 ? 0 : c);

    [Theory]
    [MemberData(nameof(BinaryCases))]
    public void BinaryBroadcastsAndMatchesReference(BinaryOp op, int bRows, int bCols, DType dtype)
    {
        const int m = 3, n = 4;
        var aValues = H.Stored(H.Random(2, m, n, -3, 3), dtype);
        // b away from zero so that Div is well conditioned.
        var bValues = H.Stored(H.Random(3, bRows, bCols, 0.5, 2).Select((v, i) => i % 2 == 0 ? v : -v).ToArray(), dtype);
        var a = b.T(dtype, m, n, aValues);
        var bt = b.T(dtype, bRows, bCols, bValues);
        var y = b.Full(dtype, m, n, double.NaN);
        b.Binary(op, a, bt, y);
        var expected = new double[m * n];
        for (int r = 0; r < m; r++)
            for (int c = 0; c < n; c++)
                expected[r * n + c] = BinaryReference(op, aValues[r * n + c], bValues[BIndex(r, c, bRows, bCols)]);
        H.Close(expected, y, what: $"{op} with b {bRows}×{bCols}");
    }

    [Theory]
    [InlineData(DType.Float64)]
    [InlineData(DType.Float32)]
    public void BinaryHandComputedBroadcasts(DType dtype)
    {
        var a = b.T(dtype, 2, 3, 1, 2, 3, 4, 5, 6);
        var y = b.Allocate(2, 3, dtype);

        b.Binary(BinaryOp.Add, a, b.T(dtype, 1, 3, 10, 20, 30), y); // row broadcast
        Assert.Equal([11, 22, 33, 14, 25, 36], y.D());
        b.Binary(BinaryOp.Div, a, b.T(dtype, 2, 1, 1, 2), y);       // column broadcast
        Assert.Equal([1, 2, 3, 2, 2.5, 3], y.D());
        b.Binary(BinaryOp.Mul, a, b.T(dtype, 1, 1, -2), y);         // scalar
        Assert.Equal([-2, -4, -6, -8, -10, -12], y.D());
        b.Binary(BinaryOp.Sub, a, b.T(dtype, 2, 3, 6, 5, 4, 3, 2, 1), y); // same shape
        Assert.Equal([-5, -3, -1, 1, 3, 5], y.D());
    }

    [Theory]
    [InlineData(DType.Float64)]
    [InlineData(DType.Float32)]
    public void BinaryBroadcastsOverDegenerateShapes(DType dtype)
    {
        // a m×1 with b 1×1, and a 1×n with b 1×1 and 1×n.
        var col = b.T(dtype, 3, 1, 1, 2, 3);
        var y = b.Allocate(3, 1, dtype);
        b.Binary(BinaryOp.Sub, col, b.T(dtype, 1, 1, 1), y);
        Assert.Equal([0, 1, 2], y.D());
        var row = b.T(dtype, 1, 3, 1, 2, 3);
        var yr = b.Allocate(1, 3, dtype);
        b.Binary(BinaryOp.Mul, row, b.T(dtype, 1, 1, 3), yr);
        Assert.Equal([3, 6, 9], yr.D());
        b.Binary(BinaryOp.Add, row, b.T(dtype, 1, 3, 1, 1, 1), yr);
        Assert.Equal([2, 3, 4], yr.D());
    }

    /// <summary>(∂/∂a, ∂/∂b) of a op b.</summary>
    private static (double, double) BinaryPartials(BinaryOp op, double a, double b) => op switch
    {
        BinaryOp.Add => (1, 1),
        BinaryOp.Sub => (1, -1),
        BinaryOp.Mul => (b, a),
        BinaryOp.Div => (1 / b, -a / (b * b)),
        _ => throw new InvalidOperationException($"no partials for {op}: add one"),
    };

    [Theory]
    [MemberData(nameof(BinaryCases))]
    public void BinaryBackwardSumsOverBroadcastDimsAndAccumulates(BinaryOp op, int bRows, int bCols, DType dtype)
    {
        const int m = 3, n = 4;
        var aValues = H.Stored(H.Random(4, m, n, -3, 3), dtype);
        var bValues = H.Stored(H.Random(5, bRows, bCols, 0.5, 2), dtype);
        var dyValues = H.Stored(H.Random(6, m, n), dtype);
        var daBefore = H.Stored(H.Random(7, m, n, 5, 6), dtype);
        var dbBefore = H.Stored(H.Random(8, bRows, bCols, -6, -5), dtype);
        var a = b.T(dtype, m, n, aValues);
        var bt = b.T(dtype, bRows, bCols, bValues);
        var dy = b.T(dtype, m, n, dyValues);
        var da = b.T(dtype, m, n, daBefore);
        var db = b.T(dtype, bRows, bCols, dbBefore);
        b.BinaryBackward(op, a, bt, dy, da, db);

        var expectedDa = (double[])daBefore.Clone();
        var expectedDb = (double[])dbBefore.Clone();
        for (int r = 0; r < m; r++)
            for (int c = 0; c < n; c++)
            {
                int i = r * n + c, j = BIndex(r, c, bRows, bCols);
                var (pa, pb) = BinaryPartials(op, aValues[i], bValues[j]);
                expectedDa[i] += dyValues[i] * pa;
                expectedDb[j] += dyValues[i] * pb;
            }
        H.Close(expectedDa, da, scale: 4, what: "da");
        H.Close(expectedDb, db, scale: 10, what: "db");

        // Either gradient may be omitted; the other still accumulates.
        b.BinaryBackward(op, a, bt, dy, null, db);
        for (int j = 0; j < expectedDb.Length; j++) expectedDb[j] += expectedDb[j] - dbBefore[j];
        H.Close(expectedDb, db, scale: 20, what: "db, second pass");
        b.BinaryBackward(op, a, bt, dy, da, null);
        for (int i = 0; i < expectedDa.Length; i++) expectedDa[i] += expectedDa[i] - daBefore[i];
        H.Close(expectedDa, da, scale: 8, what: "da, second pass");
    }

    [Theory]
    [InlineData(DType.Float64)]
    [InlineData(DType.Float32)]
    public void BinaryBackwardHandComputed(DType dtype)
    {
        var a = b.T(dtype, 2, 2, 1, 2, 3, 4);
        var dy = b.T(dtype, 2, 2, 1, 1, 1, 1);

        // a · row [10, 20]: da += dy·b = [[10, 20], [10, 20]]; db += Σ_rows dy·a = [1 + 3, 2 + 4].
        var da = b.Full(dtype, 2, 2, 1);
        var db = b.T(dtype, 1, 2, 100, 200);
        b.BinaryBackward(BinaryOp.Mul, a, b.T(dtype, 1, 2, 10, 20), dy, da, db);
        Assert.Equal([11, 21, 11, 21], da.D());
        Assert.Equal([104, 206], db.D());

        // a − column [c0, c1]: db += −Σ_cols dy = [−2, −2].
        var dbCol = b.T(dtype, 2, 1, 5, 5);
        b.BinaryBackward(BinaryOp.Sub, a, b.T(dtype, 2, 1, 0, 0), dy, null, dbCol);
        Assert.Equal([3, 3], dbCol.D());

        // a / 2 (scalar): db += Σ −dy·a/4 = −10/4.
        var dbScalar = b.T(dtype, 1, 1, 1);
        b.BinaryBackward(BinaryOp.Div, a, b.T(dtype, 1, 1, 2), dy, null, dbScalar);
        Assert.Equal([1 - 2.5], dbScalar.D());
    }

    [Theory]
    [InlineData(DType.Float64)]
    [InlineData(DType.Float32)]
    public void BinaryBackwardOnManyRowsIsDeterministicAndCorrect(DType dtype)
    {
        // 20 000 × 4 rows broadcast into one 1×4 db: large enough to be split across threads for da.
        const int m = 20_000, n = 4;
        var aValues = H.Stored(H.Random(9, m, n, 0, 1), dtype);
        var a = b.T(dtype, m, n, aValues);
        var bt = b.T(dtype, 1, n, 1, 2, 3, 4);
        var dy = b.Full(dtype, m, n, 1);
        Tensor Run()
        {
            var db = b.Allocate(1, n, dtype);
            b.BinaryBackward(BinaryOp.Mul, a, bt, dy, null, db);
            return db;
        }
        var first = Run().D();
        Assert.Equal(first, Run().D());
        var expected = new double[n];
        for (int i = 0; i < aValues.Length; i++) expected[i % n] += aValues[i];
        H.Close(expected, first, dtype, scale: 100); // sums of ~5 000 after 20 000 float32 additions
    }

    // ---------------------------------------------------------------- AddScaled, Fill, Copy

    [Theory]
    [InlineData(DType.Float64)]
    [InlineData(DType.Float32)]
    public void AddScaledAccumulatesAlphaTimesX(DType dtype)
    {
        var y = b.T(dtype, 1, 3, 1, 2, 3);
        b.AddScaled(b.T(dtype, 1, 3, 1, 1, -2), 0.5, y);
        Assert.Equal([1.5, 2.5, 2], y.D());
        b.AddScaled(b.T(dtype, 1, 3, 2, 4, 8), -0.25, y);
        Assert.Equal([1, 1.5, 0], y.D());

        // A large one against a loop.
        var xs = H.Stored(H.Random(10, 1, 100_003), dtype);
        var ys = H.Stored(H.Random(11, 1, 100_003), dtype);
        var yl = b.T(dtype, 1, ys.Length, ys);
        b.AddScaled(b.T(dtype, 1, xs.Length, xs), -1.5, yl);
        H.Close(xs.Select((x, i) => ys[i] - 1.5 * x).ToArray(), yl, scale: 2);
    }

    [Theory]
    [InlineData(DType.Float64)]
    [InlineData(DType.Float32)]
    public void FillOverwritesEveryElement(DType dtype)
    {
        var t = b.T(dtype, 2, 3, 1, 2, 3, 4, 5, 6);
        b.Fill(t, -2.5);
        Assert.All(t.D(), v => Assert.Equal(-2.5, v));
        b.Fill(t, double.NaN);
        Assert.All(t.D(), v => Assert.True(double.IsNaN(v)));
    }

    [Fact]
    public void FillWorksOnInt32()
    {
        var t = b.Allocate(2, 2, DType.Int32);
        b.Fill(t, 7);
        Assert.Equal([7, 7, 7, 7], t.ToArray<int>());
    }

    [Theory]
    [InlineData(DType.Float64)]
    [InlineData(DType.Float32)]
    [InlineData(DType.Int32)]
    public void CopyOverwritesAndLeavesTheSourceIndependent(DType dtype)
    {
        var src = b.Allocate(2, 2, dtype);
        if (dtype == DType.Int32) b.Upload<int>([1, -2, 3, 4], src);
        else b.Upload<double>([1, -2, 3, 4], src);
        var dst = b.Allocate(2, 2, dtype);
        b.Fill(dst, 9);
        b.Copy(src, dst);
        double[] Values(Tensor t) => dtype == DType.Int32 ? t.ToArray<int>().Select(v => (double)v).ToArray() : t.D();
        Assert.Equal([1, -2, 3, 4], Values(dst));
        b.Fill(src, 0);
        Assert.Equal([1, -2, 3, 4], Values(dst));
        Assert.Equal([0, 0, 0, 0], Values(src));
    }

    // ---------------------------------------------------------------- host transfers and Tensor helpers

    [Fact]
    public void UploadDoubleIntoFloat32RoundsToNearest()
    {
        // 1 + 0.75·2⁻²³ lies nearer 1 + 2⁻²³ than 1: round-to-nearest gives the former, truncation the latter.
        double up = 1 + 3 * Math.Pow(2, -25);
        var values = H.Random(12, 1, 37, -1e3, 1e3); // long enough for vector and scalar paths
        values[0] = up;
        values[1] = -up;
        values[36] = up; // the tail
        values[2] = 0.1;
        values[3] = 1e300; // beyond float32: +∞
        var t = b.Allocate(1, values.Length, DType.Float32);
        b.Upload<double>(values, t);
        var back = t.ToArray<float>();
        for (int i = 0; i < values.Length; i++) Assert.Equal((float)values[i], back[i]);
        Assert.Equal(1 + MathF.Pow(2, -23), back[0]);
        Assert.Equal(0.1f, back[2]);
        Assert.Equal(float.PositiveInfinity, back[3]);
        // Downloading as double widens exactly.
        var wide = t.ToArray<double>();
        for (int i = 0; i < values.Length; i++) Assert.Equal((double)back[i], wide[i]);
    }

    [Fact]
    public void UploadFloatIntoFloat64IsExact()
    {
        float[] values = [0.1f, -3.5f, float.MaxValue, float.Epsilon, 1e-30f, 123456.789f, 7f, 8f, 9f, 10f];
        var t = b.Allocate(2, 5, DType.Float64);
        b.Upload<float>(values, t);
        Assert.Equal(values.Select(v => (double)v).ToArray(), t.ToArray<double>());
        Assert.Equal(values, t.ToArray<float>());
    }

    [Fact]
    public void DownloadFloat64AsFloat32Rounds()
    {
        var t = b.FromArray(new[] { 0.1, 1 + 3 * Math.Pow(2, -25), -2.5 }, 3, 1);
        var host = new float[3];
        b.Download<float>(t, host);
        Assert.Equal([0.1f, 1 + MathF.Pow(2, -23), -2.5f], host);
    }

    [Fact]
    public void Int32RoundTripsUnchanged()
    {
        int[] values = [0, -1, int.MaxValue, int.MinValue, 42];
        var t = b.FromArray(values, 5, 1);
        Assert.Equal(DType.Int32, t.DType);
        Assert.Equal(values, t.ToArray<int>());
    }

    [Theory]
    [InlineData(DType.Float64)]
    [InlineData(DType.Float32)]
    public void ItemReadsAOneByOneTensor(DType dtype)
    {
        Assert.Equal(-2.75, b.T(dtype, 1, 1, -2.75).Item());
        Assert.Equal((double)0.1f, b.T(DType.Float32, 1, 1, 0.1).Item());
        H.Throws(() => b.T(dtype, 2, 1, 1, 2).Item(), "Item", "2×1");
    }

    [Theory]
    [InlineData(DType.Float64)]
    [InlineData(DType.Float32)]
    public void CloneIsAnIndependentCopy(DType dtype)
    {
        var t = b.T(dtype, 2, 3, 1, 2, 3, 4, 5, 6);
        var c = t.Clone();
        Assert.NotSame(t, c);
        Assert.Same(t.Backend, c.Backend);
        Assert.Equal((2, 3, dtype), (c.Rows, c.Cols, c.DType));
        Assert.Equal(t.D(), c.D());
        b.Fill(t, 0);
        Assert.Equal([1, 2, 3, 4, 5, 6], c.D());
    }

    [Fact]
    public void ViewSharesTheElementsUnderAnotherShape()
    {
        var t = b.T(DType.Float64, 2, 3, 1, 2, 3, 4, 5, 6);
        var row = t.View(1, 6);
        Assert.Equal((1, 6), (row.Rows, row.Cols));
        Assert.Equal([1, 2, 3, 4, 5, 6], row.D());
        b.Fill(row, 7);
        Assert.Equal([7, 7, 7, 7, 7, 7], t.D());
        H.Throws(() => t.View(4, 2), "View", "2×3", "4×2");
    }

    [Fact]
    public void ToArrayConvertsToTheRequestedType()
    {
        var t = b.FromArray(new[] { 1.5, -0.1 }, 1, 2);
        Assert.Equal([1.5f, -0.1f], t.ToArray<float>());
        Assert.Equal([1.5, -0.1], t.ToArray<double>());
        Assert.Equal(2, t.Length);
        Assert.Equal("1×2", t.Shape);
    }

    [Fact]
    public void AllocateGivesZeros()
    {
        foreach (var dtype in new[] { DType.Float32, DType.Float64 })
            Assert.All(b.Allocate(3, 4, dtype).D(), v => Assert.Equal(0, v));
        Assert.All(b.Allocate(3, 4, DType.Int32).ToArray<int>(), v => Assert.Equal(0, v));
    }
}
