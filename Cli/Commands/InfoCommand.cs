using System.CommandLine;
using System.Runtime.InteropServices;
using Engine.Cpu;

namespace Engine.Cli;

/// <summary><c>sea info</c>: what this machine offers the engine.</summary>
internal static class InfoCommand
{
    public static Command Create()
    {
        var command = new Command("info", "Prints the runtime, the CPU backend's BLAS and the devices available.");
        command.SetAction(_ =>
        {
            Console.WriteLine($"engine:   {typeof(Backend).Assembly.GetName().Version}");
            Console.WriteLine($"runtime:  .NET {Environment.Version} on {RuntimeInformation.OSDescription} ({RuntimeInformation.ProcessArchitecture})");
            Console.WriteLine($"cpu:      {CpuBackend.Shared.Description}");
            Console.WriteLine("cuda:     no CUDA backend in this build yet");
            return CliErrors.Ok;
        });
        return command;
    }
}
