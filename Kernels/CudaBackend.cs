using System.Runtime.InteropServices;
using Engine.Kernels.Native;
using static Engine.Kernels.Native.CudaException;

namespace Engine.Kernels;

/// <summary>
/// The backend contract on a GPU: every op is one or a few launches of kernels.cu on the device's stream (GEMM goes
/// to cuBLAS with TF32 off). Tensors live in device memory from the caching allocator. The host waits only in
/// <see cref="Backend.Download{T}"/> (and so <see cref="Tensor.Item"/>), where it reads a value.
/// Not checked on the device: index values of gather/scatter (an out-of-range index faults the kernel; run with
/// SEA_CUDA_DEBUG=1 to have the fault name its kernel), and TopKRows's mask (columns out of range are skipped, row
/// pointers trusted).
/// </summary>
public sealed unsafe partial class CudaBackend(CudaDevice device) : Backend
{
    private const int Threads = 256;

    public CudaDevice Gpu => device;
    public override string Name => "cuda";
    public override Engine.Device Device => Engine.Device.Cuda(device.Ordinal);
    public override string Description => $"CUDA device {device.Ordinal}: {device.Name}, sm_{device.ComputeCapability.Major}{device.ComputeCapability.Minor}, kernels from {device.ModuleOrigin}";

    private sealed class CudaStorage(CudaDevice device, CUdeviceptr pointer, long size) : TensorStorage
    {
        public CUdeviceptr Pointer { get; } = pointer;

        protected override void Free() => device.Release(Pointer, size);
    }

    private static ulong Ptr(Tensor t) => ((CudaStorage)t.Storage).Pointer.Address;

    /// <summary>A tensor that may be absent: null (0) for the kernels that skip it.</summary>
    private static ulong PtrOrNull(Tensor? t) => t is null ? 0UL : Ptr(t);

    private static ulong Ptr(Tensor t, long elementOffset) => Ptr(t) + (ulong)(elementOffset * t.DType.SizeInBytes());

    private static long Blocks(long n) => Math.Min((n + Threads - 1) / Threads, 65535L * 32);

    private void Launch(string op, DType dtype, long blocks, params KernelArg[] args) => LaunchShared(op, dtype, blocks, 0, args);

    /// <summary>A launch with <paramref name="sharedBytes"/> of dynamic shared memory (the size kernels.cu's comment gives).</summary>
    private void LaunchShared(string op, DType dtype, long blocks, int sharedBytes, params KernelArg[] args) =>
        device.Launch(KernelSource.Name(op, dtype), blocks, Threads, sharedBytes, args);

    /// <summary>A scalar argument in the tensor's precision: 4 bytes for float32 (a plain ?: would widen the float back
    /// to a double, 8 bytes where the kernel takes 4).</summary>
    private static KernelArg Scalar(DType dtype, double value) => dtype == DType.Float32 ? (KernelArg)(float)value : (KernelArg)value;

    // ---------------------------------------------------------------- memory

    protected override TensorStorage AllocateCore(long length, DType dtype)
    {
        long bytes = Math.Max(1, length * dtype.SizeInBytes());
        var (pointer, size) = device.Allocate(bytes);
        Check(Driver.cuMemsetD8Async(pointer, 0, (nuint)bytes, device.Stream)); // the contract: zero-filled
        return new CudaStorage(device, pointer, size);
    }

    protected override void UploadCore<T>(ReadOnlySpan<T> src, Tensor dst)
    {
        // Convert on the host to the tensor's dtype, then one copy; the host buffer must outlive the copy, so wait.
        var staged = Staged(src, dst.DType);
        fixed (byte* p = staged)
            Check(Driver.cuMemcpyHtoDAsync_v2(new CUdeviceptr(Ptr(dst)), p, (nuint)staged.Length, device.Stream));
        device.Synchronize();
    }

    protected override void DownloadCore<T>(Tensor src, Span<T> dst)
    {
        var bytes = new byte[src.Length * src.DType.SizeInBytes()];
        fixed (byte* p = bytes)
            Check(Driver.cuMemcpyDtoHAsync_v2(p, new CUdeviceptr(Ptr(src)), (nuint)bytes.Length, device.Stream));
        device.Synchronize();
        switch (src.DType)
        {
            case DType.Float32: HostConversion.Convert<float, T>(MemoryMarshal.Cast<byte, float>(bytes), dst); break;
            case DType.Float64: HostConversion.Convert<double, T>(MemoryMarshal.Cast<byte, double>(bytes), dst); break;
            default: MemoryMarshal.Cast<byte, T>(bytes).CopyTo(dst); break;
        }
    }

    private static byte[] Staged<T>(ReadOnlySpan<T> src, DType dtype) where T : unmanaged
    {
        var bytes = new byte[src.Length * dtype.SizeInBytes()];
        switch (dtype)
        {
            case DType.Float32: HostConversion.Convert(src, MemoryMarshal.Cast<byte, float>(bytes.AsSpan())); break;
            case DType.Float64: HostConversion.Convert(src, MemoryMarshal.Cast<byte, double>(bytes.AsSpan())); break;
            default: MemoryMarshal.AsBytes(src).CopyTo(bytes); break;
        }
        return bytes;
    }

    protected override void CopyCore(Tensor src, Tensor dst) =>
        Check(Driver.cuMemcpyDtoDAsync_v2(new CUdeviceptr(Ptr(dst)), new CUdeviceptr(Ptr(src)), (nuint)(src.Length * src.DType.SizeInBytes()), device.Stream));

    protected override void FillCore(Tensor t, double value)
    {
        switch (t.DType)
        {
            case DType.Int32: device.Launch("fill_i32", Blocks(t.Length), Threads, 0, [t.Length, (int)value, Ptr(t)]); break;
            default: Launch("fill", t.DType, Blocks(t.Length), t.Length, Scalar(t.DType, value), Ptr(t)); break;
        }
    }

    // ---------------------------------------------------------------- elementwise

    protected override void UnaryCore(UnaryOp op, Tensor x, Tensor y, double alpha) =>
        Launch("unary_forward", x.DType, Blocks(x.Length), (int)op, x.Length, Ptr(x), Ptr(y), Scalar(x.DType, alpha));

    protected override void UnaryBackwardCore(UnaryOp op, Tensor x, Tensor y, Tensor dy, Tensor dx, double alpha) =>
        Launch("unary_backward", x.DType, Blocks(x.Length), (int)op, x.Length, Ptr(x), Ptr(y), Ptr(dy), Ptr(dx), Scalar(x.DType, alpha));

    protected override void BinaryCore(BinaryOp op, Tensor a, Tensor b, Tensor y) =>
        Launch("binary_forward", a.DType, Blocks(a.Length), (int)op, a.Rows, a.Cols, Ptr(a), Ptr(b), b.Rows, b.Cols, Ptr(y));

    protected override void BinaryBackwardCore(BinaryOp op, Tensor a, Tensor b, Tensor dy, Tensor? da, Tensor? db)
    {
        if (da is not null)
            Launch("binary_backward_a", a.DType, Blocks(a.Length), (int)op, a.Rows, a.Cols, Ptr(a), Ptr(b), b.Rows, b.Cols, Ptr(dy), Ptr(da));
        if (db is not null)
            Launch("binary_backward_b", a.DType, Blocks(a.Length), (int)op, a.Rows, a.Cols, Ptr(a), Ptr(b), b.Rows, b.Cols, Ptr(dy), Ptr(db));
    }

    protected override void AddScaledCore(Tensor x, double alpha, Tensor y) =>
        Launch("add_scaled", x.DType, Blocks(x.Length), x.Length, Scalar(x.DType, alpha), Ptr(x), Ptr(y));

    // ---------------------------------------------------------------- reductions (fixed-order trees: see kernels.cu section 3)

    /// <summary>kernels.cu's grid for a reduction: one block for everything, a block per 32 columns, or a warp per row.</summary>
    private static long ReductionBlocks(Tensor x, int? dim) => dim switch { null => 1, 0 => (x.Cols + 31) / 32, _ => WarpPerRow(x.Rows) };

    /// <summary>Blocks of 256 threads giving every row its own warp.</summary>
    private static long WarpPerRow(long rows) => Math.Min((rows + 7) / 8, 65535L * 32);

    protected override void ReduceCore(ReduceOp op, Tensor x, Tensor y, int? dim) =>
        Launch("reduce_forward", x.DType, ReductionBlocks(x, dim), (int)op, dim ?? -1, x.Rows, x.Cols, Ptr(x), Ptr(y));

    protected override void ReduceBackwardCore(ReduceOp op, Tensor x, Tensor y, Tensor dy, Tensor dx, int? dim) =>
        Launch("reduce_backward", x.DType, Blocks(x.Length), (int)op, dim ?? -1, x.Rows, x.Cols, Ptr(x), Ptr(y), Ptr(dy), Ptr(dx));

    protected override void LogSumExpRowsCore(Tensor x, Tensor y) =>
        Launch("logsumexp_rows_forward", x.DType, WarpPerRow(x.Rows), x.Rows, x.Cols, Ptr(x), Ptr(y));

    protected override void LogSumExpRowsBackwardCore(Tensor x, Tensor y, Tensor dy, Tensor dx) =>
        Launch("logsumexp_rows_backward", x.DType, Blocks(x.Length), x.Rows, x.Cols, Ptr(x), Ptr(y), Ptr(dy), Ptr(dx));

    // ---------------------------------------------------------------- products

    /// <summary>
    /// Row-major C = op(A)·op(B) is column-major Cᵀ = op(B)ᵀ·op(A)ᵀ, and a row-major matrix is its own transpose in
    /// column-major order: so cuBLAS gets B before A, the same transpose flags, and the row lengths as leading
    /// dimensions. With β = 0 cuBLAS does not read C.
    /// </summary>
    protected override void GemmCore(bool transA, bool transB, double alpha, Tensor a, Tensor b, double beta, Tensor c)
    {
        int m = c.Rows, n = c.Cols, k = transA ? a.Rows : a.Cols;
        if (m == 0 || n == 0) return;
        var opA = transA ? cublasOperation_t.CUBLAS_OP_T : cublasOperation_t.CUBLAS_OP_N;
        var opB = transB ? cublasOperation_t.CUBLAS_OP_T : cublasOperation_t.CUBLAS_OP_N;
        var (pa, pb, pc) = (new CUdeviceptr(Ptr(a)), new CUdeviceptr(Ptr(b)), new CUdeviceptr(Ptr(c)));
        int lda = Math.Max(1, a.Cols), ldb = Math.Max(1, b.Cols), ldc = Math.Max(1, n);
        if (c.DType == DType.Float32)
        {
            float al = (float)alpha, be = (float)beta;
            Check(Cublas.cublasSgemm_v2(device.Blas, opB, opA, n, m, k, &al, pb, ldb, pa, lda, &be, pc, ldc));
        }
        else
        {
            double al = alpha, be = beta;
            Check(Cublas.cublasDgemm_v2(device.Blas, opB, opA, n, m, k, &al, pb, ldb, pa, lda, &be, pc, ldc));
        }
    }

    /// <summary>Our own CSR kernel (a warp per row, entries in column order), deterministic unlike cuSPARSE's transposed products.</summary>
    protected override void SpmmCore(CsrMatrix a, Tensor x, double beta, Tensor y) =>
        Launch("spmm_csr_forward", x.DType, WarpPerRow(a.Rows), a.Rows, x.Cols, Ptr(a.RowPtr), Ptr(a.ColIdx), Ptr(a.Values), Ptr(x), Scalar(x.DType, beta), Ptr(y));

    // ---------------------------------------------------------------- rows and columns

    protected override void GatherRowsCore(Tensor src, Tensor index, Tensor dst) =>
        Launch("gather_rows", src.DType, Blocks(dst.Length), index.Rows, src.Cols, Ptr(src), Ptr(index), Ptr(dst));

    protected override void ScatterAddRowsCore(Tensor src, Tensor index, Tensor dst) =>
        Launch("scatter_add_rows", src.DType, 8 * ((src.Cols + 31) / 32), index.Rows, src.Cols, Ptr(src), Ptr(index), Ptr(dst));

    protected override void CopyBlockCore(Tensor src, int srcRow, int srcCol, Tensor dst, int dstRow, int dstCol, int rows, int cols, bool accumulate) =>
        Launch("copy_block", src.DType, Blocks((long)rows * cols), rows, cols, Ptr(src, (long)srcRow * src.Cols + srcCol), src.Cols,
            Ptr(dst, (long)dstRow * dst.Cols + dstCol), dst.Cols, accumulate ? 1 : 0);

    protected override void RowL2NormalizeCore(Tensor x, Tensor y, double eps) =>
        Launch("row_l2_normalize_forward", x.DType, WarpPerRow(x.Rows), x.Rows, x.Cols, Ptr(x), Ptr(y), Scalar(x.DType, eps));

    protected override void RowL2NormalizeBackwardCore(Tensor x, Tensor y, Tensor dy, Tensor dx, double eps) =>
        Launch("row_l2_normalize_backward", x.DType, WarpPerRow(x.Rows), x.Rows, x.Cols, Ptr(x), Ptr(y), Ptr(dy), Ptr(dx), Scalar(x.DType, eps));

    protected override void SoftmaxRowsCore(Tensor x, Tensor y, bool log) =>
        Launch("softmax_rows_forward", x.DType, WarpPerRow(x.Rows), log ? 1 : 0, x.Rows, x.Cols, Ptr(x), Ptr(y));

    protected override void SoftmaxRowsBackwardCore(Tensor y, Tensor dy, Tensor dx, bool log) =>
        Launch("softmax_rows_backward", y.DType, WarpPerRow(y.Rows), log ? 1 : 0, y.Rows, y.Cols, Ptr(y), Ptr(dy), Ptr(dx));

    protected override void BatchNormCore(Tensor x, Tensor gamma, Tensor beta, Tensor y, Tensor mean, Tensor invStd, double eps) =>
        Launch("batchnorm_forward", x.DType, x.Cols, x.Rows, x.Cols, Ptr(x), Ptr(gamma), Ptr(beta), Ptr(y), Ptr(mean), Ptr(invStd), Scalar(x.DType, eps));

    protected override void BatchNormBackwardCore(Tensor x, Tensor gamma, Tensor mean, Tensor invStd, Tensor dy, Tensor dx, Tensor dGamma, Tensor dBeta) =>
        Launch("batchnorm_backward", x.DType, x.Cols, x.Rows, x.Cols, Ptr(x), Ptr(gamma), Ptr(mean), Ptr(invStd), Ptr(dy), Ptr(dx), Ptr(dGamma), Ptr(dBeta));

    // ---------------------------------------------------------------- selection

    /// <summary>
    /// A block per row (the kernel's grid-stride loop takes the rows past the cap), with the row's mask as a bitmap of
    /// ceil(cols/32) words in dynamic shared memory; an absent mask is a null row-pointer array.
    /// </summary>
    protected override void TopKRowsCore(Tensor scores, Tensor? maskRowPtr, Tensor? maskCols, int k, Tensor result)
    {
        long bitmapBytes = (scores.Cols + 31L) / 32 * sizeof(uint);
        // Without opting in (cuFuncSetAttribute) a block gets 48 KB of shared memory, the kernel's own (≤ 384 bytes) included.
        if (bitmapBytes > 47 * 1024)
            throw new EngineException(nameof(TopKRows), $"{scores.Cols} columns need a {bitmapBytes}-byte mask bitmap in shared memory; at most 47 KB is supported");
        LaunchShared("topk_rows", scores.DType, Math.Min(scores.Rows, 65535L * 32), (int)bitmapBytes,
            scores.Rows, scores.Cols, Ptr(scores), PtrOrNull(maskRowPtr), PtrOrNull(maskCols), k, Ptr(result));
    }

    // ---------------------------------------------------------------- optimisation

    protected override void AdamStepCore(Tensor param, Tensor grad, Tensor m, Tensor v, double lr, double beta1, double beta2, double eps, double weightDecay, int step)
    {
        var t = param.DType;
        Launch("adam_step", t, Blocks(param.Length),
            [param.Length, Ptr(param), Ptr(grad), Ptr(m), Ptr(v), .. AdamConstants(t, lr, beta1, beta2, eps, weightDecay, step)]);
    }

    /// <summary>
    /// kernels.cu's adam_update constants for step <paramref name="step"/> (stepSize, bc2Sqrt, 1 − β1, β2, 1 − β2, ε,
    /// weight decay): the bias corrections in double on the host, as the CPU backend and PyTorch compute them.
    /// </summary>
    private static KernelArg[] AdamConstants(DType t, double lr, double beta1, double beta2, double eps, double weightDecay, int step)
    {
        double bc1 = 1 - Math.Pow(beta1, step), bc2 = 1 - Math.Pow(beta2, step);
        return [Scalar(t, lr / bc1), Scalar(t, Math.Sqrt(bc2)), Scalar(t, 1 - beta1), Scalar(t, beta2), Scalar(t, 1 - beta2), Scalar(t, eps), Scalar(t, weightDecay)];
    }

    public override void Dispose()
    {
        device.Dispose();
        base.Dispose();
    }
}
