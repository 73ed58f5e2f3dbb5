namespace Engine.Kernels.Tests;

/// <summary>
/// The fused BPR op (<see cref="Backend.BprRows"/> and its backward): CUDA's kernels and the composed reference held to
/// the CPU backend's kernel (see <see cref="Parity"/>).
/// </summary>
public class BprParityTests
{
    [Theory]
    [InlineData(DType.Float32)]
    [InlineData(DType.Float64)]
    public void Composed_reference_agrees_with_the_cpu_kernel(DType dtype) => Check(FusedRun.CpuComposed, dtype);

    [Theory]
    [Trait("Category", Category.Cuda)]
    [InlineData(DType.Float32, FusedRun.CudaKernel)]
    [InlineData(DType.Float64, FusedRun.CudaKernel)]
    [InlineData(DType.Float32, FusedRun.CudaComposed)]
    [InlineData(DType.Float64, FusedRun.CudaComposed)]
    public void Cuda_agrees_with_the_cpu_kernel(DType dtype, FusedRun run) => Check(run, dtype);

    private static void Check(FusedRun run, DType dtype)
    {
        using var p = Parity.ForFused(run);
        var rng = new Random(81);
        foreach (var (rows, cols) in Parity.Shapes)
        {
            int b = rows * cols;
            double[] pos = Parity.Uniform(rng, b, -3, 3), neg = Parity.Uniform(rng, b, -3, 3);
            if (b > 1)
            {
                // Gaps far past where a naive log(1 + exp) overflows, both ways.
                (pos[0], neg[0]) = (1000, -1000);
                (pos[1], neg[1]) = (-1000, 1000);
            }
            p.Check($"BprRows b = {b}", dtype, (be, t) => be.BprRows(t[0], t[1], t[2]),
                [new("pos", b, 1, pos), new("neg", b, 1, neg), Arg.Out("loss", b, 1)]);
            // Both gradients, then each alone: the other, passed as null, must be left as it was.
            foreach (var (wantPos, wantNeg) in new[] { (true, true), (true, false), (false, true) })
                p.Check($"BprRowsBackward b = {b}{(wantPos ? " dPos" : "")}{(wantNeg ? " dNeg" : "")}", dtype,
                    (be, t) => be.BprRowsBackward(t[0], t[1], -0.7, wantPos ? t[2] : null, wantNeg ? t[3] : null),
                    [new("pos", b, 1, pos), new("neg", b, 1, neg), new("dPos", b, 1, Parity.Uniform(rng, b)), new("dNeg", b, 1, Parity.Uniform(rng, b))]);
        }
        Assert.Equal(run != FusedRun.CudaKernel, p.RanComposed);
    }
}
