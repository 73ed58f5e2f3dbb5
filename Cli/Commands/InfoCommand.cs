using System.CommandLine;
using System.Runtime.InteropServices;
using Engine.Cpu;
using Engine.Kernels.Native;

namespace Engine.Cli;

/// <summary><c>sea info</c>: what this machine offers the engine.</summary>
internal static class InfoCommand
{
    public static Command Create()
    {
        var command = new Command("info", "Prints the runtime, the CPU backend's BLAS, the CUDA devices and libraries found, and where each was looked for.");
        command.SetAction(_ =>
        {
            Print(Console.Out, CudaProbe.Probe());
            return CliErrors.Ok;
        });
        return command;
    }

    internal static void Print(TextWriter output, CudaProbeResult probe)
    {
        output.WriteLine($"engine:   {typeof(Backend).Assembly.GetName().Version}");
        output.WriteLine($"runtime:  .NET {Environment.Version} on {RuntimeInformation.OSDescription} ({RuntimeInformation.ProcessArchitecture})");
        output.WriteLine($"cpu:      {CpuBackend.Shared.Description}");
        const string indent = "          ";
        bool first = true;
        foreach (var line in probe.DescribeLines())
        {
            output.WriteLine((first ? "cuda:     " : indent) + line);
            first = false;
        }
        // Where every CUDA library was looked for and what loaded from where: the first thing to read when a GPU
        // machine says it has no GPU.
        output.WriteLine("libraries:");
        foreach (var line in probe.Trace.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            output.WriteLine(indent + line);
    }
}
