namespace Engine.Kernels.Native;

/// <summary>cudaDataType (library_types.h, <c>enum cudaDataType_t</c>): the element types cuBLAS and cuSPARSE are told
/// about. Only the real types the engine uses.</summary>
public enum cudaDataType
{
    CUDA_R_32F = 0,
    CUDA_R_64F = 1,
    CUDA_R_16F = 2,
    CUDA_R_32I = 10,
    CUDA_R_16BF = 14,
}

/// <summary>libraryPropertyType (library_types.h), for cublasGetProperty and cusparseGetProperty: numbered implicitly
/// from 0 in the header.</summary>
public enum libraryPropertyType
{
    MAJOR_VERSION = 0,
    MINOR_VERSION = 1,
    PATCH_LEVEL = 2,
}
