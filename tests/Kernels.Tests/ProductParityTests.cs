namespace Engine.Kernels.Tests;

/// <summary>CUDA's dense (cuBLAS) and sparse (CSR kernel) products held to the CPU backend's (see <see cref="Parity"/>).</summary>
[Trait("Category", Category.Cuda)]
public class ProductParityTests
{
    /// <summary>(m, n, k): one element, a row, a column, odd sizes, k past 128, several blocks, and empty k (c = β·c).</summary>
    private static readonly (int M, int N, int K)[] GemmShapes =
        [(1, 1, 1), (1, 37, 5), (33, 1, 17), (7, 13, 5), (65, 33, 129), (300, 70, 40), (5, 3, 0)];

    [Theory]
    [InlineData(DType.Float32)]
    [InlineData(DType.Float64)]
    public void Gemm_agrees_for_every_transpose_and_beta(DType dtype)
    {
        using var p = Parity.OnCuda();
        var rng = new Random(21);
        foreach (var (m, n, k) in GemmShapes)
            foreach (bool transA in new[] { false, true })
                foreach (bool transB in new[] { false, true })
                    foreach (double beta in new[] { 0.0, 1.0 })
                    {
                        var (aRows, aCols) = transA ? (k, m) : (m, k);
                        var (bRows, bCols) = transB ? (n, k) : (k, n);
                        // With β = 0, c's old contents are ignored, NaN included.
                        var c = beta == 0 ? Arg.Out("c", m, n, k) : new Arg("c", m, n, Parity.Uniform(rng, m * n), Terms: k);
                        p.Check($"Gemm {m}×{n}×{k}{(transA ? " aᵀ" : "")}{(transB ? " bᵀ" : "")} β={beta}", dtype,
                            (b, t) => b.Gemm(transA, transB, 0.75, t[0], t[1], beta, t[2]),
                            [new("a", aRows, aCols, Parity.Uniform(rng, m * k)), new("b", bRows, bCols, Parity.Uniform(rng, k * n)), c]);
                    }
    }

    /// <summary>(rows, cols, n, density): one entry, a column vector, rows shorter and longer than a warp, an empty row.</summary>
    private static readonly (int Rows, int Cols, int N, double Density)[] SpmmShapes =
        [(1, 1, 1, 1), (5, 7, 1, 0.5), (37, 20, 33, 0.3), (100, 50, 70, 0.2), (300, 200, 64, 0.05)];

    [Theory]
    [InlineData(DType.Float32)]
    [InlineData(DType.Float64)]
    public void Spmm_agrees_for_every_beta(DType dtype)
    {
        using var p = Parity.OnCuda();
        var rng = new Random(22);
        foreach (var (rows, cols, n, density) in SpmmShapes)
            foreach (double beta in new[] { 0.0, 1.0, -0.5 })
            {
                var (ri, ci) = (new List<int>(), new List<int>());
                // Row 0 stays empty where there is more than one row: its output is β·y alone.
                for (int r = rows > 1 ? 1 : 0; r < rows; r++)
                    for (int c = 0; c < cols; c++)
                        if (rng.NextDouble() < density) { ri.Add(r); ci.Add(c); }
                var values = Parity.Uniform(rng, ri.Count);
                var y = beta == 0 ? Arg.Out("y", rows, n, cols) : new Arg("y", rows, n, Parity.Uniform(rng, rows * n), Terms: cols);
                p.Check($"Spmm {rows}×{cols} ({ri.Count} non-zeros) by {cols}×{n} β={beta}", dtype, (b, t) =>
                {
                    using var a = CsrMatrix.FromCoo(b, rows, cols, ri.ToArray(), ci.ToArray(), values, dtype);
                    b.Spmm(a, t[0], beta, t[1]);
                }, [new("x", cols, n, Parity.Uniform(rng, cols * n)), y]);
            }
    }
}
