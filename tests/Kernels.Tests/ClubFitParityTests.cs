using Engine.Cpu;

namespace Engine.Kernels.Tests;

/// <summary>Fits of <see cref="Backend.ClubFit"/> on random pairs, q and moments, and their comparison.</summary>
internal static class ClubFitRuns
{
    /// <summary>q's parameters and Adam's moments after <paramref name="steps"/> steps from step 10, on random pairs and moments.</summary>
    public static double[][] Fit(Backend backend, DType dtype, ClubLayout layout, int rows, int steps)
    {
        var rng = new Random(11);
        double[] Draw(int n, double scale) => Enumerable.Range(0, n).Select(_ => (rng.NextDouble() * 2 - 1) * scale).ToArray();
        int length = layout.Length;
        using var x = backend.FromDoubles(Draw(rows * layout.Width, 1), rows, layout.Width, dtype);
        using var y = backend.FromDoubles(Draw(rows * layout.Width, 1), rows, layout.Width, dtype);
        using var p = backend.FromDoubles(Draw(length, 0.5), 1, length, dtype);
        using var m = backend.FromDoubles(Draw(length, 1e-3), 1, length, dtype);
        using var v = backend.FromDoubles(Draw(length, 1e-3).Select(Math.Abs).ToArray(), 1, length, dtype);
        backend.ClubFit(x, y, 2, layout, p, m, v, steps, 10, 1e-4, 0.9, 0.999, 1e-8, 0);
        return [p.ToArray<double>(), m.ToArray<double>(), v.ToArray<double>()];
    }

    public static void AssertClose(double[][] expected, double[][] actual, double tolerance, string what)
    {
        for (int t = 0; t < 3; t++)
            for (int i = 0; i < expected[t].Length; i++)
                Assert.True(Math.Abs(expected[t][i] - actual[t][i]) <= tolerance * (1 + Math.Abs(expected[t][i])),
                    $"{(t == 0 ? "parameter" : t == 1 ? "first moment" : "second moment")} {i}: {what} {expected[t][i]:G12}, got {actual[t][i]:G12}");
    }
}

/// <summary>The CPU backend's kernel held to the composed reference (<see cref="Backend.ComposedOnly"/>), float32 and float64.</summary>
public class ClubFitCpuTests
{
    [Theory]
    [InlineData(DType.Float32, 1e-5)]
    [InlineData(DType.Float64, 1e-12)]
    public void Cpu_kernel_fits_what_the_composed_reference_fits(DType dtype, double tolerance)
    {
        var layout = new ClubLayout(32, 8);
        var reference = new CpuBackend(GemmProvider.Managed) { ComposedOnly = true };
        ClubFitRuns.AssertClose(ClubFitRuns.Fit(reference, dtype, layout, 2 * 301, 5), ClubFitRuns.Fit(new CpuBackend(GemmProvider.Managed), dtype, layout, 2 * 301, 5),
            tolerance, "composed");
    }
}

/// <summary>
/// CUDA's <see cref="Backend.ClubFit"/> held to the CPU backend's kernel and to its own composed reference:
/// kernels.cu's club_fit_rows and club_fit_adam on pairs spanning many blocks, and the reference where the kernels do
/// not take q's widths. Skipped, with the probe's reason, where there is no GPU.
/// </summary>
[Trait("Category", Category.Cuda)]
public class ClubFitGpuTests
{
    /// <summary>2 × 1,000 rows: eight blocks of club_fit_rows, the last one partial.</summary>
    [Theory]
    [InlineData(DType.Float32, 1e-4)]
    [InlineData(DType.Float64, 1e-10)]
    public void Cuda_kernels_fit_what_the_cpu_kernel_and_the_composed_reference_fit(DType dtype, double tolerance)
    {
        Gpu.Require();
        using var gpu = new CudaBackend(CudaDevice.Open());
        var layout = new ClubLayout(32, 8);
        var actual = ClubFitRuns.Fit(gpu, dtype, layout, 2 * 1000, 20);
        ClubFitRuns.AssertClose(ClubFitRuns.Fit(new CpuBackend(GemmProvider.Managed), dtype, layout, 2 * 1000, 20), actual, tolerance, "CPU");
        gpu.ComposedOnly = true;
        ClubFitRuns.AssertClose(ClubFitRuns.Fit(gpu, dtype, layout, 2 * 1000, 20), actual, tolerance, "composed on CUDA");
    }

    [Theory]
    [InlineData(DType.Float32, 1e-4)]
    [InlineData(DType.Float64, 1e-10)]
    public void Widths_the_kernels_do_not_take_run_the_composed_reference(DType dtype, double tolerance)
    {
        Gpu.Require();
        using var gpu = new CudaBackend(CudaDevice.Open());
        var layout = new ClubLayout(16, 4);
        ClubFitRuns.AssertClose(ClubFitRuns.Fit(new CpuBackend(GemmProvider.Managed), dtype, layout, 2 * 300, 5),
            ClubFitRuns.Fit(gpu, dtype, layout, 2 * 300, 5), tolerance, "CPU");
    }
}
