namespace Engine.Kernels.Native;

/// <summary>libraryPropertyType (library_types.h), for cublasGetProperty: numbered implicitly from 0 in the header.</summary>
public enum libraryPropertyType
{
    MAJOR_VERSION = 0,
    MINOR_VERSION = 1,
    PATCH_LEVEL = 2,
}
