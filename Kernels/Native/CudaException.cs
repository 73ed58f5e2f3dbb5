using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;

namespace Engine.Kernels.Native;

/// <summary>
/// A CUDA driver, cuBLAS or NVRTC call returned an error. Carries the library, the symbolic error name
/// (CUDA_ERROR_OUT_OF_MEMORY, CUBLAS_STATUS_INVALID_VALUE, …), its numeric code, the library's own description where
/// it is loaded, and the call as written at the <see cref="Check(CUresult, string)"/> site.
/// </summary>
public sealed class CudaException : Exception
{
    /// <summary>Which library failed: "the CUDA driver", "cuBLAS" or "NVRTC".</summary>
    public string Library { get; }

    /// <summary>The symbolic name of the error, as the library's header spells it.</summary>
    public string ErrorName { get; }

    /// <summary>The numeric status the call returned.</summary>
    public int Code { get; }

    /// <summary>The library's description of the error; empty when the library could not be asked.</summary>
    public string Description { get; }

    /// <summary>The failing call's source text (e.g. <c>Driver.cuMemAlloc_v2(&amp;ptr, bytes)</c>).</summary>
    public string Call { get; }

    public CudaException(string library, string errorName, int code, string description, string call)
        : base(Compose(library, errorName, code, description, call))
    {
        Library = library;
        ErrorName = errorName;
        Code = code;
        Description = description;
        Call = call;
    }

    /// <summary>Throws unless <paramref name="result"/> is CUDA_SUCCESS. The error's name comes from cuGetErrorName
    /// when the driver is loaded, else from <see cref="CUresult"/>.</summary>
    [StackTraceHidden]
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Check(CUresult result, [CallerArgumentExpression(nameof(result))] string call = "")
    {
        if (result != CUresult.CUDA_SUCCESS) ThrowFor(result, call);
    }

    /// <summary>Throws unless <paramref name="status"/> is CUBLAS_STATUS_SUCCESS.</summary>
    [StackTraceHidden]
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Check(cublasStatus_t status, [CallerArgumentExpression(nameof(status))] string call = "")
    {
        if (status != cublasStatus_t.CUBLAS_STATUS_SUCCESS) ThrowFor(status, call);
    }

    /// <summary>Throws unless <paramref name="result"/> is NVRTC_SUCCESS. For a compilation, prefer reading the
    /// program log on NVRTC_ERROR_COMPILATION: the exception cannot carry it.</summary>
    [StackTraceHidden]
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Check(nvrtcResult result, [CallerArgumentExpression(nameof(result))] string call = "")
    {
        if (result != nvrtcResult.NVRTC_SUCCESS) ThrowFor(result, call);
    }

    /// <summary>The exception <see cref="Check(CUresult, string)"/> throws, for callers that add to it or collect it.</summary>
    public static CudaException From(CUresult result, string call)
    {
        string name = Driver.ErrorName(result) ?? NameOf(result, "CUresult");
        return new(CudaLibraries.DisplayName(CudaLibraries.DriverLibrary), name, (int)result, Driver.ErrorString(result) ?? "", call);
    }

    /// <summary>The exception <see cref="Check(cublasStatus_t, string)"/> throws.</summary>
    public static CudaException From(cublasStatus_t status, string call) =>
        new(CudaLibraries.DisplayName(CudaLibraries.CublasLibrary), NameOf(status, "cublasStatus_t"), (int)status, Cublas.StatusString(status) ?? "", call);

    /// <summary>The exception <see cref="Check(nvrtcResult, string)"/> throws.</summary>
    public static CudaException From(nvrtcResult result, string call)
    {
        // nvrtcGetErrorString returns the symbolic name itself, so it is the name, not a description.
        string name = Enum.IsDefined(result) ? result.ToString() : Nvrtc.ResultString(result) ?? $"nvrtcResult {(int)result}";
        return new(CudaLibraries.DisplayName(CudaLibraries.NvrtcLibrary), name, (int)result, "", call);
    }

    [DoesNotReturn, StackTraceHidden, MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowFor(CUresult result, string call) => throw From(result, call);

    [DoesNotReturn, StackTraceHidden, MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowFor(cublasStatus_t status, string call) => throw From(status, call);

    [DoesNotReturn, StackTraceHidden, MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowFor(nvrtcResult result, string call) => throw From(result, call);

    private static string NameOf<T>(T value, string type) where T : struct, Enum =>
        Enum.IsDefined(value) ? value.ToString() : $"{type} {Convert.ToInt64(value, System.Globalization.CultureInfo.InvariantCulture)}";

    private static string Compose(string library, string errorName, int code, string description, string call)
    {
        string what = string.IsNullOrWhiteSpace(call) ? $"a call into {library}" : call;
        string why = string.IsNullOrWhiteSpace(description) ? "" : $": {description}";
        return $"{what} failed with {errorName} ({code}) from {library}{why}";
    }
}
