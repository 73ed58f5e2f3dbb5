using System.Diagnostics;
using Engine.Cpu;

namespace Engine.Cli.Bench;

/// <summary>
/// One measured kernel: its median time, the rate it reached, and the floor it is held against; for some, the bytes
/// its first call allocated (<see cref="AllocatedBytes"/>).
/// </summary>
public sealed record OpsBenchResult(
    string Name, string Provider, string DType, string Shape, int Repetitions, double MedianSeconds,
    double Rate, string RateUnit, double FloorSeconds, string FloorBasis, long? AllocatedBytes = null)
{
    /// <summary>Floor time over measured time: 1 means the kernel runs at the machine's limit.</summary>
    public double FractionOfFloor => FloorSeconds / MedianSeconds;
}

public sealed record OpsBenchReport(DateTimeOffset When, bool Quick, string Backend, MachineFloors Machine, IReadOnlyList<OpsBenchResult> Results);

/// <summary>
/// <c>sea bench ops</c>: the CPU kernels that dominate an epoch, on Baby-sized shapes. GEMM: SEA's largest product,
/// image features (7,050 × 4,096) times a 4,096 × 64 map, forward and as the weight gradient's Aᵀ·B. SpMM: a
/// bipartite graph the size of Baby's training graph (19,445 users + 7,050 items, 118,551 pairs, so 237,102
/// non-zeros in the symmetric normalised adjacency) times a 26,495 × 64 embedding table.
/// </summary>
public static class OpsBenchmark
{
    public static OpsBenchReport Run(bool quick, TextWriter log)
    {
        int scale = quick ? 8 : 1; // --quick divides every dimension, to check the plumbing in seconds
        log.WriteLine("measuring the machine's floors ...");
        var floors = MachineFloors.Measure(quick);
        var results = new List<OpsBenchResult>();
        var rng = new Rng(999);

        int items = 7050 / scale, width = 4096 / scale, dims = 64;

        // SpMM first: OpenBLAS leaves its threads spinning for a while after each call, which would slow what follows.
        log.WriteLine("spmm ...");
        var cpu = CpuBackend.Shared;
        int users = 19445 / scale, graphItems = 7050 / scale, pairs = 118551 / scale;
        foreach (var dtype in new[] { DType.Float32, DType.Float64 })
        {
            using var graph = BipartiteGraph(cpu, users, graphItems, pairs, dtype, new Rng(999));
            using var x = cpu.Uniform(graph.Cols, dims, dtype, rng, -1, 1);
            using var y = cpu.Allocate(graph.Rows, dims, dtype);
            int size = dtype.SizeInBytes();
            // The least traffic any SpMM needs: the matrix once, x once, y written once.
            double bytes = (graph.Rows + 1) * 4.0 + graph.NonZeros * (4.0 + size) + 2.0 * graph.Rows * dims * size;
            var (median, reps) = Time(quick ? 3 : 20, () => cpu.Spmm(graph, x, 0, y));
            results.Add(new("spmm Â·X", "managed", dtype.Name(), $"{graph.Rows}² ({graph.NonZeros} nnz) · {graph.Cols}×{dims}", reps,
                median, bytes / median / 1e9, "GB/s", bytes / (floors.CopyGBps * 1e9), $"{bytes / 1e6:0.0} MB at the copy bandwidth"));
        }

        var providers = new List<CpuBackend> { new(GemmProvider.Managed) };
        if (CpuBackend.OpenBlasAvailable) providers.Add(new CpuBackend(GemmProvider.OpenBlas));
        else log.WriteLine($"OpenBLAS not measured: {CpuBackend.OpenBlasStatus}");

        foreach (var backend in providers)
        {
            string provider = backend.UseOpenBlas ? "OpenBLAS" : "managed";
            foreach (var dtype in new[] { DType.Float32, DType.Float64 })
            {
                using var features = backend.Uniform(items, width, dtype, rng, -1, 1);
                using var map = backend.Uniform(width, dims, dtype, rng, -1, 1);
                using var output = backend.Allocate(items, dims, dtype);
                using var gradOut = backend.Uniform(items, dims, dtype, rng, -1, 1);
                using var gradMap = backend.Allocate(width, dims, dtype);
                double flop = 2.0 * items * width * dims;
                double peak = dtype == DType.Float32 ? floors.PeakGflopsF32 : floors.PeakGflopsF64;
                log.WriteLine($"gemm {provider} {dtype.Name()} ...");
                results.Add(Gemm("gemm A·B", provider, dtype, $"{items}×{width} · {width}×{dims}", flop, peak, quick,
                    () => backend.Gemm(false, false, 1, features, map, 0, output)));
                results.Add(Gemm("gemm Aᵀ·B", provider, dtype, $"({items}×{width})ᵀ · {items}×{dims}", flop, peak, quick,
                    () => backend.Gemm(true, false, 1, features, gradOut, 0, gradMap)));
            }
        }

        results.AddRange(ClubFit(cpu, items, quick ? 5 : 50, floors, quick, log));
        results.AddRange(ClubBound(items, floors, quick, log));
        results.AddRange(InfoNce(items, floors, quick, log));
        return new OpsBenchReport(DateTimeOffset.UtcNow, quick, CpuBackend.Shared.Description, floors, results);
    }

    /// <summary>
    /// CLUB's inner loop on a Baby batch (2 pairs of 7,050 × 32, SEA's q, 50 steps), float32: the fused op
    /// (<see cref="Backend.ClubFit"/>'s kernel) against its composed reference (<see cref="Backend.ComposedOnly"/>).
    /// </summary>
    private static IEnumerable<OpsBenchResult> ClubFit(Backend backend, int items, int steps, MachineFloors floors, bool quick, TextWriter log)
    {
        var layout = new ClubLayout(32, 8);
        var rng = new Rng(7);
        using var x = backend.Uniform(2 * items, layout.Width, DType.Float32, rng, -1, 1);
        using var y = backend.Uniform(2 * items, layout.Width, DType.Float32, rng, -1, 1);
        using var parameters = backend.Uniform(1, layout.Length, DType.Float32, rng, -0.3, 0.3);
        using var m = backend.Allocate(1, layout.Length, DType.Float32);
        using var v = backend.Allocate(1, layout.Length, DType.Float32);
        double flop = 2.0 * steps * x.Rows * 5 * 2 * layout.Width * layout.Hidden; // as the op counters count it
        string shape = $"2 × {items}×{layout.Width}, q {layout.Width}→{layout.Hidden}→{layout.Width} ×2, {steps} steps";
        var cases = new (string Name, Action Run)[]
        {
            ("club fit (one fused op)", () => backend.ClubFit(x, y, 2, layout, parameters, m, v, steps, 0, 1e-4, 0.9, 0.999, 1e-8, 0)),
            ("club fit (composed ops)", () =>
            {
                backend.ComposedOnly = true;
                try { backend.ClubFit(x, y, 2, layout, parameters, m, v, steps, 0, 1e-4, 0.9, 0.999, 1e-8, 0); }
                finally { backend.ComposedOnly = false; }
            }),
        };
        foreach (var (name, run) in cases)
        {
            log.WriteLine($"{name} ...");
            var (median, reps) = Time(quick ? 2 : 5, run);
            yield return new(name, "managed", DType.Float32.Name(), shape, reps, median, flop / median / 1e9, "GFLOP/s",
                flop / (floors.PeakGflopsF32 * 1e9), $"{flop / 1e9:0.00} GFLOP at the FMA peak");
        }
    }

    /// <summary>
    /// CLUB's bound on one modality of a Baby batch (7,050 × 32, float32), forward and backward with all three
    /// gradients: the fused op against its composed reference (<see cref="Backend.ComposedOnly"/>), held to the traffic
    /// of μ, ℓ and y read and the gradients read and written.
    /// </summary>
    private static IEnumerable<OpsBenchResult> ClubBound(int items, MachineFloors floors, bool quick, TextWriter log)
    {
        const int width = 32;
        foreach (bool composed in new[] { false, true })
        {
            var backend = new CpuBackend { ComposedOnly = composed };
            var rng = new Rng(8);
            Tensor Values() => backend.Uniform(items, width, DType.Float32, rng, -1, 1);
            using Tensor mu = Values(), logVariance = Values(), y = Values(), dMu = Values(), dLogVariance = Values(), dY = Values();
            using var permutation = backend.Permutation(items, rng);
            using var rowTerm = backend.Allocate(items, 1, DType.Float32);
            double bytes = sizeof(float) * (items * width * (3.0 + 2 * 3) + items) + sizeof(int) * items;
            string name = $"club bound fwd+bwd ({(composed ? "composed ops" : "one fused op")})";
            log.WriteLine($"{name} ...");
            var (median, reps) = Time(quick ? 3 : 20, () =>
            {
                backend.ClubBoundRows(mu, logVariance, y, permutation, rowTerm);
                backend.ClubBoundRowsBackward(mu, logVariance, y, permutation, 1.0 / items, dMu, dLogVariance, dY);
            });
            yield return new(name, "managed", DType.Float32.Name(), $"{items}×{width}", reps, median, bytes / median / 1e9, "GB/s",
                bytes / (floors.CopyGBps * 1e9), $"{bytes / 1e6:0.0} MB at the copy bandwidth");
        }
    }

    /// <summary>
    /// SEA's SoloSim InfoNCE over Baby's items (7,050 × 32, τ = 0.2), float32, forward then backward into both
    /// gradients: the streamed fused op against its composed reference, which materialises the n×n logits. Memory is
    /// what the first call on a fresh backend allocates (later calls reuse the CPU backend's freed arrays): an upper
    /// bound on the op's peak extra memory.
    /// </summary>
    private static IEnumerable<OpsBenchResult> InfoNce(int items, MachineFloors floors, bool quick, TextWriter log)
    {
        const int d = 32;
        const double invTemperature = 5;
        double flop = 6.0 * items * items * d; // as the op counters count it: 2·n²·d forward, 2·n²·d per gradient
        foreach (var composed in new[] { false, true })
        {
            string name = composed ? "infonce fwd+bwd (composed)" : "infonce fwd+bwd (fused)";
            log.WriteLine($"{name} ...");
            using var backend = new CpuBackend { ComposedOnly = composed };
            var rng = new Rng(11);
            using var a = backend.Uniform(items, d, DType.Float32, rng, -1, 1);
            using var c = backend.Uniform(items, d, DType.Float32, rng, -1, 1);
            using var lse = backend.Allocate(items, 1, DType.Float32);
            using var positive = backend.Allocate(items, 1, DType.Float32);
            using var da = backend.Allocate(items, d, DType.Float32);
            using var dc = backend.Allocate(items, d, DType.Float32);
            void Run()
            {
                backend.InfoNceForward(a, c, invTemperature, lse, positive);
                backend.InfoNceBackward(a, c, invTemperature, lse, 1.0 / items, da, dc);
            }
            long before = GC.GetTotalAllocatedBytes(precise: true);
            Run();
            long allocated = GC.GetTotalAllocatedBytes(precise: true) - before;
            var (median, reps) = Time(quick ? 2 : 5, Run);
            yield return new(name, composed ? "managed" : "streamed", DType.Float32.Name(), $"{items}×{d}, τ = 0.2", reps, median,
                flop / median / 1e9, "GFLOP/s", flop / (floors.PeakGflopsF32 * 1e9), $"{flop / 1e9:0.00} GFLOP at the FMA peak", allocated);
        }
    }

    private static OpsBenchResult Gemm(string name, string provider, DType dtype, string shape, double flop, double peakGflops, bool quick, Action run)
    {
        var (median, reps) = Time(quick ? 2 : 7, run);
        return new(name, provider, dtype.Name(), shape, reps, median, flop / median / 1e9, "GFLOP/s",
            flop / (peakGflops * 1e9), $"{flop / 1e9:0.00} GFLOP at the FMA peak");
    }

    /// <summary>
    /// The median of <paramref name="reps"/> timed runs, after untimed warm-up runs (at least three, and at least half
    /// a second): the runtime recompiles hot code with full optimisation only after its first calls.
    /// </summary>
    internal static (double Median, int Reps) Time(int reps, Action run)
    {
        var warmUp = Stopwatch.StartNew();
        for (int i = 0; i < 3 || warmUp.Elapsed.TotalSeconds < 0.5; i++) run();
        var times = new double[reps];
        for (int i = 0; i < reps; i++)
        {
            var watch = Stopwatch.StartNew();
            run();
            times[i] = watch.Elapsed.TotalSeconds;
        }
        Array.Sort(times);
        return (times[reps / 2], reps);
    }

    /// <summary>
    /// The symmetric normalised adjacency D^-1/2 A D^-1/2 of a random bipartite graph with the given node and edge
    /// counts (users first, then items), built from distinct random pairs.
    /// </summary>
    public static CsrMatrix BipartiteGraph(Backend backend, int users, int items, int pairs, DType dtype, Rng rng)
    {
        var seen = new HashSet<long>();
        var (rows, cols) = (new List<int>(2 * pairs), new List<int>(2 * pairs));
        var degree = new int[users + items];
        while (seen.Count < pairs)
        {
            int u = rng.NextInt(users), i = rng.NextInt(items);
            if (!seen.Add((long)u * items + i)) continue;
            rows.Add(u); cols.Add(users + i);
            rows.Add(users + i); cols.Add(u);
            degree[u]++;
            degree[users + i]++;
        }
        var values = new double[rows.Count];
        for (int e = 0; e < values.Length; e++) values[e] = 1 / Math.Sqrt((double)degree[rows[e]] * degree[cols[e]]);
        return CsrMatrix.FromCoo(backend, users + items, users + items, rows.ToArray(), cols.ToArray(), values, dtype);
    }
}
