using Engine.Kernels.Native;

namespace Engine.Kernels.Tests;

/// <summary>Every status is checked with its expression: the exception names the library, the error and the call.</summary>
public class CudaExceptionTests
{
    // Stand-ins for failing native calls, so the call expression is something worth reading.
    private static CUresult FakeAlloc(long bytes) => bytes > 0 ? CUresult.CUDA_ERROR_OUT_OF_MEMORY : CUresult.CUDA_SUCCESS;
    private static cublasStatus_t FakeGemm(int m) => m < 0 ? cublasStatus_t.CUBLAS_STATUS_INVALID_VALUE : cublasStatus_t.CUBLAS_STATUS_SUCCESS;
    private static nvrtcResult FakeCompile(string source) => source.Length == 0 ? nvrtcResult.NVRTC_ERROR_COMPILATION : nvrtcResult.NVRTC_SUCCESS;

    [Fact]
    public void Success_passes_through_every_check()
    {
        CudaException.Check(FakeAlloc(0));
        CudaException.Check(FakeGemm(1));
        CudaException.Check(FakeCompile("x"));
    }

    [Fact]
    public void A_driver_error_names_itself_and_the_call()
    {
        var e = Assert.Throws<CudaException>(() => CudaException.Check(FakeAlloc(1L << 40)));
        Assert.Equal("the CUDA driver", e.Library);
        Assert.Equal("CUDA_ERROR_OUT_OF_MEMORY", e.ErrorName);
        Assert.Equal(2, e.Code);
        Assert.Equal("FakeAlloc(1L << 40)", e.Call);
        Assert.Contains("CUDA_ERROR_OUT_OF_MEMORY", e.Message);
        Assert.Contains("FakeAlloc(1L << 40)", e.Message);
        Assert.StartsWith("FakeAlloc(1L << 40) failed with CUDA_ERROR_OUT_OF_MEMORY (2) from the CUDA driver", e.Message);
    }

    [Fact]
    public void A_cuBLAS_error_names_itself_and_the_call()
    {
        int m = -3;
        var e = Assert.Throws<CudaException>(() => CudaException.Check(FakeGemm(m)));
        Assert.Equal("cuBLAS", e.Library);
        Assert.Equal("CUBLAS_STATUS_INVALID_VALUE", e.ErrorName);
        Assert.Equal(7, e.Code);
        Assert.Contains("CUBLAS_STATUS_INVALID_VALUE", e.Message);
        Assert.Contains("FakeGemm(m)", e.Message);
    }

    [Fact]
    public void An_NVRTC_error_names_itself_and_the_call()
    {
        var e = Assert.Throws<CudaException>(() => CudaException.Check(FakeCompile("")));
        Assert.Equal("NVRTC", e.Library);
        Assert.Equal("NVRTC_ERROR_COMPILATION", e.ErrorName);
        Assert.Equal(6, e.Code);
        Assert.Contains("NVRTC_ERROR_COMPILATION", e.Message);
        Assert.Contains("FakeCompile(\"\")", e.Message);
    }

    [Fact]
    public void A_code_the_enum_does_not_name_is_still_reported_by_number()
    {
        var e = Assert.Throws<CudaException>(() => CudaException.Check((CUresult)12345));
        Assert.Equal(12345, e.Code);
        Assert.Contains("12345", e.ErrorName);
        var b = Assert.Throws<CudaException>(() => CudaException.Check((cublasStatus_t)99));
        Assert.Equal("cublasStatus_t 99", b.ErrorName);
    }

    [Fact]
    public void An_empty_call_expression_still_reads_as_a_sentence()
    {
        var e = CudaException.From(cublasStatus_t.CUBLAS_STATUS_ALLOC_FAILED, "");
        Assert.StartsWith("a call into cuBLAS failed with CUBLAS_STATUS_ALLOC_FAILED (3) from cuBLAS", e.Message);
    }
}
