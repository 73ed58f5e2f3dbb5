using Engine.Cpu;

namespace Engine.Kernels.Tests;

/// <summary>Inputs and checks shared by InfoNCE's parity tests: the forward, then the backward fed the CPU's lse.</summary>
internal static class InfoNceCases
{
    public const double InvTemperature = 5; // SEA's τ = 0.2

    /// <summary>
    /// (n, d): one pair, n off every multiple of 32 (the kernels' owned rows and tiles) and of 192 and 512 (the CPU's
    /// blocks and tiles; 600 spans two tiles), d = 32 (SEA) and odd; and d past what the CUDA kernels' 48 KB of shared
    /// memory takes (the backward in float64 from d = 53, in float32 from 117), where the composed reference must run
    /// instead.
    /// </summary>
    public static readonly (int N, int D)[] Shapes = [(1, 32), (33, 7), (600, 32), (300, 7), (40, 120)];

    /// <summary>Rows of unit norm, as SEA's projections give: logits within ±1/τ.</summary>
    public static double[] UnitRows(Random rng, int n, int d)
    {
        var x = Parity.Uniform(rng, n * d);
        for (int i = 0; i < n; i++)
        {
            var row = x.AsSpan(i * d, d);
            double norm = Math.Sqrt(row.ToArray().Sum(v => v * v));
            foreach (ref var v in row) v /= norm;
        }
        return x;
    }

    /// <summary>
    /// Forward; forward with gradients (both, and each alone, written over what the tensors held); then backward (the
    /// same three) with the CPU's lse, through <paramref name="p"/>.
    /// </summary>
    public static void Check(Parity p, DType dtype, int n, int d, Random rng)
    {
        var a = UnitRows(rng, n, d);
        var c = UnitRows(rng, n, d);
        var what = $"InfoNCE {n}×{d}";
        // A logit is a d-term dot product scaled by 1/τ, and lse sums n exponentials of them: rounding grows with both.
        double logitTerms = d * InvTemperature * InvTemperature, terms = logitTerms + n;
        Arg[] Forward() => [new("a", n, d, a), new("c", n, d, c), Arg.Out("lse", n, 1, terms), Arg.Out("positive", n, 1, terms)];
        p.Check(what, dtype, (b, t) => b.InfoNceForward(t[0], t[1], InvTemperature, t[2], t[3]), Forward());
        var lse = p.OnCpu(dtype, (b, t) => b.InfoNceForward(t[0], t[1], InvTemperature, t[2], t[3]), Forward())[2];
        foreach (var (wantA, wantC) in new[] { (true, true), (true, false), (false, true) })
            p.Check($"{what} forward with gradients{(wantA ? " da" : "")}{(wantC ? " dc" : "")}", dtype,
                (b, t) => b.InfoNceForward(t[0], t[1], InvTemperature, t[2], t[3], wantA ? t[4] : null, wantC ? t[5] : null),
                [.. Forward(), new("da", n, d, Parity.Uniform(rng, n * d), Terms: terms), new("dc", n, d, Parity.Uniform(rng, n * d), Terms: terms)]);
        const double scale = 1; // not the loss's 1/n: gradients of size 1/τ, so that the tolerance is small beside any one term
        foreach (var (wantA, wantC) in new[] { (true, true), (true, false), (false, true) })
            p.Check($"{what} backward{(wantA ? " da" : "")}{(wantC ? " dc" : "")}", dtype,
                (b, t) => b.InfoNceBackward(t[0], t[1], InvTemperature, t[2], scale, wantA ? t[3] : null, wantC ? t[4] : null),
                [new("a", n, d, a), new("c", n, d, c), new("lse", n, 1, lse),
                 new("da", n, d, Parity.Uniform(rng, n * d), Terms: logitTerms), new("dc", n, d, Parity.Uniform(rng, n * d), Terms: logitTerms)]);
    }
}

/// <summary>CUDA's streamed InfoNCE kernels (kernels.cu section 9) held to the CPU's (see <see cref="Parity"/>).</summary>
[Trait("Category", Category.Cuda)]
public class InfoNceParityTests
{
    [Theory]
    [InlineData(DType.Float32)]
    [InlineData(DType.Float64)]
    public void Forward_and_backward_agree_with_the_cpu_kernel(DType dtype)
    {
        using var p = Parity.OnCuda();
        var rng = new Random(91);
        foreach (var (n, d) in InfoNceCases.Shapes) InfoNceCases.Check(p, dtype, n, d, rng);
    }
}

/// <summary>The CPU's streamed kernel held to the composed reference (the n×n logits), no GPU needed.</summary>
public class InfoNceCpuTests
{
    [Theory]
    [InlineData(DType.Float32)]
    [InlineData(DType.Float64)]
    public void Cpu_kernel_agrees_with_the_composed_reference(DType dtype)
    {
        using var p = new Parity(new CpuBackend(GemmProvider.Managed) { ComposedOnly = true });
        var rng = new Random(92);
        foreach (var (n, d) in InfoNceCases.Shapes) InfoNceCases.Check(p, dtype, n, d, rng);
    }
}

/// <summary>Runs alone: it reads the process's allocation counter, which tests running beside it would move.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class AllocationMeasurements
{
    public const string Name = "Allocation measurements";
}

/// <summary>The CPU kernel's memory: O(n·d), where the composed reference allocates n×n logits.</summary>
[Collection(AllocationMeasurements.Name)]
public class InfoNceMemoryTests(ITestOutputHelper output)
{
    [Fact]
    public void Cpu_kernel_allocates_far_less_than_the_logits()
    {
        int n = 4000, d = 32;
        long logitBytes = (long)n * n * sizeof(double);
        long kernel = AllocatedByForwardAndBackward(new CpuBackend(), n, d);
        long composed = AllocatedByForwardAndBackward(new CpuBackend { ComposedOnly = true }, n, d);
        output.WriteLine($"n = {n}, d = {d}, float64: kernel {kernel / 1e6:0.00} MB, composed {composed / 1e6:0.0} MB, n² logits {logitBytes / 1e6:0.0} MB");
        Assert.True(composed >= logitBytes, "the measure must see the composed reference's n×n logits");
        // O(n·d): the gradients' 8 lanes keep a partial sum of n×d each, and each running lane a block of 48 rows of n
        // logits (1.5 n×d at d = 32): at most 20 n×d, whatever the core count; the forward's tiles are smaller.
        long rowsBytes = (long)n * d * sizeof(double);
        Assert.True(kernel < 21 * rowsBytes, $"the kernel allocated {kernel} bytes, {(double)kernel / rowsBytes:0.0} × n×d; n² logits are {logitBytes}");
    }

    /// <summary>
    /// Bytes the process allocated over one forward, one backward (both gradients) and one forward with both gradients,
    /// inputs and outputs excluded.
    /// </summary>
    private static long AllocatedByForwardAndBackward(CpuBackend b, int n, int d)
    {
        var rng = new Random(94);
        using var a = b.FromArray(InfoNceCases.UnitRows(rng, n, d), n, d);
        using var c = b.FromArray(InfoNceCases.UnitRows(rng, n, d), n, d);
        using var lse = b.Allocate(n, 1, DType.Float64);
        using var positive = b.Allocate(n, 1, DType.Float64);
        using var da = b.Allocate(n, d, DType.Float64);
        using var dc = b.Allocate(n, d, DType.Float64);
        long before = GC.GetTotalAllocatedBytes(precise: true);
        b.InfoNceForward(a, c, InfoNceCases.InvTemperature, lse, positive);
        b.InfoNceBackward(a, c, InfoNceCases.InvTemperature, lse, 1.0 / n, da, dc);
        b.InfoNceForward(a, c, InfoNceCases.InvTemperature, lse, positive, da, dc); // training's call
        return GC.GetTotalAllocatedBytes(precise: true) - before;
    }
}
