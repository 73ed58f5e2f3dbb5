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
            int[] inverse = new int[rows];
            for (int i = 0; i < rows; i++) inverse[permutation[i]] = i;
            Arg[] Inputs() => [new("mu", rows, d, mu), new("logvar", rows, d, logVariance), new("y", rows, d, y), Arg.Index("perm", permutation)];

            p.Check($"ClubBoundRows {rows}×{d}", dtype, (b, t) => b.ClubBoundRows(t[0], t[1], t[2], t[3], t[4]),
                [.. Inputs(), Arg.Out("rowTerm", rows, 1, terms: d)]);
            // All three gradients, then each alone: the others, passed as null, must be left as they were.
            foreach (var want in new[] { (true, true, true), (true, false, false), (false, true, false), (false, false, true) })
                p.Check($"ClubBoundRowsBackward {rows}×{d} wanted {want}", dtype,
                    (b, t) => b.ClubBoundRowsBackward(t[0], t[1], t[2], t[3], 0.37, want.Item1 ? t[4] : null, want.Item2 ? t[5] : null, want.Item3 ? t[6] : null),
                    [.. Inputs(), Gradient("dMu"), Gradient("dLogvar"), Gradient("dY")]);
            // With π's inverse given, as training passes it (CUDA then uses it instead of reading π back).
            p.Check($"ClubBoundRowsBackward {rows}×{d} given π's inverse", dtype,
                (b, t) => b.ClubBoundRowsBackward(t[0], t[1], t[2], t[3], 0.37, t[5], t[6], t[7], inverse: t[4]),
                [.. Inputs(), Arg.Index("inverse", inverse), Gradient("dMu"), Gradient("dLogvar"), Gradient("dY")]);

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

    /// <summary>Given π's inverse, CUDA's backward reads nothing back to the host (without it, it downloads π to invert it).</summary>
    [Fact]
    [Trait("Category", Category.Cuda)]
    public void Cuda_backward_given_the_inverse_does_not_read_back()
    {
        Gpu.Require();
        using var cuda = new CudaBackend(CudaDevice.Open());
        using var x = cuda.Allocate(3, 2, DType.Float32);
        using var dY = cuda.Allocate(3, 2, DType.Float32);
        using var permutation = cuda.FromArray(new[] { 2, 0, 1 }, 3, 1);
        using var inverse = cuda.FromArray(new[] { 1, 2, 0 }, 3, 1);
        long Downloads(Tensor? given)
        {
            cuda.Counters.Reset();
            cuda.Counters.Enabled = true;
            cuda.ClubBoundRowsBackward(x, x, x, permutation, 1, null, null, dY, given);
            cuda.Counters.Enabled = false;
            return cuda.Counters.Snapshot().TryGetValue(OpKind.Download, out var d) ? d.Calls : 0;
        }
        Assert.Equal(1, Downloads(null));
        Assert.Equal(0, Downloads(inverse));
    }

    [Fact]
    public void An_inverse_of_the_wrong_shape_or_type_is_refused()
    {
        var cpu = new Cpu.CpuBackend();
        using var x = cpu.Allocate(3, 2, DType.Float32);
        using var permutation = cpu.FromArray(new[] { 2, 0, 1 }, 3, 1);
        using var shortInverse = cpu.FromArray(new[] { 1, 2 }, 2, 1);
        using var floatInverse = cpu.Allocate(3, 1, DType.Float32);
        foreach (var inverse in new[] { shortInverse, floatInverse })
        {
            var e = Assert.Throws<EngineException>(() => cpu.ClubBoundRowsBackward(x, x, x, permutation, 1, x, null, null, inverse));
            Assert.Contains("int32 3×1", e.Message);
        }
    }
}
