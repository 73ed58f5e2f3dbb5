using System.CommandLine;
using Engine.Cpu;
using Engine.Kernels.Native;

namespace Engine.Cli;

/// <summary>Turns --device into a backend. Only the CLI chooses devices; the libraries take whatever backend they are given.</summary>
internal static class DeviceChoice
{
    public static readonly string[] Names = ["cpu", "cuda", "auto"];

    /// <summary>The <c>--device</c> option every command that computes shares.</summary>
    public static Option<string> Option(string defaultDevice = "cpu", string description = "cpu, cuda or auto")
    {
        var option = new Option<string>("--device") { Description = description, DefaultValueFactory = _ => defaultDevice };
        option.AcceptOnlyFromAmong(Names);
        return option;
    }

    public static Backend Open(string device, TextWriter log) => Open(device, log, CudaProbe.Probe);

    /// <summary><see cref="Open(string, TextWriter)"/> with the probe supplied, so tests can stand in for a GPU.</summary>
    internal static Backend Open(string device, TextWriter log, Func<CudaProbeResult> probe)
    {
        switch (device)
        {
            case "cpu":
                return CpuBackend.Shared;
            case "cuda":
            {
                var found = probe();
                if (!found.Usable)
                    throw new InvalidOperationException($"--device cuda: {found.Reason}");
                return OpenCuda();
            }
            case "auto":
            {
                var found = probe();
                if (found.Usable)
                {
                    var cuda = OpenCuda();
                    log.WriteLine($"device: auto chose CUDA: {cuda.Description}");
                    return cuda;
                }
                log.WriteLine($"device: auto chose the CPU: {found.Reason}");
                return CpuBackend.Shared;
            }
            default:
                throw new FormatException($"--device must be one of {string.Join(", ", Names)}, got '{device}'");
        }
    }

    /// <summary>The first GPU as a backend (one per process: it holds the device's context, stream and kernels).</summary>
    private static Backend OpenCuda() => cuda ??= new Engine.Kernels.CudaBackend(Engine.Kernels.CudaDevice.Open());

    private static Backend? cuda;
}
