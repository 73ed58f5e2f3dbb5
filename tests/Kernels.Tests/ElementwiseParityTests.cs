namespace Engine.Kernels.Tests;

/// <summary>CUDA's fills, copies, transfers and elementwise ops held to the CPU backend's (see <see cref="Parity"/>).</summary>
[Trait("Category", Category.Cuda)]
public class ElementwiseParityTests
{
    [Theory]
    [InlineData(DType.Float32)]
    [InlineData(DType.Float64)]
    public void Transfers_fills_and_copies_agree_exactly(DType dtype)
    {
        using var p = Parity.OnCuda();
        var rng = new Random(1);
        foreach (var (rows, cols) in Parity.Shapes)
        {
            var x = Parity.Uniform(rng, rows * cols, -1e3, 1e3);
            var shape = $"{rows}×{cols}";
            // Upload and download alone: the tensors are compared as they arrive.
            p.Check($"Upload {shape}", dtype, (_, _) => { }, [new("x", rows, cols, x)], exact: true);
            p.Check($"Copy {shape}", dtype, (b, t) => b.Copy(t[0], t[1]), [new("src", rows, cols, x), Arg.Out("dst", rows, cols)], exact: true);
            p.Check($"Fill {shape}", dtype, (b, t) => b.Fill(t[0], -1.25), [Arg.Out("t", rows, cols)], exact: true);
            p.Check($"Fill int32 {shape}", dtype, (b, t) => b.Fill(t[0], int.MinValue + 3),
                [new("t", rows, cols, new double[rows * cols], DType.Int32)], exact: true);
            p.Check($"Allocate {shape}", dtype, (b, t) =>
            {
                using var zeros = b.Allocate(rows, cols, dtype);
                b.Copy(zeros, t[0]);
            }, [Arg.Out("zeros", rows, cols)], exact: true);
        }
        // float64 host data into float32 tensors and back as float32: one rounding each way, the same on both.
        p.Check("Upload and download as float32", dtype, (b, t) =>
        {
            var host = t[0].ToArray<float>();
            b.Upload<float>(host.Select(v => v * 3).ToArray(), t[0]);
        }, [new("x", 37, 41, Parity.Uniform(rng, 37 * 41))], exact: true);
    }

    /// <summary>x values inside each op's domain, with NaN, ±∞, ±0, large and tiny magnitudes appended.</summary>
    private static double[] UnaryInput(UnaryOp op, Random rng, int n)
    {
        bool positive = op is UnaryOp.Log or UnaryOp.Sqrt;
        var x = Parity.Uniform(rng, n, positive ? 0.05 : -4, 4);
        double[] special = [double.NaN, double.PositiveInfinity, double.NegativeInfinity, 0.0, -0.0, 100, -100, 1e-30, -1e-30, 0.25, -0.25];
        for (int i = 0; i < Math.Min(n / 3, special.Length); i++) x[i * 3] = special[i];
        return x;
    }

    private static double Alpha(UnaryOp op) => op switch { UnaryOp.Scale => 1.7, UnaryOp.AddScalar => -0.3, UnaryOp.LeakyRelu => 0.01, _ => 0 };

    [Theory]
    [InlineData(DType.Float32)]
    [InlineData(DType.Float64)]
    public void Unary_ops_and_their_backwards_agree(DType dtype)
    {
        using var p = Parity.OnCuda();
        var rng = new Random(2);
        foreach (var op in Enum.GetValues<UnaryOp>())
            foreach (var (rows, cols) in Parity.Shapes)
            {
                int n = rows * cols;
                var x = UnaryInput(op, rng, n);
                double alpha = Alpha(op);
                var what = $"{op} {rows}×{cols}";
                p.Check(what, dtype, (b, t) => b.Unary(op, t[0], t[1], alpha), [new("x", rows, cols, x), Arg.Out("y", rows, cols)]);
                var y = p.OnCpu(dtype, (b, t) => b.Unary(op, t[0], t[1], alpha), new("x", rows, cols, x), Arg.Out("y", rows, cols))[1];
                // The gradient starts non-zero: backwards add into it.
                p.Check($"{what} backward", dtype, (b, t) => b.UnaryBackward(op, t[0], t[1], t[2], t[3], alpha),
                    [new("x", rows, cols, x), new("y", rows, cols, y), new("dy", rows, cols, Parity.Uniform(rng, n)), new("dx", rows, cols, Parity.Uniform(rng, n))]);
            }
    }

    /// <summary>b's four shapes for an a of rows×cols: the same, a row (1×cols), a column (rows×1) and a scalar.</summary>
    private static (int Rows, int Cols)[] Broadcasts(int rows, int cols) => [(rows, cols), (1, cols), (rows, 1), (1, 1)];

    [Theory]
    [InlineData(DType.Float32)]
    [InlineData(DType.Float64)]
    public void Binary_ops_agree_for_every_broadcast_forward_and_backward(DType dtype)
    {
        using var p = Parity.OnCuda();
        var rng = new Random(3);
        foreach (var op in Enum.GetValues<BinaryOp>())
            foreach (var (rows, cols) in Parity.Shapes)
                foreach (var (bRows, bCols) in Broadcasts(rows, cols))
                {
                    int n = rows * cols, bn = bRows * bCols;
                    var a = Parity.Uniform(rng, n);
                    // b kept away from 0 (Div), with random signs.
                    var bv = Parity.Uniform(rng, bn, 0.5, 2).Select(v => rng.Next(2) == 0 ? v : -v).ToArray();
                    var what = $"{op} {rows}×{cols} by {bRows}×{bCols}";
                    p.Check(what, dtype, (b, t) => b.Binary(op, t[0], t[1], t[2]), [new("a", rows, cols, a), new("b", bRows, bCols, bv), Arg.Out("y", rows, cols)]);
                    // Each entry of db sums the elements b broadcast onto.
                    p.Check($"{what} backward", dtype, (b, t) => b.BinaryBackward(op, t[0], t[1], t[2], t[3], t[4]),
                        [new("a", rows, cols, a), new("b", bRows, bCols, bv), new("dy", rows, cols, Parity.Uniform(rng, n)),
                         new("da", rows, cols, Parity.Uniform(rng, n)), new("db", bRows, bCols, Parity.Uniform(rng, bn), Terms: n / bn)]);
                }
    }

    [Theory]
    [InlineData(DType.Float32)]
    [InlineData(DType.Float64)]
    public void Binary_backward_adds_into_only_the_gradient_asked_for(DType dtype)
    {
        using var p = Parity.OnCuda();
        var rng = new Random(4);
        const int rows = 33, cols = 33;
        foreach (var op in Enum.GetValues<BinaryOp>())
            foreach (var (bRows, bCols) in Broadcasts(rows, cols))
                foreach (bool wantA in new[] { false, true })
                {
                    int n = rows * cols, bn = bRows * bCols;
                    p.Check($"{op} {rows}×{cols} by {bRows}×{bCols} backward, {(wantA ? "da" : "db")} only", dtype,
                        (b, t) => b.BinaryBackward(op, t[0], t[1], t[2], wantA ? t[3] : null, wantA ? null : t[4]),
                        [new("a", rows, cols, Parity.Uniform(rng, n)), new("b", bRows, bCols, Parity.Uniform(rng, bn, 0.5, 2)),
                         new("dy", rows, cols, Parity.Uniform(rng, n)), new("da", rows, cols, Parity.Uniform(rng, n)), new("db", bRows, bCols, Parity.Uniform(rng, bn), Terms: n / bn)]);
                }
    }

    [Theory]
    [InlineData(DType.Float32)]
    [InlineData(DType.Float64)]
    public void Add_scaled_agrees(DType dtype)
    {
        using var p = Parity.OnCuda();
        var rng = new Random(5);
        foreach (var (rows, cols) in Parity.Shapes)
            p.Check($"AddScaled {rows}×{cols}", dtype, (b, t) => b.AddScaled(t[0], -0.7, t[1]),
                [new("x", rows, cols, Parity.Uniform(rng, rows * cols)), new("y", rows, cols, Parity.Uniform(rng, rows * cols))]);
    }
}
