using System.Reflection;
using System.Runtime.InteropServices;

namespace Engine.Kernels.Native;

/// <summary>
/// The one DllImport resolver of the Engine.Kernels assembly (the runtime allows one per assembly). It maps the
/// logical names of the imports (<c>cuda</c>, <c>cublas</c>, <c>nvrtc</c>) to libraries it loaded and
/// vetted itself, trying in order: the override variable (<c>SEA_LIBCUDA</c>, <c>SEA_LIBCUBLAS</c>,
/// <c>SEA_LIBNVRTC</c>), the versioned Linux sonames through the loader's own search, then the
/// same sonames under <c>$CUDA_HOME/lib64</c>, <c>/usr/local/cuda/lib64</c> and <c>/usr/local/cuda/targets/…/lib</c>.
/// Never a Windows name, and never an unversioned <c>.so</c>: that is a development symlink whose version nobody
/// chose. Every attempt and its error is kept, for <see cref="Trace(string)"/> and for the exception the resolver throws.
/// </summary>
public static class CudaLibraries
{
    /// <summary>Logical library names, as written in the <c>[LibraryImport]</c> declarations.</summary>
    public const string DriverLibrary = "cuda", CublasLibrary = "cublas", NvrtcLibrary = "nvrtc";

    /// <summary>One native library: how it is named, what overrides it, which sonames it answers to, and an export
    /// that only the genuine article has (a file of the right name that lacks it is refused).</summary>
    private sealed record Library(string Logical, string Display, string Variable, string[] Sonames, string Signature);

    private static readonly Library[] Libraries =
    [
        new(DriverLibrary, "the CUDA driver", "SEA_LIBCUDA", ["libcuda.so.1"], "cuInit"),
        // cuBLAS 13 ships with CUDA 13, cuBLAS 12 with CUDA 12; the newer first.
        new(CublasLibrary, "cuBLAS", "SEA_LIBCUBLAS", ["libcublas.so.13", "libcublas.so.12"], "cublasCreate_v2"),
        // Debian's NVRTC 11.8 (contrib's libnvrtc11.2) keeps the 11.2 soname: the last resort, enough to compile PTX.
        new(NvrtcLibrary, "NVRTC", "SEA_LIBNVRTC", ["libnvrtc.so.13", "libnvrtc.so.12", "libnvrtc.so.11.2"], "nvrtcCompileProgram"),
    ];

    /// <summary>One try at loading one library: what was tried (a path, a soname, or <c>VARIABLE=path</c>) and why it
    /// failed; <see cref="Error"/> is null for the one that loaded.</summary>
    public sealed record LoadAttempt(string Candidate, string? Error)
    {
        public override string ToString() => Error is null ? $"{Candidate}: loaded" : $"{Candidate}: {Error}";
    }

    /// <summary>The outcome of loading one library: the handle (zero when nothing loaded), the candidate that loaded,
    /// the file it turned out to be, and every attempt in order.</summary>
    internal sealed record LoadResult(string Logical, IntPtr Handle, string? LoadedCandidate, string? LoadedFile, IReadOnlyList<LoadAttempt> Attempts)
    {
        public bool Loaded => Handle != IntPtr.Zero;
    }

    // Successes are kept for the life of the process (a library that other code may hold pointers into is never
    // unloaded); failures are not, so an override set later, or a library installed meanwhile, is seen next time.
    private static readonly Lock Gate = new();
    private static readonly Dictionary<string, LoadResult> Loaded = new(StringComparer.Ordinal);
    private static readonly Dictionary<string, LoadResult> LastFailure = new(StringComparer.Ordinal);

    static CudaLibraries() =>
        NativeLibrary.SetDllImportResolver(typeof(CudaLibraries).Assembly, Resolve);

    /// <summary>Registers the resolver, once: the static constructor does the work, so calling this again is free.
    /// Every binding class calls it from its own static constructor, before its first import can run.</summary>
    public static void EnsureRegistered() { }

    /// <summary>The logical names this resolver answers to, in the order the probe reports them.</summary>
    public static IReadOnlyList<string> LogicalNames { get; } = Libraries.Select(l => l.Logical).ToArray();

    /// <summary>The human name of a logical library ("the CUDA driver", "cuBLAS", …).</summary>
    public static string DisplayName(string logical) => Find(logical).Display;

    /// <summary>The environment variable that names a file to try first for <paramref name="logical"/>.</summary>
    public static string OverrideVariable(string logical) => Find(logical).Variable;

    /// <summary>The versioned sonames tried for <paramref name="logical"/>, in order.</summary>
    public static IReadOnlyList<string> Sonames(string logical) => Find(logical).Sonames;

    /// <summary>
    /// Loads <paramref name="logical"/> (once; later calls return the same handle) and reports whether it loaded.
    /// Never throws for a missing library; <see cref="Trace(string)"/> says what was tried.
    /// </summary>
    public static bool TryLoad(string logical, out IntPtr handle)
    {
        var result = Load(logical);
        handle = result.Handle;
        return result.Loaded;
    }

    /// <summary>True when <paramref name="logical"/> has already been loaded; unlike <see cref="TryLoad"/> it tries nothing.</summary>
    public static bool IsLoaded(string logical)
    {
        lock (Gate)
            return Loaded.ContainsKey(logical);
    }

    /// <summary>The file <paramref name="logical"/> was loaded from, or null when it did not load.</summary>
    public static string? LoadedFrom(string logical)
    {
        var result = Load(logical);
        return result.Loaded ? result.LoadedFile ?? result.LoadedCandidate : null;
    }

    /// <summary>Every attempt made for <paramref name="logical"/> the last time it was looked for, in order.</summary>
    public static IReadOnlyList<LoadAttempt> Attempts(string logical) => Load(logical).Attempts;

    /// <summary>
    /// One line: what loaded from where (and what failed before it), or that nothing loaded and every attempt with its
    /// error. Looks for the library first if nobody has yet.
    /// </summary>
    public static string Trace(string logical) => Describe(Load(logical));

    /// <summary><see cref="Trace(string)"/> for every library, one line each.</summary>
    public static string Trace() => string.Join(Environment.NewLine, LogicalNames.Select(Trace));

    /// <summary>"libcublas.so.13, libcublas.so.12 not found (tried …)": the phrase the probe and the resolver use.</summary>
    public static string NotFoundPhrase(string logical)
    {
        var result = Load(logical);
        var library = Find(logical);
        return $"{string.Join(", ", library.Sonames)} not found (tried {string.Join("; ", result.Attempts)})";
    }

    /// <summary>The exports of <paramref name="logical"/> that <paramref name="bindings"/> declares with
    /// <c>[LibraryImport]</c> but the loaded file lacks (an older driver or toolkit); empty when all are there or when
    /// the library did not load.</summary>
    internal static IReadOnlyList<string> MissingExports(string logical, Type bindings)
    {
        if (!TryLoad(logical, out var handle)) return [];
        return DeclaredImports(bindings)
            .Where(i => i.Library == logical && !NativeLibrary.TryGetExport(handle, i.Symbol, out _))
            .Select(i => i.Symbol)
            .ToArray();
    }

    /// <summary>The (library, symbol) of every <c>[LibraryImport]</c> in <paramref name="bindings"/>.</summary>
    internal static IEnumerable<(string Library, string Symbol, MethodInfo Method)> DeclaredImports(Type bindings)
    {
        foreach (var method in bindings.GetMethods(BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly))
            if (method.GetCustomAttribute<LibraryImportAttribute>() is { } import)
                yield return (import.LibraryName, import.EntryPoint ?? method.Name, method);
    }

    /// <summary>Looks for <paramref name="logical"/> afresh, in <paramref name="environment"/> rather than the process's
    /// (tests use this to see the order of candidates without touching shared state). Nothing is kept: what this loads
    /// is freed again (the loader counts references, so a copy the resolver holds stays), and the handle it reports
    /// must not be used.</summary>
    internal static LoadResult Attempt(string logical, Func<string, string?> environment)
    {
        var result = LoadUncached(Find(logical), environment);
        if (result.Loaded)
            NativeLibrary.Free(result.Handle);
        return result;
    }

    /// <summary>The candidates for <paramref name="logical"/> in the order they are tried, given an environment.</summary>
    internal static IReadOnlyList<(string Label, string Path)> Candidates(string logical, Func<string, string?> environment) =>
        CandidatesOf(Find(logical), environment).ToArray();

    private static Library Find(string logical) =>
        Array.Find(Libraries, l => l.Logical == logical)
        ?? throw new ArgumentException($"'{logical}' is not a CUDA library this resolver knows; it knows {string.Join(", ", Libraries.Select(l => l.Logical))}", nameof(logical));

    private static LoadResult Load(string logical)
    {
        var library = Find(logical);
        lock (Gate)
        {
            if (Loaded.TryGetValue(logical, out var done))
                return done;
            var result = LoadUncached(library, Environment.GetEnvironmentVariable);
            if (result.Loaded)
            {
                Loaded[logical] = result;
                LastFailure.Remove(logical);
            }
            else
            {
                LastFailure[logical] = result;
            }
            return result;
        }
    }

    private static IntPtr Resolve(string name, Assembly assembly, DllImportSearchPath? searchPath)
    {
        if (Array.Find(Libraries, l => l.Logical == name) is not { } library)
            return IntPtr.Zero; // not ours: the runtime's default probing applies
        var result = Load(name);
        if (result.Loaded)
            return result.Handle;
        // Returning zero would let the runtime probe on its own ("libcuda.so", "cuda.dll", …) and throw a message that
        // names none of what was tried here; throw ours instead.
        throw new DllNotFoundException($"{library.Display} ({name}) could not be loaded: {NotFoundPhrase(name)}. " +
                                       $"Set {library.Variable} to the library's full path to use another copy.");
    }

    private static string Describe(LoadResult result)
    {
        var library = Find(result.Logical);
        if (!result.Loaded)
            return $"{result.Logical}: not loaded; tried {string.Join("; ", result.Attempts)}";
        string from = result.LoadedFile is { } file && file != result.LoadedCandidate ? $"{result.LoadedCandidate} ({file})" : result.LoadedCandidate!;
        var before = result.Attempts.Where(a => a.Error is not null).ToArray();
        string earlier = before.Length == 0 ? "" : $"; before it: {string.Join("; ", before)}";
        return $"{library.Logical}: loaded {from}{earlier}";
    }

    private static IEnumerable<(string Label, string Path)> CandidatesOf(Library library, Func<string, string?> environment)
    {
        if (environment(library.Variable) is { Length: > 0 } overridePath)
            yield return ($"{library.Variable}={overridePath}", overridePath);
        foreach (var soname in library.Sonames)
            yield return (soname, soname);
        foreach (var directory in Directories(environment))
            foreach (var soname in library.Sonames)
            {
                string path = Path.Combine(directory, soname);
                yield return (path, path);
            }
    }

    /// <summary>Where toolkits install their libraries when the loader's search path does not reach them.</summary>
    private static IEnumerable<string> Directories(Func<string, string?> environment)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var directories = new List<string>();
        if (environment("CUDA_HOME") is { Length: > 0 } home)
            directories.Add(Path.Combine(home, "lib64"));
        directories.Add("/usr/local/cuda/lib64");
        if (TargetDirectory() is { } target)
            directories.Add($"/usr/local/cuda/targets/{target}/lib");
        foreach (var directory in directories)
            if (seen.Add(Path.TrimEndingDirectorySeparator(directory)))
                yield return directory;
    }

    /// <summary>The toolkit's per-architecture library folder name.</summary>
    private static string? TargetDirectory() => RuntimeInformation.ProcessArchitecture switch
    {
        Architecture.X64 => "x86_64-linux",
        Architecture.Arm64 => "sbsa-linux",
        _ => null,
    };

    private static LoadResult LoadUncached(Library library, Func<string, string?> environment)
    {
        var attempts = new List<LoadAttempt>();
        if (!OperatingSystem.IsLinux())
        {
            attempts.Add(new("(nothing)", $"the CUDA libraries are looked for on Linux only; this is {RuntimeInformation.OSDescription}"));
            return new(library.Logical, IntPtr.Zero, null, null, attempts);
        }
        foreach (var (label, path) in CandidatesOf(library, environment))
        {
            // A path that names no file fails the same way in dlopen, but this says so in three words.
            if (path.Contains('/') && !File.Exists(path))
            {
                attempts.Add(new(label, "no such file"));
                continue;
            }
            IntPtr handle;
            try
            {
                handle = NativeLibrary.Load(path);
            }
            catch (Exception e) when (e is DllNotFoundException or BadImageFormatException)
            {
                attempts.Add(new(label, LoaderReason(e, path)));
                continue;
            }
            if (!NativeLibrary.TryGetExport(handle, library.Signature, out var signature))
            {
                NativeLibrary.Free(handle);
                attempts.Add(new(label, $"loaded, but it has no {library.Signature}, so it is not {library.Display}"));
                continue;
            }
            attempts.Add(new(label, null));
            return new(library.Logical, handle, label, FileHolding(signature) ?? (path.Contains('/') ? Path.GetFullPath(path) : null), attempts);
        }
        return new(library.Logical, IntPtr.Zero, null, null, attempts);
    }

    /// <summary>
    /// The loader's one-line reason (dlerror) without the paragraph of advice the runtime wraps around it, and without
    /// repeating the candidate's name in front of it.
    /// </summary>
    private static string LoaderReason(Exception e, string path)
    {
        var lines = e.Message.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        string reason = lines.Length == 0 ? e.GetType().Name : lines[^1];
        return reason.StartsWith(path + ": ", StringComparison.Ordinal) ? reason[(path.Length + 2)..] : reason;
    }

    /// <summary>
    /// The file mapped at <paramref name="address"/>, read from /proc/self/maps: a bare soname does not say which of
    /// several installed copies the loader picked. Null where that cannot be read.
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
                if (fields.Length < 6) continue;
                int dash = fields[0].IndexOf('-');
                if (dash < 0) continue;
                if (at >= Convert.ToUInt64(fields[0][..dash], 16) && at < Convert.ToUInt64(fields[0][(dash + 1)..], 16))
                    return fields[5].Trim();
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException or OverflowException)
        {
        }
        return null;
    }
}
