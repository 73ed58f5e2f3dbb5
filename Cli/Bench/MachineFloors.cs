using System.Diagnostics;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Engine.Cli.Bench;

/// <summary>
/// The machine's own limits, measured in this process, that benchmark figures are held against: the peak float32
/// multiply-add rate of all cores (independent FMA chains in registers, no memory traffic) and the memory copy
/// bandwidth (large arrays, all cores; <see cref="CopyBasis"/> says what was copied and counted). A kernel's floor is
/// its work divided by the limit that binds it.
/// </summary>
public sealed record MachineFloors(int Cores, double PeakGflopsF32, double PeakGflopsF64, double CopyGBps, string CopyBasis)
{
    public static MachineFloors Measure(bool quick)
    {
        int cores = Environment.ProcessorCount;
        long iterations = quick ? 2_000_000 : 20_000_000;
        double f32 = Best(3, () => PeakGflops(cores, iterations, doublePrecision: false));
        double f64 = Best(3, () => PeakGflops(cores, iterations, doublePrecision: true));
        int arrayBytes = quick ? 32 << 20 : 256 << 20, copies = quick ? 3 : 9;
        double copy = CopyBandwidth(cores, arrayBytes, copies);
        return new MachineFloors(cores, f32, f64, copy,
            $"{arrayBytes >> 20} MiB copied by {cores} threads, read + write counted ({2 * (arrayBytes >> 20)} MiB a copy), median of {copies}");
    }

    /// <summary>GB/s of a copy of <paramref name="bytesCopied"/> bytes in <paramref name="seconds"/>: a copy reads each byte and writes it, and both count.</summary>
    public static double CopyRateGBps(long bytesCopied, double seconds) => 2.0 * bytesCopied / seconds / 1e9;

    private static double Best(int tries, Func<double> measure)
    {
        double best = 0;
        for (int i = 0; i < tries; i++) best = Math.Max(best, measure());
        return best;
    }

    private static double PeakGflops(int cores, long iterations, bool doublePrecision)
    {
        var watch = Stopwatch.StartNew();
        double sink = 0;
        Parallel.For(0, cores, new ParallelOptions { MaxDegreeOfParallelism = cores }, _ =>
        {
            double s = doublePrecision ? FmaChains<double>(iterations) : FmaChains<float>(iterations);
            lock (watch) sink += s;
        });
        double seconds = watch.Elapsed.TotalSeconds;
        int lanes = Wide ? (doublePrecision ? Vector512<double>.Count : Vector512<float>.Count)
                         : (doublePrecision ? Vector256<double>.Count : Vector256<float>.Count);
        // 8 chains × lanes × 2 FLOP per multiply-add, per iteration, per core.
        double flop = 8.0 * lanes * 2 * iterations * cores;
        return sink == 12345 ? 0 : flop / seconds / 1e9; // the comparison keeps the result alive
    }

    /// <summary>Whether the widest vectors (and so the peak) are 512 bits wide on this machine.</summary>
    private static bool Wide => Avx512F.IsSupported && Vector512.IsHardwareAccelerated;

    /// <summary>Eight independent FMA chains of the widest vectors: enough in flight to hide the FMA latency on current cores.</summary>
    private static double FmaChains<T>(long iterations) where T : unmanaged, System.Numerics.IFloatingPointIeee754<T> =>
        Wide ? FmaChains512<T>(iterations) : FmaChains256<T>(iterations);

    private static double FmaChains512<T>(long iterations) where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        var a = Vector512.Create(T.CreateTruncating(0.999999));
        var b = Vector512.Create(T.CreateTruncating(1e-7));
        Vector512<T> c0 = Vector512.Create(T.One), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0, c6 = c0, c7 = c0;
        for (long i = 0; i < iterations; i++)
        {
            c0 = MulAdd(c0, a, b); c1 = MulAdd(c1, a, b); c2 = MulAdd(c2, a, b); c3 = MulAdd(c3, a, b);
            c4 = MulAdd(c4, a, b); c5 = MulAdd(c5, a, b); c6 = MulAdd(c6, a, b); c7 = MulAdd(c7, a, b);
        }
        var total = ((c0 + c1) + (c2 + c3)) + ((c4 + c5) + (c6 + c7));
        return double.CreateTruncating(Vector512.Sum(total));
    }

    private static Vector512<T> MulAdd<T>(Vector512<T> x, Vector512<T> y, Vector512<T> z) where T : unmanaged
    {
        if (typeof(T) == typeof(float))
            return Avx512F.FusedMultiplyAdd(x.AsSingle(), y.AsSingle(), z.AsSingle()).As<float, T>();
        if (typeof(T) == typeof(double))
            return Avx512F.FusedMultiplyAdd(x.AsDouble(), y.AsDouble(), z.AsDouble()).As<double, T>();
        return x * y + z;
    }

    private static double FmaChains256<T>(long iterations) where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        var a = Vector256.Create(T.CreateTruncating(0.999999));
        var b = Vector256.Create(T.CreateTruncating(1e-7));
        Vector256<T> c0 = Vector256.Create(T.One), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0, c6 = c0, c7 = c0;
        for (long i = 0; i < iterations; i++)
        {
            c0 = MulAdd(c0, a, b); c1 = MulAdd(c1, a, b); c2 = MulAdd(c2, a, b); c3 = MulAdd(c3, a, b);
            c4 = MulAdd(c4, a, b); c5 = MulAdd(c5, a, b); c6 = MulAdd(c6, a, b); c7 = MulAdd(c7, a, b);
        }
        var total = ((c0 + c1) + (c2 + c3)) + ((c4 + c5) + (c6 + c7));
        return double.CreateTruncating(Vector256.Sum(total));
    }

    private static Vector256<T> MulAdd<T>(Vector256<T> x, Vector256<T> y, Vector256<T> z) where T : unmanaged
    {
        if (Fma.IsSupported && typeof(T) == typeof(float))
            return Fma.MultiplyAdd(x.AsSingle(), y.AsSingle(), z.AsSingle()).As<float, T>();
        if (Fma.IsSupported && typeof(T) == typeof(double))
            return Fma.MultiplyAdd(x.AsDouble(), y.AsDouble(), z.AsDouble()).As<double, T>();
        return x * y + z;
    }

    /// <summary>
    /// The median rate of <paramref name="copies"/> copies of one large array into another, all cores copying disjoint
    /// parts. The warm-up copies write every page of the destination first: a fresh array's first write would time the
    /// kernel mapping its pages, not the copy.
    /// </summary>
    private static double CopyBandwidth(int cores, int bytes, int copies)
    {
        var src = new byte[bytes];
        var dst = new byte[bytes];
        Array.Fill(src, (byte)1);
        int chunk = bytes / cores;
        var (seconds, _) = OpsBenchmark.Time(copies, () => Parallel.For(0, cores, new ParallelOptions { MaxDegreeOfParallelism = cores },
            c => src.AsSpan(c * chunk, chunk).CopyTo(dst.AsSpan(c * chunk, chunk))));
        return CopyRateGBps((long)chunk * cores, seconds);
    }
}
