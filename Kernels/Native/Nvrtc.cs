using System.Runtime.InteropServices;
using System.Text;

namespace Engine.Kernels.Native;

/// <summary>nvrtcProgram (struct _nvrtcProgram*).</summary>
public readonly record struct nvrtcProgram(IntPtr Handle)
{
    public bool IsNull => Handle == IntPtr.Zero;
}

/// <summary>nvrtcResult (nvrtc.h).</summary>
public enum nvrtcResult
{
    NVRTC_SUCCESS = 0,
    NVRTC_ERROR_OUT_OF_MEMORY = 1,
    NVRTC_ERROR_PROGRAM_CREATION_FAILURE = 2,
    NVRTC_ERROR_INVALID_INPUT = 3,
    NVRTC_ERROR_INVALID_PROGRAM = 4,
    NVRTC_ERROR_INVALID_OPTION = 5,
    /// <summary>The source did not compile: the program log says why.</summary>
    NVRTC_ERROR_COMPILATION = 6,
    NVRTC_ERROR_BUILTIN_OPERATION_FAILURE = 7,
    NVRTC_ERROR_NO_NAME_EXPRESSIONS_AFTER_COMPILATION = 8,
    NVRTC_ERROR_NO_LOWERED_NAMES_BEFORE_COMPILATION = 9,
    NVRTC_ERROR_NAME_EXPRESSION_NOT_VALID = 10,
    NVRTC_ERROR_INTERNAL_ERROR = 11,
    NVRTC_ERROR_TIME_FILE_WRITE_FAILED = 12,
    NVRTC_ERROR_NO_PCH_CREATE_ATTEMPTED = 13,
    NVRTC_ERROR_PCH_CREATE_HEAP_EXHAUSTED = 14,
    NVRTC_ERROR_PCH_CREATE = 15,
    NVRTC_ERROR_CANCELLED = 16,
    NVRTC_ERROR_TIME_TRACE_FILE_WRITE_FAILED = 17,
}

/// <summary>
/// NVRTC, the runtime CUDA C++ compiler (libnvrtc.so.13, .12, or Debian's 11.8 as .11.2), bound symbol for symbol
/// with the exact exported names; strings cross as NUL-terminated UTF-8. The few helpers below do the string and
/// buffer work around them.
/// Callers wrap each call in <see cref="CudaException.Check(nvrtcResult, string)"/>.
/// </summary>
internal static unsafe partial class Nvrtc
{
    private const string Lib = CudaLibraries.NvrtcLibrary;

    static Nvrtc() => CudaLibraries.EnsureRegistered();

    [LibraryImport(Lib)] internal static partial nvrtcResult nvrtcVersion(int* major, int* minor);
    [LibraryImport(Lib)]
    internal static partial nvrtcResult nvrtcCreateProgram(nvrtcProgram* prog, byte* src, byte* name, int numHeaders, byte** headers, byte** includeNames);
    /// <param name="options">Pointers to <paramref name="numOptions"/> NUL-terminated UTF-8 strings ("--gpu-architecture=sm_90", …).</param>
    [LibraryImport(Lib)] internal static partial nvrtcResult nvrtcCompileProgram(nvrtcProgram prog, int numOptions, byte** options);
    /// <summary>Size of the log, its terminating NUL included.</summary>
    [LibraryImport(Lib)] internal static partial nvrtcResult nvrtcGetProgramLogSize(nvrtcProgram prog, nuint* logSizeRet);
    [LibraryImport(Lib)] internal static partial nvrtcResult nvrtcGetProgramLog(nvrtcProgram prog, byte* log);
    /// <summary>Size of the PTX, its terminating NUL included.</summary>
    [LibraryImport(Lib)] internal static partial nvrtcResult nvrtcGetPTXSize(nvrtcProgram prog, nuint* ptxSizeRet);
    [LibraryImport(Lib)] internal static partial nvrtcResult nvrtcGetPTX(nvrtcProgram prog, byte* ptx);
    /// <summary>Size of the CUBIN; zero when the program was compiled for a virtual architecture (compute_XX).</summary>
    [LibraryImport(Lib)] internal static partial nvrtcResult nvrtcGetCUBINSize(nvrtcProgram prog, nuint* cubinSizeRet);
    [LibraryImport(Lib)] internal static partial nvrtcResult nvrtcGetCUBIN(nvrtcProgram prog, byte* cubin);
    [LibraryImport(Lib)] internal static partial nvrtcResult nvrtcDestroyProgram(nvrtcProgram* prog);
    [LibraryImport(Lib)] internal static partial byte* nvrtcGetErrorString(nvrtcResult result);

    /// <summary>NVRTC's description of <paramref name="result"/>, or null when NVRTC is not loaded.</summary>
    internal static string? ResultString(nvrtcResult result)
    {
        if (!CudaLibraries.IsLoaded(Lib)) return null;
        try
        {
            return nvrtcGetErrorString(result) is var text && text != null ? Marshal.PtrToStringUTF8((IntPtr)text) : null;
        }
        catch (EntryPointNotFoundException)
        {
            return null;
        }
    }

    /// <summary>The loaded NVRTC's (major, minor) version.</summary>
    internal static (int Major, int Minor) Version()
    {
        int major, minor;
        CudaException.Check(nvrtcVersion(&major, &minor));
        return (major, minor);
    }

    /// <summary>A program holding <paramref name="source"/> under the file name <paramref name="name"/> (which the
    /// log's messages cite), with no headers beyond NVRTC's own.</summary>
    internal static nvrtcProgram CreateProgram(string source, string name)
    {
        byte[] src = NulTerminated(source), file = NulTerminated(name);
        nvrtcProgram program;
        fixed (byte* s = src, f = file)
            CudaException.Check(nvrtcCreateProgram(&program, s, f, 0, null, null));
        return program;
    }

    /// <summary>
    /// Compiles <paramref name="program"/> with <paramref name="options"/>. Returns NVRTC's result unchecked, since
    /// <see cref="nvrtcResult.NVRTC_ERROR_COMPILATION"/> is an answer to read the log for, not a fault.
    /// </summary>
    internal static nvrtcResult CompileProgram(nvrtcProgram program, IReadOnlyList<string> options)
    {
        var strings = new byte[options.Sum(o => Encoding.UTF8.GetByteCount(o) + 1)];
        var starts = new int[options.Count];
        int at = 0;
        for (int i = 0; i < options.Count; i++)
        {
            if (options[i].Contains('\0'))
                throw new ArgumentException($"NVRTC option {i} contains a NUL character: '{options[i]}'", nameof(options));
            starts[i] = at;
            at += Encoding.UTF8.GetBytes(options[i], strings.AsSpan(at));
            strings[at++] = 0;
        }
        var pointers = new nint[options.Count];
        fixed (byte* text = strings)
        fixed (nint* table = pointers)
        {
            for (int i = 0; i < options.Count; i++)
                table[i] = (nint)(text + starts[i]);
            return nvrtcCompileProgram(program, options.Count, options.Count == 0 ? null : (byte**)table);
        }
    }

    /// <summary>The compiler's log for <paramref name="program"/> (warnings, or why it did not compile); empty when silent.</summary>
    internal static string ProgramLog(nvrtcProgram program)
    {
        nuint size;
        CudaException.Check(nvrtcGetProgramLogSize(program, &size));
        if (size <= 1) return "";
        var log = new byte[size];
        fixed (byte* p = log)
            CudaException.Check(nvrtcGetProgramLog(program, p));
        return Encoding.UTF8.GetString(log, 0, log.Length - 1).TrimEnd();
    }

    /// <summary>The compiled PTX with its terminating NUL, as cuModuleLoadData wants it.</summary>
    internal static byte[] Ptx(nvrtcProgram program)
    {
        nuint size;
        CudaException.Check(nvrtcGetPTXSize(program, &size));
        var ptx = new byte[size];
        fixed (byte* p = ptx)
            CudaException.Check(nvrtcGetPTX(program, p));
        return ptx;
    }

    /// <summary>The compiled CUBIN (SASS for one real architecture), or an empty array when the program was compiled
    /// for a virtual architecture.</summary>
    internal static byte[] Cubin(nvrtcProgram program)
    {
        nuint size;
        CudaException.Check(nvrtcGetCUBINSize(program, &size));
        if (size == 0) return [];
        var cubin = new byte[size];
        fixed (byte* p = cubin)
            CudaException.Check(nvrtcGetCUBIN(program, p));
        return cubin;
    }

    /// <summary>Destroys <paramref name="program"/> (a null program is left alone).</summary>
    internal static void DestroyProgram(nvrtcProgram program)
    {
        if (program.IsNull) return;
        CudaException.Check(nvrtcDestroyProgram(&program));
    }

    private static byte[] NulTerminated(string text)
    {
        var bytes = new byte[Encoding.UTF8.GetByteCount(text) + 1];
        Encoding.UTF8.GetBytes(text, bytes);
        return bytes;
    }
}
