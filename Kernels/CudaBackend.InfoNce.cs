namespace Engine.Kernels;

/// <summary>
/// InfoNCE, streamed: kernels.cu section 9, blocks of exactly 256 threads each owning 32 rows. The kernels take the
/// shapes whose dynamic shared memory fits the 48 KB a block gets without opting in (d ≤ 95 in float64 forward, d ≤ 52
/// backward; about twice that in float32); wider rows run the composed reference.
/// </summary>
public sealed partial class CudaBackend
{
    private const int SharedLimit = 48 * 1024;

    /// <summary>Blocks for kernels.cu's 32 owned rows per block (a grid-stride loop takes the rows past the cap).</summary>
    private static long InfoNceBlocks(int rows) => Math.Min((rows + 31L) / 32, 65535L * 32);

    protected override bool InfoNceForwardCore(Tensor a, Tensor c, double invTemperature, Tensor lse, Tensor positive)
    {
        long shared = (64L * a.Cols + 32) * a.DType.SizeInBytes(); // owned rows [32][d], tile [32][d+1]
        if (shared > SharedLimit) return false;
        LaunchShared("infonce_forward", a.DType, InfoNceBlocks(a.Rows), (int)shared,
            a.Rows, a.Cols, Ptr(a), Ptr(c), Scalar(a.DType, invTemperature), Ptr(lse), Ptr(positive));
        return true;
    }

    /// <summary>A grid of (ceil(rows/32), 2): blockIdx.y = 0 writes da, 1 writes dc, each element by one block.</summary>
    protected override bool InfoNceBackwardCore(Tensor a, Tensor c, double invTemperature, Tensor lse, double scale, Tensor? da, Tensor? dc)
    {
        // Owned rows, tile, weights [32][32], sums [32][d], and the tile's 32 lse values.
        long shared = (96L * a.Cols + 1088) * a.DType.SizeInBytes();
        if (shared > SharedLimit) return false;
        device.Launch(KernelSource.Name("infonce_backward", a.DType), InfoNceBlocks(a.Rows), Threads, (int)shared,
            [a.Rows, a.Cols, Ptr(a), Ptr(c), Scalar(a.DType, invTemperature), Ptr(lse), Scalar(a.DType, scale),
             PtrOrNull(da), PtrOrNull(dc)], gridY: 2);
        return true;
    }
}
