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
/// <c>sea bench ops</c>: the CPU kernels that dominate an epoch, on Baby-sized shapes. GEMM: SEA's largest products,
/// image features (7,050 × 4,096) times the stacked map of W_m's consumers (384 × 4,096, transposed), and that map's
/// gradient dYᵀ·F. SpMM: a
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

        int items = 7050 / scale, width = 4096 / scale, dims = 64, consumers = 384 / scale;

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
                using var map = backend.Uniform(consumers, width, dtype, rng, -1, 1);
                using var output = backend.Allocate(items, consumers, dtype);
                using var gradOut = backend.Uniform(items, consumers, dtype, rng, -1, 1);
                using var gradMap = backend.Allocate(consumers, width, dtype);
                double flop = 2.0 * items * width * consumers;
                double peak = dtype == DType.Float32 ? floors.PeakGflopsF32 : floors.PeakGflopsF64;
                log.WriteLine($"gemm {provider} {dtype.Name()} ...");
                results.Add(Gemm("gemm F·Mᵀ", provider, dtype, $"{items}×{width} · ({consumers}×{width})ᵀ", flop, peak, quick,
                    () => backend.Gemm(false, true, 1, features, map, 0, output)));
                results.Add(Gemm("gemm dYᵀ·F", provider, dtype, $"({items}×{consumers})ᵀ · {items}×{width}", flop, peak, quick,
                    () => backend.Gemm(true, false, 1, gradOut, features, 0, gradMap)));
            }
        }

        results.AddRange(FusedOps(items, quick ? 5 : 50, floors, quick, log));
        return new OpsBenchReport(DateTimeOffset.UtcNow, quick, CpuBackend.Shared.Description, floors, results);
    }

    /// <summary>
    /// One fused op on Baby's shapes, float32, against its composed reference (<see cref="Backend.ComposedOnly"/>): each
    /// path on a fresh CPU backend, its median time and what its first call allocated (later calls reuse the backend's
    /// freed arrays, so that is an upper bound on the op's peak extra memory). <paramref name="prepare"/> makes the
    /// inputs on the backend and returns the call to time; <paramref name="work"/> is in the rate's unit × 1e9.
    /// </summary>
    private static IEnumerable<OpsBenchResult> FusedAndComposed(string op, string shape, double work, string unit, double floorSeconds,
        string floorBasis, bool quick, TextWriter log, Func<Backend, Rng, Action> prepare)
    {
        foreach (bool composed in new[] { false, true })
        {
            string name = $"{op} ({(composed ? "composed ops" : "one fused op")})";
            log.WriteLine($"{name} ...");
            using var backend = new CpuBackend { ComposedOnly = composed };
            var run = prepare(backend, new Rng(7));
            long before = GC.GetTotalAllocatedBytes(precise: true);
            run();
            long allocated = GC.GetTotalAllocatedBytes(precise: true) - before;
            var (median, reps) = Time(quick ? 2 : 5, run);
            yield return new(name, backend.UseOpenBlas ? "OpenBLAS" : "managed", DType.Float32.Name(), shape, reps, median, work / median / 1e9, unit,
                floorSeconds, floorBasis, allocated);
        }
    }

    private static Tensor Values(Backend backend, Rng rng, int rows, int cols) => backend.Uniform(rows, cols, DType.Float32, rng, -1, 1);

    /// <summary>The fused ops SEA trains with, each against its composed reference, on one Baby batch.</summary>
    private static IEnumerable<OpsBenchResult> FusedOps(int items, int clubSteps, MachineFloors floors, bool quick, TextWriter log)
    {
        const int d = 32, batch = 2048;
        double Peak(double flop) => flop / (floors.PeakGflopsF32 * 1e9);
        double Copy(double bytes) => bytes / (floors.CopyGBps * 1e9);

        // SoloSim: InfoNCE over the batch's items (τ = 0.2), forward with both gradients, as training calls it.
        double infoNce = 6.0 * items * items * d; // as the op counters count it: 2·n²·d forward, 2·n²·d per gradient
        foreach (var r in FusedAndComposed("infonce fwd+bwd", $"{items}×{d}, τ = 0.2", infoNce, "GFLOP/s", Peak(infoNce),
            $"{infoNce / 1e9:0.00} GFLOP at the FMA peak", quick, log, (backend, rng) =>
            {
                Tensor a = Values(backend, rng, items, d), c = Values(backend, rng, items, d);
                Tensor lse = backend.Allocate(items, 1, DType.Float32), positive = backend.Allocate(items, 1, DType.Float32);
                Tensor da = backend.Allocate(items, d, DType.Float32), dc = backend.Allocate(items, d, DType.Float32);
                return () => backend.InfoNceForward(a, c, 5, lse, positive, da, dc);
            }))
            yield return r;

        // CLUB's bound on one modality, forward and backward into μ, ℓ and y: held to its traffic.
        double bound = sizeof(float) * (items * d * (3.0 + 2 * 3) + items) + sizeof(int) * items;
        foreach (var r in FusedAndComposed("club bound fwd+bwd", $"{items}×{d}", bound, "GB/s", Copy(bound),
            $"{bound / 1e6:0.0} MB at the copy bandwidth", quick, log, (backend, rng) =>
            {
                Tensor mu = Values(backend, rng, items, d), logVariance = Values(backend, rng, items, d), y = Values(backend, rng, items, d);
                Tensor dMu = Values(backend, rng, items, d), dLogVariance = Values(backend, rng, items, d), dY = Values(backend, rng, items, d);
                Tensor permutation = backend.Permutation(items, rng), rowTerm = backend.Allocate(items, 1, DType.Float32);
                return () =>
                {
                    backend.ClubBoundRows(mu, logVariance, y, permutation, rowTerm);
                    backend.ClubBoundRowsBackward(mu, logVariance, y, permutation, 1.0 / items, dMu, dLogVariance, dY);
                };
            }))
            yield return r;

        // CLUB's inner loop: q's Adam steps on the batch's two pairs.
        var layout = new ClubLayout(d, 8);
        double fit = 2.0 * clubSteps * 2 * items * 5 * 2 * layout.Width * layout.Hidden; // as the op counters count it
        foreach (var r in FusedAndComposed("club fit", $"2 × {items}×{d}, q {d}→{layout.Hidden}→{d} ×2, {clubSteps} steps", fit, "GFLOP/s",
            Peak(fit), $"{fit / 1e9:0.00} GFLOP at the FMA peak", quick, log, (backend, rng) =>
            {
                Tensor x = Values(backend, rng, 2 * items, d), y = Values(backend, rng, 2 * items, d);
                Tensor parameters = backend.Uniform(1, layout.Length, DType.Float32, rng, -0.3, 0.3);
                Tensor m = backend.Allocate(1, layout.Length, DType.Float32), v = backend.Allocate(1, layout.Length, DType.Float32);
                return () => backend.ClubFit(x, y, 2, layout, parameters, m, v, clubSteps, 0, 1e-4, 0.9, 0.999, 1e-8, 0);
            }))
            yield return r;

        // BPR over a batch's score pairs, forward and backward into both.
        double bpr = sizeof(float) * 6.0 * batch;
        foreach (var r in FusedAndComposed("bpr fwd+bwd", $"{batch}×1", bpr, "GB/s", Copy(bpr), $"{bpr / 1e3:0} kB at the copy bandwidth",
            quick, log, (backend, rng) =>
            {
                Tensor positive = Values(backend, rng, batch, 1), negative = Values(backend, rng, batch, 1);
                Tensor loss = backend.Allocate(batch, 1, DType.Float32);
                Tensor dPositive = Values(backend, rng, batch, 1), dNegative = Values(backend, rng, batch, 1);
                return () =>
                {
                    backend.BprRows(positive, negative, loss);
                    backend.BprRowsBackward(positive, negative, 1.0 / batch, dPositive, dNegative);
                };
            }))
            yield return r;
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
