using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using Engine.IO;

namespace Engine.Cpu;

/// <summary>
/// Which GEMM the default CPU backend uses: OpenBLAS or the managed kernel, whichever multiplies faster on this
/// machine. Measured once per machine (CPU, thread count and OpenBLAS build) on products of a training step's shapes,
/// and kept in the cache folder, so every later process (and every run of a seed) makes the same choice.
/// SEA_BLAS=managed or SEA_BLAS=openblas decides instead.
/// </summary>
public static class GemmChoice
{
    private const string FileName = "gemm-choice-v1.txt";

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
        var (openBlas, managed) = (seconds(true), seconds(false));
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

    /// <summary>The best of three runs of float32 products shaped like a multimodal model's: features projected to
    /// a narrow width, and the gradient flowing back to the projection's weights.</summary>
    private static double Seconds(bool useOpenBlas)
    {
        const int rows = 2048, features = 1024, width = 64;
        var x = Filled(rows * features);
        var w = Filled(features * width);
        var y = new float[rows * width];
        var dw = new float[features * width];
        void Run()
        {
            if (useOpenBlas)
            {
                OpenBlas.Gemm(false, false, rows, width, features, 1f, x, features, w, width, 0f, y, width);
                OpenBlas.Gemm(true, false, features, width, rows, 1f, x, features, y, width, 0f, dw, width);
            }
            else
            {
                ManagedGemm.Gemm(false, false, rows, width, features, 1f, x, features, w, width, 0f, y, width);
                ManagedGemm.Gemm(true, false, features, width, rows, 1f, x, features, y, width, 0f, dw, width);
            }
        }
        Run(); // warm-up: thread pools, packing buffers, page faults
        double best = double.MaxValue;
        for (int r = 0; r < 3; r++)
        {
            var clock = Stopwatch.StartNew();
            Run();
            best = Math.Min(best, clock.Elapsed.TotalSeconds);
        }
        return best;
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
