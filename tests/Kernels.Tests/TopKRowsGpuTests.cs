using Engine.Cpu;

namespace Engine.Kernels.Tests;

/// <summary>
/// CUDA's <see cref="Backend.TopKRows"/> held to the CPU backend's: the order is total, so the two must pick the same
/// columns exactly. The comparison is skipped, with the probe's reason, where there is no GPU.
/// </summary>
[Trait("Category", Category.Cuda)]
public class TopKRowsGpuTests
{
    [Fact]
    public void Topk_rows_is_declared_with_the_seven_arguments_CudaBackend_passes() =>
        new KernelSourceTests().Every_launched_kernel_is_declared_for_both_dtypes_with_its_arguments("topk_rows", 7);

    private static readonly double[] Special = [double.NaN, double.NegativeInfinity, double.PositiveInfinity, -0.0, 0, 1];

    [Theory]
    [InlineData(DType.Float32)]
    [InlineData(DType.Float64)]
    public void Cuda_selects_what_the_cpu_selects(DType dtype)
    {
        Gpu.Require();
        using var gpu = new CudaBackend(CudaDevice.Open());
        var cpu = new CpuBackend(GemmProvider.Managed);
        var rng = new Random(17);
        // A Baby-sized evaluation block, short rows (k beyond them), and a k larger than the block's 256 threads.
        foreach (var (rows, cols, k) in new[] { (300, 7050, 50), (1000, 40, 60), (64, 3000, 300) })
        {
            // Rounded scores for ties, a tenth of them NaN, ±∞ or ±0.
            var scores = new double[rows * cols];
            for (int i = 0; i < scores.Length; i++)
                scores[i] = rng.Next(10) == 0 ? Special[rng.Next(Special.Length)] : Math.Round(rng.NextDouble(), 2);
            // Row 0 masks everything; the others a random unsorted tenth, some columns twice.
            var rowPtr = new int[rows + 1];
            var masked = new List<int>();
            for (int r = 0; r < rows; r++)
            {
                var row = Enumerable.Range(0, cols).Where(_ => r == 0 || rng.Next(10) == 0).ToList();
                row.AddRange(row.Take(3));
                masked.AddRange(row.OrderBy(_ => rng.Next()));
                rowPtr[r + 1] = masked.Count;
            }
            foreach (bool withMask in new[] { false, true })
                Assert.Equal(Select(cpu, dtype, scores, rows, cols, withMask ? rowPtr : null, [.. masked], k),
                             Select(gpu, dtype, scores, rows, cols, withMask ? rowPtr : null, [.. masked], k));
        }
    }

    private static int[] Select(Backend backend, DType dtype, double[] scores, int rows, int cols, int[]? rowPtr, int[] masked, int k)
    {
        using var s = backend.FromDoubles(scores, rows, cols, dtype);
        using var result = backend.Allocate(rows, k, DType.Int32);
        using var maskRowPtr = rowPtr is null ? null : backend.FromArray(rowPtr, rows + 1, 1);
        using var maskCols = rowPtr is null ? null : backend.FromArray(masked, masked.Length, 1);
        backend.TopKRows(s, maskRowPtr, maskCols, k, result);
        return result.ToArray<int>();
    }
}
