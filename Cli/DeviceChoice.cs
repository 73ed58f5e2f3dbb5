using Engine.Cpu;

namespace Engine.Cli;

/// <summary>Turns --device into a backend. Only the CLI chooses devices; the libraries take whatever backend they are given.</summary>
internal static class DeviceChoice
{
    public static readonly string[] Names = ["cpu", "cuda", "auto"];

    public static Backend Open(string device, TextWriter log)
    {
        switch (device)
        {
            case "cpu":
                return CpuBackend.Shared;
            case "cuda":
                throw new InvalidOperationException("--device cuda: this build has no CUDA backend yet; use --device cpu.");
            case "auto":
                log.WriteLine("device: auto chose the CPU (this build has no CUDA backend yet)");
                return CpuBackend.Shared;
            default:
                throw new FormatException($"--device must be one of {string.Join(", ", Names)}, got '{device}'");
        }
    }
}
