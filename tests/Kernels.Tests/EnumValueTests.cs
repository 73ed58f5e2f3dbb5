using Engine.Kernels.Native;

namespace Engine.Kernels.Tests;

/// <summary>
/// Values that cross into the libraries, against NVIDIA's headers (cuda.h, cublas_api.h, cusparse.h, nvrtc.h,
/// library_types.h). A wrong number here fails silently on a GPU, so each is pinned.
/// </summary>
public class EnumValueTests
{
    [Theory]
    [InlineData(CUresult.CUDA_SUCCESS, 0)]
    [InlineData(CUresult.CUDA_ERROR_INVALID_VALUE, 1)]
    [InlineData(CUresult.CUDA_ERROR_OUT_OF_MEMORY, 2)]
    [InlineData(CUresult.CUDA_ERROR_NOT_INITIALIZED, 3)]
    [InlineData(CUresult.CUDA_ERROR_STUB_LIBRARY, 34)]
    [InlineData(CUresult.CUDA_ERROR_NO_DEVICE, 100)]
    [InlineData(CUresult.CUDA_ERROR_INVALID_PTX, 218)]
    [InlineData(CUresult.CUDA_ERROR_UNSUPPORTED_PTX_VERSION, 222)]
    [InlineData(CUresult.CUDA_ERROR_NOT_FOUND, 500)]
    [InlineData(CUresult.CUDA_ERROR_ILLEGAL_ADDRESS, 700)]
    [InlineData(CUresult.CUDA_ERROR_LAUNCH_FAILED, 719)]
    [InlineData(CUresult.CUDA_ERROR_UNKNOWN, 999)]
    public void Driver_results(CUresult value, int expected) => Assert.Equal(expected, (int)value);

    [Theory]
    [InlineData(CUdevice_attribute.CU_DEVICE_ATTRIBUTE_MAX_THREADS_PER_BLOCK, 1)]
    [InlineData(CUdevice_attribute.CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK, 8)]
    [InlineData(CUdevice_attribute.CU_DEVICE_ATTRIBUTE_WARP_SIZE, 10)]
    [InlineData(CUdevice_attribute.CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT, 16)]
    [InlineData(CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, 75)]
    [InlineData(CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, 76)]
    [InlineData(CUdevice_attribute.CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN, 97)]
    public void Device_attributes(CUdevice_attribute value, int expected) => Assert.Equal(expected, (int)value);

    [Theory]
    [InlineData(cublasStatus_t.CUBLAS_STATUS_SUCCESS, 0)]
    [InlineData(cublasStatus_t.CUBLAS_STATUS_NOT_INITIALIZED, 1)]
    [InlineData(cublasStatus_t.CUBLAS_STATUS_ALLOC_FAILED, 3)]
    [InlineData(cublasStatus_t.CUBLAS_STATUS_INVALID_VALUE, 7)]
    [InlineData(cublasStatus_t.CUBLAS_STATUS_EXECUTION_FAILED, 13)]
    [InlineData(cublasStatus_t.CUBLAS_STATUS_NOT_SUPPORTED, 15)]
    public void cuBLAS_statuses(cublasStatus_t value, int expected) => Assert.Equal(expected, (int)value);

    [Fact]
    public void cuBLAS_operations_and_math_modes()
    {
        Assert.Equal(0, (int)cublasOperation_t.CUBLAS_OP_N);
        Assert.Equal(1, (int)cublasOperation_t.CUBLAS_OP_T);
        Assert.Equal(0, (int)cublasMath_t.CUBLAS_DEFAULT_MATH);
        Assert.Equal(2, (int)cublasMath_t.CUBLAS_PEDANTIC_MATH);
        Assert.Equal(3, (int)cublasMath_t.CUBLAS_TF32_TENSOR_OP_MATH);
    }

    [Theory]
    [InlineData(cusparseStatus_t.CUSPARSE_STATUS_SUCCESS, 0)]
    [InlineData(cusparseStatus_t.CUSPARSE_STATUS_NOT_INITIALIZED, 1)]
    [InlineData(cusparseStatus_t.CUSPARSE_STATUS_ALLOC_FAILED, 2)]
    [InlineData(cusparseStatus_t.CUSPARSE_STATUS_INVALID_VALUE, 3)]
    [InlineData(cusparseStatus_t.CUSPARSE_STATUS_NOT_SUPPORTED, 10)]
    [InlineData(cusparseStatus_t.CUSPARSE_STATUS_INSUFFICIENT_RESOURCES, 11)]
    public void cuSPARSE_statuses(cusparseStatus_t value, int expected) => Assert.Equal(expected, (int)value);

    [Fact]
    public void cuSPARSE_generic_API_values()
    {
        Assert.Equal(2, (int)cusparseIndexType_t.CUSPARSE_INDEX_32I);
        Assert.Equal(3, (int)cusparseIndexType_t.CUSPARSE_INDEX_64I);
        Assert.Equal(0, (int)cusparseIndexBase_t.CUSPARSE_INDEX_BASE_ZERO);
        Assert.Equal(1, (int)cusparseOrder_t.CUSPARSE_ORDER_COL);
        Assert.Equal(2, (int)cusparseOrder_t.CUSPARSE_ORDER_ROW);
        Assert.Equal(0, (int)cusparseOperation_t.CUSPARSE_OPERATION_NON_TRANSPOSE);
        Assert.Equal(0, (int)cusparseSpMMAlg_t.CUSPARSE_SPMM_ALG_DEFAULT);
        Assert.Equal(4, (int)cusparseSpMMAlg_t.CUSPARSE_SPMM_CSR_ALG1);
        Assert.Equal(6, (int)cusparseSpMMAlg_t.CUSPARSE_SPMM_CSR_ALG2);
        Assert.Equal(12, (int)cusparseSpMMAlg_t.CUSPARSE_SPMM_CSR_ALG3);
        Assert.Equal(1, (int)cusparseCsr2CscAlg_t.CUSPARSE_CSR2CSC_ALG1);
        Assert.Equal(1, (int)cusparseAction_t.CUSPARSE_ACTION_NUMERIC);
        Assert.Equal(0, (int)cudaDataType.CUDA_R_32F);
        Assert.Equal(1, (int)cudaDataType.CUDA_R_64F);
    }

    [Theory]
    [InlineData(nvrtcResult.NVRTC_SUCCESS, 0)]
    [InlineData(nvrtcResult.NVRTC_ERROR_OUT_OF_MEMORY, 1)]
    [InlineData(nvrtcResult.NVRTC_ERROR_INVALID_OPTION, 5)]
    [InlineData(nvrtcResult.NVRTC_ERROR_COMPILATION, 6)]
    [InlineData(nvrtcResult.NVRTC_ERROR_INTERNAL_ERROR, 11)]
    public void NVRTC_results(nvrtcResult value, int expected) => Assert.Equal(expected, (int)value);

    [Fact]
    public void Handles_are_the_size_of_the_C_types()
    {
        Assert.Equal(8, System.Runtime.CompilerServices.Unsafe.SizeOf<CUdeviceptr>());
        Assert.Equal(4, System.Runtime.CompilerServices.Unsafe.SizeOf<CUdevice>());
        Assert.Equal(IntPtr.Size, System.Runtime.CompilerServices.Unsafe.SizeOf<CUcontext>());
        Assert.Equal(IntPtr.Size, System.Runtime.CompilerServices.Unsafe.SizeOf<CUstream>());
        Assert.Equal(IntPtr.Size, System.Runtime.CompilerServices.Unsafe.SizeOf<cublasHandle_t>());
        Assert.Equal(IntPtr.Size, System.Runtime.CompilerServices.Unsafe.SizeOf<cusparseSpMatDescr_t>());
        Assert.Equal(IntPtr.Size, System.Runtime.CompilerServices.Unsafe.SizeOf<nvrtcProgram>());
        Assert.Equal(4, System.Runtime.CompilerServices.Unsafe.SizeOf<CUresult>());
    }
}
