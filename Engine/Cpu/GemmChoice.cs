using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using Engine.IO;

namespace Engine.Cpu;

/// <summary>
/// Which GEMM the default CPU backend uses: OpenBLAS or the managed kernel, whichever multiplies faster on this
/// machine. Measured once per machine (CPU, thread count and OpenBLAS build) on products of a training step's shapes,
/// and kept in the cache folder, one file per thread count, so every later process (and every run of a seed) with
/// as many threads makes the same choice.
/// SEA_BLAS=managed or SEA_BLAS=openblas decides instead.
/// </summary>
public static class GemmChoice
{
    private static string FileName => $"gemm-choice-v2-{Environment.ProcessorCount}-threads.txt";

    /// <summary>The choice for this process, and one sentence saying why.</summary>
    public static (bool UseOpenBlas, string Reason) Decide() => Lazy.Value;

    private static readonly Lazy<(bool, string)> Lazy = new(Make);

    private static (bool, string) Make() =>
        Decide(OpenBlas.IsAvailable, Environment.GetEnvironmentVariable("SEA_BLAS"), Path.Combine(CacheFolder.Root, FileName),
            $"{CpuName()} | {Environment.ProcessorCount} threads | {OpenBlas.Description}", Seconds);

    /// <summary>The decision, given what it depends on: whether OpenBLAS loaded, SEA_BLAS, the cache file, this machine's
    /// description (a cached choice counts only for the same one), and the timing of one provider's products.</summary>
    internal static (bool UseOpenBlas, string Reason) Decide(bool openBlasAvailable, string? asked, string file, string machine, Func<bool, double> seconds)
    {
        if (!openBlasAvailable) return (false, "OpenBLAS is not available");
        if (string.Equals(asked, "openblas", StringComparison.OrdinalIgnoreCase)) return (true, "SEA_BLAS=openblas");
        if (Read(file, machine) is { } cached) return cached;
        // Rounds alternate between the providers (and which goes first), so that a slow spell of a shared machine
        // falls on both; the first round warms up and is dropped; each provider keeps its median round.
        var (openBlasRounds, managedRounds) = (new List<double>(), new List<double>());
        for (int round = 0; round <= Rounds; round++)
        {
            bool openBlasFirst = round % 2 == 0;
            double first = seconds(openBlasFirst), second = seconds(!openBlasFirst);
            if (round == 0) continue;
            openBlasRounds.Add(openBlasFirst ? first : second);
            managedRounds.Add(openBlasFirst ? second : first);
        }
        var (openBlas, managed) = (Median(openBlasRounds), Median(managedRounds));
        bool useOpenBlas = openBlas <= managed;
        double ratio = useOpenBlas ? managed / openBlas : openBlas / managed;
        string reason = string.Create(CultureInfo.InvariantCulture,
            $"measured {ratio:0.0}× faster than {(useOpenBlas ? "the managed kernel" : "OpenBLAS")} on this machine");
        try
        {
            AtomicFile.WriteAllText(file, $"{(useOpenBlas ? "openblas" : "managed")}\n{reason}\n{machine}\n");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            reason += " (not cached: " + e.Message + ")";
        }
        return (useOpenBlas, reason);
    }

    private const int Rounds = 5;

    private static double Median(List<double> xs)
    {
        xs.Sort();
        return xs[xs.Count / 2];
    }

    private static (bool, string)? Read(string file, string machine)
    {
        try
        {
            var lines = File.ReadAllLines(file);
            if (lines.Length == 3 && lines[2] == machine && lines[0] is "openblas" or "managed")
                return (lines[0] == "openblas", $"{lines[1]}, cached in {file}");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }
        return null;
    }

    /// <summary>
    /// One round of float32 products shaped like a multimodal model's training step, scaled down: features times a
    /// stacked map of the consumers (transposed B), the gradient of that map (transposed A), and a narrow layer.
    /// </summary>
    private static double Seconds(bool useOpenBlas)
    {
        double total = 0;
        foreach (var p in Products.Value)
        {
            int lda = p.TransA ? p.M : p.K, ldb = p.TransB ? p.K : p.N;
            var clock = Stopwatch.StartNew();
            if (useOpenBlas) OpenBlas.Gemm(p.TransA, p.TransB, p.M, p.N, p.K, 1f, p.A, lda, p.B, ldb, 0f, p.C, p.N);
            else ManagedGemm.Gemm(p.TransA, p.TransB, p.M, p.N, p.K, 1f, p.A, lda, p.B, ldb, 0f, p.C, p.N);
            total += clock.Elapsed.TotalSeconds;
        }
        return total;
    }

    /// <summary>The products, their operands made once for every round of both providers.</summary>
    private static readonly Lazy<Product[]> Products = new(() =>
        [new(false, true, 2048, 384, 1024), new(true, false, 384, 1024, 2048), new(false, false, 2048, 64, 1024)]);

    private sealed record Product(bool TransA, bool TransB, int M, int N, int K)
    {
        public float[] A { get; } = Filled(M * K);
        public float[] B { get; } = Filled(K * N);
        public float[] C { get; } = new float[M * N];
    }

    private static float[] Filled(int n)
    {
        var values = new float[n];
        for (int i = 0; i < n; i++) values[i] = (i % 17 - 8) / 8f;
        return values;
    }

    private static string CpuName()
    {
        if (RuntimeInformation.IsOSPlatform(OSPlatform.Linux))
            try
            {
                foreach (var line in File.ReadLines("/proc/cpuinfo"))
                    if (line.StartsWith("model name", StringComparison.Ordinal)) return line[(line.IndexOf(':') + 1)..].Trim();
            }
            catch (IOException)
            {
            }
        return RuntimeInformation.ProcessArchitecture.ToString();
    }
}
