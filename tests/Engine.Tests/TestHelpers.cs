using Engine.Cpu;

namespace Engine.Tests;

/// <summary>Small helpers shared by the CPU backend's forward tests: building tensors from literals, reading them back, and comparing with a tolerance that suits the dtype.</summary>
internal static class H
{
    /// <summary>A fresh CPU backend with the managed GEMM (so results do not depend on whether OpenBLAS loads).</summary>
    public static CpuBackend NewBackend() => new(GemmProvider.Managed);

    /// <summary>A rows×cols tensor of <paramref name="dtype"/> holding <paramref name="values"/> (row-major).</summary>
    public static Tensor T(this Backend b, DType dtype, int rows, int cols, params double[] values) =>
        b.FromDoubles(values, rows, cols, dtype);

    /// <summary>A rows×cols tensor of <paramref name="dtype"/> with every element equal to <paramref name="value"/>.</summary>
    public static Tensor Full(this Backend b, DType dtype, int rows, int cols, double value)
    {
        var t = b.Allocate(rows, cols, dtype);
        b.Fill(t, value);
        return t;
    }

    /// <summary>An int32 k×1 index tensor.</summary>
    public static Tensor Index(this Backend b, params int[] index) => b.FromArray(index, index.Length, 1);

    /// <summary>The elements as doubles.</summary>
    public static double[] D(this Tensor t) => t.ToArray<double>();

    /// <summary>Relative tolerance for results that are a few roundings away from exact.</summary>
    public static double Tol(DType dtype) => dtype == DType.Float32 ? 2e-6 : 1e-13;

    /// <summary>The host values as stored by a tensor of <paramref name="dtype"/> (float32 rounds them).</summary>
    public static double[] Stored(double[] values, DType dtype) =>
        dtype == DType.Float32 ? values.Select(v => (double)(float)v).ToArray() : (double[])values.Clone();

    /// <summary>
    /// |expected − actual| ≤ tol·max(1, |expected|) elementwise, with tol <see cref="Tol"/>(dtype)·<paramref name="scale"/>.
    /// Infinities and NaN must match exactly.
    /// </summary>
    public static void Close(double[] expected, double[] actual, DType dtype, double scale = 1, string? what = null)
    {
        Assert.Equal(expected.Length, actual.Length);
        double tol = Tol(dtype) * scale;
        for (int i = 0; i < expected.Length; i++)
        {
            double e = expected[i], a = actual[i];
            if (double.IsNaN(e) || double.IsInfinity(e))
            {
                if (!e.Equals(a)) Assert.Fail($"{what} [{i}]: expected {e}, got {a}");
                continue;
            }
            if (!(Math.Abs(e - a) <= tol * Math.Max(1, Math.Abs(e)))) // written so that a NaN result fails
                Assert.Fail($"{what} [{i}]: expected {e:R}, got {a:R} (difference {Math.Abs(e - a):E3}, tolerance {tol * Math.Max(1, Math.Abs(e)):E3}, {dtype.Name()})");
        }
    }

    public static void Close(double[] expected, Tensor actual, double scale = 1, string? what = null) =>
        Close(expected, actual.D(), actual.DType, scale, what);

    /// <summary>Runs <paramref name="action"/>, which must throw an <see cref="EngineException"/> for <paramref name="op"/> whose message contains every one of <paramref name="parts"/>.</summary>
    public static EngineException Throws(Action action, string op, params string[] parts)
    {
        var e = Assert.Throws<EngineException>(action);
        Assert.Equal(op, e.Op);
        Assert.StartsWith(op + ": ", e.Message);
        foreach (var part in parts) Assert.Contains(part, e.Message);
        return e;
    }

    /// <summary>A row-major rows×cols array of uniform values in [low, high) from a fixed seed.</summary>
    public static double[] Random(int seed, int rows, int cols, double low = -1, double high = 1)
    {
        var rng = new System.Random(seed);
        var a = new double[rows * cols];
        for (int i = 0; i < a.Length; i++) a[i] = low + (high - low) * rng.NextDouble();
        return a;
    }
}
