using System.Reflection;
using Engine.Kernels.Native;

namespace Engine.Kernels.Tests;

/// <summary>The bindings' shape: exact symbols as names, the right library, nothing that needs marshalling.</summary>
public class BindingTests
{
    private static readonly (Type Type, string Library, string Prefix)[] Bindings =
    [
        (typeof(Driver), CudaLibraries.DriverLibrary, "cu"),
        (typeof(Cublas), CudaLibraries.CublasLibrary, "cublas"),
        (typeof(Nvrtc), CudaLibraries.NvrtcLibrary, "nvrtc"),
    ];

    [Fact]
    public void Every_import_is_named_by_its_exported_symbol_and_bound_to_its_own_library()
    {
        foreach (var (type, library, prefix) in Bindings)
        {
            var imports = CudaLibraries.DeclaredImports(type).ToList();
            Assert.NotEmpty(imports);
            foreach (var (importLibrary, symbol, method) in imports)
            {
                Assert.Equal(library, importLibrary);
                Assert.Equal(method.Name, symbol);
                Assert.StartsWith(prefix, symbol, StringComparison.Ordinal);
            }
        }
    }

    [Fact]
    public void Every_argument_and_result_crosses_as_it_is()
    {
        foreach (var (type, _, _) in Bindings)
            foreach (var (_, symbol, method) in CudaLibraries.DeclaredImports(type))
            {
                Assert.True(CrossesAsItIs(method.ReturnType), $"{symbol} returns {method.ReturnType}");
                foreach (var parameter in method.GetParameters())
                    Assert.True(CrossesAsItIs(parameter.ParameterType), $"{symbol}({parameter.Name}) is {parameter.ParameterType}");
            }
    }

    [Fact]
    public void The_bindings_cover_what_the_backend_needs()
    {
        string[] needed =
        [
            "cuInit", "cuDriverGetVersion", "cuDeviceGetCount", "cuDeviceGet", "cuDeviceGetName", "cuDeviceGetAttribute",
            "cuDeviceTotalMem_v2", "cuDevicePrimaryCtxRetain", "cuDevicePrimaryCtxRelease_v2", "cuCtxSetCurrent", "cuCtxSynchronize",
            "cuMemGetInfo_v2", "cuMemAlloc_v2", "cuMemFree_v2", "cuMemcpyHtoDAsync_v2", "cuMemcpyDtoHAsync_v2", "cuMemcpyDtoDAsync_v2",
            "cuMemsetD8Async", "cuMemsetD32Async", "cuModuleLoadData", "cuModuleLoadDataEx", "cuModuleGetFunction", "cuModuleUnload",
            "cuLaunchKernel", "cuStreamCreate", "cuStreamSynchronize", "cuStreamDestroy_v2", "cuEventCreate", "cuEventRecord",
            "cuEventSynchronize", "cuEventElapsedTime", "cuEventDestroy_v2", "cuGetErrorName", "cuGetErrorString", "cuMemHostAlloc",
            "cuMemFreeHost",
            "cublasCreate_v2", "cublasDestroy_v2", "cublasSetStream_v2", "cublasSetMathMode", "cublasGetVersion_v2", "cublasSgemm_v2",
            "cublasDgemm_v2", "cublasSgemmStridedBatched", "cublasDgemmStridedBatched",
            "nvrtcVersion", "nvrtcCreateProgram", "nvrtcCompileProgram", "nvrtcGetProgramLogSize", "nvrtcGetProgramLog", "nvrtcGetPTXSize",
            "nvrtcGetPTX", "nvrtcGetCUBINSize", "nvrtcGetCUBIN", "nvrtcDestroyProgram", "nvrtcGetErrorString",
        ];
        var declared = Bindings.SelectMany(b => CudaLibraries.DeclaredImports(b.Type)).Select(i => i.Symbol).ToHashSet();
        var missing = needed.Where(n => !declared.Contains(n)).ToList();
        Assert.True(missing.Count == 0, $"not bound: {string.Join(", ", missing)}");
    }

    [Fact]
    [Trait("Category", Category.Cuda)]
    public void Every_declared_export_is_in_the_loaded_library()
    {
        Gpu.Require();
        foreach (var (type, library, _) in Bindings)
            Assert.Empty(CudaLibraries.MissingExports(library, type));
    }

    [Fact]
    public void Every_NVRTC_export_is_in_the_NVRTC_found_here()
    {
        CudaToolchain.RequireNvrtc();
        Assert.Empty(CudaLibraries.MissingExports(CudaLibraries.NvrtcLibrary, typeof(Nvrtc)));
    }

    /// <summary>Primitives, pointers, enums, and this project's one-field handle structs: all blittable.</summary>
    private static bool CrossesAsItIs(Type type)
    {
        if (type == typeof(void) || type.IsPointer || type.IsEnum) return true;
        if (type.IsByRef || type.IsArray || type == typeof(string) || type == typeof(bool) || type == typeof(char)) return false;
        if (type.IsPrimitive) return true;
        if (!type.IsValueType || type.Namespace != typeof(CUdeviceptr).Namespace) return false;
        var fields = type.GetFields(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic);
        return fields.Length == 1 && (fields[0].FieldType.IsPrimitive || fields[0].FieldType == typeof(IntPtr));
    }
}
