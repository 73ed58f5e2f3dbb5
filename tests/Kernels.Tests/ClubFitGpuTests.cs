using Engine.Cpu;

namespace Engine.Kernels.Tests;

/// <summary>
/// CUDA's <see cref="Backend.ClubFit"/> (kernels.cu's one-launch club_fit) held to the CPU backend's after 50 steps on
/// Baby-sized pairs. The comparison is skipped, with the probe's reason, where there is no GPU.
/// </summary>
[Trait("Category", Category.Cuda)]
public class ClubFitGpuTests
{
    [Theory]
    [InlineData(DType.Float32, 1e-4)]
    [InlineData(DType.Float64, 1e-10)]
    public void Cuda_fits_what_the_cpu_fits(DType dtype, double tolerance)
    {
        Gpu.Require();
        using var gpu = new CudaBackend(CudaDevice.Open());
        var cpu = new CpuBackend(GemmProvider.Managed);
        var layout = new ClubLayout(32, 8);
        var rng = new Random(11);
        double[] Draw(int n, double scale) => Enumerable.Range(0, n).Select(_ => (rng.NextDouble() * 2 - 1) * scale).ToArray();
        int rows = 2 * 7050;
        double[] x = Draw(rows * 32, 1), y = Draw(rows * 32, 1), p = Draw(layout.Length, 0.5);
        double[] m = Draw(layout.Length, 1e-3), v = Draw(layout.Length, 1e-3).Select(Math.Abs).ToArray();

        double[][] Fit(Backend backend)
        {
            using var tx = backend.FromDoubles(x, rows, 32, dtype);
            using var ty = backend.FromDoubles(y, rows, 32, dtype);
            using var tp = backend.FromDoubles(p, 1, layout.Length, dtype);
            using var tm = backend.FromDoubles(m, 1, layout.Length, dtype);
            using var tv = backend.FromDoubles(v, 1, layout.Length, dtype);
            backend.ClubFit(tx, ty, 2, layout, tp, tm, tv, 50, 10, 1e-4, 0.9, 0.999, 1e-8, 0);
            return [tp.ToArray<double>(), tm.ToArray<double>(), tv.ToArray<double>()];
        }

        var (expected, actual) = (Fit(cpu), Fit(gpu));
        for (int t = 0; t < 3; t++)
            for (int i = 0; i < layout.Length; i++)
                Assert.True(Math.Abs(expected[t][i] - actual[t][i]) <= tolerance * (1 + Math.Abs(expected[t][i])),
                    $"{(t == 0 ? "parameter" : t == 1 ? "first moment" : "second moment")} {i}: CPU {expected[t][i]:G12}, CUDA {actual[t][i]:G12}");
    }
}
