using System.Runtime.InteropServices;

namespace Engine.Kernels.Native;

/// <summary>cusparseHandle_t (struct cusparseContext*).</summary>
public readonly record struct cusparseHandle_t(IntPtr Handle)
{
    public bool IsNull => Handle == IntPtr.Zero;
}

/// <summary>cusparseSpMatDescr_t: a sparse matrix descriptor of the generic API (also passed where the header says
/// cusparseConstSpMatDescr_t, the same pointer).</summary>
public readonly record struct cusparseSpMatDescr_t(IntPtr Handle)
{
    public bool IsNull => Handle == IntPtr.Zero;
}

/// <summary>cusparseDnMatDescr_t: a dense matrix descriptor of the generic API (also for cusparseConstDnMatDescr_t).</summary>
public readonly record struct cusparseDnMatDescr_t(IntPtr Handle)
{
    public bool IsNull => Handle == IntPtr.Zero;
}

/// <summary>cusparseStatus_t (cusparse.h).</summary>
public enum cusparseStatus_t
{
    CUSPARSE_STATUS_SUCCESS = 0,
    CUSPARSE_STATUS_NOT_INITIALIZED = 1,
    CUSPARSE_STATUS_ALLOC_FAILED = 2,
    CUSPARSE_STATUS_INVALID_VALUE = 3,
    CUSPARSE_STATUS_ARCH_MISMATCH = 4,
    CUSPARSE_STATUS_MAPPING_ERROR = 5,
    CUSPARSE_STATUS_EXECUTION_FAILED = 6,
    CUSPARSE_STATUS_INTERNAL_ERROR = 7,
    CUSPARSE_STATUS_MATRIX_TYPE_NOT_SUPPORTED = 8,
    CUSPARSE_STATUS_ZERO_PIVOT = 9,
    CUSPARSE_STATUS_NOT_SUPPORTED = 10,
    CUSPARSE_STATUS_INSUFFICIENT_RESOURCES = 11,
}

/// <summary>cusparseIndexType_t (cusparse.h).</summary>
public enum cusparseIndexType_t
{
    CUSPARSE_INDEX_16U = 1,
    CUSPARSE_INDEX_32I = 2,
    CUSPARSE_INDEX_64I = 3,
}

/// <summary>cusparseIndexBase_t (cusparse.h).</summary>
public enum cusparseIndexBase_t
{
    CUSPARSE_INDEX_BASE_ZERO = 0,
    CUSPARSE_INDEX_BASE_ONE = 1,
}

/// <summary>cusparseOperation_t (cusparse.h).</summary>
public enum cusparseOperation_t
{
    CUSPARSE_OPERATION_NON_TRANSPOSE = 0,
    CUSPARSE_OPERATION_TRANSPOSE = 1,
    CUSPARSE_OPERATION_CONJUGATE_TRANSPOSE = 2,
}

/// <summary>cusparseOrder_t (cusparse.h): the layout of a dense matrix.</summary>
public enum cusparseOrder_t
{
    CUSPARSE_ORDER_COL = 1,
    CUSPARSE_ORDER_ROW = 2,
}

/// <summary>cusparseSpMMAlg_t (cusparse.h, the CUDA 12 names; the older CUSPARSE_MM_ALG_DEFAULT/CSRMM_ALG1 aliases of 0
/// and 4 are left out).</summary>
public enum cusparseSpMMAlg_t
{
    CUSPARSE_SPMM_ALG_DEFAULT = 0,
    CUSPARSE_SPMM_COO_ALG1 = 1,
    CUSPARSE_SPMM_COO_ALG2 = 2,
    CUSPARSE_SPMM_COO_ALG3 = 3,
    CUSPARSE_SPMM_CSR_ALG1 = 4,
    CUSPARSE_SPMM_COO_ALG4 = 5,
    CUSPARSE_SPMM_CSR_ALG2 = 6,
    CUSPARSE_SPMM_CSR_ALG3 = 12,
    CUSPARSE_SPMM_BLOCKED_ELL_ALG1 = 13,
}

/// <summary>cusparseCsr2CscAlg_t (cusparse.h): ALG1 is deterministic; the default is ALG1.</summary>
public enum cusparseCsr2CscAlg_t
{
    CUSPARSE_CSR2CSC_ALG_DEFAULT = 1,
    CUSPARSE_CSR2CSC_ALG1 = 1,
}

/// <summary>cusparseAction_t (cusparse.h): whether a conversion moves values or only the structure.</summary>
public enum cusparseAction_t
{
    CUSPARSE_ACTION_SYMBOLIC = 0,
    CUSPARSE_ACTION_NUMERIC = 1,
}

/// <summary>
/// cuSPARSE's generic API (libcusparse.so.12), bound symbol for symbol with the exact exported names. Device arrays
/// are passed as <see cref="CUdeviceptr"/>, the same 64-bit value as the header's <c>void*</c>; α and β are host
/// pointers (the default pointer mode). Callers wrap each call in <see cref="CudaException.Check(cusparseStatus_t, string)"/>.
/// </summary>
internal static unsafe partial class Cusparse
{
    private const string Lib = CudaLibraries.CusparseLibrary;

    static Cusparse() => CudaLibraries.EnsureRegistered();

    [LibraryImport(Lib)] internal static partial cusparseStatus_t cusparseCreate(cusparseHandle_t* handle);
    [LibraryImport(Lib)] internal static partial cusparseStatus_t cusparseDestroy(cusparseHandle_t handle);
    [LibraryImport(Lib)] internal static partial cusparseStatus_t cusparseSetStream(cusparseHandle_t handle, CUstream streamId);
    /// <summary>CUSPARSE_VERSION of the loaded library (needs a handle, hence a GPU; <see cref="cusparseGetProperty"/> does not).</summary>
    [LibraryImport(Lib)] internal static partial cusparseStatus_t cusparseGetVersion(cusparseHandle_t handle, int* version);
    /// <summary>The library's version without a handle, hence without a GPU.</summary>
    [LibraryImport(Lib)] internal static partial cusparseStatus_t cusparseGetProperty(libraryPropertyType type, int* value);
    [LibraryImport(Lib)] internal static partial byte* cusparseGetErrorName(cusparseStatus_t status);
    [LibraryImport(Lib)] internal static partial byte* cusparseGetErrorString(cusparseStatus_t status);

    /// <summary>A CSR matrix over device arrays: <paramref name="csrRowOffsets"/> (rows + 1 entries),
    /// <paramref name="csrColInd"/> and <paramref name="csrValues"/> (nnz entries each).</summary>
    [LibraryImport(Lib)]
    internal static partial cusparseStatus_t cusparseCreateCsr(cusparseSpMatDescr_t* spMatDescr, long rows, long cols, long nnz,
        CUdeviceptr csrRowOffsets, CUdeviceptr csrColInd, CUdeviceptr csrValues,
        cusparseIndexType_t csrRowOffsetsType, cusparseIndexType_t csrColIndType, cusparseIndexBase_t idxBase, cudaDataType valueType);

    [LibraryImport(Lib)] internal static partial cusparseStatus_t cusparseDestroySpMat(cusparseSpMatDescr_t spMatDescr);

    /// <summary>A dense matrix over a device array with leading dimension <paramref name="ld"/> in <paramref name="order"/>.</summary>
    [LibraryImport(Lib)]
    internal static partial cusparseStatus_t cusparseCreateDnMat(cusparseDnMatDescr_t* dnMatDescr, long rows, long cols, long ld,
        CUdeviceptr values, cudaDataType valueType, cusparseOrder_t order);

    [LibraryImport(Lib)] internal static partial cusparseStatus_t cusparseDestroyDnMat(cusparseDnMatDescr_t dnMatDescr);

    /// <summary>The workspace cusparseSpMM needs for these operands, in bytes.</summary>
    [LibraryImport(Lib)]
    internal static partial cusparseStatus_t cusparseSpMM_bufferSize(cusparseHandle_t handle, cusparseOperation_t opA, cusparseOperation_t opB,
        void* alpha, cusparseSpMatDescr_t matA, cusparseDnMatDescr_t matB, void* beta, cusparseDnMatDescr_t matC,
        cudaDataType computeType, cusparseSpMMAlg_t alg, nuint* bufferSize);

    /// <summary>C = α·op(A)·op(B) + β·C with A sparse, B and C dense. A transposed A (opA = TRANSPOSE) is not promised
    /// to give the same bits run to run: multiply by a stored transpose (cusparseCsr2cscEx2) instead.</summary>
    [LibraryImport(Lib)]
    internal static partial cusparseStatus_t cusparseSpMM(cusparseHandle_t handle, cusparseOperation_t opA, cusparseOperation_t opB,
        void* alpha, cusparseSpMatDescr_t matA, cusparseDnMatDescr_t matB, void* beta, cusparseDnMatDescr_t matC,
        cudaDataType computeType, cusparseSpMMAlg_t alg, CUdeviceptr externalBuffer);

    /// <summary>The workspace cusparseCsr2cscEx2 needs, in bytes. 32-bit indices only, as in the header.</summary>
    [LibraryImport(Lib)]
    internal static partial cusparseStatus_t cusparseCsr2cscEx2_bufferSize(cusparseHandle_t handle, int m, int n, int nnz,
        CUdeviceptr csrVal, CUdeviceptr csrRowPtr, CUdeviceptr csrColInd, CUdeviceptr cscVal, CUdeviceptr cscColPtr, CUdeviceptr cscRowInd,
        cudaDataType valType, cusparseAction_t copyValues, cusparseIndexBase_t idxBase, cusparseCsr2CscAlg_t alg, nuint* bufferSize);

    /// <summary>The transpose of an m×n CSR matrix, as the CSC arrays of the same matrix (= the CSR arrays of Aᵀ).</summary>
    [LibraryImport(Lib)]
    internal static partial cusparseStatus_t cusparseCsr2cscEx2(cusparseHandle_t handle, int m, int n, int nnz,
        CUdeviceptr csrVal, CUdeviceptr csrRowPtr, CUdeviceptr csrColInd, CUdeviceptr cscVal, CUdeviceptr cscColPtr, CUdeviceptr cscRowInd,
        cudaDataType valType, cusparseAction_t copyValues, cusparseIndexBase_t idxBase, cusparseCsr2CscAlg_t alg, CUdeviceptr buffer);

    /// <summary>cuSPARSE's description of <paramref name="status"/>, or null when cuSPARSE is not loaded.</summary>
    internal static string? StatusString(cusparseStatus_t status)
    {
        if (!CudaLibraries.IsLoaded(Lib)) return null;
        try
        {
            return cusparseGetErrorString(status) is var text && text != null ? Marshal.PtrToStringUTF8((IntPtr)text) : null;
        }
        catch (EntryPointNotFoundException)
        {
            return null;
        }
    }

    /// <summary>"12.3.1": the loaded library's version, read without a GPU.</summary>
    internal static string Version()
    {
        int major, minor, patch;
        CudaException.Check(cusparseGetProperty(libraryPropertyType.MAJOR_VERSION, &major));
        CudaException.Check(cusparseGetProperty(libraryPropertyType.MINOR_VERSION, &minor));
        CudaException.Check(cusparseGetProperty(libraryPropertyType.PATCH_LEVEL, &patch));
        return $"{major}.{minor}.{patch}";
    }
}
