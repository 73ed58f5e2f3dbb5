using Engine.Cpu;

namespace Engine.Kernels.Tests;

/// <summary>
/// One tensor of a parity case: host values uploaded alike to both backends, and compared on both after the op.
/// <paramref name="Type"/> is the case's floating dtype when null; int32 tensors hold indices. <paramref name="Terms"/>
/// is how many terms of size about 1 each element sums (a reduction's length, a product's inner dimension): sums in
/// different orders differ by rounding errors that grow like its square root.
/// </summary>
internal sealed record Arg(string Name, int Rows, int Cols, double[] Values, DType? Type = null, double Terms = 1)
{
    /// <summary>A forward's output, NaN-filled: an element the op fails to write, or reads before writing, shows.</summary>
    public static Arg Out(string name, int rows, int cols, double terms = 1) =>
        new(name, rows, cols, Enumerable.Repeat(double.NaN, rows * cols).ToArray(), Terms: terms);

    /// <summary>An int32 index tensor, k×1.</summary>
    public static Arg Index(string name, int[] values) => new(name, values.Length, 1, values.Select(v => (double)v).ToArray(), DType.Int32);
}

/// <summary>Where a fused op runs against the CPU backend's kernel.</summary>
public enum FusedRun { CpuComposed, CudaKernel, CudaComposed }

/// <summary>
/// Holds a backend to the CPU reference (managed GEMM): runs one op on both over the same host inputs and compares
/// every tensor of the call afterwards, inputs included (an op must not write where it only reads). Skipped, with the
/// probe's reason, where there is no GPU.
/// </summary>
internal sealed class Parity(Backend device) : IDisposable
{
    /// <summary>
    /// Inputs are of size about 1, so results that are a few roundings apart agree within a few units of 1e-7 (float32)
    /// or 1e-16 (float64): sums in another order, fused multiply-adds, and the last-ulp differences of two libraries'
    /// exp, log and tanh. The bounds leave two orders of magnitude over that, and stay far below the size of any one
    /// term, so a term dropped, doubled or misplaced fails.
    /// </summary>
    private static double Tolerance(DType dtype) => dtype == DType.Float32 ? 1e-5 : 1e-12;

    private readonly CpuBackend cpu = new(GemmProvider.Managed);

    public static Parity OnCuda()
    {
        Gpu.Require();
        return new Parity(new CudaBackend(CudaDevice.Open()));
    }

    /// <summary>
    /// For a fused op: CUDA's kernel, or the composed reference on CUDA or on the CPU (<see cref="Backend.ComposedOnly"/>),
    /// held to the CPU backend's kernel; the device's counters on, so a test can tell which path ran.
    /// </summary>
    public static Parity ForFused(FusedRun run)
    {
        if (run != FusedRun.CpuComposed) Gpu.Require();
        Backend device = run == FusedRun.CpuComposed ? new CpuBackend(GemmProvider.Managed) : new CudaBackend(CudaDevice.Open());
        device.ComposedOnly = run != FusedRun.CudaKernel;
        device.Counters.Enabled = true;
        return new Parity(device);
    }

    /// <summary>
    /// Whether the fused op ran as its composed reference on the device: the references (BPR's, CLUB's) use the
    /// elementwise primitives, which the kernels and the harness's uploads and downloads never call.
    /// </summary>
    public bool RanComposed => device.Counters.Snapshot().ContainsKey(OpKind.Binary);

    /// <summary>The tensors' values after <paramref name="run"/> on the CPU: a forward's outputs to feed its backward.</summary>
    public double[][] OnCpu(DType dtype, Action<Backend, Tensor[]> run, params Arg[] args) => Run(cpu, dtype, run, args);

    /// <summary>
    /// Runs <paramref name="run"/> on both backends and requires every element of every tensor to agree:
    /// |cpu − device| ≤ tol·(√terms + |cpu|), or exactly where <paramref name="exact"/>; NaN and ±∞ must match.
    /// </summary>
    public void Check(string what, DType dtype, Action<Backend, Tensor[]> run, Arg[] args, bool exact = false)
    {
        var label = $"{what} ({dtype.Name()})";
        var expected = Run(cpu, dtype, run, args);
        double[][] actual;
        try
        {
            actual = Run(device, dtype, run, args);
        }
        catch (Exception e)
        {
            throw new InvalidOperationException($"{label}: {device.Name} threw {e.GetType().Name}: {e.Message}", e);
        }
        var mismatches = new List<string>();
        int count = 0;
        for (int t = 0; t < args.Length; t++)
        {
            var arg = args[t];
            double tol = exact || arg.Type == DType.Int32 ? 0 : Tolerance(dtype);
            for (int i = 0; i < arg.Values.Length; i++)
            {
                double e = expected[t][i], a = actual[t][i];
                bool agree = double.IsNaN(e) || double.IsInfinity(e) ? e.Equals(a)
                    : Math.Abs(e - a) <= tol * (Math.Sqrt(arg.Terms) + Math.Abs(e)); // false for a NaN a
                if (agree) continue;
                if (++count <= 5)
                    mismatches.Add($"{arg.Name} ({arg.Rows}×{arg.Cols}) [{i / Math.Max(1, arg.Cols)}, {i % Math.Max(1, arg.Cols)}]: cpu {e:R}, {device.Name} {a:R}");
            }
        }
        Assert.True(count == 0, $"{label}: {count} element(s) differ, first:\n  {string.Join("\n  ", mismatches)}");
    }

    private static double[][] Run(Backend backend, DType dtype, Action<Backend, Tensor[]> run, Arg[] args)
    {
        var tensors = args.Select(a => a.Type == DType.Int32
            ? backend.FromArray(a.Values.Select(v => (int)v).ToArray(), a.Rows, a.Cols)
            : backend.FromDoubles(a.Values, a.Rows, a.Cols, a.Type ?? dtype)).ToArray();
        try
        {
            run(backend, tensors);
            return tensors.Select(t => t.DType == DType.Int32 ? t.ToArray<int>().Select(v => (double)v).ToArray() : t.ToArray<double>()).ToArray();
        }
        finally
        {
            foreach (var t in tensors) t.Dispose();
        }
    }

    /// <summary>
    /// Shapes at the kernels' edges: one element, one row, one column, rows shorter than a warp (31) and longer (33,
    /// 100: several strides of 32 lanes), sizes off every multiple of 32 and 256, and 70,000 elements for hundreds of
    /// blocks of 256 threads. Small enough for an emulated device that runs every GPU thread on the CPU.
    /// </summary>
    public static readonly (int Rows, int Cols)[] Shapes = [(1, 1), (1, 300), (300, 1), (9, 31), (33, 33), (7, 100), (257, 3), (1000, 70)];

    /// <summary><paramref name="n"/> values drawn uniformly from [low, high).</summary>
    public static double[] Uniform(Random rng, long n, double low = -1, double high = 1) =>
        Enumerable.Range(0, checked((int)n)).Select(_ => low + (high - low) * rng.NextDouble()).ToArray();

    public void Dispose()
    {
        device.Dispose();
        cpu.Dispose();
    }
}
