using System.Runtime.InteropServices;

namespace Engine.Kernels.Native;

/// <summary>cublasHandle_t (struct cublasContext*).</summary>
public readonly record struct cublasHandle_t(IntPtr Handle)
{
    public bool IsNull => Handle == IntPtr.Zero;
}

/// <summary>cublasStatus_t (cublas_api.h).</summary>
public enum cublasStatus_t
{
    CUBLAS_STATUS_SUCCESS = 0,
    CUBLAS_STATUS_NOT_INITIALIZED = 1,
    CUBLAS_STATUS_ALLOC_FAILED = 3,
    CUBLAS_STATUS_INVALID_VALUE = 7,
    CUBLAS_STATUS_ARCH_MISMATCH = 8,
    CUBLAS_STATUS_MAPPING_ERROR = 11,
    CUBLAS_STATUS_EXECUTION_FAILED = 13,
    CUBLAS_STATUS_INTERNAL_ERROR = 14,
    CUBLAS_STATUS_NOT_SUPPORTED = 15,
    CUBLAS_STATUS_LICENSE_ERROR = 16,
}

/// <summary>cublasOperation_t (cublas_api.h).</summary>
public enum cublasOperation_t
{
    CUBLAS_OP_N = 0,
    CUBLAS_OP_T = 1,
    CUBLAS_OP_C = 2,
}

/// <summary>cublasMath_t (cublas_api.h). Checks against the CPU reference run with
/// <see cref="CUBLAS_PEDANTIC_MATH"/> or <see cref="CUBLAS_DEFAULT_MATH"/>; <see cref="CUBLAS_TF32_TENSOR_OP_MATH"/>
/// lets float32 GEMMs round their inputs to TF32 on tensor cores.</summary>
public enum cublasMath_t
{
    CUBLAS_DEFAULT_MATH = 0,
    /// <summary>Deprecated in the header; kept so a value read back can be named.</summary>
    CUBLAS_TENSOR_OP_MATH = 1,
    CUBLAS_PEDANTIC_MATH = 2,
    CUBLAS_TF32_TENSOR_OP_MATH = 3,
    CUBLAS_MATH_DISALLOW_REDUCED_PRECISION_REDUCTION = 16,
}

/// <summary>cublasPointerMode_t (cublas_api.h): where α and β live. The default is the host.</summary>
public enum cublasPointerMode_t
{
    CUBLAS_POINTER_MODE_HOST = 0,
    CUBLAS_POINTER_MODE_DEVICE = 1,
}

/// <summary>
/// cuBLAS (libcublas.so.13 or .12), bound symbol for symbol with the exact exported names (the <c>_v2</c> API, which
/// cublas_v2.h maps the plain names onto). Matrices are column-major, as cuBLAS has them. Device arrays are passed as
/// <see cref="CUdeviceptr"/>, the same 64-bit value as the header's <c>float*</c>; α and β are host pointers (the
/// default pointer mode). Callers wrap each call in <see cref="CudaException.Check(cublasStatus_t, string)"/>.
/// </summary>
internal static unsafe partial class Cublas
{
    private const string Lib = CudaLibraries.CublasLibrary;

    static Cublas() => CudaLibraries.EnsureRegistered();

    [LibraryImport(Lib)] internal static partial cublasStatus_t cublasCreate_v2(cublasHandle_t* handle);
    [LibraryImport(Lib)] internal static partial cublasStatus_t cublasDestroy_v2(cublasHandle_t handle);
    [LibraryImport(Lib)] internal static partial cublasStatus_t cublasSetStream_v2(cublasHandle_t handle, CUstream streamId);
    [LibraryImport(Lib)] internal static partial cublasStatus_t cublasSetMathMode(cublasHandle_t handle, cublasMath_t mode);
    [LibraryImport(Lib)] internal static partial cublasStatus_t cublasGetMathMode(cublasHandle_t handle, cublasMath_t* mode);
    [LibraryImport(Lib)] internal static partial cublasStatus_t cublasSetPointerMode_v2(cublasHandle_t handle, cublasPointerMode_t mode);
    /// <summary>CUBLAS_VERSION of the loaded library, major·10000 + minor·100 + patch (needs a handle, hence a GPU;
    /// <see cref="cublasGetProperty"/> does not).</summary>
    [LibraryImport(Lib)] internal static partial cublasStatus_t cublasGetVersion_v2(cublasHandle_t handle, int* version);
    /// <summary>The library's version without a handle, hence without a GPU.</summary>
    [LibraryImport(Lib)] internal static partial cublasStatus_t cublasGetProperty(libraryPropertyType type, int* value);
    [LibraryImport(Lib)] internal static partial byte* cublasGetStatusName(cublasStatus_t status);
    [LibraryImport(Lib)] internal static partial byte* cublasGetStatusString(cublasStatus_t status);

    /// <summary>C = α·op(A)·op(B) + β·C, float32, column-major.</summary>
    [LibraryImport(Lib)]
    internal static partial cublasStatus_t cublasSgemm_v2(cublasHandle_t handle, cublasOperation_t transa, cublasOperation_t transb,
        int m, int n, int k, float* alpha, CUdeviceptr A, int lda, CUdeviceptr B, int ldb, float* beta, CUdeviceptr C, int ldc);

    /// <summary>C = α·op(A)·op(B) + β·C, float64, column-major.</summary>
    [LibraryImport(Lib)]
    internal static partial cublasStatus_t cublasDgemm_v2(cublasHandle_t handle, cublasOperation_t transa, cublasOperation_t transb,
        int m, int n, int k, double* alpha, CUdeviceptr A, int lda, CUdeviceptr B, int ldb, double* beta, CUdeviceptr C, int ldc);

    /// <summary><paramref name="batchCount"/> GEMMs whose operands lie <c>stride</c> elements apart.</summary>
    [LibraryImport(Lib)]
    internal static partial cublasStatus_t cublasSgemmStridedBatched(cublasHandle_t handle, cublasOperation_t transa, cublasOperation_t transb,
        int m, int n, int k, float* alpha, CUdeviceptr A, int lda, long strideA, CUdeviceptr B, int ldb, long strideB,
        float* beta, CUdeviceptr C, int ldc, long strideC, int batchCount);

    [LibraryImport(Lib)]
    internal static partial cublasStatus_t cublasDgemmStridedBatched(cublasHandle_t handle, cublasOperation_t transa, cublasOperation_t transb,
        int m, int n, int k, double* alpha, CUdeviceptr A, int lda, long strideA, CUdeviceptr B, int ldb, long strideB,
        double* beta, CUdeviceptr C, int ldc, long strideC, int batchCount);

    /// <summary>cuBLAS's description of <paramref name="status"/>, or null when cuBLAS is not loaded (error paths never load it).</summary>
    internal static string? StatusString(cublasStatus_t status)
    {
        if (!CudaLibraries.IsLoaded(Lib)) return null;
        try
        {
            return cublasGetStatusString(status) is var text && text != null ? Marshal.PtrToStringUTF8((IntPtr)text) : null;
        }
        catch (EntryPointNotFoundException)
        {
            return null; // cuBLAS before 11.4.2
        }
    }

    /// <summary>"12.4.5": the loaded library's version, read without a GPU.</summary>
    internal static string Version()
    {
        int major, minor, patch;
        CudaException.Check(cublasGetProperty(libraryPropertyType.MAJOR_VERSION, &major));
        CudaException.Check(cublasGetProperty(libraryPropertyType.MINOR_VERSION, &minor));
        CudaException.Check(cublasGetProperty(libraryPropertyType.PATCH_LEVEL, &patch));
        return $"{major}.{minor}.{patch}";
    }
}
