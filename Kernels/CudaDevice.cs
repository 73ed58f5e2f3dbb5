using System.Text;
using Engine.Kernels.Native;
using static Engine.Kernels.Native.CudaException;

namespace Engine.Kernels;

/// <summary>
/// One GPU as the engine uses it: its primary context (shared with cuBLAS), one stream that all work goes to, a
/// cuBLAS handle on that stream, the kernels of kernels.cu loaded as a module, and a caching allocator.
/// Work is asynchronous; the host waits only where it reads a value (<see cref="Synchronize"/>), or after every
/// launch when <see cref="DebugSync"/> is on (SEA_CUDA_DEBUG=1), so that a fault names its kernel.
/// </summary>
public sealed unsafe class CudaDevice : IDisposable
{
    private readonly CUdevice device;
    private readonly Dictionary<string, CUfunction> functions = [];
    private readonly CachingAllocator allocator;
    private CUmodule module;
    private bool disposed;

    private CudaDevice(int ordinal)
    {
        Check(Driver.cuInit(0));
        CUdevice d;
        Check(Driver.cuDeviceGet(&d, ordinal));
        device = d;
        CUcontext context;
        Check(Driver.cuDevicePrimaryCtxRetain(&context, device));
        Check(Driver.cuCtxSetCurrent(context));
        CUstream stream;
        Check(Driver.cuStreamCreate(&stream, CUstream_flags.CU_STREAM_NON_BLOCKING));
        Stream = stream;
        cublasHandle_t blas;
        Check(Cublas.cublasCreate_v2(&blas));
        Blas = blas;
        Check(Cublas.cublasSetStream_v2(Blas, Stream));
        // Pedantic math: no TF32, so float32 products match the CPU reference to float32 rounding.
        Check(Cublas.cublasSetMathMode(Blas, cublasMath_t.CUBLAS_PEDANTIC_MATH));
        Ordinal = ordinal;
        Name = Driver.DeviceName(device);
        ComputeCapability = (Driver.Attribute(device, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR),
                             Driver.Attribute(device, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR));
        allocator = new CachingAllocator(AllocateFromDriver, p => Check(Driver.cuMemFree_v2(new CUdeviceptr(p))),
            caching: Environment.GetEnvironmentVariable("SEA_CUDA_NO_CACHING") is not ("1" or "true"));
        DebugSync = Environment.GetEnvironmentVariable("SEA_CUDA_DEBUG") is "1" or "true";
        (module, ModuleOrigin) = KernelModule.Load(ComputeCapability);
    }

    /// <summary>Opens the GPU with this ordinal; throws a <see cref="CudaException"/> or <see cref="DllNotFoundException"/> saying why it cannot.</summary>
    public static CudaDevice Open(int ordinal = 0) => new(ordinal);

    public int Ordinal { get; }
    public string Name { get; }
    public (int Major, int Minor) ComputeCapability { get; }

    /// <summary>Where the kernels came from: a prebuilt fatbin, the NVRTC disk cache, or a fresh NVRTC compilation.</summary>
    public string ModuleOrigin { get; }

    public bool DebugSync { get; set; }
    internal CUstream Stream { get; }
    internal cublasHandle_t Blas { get; }

    /// <summary>Device allocations made so far; constant across training steps once warmed up.</summary>
    public int DriverAllocations => allocator.DriverAllocations;

    internal (CUdeviceptr Pointer, long Bytes) Allocate(long bytes)
    {
        var (pointer, size) = allocator.Rent(bytes);
        return (new CUdeviceptr(pointer), size);
    }

    internal void Release(CUdeviceptr pointer, long size) => allocator.Return(pointer.Address, size);

    private ulong AllocateFromDriver(long bytes)
    {
        CUdeviceptr pointer;
        var result = Driver.cuMemAlloc_v2(&pointer, (nuint)bytes);
        if (result == CUresult.CUDA_ERROR_OUT_OF_MEMORY)
        {
            // Cached blocks of other sizes may be what is missing: give them back and try once more.
            allocator.Trim();
            result = Driver.cuMemAlloc_v2(&pointer, (nuint)bytes);
        }
        Check(result, $"cuMemAlloc_v2({bytes} bytes)");
        return pointer.Address;
    }

    /// <summary>Waits until everything queued on the stream has run, and surfaces any asynchronous error.</summary>
    public void Synchronize() => Check(Driver.cuStreamSynchronize(Stream));

    /// <summary>
    /// Queues kernel <paramref name="name"/> on the stream with a grid of <paramref name="blocks"/> × <paramref name="gridY"/>
    /// blocks (a second dimension only where the kernel's comment asks for one). The arguments travel as one packed buffer
    /// (cuLaunchKernel's <c>extra</c>: CU_LAUNCH_PARAM_BUFFER_POINTER and _SIZE), so the launch states how many bytes of
    /// parameters it passes and a driver can hold that to the kernel's signature.
    /// </summary>
    internal void Launch(string name, long blocks, int threads, int sharedBytes, ReadOnlySpan<KernelArg> args, uint gridY = 1)
    {
        if (blocks <= 0) return;
        var function = Function(name);
        byte* buffer = stackalloc byte[8 * args.Length];
        nuint size = (nuint)KernelArg.Pack(args, new Span<byte>(buffer, 8 * args.Length));
        void** extra = stackalloc void*[5];
        extra[0] = (void*)1; // CU_LAUNCH_PARAM_BUFFER_POINTER
        extra[1] = buffer;
        extra[2] = (void*)2; // CU_LAUNCH_PARAM_BUFFER_SIZE
        extra[3] = &size;
        extra[4] = null;     // CU_LAUNCH_PARAM_END
        uint grid = (uint)Math.Min(blocks, int.MaxValue);
        Check(Driver.cuLaunchKernel(function, grid, gridY, 1, (uint)threads, 1, 1, (uint)sharedBytes, Stream, null, extra), name);
        if (DebugSync) Check(Driver.cuStreamSynchronize(Stream), $"{name} (synchronised by SEA_CUDA_DEBUG)");
    }

    private CUfunction Function(string name)
    {
        if (functions.TryGetValue(name, out var f)) return f;
        var bytes = Encoding.ASCII.GetBytes(name + "\0");
        fixed (byte* p = bytes)
        {
            CUfunction found;
            Check(Driver.cuModuleGetFunction(&found, module, p), $"cuModuleGetFunction({name})");
            functions[name] = found;
            return found;
        }
    }

    public void Dispose()
    {
        if (disposed) return;
        disposed = true;
        Driver.cuStreamSynchronize(Stream);
        allocator.Trim();
        Cublas.cublasDestroy_v2(Blas);
        Driver.cuModuleUnload(module);
        Driver.cuStreamDestroy_v2(Stream);
        Driver.cuDevicePrimaryCtxRelease_v2(device);
        module = default;
    }
}

/// <summary>
/// Loads kernels.cu's kernels: a prebuilt fatbin when one is named (SEA_KERNELS) or ships beside the assembly
/// (kernels.fatbin from CMakeLists.txt), else the embedded source compiled by <see cref="KernelCompiler"/> for this
/// GPU's architecture, cached on disk under a key of source hash, target and NVRTC version. A compile error carries
/// NVRTC's log; a log on success (warnings) goes to stderr and into the origin.
/// </summary>
internal static unsafe class KernelModule
{
    public static (CUmodule Module, string Origin) Load((int Major, int Minor) capability)
    {
        var prebuilt = Environment.GetEnvironmentVariable("SEA_KERNELS") is { Length: > 0 } named ? named
            : Path.Combine(AppContext.BaseDirectory, "kernels.fatbin");
        if (File.Exists(prebuilt)) return (FromImage(File.ReadAllBytes(prebuilt)), $"prebuilt {prebuilt}");

        var (major, minor) = KernelCompiler.NvrtcVersion();
        var target = KernelCompiler.Target(capability, (major, minor));
        string cacheFolder = Path.Combine(Engine.IO.CacheFolder.Root, "kernels");
        string cached = Path.Combine(cacheFolder, $"kernels-{KernelSource.Hash}-{target.Architecture}-nvrtc{major}.{minor}.{target.ImageKind.ToLowerInvariant()}");
        if (File.Exists(cached)) return (FromImage(File.ReadAllBytes(cached)), $"NVRTC cache {cached}");

        var compiled = KernelCompiler.Compile(target);
        Engine.IO.AtomicFile.Write(cached, s => s.Write(compiled.Image));
        string origin = $"NVRTC {major}.{minor} for {target.Architecture} ({target.ImageKind}), cached at {cached}";
        if (compiled.Log.Length == 0) return (FromImage(compiled.Image), origin);
        Console.Error.WriteLine($"sea: warning: NVRTC compiled kernels.cu with this log:\n{compiled.Log}");
        return (FromImage(compiled.Image), $"{origin}; NVRTC's log: {compiled.Log}");
    }

    private static CUmodule FromImage(byte[] image)
    {
        fixed (byte* p = image)
        {
            CUmodule module;
            Check(Driver.cuModuleLoadData(&module, p));
            return module;
        }
    }
}
