using Engine.Kernels.Native;

namespace Engine.Kernels.Tests;

/// <summary>
/// The bindings against a real device: each test is skipped, with the probe's reason, where there is none. Small
/// problems with answers worked out by hand, so a wrong argument order or a wrong enum value shows as a wrong number.
/// </summary>
[Trait("Category", Category.Cuda)]
public unsafe class GpuBindingTests
{
    /// <summary>The device's primary context made current, and a non-blocking stream on it; released on dispose.</summary>
    private sealed class Session : IDisposable
    {
        public readonly CUdevice Device;
        public readonly CUstream Stream;
        private readonly List<CUdeviceptr> allocations = [];

        public Session()
        {
            CUdevice device;
            CudaException.Check(Driver.cuDeviceGet(&device, 0));
            Device = device;
            CUcontext context;
            CudaException.Check(Driver.cuDevicePrimaryCtxRetain(&context, Device));
            CudaException.Check(Driver.cuCtxSetCurrent(context));
            CUstream stream;
            CudaException.Check(Driver.cuStreamCreate(&stream, CUstream_flags.CU_STREAM_NON_BLOCKING));
            Stream = stream;
        }

        public CUdeviceptr Alloc(long bytes)
        {
            CUdeviceptr pointer;
            CudaException.Check(Driver.cuMemAlloc_v2(&pointer, (nuint)Math.Max(bytes, 1)));
            allocations.Add(pointer);
            return pointer;
        }

        public CUdeviceptr Upload<T>(T[] data) where T : unmanaged
        {
            var pointer = Alloc((long)data.Length * sizeof(T));
            fixed (T* source = data)
                CudaException.Check(Driver.cuMemcpyHtoDAsync_v2(pointer, source, (nuint)(data.Length * sizeof(T)), Stream));
            CudaException.Check(Driver.cuStreamSynchronize(Stream)); // the source array is unpinned when this returns
            return pointer;
        }

        public T[] Download<T>(CUdeviceptr pointer, int count) where T : unmanaged
        {
            var data = new T[count];
            fixed (T* target = data)
            {
                CudaException.Check(Driver.cuMemcpyDtoHAsync_v2(target, pointer, (nuint)(count * sizeof(T)), Stream));
                CudaException.Check(Driver.cuStreamSynchronize(Stream));
            }
            return data;
        }

        public void Dispose()
        {
            CudaException.Check(Driver.cuStreamSynchronize(Stream));
            foreach (var pointer in allocations)
                CudaException.Check(Driver.cuMemFree_v2(pointer));
            CudaException.Check(Driver.cuStreamDestroy_v2(Stream));
            CudaException.Check(Driver.cuDevicePrimaryCtxRelease_v2(Device));
        }
    }

    [Fact]
    public void Memory_set_copy_and_pinned_buffers_round_trip()
    {
        Gpu.Require();
        using var session = new Session();
        nuint free, total;
        CudaException.Check(Driver.cuMemGetInfo_v2(&free, &total));
        Assert.True(free > 0 && free <= total);

        const int n = 1000;
        var a = session.Alloc(n * sizeof(float));
        var b = session.Alloc(n * sizeof(float));
        CudaException.Check(Driver.cuMemsetD32Async(a, BitConverter.SingleToUInt32Bits(1.5f), n, session.Stream));
        CudaException.Check(Driver.cuMemcpyDtoDAsync_v2(b, a, n * sizeof(float), session.Stream));
        CudaException.Check(Driver.cuMemsetD8Async(a, 0, n * sizeof(float), session.Stream));
        Assert.All(session.Download<float>(b, n), v => Assert.Equal(1.5f, v));
        Assert.All(session.Download<float>(a, n), v => Assert.Equal(0f, v));

        void* pinned;
        CudaException.Check(Driver.cuMemHostAlloc(&pinned, n * sizeof(float), 0));
        try
        {
            CudaException.Check(Driver.cuMemcpyDtoHAsync_v2(pinned, b, n * sizeof(float), session.Stream));
            CudaException.Check(Driver.cuStreamSynchronize(session.Stream));
            Assert.All(new Span<float>(pinned, n).ToArray(), v => Assert.Equal(1.5f, v));
        }
        finally
        {
            CudaException.Check(Driver.cuMemFreeHost(pinned));
        }
    }

    /// <summary>kernels.cu compiled for this device as the runtime compiles it, its add_scaled_f32 (y += α·x) launched
    /// through kernelParams (one pointer per argument: the other way to pass them) between two timed events.</summary>
    [Fact]
    public void An_NVRTC_compiled_kernel_loads_launches_and_is_timed()
    {
        var device = Gpu.Require().Devices[0];
        var compiled = KernelCompiler.Compile(KernelCompiler.Target((device.ComputeCapabilityMajor, device.ComputeCapabilityMinor), KernelCompiler.NvrtcVersion()));
        Assert.True(compiled.Log.Length == 0, compiled.Log);

        using var session = new Session();
        CUmodule module;
        fixed (byte* image = compiled.Image)
            CudaException.Check(Driver.cuModuleLoadData(&module, image));
        try
        {
            CUfunction function;
            fixed (byte* name = "add_scaled_f32\0"u8)
                CudaException.Check(Driver.cuModuleGetFunction(&function, module, name));

            const int n = 1000;
            var x = session.Upload(Enumerable.Range(0, n).Select(i => (float)i).ToArray());
            var y = session.Upload(Enumerable.Repeat(3f, n).ToArray());
            CUevent start, stop;
            CudaException.Check(Driver.cuEventCreate(&start, CUevent_flags.CU_EVENT_DEFAULT));
            CudaException.Check(Driver.cuEventCreate(&stop, CUevent_flags.CU_EVENT_DEFAULT));
            long count = n;
            float alpha = 2;
            ulong xAddress = x.Address, yAddress = y.Address;
            void** arguments = stackalloc void*[] { &count, &alpha, &xAddress, &yAddress };
            CudaException.Check(Driver.cuEventRecord(start, session.Stream));
            CudaException.Check(Driver.cuLaunchKernel(function, (n + 255) / 256, 1, 1, 256, 1, 1, 0, session.Stream, arguments, null));
            CudaException.Check(Driver.cuEventRecord(stop, session.Stream));
            CudaException.Check(Driver.cuEventSynchronize(stop));
            float milliseconds;
            CudaException.Check(Driver.cuEventElapsedTime(&milliseconds, start, stop));
            Assert.True(milliseconds >= 0);
            CudaException.Check(Driver.cuEventDestroy_v2(start));
            CudaException.Check(Driver.cuEventDestroy_v2(stop));
            CudaException.Check(Driver.cuCtxSynchronize());

            var result = session.Download<float>(y, n);
            for (int i = 0; i < n; i++)
                Assert.Equal(2f * i + 3f, result[i]);
        }
        finally
        {
            CudaException.Check(Driver.cuModuleUnload(module));
        }
    }

    [Fact]
    public void A_module_loads_from_PTX_with_JIT_options()
    {
        var device = Gpu.Require().Devices[0];
        // The device's virtual architecture: PTX only, which the driver compiles when the module loads.
        var target = KernelCompiler.Target($"compute_{device.ComputeCapabilityMajor}{device.ComputeCapabilityMinor}", KernelCompiler.NvrtcVersion());
        Assert.False(target.Cubin);
        var ptx = KernelCompiler.Compile(target).Image;
        Assert.Equal(0, ptx[^1]);
        using var session = new Session();
        var log = new byte[4096];
        CUmodule module;
        fixed (byte* image = ptx, errors = log)
        {
            CUjit_option* options = stackalloc CUjit_option[] { CUjit_option.CU_JIT_ERROR_LOG_BUFFER, CUjit_option.CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES };
            void** values = stackalloc void*[] { errors, (void*)(nint)log.Length };
            var result = Driver.cuModuleLoadDataEx(&module, image, 2, options, values);
            Assert.True(result == CUresult.CUDA_SUCCESS, $"{result}: {System.Text.Encoding.UTF8.GetString(log).TrimEnd('\0')}");
        }
        CUfunction function;
        fixed (byte* name = "fill_f64\0"u8)
            CudaException.Check(Driver.cuModuleGetFunction(&function, module, name));
        CudaException.Check(Driver.cuModuleUnload(module));
    }

    [Fact]
    public void A_compile_error_comes_back_as_NVRTC_ERROR_COMPILATION_with_a_log()
    {
        Gpu.Require();
        var program = Nvrtc.CreateProgram("""extern "C" __global__ void broken() { undeclared = 1; }""", "broken.cu");
        try
        {
            Assert.Equal(nvrtcResult.NVRTC_ERROR_COMPILATION, Nvrtc.CompileProgram(program, []));
            Assert.Contains("undeclared", Nvrtc.ProgramLog(program));
        }
        finally
        {
            Nvrtc.DestroyProgram(program);
        }
    }

    [Fact]
    public void cuBLAS_multiplies_column_major_matrices()
    {
        Gpu.Require();
        using var session = new Session();
        cublasHandle_t handle;
        CudaException.Check(Cublas.cublasCreate_v2(&handle));
        try
        {
            CudaException.Check(Cublas.cublasSetStream_v2(handle, session.Stream));
            CudaException.Check(Cublas.cublasSetMathMode(handle, cublasMath_t.CUBLAS_PEDANTIC_MATH));
            int version;
            CudaException.Check(Cublas.cublasGetVersion_v2(handle, &version));
            Assert.True(version >= 110000, $"cuBLAS version {version}");

            // A is 2×3, B is 3×2, column-major: A = [1 2 3; 4 5 6], B = [7 8; 9 10; 11 12]; A·B = [58 64; 139 154].
            var a = session.Upload(new double[] { 1, 4, 2, 5, 3, 6 });
            var b = session.Upload(new double[] { 7, 9, 11, 8, 10, 12 });
            var c = session.Upload(new double[] { 1, 1, 1, 1 });
            double alpha = 1, beta = 1; // C accumulates
            CudaException.Check(Cublas.cublasDgemm_v2(handle, cublasOperation_t.CUBLAS_OP_N, cublasOperation_t.CUBLAS_OP_N,
                2, 2, 3, &alpha, a, 2, b, 3, &beta, c, 2));
            Assert.Equal(new double[] { 59, 140, 65, 155 }, session.Download<double>(c, 4));

            // Two batches of (Aᵀ)·x for 1×… shapes: C_i (1×1) = A_iᵀ (1×2) · B_i (2×1).
            var batchA = session.Upload(new float[] { 1, 2, 3, 4 });
            var batchB = session.Upload(new float[] { 5, 6, 7, 8 });
            var batchC = session.Upload(new float[] { 0, 0 });
            float one = 1, zero = 0;
            CudaException.Check(Cublas.cublasSgemmStridedBatched(handle, cublasOperation_t.CUBLAS_OP_T, cublasOperation_t.CUBLAS_OP_N,
                1, 1, 2, &one, batchA, 2, 2, batchB, 2, 2, &zero, batchC, 1, 1, 2));
            Assert.Equal(new float[] { 1 * 5 + 2 * 6, 3 * 7 + 4 * 8 }, session.Download<float>(batchC, 2));
        }
        finally
        {
            CudaException.Check(Cublas.cublasDestroy_v2(handle));
        }
    }
}
