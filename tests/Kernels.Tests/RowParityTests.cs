namespace Engine.Kernels.Tests;

/// <summary>CUDA's row ops (gather, scatter, blocks, normalisations) held to the CPU backend's (see <see cref="Parity"/>).</summary>
[Trait("Category", Category.Cuda)]
public class RowParityTests
{
    /// <summary>(table rows, index length, width): widths of 1, 31, 32, 33 and 200 (several chunks of 32 columns).</summary>
    private static readonly (int Table, int K, int Cols)[] IndexShapes = [(1, 1, 1), (3, 50, 31), (100, 1000, 32), (70, 300, 33), (7, 200, 200)];

    [Theory]
    [InlineData(DType.Float32)]
    [InlineData(DType.Float64)]
    public void Gather_and_scatter_add_rows_agree_exactly_with_repeated_indices(DType dtype)
    {
        using var p = Parity.OnCuda();
        var rng = new Random(31);
        foreach (var (table, k, cols) in IndexShapes)
        {
            // Indices repeat (k ≥ table rows), and the scatter's sums run in the CPU's order: bit-identical.
            var index = Enumerable.Range(0, k).Select(_ => rng.Next(table)).ToArray();
            var shape = $"{k} of {table}×{cols}";
            p.Check($"GatherRows {shape}", dtype, (b, t) => b.GatherRows(t[0], t[1], t[2]),
                [new("src", table, cols, Parity.Uniform(rng, table * cols)), Arg.Index("index", index), Arg.Out("dst", k, cols)], exact: true);
            p.Check($"ScatterAddRows {shape}", dtype, (b, t) => b.ScatterAddRows(t[0], t[1], t[2]),
                [new("src", k, cols, Parity.Uniform(rng, k * cols)), Arg.Index("index", index), new("dst", table, cols, Parity.Uniform(rng, table * cols))], exact: true);
        }
    }

    /// <summary>src and dst shapes, the block's corners in each and its size: whole, a column slice (concatenation's
    /// backward), offsets in both, one element, and an empty block.</summary>
    private static readonly (int SR, int SC, int DR, int DC, int SrcRow, int SrcCol, int DstRow, int DstCol, int Rows, int Cols)[] Blocks =
    [
        (300, 70, 300, 70, 0, 0, 0, 0, 300, 70), (300, 70, 300, 33, 0, 37, 0, 0, 300, 33), (40, 50, 60, 45, 3, 5, 17, 2, 37, 40),
        (1, 1, 5, 5, 0, 0, 4, 4, 1, 1), (9, 9, 9, 9, 2, 2, 3, 3, 0, 4),
    ];

    [Theory]
    [InlineData(DType.Float32)]
    [InlineData(DType.Float64)]
    public void Copy_block_agrees_exactly_overwriting_and_accumulating(DType dtype)
    {
        using var p = Parity.OnCuda();
        var rng = new Random(32);
        foreach (var (sr, sc, dr, dc, srcRow, srcCol, dstRow, dstCol, rows, cols) in Blocks)
            foreach (bool accumulate in new[] { false, true })
                p.Check($"CopyBlock {rows}×{cols} from ({srcRow}, {srcCol}) of {sr}×{sc} to ({dstRow}, {dstCol}) of {dr}×{dc}{(accumulate ? ", accumulating" : "")}",
                    dtype, (b, t) => b.CopyBlock(t[0], srcRow, srcCol, t[1], dstRow, dstCol, rows, cols, accumulate),
                    [new("src", sr, sc, Parity.Uniform(rng, sr * sc)), new("dst", dr, dc, Parity.Uniform(rng, dr * dc))], exact: true);
    }

    [Theory]
    [InlineData(DType.Float32)]
    [InlineData(DType.Float64)]
    public void Row_l2_normalize_and_its_backward_agree_with_zero_and_tiny_rows(DType dtype)
    {
        using var p = Parity.OnCuda();
        var rng = new Random(33);
        foreach (var (rows, cols) in Parity.Shapes)
        {
            var x = Parity.Uniform(rng, rows * cols);
            if (rows >= 3)
                for (int c = 0; c < cols; c++)
                {
                    x[c] = 0;                  // a zero row: y = 0, and the clamped norm's gradient dy/ε
                    x[cols + c] *= 1e-20;      // a norm below ε: clamped too
                }
            var what = $"RowL2Normalize {rows}×{cols}";
            p.Check(what, dtype, (b, t) => b.RowL2Normalize(t[0], t[1]), [new("x", rows, cols, x), Arg.Out("y", rows, cols)]);
            var y = p.OnCpu(dtype, (b, t) => b.RowL2Normalize(t[0], t[1]), new("x", rows, cols, x), Arg.Out("y", rows, cols))[1];
            p.Check($"{what} backward", dtype, (b, t) => b.RowL2NormalizeBackward(t[0], t[1], t[2], t[3]),
                [new("x", rows, cols, x), new("y", rows, cols, y), new("dy", rows, cols, Parity.Uniform(rng, rows * cols)),
                 new("dx", rows, cols, Parity.Uniform(rng, rows * cols), Terms: cols)]);
        }
    }

    [Theory]
    [InlineData(DType.Float32)]
    [InlineData(DType.Float64)]
    public void Softmax_and_log_softmax_rows_and_their_backwards_agree(DType dtype)
    {
        using var p = Parity.OnCuda();
        var rng = new Random(34);
        foreach (var (rows, cols) in Parity.Shapes)
            foreach (bool log in new[] { false, true })
            {
                var x = Parity.Uniform(rng, rows * cols, -3, 3);
                if (rows >= 2)
                    for (int c = 0; c < cols; c++) x[c] += 200; // large logits: stable, no overflow
                var what = $"{(log ? "LogSoftmaxRows" : "SoftmaxRows")} {rows}×{cols}";
                p.Check(what, dtype, (b, t) => b.SoftmaxRows(t[0], t[1], log), [new("x", rows, cols, x), Arg.Out("y", rows, cols)]);
                var y = p.OnCpu(dtype, (b, t) => b.SoftmaxRows(t[0], t[1], log), new("x", rows, cols, x), Arg.Out("y", rows, cols))[1];
                p.Check($"{what} backward", dtype, (b, t) => b.SoftmaxRowsBackward(t[0], t[1], t[2], log),
                    [new("y", rows, cols, y), new("dy", rows, cols, Parity.Uniform(rng, rows * cols)), new("dx", rows, cols, Parity.Uniform(rng, rows * cols), Terms: cols)]);
            }
    }

    /// <summary>Batches of one row (zero variance), fewer rows than a block's 256 threads and several strides of them.</summary>
    private static readonly (int Rows, int Cols)[] BatchShapes = [(1, 5), (3, 1), (37, 64), (300, 7), (1000, 33)];

    [Theory]
    [InlineData(DType.Float32)]
    [InlineData(DType.Float64)]
    public void Batch_norm_and_its_backward_agree(DType dtype)
    {
        using var p = Parity.OnCuda();
        var rng = new Random(35);
        foreach (var (rows, cols) in BatchShapes)
        {
            int n = rows * cols;
            // Off-centre columns: the variance is of deviations from a mean far from 0.
            var x = Parity.Uniform(rng, n, 2, 6);
            var (gamma, beta) = (Parity.Uniform(rng, cols, 0.5, 1.5), Parity.Uniform(rng, cols));
            var what = $"BatchNorm {rows}×{cols}";
            Arg[] Forward() =>
                [new("x", rows, cols, x), new("gamma", 1, cols, gamma), new("beta", 1, cols, beta), Arg.Out("y", rows, cols),
                 Arg.Out("mean", 1, cols, rows), Arg.Out("invStd", 1, cols, rows)];
            p.Check(what, dtype, (b, t) => b.BatchNorm(t[0], t[1], t[2], t[3], t[4], t[5]), Forward());
            var stats = p.OnCpu(dtype, (b, t) => b.BatchNorm(t[0], t[1], t[2], t[3], t[4], t[5]), Forward());
            p.Check($"{what} backward", dtype, (b, t) => b.BatchNormBackward(t[0], t[1], t[2], t[3], t[4], t[5], t[6], t[7]),
                [new("x", rows, cols, x), new("gamma", 1, cols, gamma), new("mean", 1, cols, stats[4]), new("invStd", 1, cols, stats[5]),
                 new("dy", rows, cols, Parity.Uniform(rng, n)), new("dx", rows, cols, Parity.Uniform(rng, n), Terms: rows),
                 new("dGamma", 1, cols, Parity.Uniform(rng, cols), Terms: rows), new("dBeta", 1, cols, Parity.Uniform(rng, cols), Terms: rows)]);
        }
    }
}
