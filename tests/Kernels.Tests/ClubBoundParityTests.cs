namespace Engine.Kernels.Tests;

/// <summary>
/// The fused CLUB bound (<see cref="Backend.ClubBoundRows"/> and its backward): CUDA's kernels and the composed
/// reference held to the CPU backend's kernel (see <see cref="Parity"/>).
/// </summary>
public class ClubBoundParityTests
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
        var rng = new Random(82);
        // SEA's shape (items × 32) besides the edges: d below, at and above a warp's 32 lanes.
        foreach (var (rows, d) in Parity.Shapes.Append((300, 32)))
        {
            int n = rows * d;
            double[] mu = Parity.Uniform(rng, n), logVariance = Parity.Uniform(rng, n), y = Parity.Uniform(rng, n);
            int[] permutation = [.. Enumerable.Range(0, rows).OrderBy(_ => rng.Next())];
            Arg[] Inputs() => [new("mu", rows, d, mu), new("logvar", rows, d, logVariance), new("y", rows, d, y), Arg.Index("perm", permutation)];

            p.Check($"ClubBoundRows {rows}×{d}", dtype, (b, t) => b.ClubBoundRows(t[0], t[1], t[2], t[3], t[4]),
                [.. Inputs(), Arg.Out("rowTerm", rows, 1, terms: d)]);
            // All three gradients, then each alone: the others, passed as null, must be left as they were.
            foreach (var want in new[] { (true, true, true), (true, false, false), (false, true, false), (false, false, true) })
                p.Check($"ClubBoundRowsBackward {rows}×{d} wanted {want}", dtype,
                    (b, t) => b.ClubBoundRowsBackward(t[0], t[1], t[2], t[3], 0.37, want.Item1 ? t[4] : null, want.Item2 ? t[5] : null, want.Item3 ? t[6] : null),
                    [.. Inputs(), Gradient("dMu"), Gradient("dLogvar"), Gradient("dY")]);

            Arg Gradient(string name) => new(name, rows, d, Parity.Uniform(rng, n), Terms: 2);
        }
        Assert.Equal(run != FusedRun.CudaKernel, p.RanComposed);
    }

    /// <summary>CUDA's backward needs π's inverse for dy, so an index that is not a permutation is refused, not misread.</summary>
    [Fact]
    [Trait("Category", Category.Cuda)]
    public void Cuda_refuses_an_index_that_is_not_a_permutation_where_dy_is_wanted()
    {
        Gpu.Require();
        using var cuda = new CudaBackend(CudaDevice.Open());
        using var x = cuda.Allocate(3, 2, DType.Float32);
        using var dY = cuda.Allocate(3, 2, DType.Float32);
        using var repeated = cuda.FromArray(new[] { 2, 0, 2 }, 3, 1);
        var e = Assert.Throws<EngineException>(() => cuda.ClubBoundRowsBackward(x, x, x, repeated, 1, null, null, dY));
        Assert.Contains("not a permutation", e.Message);
    }
}
