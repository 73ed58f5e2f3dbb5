using Engine.Cpu;
using MathNet.Numerics.LinearAlgebra;

namespace Engine.Tests;

/// <summary>
/// Backend.Gemm on tensors (the dispatch from shapes and transposes to the kernel's strides) against MathNet's dense
/// products, on the managed kernel and on the default backend (OpenBLAS where it loads). The kernels themselves are
/// tested in GemmTests.
/// </summary>
public class DenseProductTests
{
    public static TheoryData<bool, bool, DType, bool> Cases()
    {
        var data = new TheoryData<bool, bool, DType, bool>();
        foreach (var (ta, tb) in new[] { (false, false), (true, false), (false, true), (true, true) })
            foreach (var dtype in new[] { DType.Float64, DType.Float32 })
                foreach (var shared in new[] { false, true })
                    data.Add(ta, tb, dtype, shared);
        return data;
    }

    private static Matrix<double> M(double[] rowMajor, int rows, int cols) => Matrix<double>.Build.DenseOfRowMajor(rows, cols, rowMajor);

    [Theory]
    [MemberData(nameof(Cases))]
    public void ProductMatchesMathNet(bool transA, bool transB, DType dtype, bool sharedBackend)
    {
        Backend b = sharedBackend ? CpuBackend.Shared : H.NewBackend();
        foreach (var (m, n, k) in new[] { (1, 1, 1), (5, 3, 7), (33, 17, 65), (2, 40, 3) })
        {
            var (ar, ac) = transA ? (k, m) : (m, k);
            var (br, bc) = transB ? (n, k) : (k, n);
            var aValues = H.Stored(H.Random(m * 100 + k, ar, ac), dtype);
            var bValues = H.Stored(H.Random(n * 100 + k, br, bc), dtype);
            var cValues = H.Stored(H.Random(m + n, m, n), dtype);
            var a = b.T(dtype, ar, ac, aValues);
            var bt = b.T(dtype, br, bc, bValues);
            var opA = transA ? M(aValues, ar, ac).Transpose() : M(aValues, ar, ac);
            var opB = transB ? M(bValues, br, bc).Transpose() : M(bValues, br, bc);

            // β = 0 ignores c's contents, NaN included.
            var c = b.Full(dtype, m, n, double.NaN);
            b.Gemm(transA, transB, 1.5, a, bt, 0, c);
            H.Close((1.5 * opA * opB).ToRowMajorArray(), c, scale: k, what: $"{m}×{n}×{k}, β = 0");

            // β = 1 accumulates; other α, β scale.
            foreach (var (alpha, beta) in new[] { (1.0, 1.0), (-0.5, 0.25) })
            {
                var acc = b.T(dtype, m, n, cValues);
                b.Gemm(transA, transB, alpha, a, bt, beta, acc);
                var expected = alpha * opA * opB + beta * M(cValues, m, n);
                H.Close(expected.ToRowMajorArray(), acc, scale: k, what: $"{m}×{n}×{k}, α = {alpha}, β = {beta}");
            }
        }
    }

    [Theory]
    [InlineData(DType.Float64)]
    [InlineData(DType.Float32)]
    public void ProductHandComputed(DType dtype)
    {
        var b = H.NewBackend();
        // [[1, 2], [3, 4]] · [[5, 6], [7, 8]] = [[19, 22], [43, 50]]; aᵀ·b = [[26, 30], [38, 44]].
        var a = b.T(dtype, 2, 2, 1, 2, 3, 4);
        var x = b.T(dtype, 2, 2, 5, 6, 7, 8);
        var c = b.Allocate(2, 2, dtype);
        b.Gemm(false, false, 1, a, x, 0, c);
        Assert.Equal([19, 22, 43, 50], c.D());
        b.Gemm(true, false, 1, a, x, 0, c);
        Assert.Equal([26, 30, 38, 44], c.D());
        b.Gemm(true, false, -1, a, x, 1, c); // c − aᵀ·b = 0
        Assert.Equal([0, 0, 0, 0], c.D());
    }
}
