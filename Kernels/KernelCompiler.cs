using System.Buffers.Binary;
using System.Text;
using System.Text.RegularExpressions;
using Engine.Kernels.Native;

namespace Engine.Kernels;

/// <summary>What NVRTC is asked to make: the architecture it compiles for, whether the image is a CUBIN (machine code
/// for that GPU) or PTX (which the driver compiles when it loads the module), and the exact options.</summary>
public sealed record KernelTarget(string Architecture, bool Cubin, IReadOnlyList<string> Options)
{
    public string ImageKind => Cubin ? "CUBIN" : "PTX";
}

/// <summary>A compiled kernels.cu: the image for cuModuleLoadData (PTX keeps NVRTC's terminating NUL), NVRTC's log
/// (empty when it had nothing to say), and the number of kernel entry points in the image.</summary>
public sealed record CompiledKernels(KernelTarget Target, byte[] Image, string Log, int EntryPoints);

/// <summary>NVRTC refused the source; <see cref="Log"/> says why.</summary>
public sealed class KernelCompileException(string message, string log) : InvalidOperationException(message)
{
    public string Log { get; } = log;
}

/// <summary>
/// The one place that decides how kernels.cu is compiled for an architecture, and compiles it. Needs NVRTC only: no
/// driver, no GPU, no cuInit.
/// </summary>
public static partial class KernelCompiler
{
    /// <summary>The NVRTC that loads here, as (major, minor); throws <see cref="DllNotFoundException"/> naming every
    /// library tried when none does.</summary>
    public static (int Major, int Minor) NvrtcVersion() => Nvrtc.Version();

    /// <summary>The file NVRTC was loaded from, or null when it did not load.</summary>
    public static string? NvrtcLibrary => CudaLibraries.LoadedFrom(CudaLibraries.NvrtcLibrary);

    /// <summary>True when <paramref name="architecture"/> reads sm_XX or compute_XX (two or three digits).</summary>
    public static bool IsArchitecture(string architecture) => ArchitecturePattern().IsMatch(architecture);

    /// <summary>The target for a GPU of compute capability <paramref name="capability"/>.</summary>
    public static KernelTarget Target((int Major, int Minor) capability, (int Major, int Minor) nvrtc) =>
        Target($"sm_{capability.Major}{capability.Minor}", nvrtc);

    /// <summary>
    /// The target for <paramref name="architecture"/> (sm_XX or compute_XX) on NVRTC <paramref name="nvrtc"/>: always
    /// C++17 and fused multiply-add. From NVRTC 12 on, sm_XX gives a CUBIN, and line info is added for Nsight's source
    /// view. Before 12, every target is compute_XX PTX (the driver compiles it for the GPU) without line info: NVRTC
    /// 11.8 dies (SIGSEGV, taking the process with it) writing sm_90 code with -lineinfo, and 11.8's ptxas dies the
    /// same way compiling PTX that carries line info for sm_90 (a driver of that age, whose JIT is that compiler, likely
    /// would too).
    /// </summary>
    public static KernelTarget Target(string architecture, (int Major, int Minor) nvrtc)
    {
        if (!IsArchitecture(architecture))
            throw new ArgumentException($"a GPU architecture reads sm_XX or compute_XX (e.g. sm_90, compute_90), not '{architecture}'", nameof(architecture));
        string number = architecture[(architecture.IndexOf('_') + 1)..];
        bool modern = nvrtc.Major >= 12, cubin = modern && architecture.StartsWith("sm_", StringComparison.Ordinal);
        string compiled = cubin ? $"sm_{number}" : $"compute_{number}";
        return new(compiled, cubin, modern
            ? [$"--gpu-architecture={compiled}", "--std=c++17", "-lineinfo", "--fmad=true"]
            : [$"--gpu-architecture={compiled}", "--std=c++17", "--fmad=true"]);
    }

    /// <summary>Compiles the embedded kernels.cu for <paramref name="target"/>.</summary>
    public static CompiledKernels Compile(KernelTarget target) => Compile(target, KernelSource.Text, "kernels.cu");

    /// <summary>Compiles <paramref name="source"/> (cited in the log as <paramref name="name"/>) for
    /// <paramref name="target"/>; throws <see cref="KernelCompileException"/> with NVRTC's log when it does not compile.</summary>
    public static CompiledKernels Compile(KernelTarget target, string source, string name)
    {
        var program = Nvrtc.CreateProgram(source, name);
        try
        {
            var result = Nvrtc.CompileProgram(program, target.Options);
            string log = Nvrtc.ProgramLog(program);
            if (result != nvrtcResult.NVRTC_SUCCESS)
                throw new KernelCompileException($"NVRTC could not compile {name} for {target.Architecture} ({result}){(log.Length > 0 ? ":\n" + log : "")}", log);
            var image = target.Cubin ? Nvrtc.Cubin(program) : Nvrtc.Ptx(program);
            return new(target, image, log, target.Cubin ? CubinEntryPoints(image) : PtxEntryPoints(image));
        }
        finally
        {
            Nvrtc.DestroyProgram(program);
        }
    }

    /// <summary>The kernels in a PTX image: its <c>.entry</c> directives.</summary>
    internal static int PtxEntryPoints(byte[] ptx) => EntryDirective().Count(Encoding.UTF8.GetString(ptx));

    /// <summary>
    /// The kernels in a CUBIN (64-bit little-endian ELF): the function symbols the CUDA toolchain marks as entry
    /// points (STO_CUDA_ENTRY, 0x10, in st_other), which device functions lack.
    /// </summary>
    internal static int CubinEntryPoints(byte[] cubin)
    {
        const byte StoCudaEntry = 0x10, SttFunc = 2;
        const uint ShtSymtab = 2;
        if (cubin.Length < 64 || !cubin.AsSpan(0, 4).SequenceEqual("\u007fELF"u8) || cubin[4] != 2 || cubin[5] != 1)
            throw new InvalidDataException("the CUBIN is not a 64-bit little-endian ELF file");
        var elf = cubin.AsSpan();
        long sectionTable = BinaryPrimitives.ReadInt64LittleEndian(elf[0x28..]);
        int sectionSize = BinaryPrimitives.ReadUInt16LittleEndian(elf[0x3A..]), sections = BinaryPrimitives.ReadUInt16LittleEndian(elf[0x3C..]);
        int entries = 0;
        for (int s = 0; s < sections; s++)
        {
            var header = elf.Slice(checked((int)(sectionTable + s * sectionSize)), sectionSize);
            if (BinaryPrimitives.ReadUInt32LittleEndian(header[4..]) != ShtSymtab) continue;
            var table = elf.Slice(checked((int)BinaryPrimitives.ReadInt64LittleEndian(header[0x18..])), checked((int)BinaryPrimitives.ReadInt64LittleEndian(header[0x20..])));
            const int symbolSize = 24; // Elf64_Sym: name (4), info (1), other (1), section (2), value (8), size (8)
            for (int at = 0; at + symbolSize <= table.Length; at += symbolSize)
                if ((table[at + 4] & 0xF) == SttFunc && (table[at + 5] & StoCudaEntry) != 0)
                    entries++;
        }
        return entries;
    }

    [GeneratedRegex(@"^(sm|compute)_\d{2,3}$")]
    private static partial Regex ArchitecturePattern();

    [GeneratedRegex(@"^\s*(?:\.visible\s+|\.weak\s+)?\.entry\s", RegexOptions.Multiline)]
    private static partial Regex EntryDirective();
}
