// kernels.cpp: the kernel source (kernels.cu, or a variant given to build.sh) compiled by the host compiler against
// cuda_emulation.h, and the registry of its kernels that build.sh listed in generated.inc.
#include "cuda_emulation.h"
#include EMU_KERNEL_SOURCE
#include "emulator.h"

#include <cstring>

// The source's `extern __shared__` array: this host thread's copy, as large as a block may ask for.
#define EMU_DYNAMIC_SHARED(name)                                                                                       \
    thread_local __attribute__((aligned(16))) unsigned char name[emu::DynamicSharedCapacity];                        \
    unsigned char* emu::dynamic_shared() { return name; }
#define EMU_KERNEL(name, bound)
#include "generated.inc"
#undef EMU_DYNAMIC_SHARED
#undef EMU_KERNEL

#ifndef EMU_HAS_DYNAMIC_SHARED
unsigned char* emu::dynamic_shared() { return nullptr; }
#endif

#define EMU_DYNAMIC_SHARED(name)
#define EMU_FIRST(maxThreads, ...) (maxThreads) // __launch_bounds__'s first argument
#define EMU_KERNEL(name, bound) emu::describe(#name, &name, bound),
const emu::Kernel emu::kernels[] = {
#include "generated.inc"
};
const int emu::kernelCount = sizeof(emu::kernels) / sizeof(emu::kernels[0]);

const emu::Kernel* emu::find_kernel(const char* name)
{
    for (int k = 0; k < kernelCount; ++k)
        if (std::strcmp(kernels[k].name, name) == 0) return &kernels[k];
    return nullptr;
}
