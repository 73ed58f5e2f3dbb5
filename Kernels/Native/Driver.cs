using System.Runtime.InteropServices;

namespace Engine.Kernels.Native;

// Handles of the CUDA driver API (cuda.h), one type each so that a stream cannot be passed where an event belongs.
// Each is exactly the size of the C handle, so they cross the boundary as they are.

/// <summary>CUdevice: a device ordinal, as returned by cuDeviceGet.</summary>
public readonly record struct CUdevice(int Ordinal);

/// <summary>CUcontext (struct CUctx_st*).</summary>
public readonly record struct CUcontext(IntPtr Handle)
{
    public bool IsNull => Handle == IntPtr.Zero;
}

/// <summary>CUmodule (struct CUmod_st*).</summary>
public readonly record struct CUmodule(IntPtr Handle)
{
    public bool IsNull => Handle == IntPtr.Zero;
}

/// <summary>CUfunction (struct CUfunc_st*).</summary>
public readonly record struct CUfunction(IntPtr Handle)
{
    public bool IsNull => Handle == IntPtr.Zero;
}

/// <summary>CUstream (struct CUstream_st*); also what cuBLAS takes as cudaStream_t.</summary>
public readonly record struct CUstream(IntPtr Handle)
{
    /// <summary>The legacy default stream (NULL), which synchronises with every other blocking stream.</summary>
    public static CUstream Default => default;

    public bool IsNull => Handle == IntPtr.Zero;
}

/// <summary>CUevent (struct CUevent_st*).</summary>
public readonly record struct CUevent(IntPtr Handle)
{
    public bool IsNull => Handle == IntPtr.Zero;
}

/// <summary>CUdeviceptr: a device address, an unsigned 64-bit integer on every 64-bit platform (cuda.h:
/// <c>typedef unsigned long long CUdeviceptr_v2</c> under <c>__LP64__</c>).</summary>
public readonly record struct CUdeviceptr(ulong Address)
{
    public bool IsNull => Address == 0;

    /// <summary>The address <paramref name="bytes"/> further on.</summary>
    public CUdeviceptr Offset(long bytes) => new(unchecked(Address + (ulong)bytes));

    public override string ToString() => $"0x{Address:x}";
}

/// <summary>CUresult (cuda.h, <c>enum cudaError_enum</c>). The values the engine names; others still arrive and are
/// named by cuGetErrorName when the driver is loaded.</summary>
public enum CUresult
{
    CUDA_SUCCESS = 0,
    CUDA_ERROR_INVALID_VALUE = 1,
    CUDA_ERROR_OUT_OF_MEMORY = 2,
    CUDA_ERROR_NOT_INITIALIZED = 3,
    CUDA_ERROR_DEINITIALIZED = 4,
    CUDA_ERROR_PROFILER_DISABLED = 5,
    CUDA_ERROR_STUB_LIBRARY = 34,
    CUDA_ERROR_DEVICE_UNAVAILABLE = 46,
    CUDA_ERROR_NO_DEVICE = 100,
    CUDA_ERROR_INVALID_DEVICE = 101,
    CUDA_ERROR_DEVICE_NOT_LICENSED = 102,
    CUDA_ERROR_INVALID_IMAGE = 200,
    CUDA_ERROR_INVALID_CONTEXT = 201,
    CUDA_ERROR_MAP_FAILED = 205,
    CUDA_ERROR_UNMAP_FAILED = 206,
    CUDA_ERROR_NO_BINARY_FOR_GPU = 209,
    CUDA_ERROR_ECC_UNCORRECTABLE = 214,
    CUDA_ERROR_UNSUPPORTED_LIMIT = 215,
    CUDA_ERROR_CONTEXT_ALREADY_IN_USE = 216,
    CUDA_ERROR_INVALID_PTX = 218,
    CUDA_ERROR_NVLINK_UNCORRECTABLE = 220,
    CUDA_ERROR_JIT_COMPILER_NOT_FOUND = 221,
    CUDA_ERROR_UNSUPPORTED_PTX_VERSION = 222,
    CUDA_ERROR_JIT_COMPILATION_DISABLED = 223,
    CUDA_ERROR_INVALID_SOURCE = 300,
    CUDA_ERROR_FILE_NOT_FOUND = 301,
    CUDA_ERROR_SHARED_OBJECT_SYMBOL_NOT_FOUND = 302,
    CUDA_ERROR_SHARED_OBJECT_INIT_FAILED = 303,
    CUDA_ERROR_OPERATING_SYSTEM = 304,
    CUDA_ERROR_INVALID_HANDLE = 400,
    CUDA_ERROR_ILLEGAL_STATE = 401,
    CUDA_ERROR_NOT_FOUND = 500,
    CUDA_ERROR_NOT_READY = 600,
    CUDA_ERROR_ILLEGAL_ADDRESS = 700,
    CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES = 701,
    CUDA_ERROR_LAUNCH_TIMEOUT = 702,
    CUDA_ERROR_LAUNCH_INCOMPATIBLE_TEXTURING = 703,
    CUDA_ERROR_PRIMARY_CONTEXT_ACTIVE = 708,
    CUDA_ERROR_CONTEXT_IS_DESTROYED = 709,
    CUDA_ERROR_ASSERT = 710,
    CUDA_ERROR_HARDWARE_STACK_ERROR = 714,
    CUDA_ERROR_ILLEGAL_INSTRUCTION = 715,
    CUDA_ERROR_MISALIGNED_ADDRESS = 716,
    CUDA_ERROR_INVALID_ADDRESS_SPACE = 717,
    CUDA_ERROR_INVALID_PC = 718,
    CUDA_ERROR_LAUNCH_FAILED = 719,
    CUDA_ERROR_COOPERATIVE_LAUNCH_TOO_LARGE = 720,
    CUDA_ERROR_NOT_PERMITTED = 800,
    CUDA_ERROR_NOT_SUPPORTED = 801,
    CUDA_ERROR_SYSTEM_NOT_READY = 802,
    CUDA_ERROR_SYSTEM_DRIVER_MISMATCH = 803,
    CUDA_ERROR_COMPAT_NOT_SUPPORTED_ON_DEVICE = 804,
    CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED = 900,
    CUDA_ERROR_STREAM_CAPTURE_INVALIDATED = 901,
    CUDA_ERROR_TIMEOUT = 909,
    CUDA_ERROR_UNKNOWN = 999,
}

/// <summary>CUdevice_attribute (cuda.h, <c>enum CUdevice_attribute_enum</c>): the ids the engine reads.</summary>
public enum CUdevice_attribute
{
    CU_DEVICE_ATTRIBUTE_MAX_THREADS_PER_BLOCK = 1,
    CU_DEVICE_ATTRIBUTE_MAX_BLOCK_DIM_X = 2,
    CU_DEVICE_ATTRIBUTE_MAX_BLOCK_DIM_Y = 3,
    CU_DEVICE_ATTRIBUTE_MAX_BLOCK_DIM_Z = 4,
    CU_DEVICE_ATTRIBUTE_MAX_GRID_DIM_X = 5,
    CU_DEVICE_ATTRIBUTE_MAX_GRID_DIM_Y = 6,
    CU_DEVICE_ATTRIBUTE_MAX_GRID_DIM_Z = 7,
    CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK = 8,
    CU_DEVICE_ATTRIBUTE_TOTAL_CONSTANT_MEMORY = 9,
    CU_DEVICE_ATTRIBUTE_WARP_SIZE = 10,
    CU_DEVICE_ATTRIBUTE_MAX_REGISTERS_PER_BLOCK = 12,
    CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT = 16,
    CU_DEVICE_ATTRIBUTE_INTEGRATED = 18,
    CU_DEVICE_ATTRIBUTE_COMPUTE_MODE = 20,
    CU_DEVICE_ATTRIBUTE_PCI_BUS_ID = 33,
    CU_DEVICE_ATTRIBUTE_PCI_DEVICE_ID = 34,
    CU_DEVICE_ATTRIBUTE_GLOBAL_MEMORY_BUS_WIDTH = 37,
    CU_DEVICE_ATTRIBUTE_L2_CACHE_SIZE = 38,
    CU_DEVICE_ATTRIBUTE_MAX_THREADS_PER_MULTIPROCESSOR = 39,
    CU_DEVICE_ATTRIBUTE_UNIFIED_ADDRESSING = 41,
    CU_DEVICE_ATTRIBUTE_PCI_DOMAIN_ID = 50,
    CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR = 75,
    CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR = 76,
    CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_MULTIPROCESSOR = 81,
    CU_DEVICE_ATTRIBUTE_MAX_REGISTERS_PER_MULTIPROCESSOR = 82,
    CU_DEVICE_ATTRIBUTE_MANAGED_MEMORY = 83,
    CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN = 97,
    CU_DEVICE_ATTRIBUTE_MAX_BLOCKS_PER_MULTIPROCESSOR = 106,
}

/// <summary>CUjit_option (cuda.h, <c>enum CUjit_option_enum</c>), for cuModuleLoadDataEx: the first fifteen, numbered
/// implicitly from 0 in the header.</summary>
public enum CUjit_option
{
    CU_JIT_MAX_REGISTERS = 0,
    CU_JIT_THREADS_PER_BLOCK = 1,
    CU_JIT_WALL_TIME = 2,
    CU_JIT_INFO_LOG_BUFFER = 3,
    CU_JIT_INFO_LOG_BUFFER_SIZE_BYTES = 4,
    CU_JIT_ERROR_LOG_BUFFER = 5,
    CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES = 6,
    CU_JIT_OPTIMIZATION_LEVEL = 7,
    CU_JIT_TARGET_FROM_CUCONTEXT = 8,
    CU_JIT_TARGET = 9,
    CU_JIT_FALLBACK_STRATEGY = 10,
    CU_JIT_GENERATE_DEBUG_INFO = 11,
    CU_JIT_LOG_VERBOSE = 12,
    CU_JIT_GENERATE_LINE_INFO = 13,
    CU_JIT_CACHE_MODE = 14,
}

/// <summary>CUstream_flags (cuda.h), for cuStreamCreate.</summary>
[Flags]
public enum CUstream_flags : uint
{
    CU_STREAM_DEFAULT = 0x0,
    /// <summary>Does not synchronise with the legacy default stream.</summary>
    CU_STREAM_NON_BLOCKING = 0x1,
}

/// <summary>CUevent_flags (cuda.h), for cuEventCreate.</summary>
[Flags]
public enum CUevent_flags : uint
{
    CU_EVENT_DEFAULT = 0x0,
    CU_EVENT_BLOCKING_SYNC = 0x1,
    CU_EVENT_DISABLE_TIMING = 0x2,
    CU_EVENT_INTERPROCESS = 0x4,
}

/// <summary>
/// The CUDA driver API (libcuda.so.1), bound symbol for symbol: each method carries the exact exported name
/// (<c>_v2</c> where cuda.h maps the plain name onto it), and every argument crosses as it is, pointers included.
/// Nothing here checks a result; callers wrap each call in <see cref="CudaException.Check(CUresult, string)"/>.
/// </summary>
internal static unsafe partial class Driver
{
    /// <summary>Flags for cuMemHostAlloc (cuda.h <c>CU_MEMHOSTALLOC_*</c>).</summary>
    internal const uint CU_MEMHOSTALLOC_PORTABLE = 0x01, CU_MEMHOSTALLOC_DEVICEMAP = 0x02, CU_MEMHOSTALLOC_WRITECOMBINED = 0x04;

    private const string Lib = CudaLibraries.DriverLibrary;

    static Driver() => CudaLibraries.EnsureRegistered();

    // Initialisation and version
    [LibraryImport(Lib)] internal static partial CUresult cuInit(uint Flags);
    [LibraryImport(Lib)] internal static partial CUresult cuDriverGetVersion(int* driverVersion);

    // Devices
    [LibraryImport(Lib)] internal static partial CUresult cuDeviceGetCount(int* count);
    [LibraryImport(Lib)] internal static partial CUresult cuDeviceGet(CUdevice* device, int ordinal);
    [LibraryImport(Lib)] internal static partial CUresult cuDeviceGetName(byte* name, int len, CUdevice dev);
    [LibraryImport(Lib)] internal static partial CUresult cuDeviceGetAttribute(int* pi, CUdevice_attribute attrib, CUdevice dev);
    [LibraryImport(Lib)] internal static partial CUresult cuDeviceTotalMem_v2(nuint* bytes, CUdevice dev);

    // Primary context: one per device, shared with cuBLAS.
    [LibraryImport(Lib)] internal static partial CUresult cuDevicePrimaryCtxRetain(CUcontext* pctx, CUdevice dev);
    [LibraryImport(Lib)] internal static partial CUresult cuDevicePrimaryCtxRelease_v2(CUdevice dev);
    [LibraryImport(Lib)] internal static partial CUresult cuCtxSetCurrent(CUcontext ctx);
    [LibraryImport(Lib)] internal static partial CUresult cuCtxSynchronize();

    // Memory
    [LibraryImport(Lib)] internal static partial CUresult cuMemGetInfo_v2(nuint* free, nuint* total);
    [LibraryImport(Lib)] internal static partial CUresult cuMemAlloc_v2(CUdeviceptr* dptr, nuint bytesize);
    [LibraryImport(Lib)] internal static partial CUresult cuMemFree_v2(CUdeviceptr dptr);
    [LibraryImport(Lib)] internal static partial CUresult cuMemcpyHtoDAsync_v2(CUdeviceptr dstDevice, void* srcHost, nuint ByteCount, CUstream hStream);
    [LibraryImport(Lib)] internal static partial CUresult cuMemcpyDtoHAsync_v2(void* dstHost, CUdeviceptr srcDevice, nuint ByteCount, CUstream hStream);
    [LibraryImport(Lib)] internal static partial CUresult cuMemcpyDtoDAsync_v2(CUdeviceptr dstDevice, CUdeviceptr srcDevice, nuint ByteCount, CUstream hStream);
    [LibraryImport(Lib)] internal static partial CUresult cuMemsetD8Async(CUdeviceptr dstDevice, byte uc, nuint N, CUstream hStream);
    [LibraryImport(Lib)] internal static partial CUresult cuMemsetD32Async(CUdeviceptr dstDevice, uint ui, nuint N, CUstream hStream);
    /// <summary>Page-locked host memory, so asynchronous copies really are asynchronous.</summary>
    [LibraryImport(Lib)] internal static partial CUresult cuMemHostAlloc(void** pp, nuint bytesize, uint Flags);
    [LibraryImport(Lib)] internal static partial CUresult cuMemFreeHost(void* p);

    // Modules and launches
    [LibraryImport(Lib)] internal static partial CUresult cuModuleLoadData(CUmodule* module, void* image);
    [LibraryImport(Lib)] internal static partial CUresult cuModuleLoadDataEx(CUmodule* module, void* image, uint numOptions, CUjit_option* options, void** optionValues);
    /// <param name="name">The kernel's name as a NUL-terminated UTF-8 string (extern "C", so unmangled).</param>
    [LibraryImport(Lib)] internal static partial CUresult cuModuleGetFunction(CUfunction* hfunc, CUmodule hmod, byte* name);
    [LibraryImport(Lib)] internal static partial CUresult cuModuleUnload(CUmodule hmod);
    /// <param name="kernelParams">One pointer per kernel argument, each to that argument's value; or null, and then:</param>
    /// <param name="extra">CU_LAUNCH_PARAM_BUFFER_POINTER (1), the packed arguments, CU_LAUNCH_PARAM_BUFFER_SIZE (2), a
    /// pointer to their size in bytes, CU_LAUNCH_PARAM_END (0).</param>
    [LibraryImport(Lib)]
    internal static partial CUresult cuLaunchKernel(CUfunction f, uint gridDimX, uint gridDimY, uint gridDimZ,
        uint blockDimX, uint blockDimY, uint blockDimZ, uint sharedMemBytes, CUstream hStream, void** kernelParams, void** extra);

    // Streams and events
    [LibraryImport(Lib)] internal static partial CUresult cuStreamCreate(CUstream* phStream, CUstream_flags Flags);
    [LibraryImport(Lib)] internal static partial CUresult cuStreamSynchronize(CUstream hStream);
    [LibraryImport(Lib)] internal static partial CUresult cuStreamDestroy_v2(CUstream hStream);
    [LibraryImport(Lib)] internal static partial CUresult cuEventCreate(CUevent* phEvent, CUevent_flags Flags);
    [LibraryImport(Lib)] internal static partial CUresult cuEventRecord(CUevent hEvent, CUstream hStream);
    [LibraryImport(Lib)] internal static partial CUresult cuEventSynchronize(CUevent hEvent);
    /// <summary>The first version of the symbol: CUDA 12.8 added cuEventElapsedTime_v2 and CUDA 13's header maps the
    /// plain name onto it, but drivers keep exporting this one for programs built before.</summary>
    [LibraryImport(Lib)] internal static partial CUresult cuEventElapsedTime(float* pMilliseconds, CUevent hStart, CUevent hEnd);
    [LibraryImport(Lib)] internal static partial CUresult cuEventDestroy_v2(CUevent hEvent);

    // Errors
    [LibraryImport(Lib)] internal static partial CUresult cuGetErrorName(CUresult error, byte** pStr);
    [LibraryImport(Lib)] internal static partial CUresult cuGetErrorString(CUresult error, byte** pStr);

    /// <summary>The driver's own name for <paramref name="result"/> ("CUDA_ERROR_OUT_OF_MEMORY"), or null when the
    /// driver is not loaded or does not know the value. Never loads the driver: error paths must not go looking.</summary>
    internal static string? ErrorName(CUresult result)
    {
        if (!CudaLibraries.IsLoaded(Lib)) return null;
        try
        {
            byte* text = null;
            return cuGetErrorName(result, &text) == CUresult.CUDA_SUCCESS && text != null ? Marshal.PtrToStringUTF8((IntPtr)text) : null;
        }
        catch (EntryPointNotFoundException)
        {
            return null;
        }
    }

    /// <summary>The driver's description of <paramref name="result"/>, or null as for <see cref="ErrorName"/>.</summary>
    internal static string? ErrorString(CUresult result)
    {
        if (!CudaLibraries.IsLoaded(Lib)) return null;
        try
        {
            byte* text = null;
            return cuGetErrorString(result, &text) == CUresult.CUDA_SUCCESS && text != null ? Marshal.PtrToStringUTF8((IntPtr)text) : null;
        }
        catch (EntryPointNotFoundException)
        {
            return null;
        }
    }

    /// <summary>The device's marketing name ("NVIDIA H100 80GB HBM3").</summary>
    internal static string DeviceName(CUdevice device)
    {
        const int Capacity = 256;
        byte* name = stackalloc byte[Capacity];
        CudaException.Check(cuDeviceGetName(name, Capacity, device));
        return Marshal.PtrToStringUTF8((IntPtr)name) ?? "";
    }

    /// <summary>One integer attribute of <paramref name="device"/>.</summary>
    internal static int Attribute(CUdevice device, CUdevice_attribute attribute)
    {
        int value;
        CudaException.Check(cuDeviceGetAttribute(&value, attribute, device));
        return value;
    }
}
