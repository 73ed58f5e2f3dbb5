// cublas.cpp: the cuBLAS entry points the engine binds (Kernels/Native/Cublas.cs), as a test double: column-major GEMM
// as a plain triple loop that adds over k in order, in the operands' precision (pedantic math: no TF32). Every operand's
// extent is checked against the emulated device memory first.
#include "emulator.h"

#include <cstdio>
#include <string>

#define EXPORT extern "C" __attribute__((visibility("default")))

using namespace emu;

namespace {

enum Status : int { Ok = 0, BlasNotInitialized = 1, BlasInvalidValue = 7, ExecutionFailed = 13 };

struct Handle
{
    void* stream = nullptr;
    int mathMode = 0, pointerMode = 0;
};

// Elements [0, extent) of a column-major operand with `columns` columns of leading dimension ld, `rows` used per column.
Status check_operand(const char* call, const char* operand, std::uintptr_t address, long long rows, long long columns, int ld, std::size_t element)
{
    if (ld < (rows > 1 ? rows : 1))
    {
        std::fprintf(stderr, "emulated cuBLAS: %s: ld%s = %d is below the %lld rows of %s\n", call, operand, ld, rows, operand);
        return BlasInvalidValue;
    }
    if (rows == 0 || columns == 0) return Ok;
    const std::size_t bytes = ((columns - 1) * (std::size_t)ld + rows) * element;
    Allocation a;
    if (find_allocation(address, bytes, a)) return Ok;
    fail(IllegalAddress, std::string(call) + ": operand " + operand + " (" + std::to_string(bytes) + " bytes) is not inside one allocation: " +
                             describe_address(address));
    return ExecutionFailed;
}

template <typename T>
Status gemm(const char* call, Handle* h, int transa, int transb, int m, int n, int k, const T* alpha, std::uintptr_t A, int lda, long long strideA,
            std::uintptr_t B, int ldb, long long strideB, const T* beta, std::uintptr_t C, int ldc, long long strideC, int batches)
{
    if (!h) return BlasNotInitialized;
    if (m < 0 || n < 0 || k < 0 || batches < 0 || transa < 0 || transa > 2 || transb < 0 || transb > 2 || h->pointerMode != 0) return BlasInvalidValue;
    const bool ta = transa != 0, tb = transb != 0;
    const T a = *alpha, b = *beta;
    for (int batch = 0; batch < batches; ++batch)
    {
        const std::uintptr_t pa = A + batch * strideA * sizeof(T), pb = B + batch * strideB * sizeof(T), pc = C + batch * strideC * sizeof(T);
        if (Status s = check_operand(call, "A", pa, ta ? k : m, ta ? m : k, lda, sizeof(T))) return s;
        if (Status s = check_operand(call, "B", pb, tb ? n : k, tb ? k : n, ldb, sizeof(T))) return s;
        if (Status s = check_operand(call, "C", pc, m, n, ldc, sizeof(T))) return s;
        const T* xa = reinterpret_cast<const T*>(pa);
        const T* xb = reinterpret_cast<const T*>(pb);
        T* xc = reinterpret_cast<T*>(pc);
        for (int j = 0; j < n; ++j)
            for (int i = 0; i < m; ++i)
            {
                T sum = T(0);
                for (int p = 0; p < k; ++p)
                    sum += (ta ? xa[i * (long long)lda + p] : xa[p * (long long)lda + i]) * (tb ? xb[p * (long long)ldb + j] : xb[j * (long long)ldb + p]);
                T& c = xc[j * (long long)ldc + i];
                c = b == T(0) ? a * sum : a * sum + b * c; // β = 0: C is not read (it may hold NaN)
            }
    }
    return Ok;
}

} // namespace

EXPORT int cublasCreate_v2(Handle** handle)
{
    *handle = new Handle();
    return Ok;
}

EXPORT int cublasDestroy_v2(Handle* handle)
{
    delete handle;
    return Ok;
}

EXPORT int cublasSetStream_v2(Handle* h, void* stream)
{
    if (!h) return BlasNotInitialized;
    h->stream = stream;
    return Ok;
}

EXPORT int cublasSetMathMode(Handle* h, int mode)
{
    if (!h) return BlasNotInitialized;
    h->mathMode = mode;
    return Ok;
}

EXPORT int cublasGetMathMode(Handle* h, int* mode)
{
    if (!h) return BlasNotInitialized;
    *mode = h->mathMode;
    return Ok;
}

EXPORT int cublasSetPointerMode_v2(Handle* h, int mode)
{
    if (!h) return BlasNotInitialized;
    h->pointerMode = mode;
    return Ok;
}

EXPORT int cublasGetVersion_v2(Handle*, int* version)
{
    *version = 120800;
    return Ok;
}

// MAJOR_VERSION 0, MINOR_VERSION 1, PATCH_LEVEL 2: the emulated library calls itself cuBLAS 12.8.0, as its driver is 12.8.
EXPORT int cublasGetProperty(int type, int* value)
{
    if (type < 0 || type > 2) return BlasInvalidValue;
    *value = type == 0 ? 12 : type == 1 ? 8 : 0;
    return Ok;
}

EXPORT const char* cublasGetStatusName(int status)
{
    switch (status)
    {
        case Ok: return "CUBLAS_STATUS_SUCCESS";
        case BlasNotInitialized: return "CUBLAS_STATUS_NOT_INITIALIZED";
        case BlasInvalidValue: return "CUBLAS_STATUS_INVALID_VALUE";
        case ExecutionFailed: return "CUBLAS_STATUS_EXECUTION_FAILED";
        default: return "CUBLAS_STATUS_UNKNOWN";
    }
}

EXPORT const char* cublasGetStatusString(int status)
{
    const char* detail = status == ExecutionFailed ? last_message(IllegalAddress) : nullptr;
    return detail ? detail : cublasGetStatusName(status);
}

EXPORT int cublasSgemm_v2(Handle* h, int ta, int tb, int m, int n, int k, const float* alpha, std::uintptr_t A, int lda, std::uintptr_t B, int ldb,
                          const float* beta, std::uintptr_t C, int ldc)
{
    return gemm("cublasSgemm_v2", h, ta, tb, m, n, k, alpha, A, lda, 0, B, ldb, 0, beta, C, ldc, 0, 1);
}

EXPORT int cublasDgemm_v2(Handle* h, int ta, int tb, int m, int n, int k, const double* alpha, std::uintptr_t A, int lda, std::uintptr_t B, int ldb,
                          const double* beta, std::uintptr_t C, int ldc)
{
    return gemm("cublasDgemm_v2", h, ta, tb, m, n, k, alpha, A, lda, 0, B, ldb, 0, beta, C, ldc, 0, 1);
}

EXPORT int cublasSgemmStridedBatched(Handle* h, int ta, int tb, int m, int n, int k, const float* alpha, std::uintptr_t A, int lda, long long sA,
                                     std::uintptr_t B, int ldb, long long sB, const float* beta, std::uintptr_t C, int ldc, long long sC, int batches)
{
    return gemm("cublasSgemmStridedBatched", h, ta, tb, m, n, k, alpha, A, lda, sA, B, ldb, sB, beta, C, ldc, sC, batches);
}

EXPORT int cublasDgemmStridedBatched(Handle* h, int ta, int tb, int m, int n, int k, const double* alpha, std::uintptr_t A, int lda, long long sA,
                                     std::uintptr_t B, int ldb, long long sB, const double* beta, std::uintptr_t C, int ldc, long long sC, int batches)
{
    return gemm("cublasDgemmStridedBatched", h, ta, tb, m, n, k, alpha, A, lda, sA, B, ldb, sB, beta, C, ldc, sC, batches);
}
