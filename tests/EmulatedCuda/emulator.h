// emulator.h: the parts of the emulated CUDA device that its three pieces share: the kernel registry (kernels.cpp),
// the block runner and device memory (runtime.cpp), and the driver and cuBLAS entry points (driver.cpp, cublas.cpp).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <type_traits>
#include <utility>

namespace emu {

// ---------------------------------------------------------------- kernels, as the host compiler sees them

struct Parameter
{
    std::size_t size, align, offset; // offset in the launch's packed parameter buffer (CUDA's layout)
    bool pointer;
    const char* type;
};

constexpr int MaxParameters = 32;

struct Kernel
{
    const char* name;
    const void* function;
    void (*invoke)(const Kernel&, const unsigned char* buffer);
    int parameterCount;
    Parameter parameters[MaxParameters];
    std::size_t bufferSize; // each parameter at its own alignment, no trailing padding (the CUDA driver's layout)
    int launchBound;        // __launch_bounds__'s maximum threads per block; 0 when the kernel declares none
};

template <typename T> constexpr const char* type_name()
{
    using U = std::remove_cv_t<std::remove_pointer_t<T>>;
    constexpr bool p = std::is_pointer_v<T>;
    if constexpr (std::is_same_v<U, float>) return p ? "float*" : "float";
    else if constexpr (std::is_same_v<U, double>) return p ? "double*" : "double";
    else if constexpr (std::is_same_v<U, int>) return p ? "int*" : "int";
    else if constexpr (std::is_same_v<U, unsigned>) return p ? "unsigned*" : "unsigned";
    else if constexpr (std::is_same_v<U, long long>) return p ? "long long*" : "long long";
    else return p ? "pointer" : "value";
}

template <typename T> T load(const unsigned char* at)
{
    T value;
    __builtin_memcpy(&value, at, sizeof(T));
    return value;
}

template <typename... A, std::size_t... I>
void call(void (*f)(A...), const unsigned char* buffer, const Parameter* p, std::index_sequence<I...>)
{
    f(load<A>(buffer + p[I].offset)...);
}

template <typename... A> void invoke(const Kernel& k, const unsigned char* buffer)
{
    call(reinterpret_cast<void (*)(A...)>(const_cast<void*>(k.function)), buffer, k.parameters, std::index_sequence_for<A...>{});
}

template <typename... A> Kernel describe(const char* name, void (*f)(A...), int launchBound)
{
    static_assert(sizeof...(A) <= MaxParameters);
    Kernel k{};
    k.name = name;
    k.function = reinterpret_cast<const void*>(f);
    k.invoke = &invoke<A...>;
    k.parameterCount = sizeof...(A);
    k.launchBound = launchBound;
    std::size_t offset = 0;
    int i = 0;
    ((offset = (offset + alignof(A) - 1) / alignof(A) * alignof(A),
      k.parameters[i++] = Parameter{sizeof(A), alignof(A), offset, std::is_pointer_v<A>, type_name<A>()},
      offset += sizeof(A)), ...);
    k.bufferSize = offset;
    return k;
}

// Defined by kernels.cpp from build.sh's list, in the kernels' own library (libcuda-emulated-kernels.so).
#define EMU_KERNELS_API __attribute__((visibility("default")))
EMU_KERNELS_API extern const Kernel kernels[];
EMU_KERNELS_API extern const int kernelCount;
EMU_KERNELS_API const Kernel* find_kernel(const char* name);
// The module's one `extern __shared__` array (this host thread's copy), or null when the source declares none.
EMU_KERNELS_API unsigned char* dynamic_shared();
constexpr std::size_t DynamicSharedCapacity = 48 * 1024; // a block's default limit without opting in

// ---------------------------------------------------------------- the runtime (runtime.cpp)

// CUresult values the emulator returns (cuda.h).
enum Result : int
{
    Success = 0,
    InvalidValue = 1,
    OutOfMemory = 2,
    NotInitialized = 3,
    InvalidImage = 200,
    InvalidContext = 201,
    InvalidHandle = 400,
    NotFound = 500,
    IllegalAddress = 700,
    LaunchOutOfResources = 701,
    LaunchFailed = 719,
};

// Device memory: every allocation sits between two inaccessible pages, its end as close to the upper one as 16-byte
// alignment allows; the few bytes between hold a canary, as do the unused bytes before its start.
struct Allocation
{
    std::uintptr_t start;
    std::size_t size;
};
std::uintptr_t allocate(std::size_t size);
bool release(std::uintptr_t start);
// The allocation holding [address, address + bytes), if any.
bool find_allocation(std::uintptr_t address, std::size_t bytes, Allocation& found);
// Where address lies relative to the allocations: "12 bytes past the end of the 400-byte allocation at 0x…".
std::string describe_address(std::uintptr_t address);
// The first damaged canary byte around the allocation holding address: a message, or empty when all are intact.
std::string check_canaries(std::uintptr_t address);
std::size_t allocated_bytes();

// Runs a whole grid on the calling host thread. Returns Success, or an error with its message in `message`.
Result launch(const Kernel& kernel, const unsigned (&grid)[3], const unsigned (&block)[3], std::size_t sharedBytes,
              const unsigned char* parameters, std::string& message);

// The error state the driver reports: a kernel fault is sticky until the primary context is released.
Result fail(Result code, const std::string& message);
const char* last_message(Result code);

} // namespace emu
