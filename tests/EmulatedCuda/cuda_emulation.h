// cuda_emulation.h: what CUDA device code sees when the emulated device compiles it with the host C++ compiler
// (build.sh passes it with -include before kernels.cu). A TEST DOUBLE: nothing here ships with the engine.
//
// Each GPU thread of a block runs as its own fiber on one host thread, so:
//  - __shared__ variables are thread_local: one copy per host thread, which all fibers of the running block share;
//  - __syncthreads is a real barrier (a fiber waits until every thread of its block has arrived at the same one);
//  - warp shuffles, votes and __syncwarp are rendezvous of the lanes in their mask: every named lane supplies its
//    value before any lane gets a result, exactly as on a GPU, and a lane that never arrives is reported.
// The calls carry __LINE__ so that a report names the line of kernels.cu.
#pragma once

#ifndef EMU_SCAN // build.sh's first pass preprocesses with EMU_SCAN to list the kernels: it needs no definitions.

#include <cmath>
#include <cstdint>
#include <cstring>
#include <type_traits>

namespace emu {

struct uint3 { unsigned x, y, z; };

// The CUDA built-in variables of the running GPU thread.
struct ThreadContext
{
    uint3 thread, block, blockSize, gridSize; // threadIdx, blockIdx, blockDim, gridDim
};
// Kernels live in a library of their own (build.sh), whose thread-local block is nothing but shared memory; these,
// which the kernels call, come from the emulator's library.
#define EMU_API __attribute__((visibility("default")))

EMU_API extern thread_local const ThreadContext* current;

[[noreturn]] EMU_API void trap(int line);
EMU_API void sync_threads(int line);
EMU_API void sync_warp(int line, unsigned mask = 0xffffffffu);

enum class WarpOp { Index, Down, Up, Xor, Ballot, Any, All, Sync };
// One lane's part in a warp rendezvous: its 64 raw bits go in, the bits of the lane it reads come out.
EMU_API std::uint64_t warp_exchange(WarpOp op, unsigned mask, std::uint64_t bits, int argument, int width, int line);

template <typename T> inline T shuffle(WarpOp op, unsigned mask, T value, int argument, int line, int width = 32)
{
    static_assert(std::is_trivially_copyable_v<T> && sizeof(T) <= 8, "a shuffle moves at most 64 bits");
    std::uint64_t bits = 0;
    std::memcpy(&bits, &value, sizeof(T));
    bits = warp_exchange(op, mask, bits, argument, width, line);
    T result;
    std::memcpy(&result, &bits, sizeof(T));
    return result;
}

template <typename To, typename From> inline To bit_cast(From value)
{
    static_assert(sizeof(To) == sizeof(From));
    To result;
    std::memcpy(&result, &value, sizeof(To));
    return result;
}

template <typename T> inline T atomic_fetch(T* address, T value, int kind)
{
    switch (kind)
    {
        case 0: return __atomic_fetch_add(address, value, __ATOMIC_SEQ_CST);
        case 1: return __atomic_fetch_or(address, value, __ATOMIC_SEQ_CST);
        case 2: return __atomic_fetch_and(address, value, __ATOMIC_SEQ_CST);
        case 3: return __atomic_fetch_xor(address, value, __ATOMIC_SEQ_CST);
        default: return __atomic_exchange_n(address, value, __ATOMIC_SEQ_CST);
    }
}

} // namespace emu

// Execution-space and launch qualifiers mean nothing on the host.
#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#define __noinline__ __attribute__((noinline))
#define __launch_bounds__(...)
#define __align__(n) __attribute__((aligned(n)))
#define __restrict__ __restrict
#define __shared__ thread_local

#define threadIdx (::emu::current->thread)
#define blockIdx (::emu::current->block)
#define blockDim (::emu::current->blockSize)
#define gridDim (::emu::current->gridSize)
constexpr int warpSize = 32;

#define __syncthreads() ::emu::sync_threads(__LINE__)
#define __syncwarp(...) ::emu::sync_warp(__LINE__, ##__VA_ARGS__)
#define __trap() ::emu::trap(__LINE__)
#define __shfl_sync(mask, v, lane, ...) ::emu::shuffle(::emu::WarpOp::Index, mask, v, lane, __LINE__, ##__VA_ARGS__)
#define __shfl_down_sync(mask, v, delta, ...) ::emu::shuffle(::emu::WarpOp::Down, mask, v, delta, __LINE__, ##__VA_ARGS__)
#define __shfl_up_sync(mask, v, delta, ...) ::emu::shuffle(::emu::WarpOp::Up, mask, v, delta, __LINE__, ##__VA_ARGS__)
#define __shfl_xor_sync(mask, v, laneMask, ...) ::emu::shuffle(::emu::WarpOp::Xor, mask, v, laneMask, __LINE__, ##__VA_ARGS__)
#define __ballot_sync(mask, p) ((unsigned)::emu::warp_exchange(::emu::WarpOp::Ballot, mask, (p) ? 1u : 0u, 0, 32, __LINE__))
#define __any_sync(mask, p) ((int)::emu::warp_exchange(::emu::WarpOp::Any, mask, (p) ? 1u : 0u, 0, 32, __LINE__))
#define __all_sync(mask, p) ((int)::emu::warp_exchange(::emu::WarpOp::All, mask, (p) ? 1u : 0u, 0, 32, __LINE__))

// Reinterpretations and atomics (integer atomics only: kernels.cu promises no floating-point atomics).
inline float __int_as_float(int v) { return emu::bit_cast<float>(v); }
inline int __float_as_int(float v) { return emu::bit_cast<int>(v); }
inline double __longlong_as_double(long long v) { return emu::bit_cast<double>(v); }
inline long long __double_as_longlong(double v) { return emu::bit_cast<long long>(v); }
template <typename T> inline T atomicAdd(T* a, T v) { static_assert(std::is_integral_v<T>); return emu::atomic_fetch(a, v, 0); }
template <typename T> inline T atomicOr(T* a, T v) { return emu::atomic_fetch(a, v, 1); }
template <typename T> inline T atomicAnd(T* a, T v) { return emu::atomic_fetch(a, v, 2); }
template <typename T> inline T atomicXor(T* a, T v) { return emu::atomic_fetch(a, v, 3); }
template <typename T> inline T atomicExch(T* a, T v) { return emu::atomic_fetch(a, v, 4); }

#endif // EMU_SCAN
