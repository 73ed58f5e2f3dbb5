using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Engine.Cpu;

/// <summary>Which implementation multiplies dense matrices on the CPU.</summary>
public enum GemmProvider
{
    /// <summary>Whichever of OpenBLAS and the managed kernel is faster on this machine (<see cref="GemmChoice"/>).</summary>
    Auto,
    OpenBlas,
    Managed,
}

/// <summary>
/// The CPU backend, and the reference every other backend is held to. Work on large tensors is split across cores
/// in fixed chunks, and every sum runs in an order that depends only on the shapes, so results are bit-identical
/// from run to run.
/// </summary>
public sealed partial class CpuBackend : Backend
{
    /// <summary>Chunks smaller than this are not worth a thread.</summary>
    private const int ParallelGrain = 1 << 15;

    public CpuBackend(GemmProvider gemm = GemmProvider.Auto)
    {
        (UseOpenBlas, GemmReason) = gemm switch
        {
            GemmProvider.Managed => (false, "asked for"),
            GemmProvider.OpenBlas => OpenBlas.IsAvailable ? (true, "asked for")
                : throw new InvalidOperationException($"OpenBLAS was asked for but is not usable: {OpenBlas.Description}"),
            _ => GemmChoice.Decide(),
        };
    }

    /// <summary>The default CPU backend (GEMM by whichever provider measures faster here).</summary>
    public static CpuBackend Shared { get; } = new();

    /// <summary>Whether OpenBLAS loaded in this process.</summary>
    public static bool OpenBlasAvailable => OpenBlas.IsAvailable;

    /// <summary>Which OpenBLAS loaded from where, or every place tried and why each failed.</summary>
    public static string OpenBlasStatus => OpenBlas.Description;

    /// <summary>True when GEMM goes to OpenBLAS, false when it runs the managed kernel.</summary>
    public bool UseOpenBlas { get; }

    /// <summary>Why this provider: asked for, measured faster here, or the only one there is.</summary>
    public string GemmReason { get; }

    public override string Name => "cpu";
    public override Device Device => Device.Cpu;

    public override string Description =>
        $"CPU, {Environment.ProcessorCount} threads, GEMM by " +
        (UseOpenBlas ? $"{OpenBlas.Description} ({GemmReason}; products with a dimension ≤ 32 by the managed kernel)"
            : $"the managed blocked kernel ({GemmReason}; OpenBLAS: {OpenBlas.Description})");

    // ---------------------------------------------------------------- memory

    private sealed class CpuStorage(Array data, ArrayPool? pool) : TensorStorage
    {
        public Array Data { get; private set; } = data;

        protected override void Free()
        {
            pool?.Return(Data);
            Data = Array.Empty<byte>();
        }
    }

    /// <summary>
    /// Keeps freed large arrays for reuse. A training step allocates the same large tensors every batch; without reuse
    /// each would be a fresh large-object-heap allocation, zeroed by the runtime and reclaimed only by full collections.
    /// </summary>
    private sealed class ArrayPool
    {
        /// <summary>Arrays below the large-object-heap threshold are cheap for the GC: not worth keeping.</summary>
        public const int MinBytes = 85_000;
        private const long MaxKeptBytes = 2L << 30;
        private readonly Dictionary<(Type, long), Stack<Array>> free = [];
        private long keptBytes;

        public Array Rent(Type element, long length, int elementSize)
        {
            lock (free)
            {
                if (free.TryGetValue((element, length), out var stack) && stack.Count > 0)
                {
                    keptBytes -= length * elementSize;
                    var reused = stack.Pop();
                    Array.Clear(reused); // the contract: new tensors are zero-filled
                    return reused;
                }
            }
            return Array.CreateInstance(element, length);
        }

        public void Return(Array array)
        {
            long bytes = (long)array.Length * System.Runtime.InteropServices.Marshal.SizeOf(array.GetType().GetElementType()!);
            lock (free)
            {
                if (keptBytes + bytes > MaxKeptBytes) return;
                var key = (array.GetType().GetElementType()!, (long)array.Length);
                if (!free.TryGetValue(key, out var stack)) free[key] = stack = new Stack<Array>();
                stack.Push(array);
                keptBytes += bytes;
            }
        }
    }

    private readonly ArrayPool pool = new();

    /// <summary>The managed array behind a CPU tensor.</summary>
    internal static T[] Data<T>(Tensor t) => (T[])((CpuStorage)t.Storage).Data;

    /// <summary>The array behind a gradient that may not be wanted.</summary>
    private static T[]? OrNull<T>(Tensor? t) => t is null ? null : Data<T>(t);

    protected override TensorStorage AllocateCore(long length, DType dtype)
    {
        var element = dtype switch
        {
            DType.Float32 => typeof(float),
            DType.Float64 => typeof(double),
            DType.Int32 => typeof(int),
            _ => throw new ArgumentOutOfRangeException(nameof(dtype)),
        };
        int size = dtype.SizeInBytes();
        return length * size >= ArrayPool.MinBytes
            ? new CpuStorage(pool.Rent(element, length, size), pool)
            : new CpuStorage(Array.CreateInstance(element, length), null);
    }

    protected override void UploadCore<T>(ReadOnlySpan<T> src, Tensor dst)
    {
        switch (dst.DType)
        {
            case DType.Float32: HostConversion.Convert(src, Data<float>(dst).AsSpan()); break;
            case DType.Float64: HostConversion.Convert(src, Data<double>(dst).AsSpan()); break;
            default: src.CopyTo(Data<T>(dst)); break;
        }
    }

    protected override void DownloadCore<T>(Tensor src, Span<T> dst)
    {
        switch (src.DType)
        {
            case DType.Float32: HostConversion.Convert<float, T>(Data<float>(src), dst); break;
            case DType.Float64: HostConversion.Convert<double, T>(Data<double>(src), dst); break;
            default: Data<T>(src).CopyTo(dst); break;
        }
    }

    protected override void CopyCore(Tensor src, Tensor dst) =>
        Array.Copy(((CpuStorage)src.Storage).Data, ((CpuStorage)dst.Storage).Data, src.Length);

    protected override void FillCore(Tensor t, double value)
    {
        switch (t.DType)
        {
            case DType.Float32: Array.Fill(Data<float>(t), (float)value); break;
            case DType.Float64: Array.Fill(Data<double>(t), value); break;
            default: Array.Fill(Data<int>(t), checked((int)value)); break;
        }
    }

    // ---------------------------------------------------------------- dispatch helpers

    /// <summary>More threads than cores only add switching: the thread pool may have grown past the core count.</summary>
    private static readonly ParallelOptions OneThreadPerCore = new() { MaxDegreeOfParallelism = Environment.ProcessorCount };

    /// <summary>Runs body(start, count) over [0, length) in fixed chunks, in parallel when the work is large.</summary>
    internal static void ForChunks(long length, Action<int, int> body, int grain = ParallelGrain)
    {
        if (length <= grain)
        {
            if (length > 0) body(0, (int)length);
            return;
        }
        int chunks = (int)((length + grain - 1) / grain);
        Parallel.For(0, chunks, OneThreadPerCore, c =>
        {
            long start = (long)c * grain;
            body((int)start, (int)Math.Min(grain, length - start));
        });
    }

    /// <summary>Runs body(row) for every row, in parallel blocks of rows when the tensor is large.</summary>
    internal static void ForRows(int rows, int cols, Action<int> body) =>
        ForChunks(rows, (start, count) =>
        {
            for (int r = start; r < start + count; r++) body(r);
        }, RowsPerChunk(cols));

    /// <summary>Rows of <paramref name="cols"/> elements that make one parallel chunk of about <see cref="ParallelGrain"/> elements.</summary>
    private static int RowsPerChunk(int cols) => Math.Max(1, ParallelGrain / Math.Max(1, cols));

    private static T Cast<T>(double value) where T : INumberBase<T> => T.CreateTruncating(value);

    // ---------------------------------------------------------------- GEMM and Adam

    protected override void GemmCore(bool transA, bool transB, double alpha, Tensor a, Tensor b, double beta, Tensor c)
    {
        if (a.DType == DType.Float32) Gemm<float>(transA, transB, alpha, a, b, beta, c);
        else Gemm<double>(transA, transB, alpha, a, b, beta, c);
    }

    private void Gemm<T>(bool transA, bool transB, double alpha, Tensor a, Tensor b, double beta, Tensor c)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int m = c.Rows, n = c.Cols, k = transA ? a.Rows : a.Cols;
        if (UseOpenBlas && !IsSkinny(m, n, k))
            OpenBlas.Gemm(transA, transB, m, n, k, Cast<T>(alpha), Data<T>(a), a.Cols, Data<T>(b), b.Cols, Cast<T>(beta), Data<T>(c), n);
        else
            ManagedGemm.Gemm(transA, transB, m, n, k, Cast<T>(alpha), Data<T>(a), a.Cols, Data<T>(b), b.Cols, Cast<T>(beta), Data<T>(c), n);
    }

    /// <summary>
    /// Products with a dimension of 32 or less (a layer 32 → 8 wide, say) go to the managed kernel even when OpenBLAS
    /// is in use: measured here, OpenBLAS's threading cost 10–30 times the product itself on such shapes.
    /// </summary>
    private static bool IsSkinny(int m, int n, int k) => Math.Min(m, Math.Min(n, k)) <= 32;

    protected override void AdamStepCore(Tensor param, Tensor grad, Tensor m, Tensor v, double lr, double beta1, double beta2, double eps, double weightDecay, int step)
    {
        if (param.DType == DType.Float32)
            AdamUpdate(Data<float>(param), Data<float>(grad), Data<float>(m), Data<float>(v), lr, beta1, beta2, eps, weightDecay, step);
        else AdamUpdate(Data<double>(param), Data<double>(grad), Data<double>(m), Data<double>(v), lr, beta1, beta2, eps, weightDecay, step);
    }

    /// <summary>Adam on arrays: the work of <see cref="AdamStepCore"/> (also run by <see cref="ClubFitCore"/> on packed parameters).</summary>
    private static void AdamUpdate<T>(T[] p, T[] g, T[] m, T[] v, double lr, double beta1, double beta2, double eps, double weightDecay, int step)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        // PyTorch's arithmetic, step for step: m lerps towards g, bias corrections are computed in double, and
        // p -= (lr / bc1) · m / (sqrt(v) / sqrt(bc2) + eps).
        double bc1 = 1 - Math.Pow(beta1, step), bc2 = 1 - Math.Pow(beta2, step);
        T stepSize = Cast<T>(lr / bc1), bc2Sqrt = Cast<T>(Math.Sqrt(bc2));
        T b2 = Cast<T>(beta2), oneMinusB1 = Cast<T>(1 - beta1), oneMinusB2 = Cast<T>(1 - beta2);
        T e = Cast<T>(eps), wd = Cast<T>(weightDecay);
        ForChunks(p.Length, (start, count) =>
        {
            int i = start, end = start + count;
            if (Vector256.IsHardwareAccelerated)
            {
                // The same arithmetic, eight (or four) parameters at a time.
                var (vb2, vOneMinusB1, vOneMinusB2) = (Vector256.Create(b2), Vector256.Create(oneMinusB1), Vector256.Create(oneMinusB2));
                var (vStep, vBc2Sqrt, vEps, vWd) = (Vector256.Create(stepSize), Vector256.Create(bc2Sqrt), Vector256.Create(e), Vector256.Create(wd));
                for (; i <= end - Vector256<T>.Count; i += Vector256<T>.Count)
                {
                    var pv = Vector256.LoadUnsafe(ref p[0], (nuint)i);
                    var gv = Vector256.LoadUnsafe(ref g[0], (nuint)i);
                    if (weightDecay != 0) gv += vWd * pv;
                    var mv = Vector256.LoadUnsafe(ref m[0], (nuint)i);
                    mv += vOneMinusB1 * (gv - mv);
                    var vv = Vector256.LoadUnsafe(ref v[0], (nuint)i) * vb2 + vOneMinusB2 * gv * gv;
                    pv -= vStep * (mv / (Vector256.Sqrt(vv) / vBc2Sqrt + vEps));
                    mv.StoreUnsafe(ref m[0], (nuint)i);
                    vv.StoreUnsafe(ref v[0], (nuint)i);
                    pv.StoreUnsafe(ref p[0], (nuint)i);
                }
            }
            for (; i < end; i++)
            {
                T gi = weightDecay != 0 ? g[i] + wd * p[i] : g[i];
                m[i] += oneMinusB1 * (gi - m[i]); // torch's lerp
                v[i] = v[i] * b2 + oneMinusB2 * gi * gi;
                p[i] -= stepSize * (m[i] / (T.Sqrt(v[i]) / bc2Sqrt + e));
            }
        });
    }
}
