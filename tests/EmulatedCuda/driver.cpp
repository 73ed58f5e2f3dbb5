// driver.cpp: the CUDA driver API entry points the engine binds (Kernels/Native/Driver.cs), as a test double: one
// emulated device, every call synchronous, device memory from runtime.cpp, kernels from the host-compiled kernels.cu.
// A module image is accepted as NVRTC's PTX (its entries must be exactly the kernels this build compiled, so a stale
// build is refused) or as a CUBIN/fatbin (ELF; not inspected).
#include "emulator.h"

#include <atomic>
#include <chrono>
#include <cstring>
#include <mutex>
#include <set>
#include <string>

#define EXPORT extern "C" __attribute__((visibility("default")))

using namespace emu;

namespace {

constexpr int DriverVersion = 12080;                       // what the emulated driver calls itself (CUDA 12.8)
constexpr std::size_t TotalMemory = 16ull << 30;           // reported, not reserved
const char* const DeviceName = "Emulated CUDA device (test double: kernels.cu compiled for the CPU)";

std::atomic<bool> initialised{false};
std::mutex stateLock;
int contextReferences = 0;
Result sticky = Success; // a kernel fault poisons the context until it is released, as on a GPU

struct Module
{
    std::set<std::string> entries; // empty for an ELF image: every compiled kernel
};

struct Event
{
    std::chrono::steady_clock::time_point at;
};

int dummyContext, dummyStream;

Result guard()
{
    if (!initialised) return NotInitialized;
    std::lock_guard lock(stateLock);
    return sticky;
}

Result check_range(std::uintptr_t address, std::size_t bytes, const char* call)
{
    Allocation a;
    if (bytes == 0 || find_allocation(address, bytes, a)) return Success;
    char text[96];
    std::snprintf(text, sizeof text, "%s: %zu bytes at 0x%lx are not inside one allocation: ", call, bytes, (unsigned long)address);
    return fail(InvalidValue, text + describe_address(address));
}

} // namespace

EXPORT int cuInit(unsigned flags)
{
    if (flags != 0) return InvalidValue;
    initialised = true;
    return Success;
}

EXPORT int cuDriverGetVersion(int* version)
{
    if (!version) return InvalidValue;
    *version = DriverVersion;
    return Success;
}

EXPORT int cuDeviceGetCount(int* count)
{
    if (!initialised) return NotInitialized;
    *count = 1;
    return Success;
}

EXPORT int cuDeviceGet(int* device, int ordinal)
{
    if (!initialised) return NotInitialized;
    if (ordinal != 0) return 101; // CUDA_ERROR_INVALID_DEVICE
    *device = 0;
    return Success;
}

EXPORT int cuDeviceGetName(char* name, int length, int device)
{
    if (device != 0 || length <= 0) return InvalidValue;
    std::strncpy(name, DeviceName, (std::size_t)length - 1);
    name[length - 1] = 0;
    return Success;
}

EXPORT int cuDeviceGetAttribute(int* value, int attribute, int device)
{
    if (device != 0) return 101;
    switch (attribute)
    {
        case 1: *value = 1024; break;                 // max threads per block
        case 2: case 3: *value = 1024; break;         // max block x, y
        case 4: *value = 64; break;                   // max block z
        case 5: *value = 2147483647; break;           // max grid x
        case 6: case 7: *value = 65535; break;        // max grid y, z
        case 8: *value = (int)DynamicSharedCapacity; break;
        case 10: *value = 32; break;                  // warp size
        case 16: *value = 1; break;                   // multiprocessors: the blocks run one after another
        case 75: *value = 9; break;                   // compute capability 9.0, as the H100 the engine targets
        case 76: *value = 0; break;
        case 97: *value = (int)DynamicSharedCapacity; break; // no opt-in beyond the default
        default: *value = 0; break;
    }
    return Success;
}

EXPORT int cuDeviceTotalMem_v2(std::size_t* bytes, int device)
{
    if (device != 0) return 101;
    *bytes = TotalMemory;
    return Success;
}

EXPORT int cuDevicePrimaryCtxRetain(void** context, int device)
{
    if (!initialised) return NotInitialized;
    if (device != 0) return 101;
    std::lock_guard lock(stateLock);
    ++contextReferences;
    *context = &dummyContext;
    return Success;
}

EXPORT int cuDevicePrimaryCtxRelease_v2(int device)
{
    if (device != 0) return 101;
    std::lock_guard lock(stateLock);
    if (contextReferences == 0) return InvalidContext;
    if (--contextReferences == 0) sticky = Success; // the context is destroyed: the next retain gets a fresh one
    return Success;
}

EXPORT int cuCtxSetCurrent(void* context) { return context == &dummyContext || !context ? Success : InvalidContext; }
EXPORT int cuCtxSynchronize() { return guard(); }

EXPORT int cuMemGetInfo_v2(std::size_t* free, std::size_t* total)
{
    *total = TotalMemory;
    *free = TotalMemory - allocated_bytes();
    return guard();
}

EXPORT int cuMemAlloc_v2(std::uintptr_t* pointer, std::size_t bytes)
{
    if (Result r = guard()) return r;
    if (bytes == 0) return InvalidValue;
    if (allocated_bytes() + bytes > TotalMemory) return OutOfMemory;
    *pointer = allocate(bytes);
    return *pointer ? Success : OutOfMemory;
}

EXPORT int cuMemFree_v2(std::uintptr_t pointer)
{
    if (Result r = guard()) return r;
    return release(pointer) ? Success : fail(InvalidValue, "cuMemFree_v2: 0x" + std::to_string(pointer) + " is not the start of an allocation");
}

EXPORT int cuMemcpyHtoDAsync_v2(std::uintptr_t destination, const void* source, std::size_t bytes, void*)
{
    if (Result r = guard()) return r;
    if (Result r = check_range(destination, bytes, "cuMemcpyHtoDAsync_v2 (destination)")) return r;
    std::memcpy(reinterpret_cast<void*>(destination), source, bytes);
    return Success;
}

EXPORT int cuMemcpyDtoHAsync_v2(void* destination, std::uintptr_t source, std::size_t bytes, void*)
{
    if (Result r = guard()) return r;
    if (Result r = check_range(source, bytes, "cuMemcpyDtoHAsync_v2 (source)")) return r;
    std::memcpy(destination, reinterpret_cast<const void*>(source), bytes);
    return Success;
}

EXPORT int cuMemcpyDtoDAsync_v2(std::uintptr_t destination, std::uintptr_t source, std::size_t bytes, void*)
{
    if (Result r = guard()) return r;
    if (Result r = check_range(source, bytes, "cuMemcpyDtoDAsync_v2 (source)")) return r;
    if (Result r = check_range(destination, bytes, "cuMemcpyDtoDAsync_v2 (destination)")) return r;
    std::memmove(reinterpret_cast<void*>(destination), reinterpret_cast<const void*>(source), bytes);
    return Success;
}

EXPORT int cuMemsetD8Async(std::uintptr_t destination, unsigned char value, std::size_t count, void*)
{
    if (Result r = guard()) return r;
    if (Result r = check_range(destination, count, "cuMemsetD8Async")) return r;
    std::memset(reinterpret_cast<void*>(destination), value, count);
    return Success;
}

EXPORT int cuMemsetD32Async(std::uintptr_t destination, unsigned value, std::size_t count, void*)
{
    if (Result r = guard()) return r;
    if (destination % 4) return InvalidValue;
    if (Result r = check_range(destination, count * 4, "cuMemsetD32Async")) return r;
    auto* words = reinterpret_cast<unsigned*>(destination);
    for (std::size_t i = 0; i < count; ++i) words[i] = value;
    return Success;
}

EXPORT int cuMemHostAlloc(void** pointer, std::size_t bytes, unsigned)
{
    *pointer = std::aligned_alloc(4096, (bytes + 4095) / 4096 * 4096);
    return *pointer ? Success : OutOfMemory;
}

EXPORT int cuMemFreeHost(void* pointer)
{
    std::free(pointer);
    return Success;
}

EXPORT int cuModuleLoadData(void** module, const void* image)
{
    if (Result r = guard()) return r;
    if (!image) return InvalidValue;
    auto* m = new Module();
    const char* text = static_cast<const char*>(image);
    if (std::memcmp(text, "\x7f" "ELF", 4) != 0)
    {
        if (!std::strstr(text, ".version") || !std::strstr(text, ".target"))
        {
            delete m;
            return fail(InvalidImage, "cuModuleLoadData: the image is neither PTX nor an ELF CUBIN");
        }
        for (const char* at = text; (at = std::strstr(at, ".entry ")); )
        {
            at += 7;
            std::size_t length = std::strcspn(at, "( \t\n");
            m->entries.emplace(at, length);
        }
        for (const auto& name : m->entries)
            if (!find_kernel(name.c_str()))
            {
                delete m;
                return fail(InvalidImage, "cuModuleLoadData: the PTX has kernel " + name +
                                              ", which this emulator build lacks: rebuild it from the same kernels.cu (scripts/emulated-cuda.sh does)");
            }
        for (int k = 0; k < kernelCount; ++k)
            if (!m->entries.count(kernels[k].name))
            {
                std::string name = kernels[k].name;
                delete m;
                return fail(InvalidImage, "cuModuleLoadData: this emulator build has kernel " + name +
                                              ", which the PTX lacks: rebuild it from the same kernels.cu (scripts/emulated-cuda.sh does)");
            }
    }
    *module = m;
    return Success;
}

EXPORT int cuModuleLoadDataEx(void** module, const void* image, unsigned, void*, void**) { return cuModuleLoadData(module, image); }

EXPORT int cuModuleGetFunction(const Kernel** function, Module* module, const char* name)
{
    if (Result r = guard()) return r;
    if (!module) return InvalidHandle;
    const Kernel* k = find_kernel(name);
    if (!k || (!module->entries.empty() && !module->entries.count(name))) return NotFound;
    *function = k;
    return Success;
}

EXPORT int cuModuleUnload(Module* module)
{
    delete module;
    return Success;
}

// Parameters come as kernelParams (one pointer per parameter, each read with the kernel's own size, as the driver does)
// or as one packed buffer in `extra` (CU_LAUNCH_PARAM_BUFFER_POINTER/SIZE), whose size must be the kernel's exactly.
EXPORT int cuLaunchKernel(const Kernel* kernel, unsigned gx, unsigned gy, unsigned gz, unsigned bx, unsigned by, unsigned bz,
                          unsigned sharedBytes, void*, void** kernelParams, void** extra)
{
    if (Result r = guard()) return r;
    if (!kernel) return InvalidHandle;
    const std::string name = kernel->name;
    const unsigned long long threads = (unsigned long long)bx * by * bz;
    if (!gx || !gy || !gz || !bx || !by || !bz || bx > 1024 || by > 1024 || bz > 64 || threads > 1024 || gy > 65535 || gz > 65535 || gx > 2147483647u)
        return fail(InvalidValue, "cuLaunchKernel(" + name + "): grid (" + std::to_string(gx) + "," + std::to_string(gy) + "," + std::to_string(gz) +
                                      ") of blocks (" + std::to_string(bx) + "," + std::to_string(by) + "," + std::to_string(bz) + ") is outside the device's limits");
    if (kernel->launchBound && threads > (unsigned long long)kernel->launchBound)
        return fail(LaunchOutOfResources, "cuLaunchKernel(" + name + "): " + std::to_string(threads) + " threads per block, but the kernel declares __launch_bounds__(" +
                                              std::to_string(kernel->launchBound) + ")");
    if (sharedBytes > DynamicSharedCapacity)
        return fail(InvalidValue, "cuLaunchKernel(" + name + "): " + std::to_string(sharedBytes) + " bytes of dynamic shared memory; a block gets at most " +
                                      std::to_string(DynamicSharedCapacity) + " without opting in");
    if (sharedBytes > 0 && !dynamic_shared())
        return fail(InvalidValue, "cuLaunchKernel(" + name + "): dynamic shared memory asked for, but the source declares no extern __shared__ array");

    std::string signature;
    for (int p = 0; p < kernel->parameterCount; ++p) signature += (p ? ", " : "") + std::string(kernel->parameters[p].type);
    unsigned char buffer[MaxParameters * 8] = {};
    if ((kernelParams == nullptr) == (extra == nullptr))
        return fail(InvalidValue, "cuLaunchKernel(" + name + "): exactly one of kernelParams and extra must be given");
    if (kernelParams)
    {
        for (int p = 0; p < kernel->parameterCount; ++p)
            std::memcpy(buffer + kernel->parameters[p].offset, kernelParams[p], kernel->parameters[p].size);
    }
    else
    {
        const void* packed = nullptr;
        std::size_t size = 0;
        for (void** at = extra; *at; at += 2)
        {
            if (*at == (void*)1) packed = at[1];
            else if (*at == (void*)2) size = *static_cast<std::size_t*>(at[1]);
            else return fail(InvalidValue, "cuLaunchKernel(" + name + "): unknown entry in extra");
        }
        if (size != kernel->bufferSize || (size && !packed))
            return fail(InvalidValue, "cuLaunchKernel(" + name + "): the launch passes " + std::to_string(size) + " bytes of parameters, but " + name + "(" + signature +
                                          ") takes " + std::to_string(kernel->bufferSize) + " (" + std::to_string(kernel->parameterCount) + " parameters)");
        std::memcpy(buffer, packed, size);
    }
    for (int p = 0; p < kernel->parameterCount; ++p)
    {
        if (!kernel->parameters[p].pointer) continue;
        std::uintptr_t address = load<std::uintptr_t>(buffer + kernel->parameters[p].offset);
        Allocation a;
        if (address && !find_allocation(address, 0, a))
            return fail(InvalidValue, "cuLaunchKernel(" + name + "): parameter " + std::to_string(p) + " (" + kernel->parameters[p].type +
                                          ") is not a device address: " + describe_address(address));
    }
    std::string message;
    const unsigned grid[3] = {gx, gy, gz}, block[3] = {bx, by, bz};
    Result result = launch(*kernel, grid, block, sharedBytes, buffer, message);
    if (result == Success) return Success;
    // As on a GPU, a fault inside a kernel surfaces at the next synchronising call and poisons the context.
    fail(result, message);
    std::lock_guard lock(stateLock);
    sticky = result;
    return Success;
}

EXPORT int cuStreamCreate(void** stream, unsigned)
{
    if (Result r = guard()) return r;
    *stream = &dummyStream;
    return Success;
}

EXPORT int cuStreamSynchronize(void*) { return guard(); }
EXPORT int cuStreamDestroy_v2(void*) { return Success; }

EXPORT int cuEventCreate(Event** event, unsigned)
{
    *event = new Event();
    return Success;
}

EXPORT int cuEventRecord(Event* event, void*)
{
    event->at = std::chrono::steady_clock::now();
    return guard();
}

EXPORT int cuEventSynchronize(Event*) { return guard(); }

EXPORT int cuEventElapsedTime(float* milliseconds, Event* start, Event* end)
{
    *milliseconds = std::chrono::duration<float, std::milli>(end->at - start->at).count();
    return Success;
}

EXPORT int cuEventDestroy_v2(Event* event)
{
    delete event;
    return Success;
}

namespace {
const char* error_name(int code)
{
    switch (code)
    {
        case Success: return "CUDA_SUCCESS";
        case InvalidValue: return "CUDA_ERROR_INVALID_VALUE";
        case OutOfMemory: return "CUDA_ERROR_OUT_OF_MEMORY";
        case NotInitialized: return "CUDA_ERROR_NOT_INITIALIZED";
        case 101: return "CUDA_ERROR_INVALID_DEVICE";
        case InvalidImage: return "CUDA_ERROR_INVALID_IMAGE";
        case InvalidContext: return "CUDA_ERROR_INVALID_CONTEXT";
        case InvalidHandle: return "CUDA_ERROR_INVALID_HANDLE";
        case NotFound: return "CUDA_ERROR_NOT_FOUND";
        case IllegalAddress: return "CUDA_ERROR_ILLEGAL_ADDRESS";
        case LaunchOutOfResources: return "CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES";
        case LaunchFailed: return "CUDA_ERROR_LAUNCH_FAILED";
        default: return nullptr;
    }
}
} // namespace

EXPORT int cuGetErrorName(int code, const char** text)
{
    *text = error_name(code);
    return *text ? Success : InvalidValue;
}

// The detailed message of the last error with this code (which kernel, which thread, which address), else its name.
EXPORT int cuGetErrorString(int code, const char** text)
{
    const char* detail = last_message((Result)code);
    *text = detail ? detail : error_name(code);
    return *text ? Success : InvalidValue;
}
