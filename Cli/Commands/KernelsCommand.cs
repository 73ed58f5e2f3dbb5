using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Engine.Kernels;
using Engine.Kernels.Native;

namespace Engine.Cli;

/// <summary>
/// <c>sea kernels [--arch sm_XX|compute_XX] [--out FILE] [--source FILE]</c>: compiles kernels.cu with the NVRTC found
/// here and exactly the options the CUDA backend would use, with no driver or GPU needed. Any warning fails it.
/// </summary>
internal static class KernelsCommand
{
    /// <summary>What is compiled for when no GPU says otherwise.</summary>
    public const string DefaultArchitecture = "sm_90";

    public static Command Create()
    {
        var arch = new Option<string?>("--arch") { Description = $"sm_XX or compute_XX; default: the GPU's, else {DefaultArchitecture}" };
        var output = new Option<string?>("--out") { Description = "write the compiled image (PTX with its final NUL, or a CUBIN) here, as the runtime loads it" };
        var source = new Option<string?>("--source") { Description = "compile this file instead of the kernels.cu embedded in the engine" };
        var command = new Command("kernels", "Compiles kernels.cu with NVRTC as the CUDA backend would (no GPU needed); fails on any error or warning.")
        {
            arch, output, source,
        };
        command.SetAction(parse => Run(parse.GetValue(arch), parse.GetValue(source), parse.GetValue(output), Console.Out, Console.Error, CudaProbe.Probe));
        return command;
    }

    /// <summary>Compiles and reports; <paramref name="probe"/> picks the default architecture (tests stand in for a GPU).</summary>
    internal static int Run(string? arch, string? sourceFile, string? outFile, TextWriter output, TextWriter error, Func<CudaProbeResult> probe)
    {
        if (arch is not null && !KernelCompiler.IsArchitecture(arch))
            throw new ArgumentException($"--arch must be sm_XX or compute_XX (e.g. sm_90, compute_90), got '{arch}'");
        if (outFile is not null) Engine.IO.AtomicFile.CheckReplaceable(outFile);
        string? source = sourceFile is null ? null : File.ReadAllText(sourceFile);
        var version = KernelCompiler.NvrtcVersion();
        output.WriteLine($"nvrtc:         {version.Major}.{version.Minor} from {KernelCompiler.NvrtcLibrary}");
        if (arch is null)
        {
            var found = probe();
            arch = found.Usable ? found.Devices[0].Architecture : DefaultArchitecture;
            output.WriteLine($"architecture:  {arch} (the default: {(found.Usable ? $"the GPU's, {found.Devices[0]}" : found.Summary)})");
        }
        else
        {
            output.WriteLine($"architecture:  {arch}");
        }
        var target = KernelCompiler.Target(arch, version);
        output.WriteLine($"compiled for:  {target.Architecture} {target.ImageKind}" + (version.Major >= 12 ? ""
            : $" (NVRTC {version.Major}.{version.Minor} is older than 12: PTX for the driver to compile, without line info, which crashes 11.8 on sm_90)"));
        output.WriteLine($"options:       {string.Join(' ', target.Options)}");
        output.WriteLine($"source:        {sourceFile ?? "kernels.cu (embedded)"}");

        var clock = Stopwatch.StartNew();
        CompiledKernels compiled;
        try
        {
            compiled = source is null ? KernelCompiler.Compile(target) : KernelCompiler.Compile(target, source, Path.GetFileName(sourceFile!));
        }
        catch (KernelCompileException e)
        {
            WriteLog(output, e.Log);
            error.WriteLine($"sea: error: {e.Message.Split('\n')[0].TrimEnd(':')}; NVRTC's log is above");
            return CliErrors.Failed;
        }
        output.WriteLine($"kernels:       {compiled.EntryPoints} entry points ({(target.Cubin ? "CUDA entry symbols in the CUBIN" : ".entry directives in the PTX")})");
        output.WriteLine($"image:         {compiled.Image.Length} bytes");
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"seconds:       {clock.Elapsed.TotalSeconds:F2}"));
        WriteLog(output, compiled.Log);
        if (compiled.Log.Length > 0)
        {
            error.WriteLine($"sea: error: NVRTC warned (its log is above){(outFile is null ? "" : $"; {outFile} was not written")}");
            return CliErrors.Failed;
        }
        if (outFile is not null)
        {
            Engine.IO.AtomicFile.Write(outFile, s => s.Write(compiled.Image));
            output.WriteLine($"wrote:         {outFile}");
        }
        return CliErrors.Ok;
    }

    private static void WriteLog(TextWriter output, string log) =>
        output.WriteLine(log.Length == 0 ? "log:           (empty)" : $"log:\n{log}");
}
