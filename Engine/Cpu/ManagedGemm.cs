using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using X86Fma = System.Runtime.Intrinsics.X86.Fma;

namespace Engine.Cpu;

/// <summary>
/// C = α·op(A)·op(B) + β·C on row-major arrays, in managed code: the GEMM of last resort when OpenBLAS does not
/// load, and the reference it is checked against.
///
/// The structure is the usual Goto/BLIS one. op(B) is cut into kc×nc panels and op(A) into mc×kc blocks; both are
/// packed into contiguous, zero-padded micro-panels (MR rows of A, NR columns of B, interleaved along k) so the
/// micro-kernel reads both with unit stride, whatever the transposes were. The micro-kernel keeps an MR×NR tile of C
/// in registers (6 rows × 2 vectors) and walks k with one broadcast of A and two vector loads of B per step.
/// Every slice of k reads and rewrites C, so kc is long (fewer passes over a C that does not fit in cache; the B
/// micro-panel then sits in L2, which feeds the kernel fast enough), and mc keeps the A block in L2. One departure: when C is narrow (a panel of B fits in half of L2, as in the n = 64 products of a
/// neural network's layers), packing A would cost as much as using it, so the kernel reads A in place instead; and
/// when C is short and wide, it computes Cᵀ in that order and transposes it back.
///
/// Threads split the tiles of C, never k, and every tile runs the same arithmetic (edge tiles go through a padded
/// scratch tile; A in place or packed holds the same values), so each element of C is a chain of fused multiply-adds
/// in k order, restarted at every kc boundary: fixed by kc alone. Results are bit-identical whatever the thread count,
/// and the 256- and 512-bit kernels agree bit for bit too.
/// </summary>
internal static unsafe class ManagedGemm
{
    /// <summary>Which micro-kernel does the arithmetic; tests force each one the hardware can run.</summary>
    internal enum Kernel
    {
        /// <summary>Plain generic arithmetic, for element types or machines without vector support.</summary>
        Scalar,
        Vector256,
        Vector512,
    }

    /// <summary>When a packed panel of B fits in this many bytes (half of L2), A is read in place rather than packed.</summary>
    private const int DirectABudget = 512 * 1024;

    /// <summary>
    /// Products smaller than this many multiply-adds run on the calling thread only: waking a second thread costs
    /// some 10–20 µs, about what 4M multiply-adds take on one core.
    /// </summary>
    private const long ParallelThreshold = 1L << 22;

    /// <summary>Bytes of L2 the packed A block may fill (half of a 1 MiB L2, leaving room for C and B traffic).</summary>
    private const int L2Budget = 512 * 1024;

    /// <summary>
    /// C = α·op(A)·op(B) + β·C, where A is m×k (k×m when <paramref name="transA"/>) with row stride
    /// <paramref name="lda"/>, B is k×n (n×k when <paramref name="transB"/>) with row stride <paramref name="ldb"/>,
    /// and C is m×n with row stride <paramref name="ldc"/>: cblas_?gemm with CblasRowMajor. With β = 0, C is only
    /// written (NaN in it does not leak through); with k = 0 or α = 0, C = β·C and A and B are not read.
    /// </summary>
    public static void Gemm<T>(bool transA, bool transB, int m, int n, int k, T alpha, T[] a, int lda, T[] b, int ldb, T beta, T[] c, int ldc)
        where T : unmanaged, IFloatingPointIeee754<T>
        => Gemm(BestKernel<T>(), Environment.ProcessorCount, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);

    /// <summary>The fastest kernel this machine runs for <typeparamref name="T"/>.</summary>
    internal static Kernel BestKernel<T>() where T : unmanaged
        => IsSupported<T>(Kernel.Vector512) ? Kernel.Vector512
         : IsSupported<T>(Kernel.Vector256) ? Kernel.Vector256
         : Kernel.Scalar;

    /// <summary>Whether <paramref name="kernel"/> runs natively here (not emulated) for <typeparamref name="T"/>.</summary>
    internal static bool IsSupported<T>(Kernel kernel) where T : unmanaged => kernel switch
    {
        Kernel.Scalar => true,
        // The vector kernels fuse multiply-adds only for float and double, and are only worth it in hardware.
        Kernel.Vector256 => (typeof(T) == typeof(float) || typeof(T) == typeof(double)) && Vector256.IsHardwareAccelerated,
        Kernel.Vector512 => (typeof(T) == typeof(float) || typeof(T) == typeof(double)) && Vector512.IsHardwareAccelerated,
        _ => false,
    };

    /// <summary>
    /// <see cref="Gemm{T}(bool, bool, int, int, int, T, T[], int, T[], int, T, T[], int)"/> with a chosen kernel and at
    /// most <paramref name="maxThreads"/> threads, on spans (so that callers can pass blocks of rows of a larger array).
    /// </summary>
    internal static void Gemm<T>(Kernel kernel, int maxThreads, bool transA, bool transB, int m, int n, int k,
        T alpha, ReadOnlySpan<T> a, int lda, ReadOnlySpan<T> b, int ldb, T beta, Span<T> c, int ldc)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        CheckArguments(transA, transB, m, n, k, a.Length, lda, b.Length, ldb, c.Length, ldc);
        if (!IsSupported<T>(kernel))
            throw new ArgumentException($"the {kernel} kernel does not run for {typeof(T).Name} on this machine", nameof(kernel));
        if (m == 0 || n == 0) return;
        fixed (T* pa = a, pb = b, pc = c)
        {
            if (k == 0 || alpha == T.Zero)
            {
                ScaleC(m, n, beta, pc, ldc);
                return;
            }
            var tiling = Tilings<T>.For(kernel);
            if (ComputeTransposed<T>(tiling, m, n, k))
                GemmTransposed(tiling, maxThreads, transA, transB, m, n, k, alpha, pa, lda, pb, ldb, beta, pc, ldc);
            else
                new Job<T>(tiling, maxThreads, transA, transB, m, n, k, alpha, pa, lda, pb, ldb, beta, pc, ldc).Run();
        }
    }

    /// <summary>
    /// Whether C is better computed as its transpose, Cᵀ = op(B)ᵀ·op(A)ᵀ. When C is short and wide (a few hundred rows,
    /// thousands of columns, a long k), the plain order packs all of op(B) for a few rows' use, while the transposed
    /// order reads that big operand in place (the short one becomes the packed panel, within the in-place budget) and
    /// pays only for transposing C.
    /// </summary>
    private static bool ComputeTransposed<T>(Tiling t, int m, int n, int k) where T : unmanaged
        => ReadsAInPlace<T>(t, m) && !ReadsAInPlace<T>(t, n) && k >= 2 * m;

    /// <summary>Whether a panel of C <paramref name="n"/> columns wide is narrow enough for the kernel to read A in place.</summary>
    private static bool ReadsAInPlace<T>(Tiling t, int n) where T : unmanaged
        => (long)t.Kc * RoundUp(Math.Min(t.Nc, n), t.Nr) * sizeof(T) <= DirectABudget;

    /// <summary>
    /// C = α·op(A)·op(B) + β·C computed as Cᵀ into a scratch array and transposed back. Each element is the same chain
    /// of fused multiply-adds as in the plain order (x·y + acc is symmetric in x and y, and k is cut into the same kc
    /// slices), and β applies to the same values, so the bits are those of the plain order.
    /// </summary>
    private static void GemmTransposed<T>(Tiling tiling, int maxThreads, bool transA, bool transB, int m, int n, int k,
        T alpha, T* a, int lda, T* b, int ldb, T beta, T* c, int ldc) where T : unmanaged, IFloatingPointIeee754<T>
    {
        T* ct = Allocate<T>((nint)n * m);
        try
        {
            if (beta != T.Zero) Transpose(m, n, c, ldc, ct, m);
            new Job<T>(tiling, maxThreads, !transB, !transA, n, m, k, alpha, b, ldb, a, lda, beta, ct, m).Run();
            Transpose(n, m, ct, m, c, ldc);
        }
        finally
        {
            NativeMemory.AlignedFree(ct);
        }
    }

    /// <summary>dst (cols×rows, row stride ldd) = srcᵀ (src rows×cols, row stride lds), in square blocks that stay in L1.</summary>
    private static void Transpose<T>(int rows, int cols, T* src, nint lds, T* dst, nint ldd) where T : unmanaged
    {
        const int block = 32;
        for (int i0 = 0; i0 < rows; i0 += block)
            for (int j0 = 0; j0 < cols; j0 += block)
                for (int i = i0; i < Math.Min(rows, i0 + block); i++)
                    for (int j = j0; j < Math.Min(cols, j0 + block); j++)
                        dst[j * ldd + i] = src[i * lds + j];
    }

    /// <summary>
    /// Throws unless every element the call may touch lies inside its array. The kernels use raw pointers, so this
    /// check is all that stands between a bad stride and a corrupted heap. Strides must cover a stored row
    /// (cblas also demands at least 1; a stride only matters when there are elements, so 0 is accepted for empty rows).
    /// </summary>
    internal static void CheckArguments(bool transA, bool transB, int m, int n, int k,
        int aLength, int lda, int bLength, int ldb, int cLength, int ldc)
    {
        if (m < 0 || n < 0 || k < 0)
            throw new ArgumentOutOfRangeException(nameof(m), $"GEMM dimensions must be non-negative, got m={m}, n={n}, k={k}");
        CheckMatrix("A", transA ? k : m, transA ? m : k, aLength, lda);
        CheckMatrix("B", transB ? n : k, transB ? k : n, bLength, ldb);
        CheckMatrix("C", m, n, cLength, ldc);
    }

    private static void CheckMatrix(string name, int rows, int cols, int length, int ld)
    {
        if (ld < cols)
            throw new ArgumentOutOfRangeException($"ld{name.ToLowerInvariant()}", $"the row stride of {name} ({ld}) is shorter than its {cols} columns");
        if (rows > 0 && cols > 0 && (long)(rows - 1) * ld + cols > length)
            throw new ArgumentException($"{name} is {rows}×{cols} with row stride {ld}, which needs {(long)(rows - 1) * ld + cols} elements, but the array holds {length}");
    }

    /// <summary>C = β·C; β = 0 stores zeros rather than multiplying, so NaN and infinities in C are dropped.</summary>
    private static void ScaleC<T>(int m, int n, T beta, T* c, nint ldc) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (beta == T.One) return;
        for (int i = 0; i < m; i++)
        {
            var row = new Span<T>(c + i * ldc, n);
            if (beta == T.Zero) row.Clear();
            else
                for (int j = 0; j < n; j++) row[j] *= beta;
        }
    }

    // ------------------------------------------------------------------ blocking

    /// <summary>The micro-tile (mr×nr) and cache blocks (kc, mc, nc) for one kernel and element type.</summary>
    private sealed record Tiling(Kernel Kernel, int Mr, int Nr, int Kc, int Mc, int Nc);

    private static class Tilings<T> where T : unmanaged
    {
        // One kc for every kernel, so that they sum each element in the same slices: 512 measured about 5 % faster
        // than 256 on SEA's products (a Zen 4 core: 32 KiB L1, 1 MiB L2), through fewer passes over C.
        private const int Kc = 512;
        private static readonly Tiling Scalar = Make(Kernel.Scalar, ScalarMr, ScalarNr, Kc);
        // (Count throws for element types vectors do not support; those only ever use the scalar kernel.)
        private static readonly Tiling V256 = Vector256<T>.IsSupported ? Make(Kernel.Vector256, 6, 2 * Vector256<T>.Count, Kc) : Scalar;
        private static readonly Tiling V512 = Vector512<T>.IsSupported ? Make(Kernel.Vector512, 6, 2 * Vector512<T>.Count, Kc) : Scalar;

        public static Tiling For(Kernel kernel) => kernel switch
        {
            Kernel.Vector256 => V256,
            Kernel.Vector512 => V512,
            _ => Scalar,
        };

        private static Tiling Make(Kernel kernel, int mr, int nr, int kc)
        {
            int mc = Math.Max(mr, L2Budget / (kc * sizeof(T)) / mr * mr);
            return new Tiling(kernel, mr, nr, kc, mc, 4096 / nr * nr);
        }
    }

    /// <summary>
    /// One GEMM call, with α ≠ 0, k > 0 and C non-empty. For each kc×nc panel of op(B) (packed once, shared), the
    /// tiles of C are handed out as tasks of one row block × a run of nr-column strips; a task packs its A block
    /// (reusing it when its previous task had the same block), unless A is read in place, and runs the micro-kernel
    /// over its tiles.
    /// </summary>
    private sealed class Job<T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        private readonly Tiling _t;
        private readonly int _threads;
        private readonly bool _transA, _transB;
        private readonly int _m, _n, _k;
        private readonly T _alpha, _beta;
        private readonly T* _a, _b, _c;
        private readonly nint _lda, _ldb, _ldc;

        // The panel in progress: set by Run before each round of tasks, read by the tasks.
        private T* _packedB;
        private int _jc, _nc, _pc, _kc, _mc, _stripsPerTask, _tasksPerBlock;
        private T _betaNow;
        private bool _directA;

        public Job(Tiling tiling, int maxThreads, bool transA, bool transB, int m, int n, int k,
            T alpha, T* a, int lda, T* b, int ldb, T beta, T* c, int ldc)
        {
            _t = tiling;
            _threads = (long)m * n * k < ParallelThreshold ? 1 : Math.Max(1, maxThreads);
            (_transA, _transB, _m, _n, _k, _alpha, _beta) = (transA, transB, m, n, k, alpha, beta);
            (_lda, _ldb, _ldc) = (lda, ldb, ldc);
            _a = a;
            _b = b;
            _c = c;
        }

        public void Run()
        {
            var t = _t;
            _packedB = Allocate<T>((nint)Math.Min(t.Kc, _k) * RoundUp(Math.Min(t.Nc, _n), t.Nr));
            try
            {
                for (_jc = 0; _jc < _n; _jc += t.Nc)
                {
                    _nc = Math.Min(t.Nc, _n - _jc);
                    int strips = Ceil(_nc, t.Nr);
                    // Packing A is a pass over all of it for every panel of B; when C is narrow, each packed element
                    // would be used only a few times, and the packing costs as much as the multiplying. Then the
                    // kernel reads A in place, tile by tile, and the whole (small) packed B panel stays in L2.
                    _directA = ReadsAInPlace<T>(t, _nc);
                    // A few tasks per thread, so that uneven ones even out. Row blocks are cut evenly (at most mc,
                    // which only bounds the packed block); unpacked, they may be cut finer. When rows alone cannot
                    // make enough tasks (short, wide C), the strips are shared out too. None of this changes what
                    // is summed for any element, only who sums it.
                    int wanted = _threads == 1 ? 1 : 4 * _threads;
                    int blocks = Math.Max(Ceil(_m, t.Mc), _directA ? Math.Min(wanted, Ceil(_m, t.Mr)) : 1);
                    _mc = RoundUp(Ceil(_m, blocks), t.Mr);
                    blocks = Ceil(_m, _mc);
                    _stripsPerTask = blocks >= wanted ? strips : Math.Max(1, strips / Ceil(wanted, blocks));
                    _tasksPerBlock = Ceil(strips, _stripsPerTask);
                    for (_pc = 0; _pc < _k; _pc += t.Kc)
                    {
                        _kc = Math.Min(t.Kc, _k - _pc);
                        // β applies once, on the first slice of k; later slices add to what is there.
                        _betaNow = _pc == 0 ? _beta : T.One;
                        For(strips, ((long)_kc * _nc) >= (1 << 16) ? 16 : strips, PackBStrips);
                        ParallelTasks(blocks * _tasksPerBlock);
                    }
                }
            }
            finally
            {
                NativeMemory.AlignedFree(_packedB);
            }
        }

        /// <summary>Runs body(start, end) over [0, count) in chunks of <paramref name="chunk"/>, in parallel when it pays.</summary>
        private void For(int count, int chunk, Action<int, int> body)
        {
            int chunks = Ceil(count, chunk);
            if (_threads == 1 || chunks == 1)
                body(0, count);
            else
                Parallel.For(0, chunks, new ParallelOptions { MaxDegreeOfParallelism = _threads },
                    i => body(i * chunk, Math.Min(count, (i + 1) * chunk)));
        }

        /// <summary>Per-thread scratch: the packed A block, an edge tile, and which A block it holds.</summary>
        private struct Scratch
        {
            public T* PackedA;
            public T* Tile;
            public int Block;
        }

        private void ParallelTasks(int tasks)
        {
            if (_threads == 1 || tasks == 1)
            {
                var s = NewScratch();
                try
                {
                    for (int i = 0; i < tasks; i++) s = RunTask(i, s);
                }
                finally
                {
                    FreeScratch(s);
                }
            }
            else
            {
                Parallel.For(0, tasks, new ParallelOptions { MaxDegreeOfParallelism = _threads },
                    NewScratch, (i, _, s) => RunTask(i, s), FreeScratch);
            }
        }

        private Scratch NewScratch()
        {
            // Sized for this call's blocks, not the largest possible, so small products allocate little.
            var t = _t;
            nint packed = (nint)RoundUp(Math.Min(t.Mc, _m), t.Mr) * Math.Min(t.Kc, _k);
            var p = Allocate<T>(packed + t.Mr * t.Nr);
            return new Scratch { PackedA = p, Tile = p + packed, Block = -1 };
        }

        private static void FreeScratch(Scratch s) => NativeMemory.AlignedFree(s.PackedA);

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private Scratch RunTask(int task, Scratch s)
        {
            var t = _t;
            int block = task / _tasksPerBlock, firstStrip = task % _tasksPerBlock * _stripsPerTask;
            int ic = block * _mc, mc = Math.Min(_mc, _m - ic);
            // Read in place, A's full row tiles need no packing; a last tile cut short by the edge of C still does,
            // since the kernel reads all mr rows.
            int packedFrom = _directA ? mc / t.Mr * t.Mr : 0;
            if (s.Block != block)
            {
                if (packedFrom < mc) PackA(ic + packedFrom, mc - packedFrom, s.PackedA);
                s.Block = block;
            }
            int lastStrip = Math.Min(Ceil(_nc, t.Nr), firstStrip + _stripsPerTask);
            if (_directA)
            {
                // Row tile by row tile, each over all the task's strips: the tile's slice of A is read from memory once
                // and reused from L1, while the packed B panel stays in L2.
                for (int i = 0; i < mc; i += t.Mr)
                {
                    var panel = i < packedFrom
                        ? (_transA ? new Panel(_a + _pc * _lda + ic + i, 1, _lda) : new Panel(_a + (ic + i) * _lda + _pc, _lda, 1))
                        : new Panel(s.PackedA + (nint)(i - packedFrom) * _kc, 1, t.Mr);
                    if (!_transA) PrefetchRows(ic + i + t.Mr, Math.Min(t.Mr, packedFrom - i - t.Mr));
                    for (int strip = firstStrip; strip < lastStrip; strip++)
                        Tile(panel, strip, ic + i, Math.Min(t.Mr, mc - i), s.Tile);
                }
            }
            else
            {
                // BLIS order: one B strip at a time stays in L1 while the packed A block streams from L2.
                for (int strip = firstStrip; strip < lastStrip; strip++)
                    for (int i = 0; i < mc; i += t.Mr)
                        Tile(new Panel(s.PackedA + (nint)i * _kc, 1, t.Mr), strip, ic + i, Math.Min(t.Mr, mc - i), s.Tile);
            }
            return s;
        }

        /// <summary>
        /// Starts loading rows [first, first+count) of A over the current k slice. Row slices are only kc elements
        /// long, too short for the hardware prefetcher to pick up before they are read.
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private void PrefetchRows(int first, int count)
        {
            if (!Sse.IsSupported) return;
            for (int r = first; r < first + count; r++)
            {
                byte* row = (byte*)(_a + r * _lda + _pc);
                for (nint off = 0; off < (nint)_kc * sizeof(T); off += 64) Sse.Prefetch0(row + off);
            }
        }

        /// <summary>The tile of C at row <paramref name="row"/> (mr of them valid) and strip <paramref name="strip"/> of the panel.</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private void Tile(Panel a, int strip, int row, int mr, T* scratch)
        {
            int j = strip * _t.Nr, nr = Math.Min(_t.Nr, _nc - j);
            T* b = _packedB + (nint)strip * _kc * _t.Nr;
            T* c = _c + row * _ldc + _jc + j;
            if (mr == _t.Mr && nr == _t.Nr)
                MicroKernel(a, b, c, _ldc);
            else
                EdgeTile(a, b, c, mr, nr, scratch);
        }

        /// <summary>
        /// A tile cut short by the edge of C: the full micro-kernel runs on a padded copy, so edge elements are summed
        /// exactly as interior ones are.
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private void EdgeTile(Panel aPanel, T* bPanel, T* c, int mr, int nr, T* tile)
        {
            int tnr = _t.Nr;
            new Span<T>(tile, _t.Mr * tnr).Clear();
            if (_betaNow != T.Zero)
                for (int r = 0; r < mr; r++)
                    new Span<T>(c + r * _ldc, nr).CopyTo(new Span<T>(tile + r * tnr, nr));
            MicroKernel(aPanel, bPanel, tile, tnr);
            for (int r = 0; r < mr; r++)
                new Span<T>(tile + r * tnr, nr).CopyTo(new Span<T>(c + r * _ldc, nr));
        }

        private void MicroKernel(Panel a, T* b, T* c, nint ldc)
        {
            switch (_t.Kernel)
            {
                case Kernel.Vector512: Kernel512(_kc, a.Start, a.RowStride, a.ColStride, b, c, ldc, _alpha, _betaNow); break;
                case Kernel.Vector256: Kernel256(_kc, a.Start, a.RowStride, a.ColStride, b, c, ldc, _alpha, _betaNow); break;
                default: KernelScalar(_kc, a.Start, a.RowStride, a.ColStride, b, c, ldc, _alpha, _betaNow); break;
            }
        }

        /// <summary>Where the kernel finds an mr×kc slice of op(A): element (r, p) at Start[r·RowStride + p·ColStride].</summary>
        private readonly struct Panel(T* start, nint rowStride, nint colStride)
        {
            public readonly T* Start = start;
            public readonly nint RowStride = rowStride, ColStride = colStride;
        }

        // -------------------------------------------------------------- packing

        /// <summary>
        /// Packs rows [ic, ic+mc) × columns [pc, pc+kc) of op(A) as mr-row micro-panels: element (r, p) of a panel at
        /// p·mr + r, rows past the edge zero.
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private void PackA(int ic, int mc, T* dst)
        {
            int mr = _t.Mr, kc = _kc;
            nint panel = (nint)mr * kc;
            if (!_transA)
            {
                // op(A)(i, p) = a[i·lda + p]: each row is contiguous in p; scatter it down its panel's column.
                for (int i = 0; i < mc; i += mr, dst += panel)
                {
                    int rows = Math.Min(mr, mc - i);
                    PrefetchRows(ic + i + mr, Math.Min(mr, mc - i - mr));
                    for (int r = 0; r < rows; r++)
                    {
                        T* src = _a + (ic + i + r) * _lda + _pc;
                        T* d = dst + r;
                        for (int p = 0; p < kc; p++, d += mr) *d = src[p];
                    }
                    for (int r = rows; r < mr; r++)
                        for (int p = 0; p < kc; p++) dst[p * mr + r] = T.Zero;
                }
            }
            else
            {
                // op(A)(i, p) = a[p·lda + i]: a panel's mr rows for one p are contiguous in a's row p.
                for (int i = 0; i < mc; i += mr, dst += panel)
                {
                    int rows = Math.Min(mr, mc - i);
                    T* src = _a + _pc * _lda + ic + i;
                    T* d = dst;
                    for (int p = 0; p < kc; p++, src += _lda, d += mr)
                    {
                        for (int r = 0; r < rows; r++) d[r] = src[r];
                        for (int r = rows; r < mr; r++) d[r] = T.Zero;
                    }
                }
            }
        }

        /// <summary>
        /// Packs strips [first, end) of the current kc×nc panel of op(B) as nr-column micro-panels: element (p, j) of a
        /// strip at p·nr + j, columns past the edge zero.
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private void PackBStrips(int first, int end)
        {
            int nr = _t.Nr, kc = _kc;
            for (int strip = first; strip < end; strip++)
            {
                T* dst = _packedB + (nint)strip * kc * nr;
                int j0 = _jc + strip * nr, cols = Math.Min(nr, _jc + _nc - j0);
                if (!_transB)
                {
                    // op(B)(p, j) = b[p·ldb + j]: one row of the strip is a contiguous run.
                    T* src = _b + _pc * _ldb + j0;
                    for (int p = 0; p < kc; p++, src += _ldb, dst += nr)
                    {
                        new Span<T>(src, cols).CopyTo(new Span<T>(dst, cols));
                        if (cols < nr) new Span<T>(dst + cols, nr - cols).Clear();
                    }
                }
                else
                {
                    // op(B)(p, j) = b[j·ldb + p]: each column of the strip is a contiguous run of b's row j.
                    for (int j = 0; j < cols; j++)
                    {
                        T* src = _b + (j0 + j) * _ldb + _pc;
                        T* d = dst + j;
                        for (int p = 0; p < kc; p++, d += nr) *d = src[p];
                    }
                    for (int j = cols; j < nr; j++)
                        for (int p = 0; p < kc; p++) dst[p * nr + j] = T.Zero;
                }
            }
        }
    }

    // ------------------------------------------------------------------ micro-kernels
    //
    // The kernels and the loops around them are compiled fully optimised from the first call: tiered compilation
    // would otherwise run them as unoptimised tier-0 code (for vectors, some 30 times slower) for the first hundred
    // milliseconds or so of a process, which is all a short benchmark or test ever sees.
    //
    // Each computes one full mr×nr tile: acc = Σ_p a[r·rs + p·cs]·b[p·nr + j] over the kc steps, summed in p order
    // from zero, then C = α·acc + β·C (β = 0 leaves C unread). The accumulators are named locals, not an array, so the
    // JIT keeps all of them in registers. A is read through strides so the same kernel (and so the same arithmetic)
    // serves packed panels (rs = 1, cs = mr) and A in place.

    private const int ScalarMr = 4, ScalarNr = 4;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void KernelScalar<T>(int kc, T* a, nint rs, nint cs, T* b, T* c, nint ldc, T alpha, T beta)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        T* acc = stackalloc T[ScalarMr * ScalarNr];
        for (int i = 0; i < ScalarMr * ScalarNr; i++) acc[i] = T.Zero;
        for (int p = 0; p < kc; p++, a += cs, b += ScalarNr)
            for (int r = 0; r < ScalarMr; r++)
                for (int j = 0; j < ScalarNr; j++)
                    acc[r * ScalarNr + j] += a[r * rs] * b[j];
        for (int r = 0; r < ScalarMr; r++, c += ldc)
            for (int j = 0; j < ScalarNr; j++)
                c[j] = beta == T.Zero ? alpha * acc[r * ScalarNr + j] : alpha * acc[r * ScalarNr + j] + beta * c[j];
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Kernel256<T>(int kc, T* a, nint rs, nint cs, T* b, T* c, nint ldc, T alpha, T beta)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        nint w = Vector256<T>.Count;
        nint r2 = 2 * rs, r3 = 3 * rs, r4 = 4 * rs, r5 = 5 * rs;
        Vector256<T> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default,
                     c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default;
        for (int p = 0; p < kc; p++, a += cs, b += 2 * w)
        {
            var b0 = Vector256.Load(b);
            var b1 = Vector256.Load(b + w);
            var x = Vector256.Create(a[0]); c00 = Fma(x, b0, c00); c01 = Fma(x, b1, c01);
            x = Vector256.Create(a[rs]); c10 = Fma(x, b0, c10); c11 = Fma(x, b1, c11);
            x = Vector256.Create(a[r2]); c20 = Fma(x, b0, c20); c21 = Fma(x, b1, c21);
            x = Vector256.Create(a[r3]); c30 = Fma(x, b0, c30); c31 = Fma(x, b1, c31);
            x = Vector256.Create(a[r4]); c40 = Fma(x, b0, c40); c41 = Fma(x, b1, c41);
            x = Vector256.Create(a[r5]); c50 = Fma(x, b0, c50); c51 = Fma(x, b1, c51);
        }
        var va = Vector256.Create(alpha);
        Store(c, w, c00, c01, va, beta); c += ldc;
        Store(c, w, c10, c11, va, beta); c += ldc;
        Store(c, w, c20, c21, va, beta); c += ldc;
        Store(c, w, c30, c31, va, beta); c += ldc;
        Store(c, w, c40, c41, va, beta); c += ldc;
        Store(c, w, c50, c51, va, beta);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Kernel512<T>(int kc, T* a, nint rs, nint cs, T* b, T* c, nint ldc, T alpha, T beta)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        nint w = Vector512<T>.Count;
        nint r2 = 2 * rs, r3 = 3 * rs, r4 = 4 * rs, r5 = 5 * rs;
        Vector512<T> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default,
                     c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default;
        for (int p = 0; p < kc; p++, a += cs, b += 2 * w)
        {
            var b0 = Vector512.Load(b);
            var b1 = Vector512.Load(b + w);
            var x = Vector512.Create(a[0]); c00 = Fma(x, b0, c00); c01 = Fma(x, b1, c01);
            x = Vector512.Create(a[rs]); c10 = Fma(x, b0, c10); c11 = Fma(x, b1, c11);
            x = Vector512.Create(a[r2]); c20 = Fma(x, b0, c20); c21 = Fma(x, b1, c21);
            x = Vector512.Create(a[r3]); c30 = Fma(x, b0, c30); c31 = Fma(x, b1, c31);
            x = Vector512.Create(a[r4]); c40 = Fma(x, b0, c40); c41 = Fma(x, b1, c41);
            x = Vector512.Create(a[r5]); c50 = Fma(x, b0, c50); c51 = Fma(x, b1, c51);
        }
        var va = Vector512.Create(alpha);
        Store(c, w, c00, c01, va, beta); c += ldc;
        Store(c, w, c10, c11, va, beta); c += ldc;
        Store(c, w, c20, c21, va, beta); c += ldc;
        Store(c, w, c30, c31, va, beta); c += ldc;
        Store(c, w, c40, c41, va, beta); c += ldc;
        Store(c, w, c50, c51, va, beta);
    }

    /// <summary>One row of a tile: c[0..2w) = α·(x0, x1) + β·c[0..2w), not reading c when β = 0.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store<T>(T* c, nint w, Vector256<T> x0, Vector256<T> x1, Vector256<T> alpha, T beta)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        x0 *= alpha;
        x1 *= alpha;
        if (beta != T.Zero)
        {
            var vb = Vector256.Create(beta);
            x0 += vb * Vector256.Load(c);
            x1 += vb * Vector256.Load(c + w);
        }
        x0.Store(c);
        x1.Store(c + w);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store<T>(T* c, nint w, Vector512<T> x0, Vector512<T> x1, Vector512<T> alpha, T beta)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        x0 *= alpha;
        x1 *= alpha;
        if (beta != T.Zero)
        {
            var vb = Vector512.Create(beta);
            x0 += vb * Vector512.Load(c);
            x1 += vb * Vector512.Load(c + w);
        }
        x0.Store(c);
        x1.Store(c + w);
    }

    // x·y + acc, fused where the hardware fuses. The typeof tests are constants to the JIT, so each instantiation
    // compiles to a single instruction.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<T> Fma<T>(Vector256<T> x, Vector256<T> y, Vector256<T> acc)
    {
        if (X86Fma.IsSupported && typeof(T) == typeof(float))
            return Vector256.FusedMultiplyAdd(x.AsSingle(), y.AsSingle(), acc.AsSingle()).As<float, T>();
        if (X86Fma.IsSupported && typeof(T) == typeof(double))
            return Vector256.FusedMultiplyAdd(x.AsDouble(), y.AsDouble(), acc.AsDouble()).As<double, T>();
        return x * y + acc;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<T> Fma<T>(Vector512<T> x, Vector512<T> y, Vector512<T> acc)
    {
        if (X86Fma.IsSupported && typeof(T) == typeof(float))
            return Vector512.FusedMultiplyAdd(x.AsSingle(), y.AsSingle(), acc.AsSingle()).As<float, T>();
        if (X86Fma.IsSupported && typeof(T) == typeof(double))
            return Vector512.FusedMultiplyAdd(x.AsDouble(), y.AsDouble(), acc.AsDouble()).As<double, T>();
        return x * y + acc;
    }

    // ------------------------------------------------------------------ helpers

    /// <summary>64-byte-aligned native memory, so packed panels start on a cache line and vector loads never split one.</summary>
    private static T* Allocate<T>(nint elements) where T : unmanaged
        => (T*)NativeMemory.AlignedAlloc((nuint)Math.Max(1, elements) * (nuint)sizeof(T), 64);

    private static int Ceil(int x, int y) => (x + y - 1) / y;

    private static int RoundUp(int x, int y) => Ceil(x, y) * y;
}
