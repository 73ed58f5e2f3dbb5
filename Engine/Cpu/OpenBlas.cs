using System.Numerics;
using System.Reflection;
using System.Runtime.InteropServices;

namespace Engine.Cpu;

/// <summary>
/// cblas_sgemm / cblas_dgemm from OpenBLAS, when it can be found. Nothing here calls into the library unless it
/// loaded and proved to be OpenBLAS: a reference BLAS answers to the same symbols but is orders of magnitude slower,
/// so it is refused rather than silently used.
/// </summary>
internal static unsafe partial class OpenBlas
{
    /// <summary>The logical library name of the imports below; <see cref="NativeResolver"/> maps it to the loaded file.</summary>
    internal const string LibraryName = "openblas";

    // CBLAS enum values (cblas.h): CblasRowMajor, CblasNoTrans, CblasTrans.
    private const int RowMajor = 101, NoTrans = 111, Trans = 112;

    private static readonly Loaded? Library;
    private static readonly string Status;

    /// <summary>A loaded OpenBLAS: its handle, where it came from, and its own account of its build.</summary>
    private sealed record Loaded(IntPtr Handle, string Path, string Config);

    static OpenBlas()
    {
        NativeResolver.EnsureRegistered();
        (Library, Status) = Load();
    }

    /// <summary>True when OpenBLAS loaded and <c>SEA_BLAS=managed</c> did not turn it off.</summary>
    public static bool IsAvailable => Library is not null;

    /// <summary>What was loaded (config string and path), or why nothing was: every attempt and its error.</summary>
    public static string Description => Status;

    /// <summary>The handle the resolver hands out for <see cref="LibraryName"/>; zero when OpenBLAS did not load.</summary>
    internal static IntPtr Handle => Library?.Handle ?? IntPtr.Zero;

    /// <summary>
    /// C = α·op(A)·op(B) + β·C with the arguments of <see cref="ManagedGemm.Gemm{T}(bool, bool, int, int, int, T, T[], int, T[], int, T, T[], int)"/>,
    /// by cblas_sgemm or cblas_dgemm. Arguments are checked against the arrays first, since OpenBLAS would read and
    /// write out of bounds without a word.
    /// </summary>
    public static void Gemm<T>(bool transA, bool transB, int m, int n, int k, T alpha, T[] a, int lda, T[] b, int ldb, T beta, T[] c, int ldc)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (!IsAvailable)
            throw new InvalidOperationException($"OpenBLAS is not available: {Description}");
        if (typeof(T) != typeof(float) && typeof(T) != typeof(double))
            throw new NotSupportedException($"OpenBLAS GEMM takes float or double, not {typeof(T).Name}");
        ManagedGemm.CheckArguments(transA, transB, m, n, k, a.Length, lda, b.Length, ldb, c.Length, ldc);
        if (m == 0 || n == 0) return;
        if (k == 0 || alpha == T.Zero)
        {
            // Nothing to multiply: A or B may be empty arrays (null pointers once pinned), so leave the library out of it
            // and only scale C, exactly as the managed path does.
            ManagedGemm.Gemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
            return;
        }
        int ta = transA ? Trans : NoTrans, tb = transB ? Trans : NoTrans;
        fixed (T* pa = a, pb = b, pc = c)
        {
            if (typeof(T) == typeof(float))
                Sgemm(RowMajor, ta, tb, m, n, k, float.CreateTruncating(alpha), (float*)pa, lda, (float*)pb, ldb, float.CreateTruncating(beta), (float*)pc, ldc);
            else
                Dgemm(RowMajor, ta, tb, m, n, k, double.CreateTruncating(alpha), (double*)pa, lda, (double*)pb, ldb, double.CreateTruncating(beta), (double*)pc, ldc);
        }
    }

    [LibraryImport(LibraryName, EntryPoint = "cblas_sgemm")]
    private static partial void Sgemm(int order, int transA, int transB, int m, int n, int k,
        float alpha, float* a, int lda, float* b, int ldb, float beta, float* c, int ldc);

    [LibraryImport(LibraryName, EntryPoint = "cblas_dgemm")]
    private static partial void Dgemm(int order, int transA, int transB, int m, int n, int k,
        double alpha, double* a, int lda, double* b, int ldb, double beta, double* c, int ldc);

    /// <summary>Where to look, in order: an explicit override, the loader's own search, then Debian's pthread build.</summary>
    private static IEnumerable<string> Candidates()
    {
        if (Environment.GetEnvironmentVariable("SEA_OPENBLAS") is { Length: > 0 } explicitPath)
            yield return explicitPath;
        yield return "libopenblas.so.0";
        yield return "libopenblas.so";
        yield return "/usr/lib/x86_64-linux-gnu/openblas-pthread/libopenblas.so.0";
    }

    private static (Loaded?, string) Load()
    {
        if (string.Equals(Environment.GetEnvironmentVariable("SEA_BLAS"), "managed", StringComparison.OrdinalIgnoreCase))
            return (null, "OpenBLAS disabled by SEA_BLAS=managed");

        ShortenThreadSpin();
        var failures = new List<string>();
        foreach (var candidate in Candidates())
        {
            IntPtr handle;
            try
            {
                handle = NativeLibrary.Load(candidate);
            }
            catch (Exception e) when (e is DllNotFoundException or BadImageFormatException)
            {
                // The runtime wraps the loader's one-line reason (dlerror) in a paragraph of advice; keep the reason.
                var reason = e.Message.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
                failures.Add(reason.Length == 0 ? $"{candidate}: {e.GetType().Name}" : reason[^1]);
                continue;
            }
            // Only OpenBLAS exports openblas_get_config; a reference BLAS or another implementation behind the same
            // file name does not, and is closed again.
            if (!NativeLibrary.TryGetExport(handle, "openblas_get_config", out var getConfig)
                || !NativeLibrary.TryGetExport(handle, "cblas_sgemm", out _)
                || !NativeLibrary.TryGetExport(handle, "cblas_dgemm", out _))
            {
                NativeLibrary.Free(handle);
                failures.Add($"{candidate}: loaded, but it is not OpenBLAS with CBLAS (no openblas_get_config, cblas_sgemm or cblas_dgemm)");
                continue;
            }
            string config = Marshal.PtrToStringUTF8((IntPtr)((delegate* unmanaged<byte*>)getConfig)()) ?? "OpenBLAS (no config string)";
            if (NativeLibrary.TryGetExport(handle, "openblas_get_corename", out var getCore)
                && Marshal.PtrToStringUTF8((IntPtr)((delegate* unmanaged<byte*>)getCore)()) is { Length: > 0 } core)
                config += $", core {core}";
            if (NativeLibrary.TryGetExport(handle, "openblas_get_num_threads", out var getThreads))
                config += $", {((delegate* unmanaged<int>)getThreads)()} threads";
            string from = FileHolding(getConfig) is { } file && file != candidate ? $"{candidate} ({file})" : candidate;
            string earlier = failures.Count == 0 ? "" : $"; before it: {string.Join("; ", failures)}";
            return (new Loaded(handle, candidate, config), $"{config} from {from}{earlier}");
        }
        return (null, "OpenBLAS not found: " + string.Join("; ", failures));
    }

    /// <summary>
    /// OpenBLAS's worker threads spin after each product, waiting for the next one (2^28 cycles by default), and here
    /// that spinning takes the cores from the managed ops that run between products (measured on 2 cores: a SEA epoch
    /// 52–53 s with the default, 48–49 s with the shortest spin). Unless the user set it, the shortest spin is asked for
    /// in the environment, which OpenBLAS reads when it loads.
    /// </summary>
    private static void ShortenThreadSpin()
    {
        if (OperatingSystem.IsLinux()) SetEnv(ThreadTimeoutVariable, "4", overwrite: 0);
    }

    internal const string ThreadTimeoutVariable = "OPENBLAS_THREAD_TIMEOUT";

    // The C library's own environment, which a native library reads (Environment.SetEnvironmentVariable does not reach it).
    [LibraryImport("libc", EntryPoint = "setenv", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int SetEnv(string name, string value, int overwrite);

    /// <summary>
    /// The file mapped at <paramref name="address"/>, from /proc/self/maps: a bare soname says little about which
    /// of several installed builds the loader picked. Null where that file does not exist (not Linux) or says nothing.
    /// </summary>
    private static string? FileHolding(IntPtr address)
    {
        try
        {
            ulong at = (ulong)address;
            foreach (var line in File.ReadLines("/proc/self/maps"))
            {
                // "start-end perms offset dev inode   path"
                var fields = line.Split(' ', 6, StringSplitOptions.RemoveEmptyEntries);
                if (fields.Length < 6 || fields[0].Split('-') is not [var lo, var hi]) continue;
                if (at >= Convert.ToUInt64(lo, 16) && at < Convert.ToUInt64(hi, 16))
                    return fields[5].Trim();
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException or OverflowException)
        {
        }
        return null;
    }
}

/// <summary>
/// The one DllImport resolver of the Engine assembly (the runtime allows one per assembly). It maps logical library
/// names to handles that were loaded and vetted beforehand, so no import binds to whatever file the default probing
/// happens to find. Add further native libraries here rather than registering a second resolver.
/// </summary>
internal static class NativeResolver
{
    static NativeResolver() =>
        NativeLibrary.SetDllImportResolver(typeof(NativeResolver).Assembly, Resolve);

    /// <summary>Registers the resolver, once: the static constructor does the work, so calling this again is free.</summary>
    public static void EnsureRegistered() { }

    private static IntPtr Resolve(string name, Assembly assembly, DllImportSearchPath? searchPath) => name switch
    {
        // When OpenBLAS did not load this is zero and the runtime falls back to its default probing; that never
        // matters, because OpenBlas does not call in unless it loaded.
        OpenBlas.LibraryName => OpenBlas.Handle,
        _ => IntPtr.Zero,
    };
}
