namespace Engine;

/// <summary>
/// A seeded random number generator (xoshiro256**, seeded through SplitMix64) whose stream depends only on the seed:
/// the same on every run, every machine and every backend, because random tensors are drawn on the host in double
/// and converted. Its <see cref="State"/> can be saved and restored.
/// </summary>
public sealed class Rng
{
    private ulong s0, s1, s2, s3;
    private double? spareNormal;

    public Rng(ulong seed)
    {
        ulong x = seed;
        s0 = SplitMix64(ref x);
        s1 = SplitMix64(ref x);
        s2 = SplitMix64(ref x);
        s3 = SplitMix64(ref x);
    }

    /// <summary>The generator's full state (four words and the cached normal deviate), for checkpoints.</summary>
    public (ulong, ulong, ulong, ulong, double?) State
    {
        get => (s0, s1, s2, s3, spareNormal);
        set => (s0, s1, s2, s3, spareNormal) = value;
    }

    public ulong NextUInt64()
    {
        ulong result = RotateLeft(s1 * 5, 7) * 9;
        ulong t = s1 << 17;
        s2 ^= s0;
        s3 ^= s1;
        s1 ^= s2;
        s0 ^= s3;
        s2 ^= t;
        s3 = RotateLeft(s3, 45);
        return result;
    }

    /// <summary>Uniform in [0, 1), 53 random bits.</summary>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    /// <summary>Uniform integer in [0, n), without modulo bias (Lemire's method).</summary>
    public int NextInt(int n)
    {
        if (n <= 0) throw new ArgumentOutOfRangeException(nameof(n), n, "must be positive");
        ulong bound = (ulong)n;
        ulong threshold = (0UL - bound) % bound;
        while (true)
        {
            ulong r = NextUInt64();
            UInt128 product = (UInt128)r * bound;
            if ((ulong)product >= threshold) return (int)(product >> 64);
        }
    }

    public double Uniform(double low, double high) => low + (high - low) * NextDouble();

    /// <summary>A standard normal deviate (Box–Muller; the second deviate of each pair is kept for the next call).</summary>
    public double Normal()
    {
        if (spareNormal is { } spare)
        {
            spareNormal = null;
            return spare;
        }
        double u1 = 1.0 - NextDouble(); // in (0, 1], so the log is finite
        double u2 = NextDouble();
        double radius = Math.Sqrt(-2.0 * Math.Log(u1));
        spareNormal = radius * Math.Sin(2 * Math.PI * u2);
        return radius * Math.Cos(2 * Math.PI * u2);
    }

    /// <summary>A uniformly random permutation of 0..n−1 (Fisher–Yates).</summary>
    public int[] Permutation(int n)
    {
        var p = new int[n];
        for (int i = 0; i < n; i++) p[i] = i;
        Shuffle(p);
        return p;
    }

    public void Shuffle<T>(T[] items)
    {
        for (int i = items.Length - 1; i > 0; i--)
        {
            int j = NextInt(i + 1);
            (items[i], items[j]) = (items[j], items[i]);
        }
    }

    public double[] UniformArray(long count, double low, double high)
    {
        var a = new double[count];
        for (long i = 0; i < count; i++) a[i] = Uniform(low, high);
        return a;
    }

    public double[] NormalArray(long count, double mean, double std)
    {
        var a = new double[count];
        for (long i = 0; i < count; i++) a[i] = mean + std * Normal();
        return a;
    }

    private static ulong SplitMix64(ref ulong x)
    {
        ulong z = x += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    private static ulong RotateLeft(ulong x, int k) => (x << k) | (x >> (64 - k));
}

public static class RandomTensors
{
    /// <summary>A rows×cols tensor uniform in [low, high).</summary>
    public static Tensor Uniform(this Backend backend, int rows, int cols, DType dtype, Rng rng, double low = 0, double high = 1) =>
        backend.FromDoubles(rng.UniformArray((long)rows * cols, low, high), rows, cols, dtype);

    /// <summary>A rows×cols tensor of normal deviates.</summary>
    public static Tensor Normal(this Backend backend, int rows, int cols, DType dtype, Rng rng, double mean = 0, double std = 1) =>
        backend.FromDoubles(rng.NormalArray((long)rows * cols, mean, std), rows, cols, dtype);

    /// <summary>A random permutation of 0..n−1 as an int32 n×1 index tensor.</summary>
    public static Tensor Permutation(this Backend backend, int n, Rng rng) => backend.FromArray(rng.Permutation(n), n, 1);

    /// <summary>
    /// A random permutation π of 0..n−1 (the same draw as <see cref="Permutation"/>) and its inverse, both int32 n×1,
    /// the inverse made on the host where π is drawn: a device needing it never has to read π back.
    /// </summary>
    public static (Tensor Forward, Tensor Inverse) PermutationAndInverse(this Backend backend, int n, Rng rng)
    {
        var forward = rng.Permutation(n);
        var inverse = new int[n];
        for (int i = 0; i < n; i++) inverse[forward[i]] = i;
        return (backend.FromArray(forward, n, 1), backend.FromArray(inverse, n, 1));
    }
}
