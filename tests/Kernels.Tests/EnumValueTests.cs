using Engine.Kernels.Native;

namespace Engine.Kernels.Tests;

/// <summary>
/// Values that cross into the libraries, against NVIDIA's headers (cuda.h, cublas_api.h, nvrtc.h,
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
        Assert.Equal(IntPtr.Size, System.Runtime.CompilerServices.Unsafe.SizeOf<nvrtcProgram>());
        Assert.Equal(4, System.Runtime.CompilerServices.Unsafe.SizeOf<CUresult>());
    }
}
