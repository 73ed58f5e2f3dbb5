namespace Engine.Tests;

/// <summary>The backend's op counters: exact FLOPs and bytes for known products, and nothing counted while off.</summary>
public class OpCounterTests
{
    // Each test has its own backend, so tests running in parallel cannot add to each other's tallies.
    private readonly Backend b = H.NewBackend();

    [Theory]
    [InlineData(DType.Float32, 4)]
    [InlineData(DType.Float64, 8)]
    public void Gemm_counts_2mnk_flops_and_its_operands(DType dtype, int size)
    {
        using var a = b.Allocate(3, 5, dtype);   // op(a) = aᵀ is 5×3
        using var x = b.Allocate(3, 7, dtype);   // m = 5, k = 3, n = 7
        using var c = b.Allocate(5, 7, dtype);
        b.Counters.Enabled = true;
        b.Gemm(true, false, 1, a, x, 0, c);
        b.Gemm(true, false, 1, a, x, 1, c);      // β ≠ 0 reads c as well
        var gemm = b.Counters.Snapshot()[OpKind.Gemm];
        Assert.Equal(2, gemm.Calls);
        Assert.Equal(2 * (2L * 5 * 7 * 3), gemm.Flops);
        Assert.Equal((15 + 21 + 35) * size + (15 + 21 + 2 * 35) * size, gemm.Bytes);
        Assert.True(gemm.Seconds > 0);
        Assert.Single(b.Counters.Snapshot()); // nothing else ran while counting
    }

    [Fact]
    public void Spmm_counts_the_csr_arrays_the_gathered_rows_and_y()
    {
        // A 3×4 matrix with 4 non-zeros, times a 4×2 float32 x.
        using var a = CsrMatrix.FromCoo(b, 3, 4, [0, 0, 1, 2], [0, 3, 1, 3], [1.0, 2, 3, 4], DType.Float32);
        using var x = b.Allocate(4, 2, DType.Float32);
        using var y = b.Allocate(3, 2, DType.Float32);
        b.Counters.Enabled = true;
        b.Spmm(a, x, 0, y);
        var spmm = b.Counters.Snapshot()[OpKind.Spmm];
        // row pointers 4·4 + column indices 4·4 + values 4·4 + gathered rows 4·2·4 + y written 3·2·4
        Assert.Equal(new OpTotals(1, 0, 16 + 16 + 16 + 32 + 24, spmm.Seconds), spmm);
    }

    [Fact]
    public void Disabled_counters_stay_zero_and_reset_clears()
    {
        using var a = b.Allocate(4, 4, DType.Float32);
        using var c = b.Allocate(4, 4, DType.Float32);
        b.Gemm(false, false, 1, a, a, 0, c);
        b.Unary(UnaryOp.Exp, a, c);
        Assert.Empty(b.Counters.Snapshot());

        b.Counters.Enabled = true;
        b.Unary(UnaryOp.Exp, a, c);
        Assert.Equal(new OpTotals(1, 0, 2 * 16 * 4, b.Counters.Snapshot()[OpKind.Unary].Seconds), b.Counters.Snapshot()[OpKind.Unary]);
        b.Counters.Reset();
        Assert.Empty(b.Counters.Snapshot());
    }
}
