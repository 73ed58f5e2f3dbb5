// runtime.cpp: the emulated device's execution and memory. A launch runs its blocks one after another on the calling
// host thread; within a block every GPU thread is a fiber (its own stack, switched by emu_switch below), run lowest
// thread first until it waits at a barrier or a warp rendezvous or ends. Running warp 0 as far as it can go before
// warp 1 starts is what makes a missing barrier show: the early warps read shared memory the late ones have not
// written yet. What goes wrong inside a kernel (a fault on a guard page, a trap, a barrier or rendezvous that not
// every thread reaches) aborts the launch with a message naming the kernel, the block, the thread and the line.
#include "cuda_emulation.h"
#include "emulator.h"

#include <csetjmp>
#include <csignal>
#include <cstdio>
#include <deque>
#include <map>
#include <mutex>
#include <vector>

#include <dlfcn.h>
#include <link.h>
#include <sys/mman.h>
#include <ucontext.h>
#include <unistd.h>

#if !defined(__x86_64__)
#error "the emulated CUDA device switches fibers with x86-64 assembly"
#endif

// Saves the callee-saved registers and the floating-point control words on the current stack, stores the stack
// pointer in *save, and resumes the context whose stack pointer is next (System V x86-64).
extern "C" void emu_switch(void** save, void* next);
// A new fiber's first return lands here, with its Fiber* in r12.
extern "C" void emu_fiber_start();
// glibc's way to a module's thread-local block for the calling thread (allocated on first use).
struct TlsIndex
{
    unsigned long module, offset;
};
extern "C" void* __tls_get_addr(TlsIndex* index);
asm(R"(
    .text
    .globl emu_switch
    .hidden emu_switch
    .type emu_switch, @function
emu_switch:
    pushq %rbp
    pushq %rbx
    pushq %r12
    pushq %r13
    pushq %r14
    pushq %r15
    subq $16, %rsp
    stmxcsr 8(%rsp)
    fnstcw (%rsp)
    movq %rsp, (%rdi)
    movq %rsi, %rsp
    fldcw (%rsp)
    ldmxcsr 8(%rsp)
    addq $16, %rsp
    popq %r15
    popq %r14
    popq %r13
    popq %r12
    popq %rbx
    popq %rbp
    ret
    .size emu_switch, .-emu_switch

    .globl emu_fiber_start
    .hidden emu_fiber_start
    .type emu_fiber_start, @function
emu_fiber_start:
    movq %r12, %rdi
    call emu_fiber_main@PLT
    ud2
    .size emu_fiber_start, .-emu_fiber_start
)");

namespace emu {

thread_local const ThreadContext* current;

namespace {

constexpr int MaxThreads = 1024;
constexpr std::size_t StackBytes = 128 * 1024;
const std::size_t PageBytes = (std::size_t)sysconf(_SC_PAGESIZE);
constexpr unsigned char Canary = 0xA5;
constexpr unsigned char Poison = 0xFF; // uninitialised device and shared memory: NaN in every float, −1 in every int

enum class State { Runnable, AtBarrier, AtWarp, Done };

struct Fiber
{
    void* sp = nullptr;
    ThreadContext context{};
    int index = 0; // the thread's linear index in its block
    State state = State::Runnable;
    int line = 0;  // where it waits
    std::uint64_t warpResult = 0;
    unsigned char* stackTop = nullptr;
};

struct Rendezvous
{
    unsigned arrived = 0, mask = 0;
    WarpOp op = WarpOp::Sync;
    int line = 0;
    std::uint64_t bits[32];
    int argument[32], width[32];
};

// What goes wrong inside a block, kept until the launch has unwound back to the scheduler.
struct Abort
{
    Result code = Success;
    std::string message;
    // A fault, described only after the signal handler has jumped out.
    int signal = 0;
    std::uintptr_t address = 0;
    bool write = false;
};

struct BlockRunner
{
    const Kernel* kernel = nullptr;
    const unsigned char* parameters = nullptr;
    int threads = 0;
    std::vector<Fiber> fibers;
    std::vector<Rendezvous> warps;
    std::uint64_t runnable[MaxThreads / 64];
    int done = 0, atBarrier = 0, barrierLine = 0;
    void* schedulerSp = nullptr;
    Fiber* running = nullptr;
    unsigned char* stacks = nullptr; // MaxThreads stacks, each above an inaccessible guard page
    sigjmp_buf escape;
    Abort abort;
    bool inKernel = false;

    BlockRunner()
    {
        std::size_t each = StackBytes + PageBytes;
        void* memory = mmap(nullptr, each * MaxThreads, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (memory == MAP_FAILED) { std::perror("emulated CUDA: fiber stacks"); std::abort(); }
        stacks = static_cast<unsigned char*>(memory);
        for (int t = 0; t < MaxThreads; ++t) mprotect(stacks + t * each, PageBytes, PROT_NONE);
        fibers.resize(MaxThreads);
        for (int t = 0; t < MaxThreads; ++t) fibers[t].stackTop = stacks + (t + 1) * each;
    }

    void set_runnable(int t, bool on)
    {
        if (on) runnable[t >> 6] |= 1ull << (t & 63);
        else runnable[t >> 6] &= ~(1ull << (t & 63));
    }

    int lowest_runnable() const
    {
        for (int w = 0; w < (threads + 63) / 64; ++w)
            if (runnable[w]) return w * 64 + __builtin_ctzll(runnable[w]);
        return -1;
    }
};

thread_local BlockRunner* runner;

BlockRunner& this_runner()
{
    if (!runner) runner = new BlockRunner(); // one per host thread that launches, kept for the life of the thread
    return *runner;
}

std::string where(const BlockRunner& r, const Fiber* f)
{
    char text[160];
    const ThreadContext& c = f ? f->context : r.fibers[0].context;
    if (f)
        std::snprintf(text, sizeof text, "kernel %s, block (%u,%u,%u), thread (%u,%u,%u)", r.kernel->name, c.block.x, c.block.y,
                      c.block.z, c.thread.x, c.thread.y, c.thread.z);
    else
        std::snprintf(text, sizeof text, "kernel %s, block (%u,%u,%u)", r.kernel->name, c.block.x, c.block.y, c.block.z);
    return text;
}

// Leaves the block from inside a fiber: back to launch(), which reports the message.
[[noreturn]] void abort_block(Result code, const std::string& message)
{
    BlockRunner& r = *runner;
    r.abort.code = code;
    r.abort.message = message;
    siglongjmp(r.escape, 1);
}

// The running fiber stops until something makes it runnable again.
void wait_here(BlockRunner& r, Fiber& f)
{
    r.set_runnable(f.index, false);
    emu_switch(&f.sp, r.schedulerSp);
}

void release_barrier(BlockRunner& r)
{
    for (int t = 0; t < r.threads; ++t)
    {
        r.fibers[t].state = State::Runnable;
        r.set_runnable(t, true);
    }
    r.atBarrier = 0;
}

const char* op_name(WarpOp op)
{
    switch (op)
    {
        case WarpOp::Index: return "__shfl_sync";
        case WarpOp::Down: return "__shfl_down_sync";
        case WarpOp::Up: return "__shfl_up_sync";
        case WarpOp::Xor: return "__shfl_xor_sync";
        case WarpOp::Ballot: return "__ballot_sync";
        case WarpOp::Any: return "__any_sync";
        case WarpOp::All: return "__all_sync";
        default: return "__syncwarp";
    }
}

// The lanes a warp has: 32, or fewer in the last warp of a block whose size is not a multiple of 32.
unsigned existing_lanes(const BlockRunner& r, int warp)
{
    int lanes = r.threads - warp * 32;
    return lanes >= 32 ? 0xffffffffu : (1u << lanes) - 1;
}

// Every lane of the mask has arrived: give each its result and let them all run on.
void complete_rendezvous(BlockRunner& r, int warp, Rendezvous& w)
{
    const Fiber& last = *r.running;
    for (int lane = 0; lane < 32; ++lane)
    {
        if (!(w.mask >> lane & 1)) continue;
        std::uint64_t result = 0;
        const int width = w.width[lane];
        const int base = lane & ~(width - 1);
        int source = lane;
        switch (w.op)
        {
            case WarpOp::Index: source = base + (w.argument[lane] & (width - 1)); break;
            case WarpOp::Down: source = lane + w.argument[lane] < base + width ? lane + w.argument[lane] : lane; break;
            case WarpOp::Up: source = lane - w.argument[lane] >= base ? lane - w.argument[lane] : lane; break;
            case WarpOp::Xor: source = (lane ^ w.argument[lane]) < base + width ? lane ^ w.argument[lane] : lane; break;
            default: break;
        }
        if (w.op == WarpOp::Ballot || w.op == WarpOp::Any || w.op == WarpOp::All)
        {
            unsigned votes = 0;
            for (int l = 0; l < 32; ++l)
                if ((w.mask >> l & 1) && w.bits[l]) votes |= 1u << l;
            result = w.op == WarpOp::Ballot ? votes : w.op == WarpOp::Any ? votes != 0 : votes == w.mask;
        }
        else if (w.op != WarpOp::Sync)
        {
            if (!(w.mask >> source & 1))
                abort_block(LaunchFailed, where(r, &last) + ", line " + std::to_string(w.line) + ": lane " + std::to_string(lane) + "'s " +
                                              op_name(w.op) + " reads lane " + std::to_string(source) + ", which is not in the mask");
            result = w.bits[source];
        }
        Fiber& f = r.fibers[warp * 32 + lane];
        f.warpResult = result;
        f.state = State::Runnable;
        r.set_runnable(f.index, true);
    }
    w.arrived = 0;
}

} // namespace

// ---------------------------------------------------------------- what kernels call

void sync_threads(int line)
{
    BlockRunner& r = *runner;
    Fiber& f = *r.running;
    if (r.done > 0)
        abort_block(LaunchFailed, where(r, &f) + ": __syncthreads at line " + std::to_string(line) + " is not reached by every thread of its block (" +
                                      std::to_string(r.done) + " have returned)");
    if (r.atBarrier > 0 && r.barrierLine != line)
        abort_block(LaunchFailed, where(r, &f) + ": threads of one block wait at different barriers: __syncthreads at line " +
                                      std::to_string(r.barrierLine) + " and at line " + std::to_string(line));
    r.barrierLine = line;
    f.state = State::AtBarrier;
    f.line = line;
    if (++r.atBarrier == r.threads)
    {
        release_barrier(r);
        return;
    }
    wait_here(r, f);
}

std::uint64_t warp_exchange(WarpOp op, unsigned mask, std::uint64_t bits, int argument, int width, int line)
{
    BlockRunner& r = *runner;
    Fiber& f = *r.running;
    const int warp = f.index / 32, lane = f.index % 32;
    auto fault = [&](const std::string& what) {
        abort_block(LaunchFailed, where(r, &f) + ", line " + std::to_string(line) + ": " + op_name(op) + " " + what);
    };
    if (!(mask >> lane & 1)) fault("names a mask without the calling lane");
    if (mask & ~existing_lanes(r, warp)) fault("names lanes that do not exist (the block's last warp is partial)");
    if (width <= 0 || width > 32 || (width & (width - 1))) fault("has a width that is not a power of two up to 32");
    Rendezvous& w = r.warps[warp];
    if (w.arrived == 0)
    {
        w.mask = mask;
        w.op = op;
        w.line = line;
    }
    else if (w.mask != mask || w.op != op)
        fault("meets lanes of its warp waiting at " + std::string(op_name(w.op)) + " (line " + std::to_string(w.line) + ") with another mask or operation");
    for (int l = 0; l < 32; ++l)
        if ((mask >> l & 1) && r.fibers[warp * 32 + l].state == State::Done)
            fault("waits for lane " + std::to_string(l) + ", which has already returned");
    w.bits[lane] = bits;
    w.argument[lane] = argument;
    w.width[lane] = width;
    w.arrived |= 1u << lane;
    f.state = State::AtWarp;
    f.line = line;
    if (w.arrived == w.mask) complete_rendezvous(r, warp, w);
    else wait_here(r, f);
    return f.warpResult;
}

void sync_warp(int line, unsigned mask) { warp_exchange(WarpOp::Sync, mask, 0, 0, 32, line); }

void trap(int line)
{
    BlockRunner& r = *runner;
    abort_block(LaunchFailed, where(r, r.running) + ": __trap() at line " + std::to_string(line));
}

} // namespace emu

// Every fiber starts here and never returns: the kernel body, then back to the scheduler for good.
extern "C" __attribute__((used)) void emu_fiber_main(emu::Fiber* f)
{
    using namespace emu;
    BlockRunner& r = *runner;
    r.kernel->invoke(*r.kernel, r.parameters);
    f->state = State::Done;
    r.set_runnable(f->index, false);
    ++r.done;
    if (r.atBarrier > 0)
        abort_block(LaunchFailed, where(r, f) + " returned, so __syncthreads at line " + std::to_string(r.barrierLine) +
                                      ", where other threads wait, is not reached by every thread of its block");
    Rendezvous& w = r.warps[f->index / 32];
    if (w.arrived && (w.mask >> (f->index % 32) & 1))
        abort_block(LaunchFailed, where(r, f) + " returned while lanes of its warp wait for it at " + op_name(w.op) + " (line " +
                                      std::to_string(w.line) + ")");
    void* unused;
    emu_switch(&unused, r.schedulerSp);
    __builtin_unreachable();
}

namespace emu {
namespace {

// Sets up a fiber's stack so that switching to it enters emu_fiber_start with the Fiber* in r12 (see emu_switch).
void prepare(Fiber& f)
{
    auto* top = reinterpret_cast<std::uint64_t*>(f.stackTop); // 16-byte aligned
    top[-1] = reinterpret_cast<std::uint64_t>(&emu_fiber_start);
    top[-2] = 0;                                  // rbp
    top[-3] = 0;                                  // rbx
    top[-4] = reinterpret_cast<std::uint64_t>(&f); // r12
    top[-5] = top[-6] = top[-7] = 0;              // r13, r14, r15
    top[-8] = 0x1F80;                             // mxcsr (at +8)
    top[-9] = 0x037F;                             // x87 control word (at +0)
    f.sp = top - 9;
}

// Diagnoses a block in which nothing can run but not every thread has finished.
std::string deadlock(const BlockRunner& r)
{
    for (int t = 0; t < r.threads; ++t)
    {
        const Fiber& f = r.fibers[t];
        if (f.state == State::AtWarp)
        {
            const Rendezvous& w = r.warps[t / 32];
            for (int l = 0; l < 32; ++l)
            {
                const Fiber& other = r.fibers[(t / 32) * 32 + l];
                if ((w.mask >> l & 1) && other.state == State::AtBarrier)
                    return where(r, &f) + " waits at " + op_name(w.op) + " (line " + std::to_string(w.line) + ") for lane " + std::to_string(l) +
                           ", which waits at __syncthreads (line " + std::to_string(other.line) + ")";
            }
        }
    }
    return where(r, nullptr) + ": threads wait that nothing can release";
}

std::string describe_fault(const BlockRunner& r, const Fiber* f)
{
    const Abort& a = r.abort;
    if (a.signal == SIGFPE) return where(r, f) + ": integer division by zero (a GPU would give an undefined value)";
    std::string what = a.address < PageBytes ? "dereferenced a null pointer" : a.write ? "wrote" : "read";
    if (a.address >= PageBytes) what += " outside any allocation: " + describe_address(a.address);
    return where(r, f) + ": illegal address " + [&] {
        char text[32];
        std::snprintf(text, sizeof text, "0x%lx", (unsigned long)a.address);
        return std::string(text);
    }() + ": " + what;
}

// Faults inside kernels become reports; any other fault goes to whoever handled the signal before us (.NET does).
struct sigaction previousSegv, previousBus, previousFpe;

void on_fault(int signal, siginfo_t* info, void* context)
{
    BlockRunner* r = runner;
    if (r && r->inKernel)
    {
        r->abort.code = IllegalAddress;
        r->abort.signal = signal;
        r->abort.address = reinterpret_cast<std::uintptr_t>(info->si_addr);
        r->abort.write = (static_cast<ucontext_t*>(context)->uc_mcontext.gregs[REG_ERR] & 2) != 0;
        siglongjmp(r->escape, 2);
    }
    const struct sigaction& previous = signal == SIGSEGV ? previousSegv : signal == SIGBUS ? previousBus : previousFpe;
    if (previous.sa_flags & SA_SIGINFO) previous.sa_sigaction(signal, info, context);
    else if (previous.sa_handler == SIG_DFL) { ::signal(signal, SIG_DFL); raise(signal); }
    else if (previous.sa_handler != SIG_IGN) previous.sa_handler(signal);
}

void install_fault_handlers()
{
    static std::once_flag once;
    std::call_once(once, [] {
        struct sigaction action{};
        action.sa_sigaction = on_fault;
        action.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER;
        sigemptyset(&action.sa_mask);
        sigaction(SIGSEGV, &action, &previousSegv);
        sigaction(SIGBUS, &action, &previousBus);
        sigaction(SIGFPE, &action, &previousFpe);
    });
}

// The kernels' library has no thread-local data but the source's __shared__ variables (static and dynamic): its
// thread-local block is this host thread's shared memory, which every launch starts from poisoned.
struct SharedMemory
{
    unsigned long module = 0;
    std::size_t size = 0;
};

SharedMemory find_shared_memory()
{
    Dl_info info{};
    SharedMemory found;
    if (!dladdr(static_cast<const void*>(kernels), &info) || !info.dli_fname) return found;
    struct Search
    {
        const char* file;
        SharedMemory* found;
    } search{info.dli_fname, &found};
    dl_iterate_phdr(
        [](dl_phdr_info* object, std::size_t, void* data) {
            auto* s = static_cast<Search*>(data);
            if (!object->dlpi_name || std::strcmp(object->dlpi_name, s->file) != 0) return 0;
            for (int p = 0; p < object->dlpi_phnum; ++p)
                if (object->dlpi_phdr[p].p_type == PT_TLS) *s->found = SharedMemory{object->dlpi_tls_modid, object->dlpi_phdr[p].p_memsz};
            return 1;
        },
        &search);
    return found;
}

void poison_shared_memory(unsigned char* dynamic)
{
    static const SharedMemory shared = find_shared_memory();
    if (shared.size)
    {
        TlsIndex index{shared.module, 0};
        std::memset(__tls_get_addr(&index), Poison, shared.size);
    }
    if (dynamic) std::memset(dynamic, Canary, DynamicSharedCapacity);
}

} // namespace

Result launch(const Kernel& kernel, const unsigned (&grid)[3], const unsigned (&block)[3], std::size_t sharedBytes,
              const unsigned char* parameters, std::string& message)
{
    install_fault_handlers();
    BlockRunner& r = this_runner();
    r.kernel = &kernel;
    r.parameters = parameters;
    r.threads = (int)(block[0] * block[1] * block[2]);
    r.warps.assign((r.threads + 31) / 32, Rendezvous{});
    for (int t = 0; t < r.threads; ++t)
    {
        Fiber& f = r.fibers[t];
        f.index = t;
        f.context.thread = {t % block[0], t / block[0] % block[1], t / (block[0] * block[1])};
        f.context.blockSize = {block[0], block[1], block[2]};
        f.context.gridSize = {grid[0], grid[1], grid[2]};
    }
    unsigned char* shared = dynamic_shared();
    poison_shared_memory(shared);
    for (unsigned bz = 0; bz < grid[2]; ++bz)
        for (unsigned by = 0; by < grid[1]; ++by)
            for (unsigned bx = 0; bx < grid[0]; ++bx)
            {
                if (shared) std::memset(shared, Poison, sharedBytes);
                for (int t = 0; t < r.threads; ++t)
                {
                    Fiber& f = r.fibers[t];
                    f.context.block = {bx, by, bz};
                    f.state = State::Runnable;
                    prepare(f);
                    r.set_runnable(t, true);
                }
                r.done = r.atBarrier = 0;
                r.abort = Abort{};
                if (sigsetjmp(r.escape, 1) != 0)
                {
                    r.inKernel = false;
                    current = nullptr;
                    message = r.abort.signal ? describe_fault(r, r.running) : r.abort.message;
                    return r.abort.code;
                }
                r.inKernel = true;
                for (int t; (t = r.lowest_runnable()) >= 0;)
                {
                    r.running = &r.fibers[t];
                    current = &r.running->context;
                    emu_switch(&r.schedulerSp, r.running->sp);
                }
                r.inKernel = false;
                current = nullptr;
                if (r.done != r.threads)
                {
                    message = deadlock(r);
                    return LaunchFailed;
                }
            }
    if (shared)
        for (std::size_t i = sharedBytes; i < DynamicSharedCapacity; ++i)
            if (shared[i] != Canary)
            {
                message = "kernel " + std::string(kernel.name) + " wrote dynamic shared memory at byte " + std::to_string(i) +
                          ", beyond the " + std::to_string(sharedBytes) + " bytes its launch asked for";
                return IllegalAddress;
            }
    for (int p = 0; p < kernel.parameterCount; ++p)
        if (kernel.parameters[p].pointer)
        {
            std::uintptr_t address = load<std::uintptr_t>(parameters + kernel.parameters[p].offset);
            if (!address) continue;
            std::string damage = check_canaries(address);
            if (!damage.empty())
            {
                message = "kernel " + std::string(kernel.name) + " wrote outside the allocation of its parameter " + std::to_string(p) +
                          " (" + kernel.parameters[p].type + "): " + damage;
                return IllegalAddress;
            }
        }
    return Success;
}

// ---------------------------------------------------------------- device memory

namespace {

struct Region
{
    std::uintptr_t base;  // the lower guard page
    std::size_t length;   // guard + data pages + guard
    std::size_t size;     // what was asked for
    std::uintptr_t start; // what the caller got
};

std::mutex memoryLock;
std::map<std::uintptr_t, Region> regions; // by base
std::size_t liveBytes = 0;

std::size_t round_up(std::size_t n, std::size_t to) { return (n + to - 1) / to * to; }

const Region* region_near(std::uintptr_t address)
{
    auto it = regions.upper_bound(address);
    if (it == regions.begin()) return nullptr;
    --it;
    return address < it->second.base + it->second.length ? &it->second : nullptr;
}

} // namespace

std::uintptr_t allocate(std::size_t size)
{
    const std::size_t rounded = round_up(size ? size : 1, 16), data = round_up(rounded, PageBytes);
    const std::size_t length = data + 2 * PageBytes;
    void* memory = mmap(nullptr, length, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (memory == MAP_FAILED) return 0;
    auto base = reinterpret_cast<std::uintptr_t>(memory);
    mprotect(memory, PageBytes, PROT_NONE);
    mprotect(reinterpret_cast<void*>(base + PageBytes + data), PageBytes, PROT_NONE);
    const std::uintptr_t start = base + PageBytes + data - rounded;
    std::memset(reinterpret_cast<void*>(base + PageBytes), Canary, start - (base + PageBytes));
    std::memset(reinterpret_cast<void*>(start), Poison, size);
    std::memset(reinterpret_cast<void*>(start + size), Canary, rounded - size);
    std::lock_guard lock(memoryLock);
    regions[base] = Region{base, length, size, start};
    liveBytes += size;
    return start;
}

bool release(std::uintptr_t start)
{
    Region region;
    {
        std::lock_guard lock(memoryLock);
        const Region* r = region_near(start);
        if (!r || r->start != start) return false;
        region = *r;
        regions.erase(r->base);
        liveBytes -= region.size;
    }
    munmap(reinterpret_cast<void*>(region.base), region.length);
    return true;
}

bool find_allocation(std::uintptr_t address, std::size_t bytes, Allocation& found)
{
    std::lock_guard lock(memoryLock);
    const Region* r = region_near(address);
    if (!r || address < r->start || address + bytes > r->start + r->size) return false;
    found = Allocation{r->start, r->size};
    return true;
}

std::string describe_address(std::uintptr_t address)
{
    std::lock_guard lock(memoryLock);
    const Region* r = region_near(address);
    if (!r) return "no allocation is near it";
    char text[160];
    if (address >= r->start + r->size)
        std::snprintf(text, sizeof text, "%zu bytes past the end of the %zu-byte allocation at 0x%lx", (std::size_t)(address - r->start - r->size),
                      r->size, (unsigned long)r->start);
    else if (address < r->start)
        std::snprintf(text, sizeof text, "%zu bytes before the start of the %zu-byte allocation at 0x%lx", (std::size_t)(r->start - address),
                      r->size, (unsigned long)r->start);
    else
        std::snprintf(text, sizeof text, "inside the %zu-byte allocation at 0x%lx", r->size, (unsigned long)r->start);
    return text;
}

std::string check_canaries(std::uintptr_t address)
{
    std::lock_guard lock(memoryLock);
    const Region* r = region_near(address);
    if (!r) return "";
    const auto* bytes = reinterpret_cast<const unsigned char*>(r->base + PageBytes);
    const std::size_t before = r->start - (r->base + PageBytes);
    const std::size_t after = round_up(r->size ? r->size : 1, 16) - r->size;
    char text[160];
    for (std::size_t i = 0; i < before; ++i)
        if (bytes[i] != Canary)
        {
            std::snprintf(text, sizeof text, "%zu bytes before the start of the %zu-byte allocation at 0x%lx", before - i, r->size,
                          (unsigned long)r->start);
            return text;
        }
    const auto* tail = reinterpret_cast<const unsigned char*>(r->start + r->size);
    for (std::size_t i = 0; i < after; ++i)
        if (tail[i] != Canary)
        {
            std::snprintf(text, sizeof text, "%zu bytes past the end of the %zu-byte allocation at 0x%lx", i, r->size, (unsigned long)r->start);
            return text;
        }
    return "";
}

std::size_t allocated_bytes()
{
    std::lock_guard lock(memoryLock);
    return liveBytes;
}

// ---------------------------------------------------------------- errors

namespace {
std::mutex errorLock;
Result lastCode = Success;
std::deque<std::string> messages; // kept for the life of the process: cuGetErrorString hands out pointers into them
}

Result fail(Result code, const std::string& message)
{
    std::lock_guard lock(errorLock);
    lastCode = code;
    messages.push_back(message);
    std::fprintf(stderr, "emulated CUDA: %s\n", message.c_str());
    return code;
}

const char* last_message(Result code)
{
    std::lock_guard lock(errorLock);
    return code == lastCode && !messages.empty() ? messages.back().c_str() : nullptr;
}

} // namespace emu
