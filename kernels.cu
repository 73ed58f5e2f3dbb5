// kernels.cu: every hand-written CUDA kernel of the engine, in numbered sections.
//
// How this file is built. The engine embeds this file and compiles it at run time with NVRTC for the GPU it finds
// (CMakeLists.txt also builds it ahead of time into kernels.fatbin, for Nsight and for machines without NVRTC).
// NVRTC compiles it without the CUDA include path, so it includes NOTHING: only CUDA's built-in device functions
// (expf/exp, logf/log, __shfl_down_sync, atomicOr, ...) and what is defined here. Plain CUDA C++17.
//
// Conventions.
//  - Names: extern "C" kernels named <op>_<pass>_<dtype>, dtype f32 (float) or f64 (double), e.g.
//    unary_forward_f32. Each is a thin wrapper over a template body sea::<op>_<pass><T> (extern "C" cannot be a
//    template); the SEA_FLOATING macro instantiates both dtypes. The one exception is fill_i32.
//  - Tensors are dense row-major matrices; a rows×cols tensor's element (r, c) is at r*cols + c. Indices are int32;
//    element counts (n) and every product rows*cols are 64-bit (long long).
//  - Op codes are ints matching the C# enums exactly:
//      UnaryOp  {Neg=0, Scale=1, AddScalar=2, Exp=3, Log=4, Sigmoid=5, LogSigmoid=6, Tanh=7, Relu=8, LeakyRelu=9,
//                Square=10, Sqrt=11}
//      BinaryOp {Add=0, Sub=1, Mul=2, Div=3}
//      ReduceOp {Sum=0, Mean=1, Max=2}
//  - Forwards overwrite their outputs; backwards ADD into their gradients (dx += ...), exactly as the CPU backend
//    (Engine/Cpu/CpuBackend*.cs), which is the reference every kernel here is held to, op by op.
//  - Determinism: no floating-point atomics anywhere. Every sum runs in an order fixed by the shapes and the launch
//    shape alone (a thread's own strided loop in index order, then a fixed shuffle tree, then a fixed tree over the
//    warps of the block), so the same inputs give the same bits on every run. Sums are not in the CPU's order, and
//    NVRTC/nvcc contract a*b + c into fused multiply-adds by default: results match the CPU to rounding, not bits
//    (scatter_add_rows excepted: it adds in the CPU's order and is bit-identical).
//  - Launch shapes. Unless a kernel's comment says otherwise, a kernel runs with 256 threads per block (any multiple
//    of 32 up to 1024 works) and loops over its work grid-stride, so ANY grid of at least one block computes the
//    right result; the grid given in each comment is the recommended one (cap it, e.g. at 65535 blocks, the loops
//    cover the rest). "Warp per row" kernels give row r to global warp r (then r + number of warps, ...).
//    Dynamic shared memory is zero unless the comment gives a size; sizes above 48 KB need the kernel's
//    CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES raised first.
//  - Elementwise kernels accept y == x (in place); other outputs must not alias inputs.
//  - Sections: 0 helpers, 1 fill, 2 elementwise, 3 reductions and row-wise ops, 4 rows, 5 batch norm, 6 CSR SpMM,
//    7 Adam, 8 BPR, 9 InfoNCE, 10 top-K, 11 CLUB.

// ================================================================================================================
// 0. Helpers
// ================================================================================================================

// Dynamic shared memory, one array for the whole module (each kernel carves it up; see its comment for the size).
extern __shared__ __align__(16) unsigned char sea_dynamic_shared[];

namespace sea {

constexpr unsigned FULL_MASK = 0xffffffffu;

// Per-dtype constants and math. Overloads rather than templates: NVRTC has no <cmath>, and the float versions must
// call the float functions (expf, not exp) to stay in single precision.
__device__ __forceinline__ float  d_exp(float x)   { return expf(x); }
__device__ __forceinline__ double d_exp(double x)  { return exp(x); }
__device__ __forceinline__ float  d_log(float x)   { return logf(x); }
__device__ __forceinline__ double d_log(double x)  { return log(x); }
__device__ __forceinline__ float  d_log1p(float x) { return log1pf(x); }
__device__ __forceinline__ double d_log1p(double x){ return log1p(x); }
__device__ __forceinline__ float  d_tanh(float x)  { return tanhf(x); }
__device__ __forceinline__ double d_tanh(double x) { return tanh(x); }
__device__ __forceinline__ float  d_sqrt(float x)  { return sqrtf(x); }
__device__ __forceinline__ double d_sqrt(double x) { return sqrt(x); }

template <typename T> __device__ __forceinline__ T pos_inf();
template <> __device__ __forceinline__ float  pos_inf<float>()  { return __int_as_float(0x7f800000); }
template <> __device__ __forceinline__ double pos_inf<double>() { return __longlong_as_double(0x7ff0000000000000LL); }
template <typename T> __device__ __forceinline__ T quiet_nan();
template <> __device__ __forceinline__ float  quiet_nan<float>()  { return __int_as_float(0x7fc00000); }
template <> __device__ __forceinline__ double quiet_nan<double>() { return __longlong_as_double(0x7ff8000000000000LL); }

template <typename T> __device__ __forceinline__ bool is_nan(T x) { return x != x; }
template <typename T> __device__ __forceinline__ bool is_inf(T x) { return x == pos_inf<T>() || x == -pos_inf<T>(); }

// The maximum as .NET's Math.Max and TensorPrimitives.Max compute it (IEEE 754:2019 maximum): NaN if either is
// NaN, and +0 above -0. For equal zeros a + b is +0 unless both are -0.
template <typename T> __device__ __forceinline__ T max_nan(T a, T b)
{
    if (is_nan(a)) return a;
    if (is_nan(b)) return b;
    if (a > b) return a;
    if (b > a) return b;
    return a == T(0) ? a + b : a;
}

// relu(x) = TensorPrimitives.Max(x, 0): NaN stays NaN, -0 becomes +0.
template <typename T> __device__ __forceinline__ T relu(T x) { return x > T(0) ? x : (is_nan(x) ? x : T(0)); }

// log σ(x) = −log(1 + e^−x), arranged so that the exponential never overflows (as CpuBackend.LogSigmoid).
template <typename T> __device__ __forceinline__ T log_sigmoid(T x)
{
    return x >= T(0) ? -d_log1p(d_exp(-x)) : x - d_log1p(d_exp(x));
}

// σ(x) without overflow for large |x| (as CpuBackend.Sigmoid, used by the backwards).
template <typename T> __device__ __forceinline__ T stable_sigmoid(T x)
{
    if (x >= T(0)) return T(1) / (T(1) + d_exp(-x));
    T e = d_exp(x);
    return e / (T(1) + e);
}

// Thread and warp numbering for grid-stride loops.
__device__ __forceinline__ long long global_thread()  { return (long long)blockIdx.x * blockDim.x + threadIdx.x; }
__device__ __forceinline__ long long global_threads() { return (long long)gridDim.x * blockDim.x; }
__device__ __forceinline__ int lane_id()              { return (int)(threadIdx.x & 31u); }
__device__ __forceinline__ int warp_id()              { return (int)(threadIdx.x >> 5); }
__device__ __forceinline__ int warps_per_block()      { return (int)(blockDim.x >> 5); }
__device__ __forceinline__ long long global_warp()    { return global_thread() >> 5; }
__device__ __forceinline__ long long global_warps()   { return global_threads() >> 5; }

struct SumOp { template <typename T> __device__ __forceinline__ T operator()(T a, T b) const { return a + b; } };
struct MaxOp { template <typename T> __device__ __forceinline__ T operator()(T a, T b) const { return max_nan(a, b); } };
struct MinOp { template <typename T> __device__ __forceinline__ T operator()(T a, T b) const { return b < a ? b : a; } };

// A fixed shuffle tree over the 32 lanes; every lane must call it. Returns the result in EVERY lane (lane 0's value,
// broadcast), so callers may branch on it uniformly.
template <typename T, typename Op> __device__ __forceinline__ T warp_reduce(T v, Op op)
{
#pragma unroll
    for (int offset = 16; offset > 0; offset >>= 1) v = op(v, __shfl_down_sync(FULL_MASK, v, offset));
    return __shfl_sync(FULL_MASK, v, 0);
}

template <typename T> __device__ __forceinline__ T warp_sum(T v) { return warp_reduce(v, SumOp()); }

// A fixed tree over the block: each warp's shuffle tree, then warp 0 folds the warps' results with another. Every
// thread of the block must call it (blockDim a multiple of 32, at most 1024); returns the result in every thread.
// Ends with a barrier, so it may be called again straight away.
template <typename T, typename Op> __device__ T block_reduce(T v, Op op, T identity)
{
    __shared__ T partial[32];
    v = warp_reduce(v, op);
    if (lane_id() == 0) partial[warp_id()] = v;
    __syncthreads();
    if (warp_id() == 0)
    {
        T w = lane_id() < warps_per_block() ? partial[lane_id()] : identity;
        w = warp_reduce(w, op);
        if (lane_id() == 0) partial[0] = w;
    }
    __syncthreads();
    T result = partial[0];
    __syncthreads();
    return result;
}

template <typename T> __device__ __forceinline__ T block_sum(T v) { return block_reduce(v, SumOp(), T(0)); }

// Index of b's element that broadcasts onto element (r, c) of an rows×cols a: b is rows×cols, 1×cols (a row
// broadcast down every row), rows×1 (a column broadcast along every column) or 1×1 (CpuBackend.Broadcast).
__device__ __forceinline__ long long broadcast_index(long long r, long long c, int bRows, int bCols)
{
    return (bRows == 1 ? 0 : r) * bCols + (bCols == 1 ? 0 : c);
}

// ================================================================================================================
// 1. Fill
// ================================================================================================================

// y[i] = v. Grid: ceil(n/256) blocks of 256 (grid-stride). Elementwise: one thread per element is all it needs.
template <typename T> __device__ void fill(long long n, T v, T* y)
{
    for (long long i = global_thread(); i < n; i += global_threads()) y[i] = v;
}

// ================================================================================================================
// 2. Elementwise
// ================================================================================================================

template <typename T> __device__ __forceinline__ T unary_value(int op, T x, T alpha)
{
    switch (op)
    {
        case 0:  return -x;                                   // Neg
        case 1:  return x * alpha;                            // Scale
        case 2:  return x + alpha;                            // AddScalar
        case 3:  return d_exp(x);                             // Exp
        case 4:  return d_log(x);                             // Log
        case 5:  return T(1) / (T(1) + d_exp(-x));            // Sigmoid (TensorPrimitives.Sigmoid's formula)
        case 6:  return log_sigmoid(x);                       // LogSigmoid
        case 7:  return d_tanh(x);                            // Tanh
        case 8:  return relu(x);                              // Relu
        case 9:  return x > T(0) ? x : alpha * x;             // LeakyRelu (α = negative slope)
        case 10: return x * x;                                // Square
        case 11: return d_sqrt(x);                            // Sqrt
        default: return quiet_nan<T>();
    }
}

// y = op(x). Grid: ceil(n/256) blocks of 256 (grid-stride). Elementwise: one thread per element; the op is uniform,
// so the switch never diverges.
template <typename T> __device__ void unary_forward(int op, long long n, const T* x, T* y, T alpha)
{
    for (long long i = global_thread(); i < n; i += global_threads()) y[i] = unary_value(op, x[i], alpha);
}

// The term each op adds to dx, given x, the forward's y and dy (CpuBackend.UnaryBackward).
template <typename T> __device__ __forceinline__ T unary_gradient(int op, T x, T y, T dy, T alpha)
{
    switch (op)
    {
        case 0:  return -dy;                                  // Neg: dx −= dy
        case 1:  return dy * alpha;                           // Scale
        case 2:  return dy;                                   // AddScalar
        case 3:  return dy * y;                               // Exp: y = e^x
        case 4:  return dy / x;                               // Log
        case 5:  return dy * y * (T(1) - y);                  // Sigmoid
        case 6:  return dy * stable_sigmoid(-x);              // LogSigmoid: dy·σ(−x), never overflows
        case 7:  return dy * (T(1) - y * y);                  // Tanh
        case 8:  return x > T(0) ? dy : T(0);                 // Relu
        case 9:  return x > T(0) ? dy : alpha * dy;           // LeakyRelu
        case 10: return T(2) * x * dy;                        // Square
        case 11: return dy / (T(2) * y);                      // Sqrt
        default: return quiet_nan<T>();
    }
}

// dx += dy·op'(x). Grid: ceil(n/256) blocks of 256 (grid-stride). Elementwise, like the forward.
template <typename T> __device__ void unary_backward(int op, long long n, const T* x, const T* y, const T* dy, T* dx, T alpha)
{
    for (long long i = global_thread(); i < n; i += global_threads())
    {
        if (op == 0) dx[i] = dx[i] - dy[i]; // as the CPU: a subtraction, not an addition of −dy
        else dx[i] += unary_gradient(op, x[i], y[i], dy[i], alpha);
    }
}

template <typename T> __device__ __forceinline__ T binary_value(int op, T a, T b)
{
    switch (op)
    {
        case 0:  return a + b;
        case 1:  return a - b;
        case 2:  return a * b;
        case 3:  return a / b;
        default: return quiet_nan<T>();
    }
}

// y = a op b, b broadcast (see broadcast_index). Grid: ceil(rows·cols/256) blocks of 256 (grid-stride).
// Elementwise over y; b's broadcast is a matter of indexing only.
template <typename T>
__device__ void binary_forward(int op, int rows, int cols, const T* a, const T* b, int bRows, int bCols, T* y)
{
    long long n = (long long)rows * cols;
    for (long long i = global_thread(); i < n; i += global_threads())
    {
        long long r = i / cols, c = i - r * cols;
        y[i] = binary_value(op, a[i], b[broadcast_index(r, c, bRows, bCols)]);
    }
}

// da += ∂(a op b)/∂a · dy. Grid: ceil(rows·cols/256) blocks of 256 (grid-stride). Elementwise over a.
template <typename T>
__device__ void binary_backward_a(int op, int rows, int cols, const T* a, const T* b, int bRows, int bCols, const T* dy, T* da)
{
    long long n = (long long)rows * cols;
    for (long long i = global_thread(); i < n; i += global_threads())
    {
        long long r = i / cols, c = i - r * cols;
        T g = dy[i];
        if (op == 2) g = g * b[broadcast_index(r, c, bRows, bCols)];
        else if (op == 3) g = g / b[broadcast_index(r, c, bRows, bCols)];
        da[i] += g;
    }
}

// Element (r, c)'s contribution to b's gradient: Add dy, Sub −dy, Mul dy·a, Div −dy·a/b² (CpuBackend.RowContribution).
template <typename T> __device__ __forceinline__ T binary_b_term(int op, T dy, T a, T b)
{
    switch (op)
    {
        case 0:  return dy;
        case 1:  return -dy;
        case 2:  return dy * a;
        case 3:  return -dy * a / (b * b);
        default: return quiet_nan<T>();
    }
}

// db += the contributions of the elements that b broadcast onto, summed per entry of b. One launch, four shapes,
// each a fixed order:
//   b rows×cols:           elementwise (grid-stride over threads);
//   b rows×1 (cols > 1):   a warp per row, lanes strided over the row, shuffle tree;
//   b 1×cols (rows > 1):   a block per chunk of 32 columns, its warps taking rows g, g+W, ... in order, then the
//                          warps' partial sums folded in warp order (the column sums of a bias gradient);
//   b 1×1 (both > 1):      block 0 alone, a block tree over all elements.
// Grid: ceil(rows·cols/256) blocks of 256 covers every case (any grid ≥ 1 is correct). The shapes give each entry
// of db one owner, so no two threads ever add into one entry.
template <typename T>
__device__ void binary_backward_b(int op, int rows, int cols, const T* a, const T* b, int bRows, int bCols, const T* dy, T* db)
{
    const bool rowsBroadcast = bRows == 1 && rows != 1;
    const bool colsBroadcast = bCols == 1 && cols != 1;
    const long long n = (long long)rows * cols;
    if (!rowsBroadcast && !colsBroadcast)
    {
        for (long long i = global_thread(); i < n; i += global_threads()) db[i] += binary_b_term(op, dy[i], a[i], b[i]);
        return;
    }
    if (!rowsBroadcast) // b is rows×1 (or 1×1 with a single row): one sum per row
    {
        for (long long r = global_warp(); r < rows; r += global_warps())
        {
            T bv = b[r];
            T acc = T(0);
            for (long long c = lane_id(); c < cols; c += 32)
            {
                long long i = r * cols + c;
                acc += binary_b_term(op, dy[i], a[i], bv);
            }
            acc = warp_sum(acc);
            if (lane_id() == 0) db[r] += acc;
        }
        return;
    }
    if (!colsBroadcast) // b is 1×cols: one sum per column
    {
        __shared__ T partial[32][32];
        const int chunks = (cols + 31) / 32, lane = lane_id(), warp = warp_id(), warps = warps_per_block();
        for (int chunk = blockIdx.x; chunk < chunks; chunk += gridDim.x)
        {
            const int c = chunk * 32 + lane;
            T acc = T(0);
            if (c < cols)
            {
                T bv = b[c];
                for (long long r = warp; r < rows; r += warps)
                {
                    long long i = r * cols + c;
                    acc += binary_b_term(op, dy[i], a[i], bv);
                }
            }
            partial[warp][lane] = acc;
            __syncthreads();
            if (warp == 0 && c < cols)
            {
                T total = partial[0][lane];
                for (int w = 1; w < warps; ++w) total += partial[w][lane];
                db[c] += total;
            }
            __syncthreads();
        }
        return;
    }
    // b is 1×1 and broadcast both ways: one sum over everything, by block 0.
    if (blockIdx.x != 0) return;
    const T bv = b[0];
    T acc = T(0);
    for (long long i = threadIdx.x; i < n; i += blockDim.x) acc += binary_b_term(op, dy[i], a[i], bv);
    acc = block_sum(acc);
    if (threadIdx.x == 0) db[0] += acc;
}

// y += α·x. Grid: ceil(n/256) blocks of 256 (grid-stride). Elementwise.
template <typename T> __device__ void add_scaled(long long n, T alpha, const T* x, T* y)
{
    for (long long i = global_thread(); i < n; i += global_threads()) y[i] = x[i] * alpha + y[i];
}

// ================================================================================================================
// 3. Reductions and row-wise ops
// ================================================================================================================

// Reduces x (rows×cols) with op (Sum 0, Mean 1, Max 2) over everything (dim −1, y 1×1), over rows (dim 0, y 1×cols)
// or over columns (dim 1, y rows×1). Max propagates NaN and ranks +0 above −0, as TensorPrimitives.Max.
//   dim −1: block 0 alone: each thread folds its strided elements in order, then a block tree (one output: one
//           block keeps the order fixed without a second pass).
//   dim 0:  a block per chunk of 32 columns; warp g folds rows g, g+W, ... in order, then the warps' partials are
//           folded in warp order (coalesced rows, and W chains in flight instead of one).
//   dim 1:  a warp per row, lanes strided over the row, shuffle tree.
// Grid: dim −1: 1 block; dim 0: ceil(cols/32) blocks; dim 1: ceil(rows/8) blocks; 256 threads each.
template <typename T> __device__ void reduce_forward(int op, int dim, int rows, int cols, const T* x, T* y)
{
    const bool isMax = op == 2;
    const T identity = isMax ? -pos_inf<T>() : T(0);
    if (dim < 0)
    {
        if (blockIdx.x != 0) return;
        const long long n = (long long)rows * cols;
        T acc = identity;
        for (long long i = threadIdx.x; i < n; i += blockDim.x) acc = isMax ? max_nan(acc, x[i]) : acc + x[i];
        acc = isMax ? block_reduce(acc, MaxOp(), identity) : block_sum(acc);
        if (threadIdx.x == 0) y[0] = op == 1 ? acc / (T)n : acc;
        return;
    }
    if (dim == 0)
    {
        __shared__ T partial[32][32];
        const int chunks = (cols + 31) / 32, lane = lane_id(), warp = warp_id(), warps = warps_per_block();
        for (int chunk = blockIdx.x; chunk < chunks; chunk += gridDim.x)
        {
            const int c = chunk * 32 + lane;
            T acc = identity;
            if (c < cols)
                for (long long r = warp; r < rows; r += warps)
                {
                    T v = x[r * cols + c];
                    acc = isMax ? max_nan(acc, v) : acc + v;
                }
            partial[warp][lane] = acc;
            __syncthreads();
            if (warp == 0 && c < cols)
            {
                T total = partial[0][lane];
                for (int w = 1; w < warps; ++w) total = isMax ? max_nan(total, partial[w][lane]) : total + partial[w][lane];
                y[c] = op == 1 ? total / (T)rows : total;
            }
            __syncthreads();
        }
        return;
    }
    for (long long r = global_warp(); r < rows; r += global_warps())
    {
        const T* row = x + r * cols;
        T acc = identity;
        for (int c = lane_id(); c < cols; c += 32) acc = isMax ? max_nan(acc, row[c]) : acc + row[c];
        acc = isMax ? warp_reduce(acc, MaxOp()) : warp_sum(acc);
        if (lane_id() == 0) y[r] = op == 1 ? acc / (T)cols : acc;
    }
}

// dx += the gradient of the reduction given dy (shaped like y). Sum/Mean: dx += dy·scale (scale = 1/count for Mean,
// 1 for Sum, as the CPU), elementwise over x. Max: dy goes to the FIRST element (row-major) equal to y within each
// reduced group (the CPU's tie-break; a NaN maximum equals nothing and sends nothing):
//   dim −1: block 0 alone, each thread's first match in its strided order, then a block minimum of the indices;
//   dim 0:  a thread per column scanning rows in order up to its first match;
//   dim 1:  a warp per row, each lane's first match, then a shuffle minimum.
// Grid: ceil(rows·cols/256) blocks of 256 (grid-stride; correct for any grid ≥ 1).
template <typename T>
__device__ void reduce_backward(int op, int dim, int rows, int cols, const T* x, const T* y, const T* dy, T* dx)
{
    const long long n = (long long)rows * cols;
    if (op != 2)
    {
        const long long count = dim < 0 ? n : (dim == 0 ? (long long)rows : (long long)cols);
        const T scale = op == 1 ? T(1) / (T)count : T(1);
        for (long long i = global_thread(); i < n; i += global_threads())
        {
            long long r = i / cols, c = i - r * cols;
            long long o = dim < 0 ? 0 : (dim == 0 ? c : r);
            dx[i] += dy[o] * scale;
        }
        return;
    }
    const long long none = 0x7fffffffffffffffLL;
    if (dim < 0)
    {
        if (blockIdx.x != 0) return;
        const T target = y[0];
        long long first = none;
        for (long long i = threadIdx.x; i < n; i += blockDim.x)
            if (x[i] == target) { first = i; break; }
        first = block_reduce(first, MinOp(), none);
        if (threadIdx.x == 0 && first != none) dx[first] += dy[0];
        return;
    }
    if (dim == 0)
    {
        for (long long c = global_thread(); c < cols; c += global_threads())
        {
            const T target = y[c];
            for (long long r = 0; r < rows; ++r)
                if (x[r * cols + c] == target) { dx[r * cols + c] += dy[c]; break; }
        }
        return;
    }
    for (long long r = global_warp(); r < rows; r += global_warps())
    {
        const T target = y[r];
        long long first = none;
        for (long long c = lane_id(); c < cols; c += 32)
            if (x[r * cols + c] == target) { first = c; break; }
        first = warp_reduce(first, MinOp());
        if (lane_id() == 0 && first != none) dx[r * cols + first] += dy[r];
    }
}

// y (rows×1) = max + log Σ exp(x − max) per row; an infinite (or NaN) maximum is returned as it is, as the CPU.
// Grid: ceil(rows/8) blocks of 256: a warp per row (rows are short: 32 lanes cover one in a few strides).
template <typename T> __device__ void logsumexp_rows_forward(int rows, int cols, const T* x, T* y)
{
    for (long long r = global_warp(); r < rows; r += global_warps())
    {
        const T* row = x + r * cols;
        T m = -pos_inf<T>();
        for (int c = lane_id(); c < cols; c += 32) m = max_nan(m, row[c]);
        m = warp_reduce(m, MaxOp());
        if (is_inf(m))
        {
            if (lane_id() == 0) y[r] = m;
            continue; // m is the same in every lane: the whole warp moves on together
        }
        T s = T(0);
        for (int c = lane_id(); c < cols; c += 32) s += d_exp(row[c] - m);
        s = warp_sum(s);
        if (lane_id() == 0) y[r] = m + d_log(s);
    }
}

// dx += dy_r · exp(x − y_r) (the softmax of the row). Grid: ceil(rows·cols/256) blocks of 256: elementwise.
template <typename T> __device__ void logsumexp_rows_backward(int rows, int cols, const T* x, const T* y, const T* dy, T* dx)
{
    const long long n = (long long)rows * cols;
    for (long long i = global_thread(); i < n; i += global_threads())
    {
        long long r = i / cols;
        dx[i] += dy[r] * d_exp(x[i] - y[r]);
    }
}

// y = exp(x − max) / Σ exp(x − max), or (x − max) − log Σ exp(x − max) when log ≠ 0 (CpuBackend.SoftmaxRows).
// Grid: ceil(rows/8) blocks of 256: a warp per row.
template <typename T> __device__ void softmax_rows_forward(int log, int rows, int cols, const T* x, T* y)
{
    for (long long r = global_warp(); r < rows; r += global_warps())
    {
        const T* xr = x + r * cols;
        T* yr = y + r * cols;
        T m = -pos_inf<T>();
        for (int c = lane_id(); c < cols; c += 32) m = max_nan(m, xr[c]);
        m = warp_reduce(m, MaxOp());
        T s = T(0);
        for (int c = lane_id(); c < cols; c += 32) s += d_exp(xr[c] - m);
        s = warp_sum(s);
        if (log)
        {
            const T logSum = d_log(s);
            for (int c = lane_id(); c < cols; c += 32) yr[c] = (xr[c] - m) - logSum;
        }
        else
        {
            for (int c = lane_id(); c < cols; c += 32) yr[c] = d_exp(xr[c] - m) / s;
        }
    }
}

// softmax: dx += y ⊙ (dy − ⟨dy, y⟩); log-softmax: dx += dy − exp(y) · Σ dy. Grid: ceil(rows/8) blocks of 256: a warp
// per row (one row sum, then an elementwise pass over the same row).
template <typename T> __device__ void softmax_rows_backward(int log, int rows, int cols, const T* y, const T* dy, T* dx)
{
    for (long long r = global_warp(); r < rows; r += global_warps())
    {
        const T* yr = y + r * cols;
        const T* gr = dy + r * cols;
        T* dr = dx + r * cols;
        T s = T(0);
        if (log) for (int c = lane_id(); c < cols; c += 32) s += gr[c];
        else for (int c = lane_id(); c < cols; c += 32) s += gr[c] * yr[c];
        s = warp_sum(s);
        if (log) for (int c = lane_id(); c < cols; c += 32) dr[c] += gr[c] - d_exp(yr[c]) * s;
        else for (int c = lane_id(); c < cols; c += 32) dr[c] += yr[c] * (gr[c] - s);
    }
}

// y = x / max(‖x‖, ε) per row. Grid: ceil(rows/8) blocks of 256: a warp per row.
template <typename T> __device__ void row_l2_normalize_forward(int rows, int cols, const T* x, T* y, T eps)
{
    for (long long r = global_warp(); r < rows; r += global_warps())
    {
        const T* xr = x + r * cols;
        T* yr = y + r * cols;
        T s = T(0);
        for (int c = lane_id(); c < cols; c += 32) s += xr[c] * xr[c];
        const T denominator = max_nan(d_sqrt(warp_sum(s)), eps);
        for (int c = lane_id(); c < cols; c += 32) yr[c] = xr[c] / denominator;
    }
}

// dx += (dy − y·⟨dy, y⟩) / ‖x‖, or dy / ε where the norm was clamped (‖x‖ ≤ ε). Grid: ceil(rows/8) blocks of 256: a
// warp per row.
template <typename T>
__device__ void row_l2_normalize_backward(int rows, int cols, const T* x, const T* y, const T* dy, T* dx, T eps)
{
    for (long long r = global_warp(); r < rows; r += global_warps())
    {
        const T* xr = x + r * cols;
        const T* yr = y + r * cols;
        const T* gr = dy + r * cols;
        T* dr = dx + r * cols;
        T s = T(0);
        for (int c = lane_id(); c < cols; c += 32) s += xr[c] * xr[c];
        const T norm = d_sqrt(warp_sum(s));
        if (norm <= eps)
        {
            for (int c = lane_id(); c < cols; c += 32) dr[c] += gr[c] / eps;
            continue; // uniform: norm is the same in every lane
        }
        T p = T(0);
        for (int c = lane_id(); c < cols; c += 32) p += gr[c] * yr[c];
        const T projection = warp_sum(p);
        for (int c = lane_id(); c < cols; c += 32) dr[c] += (gr[c] - yr[c] * projection) / norm;
    }
}

// ================================================================================================================
// 4. Rows
// ================================================================================================================

// dst[i] = src[index[i]] (k rows of cols). Indices must be in range (the host checks them). Grid: ceil(k·cols/256)
// blocks of 256: elementwise over dst, so consecutive threads copy consecutive columns (coalesced).
template <typename T> __device__ void gather_rows(int k, int cols, const T* src, const int* index, T* dst)
{
    const long long n = (long long)k * cols;
    for (long long i = global_thread(); i < n; i += global_threads())
    {
        long long r = i / cols, c = i - r * cols;
        dst[i] = src[(long long)index[r] * cols + c];
    }
}

// dst[index[i]] += src[i] for i = 0..k−1, deterministically and without atomics: each warp owns 32 columns and one
// residue class of target rows (target % groups == group), and walks i = 0..k−1 in order adding only the rows whose
// target it owns. Every element of dst thus receives its contributions in the CPU's order, from a single thread
// (bit-identical to the CPU), while `groups` warps per column chunk keep several dependent chains in flight.
// groups = max(1, total warps / ceil(cols/32)). Grid: 8·ceil(cols/32) blocks of 256 (64 groups); any grid works.
template <typename T> __device__ void scatter_add_rows(int k, int cols, const T* src, const int* index, T* dst)
{
    if (k <= 0 || cols <= 0) return;
    const long long chunks = (cols + 31) / 32;
    const long long warps = global_warps();
    const long long groups = warps / chunks > 0 ? warps / chunks : 1;
    const long long tasks = chunks * groups;
    for (long long task = global_warp(); task < tasks; task += warps)
    {
        const long long chunk = task % chunks, group = task / chunks;
        const long long c = chunk * 32 + lane_id();
        for (int i = 0; i < k; ++i)
        {
            const long long target = index[i];
            if (target % groups != group) continue; // the same for the whole warp
            if (c < cols) dst[target * cols + c] += src[(long long)i * cols + c];
        }
    }
}

// Copies a rows×cols block: dst[r·dstStride + c] = (or +=, when accumulate ≠ 0) src[r·srcStride + c]. The pointers
// are already offset to the blocks' corners. Grid: ceil(rows·cols/256) blocks of 256: elementwise.
template <typename T>
__device__ void copy_block(int rows, int cols, const T* src, int srcStride, T* dst, int dstStride, int accumulate)
{
    const long long n = (long long)rows * cols;
    for (long long i = global_thread(); i < n; i += global_threads())
    {
        long long r = i / cols, c = i - r * cols;
        T v = src[r * srcStride + c];
        T* d = dst + r * dstStride + c;
        if (accumulate) *d = *d + v;
        else *d = v;
    }
}

// ================================================================================================================
// 5. Batch normalisation (training mode, biased variance, per column)
// ================================================================================================================

// mean_c = Σ_r x / rows, then invStd_c = 1 / sqrt(Σ_r (x − mean)² / rows + ε) (two passes, for accuracy), then
// y = γ·(x − mean)·invStd + β. Grid: cols blocks of 256: a block per column, two block trees, then the column's
// elementwise pass (columns are few, 64 at most here, and rows many).
template <typename T>
__device__ void batchnorm_forward(int rows, int cols, const T* x, const T* gamma, const T* beta, T* y, T* mean, T* invStd, T eps)
{
    const T count = (T)rows;
    for (long long c = blockIdx.x; c < cols; c += gridDim.x)
    {
        T s = T(0);
        for (long long r = threadIdx.x; r < rows; r += blockDim.x) s += x[r * cols + c];
        const T mu = block_sum(s) / count;
        T v = T(0);
        for (long long r = threadIdx.x; r < rows; r += blockDim.x)
        {
            T d = x[r * cols + c] - mu;
            v += d * d;
        }
        const T inv = T(1) / d_sqrt(block_sum(v) / count + eps);
        if (threadIdx.x == 0) { mean[c] = mu; invStd[c] = inv; }
        const T g = gamma[c], b = beta[c];
        for (long long r = threadIdx.x; r < rows; r += blockDim.x) y[r * cols + c] = g * (x[r * cols + c] - mu) * inv + b;
    }
}

// With x̂ = (x − mean)·invStd: dβ += Σ dy, dγ += Σ dy·x̂, dx += γ·invStd/m · (m·dy − Σ dy − x̂·Σ dy·x̂) (sums over the
// rows of the column; CpuBackend.BatchNormBackward). Grid: cols blocks of 256: a block per column, as the forward.
template <typename T>
__device__ void batchnorm_backward(int rows, int cols, const T* x, const T* gamma, const T* mean, const T* invStd, const T* dy,
                                   T* dx, T* dGamma, T* dBeta)
{
    const T count = (T)rows;
    for (long long c = blockIdx.x; c < cols; c += gridDim.x)
    {
        const T mu = mean[c], inv = invStd[c];
        T s = T(0), sx = T(0);
        for (long long r = threadIdx.x; r < rows; r += blockDim.x)
        {
            T g = dy[r * cols + c];
            s += g;
            sx += g * (x[r * cols + c] - mu) * inv;
        }
        const T sumDy = block_sum(s);
        const T sumDyXhat = block_sum(sx);
        if (threadIdx.x == 0) { dBeta[c] += sumDy; dGamma[c] += sumDyXhat; }
        const T factor = gamma[c] * inv / count;
        for (long long r = threadIdx.x; r < rows; r += blockDim.x)
        {
            long long i = r * cols + c;
            T xhat = (x[i] - mu) * inv;
            dx[i] += factor * (count * dy[i] - sumDy - xhat * sumDyXhat);
        }
    }
}

// ================================================================================================================
// 6. CSR SpMM (normalised-adjacency propagation)
// ================================================================================================================

// y = A·x + β·y for a CSR matrix A (rows × ·, rowPtr rows+1, colIdx/values nnz) and dense x (· × n), y (rows × n).
// β == 0 ignores y's old contents (even NaN). Each output element adds its row's entries in column order (CSR rows
// are sorted), the CPU's order. Grid: ceil(rows/8) blocks of 256: a warp per row, lanes over the n columns, so each
// non-zero's row of x is read coalesced (n = 64: two passes of 32 lanes).
template <typename T>
__device__ void spmm_csr_forward(int rows, int n, const int* rowPtr, const int* colIdx, const T* values, const T* x, T beta, T* y)
{
    for (long long r = global_warp(); r < rows; r += global_warps())
    {
        const int start = rowPtr[r], end = rowPtr[r + 1];
        T* yr = y + r * n;
        for (int c = lane_id(); c < n; c += 32)
        {
            T acc = beta == T(0) ? T(0) : (beta == T(1) ? yr[c] : yr[c] * beta);
            for (int e = start; e < end; ++e) acc += values[e] * x[(long long)colIdx[e] * n + c];
            yr[c] = acc;
        }
    }
}

// ================================================================================================================
// 7. Adam
// ================================================================================================================

// One Adam step with the CPU's arithmetic (PyTorch's): g += wd·p when wd ≠ 0; m += (1−β₁)(g − m);
// v = v·β₂ + (1−β₂)g²; p −= stepSize · m / (sqrt(v)/bc2Sqrt + ε), where the host computes in double
// stepSize = lr/(1−β₁ᵗ) and bc2Sqrt = sqrt(1−β₂ᵗ). Grid: ceil(n/256) blocks of 256: elementwise.
template <typename T>
__device__ __forceinline__ void adam_update(T& p, T g, T& m, T& v, T stepSize, T bc2Sqrt, T oneMinusBeta1, T beta2,
                                            T oneMinusBeta2, T eps, T weightDecay)
{
    if (weightDecay != T(0)) g += weightDecay * p;
    m += oneMinusBeta1 * (g - m);
    v = v * beta2 + oneMinusBeta2 * g * g;
    p -= stepSize * (m / (d_sqrt(v) / bc2Sqrt + eps));
}

template <typename T>
__device__ void adam_step(long long n, T* p, const T* g, T* m, T* v, T stepSize, T bc2Sqrt, T oneMinusBeta1, T beta2,
                          T oneMinusBeta2, T eps, T weightDecay)
{
    for (long long i = global_thread(); i < n; i += global_threads())
    {
        T pi = p[i], mi = m[i], vi = v[i];
        adam_update(pi, g[i], mi, vi, stepSize, bc2Sqrt, oneMinusBeta1, beta2, oneMinusBeta2, eps, weightDecay);
        m[i] = mi;
        v[i] = vi;
        p[i] = pi;
    }
}

// ================================================================================================================
// 8. BPR loss, fused
// ================================================================================================================

// lossPerRow[i] = −log σ(pos_i − neg_i), stable. The host takes the mean (and the log-2 scaling where asked).
// Grid: ceil(b/256) blocks of 256: elementwise.
template <typename T> __device__ void bpr_forward(int b, const T* pos, const T* neg, T* lossPerRow)
{
    for (long long i = global_thread(); i < b; i += global_threads()) lossPerRow[i] = -log_sigmoid(pos[i] - neg[i]);
}

// dPos −= scale·σ(neg − pos), dNeg += scale·σ(neg − pos), with scale = dL/dloss / b (the mean's factor folded in).
// Either gradient may be null. Grid: ceil(b/256) blocks of 256: elementwise.
template <typename T> __device__ void bpr_backward(int b, const T* pos, const T* neg, T scale, T* dPos, T* dNeg)
{
    for (long long i = global_thread(); i < b; i += global_threads())
    {
        T t = scale * stable_sigmoid(-(pos[i] - neg[i]));
        if (dPos) dPos[i] -= t;
        if (dNeg) dNeg[i] += t;
    }
}

// ================================================================================================================
// 9. InfoNCE, streamed (flash-style: the rows×rows logits are never stored)
// ================================================================================================================
//
// Anchors a and candidates c are rows×d; logit_ij = ⟨a_i, c_j⟩·invTemperature, dot products summed over k in order.
// Shape shared by both kernels: a block of exactly INFONCE_THREADS = 256 threads (8 warps) owns 32 consecutive rows
// (4 per warp) and streams the other side in tiles of 32 rows through shared memory; in the tile, lane l takes row
// l. Shared memory holds the owned rows [32][d] and the tile [32][d+1] (padded: lane l reads row l, and the odd
// stride keeps the 32 reads in distinct banks).

constexpr int INFONCE_THREADS = 256;
constexpr int INFONCE_ROWS_PER_WARP = 4;
constexpr int INFONCE_OWNED = 32; // rows per block = 8 warps × 4
constexpr int INFONCE_TILE = 32;  // other-side rows per tile = one per lane

// (m, s) ← the log-sum-exp state holding both (m, s) and (m2, s2), where s = Σ exp(x − m). Equal maxima merge
// without exp(m − m), so infinite logits give the CPU's answers (+∞ stays +∞; all −∞ gives −∞).
template <typename T> __device__ __forceinline__ void lse_merge(T& m, T& s, T m2, T s2)
{
    if (m2 > m) { s = s * d_exp(m - m2) + s2; m = m2; }
    else s = s + s2 * (m2 == m ? T(1) : d_exp(m2 - m));
}

// Loads rows first..first+count−1 of src (rows in all, d wide) into dst with row stride ld, zeros past the end.
template <typename T> __device__ __forceinline__ void load_rows(const T* src, int rows, int d, int first, int count, T* dst, int ld)
{
    for (int t = threadIdx.x; t < count * d; t += blockDim.x)
    {
        int q = t / d, k = t - q * d;
        dst[q * ld + k] = first + q < rows ? src[(long long)(first + q) * d + k] : T(0);
    }
}

// lse[i] = log Σ_j exp(logit_ij) (online max and sum per lane, merged by a fixed shuffle tree) and
// positive[i] = logit_ii. The loss mean(lse − positive) is finished by the host.
// Grid: ceil(rows/32) blocks of exactly 256 threads (another block size traps). Dynamic shared memory:
// (64·d + 32)·sizeof(T) bytes (d = 32: 8.3 KB f32, 16.6 KB f64; above 48 KB from d = 96 in f64, d = 192 in f32).
template <typename T>
__device__ void infonce_forward(int rows, int d, const T* a, const T* c, T invTemperature, T* lse, T* positive)
{
    if (blockDim.x != INFONCE_THREADS) __trap(); // the layout is for exactly 8 warps: fail loudly, never write past it
    T* own = reinterpret_cast<T*>(sea_dynamic_shared); // [32][d]
    T* tile = own + INFONCE_OWNED * d;                  // [32][d+1]
    const int ld = d + 1, lane = lane_id(), warp = warp_id();
    for (int first = blockIdx.x * INFONCE_OWNED; first < rows; first += gridDim.x * INFONCE_OWNED)
    {
        __syncthreads(); // the previous owned rows and tile are no longer read
        load_rows(a, rows, d, first, INFONCE_OWNED, own, d);
        T m[INFONCE_ROWS_PER_WARP], s[INFONCE_ROWS_PER_WARP];
#pragma unroll
        for (int q = 0; q < INFONCE_ROWS_PER_WARP; ++q) { m[q] = -pos_inf<T>(); s[q] = T(0); }
        for (int j0 = 0; j0 < rows; j0 += INFONCE_TILE)
        {
            __syncthreads();
            load_rows(c, rows, d, j0, INFONCE_TILE, tile, ld);
            __syncthreads();
            if (j0 + lane < rows)
            {
                const T* cj = tile + lane * ld;
#pragma unroll
                for (int q = 0; q < INFONCE_ROWS_PER_WARP; ++q)
                {
                    const T* ai = own + (warp * INFONCE_ROWS_PER_WARP + q) * d;
                    T dot = T(0);
                    for (int k = 0; k < d; ++k) dot += ai[k] * cj[k];
                    lse_merge(m[q], s[q], dot * invTemperature, T(1));
                }
            }
        }
#pragma unroll
        for (int q = 0; q < INFONCE_ROWS_PER_WARP; ++q)
        {
#pragma unroll
            for (int offset = 16; offset > 0; offset >>= 1)
            {
                T m2 = __shfl_down_sync(FULL_MASK, m[q], offset);
                T s2 = __shfl_down_sync(FULL_MASK, s[q], offset);
                lse_merge(m[q], s[q], m2, s2);
            }
            const int i = first + warp * INFONCE_ROWS_PER_WARP + q;
            if (i < rows) // the same for the whole warp
            {
                const T* ai = own + (warp * INFONCE_ROWS_PER_WARP + q) * d;
                T p = T(0);
                for (int k = lane; k < d; k += 32) p += ai[k] * c[(long long)i * d + k];
                p = warp_sum(p);
                if (lane == 0)
                {
                    lse[i] = m[q] + d_log(s[q]);
                    positive[i] = p * invTemperature;
                }
            }
        }
    }
}

// With p_ij = exp(logit_ij − lse_i) (recomputed, never stored):
//   da_i += scale·(Σ_j p_ij c_j − c_i)·invTemperature   (blockIdx.y = 0: blocks own anchors i, stream candidates j)
//   dc_j += scale·(Σ_i p_ij a_i − a_j)·invTemperature   (blockIdx.y = 1: blocks own candidates j, stream anchors i)
// scale = dL/dloss / rows. Each owned row's sum runs over the streamed rows in order (per tile, a partial sum then
// added), by one lane per column, so it is deterministic; da and dc each have one writer per element. Either
// gradient may be null (its half is skipped).
// Grid: (ceil(rows/32), 2) blocks of exactly 256 threads (another block size traps; gridDim.y = 1 also works: the
// blocks then do both halves). Dynamic shared memory: (96·d + 1088)·sizeof(T) bytes (d = 32: 16.6 KB f32, 33.3 KB
// f64; above 48 KB from d = 53 in f64 or d = 117 in f32: raise the kernel's limit there).
template <typename T>
__device__ void infonce_backward(int rows, int d, const T* a, const T* c, T invTemperature, const T* lse, T scale, T* da, T* dc)
{
    if (blockDim.x != INFONCE_THREADS) __trap(); // as the forward
    T* own = reinterpret_cast<T*>(sea_dynamic_shared);                 // [32][d]   owned rows
    T* tile = own + INFONCE_OWNED * d;                                  // [32][d+1] streamed rows
    T* weights = tile + INFONCE_TILE * (d + 1);                         // [32][32]  p for owned row × tile row
    T* acc = weights + INFONCE_OWNED * INFONCE_TILE;                    // [32][d]   Σ p · streamed row
    T* tileLse = acc + INFONCE_OWNED * d;                               // [32]      lse of the streamed anchors
    const int ld = d + 1, lane = lane_id(), warp = warp_id();
    for (int side = blockIdx.y; side < 2; side += gridDim.y)
    {
        const bool ownCandidates = side == 1;
        const T* owned = ownCandidates ? c : a;
        const T* streamed = ownCandidates ? a : c;
        T* grad = ownCandidates ? dc : da;
        if (grad == nullptr) continue; // uniform across the block
        for (int first = blockIdx.x * INFONCE_OWNED; first < rows; first += gridDim.x * INFONCE_OWNED)
        {
            __syncthreads();
            load_rows(owned, rows, d, first, INFONCE_OWNED, own, d);
            for (int t = threadIdx.x; t < INFONCE_OWNED * d; t += blockDim.x) acc[t] = T(0);
            T ownLse[INFONCE_ROWS_PER_WARP];
#pragma unroll
            for (int q = 0; q < INFONCE_ROWS_PER_WARP; ++q)
            {
                const int i = first + warp * INFONCE_ROWS_PER_WARP + q;
                ownLse[q] = !ownCandidates && i < rows ? lse[i] : T(0);
            }
            for (int j0 = 0; j0 < rows; j0 += INFONCE_TILE)
            {
                __syncthreads();
                load_rows(streamed, rows, d, j0, INFONCE_TILE, tile, ld);
                if (ownCandidates)
                    for (int t = threadIdx.x; t < INFONCE_TILE; t += blockDim.x) tileLse[t] = j0 + t < rows ? lse[j0 + t] : T(0);
                __syncthreads();
                // Phase 1: lane l computes p for its tile row and each of the warp's 4 owned rows.
                const T* other = tile + lane * ld;
#pragma unroll
                for (int q = 0; q < INFONCE_ROWS_PER_WARP; ++q)
                {
                    const int slot = warp * INFONCE_ROWS_PER_WARP + q;
                    T p = T(0);
                    if (j0 + lane < rows && first + slot < rows)
                    {
                        const T* mine = own + slot * d;
                        T dot = T(0);
                        for (int k = 0; k < d; ++k) dot += mine[k] * other[k]; // = ⟨a_i, c_j⟩ in either role
                        p = d_exp(dot * invTemperature - (ownCandidates ? tileLse[lane] : ownLse[q]));
                    }
                    weights[slot * INFONCE_TILE + lane] = p;
                }
                __syncwarp();
                // Phase 2: lanes switch to columns: acc[slot][k] += Σ_jj p[slot][jj]·tile[jj][k], jj in order.
                for (int k = lane; k < d; k += 32)
                {
#pragma unroll
                    for (int q = 0; q < INFONCE_ROWS_PER_WARP; ++q)
                    {
                        const int slot = warp * INFONCE_ROWS_PER_WARP + q;
                        T partial = T(0);
                        for (int jj = 0; jj < INFONCE_TILE; ++jj) partial += weights[slot * INFONCE_TILE + jj] * tile[jj * ld + k];
                        acc[slot * d + k] += partial;
                    }
                }
                __syncwarp();
            }
#pragma unroll
            for (int q = 0; q < INFONCE_ROWS_PER_WARP; ++q)
            {
                const int slot = warp * INFONCE_ROWS_PER_WARP + q, i = first + slot;
                if (i >= rows) continue;
                for (int k = lane; k < d; k += 32)
                    grad[(long long)i * d + k] += scale * ((acc[slot * d + k] - streamed[(long long)i * d + k]) * invTemperature);
            }
        }
    }
}

// ================================================================================================================
// 10. Top-K with training-item masking (evaluation)
// ================================================================================================================

// Whether (sa at column ia) ranks above (sb at ib) in the one order the CPU uses (Engine/Cpu/TopK.cs):
// higher score first, NaN below every number (−∞ included), equal scores (and two NaNs) by the lower column. An
// index of −1 is "nothing" and ranks below everything.
template <typename T> __device__ __forceinline__ bool ranks_above(T sa, int ia, T sb, int ib)
{
    if (ia < 0) return false;
    if (ib < 0) return true;
    const bool na = is_nan(sa), nb = is_nan(sb);
    if (na || nb) return na && nb ? ia < ib : nb;
    if (sa > sb) return true;
    if (sa < sb) return false;
    return ia < ib;
}

// Per row, the k best columns excluding the row's masked ones (CSR: maskCols[maskRowPtr[r] .. maskRowPtr[r+1]), in
// any order, repeats harmless; maskRowPtr null masks nothing), best first; −1 pads where fewer than k remain.
// k rounds of a block-wide arg-best over the row, each keeping only what ranks strictly below the previous pick:
// exact, and as the order is total the result is unique. Grid: rows blocks of 256 (a block per row: k passes over a
// row of 7,000–23,000 scores stay in L1/L2). Dynamic shared memory: ceil(cols/32)·4 bytes (the row's mask bitmap;
// 23,033 items: 2.9 KB).
template <typename T>
__device__ void topk_rows(int rows, int cols, const T* scores, const int* maskRowPtr, const int* maskCols, int k, int* result)
{
    unsigned* masked = reinterpret_cast<unsigned*>(sea_dynamic_shared);
    __shared__ T bestScore[32];
    __shared__ int bestIndex[32];
    const int words = (cols + 31) >> 5, lane = lane_id(), warp = warp_id(), warps = warps_per_block();
    for (long long row = blockIdx.x; row < rows; row += gridDim.x)
    {
        __syncthreads();
        for (int w = threadIdx.x; w < words; w += blockDim.x) masked[w] = 0u;
        __syncthreads();
        if (maskRowPtr != nullptr)
            for (int e = maskRowPtr[row] + (int)threadIdx.x; e < maskRowPtr[row + 1]; e += blockDim.x)
            {
                const int mc = maskCols[e];
                if (mc >= 0 && mc < cols) atomicOr(&masked[mc >> 5], 1u << (mc & 31)); // integer OR: order-free
            }
        __syncthreads();
        const T* s = scores + row * cols;
        int* out = result + row * k;
        T previousScore = T(0);
        int previous = -1;
        int picked = 0;
        for (; picked < k; ++picked)
        {
            T bs = T(0);
            int bi = -1;
            for (int col = threadIdx.x; col < cols; col += blockDim.x)
            {
                if ((masked[col >> 5] >> (col & 31)) & 1u) continue;
                const T v = s[col];
                if (previous >= 0 && !ranks_above(previousScore, previous, v, col)) continue;
                if (ranks_above(v, col, bs, bi)) { bs = v; bi = col; }
            }
#pragma unroll
            for (int offset = 16; offset > 0; offset >>= 1)
            {
                T s2 = __shfl_down_sync(FULL_MASK, bs, offset);
                int i2 = __shfl_down_sync(FULL_MASK, bi, offset);
                if (ranks_above(s2, i2, bs, bi)) { bs = s2; bi = i2; }
            }
            if (lane == 0) { bestScore[warp] = bs; bestIndex[warp] = bi; }
            __syncthreads();
            if (warp == 0)
            {
                bs = lane < warps ? bestScore[lane] : T(0);
                bi = lane < warps ? bestIndex[lane] : -1;
#pragma unroll
                for (int offset = 16; offset > 0; offset >>= 1)
                {
                    T s2 = __shfl_down_sync(FULL_MASK, bs, offset);
                    int i2 = __shfl_down_sync(FULL_MASK, bi, offset);
                    if (ranks_above(s2, i2, bs, bi)) { bs = s2; bi = i2; }
                }
                if (lane == 0) { bestScore[0] = bs; bestIndex[0] = bi; }
            }
            __syncthreads();
            bs = bestScore[0];
            bi = bestIndex[0];
            __syncthreads(); // everyone has read the winner before the next round overwrites it
            if (bi < 0) break; // nothing left: the same in every thread
            if (threadIdx.x == 0) out[picked] = bi;
            previousScore = bs;
            previous = bi;
        }
        for (int t = picked + (int)threadIdx.x; t < k; t += blockDim.x) out[t] = -1;
    }
}

// ================================================================================================================
// 11. CLUB (Cheng et al., 2020: the mutual-information upper bound and its own small network q)
// ================================================================================================================
//
// q: μ(x) = L2(ReLU(L1(x))), logvar(x) = tanh(L4(ReLU(L3(x)))), with L1, L3: 32 → 8 and
// L2, L4: 8 → 32 (PyTorch's Linear: y = x·Wᵀ + b, W out×in). Its parameters live in ONE packed buffer of
// CLUB_PARAMS = 1104 values, in ClubLayout's order (Engine/ClubLayout.cs), each row-major with PyTorch's shape:
//     offset    0: μ.0.weight   8×32        offset  552: logvar.0.weight 8×32
//     offset  256: μ.0.bias     8           offset  808: logvar.0.bias   8
//     offset  264: μ.2.weight   32×8        offset  816: logvar.2.weight 32×8
//     offset  520: μ.2.bias     32          offset 1072: logvar.2.bias   32
// Adam's moments m and v are packed the same way. The widths (32, hidden 8) are compile-time here: for other
// widths the host runs ClubFit's composed reference (CudaBackend.ClubFitTakes).

constexpr int CLUB_D = 32; // x, y, μ, logvar width
constexpr int CLUB_H = 8;  // hidden width
constexpr int CLUB_W1 = 0;                              // first layer's weight [H][D]
constexpr int CLUB_B1 = CLUB_W1 + CLUB_H * CLUB_D;      // first layer's bias [H]
constexpr int CLUB_W2 = CLUB_B1 + CLUB_H;               // second layer's weight [D][H]
constexpr int CLUB_B2 = CLUB_W2 + CLUB_D * CLUB_H;      // second layer's bias [D]
constexpr int CLUB_BRANCH = CLUB_B2 + CLUB_D;           // 552: one branch (μ, then logvar)
constexpr int CLUB_PARAMS = 2 * CLUB_BRANCH;            // 1104
// Scratch per (pair, row) for club_fit: [dμ (D) | dz (D) | a = relu(h) (H) | dh (H) | r = relu(g) (H) | dg (H)],
// where h, g are the two branches' hidden pre-activations and z logvar's pre-tanh output.
constexpr int CLUB_SCRATCH = 2 * CLUB_D + 4 * CLUB_H;  // 96
constexpr int CLUB_FIT_THREADS = 256;  // CudaBackend launches every kernel with 256 threads

// rowTerm[i] = Σ_k [(μ_ik − y_π(i),k)² − (μ_ik − y_ik)²] / (2·exp(ℓ_ik)), for μ, ℓ (logvar), y rows×d and the
// permutation π (perm). The host finishes CLUB = max(0, ½·mean_i rowTerm_i). Grid: ceil(rows/8) blocks of 256: a
// warp per row (d = 32: one element per lane, one shuffle tree).
template <typename T>
__device__ void club_forward(int rows, int d, const T* mu, const T* logvar, const T* y, const int* perm, T* rowTerm)
{
    for (long long r = global_warp(); r < rows; r += global_warps())
    {
        const long long self = r * d, shuffled = (long long)perm[r] * d;
        T acc = T(0);
        for (int k = lane_id(); k < d; k += 32)
        {
            const T m = mu[self + k];
            const T a = m - y[shuffled + k], b = m - y[self + k];
            acc += (a * a - b * b) / (d_exp(logvar[self + k]) * T(2));
        }
        acc = warp_sum(acc);
        if (lane_id() == 0) rowTerm[r] = acc;
    }
}

// The gradients of Σ_i scale·rowTerm_i, accumulated: with a = μ − y_π(i), b = μ − y_i and w = scale / (2·exp(ℓ)),
//   dμ_i += 2a·w − 2b·w,  dℓ_i += −(a² − b²)·w,  dy_j += 2b_j·w_j − 2a_i·w_i where π(i) = j (i = invPerm[j]).
// scale = dL/dCLUB · ½ / rows when the bound is positive (the host skips the launch where the relu is closed).
// invPerm is π's inverse (from the host), so that each dy row has a single writer. Any gradient may be null.
// Grid: ceil(rows·d/256) blocks of 256: elementwise over (row, column), one writer per element of each gradient.
template <typename T>
__device__ void club_backward(int rows, int d, const T* mu, const T* logvar, const T* y, const int* perm, const int* invPerm, T scale,
                              T* dMu, T* dLogvar, T* dY)
{
    const long long n = (long long)rows * d;
    for (long long e = global_thread(); e < n; e += global_threads())
    {
        const long long r = e / d, k = e - r * d;
        const T m = mu[e];
        const T a = m - y[(long long)perm[r] * d + k], b = m - y[e];
        const T w = scale / (d_exp(logvar[e]) * T(2));
        if (dMu) dMu[e] += T(2) * a * w - T(2) * b * w;
        if (dLogvar) dLogvar[e] += -(a * a - b * b) * w;
        if (dY)
        {
            // Row j = r receives its own term, and the shuffled term of the row i that drew it (π(i) = r).
            const long long i = invPerm[r];
            const long long ie = i * d + k;
            const T ai = mu[ie] - y[e];
            const T wi = scale / (d_exp(logvar[ie]) * T(2));
            dY[e] += T(2) * b * w - T(2) * ai * wi;
        }
    }
}

// club_fit: `steps` steps of q's own Adam on fixed pairs, pair p's x and y rows×32 each, packed pair after pair
// (x = [x_0; x_1; ...], y likewise). Each step the gradients of
//     L = Σ_p −mean_i Σ_k [ −(μ(x)_ik − y_ik)² / (2·exp(ℓ(x)_ik)) − ℓ(x)_ik / 2 ]
// (Losses.GaussianLogLikelihood negated, summed over the pairs; afresh, as after ZeroGrad), then Adam on every
// parameter. Every step needs every row's contribution before the next, so a step is two launches: club_fit_rows
// (many blocks: q per row, and each block's gradient over its rows) then club_fit_adam (the blocks' gradients summed
// in block order, and Adam). The host runs the steps; params, m, v are the packed buffers above, updated in place.

// q forward and backward for one (pair, row), weights w (shared memory): writes the row's scratch (CLUB_SCRATCH).
// invRows = 1 / rows per pair (the mean's backward).
template <typename T>
__device__ void club_fit_row(const T* xr, const T* yr, const T* w, T invRows, T* sc)
{
    const T half = T(0.5);
    const T* wm = w;               // μ branch
    const T* wl = w + CLUB_BRANCH; // logvar branch
    T h[CLUB_H], g[CLUB_H];
#pragma unroll
    for (int j = 0; j < CLUB_H; ++j) { h[j] = T(0); g[j] = T(0); }
    for (int k = 0; k < CLUB_D; ++k)
    {
        const T xk = xr[k];
#pragma unroll
        for (int j = 0; j < CLUB_H; ++j)
        {
            h[j] += wm[CLUB_W1 + j * CLUB_D + k] * xk;
            g[j] += wl[CLUB_W1 + j * CLUB_D + k] * xk;
        }
    }
    // From here h and g hold the activations a = relu(h), r = relu(g) (fewer live registers); relu(h) > 0 exactly
    // where h > 0, so they also serve as ReLU's backward mask.
    T da[CLUB_H], dr[CLUB_H];
#pragma unroll
    for (int j = 0; j < CLUB_H; ++j)
    {
        h[j] = relu(h[j] + wm[CLUB_B1 + j]);
        g[j] = relu(g[j] + wl[CLUB_B1 + j]);
        da[j] = T(0);
        dr[j] = T(0);
    }
    for (int o = 0; o < CLUB_D; ++o)
    {
        T mu = T(0), z = T(0);
#pragma unroll
        for (int j = 0; j < CLUB_H; ++j)
        {
            mu += wm[CLUB_W2 + o * CLUB_H + j] * h[j];
            z += wl[CLUB_W2 + o * CLUB_H + j] * g[j];
        }
        mu += wm[CLUB_B2 + o];
        z += wl[CLUB_B2 + o];
        const T l = d_tanh(z);
        const T variance = d_exp(l);
        const T diff = mu - yr[o];
        const T dmu = diff / variance * invRows;                        // ∂L/∂μ
        const T dl = (half - half * (diff * diff) / variance) * invRows; // ∂L/∂ℓ
        const T dz = dl * (T(1) - l * l);                                // through tanh
        sc[o] = dmu;
        sc[CLUB_D + o] = dz;
#pragma unroll
        for (int j = 0; j < CLUB_H; ++j)
        {
            da[j] += wm[CLUB_W2 + o * CLUB_H + j] * dmu;
            dr[j] += wl[CLUB_W2 + o * CLUB_H + j] * dz;
        }
    }
#pragma unroll
    for (int j = 0; j < CLUB_H; ++j)
    {
        sc[2 * CLUB_D + j] = h[j];
        sc[2 * CLUB_D + CLUB_H + j] = h[j] > T(0) ? da[j] : T(0); // ReLU backward
        sc[2 * CLUB_D + 2 * CLUB_H + j] = g[j];
        sc[2 * CLUB_D + 3 * CLUB_H + j] = g[j] > T(0) ? dr[j] : T(0);
    }
}

// A club_fit step's first launch. Block b takes rows b·blockDim .. (b+1)·blockDim − 1 of the total = pairs·rows:
// thread t runs q forward and backward for row b·blockDim + t (club_fit_row; weights in shared memory), then thread
// t sums the gradient of parameters t, t + blockDim, ... over the block's rows in row order into partials[b][p].
// Grid: EXACTLY ceil(total/256) blocks of CLUB_FIT_THREADS = 256 (no grid-stride: partials has a row per block).
// Static shared memory: CLUB_PARAMS·sizeof(T) (8.6 KB in f64). scratch: total·CLUB_SCRATCH elements of T (Baby, 2
// pairs × 7,050 items: 1.35 M, 10.8 MB in f64); partials: gridDim·CLUB_PARAMS.
template <typename T>
__device__ void club_fit_rows(int total, int rows, const T* x, const T* y, const T* params, T* scratch, T* partials)
{
    __shared__ T w[CLUB_PARAMS];
    for (int p = threadIdx.x; p < CLUB_PARAMS; p += blockDim.x) w[p] = params[p];
    __syncthreads();
    const long long first = (long long)blockIdx.x * blockDim.x, gi = first + threadIdx.x;
    if (gi < total) club_fit_row(x + gi * CLUB_D, y + gi * CLUB_D, w, T(1) / (T)rows, scratch + gi * CLUB_SCRATCH);
    __syncthreads(); // the block's scratch rows, written to global memory, are visible to the whole block
    const long long count = total - first < blockDim.x ? total - first : blockDim.x;
    const T* block = scratch + first * CLUB_SCRATCH;
    const T* blockX = x + first * CLUB_D;
    for (int p = threadIdx.x; p < CLUB_PARAMS; p += blockDim.x)
    {
        const int branch = p / CLUB_BRANCH, local = p - branch * CLUB_BRANCH;
        const int outDelta = branch * CLUB_D;                   // dμ or dz
        const int hiddenAct = 2 * CLUB_D + branch * 2 * CLUB_H; // a or r
        const int hiddenDelta = hiddenAct + CLUB_H;             // dh or dg
        // The gradient is Σ_rows left·right, right = 1 for biases; pick the two scratch (or x) columns.
        int leftColumn, rightColumn = -1;
        bool rightFromX = false;
        if (local < CLUB_B1) { leftColumn = hiddenDelta + local / CLUB_D; rightColumn = local % CLUB_D; rightFromX = true; }
        else if (local < CLUB_W2) { leftColumn = hiddenDelta + (local - CLUB_B1); }
        else if (local < CLUB_B2) { leftColumn = outDelta + (local - CLUB_W2) / CLUB_H; rightColumn = hiddenAct + (local - CLUB_W2) % CLUB_H; }
        else { leftColumn = outDelta + (local - CLUB_B2); }
        T grad = T(0);
        for (long long i = 0; i < count; ++i)
        {
            const T left = block[i * CLUB_SCRATCH + leftColumn];
            const T right = rightColumn < 0 ? T(1) : (rightFromX ? blockX[i * CLUB_D + rightColumn] : block[i * CLUB_SCRATCH + rightColumn]);
            grad += left * right;
        }
        partials[(long long)blockIdx.x * CLUB_PARAMS + p] = grad;
    }
}

// A club_fit step's second launch: parameter p's gradient Σ_b partials[b][p] over club_fit_rows' `blocks` blocks in
// block order (deterministic), then adam_step's update (the host computes its constants in double for the step).
// Grid: ceil(CLUB_PARAMS/256) = 5 blocks of 256: a thread per parameter.
template <typename T>
__device__ void club_fit_adam(int blocks, const T* partials, T* params, T* m, T* v, T stepSize, T bc2Sqrt, T oneMinusBeta1,
                              T beta2, T oneMinusBeta2, T eps, T weightDecay)
{
    for (long long p = global_thread(); p < CLUB_PARAMS; p += global_threads())
    {
        T grad = T(0);
        for (int b = 0; b < blocks; ++b) grad += partials[(long long)b * CLUB_PARAMS + p];
        T pv = params[p], mv = m[p], vv = v[p];
        adam_update(pv, grad, mv, vv, stepSize, bc2Sqrt, oneMinusBeta1, beta2, oneMinusBeta2, eps, weightDecay);
        m[p] = mv;
        v[p] = vv;
        params[p] = pv;
    }
}

} // namespace sea

// ================================================================================================================
// extern "C" entry points (thin wrappers; launch shapes are in each body's comment above)
// ================================================================================================================

#define SEA_FLOATING(MACRO) MACRO(float, f32) MACRO(double, f64)

// 1. Fill
#define SEA_FILL(T, S) \
    extern "C" __global__ void fill_##S(long long n, T v, T* y) { sea::fill<T>(n, v, y); }
SEA_FLOATING(SEA_FILL)
extern "C" __global__ void fill_i32(long long n, int v, int* y) { sea::fill<int>(n, v, y); }

// 2. Elementwise
#define SEA_ELEMENTWISE(T, S)                                                                                          \
    extern "C" __global__ void unary_forward_##S(int op, long long n, const T* x, T* y, T alpha)                      \
    { sea::unary_forward<T>(op, n, x, y, alpha); }                                                                     \
    extern "C" __global__ void unary_backward_##S(int op, long long n, const T* x, const T* y, const T* dy, T* dx,    \
                                                  T alpha)                                                             \
    { sea::unary_backward<T>(op, n, x, y, dy, dx, alpha); }                                                            \
    extern "C" __global__ void binary_forward_##S(int op, int rows, int cols, const T* a, const T* b, int bRows,      \
                                                  int bCols, T* y)                                                     \
    { sea::binary_forward<T>(op, rows, cols, a, b, bRows, bCols, y); }                                                 \
    extern "C" __global__ void binary_backward_a_##S(int op, int rows, int cols, const T* a, const T* b, int bRows,   \
                                                     int bCols, const T* dy, T* da)                                    \
    { sea::binary_backward_a<T>(op, rows, cols, a, b, bRows, bCols, dy, da); }                                         \
    extern "C" __global__ void binary_backward_b_##S(int op, int rows, int cols, const T* a, const T* b, int bRows,   \
                                                     int bCols, const T* dy, T* db)                                    \
    { sea::binary_backward_b<T>(op, rows, cols, a, b, bRows, bCols, dy, db); }                                         \
    extern "C" __global__ void add_scaled_##S(long long n, T alpha, const T* x, T* y)                                 \
    { sea::add_scaled<T>(n, alpha, x, y); }
SEA_FLOATING(SEA_ELEMENTWISE)

// 3. Reductions and row-wise ops
#define SEA_REDUCTIONS(T, S)                                                                                           \
    extern "C" __global__ void reduce_forward_##S(int op, int dim, int rows, int cols, const T* x, T* y)              \
    { sea::reduce_forward<T>(op, dim, rows, cols, x, y); }                                                             \
    extern "C" __global__ void reduce_backward_##S(int op, int dim, int rows, int cols, const T* x, const T* y,       \
                                                   const T* dy, T* dx)                                                 \
    { sea::reduce_backward<T>(op, dim, rows, cols, x, y, dy, dx); }                                                    \
    extern "C" __global__ void logsumexp_rows_forward_##S(int rows, int cols, const T* x, T* y)                       \
    { sea::logsumexp_rows_forward<T>(rows, cols, x, y); }                                                              \
    extern "C" __global__ void logsumexp_rows_backward_##S(int rows, int cols, const T* x, const T* y, const T* dy,   \
                                                           T* dx)                                                      \
    { sea::logsumexp_rows_backward<T>(rows, cols, x, y, dy, dx); }                                                     \
    extern "C" __global__ void softmax_rows_forward_##S(int log, int rows, int cols, const T* x, T* y)                \
    { sea::softmax_rows_forward<T>(log, rows, cols, x, y); }                                                           \
    extern "C" __global__ void softmax_rows_backward_##S(int log, int rows, int cols, const T* y, const T* dy, T* dx) \
    { sea::softmax_rows_backward<T>(log, rows, cols, y, dy, dx); }                                                     \
    extern "C" __global__ void row_l2_normalize_forward_##S(int rows, int cols, const T* x, T* y, T eps)              \
    { sea::row_l2_normalize_forward<T>(rows, cols, x, y, eps); }                                                       \
    extern "C" __global__ void row_l2_normalize_backward_##S(int rows, int cols, const T* x, const T* y, const T* dy, \
                                                             T* dx, T eps)                                             \
    { sea::row_l2_normalize_backward<T>(rows, cols, x, y, dy, dx, eps); }
SEA_FLOATING(SEA_REDUCTIONS)

// 4. Rows
#define SEA_ROWS(T, S)                                                                                                 \
    extern "C" __global__ void gather_rows_##S(int k, int cols, const T* src, const int* index, T* dst)               \
    { sea::gather_rows<T>(k, cols, src, index, dst); }                                                                 \
    extern "C" __global__ void scatter_add_rows_##S(int k, int cols, const T* src, const int* index, T* dst)          \
    { sea::scatter_add_rows<T>(k, cols, src, index, dst); }                                                            \
    extern "C" __global__ void copy_block_##S(int rows, int cols, const T* src, int srcStride, T* dst, int dstStride, \
                                              int accumulate)                                                          \
    { sea::copy_block<T>(rows, cols, src, srcStride, dst, dstStride, accumulate); }
SEA_FLOATING(SEA_ROWS)

// 5. Batch normalisation
#define SEA_BATCHNORM(T, S)                                                                                            \
    extern "C" __global__ void batchnorm_forward_##S(int rows, int cols, const T* x, const T* gamma, const T* beta,   \
                                                     T* y, T* mean, T* invStd, T eps)                                  \
    { sea::batchnorm_forward<T>(rows, cols, x, gamma, beta, y, mean, invStd, eps); }                                   \
    extern "C" __global__ void batchnorm_backward_##S(int rows, int cols, const T* x, const T* gamma, const T* mean,  \
                                                      const T* invStd, const T* dy, T* dx, T* dGamma, T* dBeta)        \
    { sea::batchnorm_backward<T>(rows, cols, x, gamma, mean, invStd, dy, dx, dGamma, dBeta); }
SEA_FLOATING(SEA_BATCHNORM)

// 6. CSR SpMM
#define SEA_SPMM(T, S)                                                                                                 \
    extern "C" __global__ void spmm_csr_forward_##S(int rows, int n, const int* rowPtr, const int* colIdx,            \
                                                    const T* values, const T* x, T beta, T* y)                         \
    { sea::spmm_csr_forward<T>(rows, n, rowPtr, colIdx, values, x, beta, y); }
SEA_FLOATING(SEA_SPMM)

// 7. Adam
#define SEA_ADAM(T, S)                                                                                                 \
    extern "C" __global__ void adam_step_##S(long long n, T* p, const T* g, T* m, T* v, T stepSize, T bc2Sqrt,        \
                                             T oneMinusBeta1, T beta2, T oneMinusBeta2, T eps, T weightDecay)          \
    { sea::adam_step<T>(n, p, g, m, v, stepSize, bc2Sqrt, oneMinusBeta1, beta2, oneMinusBeta2, eps, weightDecay); }
SEA_FLOATING(SEA_ADAM)

// 8. BPR
#define SEA_BPR(T, S)                                                                                                  \
    extern "C" __global__ void bpr_forward_##S(int b, const T* pos, const T* neg, T* lossPerRow)                      \
    { sea::bpr_forward<T>(b, pos, neg, lossPerRow); }                                                                  \
    extern "C" __global__ void bpr_backward_##S(int b, const T* pos, const T* neg, T scale, T* dPos, T* dNeg)         \
    { sea::bpr_backward<T>(b, pos, neg, scale, dPos, dNeg); }
SEA_FLOATING(SEA_BPR)

// 9. InfoNCE
#define SEA_INFONCE(T, S)                                                                                              \
    extern "C" __global__ void __launch_bounds__(256) infonce_forward_##S(int rows, int d, const T* a, const T* c,    \
                                                                          T invTemperature, T* lse, T* positive)      \
    { sea::infonce_forward<T>(rows, d, a, c, invTemperature, lse, positive); }                                         \
    extern "C" __global__ void __launch_bounds__(256) infonce_backward_##S(int rows, int d, const T* a, const T* c,   \
                                                                           T invTemperature, const T* lse, T scale,    \
                                                                           T* da, T* dc)                               \
    { sea::infonce_backward<T>(rows, d, a, c, invTemperature, lse, scale, da, dc); }
SEA_FLOATING(SEA_INFONCE)

// 10. Top-K (f64 too, for scores kept in double)
#define SEA_TOPK(T, S)                                                                                                 \
    extern "C" __global__ void topk_rows_##S(int rows, int cols, const T* scores, const int* maskRowPtr,              \
                                             const int* maskCols, int k, int* result)                                  \
    { sea::topk_rows<T>(rows, cols, scores, maskRowPtr, maskCols, k, result); }
SEA_FLOATING(SEA_TOPK)

// 11. CLUB
#define SEA_CLUB(T, S)                                                                                                 \
    extern "C" __global__ void club_forward_##S(int rows, int d, const T* mu, const T* logvar, const T* y,            \
                                                const int* perm, T* rowTerm)                                           \
    { sea::club_forward<T>(rows, d, mu, logvar, y, perm, rowTerm); }                                                   \
    extern "C" __global__ void club_backward_##S(int rows, int d, const T* mu, const T* logvar, const T* y,           \
                                                 const int* perm, const int* invPerm, T scale, T* dMu, T* dLogvar,     \
                                                 T* dY)                                                                \
    { sea::club_backward<T>(rows, d, mu, logvar, y, perm, invPerm, scale, dMu, dLogvar, dY); }                         \
    extern "C" __global__ void __launch_bounds__(sea::CLUB_FIT_THREADS) club_fit_rows_##S(int total, int rows,       \
                                                                   const T* x, const T* y, const T* params,            \
                                                                   T* scratch, T* partials)                            \
    { sea::club_fit_rows<T>(total, rows, x, y, params, scratch, partials); }                                           \
    extern "C" __global__ void club_fit_adam_##S(int blocks, const T* partials, T* params, T* m, T* v, T stepSize,   \
                                                 T bc2Sqrt, T oneMinusBeta1, T beta2, T oneMinusBeta2, T eps,          \
                                                 T weightDecay)                                                        \
    { sea::club_fit_adam<T>(blocks, partials, params, m, v, stepSize, bc2Sqrt, oneMinusBeta1, beta2, oneMinusBeta2,   \
                            eps, weightDecay); }
SEA_FLOATING(SEA_CLUB)
